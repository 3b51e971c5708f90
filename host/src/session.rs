//! A session: one component instance holding one `client` resource (and its token).

use crate::adaptive_limit::AdaptiveLimit;
use crate::bindings::Smartcomm;
use crate::bindings::exports::intelepeer::smartcommunicator::client as wit_client;
use crate::fanout::{Batch, Outcome, Progress, invalid_input};
use crate::operations::{Answer, Call, Face, Operations};
use crate::policy::{Coordination, Origin};
use crate::runtime::{HostState, Runtime, configured_origins, deadline_ticks};
use crate::shared_token::SharedToken;
use crate::{steps, types};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use smartcomm::config::{Config, DEFAULT_AUTH_URL};
use smartcomm::validate::MAX_BATCH;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
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

/// Called with the number of items whose chunk has just finished.
pub type ProgressHook = Arc<dyn Fn(usize) + Send + Sync>;

/// One account's connection: a component instance holding a `client` (and its token),
/// made on the first call. Calls are sequential (`&mut self`); a bulk operation may run its
/// chunks on several instances at once (see [`Session::with_concurrency`]).
pub struct Session {
    runtime: Runtime,
    config: Config,
    allowed: Vec<Origin>,
    instance: Option<Instance>,
    /// Further instances for bulk operations, kept between calls.
    spare: Vec<Instance>,
    concurrency: usize,
    token: Arc<SharedToken>,
    limit: Arc<AdaptiveLimit>,
    progress: Option<ProgressHook>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.config)
            .field("allowed", &self.allowed)
            .field("instantiated", &self.instance.is_some())
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// Runs `call` within `deadline`: the epoch deadline stops guest code that runs too long,
/// this timeout a call that waits too long in the host (for example on a slow response).
pub(crate) async fn within<T>(
    deadline: Duration,
    call: impl Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    tokio::time::timeout(deadline, call)
        .await
        .unwrap_or_else(|_| {
            Err(wasmtime::Error::msg(format!(
                "the call exceeded its deadline of {deadline:?}"
            )))
        })
}

impl Session {
    pub(crate) fn new(runtime: Runtime, config: Config) -> Session {
        let auth_url = config.auth_url.as_deref().unwrap_or(DEFAULT_AUTH_URL);
        // An unparsable URL matches no request: the component refuses the config anyway.
        let endpoint = auth_url.parse().unwrap_or_default();
        let concurrency = runtime.concurrency();
        Session {
            allowed: configured_origins(&config),
            config,
            instance: None,
            spare: Vec::new(),
            concurrency,
            token: SharedToken::new(endpoint),
            limit: AdaptiveLimit::new(concurrency),
            progress: None,
            runtime,
        }
    }

    /// Runs the chunks of a bulk operation on up to `concurrency` instances at once (1: one
    /// after another). The limit halves when the API answers 429 or 503, every instance waits
    /// out its `Retry-After`, and it grows back by one after a run of successes.
    pub fn with_concurrency(mut self, concurrency: usize) -> Session {
        self.concurrency = concurrency.max(1);
        self.limit = AdaptiveLimit::new(self.concurrency);
        self
    }

    /// Calls `hook` with the number of items of each chunk of a bulk operation as it
    /// finishes, for a progress display.
    pub fn on_progress(mut self, hook: ProgressHook) -> Session {
        self.progress = Some(hook);
        self
    }

    /// The values the limit on requests in flight took so far, starting at the concurrency.
    pub fn concurrency_path(&self) -> Vec<usize> {
        self.limit.path()
    }

    /// Answers of 429 or 503 that the limit reacted to.
    pub fn throttled(&self) -> u64 {
        self.limit.throttled()
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

    /// A new instance holding a `client` of this session's config, sharing its token and
    /// limit.
    async fn new_instance(&mut self) -> Result<Instance, CallError> {
        let coordination = Coordination {
            token: self.token.clone(),
            seen: Arc::default(),
            limit: self.limit.clone(),
        };
        let (mut store, bindings) = self
            .runtime
            .new_instance(
                &self.config.to_env(),
                self.allowed.clone(),
                self.config.timeout_ms,
                Some(coordination),
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
        let instance = self.instance.as_mut().expect("just set");
        instance
            .store
            .set_epoch_deadline(deadline_ticks(self.runtime.call_deadline()));
        Ok(instance)
    }

    /// Runs one export on the instance (made on first use) within the call deadline.
    async fn run_on_instance<T>(
        &mut self,
        operation: &'static str,
        call: impl for<'a> FnOnce(&'a mut Instance) -> ExportCall<'a, T>,
    ) -> Result<T, CallError> {
        let (deadline, started) = (self.runtime.call_deadline(), Instant::now());
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

impl Session {
    /// Runs a batch's chunks on up to `concurrency` instances, each chunk one call of the
    /// component (which sends it as one request), and keeps every item's outcome at its index.
    async fn fan_out<I, O>(
        &mut self,
        operation: &'static str,
        batch: Batch<I>,
        call: impl for<'a> Fn(Face<'a>, Vec<I>) -> Call<'a, Vec<O>> + Send + Sync,
    ) -> Result<Vec<O>, CallError>
    where
        I: Clone + Send + Sync + 'static,
        O: Outcome,
    {
        // Checked whole before anything is sent, as the component checks a batch it is given.
        (batch.check)(&batch.items).map_err(|p| CallError::Api(invalid_input(p)))?;
        let chunks: Vec<Vec<I>> = batch.items.chunks(MAX_BATCH).map(<[I]>::to_vec).collect();
        let mut progress = Progress::<O>::new(
            chunks.len(),
            (batch.waits_for)(&batch.items),
            batch.keep_going,
        );
        let mut idle: Vec<Instance> = self.instance.take().into_iter().collect();
        idle.append(&mut self.spare);
        let mut wanted = self.concurrency.min(chunks.len());
        let deadline = self.runtime.call_deadline();
        let started = Instant::now();
        let call = &call;
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < wanted
                && let Some(chunk) = progress.next()
            {
                let mut instance = match idle.pop() {
                    Some(instance) => instance,
                    None => match self.new_instance().await {
                        Ok(instance) => instance,
                        // Nothing was sent yet: the call fails as a whole.
                        Err(e) if chunk == 0 => return Err(e),
                        Err(e) => {
                            // Go on with the instances there are.
                            progress.failed(chunk, chunks[chunk].len(), stopped_by_host(&e));
                            wanted = running.len();
                            continue;
                        }
                    },
                };
                instance.store.set_epoch_deadline(deadline_ticks(deadline));
                let items = chunks[chunk].clone();
                running.push(async move {
                    let face = Face::Client {
                        bindings: &instance.bindings,
                        store: &mut instance.store,
                        client: instance.client,
                    };
                    let answer = within(deadline, call(face, items)).await;
                    (chunk, instance, answer)
                });
            }
            let Some((chunk, instance, answer)) = running.next().await else {
                break;
            };
            let size = chunks[chunk].len();
            let reusable = match answer {
                Ok(Answer::Client(Ok(outcomes))) => {
                    progress.finished(chunk, outcomes);
                    true
                }
                Ok(Answer::Client(Err(error))) => {
                    progress.failed(chunk, size, error);
                    true
                }
                Ok(Answer::Step(_)) => unreachable!("a session's instance answers as a client"),
                Err(trap) => {
                    // A trapped instance cannot be entered again; the others carry on.
                    tracing::warn!(error = %format!("{trap:#}"), "the component was stopped");
                    progress.failed(chunk, size, stopped_by_host(&CallError::Host(trap.into())));
                    false
                }
            };
            if reusable {
                idle.push(instance);
            }
            if let Some(hook) = &self.progress {
                hook(size);
            }
        }
        self.instance = idle.pop();
        self.spare = idle;
        tracing::debug!(
            operation,
            chunks = chunks.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            limit_path = ?self.limit.path(),
            "bulk call finished"
        );
        progress.outcomes(batch.items.len()).map_err(CallError::Api)
    }
}

/// A chunk the host could not run or stopped, as its items' outcome.
fn stopped_by_host(error: &CallError) -> types::Error {
    types::Error::Transport(types::Failure {
        message: error.to_string(),
        attempts: 1,
    })
}

impl Operations for Session {
    type Error = CallError;

    async fn run_batch<I, O>(
        &mut self,
        operation: &'static str,
        batch: Batch<I>,
        call: impl for<'a> Fn(Face<'a>, Vec<I>) -> Call<'a, Vec<O>> + Send + Sync,
    ) -> Result<Vec<O>, CallError>
    where
        I: Clone + Send + Sync + 'static,
        O: Outcome,
    {
        if self.concurrency > 1 && batch.items.len() > MAX_BATCH {
            return self.fan_out(operation, batch, call).await;
        }
        let items = batch.items;
        self.run(operation, move |face| call(face, items)).await
    }

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
