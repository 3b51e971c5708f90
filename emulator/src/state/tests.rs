//! The rules of each operation, through the account alone.

use super::*;
use serde_json::{Value, json};

fn account() -> Account {
    Account::seeded(&seed_numbers(10))
}

fn agent(uoid: &str, numbers: Value) -> Value {
    json!({"user_object_id": uoid, "tenant_id": "t", "name": uoid, "upn": format!("{uoid}@x.com"), "number_provisioning": numbers})
}

fn holder_of(a: &Account, number: &str) -> Option<String> {
    let (_, list) = a.list_numbers(Some("assigned"), None);
    list.as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == number)
        .map(|n| {
            n["assignedTo"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
}

#[test]
fn onboarding_assigns_numbers_and_offboarding_releases_them_as_asked() {
    let mut a = account();
    let n = seed_numbers(2);
    let (status, _) = a.onboard(
        &json!([agent("x", json!([{"type": "messaging", "phone_number": n[0]}, {"type": "supervised", "phone_number": n[1]}]))]),
        false,
        false,
    );
    assert_eq!(status, 200);
    assert_eq!(holder_of(&a, &n[0]).as_deref(), Some("x"));
    assert_eq!(holder_of(&a, &n[1]).as_deref(), Some("x"));
    // Without deprovisioning the supervised inbox keeps its number.
    a.offboard_agent("x", None, false);
    assert_eq!(holder_of(&a, &n[0]), None);
    assert!(holder_of(&a, &n[1]).is_some());
    assert_eq!(a.inboxes[0].owner.as_deref(), Some("x"));
}

#[test]
fn deprovisioning_removes_the_supervised_inbox_and_frees_its_number() {
    let mut a = account();
    let n = seed_numbers(1);
    a.onboard(
        &json!([agent(
            "x",
            json!([{"type": "supervised", "phone_number": n[0]}]),
        )]),
        false,
        false,
    );
    a.offboard_agent("x", None, true);
    assert!(a.inboxes.is_empty());
    assert_eq!(holder_of(&a, &n[0]), None);
}

#[test]
fn a_number_is_held_by_one_agent_or_inbox_at_a_time() {
    let mut a = account();
    let n = seed_numbers(1);
    a.onboard(
        &json!([agent(
            "x",
            json!([{"type": "messaging", "phone_number": n[0]}]),
        )]),
        false,
        false,
    );
    let (status, body) = a.onboard(
        &json!([agent(
            "y",
            json!([{"type": "messaging", "phone_number": n[0]}]),
        )]),
        false,
        false,
    );
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["errors"][0],
        format!("Phone number {} is already assigned", n[0])
    );
    let (_, body) = a.create_inboxes(
        &json!([json!({"name": "S", "type": "shared", "phone_number": n[0], "users": {"identifier": "user_object_id", "values": ["x"]}})]),
        false,
    );
    assert!(
        body["errors"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("already assigned")
    );
    let (_, body) = a.onboard(
        &json!([agent(
            "z",
            json!([{"type": "messaging", "phone_number": "+19999999999"}]),
        )]),
        false,
        false,
    );
    assert!(
        body["errors"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("not registered")
    );
}

#[test]
fn reassign_inbox_hands_an_orphaned_supervised_inbox_to_the_new_agent() {
    let mut a = account();
    let n = seed_numbers(1);
    a.onboard(
        &json!([agent(
            "old",
            json!([{"type": "supervised", "phone_number": n[0]}]),
        )]),
        false,
        false,
    );
    a.offboard_agent("old", None, false);
    let (status, _) = a.onboard(
        &json!([agent(
            "new",
            json!([{"type": "supervised", "phone_number": n[0]}]),
        )]),
        false,
        false,
    );
    assert_eq!(status, 400);
    let (status, _) = a.onboard(
        &json!([agent(
            "new",
            json!([{"type": "supervised", "phone_number": n[0]}]),
        )]),
        false,
        true,
    );
    assert_eq!(status, 200);
    assert_eq!(a.inboxes.len(), 1);
    assert_eq!(a.inboxes[0].owner.as_deref(), Some("new"));
}

#[test]
fn a_deactivated_owner_also_frees_the_inbox_for_reassignment() {
    let mut a = account();
    let n = seed_numbers(1);
    a.onboard(
        &json!([agent(
            "old",
            json!([{"type": "supervised", "phone_number": n[0]}]),
        )]),
        false,
        false,
    );
    a.update_agent("old", None, &json!({"active": false}));
    let (status, _) = a.onboard(
        &json!([agent(
            "new",
            json!([{"type": "supervised", "phone_number": n[0]}]),
        )]),
        false,
        true,
    );
    assert_eq!(status, 200);
}

#[test]
fn without_continue_on_error_items_before_the_failure_stay_applied_and_later_ones_are_not_tried() {
    let mut a = account();
    let items = [
        agent("a", json!([])),
        agent("a", json!([])),
        agent("b", json!([])),
    ];
    let (status, body) = a.onboard(&json!(items), false, false);
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"],
        json!([{"itemIndex": 1, "errors": ["An agent with the same user_object_id already exists"]}])
    );
    assert_eq!(a.agents.len(), 1);

    let mut a = account();
    let (status, body) = a.onboard(&json!(items), true, false);
    assert_eq!(status, 400);
    assert_eq!(body["errors"].as_array().unwrap().len(), 1);
    assert_eq!(
        a.agents.len(),
        2,
        "continueOnError applies every valid item"
    );
}

#[test]
fn batches_over_ten_are_refused_whole() {
    let mut a = account();
    let items: Vec<Value> = (0..11)
        .map(|i| agent(&format!("u{i}"), json!([])))
        .collect();
    let (status, body) = a.onboard(&json!(items), true, false);
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0],
        "Batch operations are limited to 10 items per request"
    );
    assert!(a.agents.is_empty());
}

#[test]
fn supervised_inbox_ownership_and_membership_rules() {
    let mut a = account();
    let n = seed_numbers(3);
    a.onboard(
        &json!([agent("o", json!([])), agent("s", json!([]))]),
        false,
        false,
    );
    let inbox = |number: &str| {
        json!({"name": number, "type": "supervised", "phone_number": number,
        "owner": {"identifier": "upn", "value": "o@x.com"}, "users": {"identifier": "user_object_id", "values": ["s"]}})
    };
    assert_eq!(a.create_inboxes(&json!([inbox(&n[0])]), false).0, 200);
    assert_eq!(a.inboxes[0].members, vec!["o".to_string(), "s".to_string()]);
    let (_, body) = a.create_inboxes(&json!([inbox(&n[1])]), false);
    assert_eq!(
        body["errors"][0]["errors"][0],
        "The owner already has a supervised inbox"
    );
    let remove_owner = json!({"inbox": {"type": "supervised", "identifier": "user_object_id", "value": "o"},
        "agents": {"identifier": "user_object_id", "vlaues": ["o"]}, "operation": "remove"});
    let (_, body) = a.assign(&json!([remove_owner]));
    assert_eq!(
        body["errors"][0]["errors"][0],
        "The owner cannot be removed from a supervised inbox"
    );
    let view = a.view(&a.agents[0]);
    assert_eq!(view["supervisors"][0]["user_object_id"], "s");
}

#[test]
fn offboarding_removes_the_agent_from_every_inbox() {
    let mut a = account();
    let n = seed_numbers(1);
    a.onboard(
        &json!([agent("a", json!([])), agent("b", json!([]))]),
        false,
        false,
    );
    a.create_inboxes(
        &json!([json!({"name": "S", "type": "shared", "phone_number": n[0], "users": {"identifier": "user_object_id", "values": ["a", "b"]}})]),
        false,
    );
    let (status, _) = a.offboard_many(
        &json!([json!({"identifier": "upn", "value": ["a@x.com"]})]),
        false,
        false,
    );
    assert_eq!(status, 200);
    assert_eq!(a.inboxes[0].members, vec!["b".to_string()]);
}
