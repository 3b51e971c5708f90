//! Inboxes end to end: creation and assignments against the emulator's state.

use crate::common::*;
use smartcomm_host::types;
use types::{IdentifierKind, InboxType, ItemOutcome};

fn shared_inbox(name: &str, number: &str, users: &[&str]) -> types::NewInbox {
    types::NewInbox {
        name: name.into(),
        type_: InboxType::Shared,
        phone_number: number.into(),
        owner: None,
        users: selector(IdentifierKind::UserObjectId, users),
    }
}

fn assignment(
    inbox: types::InboxRef,
    agents: &[&str],
    operation: types::AssignmentOperation,
) -> types::Assignment {
    types::Assignment {
        inbox,
        agents: selector(IdentifierKind::UserObjectId, agents),
        operation,
    }
}

fn shared_ref(number: &str) -> types::InboxRef {
    types::InboxRef {
        type_: InboxType::Shared,
        identifier: IdentifierKind::PhoneNumber,
        value: number.into(),
    }
}

#[tokio::test]
async fn a_shared_inbox_shows_on_its_members_a_repeat_converges_and_a_clash_is_rejected() {
    let (emulator, mut session) = setup().await;
    session
        .onboard_agents(vec![new_agent("a"), new_agent("b")], onboard_options(None))
        .await
        .unwrap();
    let inbox = shared_inbox("Front desk", &seeded_number(9), &["a", "b"]);
    let outcomes = session
        .create_inboxes(vec![inbox.clone()], create_options(None))
        .await
        .unwrap();
    assert_eq!(outcomes, vec![ItemOutcome::Succeeded]);
    let agent = session.get_agent("b".into(), None, None).await.unwrap();
    assert_eq!(agent.shared_inboxes.len(), 1);
    assert_eq!(agent.shared_inboxes[0].name.as_deref(), Some("Front desk"));
    assert_eq!(agent.shared_inboxes[0].phone_number, Some(seeded_number(9)));

    let sent = api_requests(&emulator)
        .into_iter()
        .find(|r| r.route == "POST /inboxes")
        .unwrap();
    assert_eq!(sent.route, "POST /inboxes");
    assert_eq!(
        sent.body[0]["users"]["values"],
        serde_json::json!(["a", "b"])
    );
    assert!(sent.body[0].get("owner").is_none());

    // The same inbox again: the API says it exists, the members show it: already done.
    let again = session
        .create_inboxes(vec![inbox.clone()], create_options(None))
        .await
        .unwrap();
    assert_eq!(
        again,
        vec![ItemOutcome::AlreadyDone(
            "already created with these settings".into()
        )]
    );
    // Another inbox on the same number: a genuine conflict.
    let mut clash = inbox;
    clash.name = "Back office".into();
    let outcome = session
        .create_inboxes(vec![clash], create_options(None))
        .await
        .unwrap();
    match &outcome[0] {
        ItemOutcome::Rejected(messages) => assert_eq!(messages[0], "Inbox already exists"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_supervised_inbox_has_its_owner_and_the_owner_sees_the_supervisors() {
    let (emulator, mut session) = setup().await;
    session
        .onboard_agents(
            vec![new_agent("owner"), new_agent("sup")],
            onboard_options(None),
        )
        .await
        .unwrap();
    let inbox = types::NewInbox {
        name: "Owner's inbox".into(),
        type_: InboxType::Supervised,
        phone_number: seeded_number(4),
        owner: Some(types::AgentRef {
            identifier: IdentifierKind::Upn,
            value: "owner@example.com".into(),
        }),
        users: selector(IdentifierKind::UserObjectId, &["owner", "sup"]),
    };
    assert!(succeeded(
        &session
            .create_inboxes(vec![inbox], create_options(None))
            .await
            .unwrap()
    ));
    let owner = session.get_agent("owner".into(), None, None).await.unwrap();
    assert_eq!(owner.supervisors.len(), 1);
    assert_eq!(owner.supervisors[0].user_object_id.as_deref(), Some("sup"));
    assert_eq!(owner.phone_numbers[0].type_, types::NumberType::Supervised);
    let account = emulator.account(CUSTOMER);
    assert_eq!(account.inboxes[0].owner.as_deref(), Some("owner"));
}

#[tokio::test]
async fn create_without_continue_on_error_stops_at_the_first_rejected_inbox() {
    let (emulator, mut session) = setup().await;
    session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await
        .unwrap();
    let batch = vec![
        shared_inbox("One", &seeded_number(1), &["a"]),
        shared_inbox("Two", &seeded_number(2), &["ghost"]),
        shared_inbox("Three", &seeded_number(3), &["a"]),
    ];
    let outcomes = session
        .create_inboxes(batch.clone(), create_options(None))
        .await
        .unwrap();
    assert_eq!(outcomes[0], ItemOutcome::Succeeded);
    assert!(matches!(&outcomes[1], ItemOutcome::Rejected(m) if m[0].contains("ghost")));
    assert_eq!(outcomes[2], ItemOutcome::NotAttempted);
    assert_eq!(emulator.account(CUSTOMER).inboxes.len(), 1);

    let outcomes = session
        .create_inboxes(batch[1..].to_vec(), create_options(Some(true)))
        .await
        .unwrap();
    assert!(matches!(outcomes[0], ItemOutcome::Rejected(_)));
    assert_eq!(outcomes[1], ItemOutcome::Succeeded);
    assert_eq!(emulator.account(CUSTOMER).inboxes.len(), 2);
}

#[tokio::test]
async fn assignments_add_and_remove_members_of_shared_and_supervised_inboxes() {
    let (emulator, mut session) = setup().await;
    let mut owner = new_agent("owner");
    owner.number_provisioning = vec![provision(types::NumberType::Supervised, &seeded_number(2))];
    session
        .onboard_agents(
            vec![owner, new_agent("a"), new_agent("b")],
            onboard_options(None),
        )
        .await
        .unwrap();
    session
        .create_inboxes(
            vec![shared_inbox("Desk", &seeded_number(8), &["a"])],
            create_options(None),
        )
        .await
        .unwrap();
    use types::AssignmentOperation::{Add, Remove};
    let supervised = types::InboxRef {
        type_: InboxType::Supervised,
        identifier: IdentifierKind::ConsistencyId,
        value: "cid-owner".into(),
    };
    let outcomes = session
        .assign_inboxes(vec![
            assignment(shared_ref(&seeded_number(8)), &["b"], Add),
            assignment(supervised.clone(), &["a", "b"], Add),
            assignment(shared_ref(&seeded_number(8)), &["a"], Remove),
        ])
        .await
        .unwrap();
    assert!(succeeded(&outcomes), "{outcomes:?}");
    let account = emulator.account(CUSTOMER);
    let desk = account.inboxes.iter().find(|i| i.name == "Desk").unwrap();
    assert_eq!(desk.members, vec!["b".to_string()]);
    let owner = session.get_agent("owner".into(), None, None).await.unwrap();
    let supervisors: Vec<_> = owner
        .supervisors
        .iter()
        .filter_map(|s| s.user_object_id.clone())
        .collect();
    assert_eq!(supervisors, vec!["a".to_string(), "b".to_string()]);

    let outcomes = session
        .assign_inboxes(vec![assignment(supervised, &["a"], Remove)])
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
    let sent = api_requests(&emulator).pop().unwrap();
    assert_eq!(sent.route, "POST /inboxes/assignments");
    assert_eq!(
        sent.body[0]["agents"],
        serde_json::json!({"identifier": "user_object_id", "values": ["a"]})
    );
    assert_eq!(sent.body[0]["operation"], "remove");
    assert_eq!(sent.query, "", "the endpoint takes no continueOnError");
}

#[tokio::test]
async fn an_assignment_to_a_missing_inbox_is_rejected_and_ends_the_batch() {
    let (_emulator, mut session) = setup().await;
    session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await
        .unwrap();
    let outcomes = session
        .assign_inboxes(vec![
            assignment(
                shared_ref("+19999999999"),
                &["a"],
                types::AssignmentOperation::Add,
            ),
            assignment(
                shared_ref("+19999999998"),
                &["a"],
                types::AssignmentOperation::Add,
            ),
        ])
        .await
        .unwrap();
    assert_eq!(
        outcomes[0],
        ItemOutcome::Rejected(vec!["Target inbox not found".into()])
    );
    assert_eq!(outcomes[1], ItemOutcome::NotAttempted);
}
