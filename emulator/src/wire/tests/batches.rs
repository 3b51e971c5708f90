//! Bodies as a whole, and how a batch goes on after a refused item.

use super::*;

#[test]
fn a_body_that_is_not_a_json_array_is_refused_whole() {
    let refusal = json!({"message": "Onboarding failed", "errors": ["The request body must be a JSON array"]});
    for body in [r#"{"user_object_id": "u"}"#, r#""u""#, "not json", ""] {
        assert_eq!(
            call(&mut account(), Method::POST, "/agents", body),
            (400, refusal.clone())
        );
    }
    let (_, body) = call(&mut account(), Method::POST, "/inboxes/assignments", "{}");
    assert_eq!(body["message"], "Assignment failed");
}

#[test]
fn an_empty_array_is_refused() {
    assert_eq!(
        send(&mut account(), Method::POST, "/agents/offboard", json!([])),
        (
            400,
            json!({"message": "Offboarding failed", "errors": ["The request body must be a non-empty array"]})
        )
    );
}

#[test]
fn more_than_ten_items_is_refused_whole() {
    let mut account = account();
    let eleven: Vec<Value> = (0..11).map(|i| new_agent(&format!("u{i}"))).collect();
    assert_eq!(
        send(&mut account, Method::POST, "/agents", json!(eleven)),
        (
            400,
            json!({"message": "Onboarding failed", "errors": ["Batch operations are limited to 10 items per request"]})
        )
    );
    assert_eq!(account.agents.len(), 2);
    let ten = &eleven[..MAX_BATCH];
    assert_eq!(
        send(&mut account, Method::POST, "/agents", json!(ten)).0,
        200
    );
}

#[test]
fn an_item_that_is_not_an_object_is_refused() {
    assert_eq!(
        onboard_problems(json!("u")),
        ["The item must be a JSON object"]
    );
}

#[test]
fn an_item_with_several_problems_lists_them_all() {
    let item = json!({"user_object_id": "u", "tenant_id": 7, "roles": ["member", "owner"],
        "number_provisioning": [{"type": "messaging", "phone_number": "555"}],
        "enabled_services": {"calls": "yes"}});
    assert_eq!(
        onboard_problems(item),
        [
            "tenant_id must be a string",
            "Missing required field: name",
            r#"Invalid roles[1]: "owner" is not one of member, manager, admin"#,
            "Invalid phone number format",
            "enabled_services.calls must be a boolean",
        ]
    );
}

#[test]
fn a_malformed_item_stops_the_batch_like_any_failing_item() {
    let items = json!([new_agent("u1"), {"user_object_id": "u2"}, new_agent("u3")]);
    let mut stopped = account();
    let (_, body) = send(&mut stopped, Method::POST, "/agents", items.clone());
    assert_eq!(body["errors"][0]["itemIndex"], 1);
    assert_eq!(stopped.agents.len(), 3, "u1 applied, u3 never tried");
    let mut continued = account();
    let path = "/agents?continueOnError=true";
    assert_eq!(send(&mut continued, Method::POST, path, items).0, 400);
    assert_eq!(continued.agents.len(), 4);
}

#[test]
fn a_single_update_reads_its_body_before_looking_for_the_agent() {
    let mut account = account();
    assert_eq!(
        call(&mut account, Method::PATCH, "/agents/ghost", "[]"),
        (
            400,
            json!({"message": "Update failed", "errors": ["The request body must be a JSON object"]})
        )
    );
    assert_eq!(
        send(
            &mut account,
            Method::PATCH,
            "/agents/ghost",
            json!({"name": 1})
        ),
        (
            400,
            json!({"message": "Update failed", "errors": [{"itemIndex": 0, "errors": ["name must be a string"]}]})
        )
    );
    assert_eq!(
        send(
            &mut account,
            Method::PATCH,
            "/agents/ghost",
            json!({"name": "n"})
        )
        .0,
        404
    );
    let (_, body) = send(
        &mut account,
        Method::PATCH,
        "/agents/a",
        json!({"upn": " "}),
    );
    assert_eq!(
        body["errors"][0]["errors"],
        json!(["upn must not be empty"])
    );
}

#[test]
fn a_bulk_update_with_broken_updates_still_says_whether_its_target_exists() {
    let broken = |target: &str| {
        json!({"target": {"identifier": "user_object_id", "value": target},
            "updates": {"phone_number": [{"type": "messaging", "value": "1"}]}})
    };
    assert_eq!(
        item_problems(Method::PATCH, "/agents", broken("ghost")),
        [
            "Invalid phone number format",
            "User with the specified user_object_id not found"
        ]
    );
    assert_eq!(
        item_problems(Method::PATCH, "/agents", broken("a")),
        ["Invalid phone number format"]
    );
}
