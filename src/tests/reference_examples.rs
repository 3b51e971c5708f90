//! Every request and response example of the API reference, as printed there, mapped through
//! the model and the response parser.

use crate::error::ApiError;
use crate::model::*;
use crate::response::{self, RawResponse};
use serde_json::{Value, json};

/// One of the reference's examples, as printed (see `tests/fixtures/reference/README.md`).
macro_rules! reference {
    ($file:literal) => {
        include_str!(concat!("../../tests/fixtures/reference/", $file))
    };
}

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

const TOKEN_RESPONSE: &str = reference!("authenticate-response-200.json");

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

const ONBOARD_REQUEST: &str = reference!("onboard-request.json");

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
    crate::validate::onboard_agents(&agents).unwrap();
}

#[test]
fn onboard_answers_map_to_success_and_item_errors() {
    let ok = response::batch(&answer(200, reference!("onboard-response-200.json")), 0).unwrap();
    assert_eq!(ok.errors.message, "Onboarded successfully");
    assert!(ok.errors.items.is_empty());
    let failed = response::error_for(&answer(400, reference!("onboard-response-400.json")), 0);
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
const AGENT_RESPONSE_AS_PRINTED: &str = reference!("get-agent-response-200-as-printed.txt");

/// The reference's list example, verbatim: the same agent, with the same missing comma.
const LIST_RESPONSE_AS_PRINTED: &str = reference!("list-agents-response-200-as-printed.txt");

fn with_the_missing_comma(as_printed: &str) -> String {
    as_printed.replace("]\n\"status\"", "],\n\"status\"")
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
    let fixed = with_the_missing_comma(AGENT_RESPONSE_AS_PRINTED);
    let agent = response::agent(&answer(200, &fixed), 0).unwrap();
    check_example_agent(&agent);
}

#[test]
fn list_example_single_object_becomes_a_list_of_one() {
    let fixed = with_the_missing_comma(LIST_RESPONSE_AS_PRINTED);
    let agents = response::agent_list(&answer(200, &fixed), 0).unwrap();
    assert_eq!(agents.len(), 1);
    check_example_agent(&agents[0]);
    let wrapped = format!(r#"{{"data": [{fixed}]}}"#);
    assert_eq!(
        response::agent_list(&answer(200, &wrapped), 0)
            .unwrap()
            .len(),
        1
    );
    let array = format!("[{fixed},{fixed}]");
    assert_eq!(
        response::agent_list(&answer(200, &array), 0).unwrap().len(),
        2
    );
}

const GET_NOT_FOUND: &str = reference!("get-agent-response-404.json");
const LIST_NOT_FOUND: &str = reference!("list-agents-response-404.json");

#[test]
fn not_found_example_is_not_found_for_get_and_empty_for_list() {
    assert_eq!(
        response::agent(&answer(404, GET_NOT_FOUND), 0),
        Err(ApiError::NotFound("object not found".into()))
    );
    assert_eq!(
        response::agent_list(&answer(404, LIST_NOT_FOUND), 0),
        Ok(vec![])
    );
}

const UPDATE_REQUEST: &str = reference!("update-agent-request.json");

const UPDATED_AGENT: &str = reference!("update-agent-response-200.json");

#[test]
fn update_examples_map_request_and_answer() {
    let changes: AgentChanges = round_trip(UPDATE_REQUEST);
    crate::validate::update_agent("5f7ca4beb854df0ac6b8bee1", Some(KeyId::Id), &changes).unwrap();
    let agent = response::agent(&answer(200, UPDATED_AGENT), 0).unwrap();
    assert_eq!(agent.roles, vec![Role::Member, Role::Admin]);
    assert_eq!(agent.phone_number[0].value, "+1234567890");
    let failed = response::error_for(
        &answer(400, reference!("update-agent-response-400.json")),
        0,
    );
    assert!(
        matches!(failed, ApiError::Rejected { ref items, .. } if items[0].errors == ["Invalid phone number format"])
    );
}

const BULK_UPDATE_REQUEST: &str = reference!("bulk-update-request.json");

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
    crate::validate::update_agents(&updates).unwrap();
}

#[test]
fn bulk_update_answers_carry_results_and_item_errors() {
    let ok = reference!("bulk-update-response-200.json");
    let answer_ok = response::batch(&answer(200, ok), 0).unwrap();
    assert_eq!(answer_ok.results.len(), 1);
    assert_eq!(answer_ok.results[0].0, 0);
    assert_eq!(answer_ok.results[0].1.name.as_deref(), Some("Agent name"));
    let failed = response::error_for(&answer(400, reference!("bulk-update-response-400.json")), 0);
    assert!(matches!(failed, ApiError::Rejected { ref items, .. } if items[0].errors.len() == 2));
}

#[test]
fn offboard_answers_map_to_message_and_rejection() {
    assert_eq!(
        response::message(
            &answer(200, reference!("offboard-agent-response-200.json")),
            0
        )
        .unwrap(),
        "Agent successfully offboarded"
    );
    assert_eq!(
        response::error_for(
            &answer(400, reference!("offboard-agent-response-400.json")),
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
    let by_uoid: Vec<OffboardItem> =
        round_trip(reference!("bulk-offboard-request-by-user-object-id.json"));
    let by_upn: Vec<OffboardItem> = round_trip(reference!("bulk-offboard-request-by-upn.json"));
    assert_eq!(by_uoid[0].value.len(), 2);
    assert_eq!(by_upn[0].identifier, IdentifierKind::Upn);
    crate::validate::offboard_agents(&by_upn).unwrap();
    let failed = response::error_for(
        &answer(400, reference!("bulk-offboard-response-400.json")),
        0,
    );
    assert!(matches!(failed, ApiError::Rejected { ref items, .. } if items[0].item_index == 0));
}

#[test]
fn inbox_examples_round_trip_and_validate() {
    let shared: Vec<NewInbox> = round_trip(reference!("create-inbox-request-shared.json"));
    let supervised: Vec<NewInbox> = round_trip(reference!("create-inbox-request-supervised.json"));
    crate::validate::create_inboxes(&shared).unwrap();
    crate::validate::create_inboxes(&supervised).unwrap();
    assert_eq!(
        response::batch(
            &answer(200, reference!("create-inbox-response-200.json")),
            0
        )
        .unwrap()
        .errors
        .message,
        "Success"
    );
    let failed = response::error_for(
        &answer(400, reference!("create-inbox-response-400.json")),
        0,
    );
    assert!(
        matches!(failed, ApiError::Rejected { ref items, .. } if items[0].errors == ["Inbox already exists"])
    );
}

#[test]
fn assignment_examples_round_trip_and_validate() {
    let add: Vec<Assignment> =
        round_trip(reference!("assignment-request-add-to-shared-inbox.json"));
    let remove: Vec<Assignment> = round_trip(reference!(
        "assignment-request-remove-from-supervised-inbox.json"
    ));
    crate::validate::assign_inboxes(&add).unwrap();
    crate::validate::assign_inboxes(&remove).unwrap();
    assert_eq!(remove[0].operation, Operation::Remove);
    let ok = response::batch(&answer(200, reference!("assignment-response-200.json")), 0).unwrap();
    assert_eq!(ok.errors.message, "Assignment successful");
    let failed = response::error_for(&answer(400, reference!("assignment-response-400.json")), 0);
    assert!(
        matches!(failed, ApiError::Rejected { ref items, .. } if items[0].errors == ["Target inbox not found"])
    );
}

#[test]
fn numbers_example_maps_status_and_assignee() {
    let numbers = response::numbers(
        &answer(200, reference!("list-numbers-response-200.json")),
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
    // HTTP's two obsolete forms are dates too.
    for obsolete in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
        assert_eq!(
            response::retry_after_seconds(Some(obsolete), 784111770),
            Some(7)
        );
    }
    // A day of 00 is no date; a date past is now; a number or a date too far ahead is the
    // longest wait there is.
    assert_eq!(
        response::retry_after_seconds(Some("Sun, 00 Nov 1994 08:49:37 GMT"), 0),
        None
    );
    assert_eq!(
        response::retry_after_seconds(Some("Sun, 06 Nov 1994 08:49:37 GMT"), 2_000_000_000),
        Some(0)
    );
    assert_eq!(
        response::retry_after_seconds(Some("99999999999999999999"), 0),
        Some(u32::MAX)
    );
    assert_eq!(
        response::retry_after_seconds(Some("Fri, 31 Dec 9999 23:59:59 GMT"), 0),
        Some(u32::MAX)
    );
    assert_eq!(response::retry_after_seconds(Some("-5"), 0), None);
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
