//! From the global flags to a session or the steps: the config, the loaded component, and
//! the exit codes of failures.

use crate::cli::Global;
use crate::settings;
use smartcomm::config::{DEFAULT_CALL_DEADLINE_SECS, MAX_CALL_DEADLINE_SECS, var};
use smartcomm_host::convert::{OperationError, StepAnswer};
use smartcomm_host::{
    CallError, ComponentSource, Config, Runtime, RuntimeOptions, Session, Steps, types,
};
use std::io::IsTerminal;
use std::time::Duration;

/// Exit code for invalid input or usage (clap uses it for usage errors too).
pub const EXIT_INVALID: u8 = 2;
/// Exit code for an API or transport error, or a batch with an item not applied.
pub const EXIT_FAILED: u8 = 1;

/// A failure to report: the message, and the exit code.
pub struct Failure(pub String, pub u8);

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure(format!("{e:#}"), EXIT_FAILED)
    }
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Self {
        let code = match &e {
            CallError::Api(types::Error::InvalidInput(_)) => EXIT_INVALID,
            _ => EXIT_FAILED,
        };
        Failure(e.to_string(), code)
    }
}

pub fn invalid(message: String) -> Failure {
    Failure(message, EXIT_INVALID)
}

pub fn customer_id(global: &Global) -> Result<String, Failure> {
    global
        .settings
        .get(var::CUSTOMER_ID)
        .ok_or_else(|| invalid(format!("{} is required", settings::named(var::CUSTOMER_ID))))
}

/// The runtime options of the component `--component` names, or of the embedded one.
pub fn runtime_options(global: &Global) -> RuntimeOptions {
    RuntimeOptions {
        component: match &global.component {
            Some(path) => ComponentSource::Path(path.clone()),
            None => ComponentSource::Embedded,
        },
        ..RuntimeOptions::default()
    }
}

pub fn load_runtime(global: &Global) -> Result<Runtime, Failure> {
    let runtime = Runtime::new(runtime_options(global))?;
    runtime.observe_requests(crate::batches::progress_observer());
    tracing::debug!(compilation = ?runtime.compilation(), "component loaded");
    Ok(runtime)
}

fn password(username: &str) -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Password for {username}: "))
            .map_err(|e| invalid(format!("could not read the password: {e}")))
    } else {
        Err(invalid(format!(
            "set {} (the password is never taken as a flag)",
            var::PASSWORD
        )))
    }
}

/// The component's config from the flags and variables, read as the component reads its
/// environment; each problem names its flag and variable. Without a password or a token, the
/// password is asked for on a terminal.
pub fn config(global: &Global) -> Result<Config, Failure> {
    let mut values = global.settings.clone();
    customer_id(global)?;
    if values.get(var::TOKEN).is_none()
        && values.get(var::PASSWORD).is_none()
        && let Some(username) = values.get(var::USERNAME)
    {
        values.set(var::PASSWORD, password(&username)?);
    }
    Config::from_env(|name| values.get(name)).map_err(|problems| {
        let named: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", settings::named(&p.field), p.message))
            .collect();
        invalid(named.join("; "))
    })
}

/// A client resource in one instance, or the step functions (`--steps`).
pub enum Connection {
    Session(Box<Session>),
    Steps(Box<Steps>),
}

/// The connection the global flags choose; `needed` raises the call deadline, unless
/// `--call-deadline` sets it, for a call that may take longer than the default.
pub fn connect(global: &Global, needed: Option<Duration>) -> Result<Connection, Failure> {
    let mut config = config(global)?;
    if let (None, Some(needed)) = (global.settings.get(var::CALL_DEADLINE), needed) {
        let needed = u32::try_from(needed.as_secs()).unwrap_or(u32::MAX);
        config.call_deadline =
            Some(needed.clamp(DEFAULT_CALL_DEADLINE_SECS, MAX_CALL_DEADLINE_SECS));
    }
    let runtime = load_runtime(global)?;
    Ok(if global.steps {
        Connection::Steps(Box::new(runtime.steps(&config)))
    } else {
        Connection::Session(Box::new(runtime.session(config)))
    })
}

/// Runs `$body` with `$ops` bound to whichever `Operations` the global flags chose.
macro_rules! with_operations {
    ($global:expr, |$ops:ident| $body:expr) => {
        $crate::connection::with_operations!($global, None, |$ops| $body)
    };
    ($global:expr, $needed:expr, |$ops:ident| $body:expr) => {
        match $crate::connection::connect($global, $needed)? {
            $crate::connection::Connection::Session(mut $ops) => $body,
            $crate::connection::Connection::Steps(mut $ops) => $body,
        }
    };
}
pub(crate) use with_operations;

/// An operation's answer in a session's terms, whichever ran it.
pub fn settle<T: StepAnswer, E: OperationError>(result: Result<T, E>) -> Result<T, CallError> {
    E::settle(result)
}
