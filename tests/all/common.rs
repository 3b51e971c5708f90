//! Shared set-up of the end-to-end tests: the real component in the real host, talking HTTP
//! over loopback to an emulator started per test.

use smartcomm_emulator::{Emulator, EmulatorOptions};
use smartcomm_host::{Auth, Config, Runtime, RuntimeOptions, Session, types};
use std::sync::OnceLock;

/// Every test module calls operations on sessions and steps.
pub use smartcomm_host::Operations;

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

/// A client config for `customer_id` on `emulator`, with its credentials.
/// The settings `smartcomm emulator` prints, for a program that reads them from its
/// environment: the emulator's URLs and `customer_id`'s credentials.
pub fn emulator_env(emulator: &Emulator, customer_id: &str) -> [(&'static str, String); 5] {
    [
        ("SMARTCOMM_API_URL", emulator.base_url()),
        ("SMARTCOMM_AUTH_URL", emulator.auth_url()),
        ("SMARTCOMM_CUSTOMER_ID", customer_id.to_string()),
        ("SMARTCOMM_USERNAME", emulator.username().to_string()),
        ("SMARTCOMM_PASSWORD", emulator.password().to_string()),
    ]
}

pub fn config(emulator: &Emulator, customer_id: &str) -> Config {
    let mut config = Config::new(
        customer_id,
        Auth::Credentials {
            username: emulator.username().into(),
            password: emulator.password().into(),
        },
    );
    config.api_url = Some(emulator.base_url());
    config.auth_url = Some(emulator.auth_url());
    config
}

/// An emulator and a session on it.
pub async fn setup() -> (Emulator, Session) {
    let emulator = emulator().await;
    let session = runtime().session(config(&emulator, CUSTOMER));
    (emulator, session)
}

/// An emulator and a session on it that sends its requests one after another, for tests of
/// what the API does with them in order (several in flight: `concurrency.rs`).
pub async fn setup_one_at_a_time() -> (Emulator, Session) {
    let emulator = emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.concurrency = Some(1);
    let session = runtime().session(config);
    (emulator, session)
}

/// Changes that change nothing, to fill in with `..`.
pub fn empty_changes() -> types::AgentChanges {
    smartcomm::model::AgentChanges::default().into()
}

pub fn new_agent(uoid: &str) -> types::NewAgent {
    types::NewAgent {
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

pub fn provision(type_: types::NumberType, number: &str) -> types::NumberProvisioning {
    types::NumberProvisioning {
        type_,
        phone_number: number.into(),
        supervisors: None,
    }
}

pub fn onboard_options(continue_on_error: Option<bool>) -> types::OnboardOptions {
    types::OnboardOptions {
        continue_on_error,
        reassign_inbox: None,
    }
}

pub fn update_options(continue_on_error: Option<bool>) -> types::UpdateOptions {
    types::UpdateOptions { continue_on_error }
}

pub fn create_options(continue_on_error: Option<bool>) -> types::CreateInboxesOptions {
    types::CreateInboxesOptions { continue_on_error }
}

pub fn selector(identifier: types::IdentifierKind, values: &[&str]) -> types::AgentSelector {
    types::AgentSelector {
        identifier,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

pub fn no_filter() -> types::AgentFilter {
    types::AgentFilter {
        user_object_id: None,
        tenant_id: None,
        consistency_id: None,
        phone_number: None,
        upn: None,
    }
}

pub fn seeded_number(i: usize) -> String {
    smartcomm_emulator::seed_numbers(i + 1).pop().unwrap()
}

/// Requests the emulator received on users-API routes (authenticate, Entra and Graph
/// excluded).
/// The sign-ins the emulator has answered.
pub fn authentications(emulator: &Emulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.route.ends_with("/authenticate"))
        .count()
}

pub fn api_requests(emulator: &Emulator) -> Vec<smartcomm_emulator::LoggedRequest> {
    emulator
        .requests()
        .into_iter()
        .filter(|r| !r.route.ends_with("/authenticate"))
        .filter(|r| !r.route.ends_with("/oauth2/v2.0/token") && !r.route.contains(" /v1.0/"))
        .collect()
}

/// Every item is in the requested state: applied now, or found already done.
pub fn succeeded(outcomes: &[types::ItemOutcome]) -> bool {
    outcomes.iter().all(|o| {
        matches!(
            o,
            types::ItemOutcome::Succeeded | types::ItemOutcome::AlreadyDone(_)
        )
    })
}

/// A roster row of a sync: the agent, nothing of `active` and the inboxes managed.
pub fn desired(agent: types::NewAgent) -> types::DesiredAgent {
    types::DesiredAgent {
        agent,
        active: None,
        shared_inboxes: None,
    }
}

/// A sync plan's defaults: absent agents deactivated, no scope, the 10% cap, none protected.
pub fn plan_options() -> types::PlanOptions {
    types::PlanOptions {
        absent: None,
        scope: vec![],
        max_removals: None,
        protected: vec![],
    }
}

pub fn apply_options() -> types::ApplyOptions {
    types::ApplyOptions {
        continue_on_error: None,
        approved_removals: None,
    }
}
