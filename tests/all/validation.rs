//! Bad input through the real component: a typed `invalid-input` naming each item and field,
//! and not a single request sent (not even authenticate).

use crate::common::*;
use smartcomm_host::{CallError, types};
use types::{IdentifierKind, InboxType, KeyId, NumberType};

fn problems<T: std::fmt::Debug>(result: Result<T, CallError>) -> Vec<(Option<u32>, String)> {
    match result {
        Err(CallError::Api(types::Error::InvalidInput(problems))) => {
            problems.into_iter().map(|p| (p.index, p.field)).collect()
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[tokio::test]
async fn every_operation_refuses_bad_input_without_sending_anything() {
    let (emulator, mut session) = setup().await;

    let mut bad_number = new_agent("b");
    bad_number.number_provisioning = vec![
        provision(NumberType::Messaging, "+1 555 0100"),
        provision(NumberType::Messaging, "+15550100001"),
        provision(NumberType::Supervised, "+15550100002"),
    ];
    let mut no_name = new_agent("c");
    no_name.name = String::new();
    assert_eq!(
        problems(
            session
                .onboard_agents(
                    vec![new_agent("a"), bad_number, no_name],
                    onboard_options(None)
                )
                .await
        ),
        vec![
            (Some(1), "number_provisioning".into()),
            (Some(1), "number_provisioning[0].phone_number".into()),
            (Some(1), "number_provisioning[1].type".into()),
            (Some(2), "name".into()),
        ]
    );

    assert_eq!(
        problems(session.get_agent("a".into(), Some(KeyId::Id), None).await),
        vec![(None, "key_id".into())]
    );
    assert_eq!(
        problems(
            session
                .update_agent("a".into(), Some(KeyId::Upn), empty_changes())
                .await
        ),
        vec![(None, "key_id".into()), (None, "changes".into())]
    );
    assert_eq!(
        problems(session.offboard_agent("".into(), None, None).await),
        vec![(None, "agent_id".into())]
    );
    let mut filter = no_filter();
    filter.phone_number = Some("5550100".into());
    assert_eq!(
        problems(session.list_agents(filter).await),
        vec![(None, "phone_number".into())]
    );

    let update = types::AgentUpdate {
        target: types::AgentRef {
            identifier: IdentifierKind::PhoneNumber,
            value: "+15550100000".into(),
        },
        updates: empty_changes(),
    };
    assert_eq!(
        problems(
            session
                .update_agents(vec![update], update_options(None))
                .await
        ),
        vec![
            (Some(0), "target.identifier".into()),
            (Some(0), "updates".into())
        ]
    );
    assert_eq!(
        problems(
            session
                .offboard_agents(
                    vec![
                        selector(IdentifierKind::Upn, &["x@example.com"]),
                        selector(IdentifierKind::PhoneNumber, &["+15550100000"])
                    ],
                    types::OffboardOptions {
                        continue_on_error: None,
                        deprovision_supervised_inbox: None,
                    },
                )
                .await
        ),
        vec![(Some(1), "identifier".into())]
    );
    let supervised_without_owner = types::NewInbox {
        name: "S".into(),
        type_: InboxType::Supervised,
        phone_number: "+15550100003".into(),
        owner: None,
        users: selector(IdentifierKind::UserObjectId, &["a"]),
    };
    assert_eq!(
        problems(
            session
                .create_inboxes(vec![supervised_without_owner], create_options(None))
                .await
        ),
        vec![(Some(0), "owner".into())]
    );
    let bad_assignment = types::Assignment {
        inbox: types::InboxRef {
            type_: InboxType::Shared,
            identifier: IdentifierKind::Upn,
            value: "x@example.com".into(),
        },
        agents: selector(IdentifierKind::UserObjectId, &[]),
        operation: types::AssignmentOperation::Add,
    };
    assert_eq!(
        problems(session.assign_inboxes(vec![bad_assignment]).await),
        vec![
            (Some(0), "inbox.identifier".into()),
            (Some(0), "agents.values".into())
        ]
    );
    assert_eq!(
        problems(
            session
                .list_numbers(None, Some("12345678901234".into()))
                .await
        ),
        vec![(None, "match".into())]
    );

    assert!(emulator.requests().is_empty(), "{:?}", emulator.requests());
}

#[tokio::test]
async fn a_bad_config_is_invalid_input_on_every_call_and_sends_nothing() {
    let emulator = emulator().await;
    let mut config = config(&emulator, "");
    config.api_url = Some("not a url".into());
    let mut session = runtime().session(config);
    assert_eq!(
        problems(session.list_numbers(None, None).await),
        vec![(None, "api_url".into()), (None, "customer_id".into())]
    );
    assert_eq!(problems(session.authenticate().await).len(), 2);
    assert!(emulator.requests().is_empty());
}
