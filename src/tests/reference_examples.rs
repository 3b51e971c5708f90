//! Every request and response example of the API reference, as printed there, mapped through
//! the model and the response parser.

use crate::error::ApiError;
use crate::model::*;
use crate::response::{self, RawResponse};
use serde_json::{Value, json};

fn answer(status: u16, body: &str) -> RawResponse {
    RawResponse {
        status,
        content_type: Some("application/json".into()),
        retry_after: None,
        body: body.as_bytes().to_vec(),
    }
}

/// Parses a request example into `T` and checks it serializes back to the same JSON.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(example: &str) -> T {
    let parsed: T = serde_json::from_str(example).expect("the example parses");
    let original: Value = serde_json::from_str(example).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), original);
    parsed
}

const TOKEN_RESPONSE: &str = r#"{ "data": "eyJhbGciOiJSUzI1NiJ9.eyJhaWQiOjAsImNpZCI6MSwiY3J0IjoxNzExOTg2NDg5LCJleHAiOjE3MTIwNzI4OTAsInVpZCI6InNiZWRveWEiLCJzcmMiOiJhcGktZ3R3In0.clYxxuFBW62FQj-nQLIjtE4HBG1iPKjlWsTfLlEqo_u6UN4D6u9Mk26LXsTYUgsTzZ6-wHCWOctYghh0VfQVpA}"}"#;

#[test]
fn token_example_yields_the_token_and_its_exp() {
    let token = response::token(&answer(200, TOKEN_RESPONSE), 0).unwrap();
    assert!(token.starts_with("eyJhbGciOiJSUzI1NiJ9."));
    assert_eq!(response::jwt_expiry(&token), Some(1712072890));
    // `{"token": ...}` is accepted too; 401 is bad credentials.
    assert_eq!(
        response::token(&answer(200, r#"{"token":"abc"}"#), 0).unwrap(),
        "abc"
    );
    assert!(matches!(
        response::token(&answer(401, r#"{"message":"Unauthorized"}"#), 0),
        Err(ApiError::Unauthorized(_))
    ));
}

const ONBOARD_REQUEST: &str = r#"[
{
"user_object_id": "17c528d0-dcfa-49bf-bb2b-8955bf377e5a",
"tenant_id": "80573892-bfe7-40c8-bd85-2b479110b2df",
"name": "Agent name",
"upn": "agent.email@domain.com",
"consistency_id": "customer-defined-id-123",
"brand_name": "Company name",
"department": "Sales",
"region": "US-East",
"state": "CA",
"district": "90210",
"store": "1234",
"city": "Los Angeles",
"zip_code": "90210",
"roles": [ "member", "manager" ],
"number_provisioning": [
{
"type": "supervised",
"phone_number": "+1234567890",
"supervisors": {
"identifier": "user_object_id",
"values": ["17c528d0-dcfa-49bf-bb2b-8955bf377e5a"]
}
},
{
"type": "messaging",
"phone_number": "+1234567891"
}
],
"enabled_services": {
"messages": true,
"supervisedInbox": true,
"calls": true,
"sharedInbox": true
}
}
]"#;

#[test]
fn onboard_example_round_trips_and_validates() {
    let agents: Vec<NewAgent> = round_trip(ONBOARD_REQUEST);
    assert_eq!(agents[0].roles, Some(vec![Role::Member, Role::Manager]));
    assert_eq!(
        agents[0].number_provisioning[0].number_type,
        NumberType::Supervised
    );
    assert_eq!(
        agents[0]
            .enabled_services
            .as_ref()
            .unwrap()
            .supervised_inbox,
        Some(true)
    );
    assert_eq!(agents[0].city.as_deref(), Some("Los Angeles"));
    crate::validate::onboard(&agents).unwrap();
}

#[test]
fn onboard_answers_map_to_success_and_item_errors() {
    let ok = response::batch(
        &answer(
            200,
            r#"{"message": "Onboarded successfully", "errors": []}"#,
        ),
        0,
    )
    .unwrap();
    assert_eq!(ok.errors.message, "Onboarded successfully");
    assert!(ok.errors.items.is_empty());
    let failed = response::error_for(
        &answer(
            400,
            r#"{
"message": "Onboarding failed",
"errors": [
{
"itemIndex": 0,
"errors": ["An agent with the same user_object_id already exists"]
}
]
}"#,
        ),
        0,
    );
    assert_eq!(
        failed,
        ApiError::Rejected {
            status: 400,
            message: "Onboarding failed".into(),
            messages: vec![],
            items: vec![ItemErrors {
                item_index: 0,
                errors: vec!["An agent with the same user_object_id already exists".into()],
            }],
        }
    );
}

/// The reference's GET agent example, verbatim: a comma is missing before `"status"`.
const AGENT_RESPONSE_AS_PRINTED: &str = r#"{
"user_object_id": "64b50f0f-aea3-4251-9e58-6e56b234ddf1",
"name": "Test Agent",
"upn": "test@domain.tld",
"tenant_id": "1234567890",
"consistency_id": "customer-defined-id-123",
"brand_name": "Company name",
"department": "Some department",
"region": "US-East",
"state": "CA",
"district": "90210",
"store": "1234",
"city": "Los Angeles",
"zip_code": "90210",
"phone_number": [
{
"type": "messaging",
"value": "+1234567890"
},
{
"type": "supervised",
"value": "+1234567891"
}
],
"roles": ["member", "manager", "admin"],
"enabled_services": {
"messages": true,
"supervisedInbox": true,
"calls": true,
"sharedInbox": true
},
"supervisors": [
{
"user_object_id": "e0753fdc-321f-45e3-97ed-cc06e606aa93",
"status": "active",
"name": "Test SUpervisor",
"upn": "supervisor@test.tld"
}
],
"shared_inbox": [
{
"name": "Tech Support",
"phone_number": "+15550000005"
},
{
"name": "Sales",
"phone_number": "+15550000006"
}
]
"status": "active",
"active": true
}"#;

fn agent_response_fixed() -> String {
    AGENT_RESPONSE_AS_PRINTED.replace("]\n\"status\"", "],\n\"status\"")
}

fn check_example_agent(agent: &Agent) {
    assert_eq!(
        agent.user_object_id.as_deref(),
        Some("64b50f0f-aea3-4251-9e58-6e56b234ddf1")
    );
    assert_eq!(agent.zip_code.as_deref(), Some("90210"));
    assert_eq!(agent.phone_number.len(), 2);
    assert_eq!(agent.phone_number[1].number_type, NumberType::Supervised);
    assert_eq!(agent.roles, vec![Role::Member, Role::Manager, Role::Admin]);
    assert_eq!(
        agent.supervisors[0].upn.as_deref(),
        Some("supervisor@test.tld")
    );
    assert_eq!(
        agent.shared_inbox[1].phone_number.as_deref(),
        Some("+15550000006")
    );
    assert_eq!(agent.status.as_deref(), Some("active"));
    assert_eq!(agent.active, Some(true));
}

#[test]
fn get_agent_example_as_printed_is_an_unexpected_response_not_a_panic() {
    let error = response::agent(&answer(200, AGENT_RESPONSE_AS_PRINTED), 0).unwrap_err();
    assert!(
        matches!(error, ApiError::UnexpectedResponse { status: 200, .. }),
        "{error:?}"
    );
}

#[test]
fn get_agent_example_with_the_comma_maps_every_field() {
    let agent = response::agent(&answer(200, &agent_response_fixed()), 0).unwrap();
    check_example_agent(&agent);
}

#[test]
fn list_example_single_object_becomes_a_list_of_one() {
    let agents = response::agent_list(&answer(200, &agent_response_fixed()), 0).unwrap();
    assert_eq!(agents.len(), 1);
    check_example_agent(&agents[0]);
    let wrapped = format!(r#"{{"data": [{}]}}"#, agent_response_fixed());
    assert_eq!(
        response::agent_list(&answer(200, &wrapped), 0)
            .unwrap()
            .len(),
        1
    );
    let array = format!("[{0},{0}]", agent_response_fixed());
    assert_eq!(
        response::agent_list(&answer(200, &array), 0).unwrap().len(),
        2
    );
}

const NOT_FOUND: &str = r#"{
"status": "error",
"message": "object not found"
}"#;

#[test]
fn not_found_example_is_not_found_for_get_and_empty_for_list() {
    assert_eq!(
        response::agent(&answer(404, NOT_FOUND), 0),
        Err(ApiError::NotFound("object not found".into()))
    );
    assert_eq!(response::agent_list(&answer(404, NOT_FOUND), 0), Ok(vec![]));
}

const UPDATE_REQUEST: &str = r#"{
"user_object_id": "17c528d0-dcfa-49bf-bb2b-8955bf377e5a",
"upn": "agent.email@domain.com",
"department": "Sales",
"phone_number": [
{
"type": "messaging",
"value": "+1234567890"
}
],
"enabled_services": {
"messages": true,
"supervisedInbox": true,
"calls": true,
"sharedInbox": true
}
}"#;

const UPDATED_AGENT: &str = r#"{
"itemIndex": 0,
"user_object_id": "17c528d0-dcfa-49bf-bb2b-8955bf377e5a",
"name": "Agent name",
"upn": "agent.email@domain.com",
"consistency_id": "customer-defined-id-123",
"brand_name": "Company name",
"department": "Sales",
"region": "US-East",
"state": "CA",
"district": "90210",
"store": "1234",
"city": "Los Angeles",
"zip_code": "90210",
"phone_number": [
{
"type": "messaging",
"value": "+1234567890"
}
],
"roles": ["member", "admin"],
"enabled_services": {
"messages": true,
"supervisedInbox": true,
"calls": true,
"sharedInbox": true
},
"active": true
}"#;

#[test]
fn update_examples_map_request_and_answer() {
    let changes: AgentChanges = round_trip(UPDATE_REQUEST);
    crate::validate::update_agent("5f7ca4beb854df0ac6b8bee1", Some(KeyId::Id), &changes).unwrap();
    let agent = response::agent(&answer(200, UPDATED_AGENT), 0).unwrap();
    assert_eq!(agent.roles, vec![Role::Member, Role::Admin]);
    assert_eq!(agent.phone_number[0].value, "+1234567890");
    let failed = response::error_for(
        &answer(
            400,
            r#"{"message": "Update failed","errors": [{"itemIndex": 0,"errors": ["Invalid phone number format"]}]}"#,
        ),
        0,
    );
    assert!(
        matches!(failed, ApiError::Rejected { ref items, .. } if items[0].errors == ["Invalid phone number format"])
    );
}

const BULK_UPDATE_REQUEST: &str = r#"[
{
"target": {
"identifier": "user_object_id",
"value": "17c528d0-dcfa-49bf-bb2b-8955bf377e5a"
},
"updates": {
"user_object_id": "6409c0b8-cfb8-4f18-accf-f44184a299c3",
"upn": "agent.email@domain.com",
"department": "Sales",
"roles": {
"assign": ["admin"],
"remove": ["manager"]
},
"active": "true",
"phone_number": [
{
"type": "messaging",
"value": "+1234567890"
}
],
"enabled_services": {
"messages": true,
"supervisedInbox": true,
"calls": true,
"sharedInbox": true
}
}
}
]"#;

#[test]
fn bulk_update_example_accepts_string_active_and_sends_a_boolean() {
    let updates: Vec<AgentUpdate> = serde_json::from_str(BULK_UPDATE_REQUEST).unwrap();
    assert_eq!(updates[0].updates.active, Some(true));
    let sent = serde_json::to_value(&updates).unwrap();
    assert_eq!(sent[0]["updates"]["active"], json!(true));
    assert_eq!(
        sent[0]["updates"]["roles"],
        json!({"assign": ["admin"], "remove": ["manager"]})
    );
    crate::validate::update_many(&updates).unwrap();
}

#[test]
fn bulk_update_answers_carry_results_and_item_errors() {
    let ok = format!(
        r#"{{"message": "Updated successfully", "errors": [], "result": [{UPDATED_AGENT}]}}"#
    );
    let answer_ok = response::batch(&answer(200, &ok), 0).unwrap();
    assert_eq!(answer_ok.results.len(), 1);
    assert_eq!(answer_ok.results[0].0, 0);
    assert_eq!(answer_ok.results[0].1.name.as_deref(), Some("Agent name"));
    let failed = response::error_for(
        &answer(
            400,
            r#"{"message": "Update failed","errors": [{"itemIndex": 0,"errors": ["Invalid phone number format", "User with the specified user_object_id not found"]}]}"#,
        ),
        0,
    );
    assert!(matches!(failed, ApiError::Rejected { ref items, .. } if items[0].errors.len() == 2));
}

#[test]
fn offboard_answers_map_to_message_and_rejection() {
    assert_eq!(
        response::message(
            &answer(200, r#"{"message": "Agent successfully offboarded"}"#),
            0
        )
        .unwrap(),
        "Agent successfully offboarded"
    );
    assert_eq!(
        response::error_for(
            &answer(
                400,
                r#"{"message": "Unsuccessful offboarding","errors": ["Agent not found"]}"#
            ),
            0
        ),
        ApiError::Rejected {
            status: 400,
            message: "Unsuccessful offboarding".into(),
            messages: vec!["Agent not found".into()],
            items: vec![],
        }
    );
}

#[test]
fn bulk_offboard_examples_round_trip() {
    let by_uoid: Vec<OffboardItem> = round_trip(
        r#"[{"identifier": "user_object_id","value": ["17c528d0-dcfa-49bf-bb2b-8955bf377e5a", "17c528d0-dcfa-49bf-bb2b-8955bf377e5b"]}]"#,
    );
    let by_upn: Vec<OffboardItem> = round_trip(
        r#"[{"identifier": "upn","value": ["agent.email@domain.com", "agent2.email@domain.com"]}]"#,
    );
    assert_eq!(by_uoid[0].value.len(), 2);
    assert_eq!(by_upn[0].identifier, IdentifierKind::Upn);
    crate::validate::offboard_many(&by_upn).unwrap();
    let failed = response::error_for(
        &answer(
            400,
            r#"{"message": "Offboarding failed","errors": [{"itemIndex": 0,"errors": ["Azure Object ID is not registered with SmartCommunicator"]}]}"#,
        ),
        0,
    );
    assert!(matches!(failed, ApiError::Rejected { ref items, .. } if items[0].item_index == 0));
}

#[test]
fn inbox_examples_round_trip_and_validate() {
    let shared: Vec<NewInbox> = round_trip(
        r#"[{"name": "Shared Inbox","type": "shared","phone_number": "+1234567890","users": {"identifier": "user_object_id","values": ["17c528d0-dcfa-49bf-bb2b-8955bf377e5a", "17c528d0-dcfa-49bf-bb2b-8955bf377e5b"]}}]"#,
    );
    let supervised: Vec<NewInbox> = round_trip(
        r#"[{"name": "Supervised Inbox","type": "supervised","phone_number": "+1234567890","owner": {"identifier": "user_object_id","value": "17c528d0-dcfa-49bf-bb2b-8955bf377e5a"},"users": {"identifier": "user_object_id","values": ["17c528d0-dcfa-49bf-bb2b-8955bf377e5a", "17c528d0-dcfa-49bf-bb2b-8955bf377e5b"]}}]"#,
    );
    crate::validate::create_inboxes(&shared).unwrap();
    crate::validate::create_inboxes(&supervised).unwrap();
    assert_eq!(
        response::batch(&answer(200, r#"{"message": "Success"}"#), 0)
            .unwrap()
            .errors
            .message,
        "Success"
    );
    let failed = response::error_for(
        &answer(
            400,
            r#"{"message": "Creating inboxes failed","errors": [{"itemIndex": 0,"errors": ["Inbox already exists"]}]}"#,
        ),
        0,
    );
    assert!(
        matches!(failed, ApiError::Rejected { ref items, .. } if items[0].errors == ["Inbox already exists"])
    );
}

#[test]
fn assignment_examples_round_trip_and_validate() {
    let add: Vec<Assignment> = round_trip(
        r#"[{"inbox": {"type": "shared","identifier": "phone_number","value": "+1234567890"},"agents": {"identifier": "user_object_id","values": ["17c528d0-dcfa-49bf-bb2b-8955bf377e5a"]},"operation": "add"}]"#,
    );
    let remove: Vec<Assignment> = round_trip(
        r#"[{"inbox": {"type": "supervised","identifier": "user_object_id","value": "17c528d0-dcfa-49bf-bb2b-8955bf377e5a"},"agents": {"identifier": "user_object_id","values": ["78dfa17f-d9a9-49ff-b579-d0f946d7c3f1"]},"operation": "remove"}]"#,
    );
    crate::validate::assignments(&add).unwrap();
    crate::validate::assignments(&remove).unwrap();
    assert_eq!(remove[0].operation, Operation::Remove);
    let ok = response::batch(
        &answer(200, r#"{"message": "Assignment successful","errors": []}"#),
        0,
    )
    .unwrap();
    assert_eq!(ok.errors.message, "Assignment successful");
    let failed = response::error_for(
        &answer(
            400,
            r#"{"message": "Assignment failed","errors": [{"itemIndex": 0,"errors": ["Target inbox not found"]}]}"#,
        ),
        0,
    );
    assert!(
        matches!(failed, ApiError::Rejected { ref items, .. } if items[0].errors == ["Target inbox not found"])
    );
}

#[test]
fn numbers_example_maps_status_and_assignee() {
    let numbers = response::numbers(
        &answer(
            200,
            r#"[{"number": "+1234567890","status": "assigned","assignedTo": {"name": "Agent name","user_object_id": "d25feff0-cf61-4847-a40c-91eaf3f68de5","upn": "agent@domain.com","consistency_id": "12345"}}]"#,
        ),
        0,
    )
    .unwrap();
    assert_eq!(numbers[0].status, Some(NumberStatus::Assigned));
    assert_eq!(
        numbers[0]
            .assigned_to
            .as_ref()
            .unwrap()
            .consistency_id
            .as_deref(),
        Some("12345")
    );
}

#[test]
fn unknown_roles_and_fields_are_ignored_and_missing_fields_are_none() {
    let agent = response::agent(
        &answer(200, r#"{"user_object_id": "u", "roles": ["member", "owner"], "phone_number": [{"type": "fax", "value": "+1"}], "extra": {"x": 1}}"#),
        0,
    )
    .unwrap();
    assert_eq!(agent.roles, vec![Role::Member]);
    assert!(agent.phone_number.is_empty());
    assert_eq!(agent.name, None);
}

#[test]
fn non_json_answers_say_what_arrived() {
    let html = RawResponse {
        status: 502,
        content_type: Some("text/html".into()),
        retry_after: None,
        body: b"<html><body>Bad Gateway</body></html>".to_vec(),
    };
    assert!(matches!(
        response::error_for(&html, 0),
        ApiError::ServerError { status: 502, .. }
    ));
    let html_ok = RawResponse {
        status: 200,
        ..html.clone()
    };
    match response::agent(&html_ok, 0) {
        Err(ApiError::UnexpectedResponse {
            status,
            content_type,
            body_excerpt,
        }) => {
            assert_eq!(status, 200);
            assert_eq!(content_type.as_deref(), Some("text/html"));
            assert!(body_excerpt.contains("Bad Gateway"));
        }
        other => panic!("{other:?}"),
    }
    let empty_400 = RawResponse {
        status: 400,
        body: vec![],
        ..html
    };
    assert!(matches!(
        response::error_for(&empty_400, 0),
        ApiError::UnexpectedResponse { status: 400, .. }
    ));
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    assert_eq!(response::retry_after_seconds(Some("7"), 0), Some(7));
    // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
    assert_eq!(
        response::retry_after_seconds(Some("Sun, 06 Nov 1994 08:49:37 GMT"), 784111770),
        Some(7)
    );
    assert_eq!(response::retry_after_seconds(Some("soon"), 0), None);
    let limited = response::error_for(
        &RawResponse {
            status: 429,
            content_type: None,
            retry_after: Some("3".into()),
            body: vec![],
        },
        0,
    );
    assert_eq!(
        limited,
        ApiError::RateLimited {
            retry_after: Some(3),
            attempts: 1
        }
    );
}
