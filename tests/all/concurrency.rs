//! Bulk operations with several requests in flight: each agent applied once, every outcome at
//! its index, one token for all the instances, dependencies between chunks kept, and a limit
//! that backs off when the API throttles.

use crate::common::*;
use smartcomm_emulator::{Emulator, EmulatorOptions, FaultAction, FaultRule, RandomFaults};
use smartcomm_host::{Session, types};
use std::collections::HashSet;
use std::time::Duration;

async fn emulator_with(max_in_flight: Option<usize>, latency_ms: u64) -> Emulator {
    Emulator::start(EmulatorOptions {
        max_in_flight,
        latency: Duration::from_millis(latency_ms),
        ..Default::default()
    })
    .await
    .expect("the emulator starts")
}

fn session(emulator: &Emulator, concurrency: usize) -> Session {
    let mut config = config(emulator, CUSTOMER);
    // Quick retries for the faults of the soak; the 429s of a throttled burst are the host's
    // to absorb, not the retry policy's.
    config.retry.base_delay_ms = 10;
    runtime().session(config).with_concurrency(concurrency)
}

fn agents(prefix: &str, n: usize) -> Vec<types::NewAgent> {
    (0..n).map(|i| new_agent(&format!("{prefix}{i}"))).collect()
}

fn authenticates(emulator: &Emulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.route.ends_with("/authenticate"))
        .count()
}

fn onboarded(emulator: &Emulator) -> Vec<String> {
    emulator
        .account(CUSTOMER)
        .agents
        .iter()
        .map(|a| a.user_object_id.clone())
        .collect()
}

#[tokio::test]
async fn at_concurrency_8_against_an_api_taking_3_in_flight_250_agents_are_each_onboarded_once() {
    let emulator = emulator_with(Some(3), 20).await;
    let mut session = session(&emulator, 8);
    // One agent that exists already with other values, so that an outcome other than
    // success shows it sits at its own index.
    let mut existing = new_agent("a137");
    existing.name = "Someone else".into();
    let mut seed = runtime().session(config(&emulator, CUSTOMER));
    assert!(succeeded(
        &seed
            .onboard_agents(vec![existing], onboard_options(None))
            .await
            .unwrap()
    ));
    emulator.clear_requests();

    let outcomes = session
        .onboard_agents(agents("a", 250), onboard_options(Some(true)))
        .await
        .unwrap();

    assert_eq!(outcomes.len(), 250);
    for (i, outcome) in outcomes.iter().enumerate() {
        match (i, outcome) {
            (137, types::ItemOutcome::Rejected(_)) => {}
            (137, other) => panic!("a137 existed with other values: {other:?}"),
            (_, types::ItemOutcome::Succeeded) => {}
            (i, other) => panic!("agent {i}: {other:?}"),
        }
    }
    let ids = onboarded(&emulator);
    assert_eq!(ids.len(), 250);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        250,
        "an agent twice"
    );
    assert_eq!(authenticates(&emulator), 1, "one token for every instance");
    assert!(emulator.throttled() > 0, "the burst met the API's limit");
    assert_eq!(session.throttled(), emulator.throttled());
    let path = session.concurrency_path();
    assert_eq!(path[0], 8);
    assert!(path.iter().any(|&limit| limit <= 3), "limit path {path:?}");
    // Every request the API applied was a different chunk: 25 applied onboard requests.
    let applied = api_requests(&emulator).len() as u64 - emulator.throttled();
    assert_eq!(applied, 25 + 1, "25 chunks and the read-back of a137");
}

#[tokio::test]
async fn a_chunk_waits_for_the_earlier_chunk_that_onboards_its_supervisor() {
    let emulator = emulator_with(None, 5).await;
    let mut session = session(&emulator, 4);
    let mut batch = agents("s", 40);
    // Agents 30..39 have supervised inboxes supervised by agent 0, in the first chunk.
    for (i, agent) in batch.iter_mut().enumerate().skip(30) {
        let mut number = provision(types::NumberType::Supervised, &seeded_number(i));
        number.supervisors = Some(selector(types::IdentifierKind::UserObjectId, &["s0"]));
        agent.number_provisioning = vec![number];
    }
    // The first request to arrive, the supervisor's, is turned away once and retried, so the
    // chunks sent beside it are applied before it is.
    emulator.add_fault(FaultRule {
        route: "POST /agents".into(),
        times: 1,
        action: FaultAction::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
    });
    let outcomes = session
        .onboard_agents(batch, onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes), "{outcomes:?}");
    assert_eq!(onboarded(&emulator).len(), 40);
}

#[tokio::test]
async fn a_token_revoked_mid_run_costs_one_authenticate_for_all_the_instances() {
    let emulator = emulator_with(None, 10).await;
    let mut session = session(&emulator, 4);
    emulator.add_fault(FaultRule {
        route: "POST /agents".into(),
        times: 1,
        action: FaultAction::RevokeTokens,
    });
    let outcomes = session
        .onboard_agents(agents("r", 100), onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes), "{outcomes:?}");
    assert_eq!(onboarded(&emulator).len(), 100);
    assert_eq!(
        authenticates(&emulator),
        2,
        "the first token, then one more"
    );
}

#[tokio::test]
async fn bad_credentials_fail_the_whole_call_after_one_authenticate() {
    let emulator = emulator_with(None, 0).await;
    let mut config = config(&emulator, CUSTOMER);
    config.auth = smartcomm_host::Auth::Credentials {
        username: emulator.username().into(),
        password: "wrong".into(),
    };
    let mut session = runtime().session(config).with_concurrency(4);
    let error = session
        .onboard_agents(agents("w", 50), onboard_options(None))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            smartcomm_host::CallError::Api(types::Error::Unauthorized(_))
        ),
        "{error}"
    );
    assert_eq!(authenticates(&emulator), 1);
    assert!(api_requests(&emulator).is_empty());
}

#[tokio::test]
async fn without_continue_on_error_a_refused_chunk_ends_the_batch_and_no_outcome_is_lost() {
    let emulator = emulator_with(None, 5).await;
    let mut session = session(&emulator, 2);
    // 30 chunks: the one refused is the first sent, so it ends the batch long before the
    // other instance could get through the rest.
    let mut batch = agents("k", 300);
    batch[3].number_provisioning = vec![provision(
        types::NumberType::Messaging,
        "+19999999999", // not one of the account's numbers
    )];
    let outcomes = session
        .onboard_agents(batch, onboard_options(None))
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 300);
    assert!(matches!(outcomes[3], types::ItemOutcome::Rejected(_)));
    let ids: HashSet<String> = onboarded(&emulator).into_iter().collect();
    for (i, outcome) in outcomes.iter().enumerate() {
        let id = format!("k{i}");
        match outcome {
            types::ItemOutcome::Succeeded => assert!(ids.contains(&id), "{id}"),
            types::ItemOutcome::Rejected(_) | types::ItemOutcome::NotAttempted => {
                assert!(!ids.contains(&id), "{id}")
            }
            other => panic!("{id}: {other:?}"),
        }
    }
    // The API stops at the refused agent (3 applied before it); the chunks in flight beside
    // it finish, and the last ones are never sent.
    assert!(matches!(outcomes[299], types::ItemOutcome::NotAttempted));
    assert!(ids.len() < 290, "{} onboarded", ids.len());
}

#[tokio::test]
async fn invalid_input_anywhere_in_the_batch_is_refused_before_anything_is_sent() {
    let emulator = emulator_with(None, 0).await;
    let mut session = session(&emulator, 4);
    let mut batch = agents("v", 60);
    batch[57].number_provisioning = vec![provision(types::NumberType::Messaging, "555-0100")];
    let error = session
        .onboard_agents(batch, onboard_options(None))
        .await
        .unwrap_err();
    match error {
        smartcomm_host::CallError::Api(types::Error::InvalidInput(problems)) => {
            assert_eq!(problems[0].index, Some(57));
        }
        other => panic!("{other}"),
    }
    assert!(emulator.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_soak_of_2000_agents_with_faults_at_random_ends_with_each_agent_onboarded_once() {
    let emulator = Emulator::start(EmulatorOptions {
        latency: Duration::from_millis(1),
        random_faults: Some(RandomFaults {
            seed: 20261202,
            per_mille: 50,
            actions: vec![
                FaultAction::Status {
                    status: 503,
                    retry_after: None,
                    body: None,
                },
                FaultAction::Drop,
                FaultAction::LostResponse { status: None },
            ],
        }),
        ..Default::default()
    })
    .await
    .expect("the emulator starts");
    let mut config = config(&emulator, CUSTOMER);
    // A request meets a fault 1 time in 20; with 3 attempts, one of 200-odd chunks would
    // fail all of them now and then and end the batch. With 8, about once in 10^8 runs.
    config.retry.base_delay_ms = 10;
    config.retry.max_attempts = 8;
    let mut session = runtime().session(config).with_concurrency(8);
    let outcomes = session
        .onboard_agents(agents("soak", 2000), onboard_options(None))
        .await
        .unwrap();

    assert_eq!(outcomes.len(), 2000);
    let lost = outcomes
        .iter()
        .filter(|o| matches!(o, types::ItemOutcome::AlreadyDone(_)))
        .count();
    let not_done = outcomes
        .iter()
        .position(|o| !succeeded(std::slice::from_ref(o)));
    assert_eq!(not_done, None, "{:?}", not_done.map(|i| &outcomes[i]));
    let ids = onboarded(&emulator);
    assert_eq!(ids.len(), 2000);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 2000, "an agent applied twice");
    for i in 0..2000 {
        assert!(unique.contains(&format!("soak{i}")), "soak{i} is missing");
    }
    let drawn = emulator.random_faults_drawn();
    assert!(drawn >= 5, "only {drawn} faults struck");
    // Only a response lost after the API applied a chunk makes its agents `already-done`.
    assert!(
        lost <= drawn as usize * 10,
        "{lost} already done after {drawn} faults"
    );
}

#[tokio::test]
async fn a_throttled_session_without_pooled_connections_still_onboards_every_agent() {
    let runtime = smartcomm_host::Runtime::new(smartcomm_host::RuntimeOptions {
        reuse_connections: false,
        ..Default::default()
    })
    .unwrap();
    let emulator = emulator_with(Some(2), 20).await;
    let mut session = runtime
        .session(config(&emulator, CUSTOMER))
        .with_concurrency(4);
    let outcomes = session
        .onboard_agents(agents("o", 60), onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes), "{outcomes:?}");
    assert_eq!(onboarded(&emulator).len(), 60);
    assert!(emulator.throttled() > 0, "the API's limit was met");
}
