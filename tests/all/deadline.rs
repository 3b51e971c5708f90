//! A call that always reports: at its deadline (`call-deadline`) the component stops starting
//! requests and returns every item's outcome, whatever the API is doing.

use crate::common::*;
use smartcomm_emulator::{Emulator, FaultAction, FaultRule};
use smartcomm_host::{CallError, StepCallError, steps, types};
use std::time::{Duration, Instant};

/// How long the API holds the requests that it stops answering before applying them.
const HELD: Duration = Duration::from_secs(12);

/// Every `POST /agents` after the first `answered` is held for [`HELD`], then applied.
fn stop_answering_after(emulator: &Emulator, answered: u32, held: u32) {
    let late = FaultAction::ApplyLate {
        ms: HELD.as_millis() as u64,
    };
    emulator.add_fault(FaultRule::new("POST /agents", held, late).after(answered));
}

fn count(outcomes: &[types::ItemOutcome], wanted: fn(&types::ItemOutcome) -> bool) -> usize {
    outcomes.iter().filter(|o| wanted(o)).count()
}

fn in_flight_at_the_deadline(outcome: &types::ItemOutcome) -> bool {
    matches!(outcome, types::ItemOutcome::Failed(types::Error::Timeout(f))
        if f.message.contains("deadline of 3 s") && f.message.contains("outcome is unknown"))
}

/// Waits until the API holds `n` agents of `CUSTOMER` (the held requests have landed).
async fn until_onboarded(emulator: &Emulator, n: usize) {
    let started = Instant::now();
    while emulator.account(CUSTOMER).agents.len() < n {
        assert!(
            started.elapsed() < 2 * HELD,
            "the held requests never landed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_api_that_stops_answering_mid_batch_gets_a_report_at_the_call_deadline() {
    let emulator = emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.concurrency = Some(4);
    config.call_deadline = Some(3);
    let mut session = runtime().session(config);
    session.authenticate().await.unwrap();
    // Five requests are answered; the four in flight after them are held, then applied.
    stop_answering_after(&emulator, 5, 4);
    let batch: Vec<_> = (0..200).map(|i| new_agent(&format!("a{i:03}"))).collect();
    let started = Instant::now();
    let outcomes = session
        .onboard_agents(batch.clone(), onboard_options(Some(true)))
        .await
        .unwrap();
    let took = started.elapsed();
    println!("the call returned after {took:?}");
    // Held requests answer after 12 s: a call that waited for them would take that long.
    assert!(took < HELD / 2, "returned after {took:?}");
    assert_eq!(outcomes.len(), 200, "every item's outcome, at its index");
    let succeeded = count(&outcomes, |o| matches!(o, types::ItemOutcome::Succeeded));
    let unknown = count(&outcomes, in_flight_at_the_deadline);
    let never_sent = count(&outcomes, |o| matches!(o, types::ItemOutcome::NotAttempted));
    println!("succeeded {succeeded}, in flight (unknown) {unknown}, not attempted {never_sent}");
    assert_eq!((succeeded, unknown, never_sent), (50, 40, 110));

    // Once the held requests land, the same call again converges: every agent once.
    until_onboarded(&emulator, 90).await;
    emulator.clear_requests();
    let again = session
        .onboard_agents(batch, onboard_options(Some(true)))
        .await
        .unwrap();
    let already = count(&again, |o| matches!(o, types::ItemOutcome::AlreadyDone(_)));
    let now_done = count(&again, |o| matches!(o, types::ItemOutcome::Succeeded));
    assert_eq!((already, now_done), (90, 110), "{again:?}");
    let mut onboarded: Vec<String> = emulator
        .account(CUSTOMER)
        .agents
        .iter()
        .map(|a| a.user_object_id.clone())
        .collect();
    onboarded.sort();
    onboarded.dedup();
    assert_eq!(onboarded.len(), 200);
}

#[tokio::test]
async fn a_step_cut_by_its_deadline_is_incomplete_and_the_engines_retry_finishes_it() {
    let emulator = emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.concurrency = Some(2);
    config.call_deadline = Some(3);
    let mut steps = runtime().steps(&config);
    stop_answering_after(&emulator, 1, 2);
    let batch: Vec<_> = (0..60).map(|i| new_agent(&format!("s{i:02}"))).collect();
    match steps
        .onboard_agents(batch.clone(), onboard_options(None))
        .await
    {
        Err(StepCallError::Step(steps::StepError::Incomplete(outcomes))) => {
            assert_eq!(outcomes.len(), 60);
            assert_eq!(
                count(&outcomes, |o| matches!(o, types::ItemOutcome::Succeeded)),
                10
            );
            assert_eq!(count(&outcomes, in_flight_at_the_deadline), 20);
            assert_eq!(
                count(&outcomes, |o| matches!(o, types::ItemOutcome::NotAttempted)),
                30
            );
        }
        other => panic!("{other:?}"),
    }
    until_onboarded(&emulator, 30).await;
    let outcomes = steps
        .onboard_agents(batch, onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
}

#[tokio::test]
async fn a_sync_apply_cut_by_its_deadline_reports_what_it_applied() {
    let emulator = emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.concurrency = Some(1);
    config.call_deadline = Some(3);
    let mut session = runtime().session(config);
    let roster: Vec<_> = (0..40)
        .map(|i| desired(new_agent(&format!("r{i:02}"))))
        .collect();
    let plan = session
        .sync_plan(roster.clone(), plan_options())
        .await
        .unwrap();
    stop_answering_after(&emulator, 2, 1);
    let report = match session.sync_apply(plan, apply_options()).await {
        Err(CallError::Step(steps::StepError::IncompleteSync(report))) => report,
        other => panic!("expected an incomplete apply, got {other:?}"),
    };
    let s = &report.summary;
    assert_eq!(
        (s.succeeded, s.failed, s.not_attempted),
        (20, 10, 10),
        "{report:?}"
    );
    assert!(
        report.changes[..20]
            .iter()
            .all(|c| matches!(c.outcome, types::ItemOutcome::Succeeded))
    );
    assert!(
        report.changes[20..30]
            .iter()
            .all(|c| in_flight_at_the_deadline(&c.outcome))
    );
    until_onboarded(&emulator, 30).await;
    let again = session.sync_plan(roster, plan_options()).await.unwrap();
    assert_eq!(
        again.summary.onboard, 10,
        "exactly what was never sent remains"
    );
}
