//! Every example of the API reference, from the files the component's tests read too: each
//! request example is accepted and answered with the reference's success body, and each error
//! example is what the emulator answers to the matching bad request.

use crate::auth::{Tokens, authenticate};
use crate::state::Account;
use crate::testing::{account_with, call};
use http::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// One of the reference's examples, as printed (see `tests/fixtures/reference/README.md`).
macro_rules! reference {
    ($file:literal) => {
        include_str!(concat!("../../tests/fixtures/reference/", $file))
    };
}

fn parsed(example: &str) -> Value {
    serde_json::from_str(example).expect("the example is JSON")
}

/// The two agent examples lack a comma before `"status"`.
fn with_the_missing_comma(as_printed: &str) -> Value {
    assert!(serde_json::from_str::<Value>(as_printed).is_err());
    parsed(&as_printed.replace("]\n\"status\"", "],\n\"status\""))
}

const UOID_A: &str = "17c528d0-dcfa-49bf-bb2b-8955bf377e5a";
const UOID_B: &str = "17c528d0-dcfa-49bf-bb2b-8955bf377e5b";

fn onboard(account: &mut Account, agents: Value) {
    let answer = call(account, Method::POST, "/agents", &agents.to_string());
    assert_eq!(answer.0, 200, "{answer:?}");
}

fn agent(uoid: &str, upn: &str) -> Value {
    json!({"user_object_id": uoid, "tenant_id": "t", "name": uoid, "upn": upn})
}

/// The example's agent and its colleagues, so that reading it shows every field the
/// reference prints.
fn account_of_the_agent_example() -> Account {
    let mut account = account_with(&["+1234567890", "+1234567891", "+15550000005", "+15550000006"]);
    onboard(
        &mut account,
        json!([{"user_object_id": "e0753fdc-321f-45e3-97ed-cc06e606aa93", "tenant_id": "1234567890",
            "name": "Test SUpervisor", "upn": "supervisor@test.tld"}]),
    );
    onboard(
        &mut account,
        json!([{
            "user_object_id": "64b50f0f-aea3-4251-9e58-6e56b234ddf1", "name": "Test Agent",
            "upn": "test@domain.tld", "tenant_id": "1234567890",
            "consistency_id": "customer-defined-id-123", "brand_name": "Company name",
            "department": "Some department", "region": "US-East", "state": "CA",
            "district": "90210", "store": "1234", "city": "Los Angeles", "zip_code": "90210",
            "roles": ["member", "manager", "admin"],
            "number_provisioning": [
                {"type": "messaging", "phone_number": "+1234567890"},
                {"type": "supervised", "phone_number": "+1234567891", "supervisors":
                    {"identifier": "upn", "values": ["supervisor@test.tld"]}}
            ],
            "enabled_services": {"messages": true, "supervisedInbox": true, "calls": true, "sharedInbox": true}
        }]),
    );
    for (name, number) in [("Tech Support", "+15550000005"), ("Sales", "+15550000006")] {
        let inbox = json!([{"name": name, "type": "shared", "phone_number": number,
            "users": {"identifier": "upn", "values": ["test@domain.tld"]}}]);
        let answer = call(&mut account, Method::POST, "/inboxes", &inbox.to_string());
        assert_eq!(answer.0, 200, "{answer:?}");
    }
    account
}

#[test]
fn the_authenticate_example_gets_a_token_in_data() {
    let tokens = Tokens::new("a seed", Duration::from_secs(60));
    let request = parsed(reference!("authenticate-request.json"));
    let (username, password) = (
        request["username"].as_str().unwrap(),
        request["password"].as_str().unwrap(),
    );
    let body = reference!("authenticate-request.json").as_bytes();
    let (status, answer) = authenticate(&tokens, username, password, body);
    assert_eq!(status, 200);
    let example = parsed(reference!("authenticate-response-200.json"));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&answer), keys(&example));
    let token = answer["data"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);
    assert!(tokens.is_valid(token));
    assert_eq!(authenticate(&tokens, username, "other", body).0, 401);
}

#[test]
fn the_onboard_example_is_accepted_and_a_repeat_gets_the_documented_error() {
    let mut account = account_with(&["+1234567890", "+1234567891"]);
    let request = reference!("onboard-request.json");
    assert_eq!(
        call(&mut account, Method::POST, "/agents", request),
        (200, parsed(reference!("onboard-response-200.json")))
    );
    assert_eq!(
        call(&mut account, Method::POST, "/agents", request),
        (400, parsed(reference!("onboard-response-400.json")))
    );
}

#[test]
fn reading_the_example_agent_answers_the_get_example_and_an_unknown_one_the_404() {
    let mut account = account_of_the_agent_example();
    assert_eq!(
        call(
            &mut account,
            Method::GET,
            "/agents/64b50f0f-aea3-4251-9e58-6e56b234ddf1",
            ""
        ),
        (
            200,
            with_the_missing_comma(reference!("get-agent-response-200-as-printed.txt"))
        )
    );
    assert_eq!(
        call(&mut account, Method::GET, "/agents/nobody", ""),
        (404, parsed(reference!("get-agent-response-404.json")))
    );
}

#[test]
fn listing_answers_a_list_of_the_list_example_and_nothing_matching_the_404() {
    let mut account = account_of_the_agent_example();
    let (status, list) = call(
        &mut account,
        Method::GET,
        "/agents?consistency_id=customer-defined-id-123",
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(
        list,
        json!([with_the_missing_comma(reference!(
            "list-agents-response-200-as-printed.txt"
        ))])
    );
    assert_eq!(
        call(&mut account, Method::GET, "/agents?upn=nobody%40x.tld", ""),
        (404, parsed(reference!("list-agents-response-404.json")))
    );
}

#[test]
fn the_update_example_answers_the_updated_agent_and_a_bad_number_the_documented_error() {
    let mut account = account_with(&["+1234567890"]);
    onboard(
        &mut account,
        json!([{
            "user_object_id": "5f7ca4beb854df0ac6b8bee1", "tenant_id": "t", "name": "Agent name",
            "consistency_id": "customer-defined-id-123", "brand_name": "Company name",
            "department": "Support", "region": "US-East", "state": "CA", "district": "90210",
            "store": "1234", "city": "Los Angeles", "zip_code": "90210", "roles": ["member", "admin"]
        }]),
    );
    let path = "/agents/5f7ca4beb854df0ac6b8bee1";
    let bad_number = reference!("update-agent-request.json").replace("+1234567890", "1234567890");
    assert_eq!(
        call(&mut account, Method::PATCH, path, &bad_number),
        (400, parsed(reference!("update-agent-response-400.json")))
    );
    assert_eq!(
        call(
            &mut account,
            Method::PATCH,
            path,
            reference!("update-agent-request.json")
        ),
        (200, parsed(reference!("update-agent-response-200.json")))
    );
}

#[test]
fn the_bulk_update_example_answers_the_documented_result() {
    let mut account = account_with(&["+1234567890"]);
    onboard(
        &mut account,
        json!([{
            "user_object_id": UOID_A, "tenant_id": "t", "name": "Agent name",
            "consistency_id": "customer-defined-id-123", "brand_name": "Company name",
            "region": "US-East", "state": "CA", "district": "90210", "store": "1234",
            "city": "Los Angeles", "zip_code": "90210", "roles": ["member", "manager"]
        }]),
    );
    let (status, answer) = call(
        &mut account,
        Method::PATCH,
        "/agents",
        reference!("bulk-update-request.json"),
    );
    assert_eq!(status, 200);
    // The example answers the old user_object_id although its request changes it.
    let mut example = parsed(reference!("bulk-update-response-200.json"));
    example["result"][0]["user_object_id"] = json!("6409c0b8-cfb8-4f18-accf-f44184a299c3");
    assert_eq!(answer, example);
}

#[test]
fn a_bulk_update_with_a_bad_number_for_an_unknown_agent_gets_both_documented_errors() {
    let mut account = account_with(&["+1234567890"]);
    let request = reference!("bulk-update-request.json").replace("+1234567890", "+0123");
    assert_eq!(
        call(&mut account, Method::PATCH, "/agents", &request),
        (400, parsed(reference!("bulk-update-response-400.json")))
    );
}

#[test]
fn offboarding_one_agent_answers_the_documented_success_and_error() {
    let mut account = account_with(&[]);
    onboard(&mut account, json!([agent(UOID_A, "a@x.tld")]));
    let path = format!("/agents/{UOID_A}");
    assert_eq!(
        call(&mut account, Method::DELETE, &path, ""),
        (200, parsed(reference!("offboard-agent-response-200.json")))
    );
    assert_eq!(
        call(&mut account, Method::DELETE, &path, ""),
        (400, parsed(reference!("offboard-agent-response-400.json")))
    );
}

#[test]
fn both_bulk_offboard_examples_are_accepted() {
    for request in [
        reference!("bulk-offboard-request-by-user-object-id.json"),
        reference!("bulk-offboard-request-by-upn.json"),
    ] {
        let mut account = account_with(&[]);
        onboard(
            &mut account,
            json!([
                agent(UOID_A, "agent.email@domain.com"),
                agent(UOID_B, "agent2.email@domain.com")
            ]),
        );
        assert_eq!(
            call(&mut account, Method::POST, "/agents/offboard", request),
            (200, parsed(reference!("bulk-offboard-response-200.json")))
        );
        assert!(account.agents.is_empty());
    }
}

#[test]
fn a_bulk_offboard_naming_an_unregistered_agent_gets_the_documented_error() {
    let mut account = account_with(&[]);
    onboard(&mut account, json!([agent(UOID_B, "b@x.tld")]));
    assert_eq!(
        call(
            &mut account,
            Method::POST,
            "/agents/offboard",
            reference!("bulk-offboard-request-by-user-object-id.json"),
        ),
        (400, parsed(reference!("bulk-offboard-response-400.json")))
    );
    assert_eq!(
        account.agents.len(),
        1,
        "an item applies whole or not at all"
    );
}

#[test]
fn both_create_inbox_examples_are_accepted_and_a_repeat_gets_the_documented_error() {
    for request in [
        reference!("create-inbox-request-shared.json"),
        reference!("create-inbox-request-supervised.json"),
    ] {
        let mut account = account_with(&["+1234567890"]);
        onboard(
            &mut account,
            json!([agent(UOID_A, "a@x.tld"), agent(UOID_B, "b@x.tld")]),
        );
        assert_eq!(
            call(&mut account, Method::POST, "/inboxes", request),
            (200, parsed(reference!("create-inbox-response-200.json")))
        );
        assert_eq!(
            call(&mut account, Method::POST, "/inboxes", request),
            (400, parsed(reference!("create-inbox-response-400.json")))
        );
    }
}

#[test]
fn both_assignment_examples_are_accepted_and_an_unknown_inbox_gets_the_documented_error() {
    let supervisor = "78dfa17f-d9a9-49ff-b579-d0f946d7c3f1";
    let mut account = account_with(&["+1234567890", "+1234567891"]);
    let add = reference!("assignment-request-add-to-shared-inbox.json");
    assert_eq!(
        call(&mut account, Method::POST, "/inboxes/assignments", add),
        (400, parsed(reference!("assignment-response-400.json")))
    );
    onboard(&mut account, json!([agent(supervisor, "s@x.tld")]));
    onboard(
        &mut account,
        json!([{"user_object_id": UOID_A, "tenant_id": "t", "name": "Owner",
            "number_provisioning": [{"type": "supervised", "phone_number": "+1234567891",
                "supervisors": {"identifier": "user_object_id", "values": [supervisor]}}]}]),
    );
    let shared = json!([{"name": "Desk", "type": "shared", "phone_number": "+1234567890",
        "users": {"identifier": "user_object_id", "values": [supervisor]}}]);
    assert_eq!(
        call(&mut account, Method::POST, "/inboxes", &shared.to_string()).0,
        200
    );
    let ok = (200, parsed(reference!("assignment-response-200.json")));
    assert_eq!(
        call(&mut account, Method::POST, "/inboxes/assignments", add),
        ok
    );
    let remove = reference!("assignment-request-remove-from-supervised-inbox.json");
    assert_eq!(
        call(&mut account, Method::POST, "/inboxes/assignments", remove),
        ok
    );
    let supervised = account.inboxes.iter().find(|i| i.owner.is_some()).unwrap();
    assert_eq!(supervised.members, vec![UOID_A.to_string()]);
}

#[test]
fn listing_numbers_answers_the_numbers_example() {
    let mut account = account_with(&["+1234567890"]);
    onboard(
        &mut account,
        json!([{"user_object_id": "d25feff0-cf61-4847-a40c-91eaf3f68de5", "tenant_id": "t",
            "name": "Agent name", "upn": "agent@domain.com", "consistency_id": "12345",
            "number_provisioning": [{"type": "messaging", "phone_number": "+1234567890"}]}]),
    );
    assert_eq!(
        call(&mut account, Method::GET, "/numbers", ""),
        (200, parsed(reference!("list-numbers-response-200.json")))
    );
}
