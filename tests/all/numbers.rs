//! Phone numbers end to end: the pool as onboarding and inboxes use it.

use crate::common::*;
use smartcomm_host::{CallError, types};
use types::NumberStatus;

#[tokio::test]
async fn numbers_list_by_status_with_their_assignee() {
    let (_emulator, mut session) = setup().await;
    let all = session.list_numbers(None, None).await.unwrap();
    assert_eq!(all.len(), 100);
    assert!(
        all.iter()
            .all(|n| n.status == Some(NumberStatus::Active) && n.assigned_to.is_none())
    );

    let mut a = new_agent("a");
    a.number_provisioning = vec![provision(types::NumberType::Messaging, &seeded_number(10))];
    session
        .onboard_agents(vec![a], onboard_options(None))
        .await
        .unwrap();
    let assigned = session
        .list_numbers(Some(NumberStatus::Assigned), None)
        .await
        .unwrap();
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0].number, seeded_number(10));
    let assignee = assigned[0].assigned_to.clone().unwrap();
    assert_eq!(assignee.user_object_id.as_deref(), Some("a"));
    assert_eq!(assignee.upn.as_deref(), Some("a@example.com"));
    assert_eq!(
        session
            .list_numbers(Some(NumberStatus::Active), None)
            .await
            .unwrap()
            .len(),
        99
    );
}

#[tokio::test]
async fn match_keeps_numbers_containing_the_digits_and_is_sent_as_given() {
    let (emulator, mut session) = setup().await;
    let numbers = session
        .list_numbers(None, Some("0100042".into()))
        .await
        .unwrap();
    assert_eq!(numbers.len(), 1);
    assert_eq!(numbers[0].number, seeded_number(42));
    let last = api_requests(&emulator).pop().unwrap();
    assert_eq!(last.query, "match=0100042");
    let both = session
        .list_numbers(Some(NumberStatus::Active), Some("999".into()))
        .await
        .unwrap();
    assert!(both.is_empty());
    assert_eq!(
        api_requests(&emulator).pop().unwrap().query,
        "status=active&match=999"
    );
}

#[tokio::test]
async fn a_bad_match_is_invalid_input_and_nothing_is_sent() {
    let (emulator, mut session) = setup().await;
    for bad in ["", "123456789012", "12-34"] {
        match session.list_numbers(None, Some(bad.into())).await {
            Err(CallError::Api(types::Error::InvalidInput(problems))) => {
                assert_eq!(problems[0].field, "match")
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(emulator.requests().is_empty());
}
