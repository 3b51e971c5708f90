//! The fault matrix: every fault the emulator injects, once, against a read, an update, an
//! onboard and a bulk offboard. Each cell asserts the outcome, the requests the emulator
//! received, and the final state (nothing duplicated, nothing lost).

use crate::common::*;
use smartcomm_emulator::{Emulator, FaultAction, FaultRule};
use smartcomm_host::{CallError, Runtime, RuntimeOptions, types};
use std::sync::OnceLock;
use std::time::Duration;

/// Waits for the response head and between chunks stop after this long.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(1_000);
/// A smaller answer limit than the default, so an oversized answer is cheap to make.
const MAX_RESPONSE_BYTES: u32 = 64 * 1024;

fn runtime_with_short_timeouts() -> Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Runtime::new(RuntimeOptions {
                response_timeout: RESPONSE_TIMEOUT,
                ..Default::default()
            })
            .unwrap()
        })
        .clone()
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Read,
    Update,
    Onboard,
    BulkOffboard,
}

impl Op {
    const ALL: [Op; 4] = [Op::Read, Op::Update, Op::Onboard, Op::BulkOffboard];

    fn route(self) -> &'static str {
        match self {
            Op::Read => "GET /agents/{id}",
            Op::Update => "PATCH /agents/{id}",
            Op::Onboard => "POST /agents",
            Op::BulkOffboard => "POST /agents/offboard",
        }
    }
}

/// What the caller saw.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    /// Done by this call.
    Done,
    /// Found already done on a repeat, verified by reading back.
    AlreadyDone,
    /// Failed with this error case.
    Failed(&'static str),
}

fn kind(e: &types::Error) -> &'static str {
    match e {
        types::Error::InvalidInput(_) => "invalid-input",
        types::Error::Unauthorized(_) => "unauthorized",
        types::Error::NotFound(_) => "not-found",
        types::Error::Rejected(_) => "rejected",
        types::Error::RateLimited(_) => "rate-limited",
        types::Error::ServerError(_) => "server-error",
        types::Error::Timeout(_) => "timeout",
        types::Error::Transport(_) => "transport",
        types::Error::UnexpectedResponse(_) => "unexpected-response",
    }
}

fn seen_outcome(outcome: &types::ItemOutcome) -> Seen {
    match outcome {
        types::ItemOutcome::Succeeded => Seen::Done,
        types::ItemOutcome::AlreadyDone(_) => Seen::AlreadyDone,
        types::ItemOutcome::Rejected(_) => Seen::Failed("rejected"),
        types::ItemOutcome::Failed(e) => Seen::Failed(kind(e)),
        types::ItemOutcome::NotAttempted => Seen::Failed("not-attempted"),
    }
}

struct Cell {
    seen: Seen,
    /// Requests on the operation's route.
    sent: usize,
    /// Reads made to verify a refused repeat.
    verifying_reads: usize,
    emulator: Emulator,
}

async fn run(action: FaultAction, op: Op) -> Cell {
    let emulator = crate::common::emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.retry = smartcomm::config::RetryPolicy {
        max_attempts: 3,
        base_delay_ms: 10,
        max_delay_ms: 2_000,
        budget_ms: 10_000,
    };
    config.max_response_bytes = Some(MAX_RESPONSE_BYTES);
    let mut session = runtime_with_short_timeouts().session(config);
    session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await
        .unwrap();
    emulator.clear_requests();
    emulator.add_fault(FaultRule::new(op.route(), 1, action));
    let api = |r: Result<_, CallError>| match r {
        Ok(_) => Seen::Done,
        Err(CallError::Api(e)) => Seen::Failed(kind(&e)),
        Err(e @ (CallError::Host(_) | CallError::Step(_))) => panic!("unexpected: {e}"),
    };
    let seen = match op {
        Op::Read => api(session.get_agent("a".into(), None, None).await),
        Op::Update => {
            let changes = types::AgentChanges {
                department: Some("Support".into()),
                ..empty_changes()
            };
            api(session.update_agent("a".into(), None, changes).await)
        }
        Op::Onboard => match session
            .onboard_agents(vec![new_agent("n")], onboard_options(None))
            .await
        {
            Ok(outcomes) => seen_outcome(&outcomes[0]),
            Err(e) => panic!("{e}"),
        },
        Op::BulkOffboard => {
            let options = types::OffboardOptions {
                continue_on_error: None,
                deprovision_supervised_inbox: None,
            };
            match session
                .offboard_agents(
                    vec![selector(types::IdentifierKind::UserObjectId, &["a"])],
                    options,
                )
                .await
            {
                Ok(outcomes) => seen_outcome(&outcomes[0]),
                Err(e) => panic!("{e}"),
            }
        }
    };
    let requests = api_requests(&emulator);
    let sent = requests.iter().filter(|r| r.route == op.route()).count();
    let verifying_reads = match op {
        Op::Read => 0,
        _ => requests.iter().filter(|r| r.method == "GET").count(),
    };
    Cell {
        seen,
        sent,
        verifying_reads,
        emulator,
    }
}

/// The final state each operation must leave: nothing duplicated, nothing lost.
fn check_state(op: Op, cell: &Cell, applied: bool) {
    let account = cell.emulator.account(CUSTOMER);
    let count = |uoid: &str| {
        account
            .agents
            .iter()
            .filter(|a| a.user_object_id == uoid)
            .count()
    };
    match op {
        Op::Read => assert_eq!(count("a"), 1),
        Op::Update => {
            let department = account.agents[0].department.as_deref();
            assert_eq!(department == Some("Support"), applied, "{department:?}");
        }
        Op::Onboard => assert_eq!(
            count("n"),
            usize::from(applied),
            "agent n exactly once when applied"
        ),
        Op::BulkOffboard => assert_eq!(count("a"), usize::from(!applied)),
    }
}

/// Runs one fault against every operation. `expect(op)` gives the outcome, the requests on the
/// operation's route, the verifying reads, and whether the change must be in the final state.
async fn matrix_row(
    name: &str,
    action: FaultAction,
    expect: impl Fn(Op) -> (Seen, usize, usize, bool),
) {
    for op in Op::ALL {
        let cell = run(action.clone(), op).await;
        let (seen, sent, reads, applied) = expect(op);
        println!(
            "| {name} | {op:?} | {:?} | {} | {} |",
            cell.seen, cell.sent, cell.verifying_reads
        );
        assert_eq!(cell.seen, seen, "{name} × {op:?}");
        assert_eq!(
            cell.sent,
            sent,
            "{name} × {op:?}: requests on {}",
            op.route()
        );
        assert_eq!(
            cell.verifying_reads, reads,
            "{name} × {op:?}: verifying reads"
        );
        check_state(op, &cell, applied);
    }
}

/// A fault that stopped the request before it was applied: the retry does the work.
fn retried_once(op: Op) -> (Seen, usize, usize, bool) {
    (Seen::Done, 2, 0, !matches!(op, Op::Read))
}

/// A fault after the request was applied: the retry meets the work done. Onboard and
/// offboard are refused on the repeat and verified by a read; read and update just repeat.
fn applied_then_retried(op: Op) -> (Seen, usize, usize, bool) {
    match op {
        Op::Read | Op::Update => (Seen::Done, 2, 0, !matches!(op, Op::Read)),
        Op::Onboard | Op::BulkOffboard => (Seen::AlreadyDone, 2, 1, true),
    }
}

fn status(status: u16) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after: None,
        body: None,
    }
}

#[tokio::test]
async fn status_500_is_retried_where_safe_and_every_operation_here_is() {
    matrix_row("500", status(500), retried_once).await;
}

#[tokio::test]
async fn status_502_is_retried() {
    matrix_row("502", status(502), retried_once).await;
}

#[tokio::test]
async fn status_503_is_retried() {
    matrix_row("503", status(503), retried_once).await;
}

#[tokio::test]
async fn status_504_is_retried() {
    matrix_row("504", status(504), retried_once).await;
}

#[tokio::test]
async fn status_429_waits_for_retry_after_then_retries() {
    let started = std::time::Instant::now();
    let action = FaultAction::Status {
        status: 429,
        retry_after: Some("1".into()),
        body: None,
    };
    matrix_row("429, Retry-After: 1", action, retried_once).await;
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "each of the 4 cells waited 1 s"
    );
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    matrix_row("dropped connection", FaultAction::Drop, retried_once).await;
}

#[tokio::test]
async fn a_truncated_body_after_the_change_converges() {
    matrix_row(
        "truncated body",
        FaultAction::Truncate,
        applied_then_retried,
    )
    .await;
}

#[tokio::test]
async fn a_first_byte_past_the_timeout_after_the_change_converges() {
    let action = FaultAction::Delay { ms: 3_000 };
    matrix_row("slow first byte", action, applied_then_retried).await;
}

#[tokio::test]
async fn an_html_error_page_is_a_server_error_and_retried() {
    matrix_row(
        "HTML 502 page",
        FaultAction::Html { status: 502 },
        retried_once,
    )
    .await;
}

#[tokio::test]
async fn an_empty_502_is_retried() {
    matrix_row(
        "empty 502",
        FaultAction::Empty { status: 502 },
        retried_once,
    )
    .await;
}

#[tokio::test]
async fn an_oversized_body_is_an_unexpected_response_and_not_repeated() {
    let action = FaultAction::Oversized {
        bytes: 4 * MAX_RESPONSE_BYTES as usize,
    };
    matrix_row("oversized body", action, |_| {
        (Seen::Failed("unexpected-response"), 1, 0, false)
    })
    .await;
}

#[tokio::test]
async fn a_response_lost_after_the_change_converges() {
    let action = FaultAction::LostResponse { status: None };
    matrix_row("lost response", action, applied_then_retried).await;
}

#[tokio::test]
async fn a_repeated_onboard_of_a_whole_batch_converges_without_duplicates() {
    // An engine retries a step whose first run applied all 12 agents but lost the answer.
    let (emulator, mut session) = setup().await;
    let batch: Vec<_> = (0..12).map(|i| new_agent(&format!("u{i}"))).collect();
    assert!(succeeded(
        &session
            .onboard_agents(batch.clone(), onboard_options(None))
            .await
            .unwrap()
    ));
    emulator.clear_requests();
    let again = session
        .onboard_agents(batch, onboard_options(None))
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .all(|o| matches!(o, types::ItemOutcome::AlreadyDone(_))),
        "{again:?}"
    );
    assert_eq!(emulator.account(CUSTOMER).agents.len(), 12);
    // Without continueOnError the API stops at the first existing agent of each request; one
    // read of the tenant shows the rest of the request done too: nothing is sent twice.
    let routes: Vec<String> = api_requests(&emulator)
        .into_iter()
        .map(|r| r.route)
        .collect();
    let posts = routes.iter().filter(|r| *r == "POST /agents").count();
    let reads = routes.iter().filter(|r| *r == "GET /agents").count();
    assert_eq!((posts, reads), (2, 1), "{routes:?}");
}

#[tokio::test]
async fn a_lost_answer_whose_read_back_fails_is_failed_then_already_done_on_a_repeat() {
    let emulator = crate::common::emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.retry = smartcomm::config::RetryPolicy {
        max_attempts: 3,
        base_delay_ms: 10,
        max_delay_ms: 100,
        budget_ms: 10_000,
    };
    let mut session = runtime().session(config);
    let unavailable = FaultAction::Status {
        status: 503,
        retry_after: None,
        body: None,
    };
    let lost = FaultAction::LostResponse { status: None };
    let failed_503: fn(&[types::ItemOutcome]) -> bool = |outcomes| matches!(outcomes, [types::ItemOutcome::Failed(types::Error::ServerError(f))] if f.status == 503);
    let already: fn(&[types::ItemOutcome]) -> bool =
        |outcomes| matches!(outcomes, [types::ItemOutcome::AlreadyDone(_)]);
    // Applied, its answer lost; sent again and refused "already exists"; the read that would
    // confirm it answers 503 every time.
    emulator.add_fault(FaultRule::new("POST /agents", 1, lost.clone()));
    emulator.add_fault(FaultRule::new("GET /agents", 3, unavailable.clone()));
    for expected in [failed_503, already] {
        let outcomes = session
            .onboard_agents(vec![new_agent("a")], onboard_options(None))
            .await
            .unwrap();
        assert!(expected(&outcomes), "{outcomes:?}");
    }

    // The same for an offboard refused "not found".
    emulator.add_fault(FaultRule::new("POST /agents/offboard", 1, lost));
    emulator.add_fault(FaultRule::new("GET /agents", 3, unavailable));
    for expected in [failed_503, already] {
        let gone = vec![selector(types::IdentifierKind::UserObjectId, &["a"])];
        let options = types::OffboardOptions {
            continue_on_error: None,
            deprovision_supervised_inbox: None,
        };
        let outcomes = session.offboard_agents(gone, options).await.unwrap();
        assert!(expected(&outcomes), "{outcomes:?}");
    }
    assert!(emulator.account(CUSTOMER).agents.is_empty());
}
