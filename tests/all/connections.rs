//! Connection reuse: the host keeps keep-alive connections to the API and shares them between
//! calls, sessions and instances, and can be told to open one per request instead.

use crate::common::*;
use smartcomm_emulator::{Emulator, EmulatorOptions};
use smartcomm_host::{Runtime, RuntimeOptions};

/// The most connections that requests sent one after another open. hyper-util takes a connection
/// back into its pool on a task of its own after the response has been read, so the next request
/// can come first and open a second; by the time that one is answered, the first is back.
const SEQUENTIAL_CONNECTIONS: u64 = 2;

fn assert_reused(connections: u64, requests: usize) {
    assert!(
        (1..=SEQUENTIAL_CONNECTIONS).contains(&connections),
        "{requests} sequential requests opened {connections} connections"
    );
}

fn runtime_with(reuse_connections: bool) -> Runtime {
    Runtime::new(RuntimeOptions {
        reuse_connections,
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test]
async fn the_requests_of_a_session_share_pooled_connections() {
    let emulator = emulator().await;
    let runtime = runtime_with(true);
    let mut config = config(&emulator, CUSTOMER);
    config.concurrency = Some(1);
    let mut session = runtime.session(config);
    let agents: Vec<_> = (0..25).map(|i| new_agent(&format!("a{i}"))).collect();
    let outcomes = session
        .onboard_agents(agents, onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
    session.get_agent("a7".into(), None, None).await.unwrap();
    session.list_numbers(None, None).await.unwrap();

    // authenticate, 3 onboard batches, get, numbers
    assert_eq!(emulator.requests().len(), 6);
    assert_reused(emulator.connections_accepted(), 6);
    assert_eq!(
        runtime.connections_opened(),
        emulator.connections_accepted()
    );
}

#[tokio::test]
async fn without_reuse_every_request_opens_its_own_connection() {
    let emulator = emulator().await;
    let runtime = runtime_with(false);
    let mut session = runtime.session(config(&emulator, CUSTOMER));
    session
        .get_agent("nobody".into(), None, None)
        .await
        .unwrap_err();
    session.list_numbers(None, None).await.unwrap();
    session.list_numbers(None, None).await.unwrap();

    assert_eq!(emulator.requests().len(), 4);
    assert_eq!(emulator.connections_accepted(), 4);
    assert_eq!(runtime.connections_opened(), 0);
}

#[tokio::test]
async fn steps_on_fresh_instances_reuse_the_runtimes_connections() {
    let emulator = emulator().await;
    let runtime = runtime_with(true);
    let mut steps = runtime.steps(&config(&emulator, CUSTOMER));
    for _ in 0..4 {
        steps.list_numbers(None, None).await.unwrap();
    }
    // Each step authenticates on its own instance: 4 tokens and 4 lists, on one connection.
    assert_eq!(emulator.requests().len(), 8);
    assert_reused(emulator.connections_accepted(), 8);
}

#[tokio::test]
async fn an_idle_connection_the_server_closed_is_replaced_and_the_call_still_succeeds() {
    let emulator = emulator().await;
    let port = emulator.addr().port();
    let runtime = runtime_with(true);
    let config = config(&emulator, CUSTOMER);
    let mut session = runtime.session(config.clone());
    session.list_numbers(None, None).await.unwrap();
    let opened_before_restart = runtime.connections_opened();
    assert_eq!(opened_before_restart, emulator.connections_accepted());

    // A server restart on the same address closes the idle pooled connection.
    drop(emulator);
    let emulator = restart_on(port).await;
    let numbers = session.list_numbers(None, None).await.unwrap();
    assert!(!numbers.is_empty());
    // The call after the restart ran on connections opened anew, none left from before.
    assert_reused(emulator.connections_accepted(), emulator.requests().len());
    assert_eq!(
        runtime.connections_opened(),
        opened_before_restart + emulator.connections_accepted()
    );
}

async fn restart_on(port: u16) -> Emulator {
    // The old listener closes on its own task; wait until the port is free again.
    for _ in 0..100 {
        let options = EmulatorOptions {
            port,
            ..Default::default()
        };
        if let Ok(emulator) = Emulator::start(options).await {
            return emulator;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("port {port} did not come free");
}

#[test]
fn blocking_sessions_with_runtimes_of_their_own_share_connections_without_stalling() {
    let server = tokio::runtime::Runtime::new().unwrap();
    let emulator = server.block_on(crate::common::emulator());
    let runtime = runtime_with(true);
    let mut first =
        smartcomm_host::blocking::Session::new(&runtime, config(&emulator, CUSTOMER)).unwrap();
    let mut second =
        smartcomm_host::blocking::Session::new(&runtime, config(&emulator, CUSTOMER)).unwrap();
    // A connection opened during one session's call serves the other's while the first
    // session's runtime is idle.
    for _ in 0..3 {
        first
            .call(async |s| s.list_numbers(None, None).await)
            .unwrap();
        second
            .call(async |s| s.list_numbers(None, None).await)
            .unwrap();
    }
    // Two tokens and six lists.
    assert_eq!(emulator.requests().len(), 8);
    assert_reused(emulator.connections_accepted(), 8);
    drop(server);
}
