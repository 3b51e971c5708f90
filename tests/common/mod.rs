//! Shared set-up of the end-to-end tests: the real component in the real host, talking HTTP
//! over loopback to an emulator started per test.
#![allow(dead_code)]

use smartcomm_host::emulator::{Emulator, EmulatorOptions};
use smartcomm_host::{Runtime, RuntimeOptions, Session, agents, types};
use std::sync::OnceLock;

pub const CUSTOMER: &str = "12345678";

/// One loaded component per test binary (compiled once, then from the disk cache).
pub fn runtime() -> Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Runtime::new(RuntimeOptions::default()).expect("the component loads"))
        .clone()
}

pub async fn emulator() -> Emulator {
    Emulator::start(EmulatorOptions::default())
        .await
        .expect("the emulator starts")
}

/// An emulator and a session on it.
pub async fn setup() -> (Emulator, Session) {
    let emulator = emulator().await;
    let session = runtime().session(emulator.config(CUSTOMER));
    (emulator, session)
}

pub fn new_agent(uoid: &str) -> agents::NewAgent {
    agents::NewAgent {
        user_object_id: uoid.into(),
        tenant_id: "tenant-1".into(),
        name: format!("Agent {uoid}"),
        upn: Some(format!("{uoid}@example.com")),
        consistency_id: Some(format!("cid-{uoid}")),
        brand_name: None,
        department: None,
        region: None,
        state: None,
        district: None,
        store: None,
        city: None,
        zip_code: None,
        roles: None,
        number_provisioning: vec![],
        enabled_services: None,
    }
}

pub fn provision(type_: types::NumberType, number: &str) -> agents::NumberProvisioning {
    agents::NumberProvisioning {
        type_,
        phone_number: number.into(),
        supervisors: None,
    }
}

pub fn onboard_options(continue_on_error: Option<bool>) -> agents::OnboardOptions {
    agents::OnboardOptions {
        continue_on_error,
        reassign_inbox: None,
    }
}

pub fn selector(identifier: types::IdentifierKind, values: &[&str]) -> agents::AgentSelector {
    agents::AgentSelector {
        identifier,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

pub fn no_filter() -> agents::AgentFilter {
    agents::AgentFilter {
        user_object_id: None,
        tenant_id: None,
        consistency_id: None,
        phone_number: None,
        upn: None,
    }
}

pub fn seeded_number(i: usize) -> String {
    smartcomm_host::emulator::seed_numbers(i + 1).pop().unwrap()
}

/// Requests the emulator received on users-API routes (authenticate excluded).
pub fn api_requests(emulator: &Emulator) -> Vec<smartcomm_host::emulator::LoggedRequest> {
    emulator
        .requests()
        .into_iter()
        .filter(|r| !r.route.ends_with("/authenticate"))
        .collect()
}

pub fn succeeded(outcomes: &[types::ItemOutcome]) -> bool {
    outcomes
        .iter()
        .all(|o| matches!(o, types::ItemOutcome::Succeeded(_)))
}
