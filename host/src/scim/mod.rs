//! Serves the SCIM component (`wasi:http/incoming-handler`) over HTTP/1.1: each request runs
//! on an instance taken from a pool (kept between requests, so its client and token serve
//! many), confined as every instance is, within a deadline. A request takes an instance only
//! once its token is right and its whole body is in (`admit`), and waits a bounded time for
//! one; the answer streams to the client while the component writes it. A request that traps
//! or outlives its deadline is a SCIM 500, and the server goes on. `options` holds every
//! limit; `serve` the listener.

mod admit;
mod options;
mod serve;

pub use options::{ScimLimits, ScimOptions};

use crate::cache::Compilation;
use crate::policy::Origin;
use crate::sandbox::{Embedded, HostState, Sandbox, configured_origins, deadline_ticks};
use admit::Refusal;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use smartcomm::config::Config;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The SCIM component built from this workspace's `scim/` and embedded at build time.
pub const EMBEDDED_SCIM_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/scim.wasm"));
const EMBEDDED_SCIM_SHA256: &str = env!("SMARTCOMM_EMBEDDED_SCIM_SHA256");

/// The variable of the bearer token the identity provider sends, among the instances'
/// settings: the host checks it too, before it reads a body or takes an instance.
const TOKEN_VAR: &str = "SMARTCOMM_SCIM_TOKEN";

type Instance = (Store<HostState>, Proxy);

pub struct ScimServer {
    sandbox: Arc<Sandbox>,
    pre: ProxyPre<HostState>,
    compilation: Compilation,
    options: ScimOptions,
    /// The instances' whole environment: the `SMARTCOMM_*` settings, the SCIM ones included.
    env: Vec<(String, String)>,
    /// The bearer token, when the environment names one.
    token: Option<String>,
    allowed: Vec<Origin>,
    timeout_ms: Option<u32>,
    idle: Mutex<Vec<Instance>>,
    /// One permit per instance that may run at once.
    busy: Arc<Semaphore>,
    instances_made: AtomicU64,
    largest_memory: AtomicUsize,
}

impl ScimServer {
    /// Loads the component. Every instance's whole environment is `config`'s variables and
    /// `scim_env` (`SMARTCOMM_SCIM_TENANT_ID`, `SMARTCOMM_SCIM_TOKEN`, …); its requests may
    /// reach the origins of the API and authenticate URLs, nothing else. The SCIM component
    /// never reads a group: `config`'s Graph settings (its secret, its hosts) are left out.
    /// Each request is one call of the client, whose deadline is the request deadline.
    pub fn new(
        options: ScimOptions,
        config: &Config,
        scim_env: Vec<(String, String)>,
    ) -> anyhow::Result<Arc<ScimServer>> {
        let config = &Config {
            graph: Default::default(),
            call_deadline: Some(options.request_deadline.as_secs().clamp(1, u32::MAX.into()) as u32),
            ..config.clone()
        };
        let mut env = config.to_env();
        env.extend(scim_env);
        let token = env
            .iter()
            .find(|(name, value)| name == TOKEN_VAR && !value.trim().is_empty())
            .map(|(_, value)| value.trim().to_string());
        let (allowed, timeout_ms) = (configured_origins(config), config.timeout_ms);
        let sandbox = Sandbox::new(options.runtime.clone())?;
        let embedded = Embedded {
            wasm: EMBEDDED_SCIM_COMPONENT,
            sha256: EMBEDDED_SCIM_SHA256,
        };
        let (component, compilation) = sandbox.load(&options.runtime.component, embedded)?;
        let pre = ProxyPre::new(sandbox.linker()?.instantiate_pre(&component)?)?;
        Ok(Arc::new(ScimServer {
            busy: Arc::new(Semaphore::new(options.instances.max(1))),
            sandbox,
            pre,
            compilation,
            options,
            env,
            token,
            allowed,
            timeout_ms,
            idle: Mutex::new(Vec::new()),
            instances_made: AtomicU64::new(0),
            largest_memory: AtomicUsize::new(0),
        }))
    }

    pub fn compilation(&self) -> Compilation {
        self.compilation
    }

    /// Instances made so far: one per request served at once, at most.
    pub fn instances_made(&self) -> u64 {
        self.instances_made.load(Ordering::Relaxed)
    }

    /// The largest linear memory any instance has grown to, in bytes.
    pub fn largest_instance_memory(&self) -> usize {
        self.largest_memory.load(Ordering::Relaxed)
    }

    /// Where the host stops an instance: a margin past the call's own deadline, which the
    /// component keeps.
    fn backstop(&self) -> Duration {
        self.options.request_deadline + self.options.runtime.deadline_margin
    }

    async fn instance(&self) -> anyhow::Result<Instance> {
        if let Some(instance) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(instance);
        }
        let mut store = self.sandbox.store(
            &self.env,
            self.allowed.clone(),
            self.timeout_ms,
            self.backstop(),
        );
        let proxy = self.pre.instantiate_async(&mut store).await?;
        self.instances_made.fetch_add(1, Ordering::Relaxed);
        Ok((store, proxy))
    }

    fn release(&self, (store, proxy): Instance) {
        self.largest_memory
            .fetch_max(store.data().memory_size(), Ordering::Relaxed);
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((store, proxy));
    }

    /// Answers one request with the component.
    pub async fn handle<B>(
        self: &Arc<Self>,
        request: hyper::Request<B>,
    ) -> hyper::Response<HyperOutgoingBody>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let (method, path) = (request.method().clone(), request.uri().path().to_string());
        let response = match self.answer(request).await {
            Ok(response) => response,
            Err(refusal) => refusal.response(),
        };
        // The path only: the query may hold a filter on a user's name. The time is the
        // answer's head's: its body may stream on.
        tracing::info!(
            %method,
            %path,
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "scim request"
        );
        response
    }

    /// The request's way to an instance: its token from its headers, then its whole body,
    /// then a bounded wait for a turn; each refused by the host itself.
    async fn answer<B>(
        self: &Arc<Self>,
        request: hyper::Request<B>,
    ) -> Result<hyper::Response<HyperOutgoingBody>, Refusal>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if let Some(token) = &self.token {
            admit::authorized(request.headers(), token)?;
        }
        let request = admit::with_body(request, &self.options.limits).await?;
        let limits = &self.options.limits;
        let turn = tokio::time::timeout(limits.instance_wait, self.busy.clone().acquire_owned())
            .await
            .map_err(|_| Refusal::busy(limits.busy_retry_after_secs))?
            .expect("the semaphore is never closed");
        self.run(turn, request).await.map_err(|e| {
            tracing::warn!(error = %format!("{e:#}"), "the component was stopped");
            Refusal::new(
                500,
                "the request could not be completed: the bridge was stopped",
            )
        })
    }

    /// Runs the component's handler on an instance, in a task of its own that holds `turn`
    /// until the handler returns: the answer's head comes back as soon as the component sets
    /// it, and its body streams while the handler writes it, as `wasmtime serve` does (the
    /// body's channel holds two chunks, so an answer larger than that arrives only if it is
    /// read while it is written).
    async fn run(
        self: &Arc<Self>,
        turn: OwnedSemaphorePermit,
        request: hyper::Request<Full<Bytes>>,
    ) -> anyhow::Result<hyper::Response<HyperOutgoingBody>> {
        let (mut store, proxy) = self.instance().await?;
        let request = request.map(|body| body.map_err(|never| -> ErrorCode { match never {} }));
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let backstop = self.backstop();
        store.set_epoch_deadline(deadline_ticks(backstop));
        let server = self.clone();
        let handler = tokio::spawn(async move {
            let _turn = turn;
            let call = proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, out);
            let outcome: anyhow::Result<()> = match tokio::time::timeout(backstop, call).await {
                Ok(Ok(())) => {
                    server.release((store, proxy));
                    Ok(())
                }
                Ok(Err(trap)) => Err(trap.into()),
                Err(_) => Err(anyhow::anyhow!(
                    "the request exceeded its deadline of {backstop:?}"
                )),
            };
            outcome
        });
        match receiver.await {
            Ok(Ok(response)) => {
                // The handler may still be writing the body; a failure from here on cuts it.
                tokio::spawn(async move {
                    if let Ok(Err(e)) = handler.await {
                        tracing::warn!(error = %format!("{e:#}"), "the component was stopped while it wrote an answer");
                    }
                });
                Ok(response)
            }
            Ok(Err(code)) => anyhow::bail!("the component answered with an error: {code:?}"),
            Err(_) => match handler.await {
                Ok(Err(e)) => Err(e),
                Ok(Ok(())) => anyhow::bail!("the component set no response"),
                Err(e) => Err(e.into()),
            },
        }
    }
}
