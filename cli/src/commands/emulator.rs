//! `emulator`: serves the emulator on loopback until Ctrl-C, and prints the settings that
//! point smartcomm at it.

use crate::cli::EmulatorArgs;
use crate::connection::{EXIT_FAILED, Failure};
use smartcomm_emulator::{
    CONTROL_PREFIX, Emulator, EmulatorOptions, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET,
    SAMPLE_GROUP_ID, SAMPLE_TENANT_ID, sample_group_members,
};
use std::time::Duration;

pub async fn serve(options: EmulatorOptions) -> Result<u8, Failure> {
    let port = options.port;
    let emulator = Emulator::start(options)
        .await
        .map_err(|e| Failure(format!("cannot listen on port {port}: {e}"), EXIT_FAILED))?;
    emulator.set_graph_group(SAMPLE_GROUP_ID, sample_group_members());
    println!(
        "SmartCommunicator emulator on {}; every customer id is an account of its own.",
        emulator.base_url()
    );
    println!("Settings for smartcomm (paste into a shell):");
    println!("export SMARTCOMM_API_URL={}", emulator.base_url());
    println!("export SMARTCOMM_AUTH_URL={}", emulator.auth_url());
    println!("export SMARTCOMM_CUSTOMER_ID=12345678");
    println!("export SMARTCOMM_USERNAME={}", emulator.username());
    println!("export SMARTCOMM_PASSWORD={}", emulator.password());
    println!("export SMARTCOMM_GRAPH_URL={}", emulator.graph_url());
    println!("export SMARTCOMM_LOGIN_URL={}", emulator.login_url());
    println!("export SMARTCOMM_GRAPH_CLIENT_ID={GRAPH_CLIENT_ID}");
    println!("export SMARTCOMM_GRAPH_CLIENT_SECRET={GRAPH_CLIENT_SECRET}");
    println!(
        "Control API: {}{CONTROL_PREFIX} (reset, state, requests, faults, latency, revoke-tokens, numbers, graph/groups/ID, graph/permissions)",
        emulator.base_url()
    );
    println!("An Entra group of five users (one disabled) to sync, with those settings:");
    println!("smartcomm sync plan --graph-group {SAMPLE_GROUP_ID} --tenant-id {SAMPLE_TENANT_ID}");
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure(e.to_string(), EXIT_FAILED))?;
    Ok(0)
}

pub fn options(args: &EmulatorArgs) -> EmulatorOptions {
    EmulatorOptions {
        max_in_flight: args.max_in_flight,
        throttle_retry_after: (!args.no_retry_after).then_some(1),
        port: args.port,
        latency: Duration::from_millis(args.latency_ms),
        numbers: args.numbers,
        token_lifetime: Duration::from_secs(args.token_lifetime_secs),
        ..Default::default()
    }
}
