//! Each field: present, of its JSON type, one of the reference's values.

use super::*;

#[test]
fn missing_required_fields_are_named_for_every_endpoint() {
    assert_eq!(
        onboard_problems(json!({"name": " "})),
        [
            "Missing required field: user_object_id",
            "Missing required field: tenant_id",
            "Missing required field: name"
        ]
    );
    assert_eq!(
        item_problems(Method::PATCH, "/agents", json!({"target": {}})),
        [
            "Missing required field: target.identifier",
            "Missing required field: target.value",
            "Missing required field: updates"
        ]
    );
    assert_eq!(
        item_problems(Method::POST, "/agents/offboard", json!({})),
        [
            "Missing required field: identifier",
            "Missing required field: value"
        ]
    );
    assert_eq!(
        item_problems(Method::POST, "/inboxes", json!({"type": "supervised"})),
        [
            "Missing required field: name",
            "Missing required field: phone_number",
            "owner is required for a supervised inbox",
            "Missing required field: users"
        ]
    );
    assert_eq!(
        item_problems(
            Method::POST,
            "/inboxes/assignments",
            json!({"inbox": {}, "agents": {}})
        ),
        [
            "Missing required field: inbox.type",
            "Missing required field: inbox.identifier",
            "Missing required field: inbox.value",
            "Missing required field: agents.identifier",
            "Missing required field: agents.values",
            "Missing required field: operation"
        ]
    );
}

#[test]
fn a_number_where_a_string_belongs_is_refused() {
    assert_eq!(
        onboard_problems(json!({"user_object_id": 1, "tenant_id": "t", "name": "n", "upn": 2})),
        ["user_object_id must be a string", "upn must be a string"]
    );
    let update = json!({"target": {"identifier": "upn", "value": 3}, "updates": {"department": 4}});
    assert_eq!(
        item_problems(Method::PATCH, "/agents", update),
        [
            "target.value must be a string",
            "updates.department must be a string"
        ]
    );
}

#[test]
fn a_string_where_a_list_belongs_is_refused() {
    let mut agent = new_agent("u");
    agent["roles"] = json!("member");
    agent["number_provisioning"] = json!({"type": "messaging"});
    assert_eq!(
        onboard_problems(agent),
        ["roles must be a list", "number_provisioning must be a list"]
    );
    assert_eq!(
        item_problems(
            Method::POST,
            "/agents/offboard",
            json!({"identifier": "upn", "value": "a@x.tld"})
        ),
        ["value must be a list"]
    );
    let inbox = json!({"name": "S", "type": "shared", "phone_number": NUMBER,
        "users": {"identifier": "upn", "values": ["a@x.tld", 5]}});
    assert_eq!(
        item_problems(Method::POST, "/inboxes", inbox),
        ["users.values[1] must be a string"]
    );
}

#[test]
fn an_object_field_given_as_something_else_is_refused() {
    let update = json!({"target": "a", "updates": []});
    assert_eq!(
        item_problems(Method::PATCH, "/agents", update),
        ["target must be an object", "updates must be an object"]
    );
    let mut agent = new_agent("u");
    agent["enabled_services"] = json!(true);
    agent["number_provisioning"] = json!(["+15550100000"]);
    assert_eq!(
        onboard_problems(agent),
        [
            "number_provisioning[0] must be an object",
            "enabled_services must be an object"
        ]
    );
}

fn update_with(updates: Value) -> (u16, Value) {
    let item =
        json!([{"target": {"identifier": "user_object_id", "value": "a"}, "updates": updates}]);
    send(&mut account(), Method::PATCH, "/agents", item)
}

#[test]
fn active_is_a_boolean_or_the_string_true_or_false_and_nothing_else() {
    for active in [json!(true), json!("true"), json!(false), json!("false")] {
        let (status, body) = update_with(json!({"active": active}));
        assert_eq!(status, 200, "{active}");
        assert_eq!(
            body["result"][0]["active"],
            active.as_bool().unwrap_or(active == "true")
        );
    }
    for active in [json!("TRUE"), json!("yes"), json!(1)] {
        let (status, body) = update_with(json!({"active": active}));
        assert_eq!(status, 400, "{active}");
        assert_eq!(
            body["errors"][0]["errors"],
            json!([r#"updates.active must be a boolean or "true"/"false""#])
        );
    }
    let (status, _) = send(
        &mut account(),
        Method::PATCH,
        "/agents/a",
        json!({"active": "false"}),
    );
    assert_eq!(status, 200);
}

#[test]
fn values_outside_the_reference_lists_are_refused() {
    let mut agent = new_agent("u");
    agent["number_provisioning"] = json!([{"type": "fax", "phone_number": NUMBER}]);
    assert_eq!(
        onboard_problems(agent),
        [r#"Invalid number_provisioning[0].type: "fax" is not one of supervised, messaging"#]
    );
    let (_, body) = update_with(json!({"roles": {"assign": ["owner"], "remove": ["Member"]}}));
    assert_eq!(
        body["errors"][0]["errors"],
        json!([
            r#"Invalid updates.roles.assign[0]: "owner" is not one of member, manager, admin"#,
            r#"Invalid updates.roles.remove[0]: "Member" is not one of member, manager, admin"#
        ])
    );
    let inbox = json!({"name": "S", "type": "private", "phone_number": NUMBER,
        "users": {"identifier": "upn", "values": []}});
    assert_eq!(
        item_problems(Method::POST, "/inboxes", inbox),
        [r#"Invalid type: "private" is not one of shared, supervised"#]
    );
    let assignment = json!({"inbox": {"type": "shared", "identifier": "phone_number", "value": NUMBER},
        "agents": {"identifier": "upn", "values": ["a@x.tld"]}, "operation": "move"});
    assert_eq!(
        item_problems(Method::POST, "/inboxes/assignments", assignment),
        [r#"Invalid operation: "move" is not one of add, remove"#]
    );
}

#[test]
fn identifiers_are_those_each_endpoint_allows() {
    let update = json!({"target": {"identifier": "tenant_id", "value": "t"}, "updates": {}});
    assert_eq!(
        item_problems(Method::PATCH, "/agents", update),
        [
            r#"Invalid target.identifier: "tenant_id" is not one of user_object_id, consistency_id, upn"#
        ]
    );
    let mut by_tenant = account();
    let offboard = json!([{"identifier": "tenant_id", "value": ["t"]}]);
    assert_eq!(
        send(&mut by_tenant, Method::POST, "/agents/offboard", offboard).0,
        200
    );
    assert!(by_tenant.agents.is_empty());
    assert_eq!(
        item_problems(
            Method::POST,
            "/agents/offboard",
            json!({"identifier": "phone_number", "value": [NUMBER]})
        ),
        [
            r#"Invalid identifier: "phone_number" is not one of user_object_id, tenant_id, consistency_id, upn"#
        ]
    );
    let mut agent = new_agent("u");
    agent["number_provisioning"] = json!([{"type": "supervised", "phone_number": NUMBER,
        "supervisors": {"identifier": "tenant_id", "values": ["t"]}}]);
    assert_eq!(
        onboard_problems(agent),
        [
            r#"Invalid number_provisioning[0].supervisors.identifier: "tenant_id" is not one of user_object_id, consistency_id, upn"#
        ]
    );
    let shared_by_owner = json!({"inbox": {"type": "shared", "identifier": "upn", "value": "a@x.tld"},
        "agents": {"identifier": "upn", "values": ["b@x.tld"]}, "operation": "add"});
    assert_eq!(
        item_problems(Method::POST, "/inboxes/assignments", shared_by_owner),
        [r#"Invalid inbox.identifier: "upn" is not one of phone_number"#]
    );
    let supervised_by_number = json!({"inbox": {"type": "supervised", "identifier": "phone_number", "value": NUMBER},
        "agents": {"identifier": "upn", "values": ["b@x.tld"]}, "operation": "add"});
    assert_eq!(
        item_problems(Method::POST, "/inboxes/assignments", supervised_by_number),
        [
            r#"Invalid inbox.identifier: "phone_number" is not one of user_object_id, consistency_id, upn"#
        ]
    );
}

#[test]
fn phone_numbers_must_be_e164() {
    for good in ["+12", "+123456789012345", "+15550100000"] {
        assert!(is_e164(good), "{good}");
    }
    for bad in [
        "+1",
        "+1234567890123456",
        "+0123",
        "15550100000",
        "+1 555",
        "+1555a",
        "",
    ] {
        assert!(!is_e164(bad), "{bad}");
    }
    let inbox = json!({"name": "S", "type": "shared", "phone_number": "5550100000",
        "users": {"identifier": "upn", "values": []}});
    assert_eq!(
        item_problems(Method::POST, "/inboxes", inbox),
        [INVALID_PHONE_NUMBER]
    );
    let (_, body) = update_with(json!({"phone_number": [{"type": "messaging", "value": "+0"}]}));
    assert_eq!(body["errors"][0]["errors"], json!([INVALID_PHONE_NUMBER]));
    let assignment = json!({"inbox": {"type": "shared", "identifier": "phone_number", "value": "555"},
        "agents": {"identifier": "upn", "values": ["a@x.tld"]}, "operation": "add"});
    assert_eq!(
        item_problems(Method::POST, "/inboxes/assignments", assignment),
        [INVALID_PHONE_NUMBER]
    );
    assert_eq!(
        call(
            &mut account(),
            Method::GET,
            "/agents?phone_number=5550100000",
            ""
        ),
        (
            400,
            json!({"message": "Listing agents failed", "errors": [INVALID_PHONE_NUMBER]})
        )
    );
}

#[test]
fn number_provisioning_has_at_most_one_entry_per_type_and_supervisors_only_on_supervised() {
    let mut agent = new_agent("u");
    agent["number_provisioning"] = json!([
        {"type": "messaging", "phone_number": NUMBER, "supervisors": {"identifier": "upn", "values": ["a@x.tld"]}},
        {"type": "messaging", "phone_number": "+15550100001"},
        {"type": "supervised", "phone_number": "+15550100002"}
    ]);
    assert_eq!(
        onboard_problems(agent),
        [
            "number_provisioning can have at most two elements",
            "supervisors can only be used with a supervised number",
            "Only one messaging number can be provisioned"
        ]
    );
    let (_, body) = update_with(json!({"phone_number": [
        {"type": "supervised", "value": NUMBER}, {"type": "supervised", "value": "+15550100001"}
    ]}));
    assert_eq!(
        body["errors"][0]["errors"],
        json!(["Only one supervised number can be assigned"])
    );
}

#[test]
fn unknown_fields_and_null_optional_fields_are_tolerated() {
    let mut agent = new_agent("u");
    agent["favourite_colour"] = json!("teal");
    agent["upn"] = Value::Null;
    agent["enabled_services"] = json!({"messages": true, "fax": "yes"});
    let mut account = account();
    assert_eq!(
        send(&mut account, Method::POST, "/agents", json!([agent])).0,
        200
    );
    assert_eq!(account.agents[2].upn, None);
}

#[test]
fn assignments_read_vlaues_as_well_as_values_but_not_both() {
    let mut account = account();
    let inbox = json!([{"name": "Desk", "type": "shared", "phone_number": NUMBER,
        "users": {"identifier": "upn", "values": []}}]);
    assert_eq!(send(&mut account, Method::POST, "/inboxes", inbox).0, 200);
    let assignment = |agents: Value| {
        json!([{"inbox": {"type": "shared", "identifier": "phone_number", "value": NUMBER},
            "agents": agents, "operation": "add"}])
    };
    for agents in [
        json!({"identifier": "upn", "values": ["a@x.tld"]}),
        json!({"identifier": "upn", "vlaues": ["b@x.tld"]}),
    ] {
        let answer = send(
            &mut account,
            Method::POST,
            "/inboxes/assignments",
            assignment(agents),
        );
        assert_eq!(answer.0, 200, "{answer:?}");
    }
    assert_eq!(account.inboxes[0].members, ["a", "b"]);
    let both = json!({"identifier": "upn", "values": ["a@x.tld"], "vlaues": ["b@x.tld"]});
    let (_, body) = send(
        &mut account,
        Method::POST,
        "/inboxes/assignments",
        assignment(both),
    );
    assert_eq!(
        body["errors"][0]["errors"],
        json!(["agents: give values or vlaues, not both"])
    );
}

#[test]
fn a_misspelled_key_elsewhere_leaves_the_required_one_missing() {
    let inbox = json!({"name": "S", "type": "shared", "phone_number": NUMBER,
        "users": {"identifier": "upn", "vlaues": ["a@x.tld"]}});
    assert_eq!(
        item_problems(Method::POST, "/inboxes", inbox),
        ["Missing required field: users.values"]
    );
}
