//! The step functions as a workflow engine uses them: a fresh instance per call, settings only
//! through the guest's environment, errors that say whether a retry can help.

use crate::common::*;
use smartcomm::config::var as vars;
use smartcomm_emulator::{FaultAction, FaultRule};
use smartcomm_host::{StepCallError, steps, types};
use types::{IdentifierKind, ItemOutcome, NumberType};

#[tokio::test]
async fn the_whole_story_runs_through_steps_each_on_a_fresh_instance() {
    let emulator = emulator().await;
    let mut steps = runtime().steps(&config(&emulator, CUSTOMER));
    let mut ada = new_agent("ada");
    ada.number_provisioning = vec![
        provision(NumberType::Messaging, &seeded_number(0)),
        provision(NumberType::Supervised, &seeded_number(1)),
    ];
    let outcomes = steps
        .onboard_agents(vec![ada, new_agent("grace")], onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));

    let agent = steps
        .get_agent("ada@example.com".into(), Some(types::KeyId::Upn), None)
        .await
        .unwrap();
    assert_eq!(agent.phone_numbers.len(), 2);
    assert_eq!(steps.list_agents(no_filter()).await.unwrap().len(), 2);
    let changes = types::AgentChanges {
        department: Some("Support".into()),
        ..empty_changes()
    };
    let updated = steps
        .update_agent("grace".into(), None, changes.clone())
        .await
        .unwrap();
    assert_eq!(updated.department.as_deref(), Some("Support"));
    let many = steps
        .update_agents(
            vec![types::AgentUpdate {
                target: types::AgentRef {
                    identifier: IdentifierKind::Upn,
                    value: "ada@example.com".into(),
                },
                updates: changes,
            }],
            update_options(None),
        )
        .await
        .unwrap();
    assert!(
        matches!(&many[0], types::UpdateOutcome::Updated(Some(a)) if a.department.as_deref() == Some("Support"))
    );

    let inbox = types::NewInbox {
        name: "Desk".into(),
        type_: types::InboxType::Shared,
        phone_number: seeded_number(2),
        owner: None,
        users: selector(IdentifierKind::UserObjectId, &["ada"]),
    };
    assert!(succeeded(
        &steps
            .create_inboxes(vec![inbox], create_options(None))
            .await
            .unwrap()
    ));
    let assignment = types::Assignment {
        inbox: types::InboxRef {
            type_: types::InboxType::Shared,
            identifier: IdentifierKind::PhoneNumber,
            value: seeded_number(2),
        },
        agents: selector(IdentifierKind::UserObjectId, &["grace"]),
        operation: types::AssignmentOperation::Add,
    };
    assert!(succeeded(
        &steps.assign_inboxes(vec![assignment]).await.unwrap()
    ));
    let assigned = steps
        .list_numbers(Some(types::NumberStatus::Assigned), None)
        .await
        .unwrap();
    assert_eq!(assigned.len(), 3);

    let message = steps
        .offboard_agent("grace".into(), None, None)
        .await
        .unwrap();
    assert_eq!(message, "Agent successfully offboarded");
    let options = types::OffboardOptions {
        continue_on_error: None,
        deprovision_supervised_inbox: Some(true),
    };
    let outcomes = steps
        .offboard_agents(
            vec![selector(IdentifierKind::UserObjectId, &["ada"])],
            options,
        )
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
    assert!(emulator.account(CUSTOMER).agents.is_empty());
    // Every call authenticated for itself: nothing is kept between steps.
    assert_eq!(authentications(&emulator), 10, "one per step");
}

#[tokio::test]
async fn a_missing_customer_id_is_a_permanent_error_naming_it_and_nothing_is_sent() {
    let emulator = emulator().await;
    let env: Vec<(String, String)> = config(&emulator, CUSTOMER)
        .to_env()
        .into_iter()
        .filter(|(k, _)| k != vars::CUSTOMER_ID)
        .collect();
    let mut steps = runtime().steps_with_env(env);
    match steps.list_numbers(None, None).await {
        Err(StepCallError::Step(steps::StepError::PermanentBadSetting(problems))) => {
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].field, "SMARTCOMM_CUSTOMER_ID");
        }
        other => panic!("{other:?}"),
    }
    assert!(emulator.requests().is_empty());
}

#[tokio::test]
async fn error_cases_say_whether_a_retry_can_help() {
    let emulator = emulator().await;
    let mut steps = runtime().steps(&config(&emulator, CUSTOMER));
    let mut bad = new_agent("x");
    bad.number_provisioning = vec![provision(NumberType::Messaging, "555-0100")];
    assert!(matches!(
        steps.onboard_agents(vec![bad], onboard_options(None)).await,
        Err(StepCallError::Step(
            steps::StepError::PermanentInvalidInput(_)
        ))
    ));
    assert!(matches!(
        steps.get_agent("nobody".into(), None, None).await,
        Err(StepCallError::Step(steps::StepError::PermanentNotFound(_)))
    ));
    let mut wrong = config(&emulator, CUSTOMER);
    wrong.auth = smartcomm_host::Auth::Credentials {
        username: emulator.username().into(),
        password: "wrong".into(),
    };
    assert!(matches!(
        runtime().steps(&wrong).list_numbers(None, None).await,
        Err(StepCallError::Step(
            steps::StepError::PermanentUnauthorized(_)
        ))
    ));

    // A batch whose request keeps failing is incomplete (transient), with every outcome.
    emulator.add_fault(FaultRule::new(
        "POST /agents",
        3,
        FaultAction::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
    ));
    match steps
        .onboard_agents(vec![new_agent("a"), new_agent("b")], onboard_options(None))
        .await
    {
        Err(StepCallError::Step(steps::StepError::Incomplete(outcomes))) => {
            assert_eq!(outcomes.len(), 2);
            assert!(
                outcomes
                    .iter()
                    .all(|o| matches!(o, ItemOutcome::Failed(types::Error::ServerError(_))))
            );
        }
        other => panic!("{other:?}"),
    }
    // The engine's retry of the step then completes it.
    let outcomes = steps
        .onboard_agents(vec![new_agent("a"), new_agent("b")], onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
}

#[tokio::test]
async fn an_engine_retry_of_a_step_that_already_ran_converges() {
    let emulator = emulator().await;
    let mut steps = runtime().steps(&config(&emulator, CUSTOMER));
    let batch: Vec<_> = (0..3).map(|i| new_agent(&format!("u{i}"))).collect();
    assert!(succeeded(
        &steps
            .onboard_agents(batch.clone(), onboard_options(None))
            .await
            .unwrap()
    ));
    let again = steps
        .onboard_agents(batch, onboard_options(None))
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .all(|o| matches!(o, ItemOutcome::AlreadyDone(_))),
        "{again:?}"
    );
    let selectors = vec![selector(IdentifierKind::UserObjectId, &["u0", "u1", "u2"])];
    let options = types::OffboardOptions {
        continue_on_error: None,
        deprovision_supervised_inbox: None,
    };
    assert!(succeeded(
        &steps
            .offboard_agents(selectors.clone(), options)
            .await
            .unwrap()
    ));
    let again = steps.offboard_agents(selectors, options).await.unwrap();
    assert_eq!(
        again,
        vec![ItemOutcome::AlreadyDone("already offboarded".into())]
    );
    assert_eq!(emulator.account(CUSTOMER).agents.len(), 0);
}
