//! The resource-free step functions, as a workflow engine calls them.

use crate::operations::{Answer, Call, Face, Operations};
use crate::policy::Origin;
use crate::runtime::{Runtime, within};
use crate::sandbox::configured_origins;
use crate::steps;
use smartcomm::config::{Config, DEFAULT_CALL_DEADLINE_SECS};
use std::fmt;
use std::time::Duration;

/// Why a step call did not return the step's own answer.
#[derive(Debug)]
pub enum StepCallError {
    /// The step's error; its case says whether a retry can help.
    Step(steps::StepError),
    /// The host stopped the call (deadline, memory limit, trap) or could not instantiate.
    Host(anyhow::Error),
}

impl fmt::Display for StepCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepCallError::Step(e) => write!(f, "{e:?}"),
            StepCallError::Host(e) => write!(f, "the host stopped the call: {e:#}"),
        }
    }
}

impl std::error::Error for StepCallError {}

/// The step functions: every call on a fresh instance whose environment holds only the
/// `SMARTCOMM_*` settings.
#[derive(Clone)]
pub struct Steps {
    runtime: Runtime,
    env: Vec<(String, String)>,
    allowed: Vec<Origin>,
    timeout_ms: Option<u32>,
    /// Where the host stops a step: a little after the step's own deadline.
    backstop: Duration,
}

impl fmt::Debug for Steps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Steps")
            .field("env", &names)
            .field("allowed", &self.allowed)
            .finish()
    }
}

impl Steps {
    /// Steps with exactly `env` as their environment; `config` is what it reads as, when it
    /// reads at all (a step with a bad setting fails before it sends anything).
    pub(crate) fn new(
        runtime: Runtime,
        env: Vec<(String, String)>,
        config: Option<&Config>,
    ) -> Steps {
        let call_deadline = config.map_or(DEFAULT_CALL_DEADLINE_SECS, Config::call_deadline_secs);
        Steps {
            backstop: runtime.backstop(call_deadline),
            allowed: config.map(configured_origins).unwrap_or_default(),
            timeout_ms: config.and_then(|c| c.timeout_ms),
            runtime,
            env,
        }
    }
}

impl Operations for Steps {
    type Error = StepCallError;

    async fn run<T: Send + 'static>(
        &mut self,
        _operation: &'static str,
        call: impl for<'a> FnOnce(Face<'a>) -> Call<'a, T> + Send,
    ) -> Result<T, StepCallError> {
        let deadline = self.backstop;
        let (mut store, bindings) = self
            .runtime
            .new_instance(&self.env, self.allowed.clone(), self.timeout_ms, deadline)
            .await
            .map_err(StepCallError::Host)?;
        let face = Face::Step {
            bindings: &bindings,
            store: &mut store,
        };
        match within(deadline, call(face)).await {
            Ok(Answer::Step(Ok(value))) => Ok(value),
            Ok(Answer::Step(Err(e))) => Err(StepCallError::Step(e)),
            Ok(Answer::Client(_)) => unreachable!("a step's instance answers as a step"),
            Err(trap) => Err(StepCallError::Host(trap.into())),
        }
    }
}

impl Runtime {
    /// The step functions, configured by `config` through the guest's environment.
    pub fn steps(&self, config: &Config) -> Steps {
        Steps::new(self.clone(), config.to_env(), Some(config))
    }

    /// The step functions with exactly these environment variables (and nothing of the host's
    /// own environment); the outbound allow-list follows their URLs.
    pub fn steps_with_env(&self, env: Vec<(String, String)>) -> Steps {
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let config = Config::from_env(lookup).ok();
        Steps::new(self.clone(), env, config.as_ref())
    }
}
