//! Bulk operations with several requests in flight, inside one component instance: each
//! agent applied once, every outcome at its index, one token however many requests are in
//! flight, dependencies between chunks kept, a limit that backs off when the API throttles,
//! one retry layer, and repeats that cost one write per request of ten.

use crate::common::*;
use smartcomm_emulator::{Emulator, EmulatorOptions, FaultAction, FaultRule, RandomFaults};
use smartcomm_host::{Session, types};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
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

fn session(emulator: &Emulator, concurrency: u32) -> Session {
    let mut config = config(emulator, CUSTOMER);
    config.retry.base_delay_ms = 10;
    config.concurrency = Some(concurrency);
    runtime().session(config)
}

fn agents(prefix: &str, n: usize) -> Vec<types::NewAgent> {
    (0..n).map(|i| new_agent(&format!("{prefix}{i}"))).collect()
}

/// One selector per agent, by user_object_id, and offboard options left to the API's defaults.
fn offboarding(batch: &[types::NewAgent]) -> (Vec<types::AgentSelector>, types::OffboardOptions) {
    let selectors = batch
        .iter()
        .map(|a| selector(types::IdentifierKind::UserObjectId, &[&a.user_object_id]))
        .collect();
    let options = types::OffboardOptions {
        continue_on_error: None,
        deprovision_supervised_inbox: None,
    };
    (selectors, options)
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
    assert_eq!(authentications(&emulator), 1, "one token for every request");
    assert!(emulator.throttled() > 0, "the burst met the API's limit");
    let stats = session.stats().await.unwrap();
    assert_eq!(stats.throttled, emulator.throttled());
    let path = stats.limit_path;
    assert_eq!(path[0], 4, "slow start from 4");
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
    emulator.add_fault(FaultRule::new(
        "POST /agents",
        1,
        FaultAction::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
    ));
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
    emulator.add_fault(FaultRule::new("POST /agents", 1, FaultAction::RevokeTokens));
    let outcomes = session
        .onboard_agents(agents("r", 100), onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes), "{outcomes:?}");
    assert_eq!(onboarded(&emulator).len(), 100);
    assert_eq!(
        authentications(&emulator),
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
    config.concurrency = Some(4);
    let mut session = runtime().session(config);
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
    assert_eq!(authentications(&emulator), 1);
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
    config.concurrency = Some(8);
    let mut session = runtime().session(config);
    let emulator = Arc::new(emulator);
    // Mid-run, once a hundred requests have arrived, every token is revoked.
    let revoker = tokio::spawn({
        let emulator = emulator.clone();
        async move {
            while emulator.requests().len() < 100 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            emulator.revoke_tokens();
        }
    });
    let outcomes = session
        .onboard_agents(agents("soak", 2000), onboard_options(None))
        .await
        .unwrap();
    revoker.await.unwrap();

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
    assert_eq!(
        authentications(&emulator),
        2,
        "the first token, and one more after the revocation"
    );
    assert!(emulator.peak_in_flight() > 1);
}

#[tokio::test]
async fn a_throttled_session_without_pooled_connections_still_onboards_every_agent() {
    let runtime = smartcomm_host::Runtime::new(smartcomm_host::RuntimeOptions {
        reuse_connections: false,
        ..Default::default()
    })
    .unwrap();
    let emulator = emulator_with(Some(2), 20).await;
    let mut config = config(&emulator, CUSTOMER);
    config.concurrency = Some(4);
    let mut session = runtime.session(config);
    let outcomes = session
        .onboard_agents(agents("o", 60), onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes), "{outcomes:?}");
    assert_eq!(onboarded(&emulator).len(), 60);
    assert!(emulator.throttled() > 0, "the API's limit was met");
}

/// The most requests in flight at once while `run` called the component.
async fn peak_while<F: Future<Output = ()>>(emulator: &Emulator, run: F) -> usize {
    emulator.clear_requests();
    run.await;
    emulator.peak_in_flight()
}

#[tokio::test]
async fn steps_keep_several_requests_in_flight_and_exactly_one_at_concurrency_1() {
    for concurrency in [1, 4] {
        let emulator = emulator_with(None, 20).await;
        let mut config = config(&emulator, CUSTOMER);
        config.concurrency = Some(concurrency);
        let mut steps = runtime().steps(&config);
        let peak = peak_while(&emulator, async {
            let outcomes = steps
                .onboard_agents(agents("p", 80), onboard_options(None))
                .await
                .unwrap();
            assert!(succeeded(&outcomes));
        })
        .await;
        match concurrency {
            1 => assert_eq!(peak, 1),
            _ => assert!(peak > 1, "a peak of {peak} at concurrency {concurrency}"),
        }
        assert_eq!(onboarded(&emulator).len(), 80);
    }
}

#[tokio::test]
async fn a_sync_apply_keeps_several_requests_in_flight_and_exactly_one_at_concurrency_1() {
    for concurrency in [1, 4] {
        let emulator = emulator_with(None, 20).await;
        let mut config = config(&emulator, CUSTOMER);
        config.concurrency = Some(concurrency);
        let mut steps = runtime().steps(&config);
        let roster: Vec<_> = agents("y", 80).into_iter().map(desired).collect();
        let plan = steps.sync_plan(roster, plan_options()).await.unwrap();
        assert_eq!(plan.summary.onboard, 80);
        let peak = peak_while(&emulator, async {
            let report = steps.sync_apply(plan, apply_options()).await.unwrap();
            assert_eq!(report.summary.succeeded, 80);
        })
        .await;
        match concurrency {
            1 => assert_eq!(peak, 1),
            _ => assert!(peak > 1, "a peak of {peak} at concurrency {concurrency}"),
        }
        let writes = api_requests(&emulator)
            .iter()
            .filter(|r| r.route == "POST /agents")
            .count();
        assert_eq!(writes, 8, "ten agents per request");
    }
}

#[tokio::test]
async fn a_429_without_retry_after_is_sent_at_most_max_attempts_times_each_after_a_pause() {
    let emulator = emulator_with(None, 0).await;
    emulator.add_fault(FaultRule::new(
        "POST /agents",
        1_000,
        FaultAction::Status {
            status: 429,
            retry_after: None,
            body: None,
        },
    ));
    let mut config = config(&emulator, CUSTOMER);
    config.retry.base_delay_ms = 200;
    config.retry.max_attempts = 3;
    config.concurrency = Some(8);
    let outcomes = runtime()
        .session(config)
        .onboard_agents(agents("t", 80), onboard_options(Some(true)))
        .await
        .unwrap();
    for outcome in &outcomes {
        assert!(
            matches!(
                outcome,
                types::ItemOutcome::Failed(types::Error::RateLimited(types::RateLimit {
                    attempts: 3,
                    ..
                }))
            ),
            "{outcome:?}"
        );
    }
    // Each request of ten, by its first agent: every send and when it arrived.
    let mut sends: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for request in api_requests(&emulator) {
        assert_eq!(request.route, "POST /agents");
        let first = request.body[0]["user_object_id"]
            .as_str()
            .unwrap()
            .to_string();
        sends.entry(first).or_default().push(request.at_ms);
    }
    assert_eq!(sends.len(), 8);
    for (first, at) in sends {
        assert_eq!(at.len(), 3, "{first}: three attempts in all, no more");
        // Equal jitter: at least half of 200 ms, then of 400 ms.
        assert!(
            at[1] - at[0] >= 100,
            "{first}: sent again after {} ms",
            at[1] - at[0]
        );
        assert!(
            at[2] - at[1] >= 200,
            "{first}: sent again after {} ms",
            at[2] - at[1]
        );
    }
}

/// The users-API requests of `emulator`: (writes, reads).
fn writes_and_reads(emulator: &Emulator) -> (usize, usize) {
    let requests = api_requests(emulator);
    let reads = requests.iter().filter(|r| r.method == "GET").count();
    (requests.len() - reads, reads)
}

#[tokio::test]
async fn repeating_60_onboards_that_are_done_sends_one_write_per_request_of_ten_and_one_read() {
    for continue_on_error in [None, Some(true)] {
        let emulator = emulator_with(None, 0).await;
        let mut session = session(&emulator, 4);
        let batch = agents("d", 60);
        let first = session
            .onboard_agents(batch.clone(), onboard_options(continue_on_error))
            .await
            .unwrap();
        assert!(first.iter().all(|o| *o == types::ItemOutcome::Succeeded));
        emulator.clear_requests();
        let again = session
            .onboard_agents(batch, onboard_options(continue_on_error))
            .await
            .unwrap();
        for outcome in &again {
            assert_eq!(
                *outcome,
                types::ItemOutcome::AlreadyDone("already onboarded with these values".into())
            );
        }
        assert_eq!(writes_and_reads(&emulator), (6, 1), "{continue_on_error:?}");
        assert_eq!(onboarded(&emulator).len(), 60);
    }
}

#[tokio::test]
async fn repeating_60_offboards_that_are_done_sends_one_write_per_request_of_ten_and_one_read() {
    let emulator = emulator_with(None, 0).await;
    let mut session = session(&emulator, 4);
    let batch = agents("o", 60);
    let onboarded_now = session
        .onboard_agents(batch.clone(), onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&onboarded_now));
    let (selectors, options) = offboarding(&batch);
    let first = session
        .offboard_agents(selectors.clone(), options)
        .await
        .unwrap();
    assert!(first.iter().all(|o| *o == types::ItemOutcome::Succeeded));
    emulator.clear_requests();
    let again = session.offboard_agents(selectors, options).await.unwrap();
    for outcome in &again {
        assert_eq!(
            *outcome,
            types::ItemOutcome::AlreadyDone("already offboarded".into())
        );
    }
    assert_eq!(writes_and_reads(&emulator), (6, 1));
}

#[tokio::test]
async fn an_offboard_applied_after_the_calls_read_is_judged_by_a_fresh_read_not_the_old_one() {
    let emulator = emulator_with(None, 0).await;
    // One request at a time, so that the faults meet the first and second requests of ten.
    let mut session = session(&emulator, 1);
    let batch = agents("late", 20);
    assert!(succeeded(
        &session
            .onboard_agents(batch.clone(), onboard_options(None))
            .await
            .unwrap()
    ));
    let (selectors, options) = offboarding(&batch);
    let first_ten = session
        .offboard_agents(selectors[..10].to_vec(), options)
        .await
        .unwrap();
    assert!(succeeded(&first_ten));
    // The first request, all done, is refused, and the call reads the account, where the last
    // ten still are. The second request is applied but its answer lost; its resend is
    // refused as a repeat, which the earlier read contradicts.
    for action in [
        FaultAction::Delay { ms: 0 },
        FaultAction::LostResponse { status: None },
    ] {
        emulator.add_fault(FaultRule::new("POST /agents/offboard", 1, action));
    }
    emulator.clear_requests();
    let all = session.offboard_agents(selectors, options).await.unwrap();
    assert!(onboarded(&emulator).is_empty());
    assert_eq!(all.len(), 20);
    for (i, outcome) in all.iter().enumerate() {
        assert!(
            matches!(outcome, types::ItemOutcome::AlreadyDone(_)),
            "item {i}: {outcome:?}"
        );
    }
    // Three offboard requests (the first, the lost one, its resend), the account read, and
    // the account read again once the resend's refusal contradicted the first.
    assert_eq!(writes_and_reads(&emulator), (3, 2));
}

fn department_of(uoid: &str, department: &str) -> types::AgentUpdate {
    types::AgentUpdate {
        target: types::AgentRef {
            identifier: types::IdentifierKind::UserObjectId,
            value: uoid.into(),
        },
        updates: types::AgentChanges {
            department: Some(department.into()),
            ..empty_changes()
        },
    }
}

#[tokio::test]
async fn two_items_on_one_agent_land_in_the_callers_order_though_the_first_request_is_slow() {
    let emulator = emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.concurrency = Some(4);
    let mut session = runtime().session(config);
    let agents: Vec<_> = (0..30).map(|i| new_agent(&format!("o{i:02}"))).collect();
    let outcomes = session
        .onboard_agents(agents, onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
    // Item 3 and item 14 both change o03; the request carrying item 3 lands a second late.
    let mut updates: Vec<_> = (0..30)
        .map(|i| department_of(&format!("o{i:02}"), "Sales"))
        .collect();
    updates[3] = department_of("o03", "First");
    updates[14] = department_of("o03", "Second");
    let late = FaultAction::ApplyLate { ms: 1_000 };
    emulator.add_fault(FaultRule::new("PATCH /agents", 1, late).body_contains("First"));
    let outcomes = session
        .update_agents(updates, update_options(None))
        .await
        .unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, types::UpdateOutcome::Updated(_)))
    );
    let o03 = emulator
        .account(CUSTOMER)
        .agents
        .into_iter()
        .find(|a| a.user_object_id == "o03")
        .unwrap();
    assert_eq!(
        o03.department.as_deref(),
        Some("Second"),
        "the later item stays"
    );
    // The request carrying item 14 was sent once the one carrying item 3 was answered.
    let arrived = |text: &str| {
        emulator
            .requests()
            .iter()
            .find(|r| r.route == "PATCH /agents" && r.body.to_string().contains(text))
            .map(|r| r.at_ms)
            .unwrap()
    };
    assert!(arrived("Second") >= arrived("First") + 1_000);
}
