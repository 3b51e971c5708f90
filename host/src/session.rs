//! A session: one component instance holding one `client` resource (and its token).

use crate::bindings::Smartcomm;
use crate::bindings::exports::intelepeer::smartcommunicator::client as wit_client;
use crate::operations::{Answer, Call, Face, Operations};
use crate::policy::Origin;
use crate::runtime::{Runtime, within};
use crate::sandbox::{HostState, configured_origins, deadline_ticks};
use crate::{steps, types};
use smartcomm::config::Config;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

/// Why a call did not return the component's answer.
#[derive(Debug)]
pub enum CallError {
    /// The component's own error: invalid input, an API error, a transport failure.
    Api(types::Error),
    /// The host stopped the call (deadline, memory limit, trap) or could not instantiate
    /// the component. The session starts a fresh instance on its next call.
    Host(anyhow::Error),
    /// The error of a resource-free function (`sync.plan`, `sync.apply`), which the session
    /// calls on its instance with its settings in the instance's environment.
    Step(steps::StepError),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Api(e) => f.write_str(&crate::convert::describe_error(e)),
            CallError::Host(e) => write!(f, "the host stopped the call: {e:#}"),
            CallError::Step(e) => f.write_str(&crate::convert::describe_step_error(e)),
        }
    }
}

impl std::error::Error for CallError {}

struct Instance {
    store: Store<HostState>,
    bindings: Smartcomm,
    client: ResourceAny,
}

/// One account's connection: a component instance holding a `client` (its token, and its
/// limit on requests in flight), made on the first call. Calls are sequential (`&mut self`);
/// within one, the component keeps up to `config.concurrency` requests in flight.
pub struct Session {
    runtime: Runtime,
    config: Config,
    allowed: Vec<Origin>,
    instance: Option<Instance>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.config)
            .field("allowed", &self.allowed)
            .field("instantiated", &self.instance.is_some())
            .finish()
    }
}

impl Runtime {
    /// A session for one account. Sends nothing until its first call.
    pub fn session(&self, config: Config) -> Session {
        Session::new(self.clone(), config)
    }
}

impl Session {
    pub(crate) fn new(runtime: Runtime, config: Config) -> Session {
        Session {
            allowed: configured_origins(&config),
            config,
            instance: None,
            runtime,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Narrows the origins this session may reach (by default the API and authenticate URLs'
    /// origins); requests anywhere else are denied by the host.
    pub fn restrict_origins(mut self, allowed: Vec<Origin>) -> Session {
        self.allowed.retain(|origin| allowed.contains(origin));
        self.instance = None;
        self
    }

    /// The size of the instance's linear memory, in bytes: the most it used so far, since a
    /// WebAssembly memory never shrinks. `None` before the first call.
    pub fn memory_size(&self) -> Option<usize> {
        self.instance
            .as_ref()
            .map(|instance| instance.store.data().memory_size())
    }

    /// What the instance's client has sent so far; sends nothing. Zeros before the first
    /// call.
    pub async fn stats(&mut self) -> Result<wit_client::ClientStats, CallError> {
        if self.instance.is_none() {
            return Ok(wit_client::ClientStats {
                requests: 0,
                authentications: 0,
                throttled: 0,
                unknown_outcomes: 0,
                peak_in_flight: 0,
                limit_path: Vec::new(),
            });
        }
        self.run_on_instance("stats", |i| {
            Box::pin(async move {
                let api = i.bindings.intelepeer_smartcommunicator_client().client();
                Ok(Ok(api.call_stats(&mut i.store, i.client).await?))
            })
        })
        .await
    }

    /// A new instance holding a `client` of this session's config.
    async fn new_instance(&mut self) -> Result<Instance, CallError> {
        let (mut store, bindings) = self
            .runtime
            .new_instance(
                &self.config.to_env(),
                self.allowed.clone(),
                self.config.timeout_ms,
                self.backstop(),
            )
            .await
            .map_err(CallError::Host)?;
        let config = wit_client::ClientConfig::from(self.config.clone());
        let client = bindings
            .intelepeer_smartcommunicator_client()
            .client()
            .call_constructor(&mut store, &config)
            .await
            .map_err(|e| CallError::Host(e.into()))?;
        Ok(Instance {
            store,
            bindings,
            client,
        })
    }

    /// The instance, made on first use, with a fresh epoch deadline for the next call.
    async fn enter(&mut self) -> Result<&mut Instance, CallError> {
        if self.instance.is_none() {
            self.instance = Some(self.new_instance().await?);
        }
        let backstop = self.backstop();
        let instance = self.instance.as_mut().expect("just set");
        instance.store.set_epoch_deadline(deadline_ticks(backstop));
        Ok(instance)
    }

    /// Where the host stops a call: a little after the call's own deadline, at which the
    /// component returns what it has.
    fn backstop(&self) -> Duration {
        self.runtime.backstop(self.config.call_deadline_secs())
    }

    /// Runs one export on the instance (made on first use) within the call deadline.
    async fn run_on_instance<T>(
        &mut self,
        operation: &'static str,
        call: impl for<'a> FnOnce(&'a mut Instance) -> ExportCall<'a, T>,
    ) -> Result<T, CallError> {
        let (deadline, started) = (self.backstop(), Instant::now());
        let instance = self.enter().await?;
        let outcome = within(deadline, call(instance)).await;
        tracing::debug!(
            operation,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "call finished"
        );
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e),
            Err(trap) => {
                // A trapped instance cannot be entered again: the next call starts afresh.
                self.instance = None;
                tracing::warn!(error = %format!("{trap:#}"), "the component was stopped");
                Err(CallError::Host(trap.into()))
            }
        }
    }

    /// Authenticates now and returns the token's expiry (never the token).
    pub async fn authenticate(&mut self) -> Result<wit_client::TokenInfo, CallError> {
        self.run_on_instance("authenticate", |i| {
            Box::pin(async move {
                let api = i.bindings.intelepeer_smartcommunicator_client().client();
                let answer = api.call_authenticate(&mut i.store, i.client).await?;
                Ok(answer.map_err(CallError::Api))
            })
        })
        .await
    }
}

/// One export's call on an instance, as wasmtime returns it.
type ExportCall<'a, T> =
    Pin<Box<dyn Future<Output = wasmtime::Result<Result<T, CallError>>> + Send + 'a>>;

impl Operations for Session {
    type Error = CallError;

    async fn run<T: Send + 'static>(
        &mut self,
        operation: &'static str,
        call: impl for<'a> FnOnce(Face<'a>) -> Call<'a, T> + Send,
    ) -> Result<T, CallError> {
        self.run_on_instance(operation, move |i| {
            let face = Face::Client {
                bindings: &i.bindings,
                store: &mut i.store,
                client: i.client,
            };
            let answer = call(face);
            Box::pin(async move {
                Ok(match answer.await? {
                    Answer::Client(answer) => answer.map_err(CallError::Api),
                    Answer::Step(answer) => {
                        answer.map_err(|e| match crate::convert::step_error_as_error(&e) {
                            Some(error) => CallError::Api(error),
                            None => CallError::Step(e),
                        })
                    }
                })
            })
        })
        .await
    }
}
