use crate::error::Problem;
use crate::model::*;
use crate::validate::{self, is_e164};

fn agent(uoid: &str) -> NewAgent {
    NewAgent {
        user_object_id: uoid.into(),
        tenant_id: "tenant".into(),
        name: "Agent".into(),
        ..Default::default()
    }
}

fn provision(number_type: NumberType, number: &str) -> NumberProvisioning {
    NumberProvisioning {
        number_type,
        phone_number: number.into(),
        supervisors: None,
    }
}

fn fields(result: Result<(), Vec<Problem>>) -> Vec<(Option<usize>, String)> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.index, p.field))
        .collect()
}

#[test]
fn e164_accepts_plus_and_2_to_15_digits_not_starting_with_zero() {
    for ok in ["+12", "+11234567890", "+123456789012345"] {
        assert!(is_e164(ok), "{ok}");
    }
    for bad in [
        "",
        "+",
        "+1",
        "12345678901",
        "+0123456789",
        "+1234567890123456",
        "+1 234",
        "+1-234",
        "+١٢٣",
    ] {
        assert!(!is_e164(bad), "{bad}");
    }
}

#[test]
fn onboard_requires_user_object_id_tenant_and_name_naming_each_item() {
    let mut second = agent("");
    second.name = " ".into();
    let problems = fields(validate::onboard_agents(&[agent("a"), second]));
    assert_eq!(
        problems,
        vec![(Some(1), "user_object_id".into()), (Some(1), "name".into())]
    );
}

#[test]
fn onboard_rejects_more_than_two_numbers_and_two_of_a_type() {
    let mut a = agent("a");
    a.number_provisioning = vec![
        provision(NumberType::Messaging, "+12345678901"),
        provision(NumberType::Messaging, "+12345678902"),
        provision(NumberType::Supervised, "+12345678903"),
    ];
    let problems = fields(validate::onboard_agents(&[a]));
    assert!(
        problems.contains(&(Some(0), "number_provisioning".into())),
        "{problems:?}"
    );
    assert!(
        problems.contains(&(Some(0), "number_provisioning[1].type".into())),
        "{problems:?}"
    );
}

#[test]
fn onboard_rejects_bad_numbers_and_supervisors_on_messaging() {
    let mut a = agent("a");
    let mut messaging = provision(NumberType::Messaging, "5550100");
    messaging.supervisors = Some(Selector {
        identifier: IdentifierKind::UserObjectId,
        values: vec!["s".into()],
    });
    a.number_provisioning = vec![messaging];
    let problems = fields(validate::onboard_agents(&[agent("ok"), a]));
    assert_eq!(
        problems,
        vec![
            (Some(1), "number_provisioning[0].phone_number".into()),
            (Some(1), "number_provisioning[0].supervisors".into()),
        ]
    );
}

#[test]
fn onboard_supervisors_must_be_agent_identifiers_with_values() {
    let mut a = agent("a");
    let mut supervised = provision(NumberType::Supervised, "+12345678901");
    supervised.supervisors = Some(Selector {
        identifier: IdentifierKind::TenantId,
        values: vec![],
    });
    a.number_provisioning = vec![supervised];
    let problems = fields(validate::onboard_agents(&[a]));
    assert_eq!(
        problems,
        vec![
            (
                Some(0),
                "number_provisioning[0].supervisors.identifier".into()
            ),
            (Some(0), "number_provisioning[0].supervisors.values".into()),
        ]
    );
}

#[test]
fn a_supervisor_onboarded_later_in_the_same_call_is_refused_naming_both_items() {
    let supervised_by = |uoid: &str, identifier, supervisor: &str| {
        let mut a = agent(uoid);
        let mut number = provision(NumberType::Supervised, "+12345678901");
        number.supervisors = Some(Selector {
            identifier,
            values: vec![supervisor.into()],
        });
        a.number_provisioning = vec![number];
        a
    };
    let mut boss = agent("boss");
    boss.upn = Some("boss@example.com".into());
    let mut agents: Vec<NewAgent> = (0..15).map(|i| agent(&format!("a{i}"))).collect();
    agents[3] = supervised_by("a3", IdentifierKind::Upn, "boss@example.com");
    agents[14] = boss.clone();
    let problems = validate::onboard_agents(&agents).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(
        (problems[0].index, problems[0].field.as_str()),
        (Some(3), "number_provisioning[0].supervisors")
    );
    assert!(
        problems[0].message.contains("boss@example.com") && problems[0].message.contains("item 14"),
        "{}",
        problems[0].message
    );
    // Listed first, the supervisor is onboarded first: accepted.
    agents.swap(3, 14);
    agents[3] = boss;
    agents[14] = supervised_by("a3", IdentifierKind::Upn, "boss@example.com");
    assert!(validate::onboard_agents(&agents).is_ok());
}

#[test]
fn onboard_flags_a_user_object_id_repeated_in_the_same_call() {
    let problems = validate::onboard_agents(&[agent("a"), agent("b"), agent("a")]).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].index, Some(2));
    assert!(
        problems[0].message.contains("item 0"),
        "{}",
        problems[0].message
    );
}

#[test]
fn an_empty_batch_is_invalid() {
    assert!(validate::onboard_agents(&[]).is_err());
    assert!(validate::offboard_agents(&[]).is_err());
    assert!(validate::create_inboxes(&[]).is_err());
    assert!(validate::assign_inboxes(&[]).is_err());
    assert!(validate::update_agents(&[]).is_err());
}

#[test]
fn key_id_is_checked_per_endpoint() {
    assert!(validate::get_agent("x", Some(KeyId::Upn), None).is_ok());
    assert_eq!(
        fields(validate::get_agent("x", Some(KeyId::Id), None)),
        vec![(None, "key_id".into())]
    );
    let change = AgentChanges {
        department: Some("Sales".into()),
        ..Default::default()
    };
    assert!(validate::update_agent("x", Some(KeyId::Id), &change).is_ok());
    assert_eq!(
        fields(validate::update_agent("x", Some(KeyId::Upn), &change)),
        vec![(None, "key_id".into())]
    );
    assert!(validate::offboard_agent("x", Some(KeyId::ConsistencyId)).is_ok());
    assert_eq!(
        fields(validate::offboard_agent("x", Some(KeyId::Upn))),
        vec![(None, "key_id".into())]
    );
    assert_eq!(
        fields(validate::get_agent(" ", None, None)),
        vec![(None, "agent_id".into())]
    );
}

#[test]
fn updates_must_change_something_and_use_valid_numbers_and_roles() {
    assert_eq!(
        fields(validate::update_agent("x", None, &AgentChanges::default())),
        vec![(None, "changes".into())]
    );
    let changes = AgentChanges {
        roles: Some(RoleChanges {
            assign: vec![Role::Admin],
            remove: vec![Role::Admin],
        }),
        phone_number: Some(vec![
            PhoneNumber {
                number_type: NumberType::Messaging,
                value: "+1".into(),
            },
            PhoneNumber {
                number_type: NumberType::Messaging,
                value: "+12345678901".into(),
            },
        ]),
        ..Default::default()
    };
    assert_eq!(
        fields(validate::update_agent("x", None, &changes)),
        vec![
            (None, "roles".into()),
            (None, "phone_number[0].value".into()),
            (None, "phone_number[1].type".into()),
        ]
    );
}

#[test]
fn bulk_update_targets_only_agent_identifiers() {
    let update = |identifier| AgentUpdate {
        target: AgentRef {
            identifier,
            value: "v".into(),
        },
        updates: AgentChanges {
            active: Some(false),
            ..Default::default()
        },
    };
    assert!(validate::update_agents(&[update(IdentifierKind::Upn)]).is_ok());
    assert_eq!(
        fields(validate::update_agents(&[
            update(IdentifierKind::Upn),
            update(IdentifierKind::TenantId)
        ])),
        vec![(Some(1), "target.identifier".into())]
    );
}

#[test]
fn offboard_many_accepts_four_identifiers_with_values() {
    let item = |identifier, value: Vec<&str>| OffboardItem {
        identifier,
        value: value.into_iter().map(String::from).collect(),
    };
    for kind in [
        IdentifierKind::UserObjectId,
        IdentifierKind::TenantId,
        IdentifierKind::ConsistencyId,
        IdentifierKind::Upn,
    ] {
        assert!(validate::offboard_agents(&[item(kind, vec!["v"])]).is_ok());
    }
    assert_eq!(
        fields(validate::offboard_agents(&[
            item(IdentifierKind::PhoneNumber, vec!["+12345678901"]),
            item(IdentifierKind::Upn, vec![]),
            item(IdentifierKind::Upn, vec![""]),
        ])),
        vec![
            (Some(0), "identifier".into()),
            (Some(1), "value".into()),
            (Some(2), "value[0]".into()),
        ]
    );
}

fn inbox(inbox_type: InboxType, owner: Option<AgentRef>) -> NewInbox {
    NewInbox {
        name: "Inbox".into(),
        inbox_type,
        phone_number: "+12345678901".into(),
        owner,
        users: Selector {
            identifier: IdentifierKind::UserObjectId,
            values: vec!["u".into()],
        },
    }
}

#[test]
fn supervised_inboxes_need_an_owner_and_shared_ones_take_none() {
    let owner = AgentRef {
        identifier: IdentifierKind::Upn,
        value: "a@b.c".into(),
    };
    assert!(validate::create_inboxes(&[inbox(InboxType::Supervised, Some(owner.clone()))]).is_ok());
    assert!(validate::create_inboxes(&[inbox(InboxType::Shared, None)]).is_ok());
    assert_eq!(
        fields(validate::create_inboxes(&[
            inbox(InboxType::Supervised, None),
            inbox(InboxType::Shared, Some(owner)),
        ])),
        vec![(Some(0), "owner".into()), (Some(1), "owner".into())]
    );
}

#[test]
fn assignments_find_shared_inboxes_by_number_and_supervised_by_owner() {
    let assignment = |inbox_type, identifier, value: &str| Assignment {
        inbox: InboxRef {
            inbox_type,
            identifier,
            value: value.into(),
        },
        agents: Selector {
            identifier: IdentifierKind::UserObjectId,
            values: vec!["u".into()],
        },
        operation: Operation::Add,
    };
    assert!(
        validate::assign_inboxes(&[
            assignment(
                InboxType::Shared,
                IdentifierKind::PhoneNumber,
                "+12345678901"
            ),
            assignment(InboxType::Supervised, IdentifierKind::Upn, "a@b.c"),
        ])
        .is_ok()
    );
    assert_eq!(
        fields(validate::assign_inboxes(&[
            assignment(InboxType::Shared, IdentifierKind::UserObjectId, "u"),
            assignment(
                InboxType::Supervised,
                IdentifierKind::PhoneNumber,
                "+12345678901"
            ),
            assignment(InboxType::Shared, IdentifierKind::PhoneNumber, "12345"),
        ])),
        vec![
            (Some(0), "inbox.identifier".into()),
            (Some(1), "inbox.identifier".into()),
            (Some(2), "inbox.value".into()),
        ]
    );
}

#[test]
fn number_match_is_1_to_11_digits() {
    assert!(validate::list_numbers(Some("5")).is_ok());
    assert!(validate::list_numbers(Some("15550100000")).is_ok());
    for bad in ["", "155501000001", "+1555", "12a"] {
        assert_eq!(
            fields(validate::list_numbers(Some(bad))),
            vec![(None, "match".into())],
            "{bad}"
        );
    }
}

#[test]
fn agent_filter_phone_number_must_be_e164() {
    let filter = AgentFilter {
        phone_number: Some("5550100".into()),
        ..Default::default()
    };
    assert_eq!(
        fields(validate::list_agents(&filter)),
        vec![(None, "phone_number".into())]
    );
}
