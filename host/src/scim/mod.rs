//! Serves the SCIM component (`wasi:http/incoming-handler`) over HTTP/1.1: each request runs
//! on an instance taken from a pool (kept between requests, so its client and token serve
//! many), confined as every instance is, within a deadline. A request takes an instance only
//! once its token is right and its whole body is in (`admit`), and waits a bounded time for
//! one; the answer streams to the client while the component writes it. A request that traps
//! or outlives its deadline is a SCIM 500, and the server goes on. `GET /health` is answered
//! by the host alone. The bearer token may come from a file and the server's certificate from
//! PEM files: both are followed while the server runs (`follow`), and a new token retires the
//! idle instances made with the previous one. `options` holds every limit; `serve` the
//! listener, `connection` each connection's time limits, `tls` the certificate.

mod admit;
mod connection;
mod follow;
mod options;
mod serve;
mod tls;

pub use options::{ScimLimits, ScimOptions, TlsFiles};
pub use serve::Stopped;

use crate::cache::Compilation;
use crate::policy::Origin;
use crate::sandbox::{Embedded, HostState, Sandbox, configured_origins, deadline_ticks};
use admit::Refusal;
use bytes::Bytes;
use follow::{Followed, pair};
use http_body_util::{BodyExt, Full};
use smartcomm::config::Config;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
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

/// The bearer token and the instances' environment that carries it, replaced together: an
/// instance checks the token it was made with, so a new token needs new instances.
struct Credentials {
    /// The bearer token, when the environment names one.
    token: Option<String>,
    /// The instances' whole environment: the `SMARTCOMM_*` settings, the SCIM ones included.
    env: Vec<(String, String)>,
    /// Counts the tokens: instances are made, and kept, for one.
    generation: u64,
}

/// The instances kept between requests: all made for the credentials of `generation`.
#[derive(Default)]
struct Idle {
    generation: u64,
    instances: Vec<Instance>,
}

/// The files the server follows while it runs.
#[derive(Default)]
struct FollowedFiles {
    token: Option<Followed>,
    certificate: Option<Followed>,
}

/// A setting the server cannot serve with: a token given twice, a token file or a certificate
/// that cannot serve. It names the file, never its content.
#[derive(Debug)]
pub struct ScimSettingError(pub String);

impl std::fmt::Display for ScimSettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScimSettingError {}

/// The token file's token (into `env`) and the certificate, read for the first time, and the
/// files to follow.
fn follow_from_start(
    options: &ScimOptions,
    env: &mut Vec<(String, String)>,
) -> Result<(FollowedFiles, Option<Arc<tls::Certificate>>), ScimSettingError> {
    let mut followed = FollowedFiles::default();
    if let Some(path) = &options.token_file {
        if env.iter().any(|(name, _)| name == TOKEN_VAR) {
            return Err(ScimSettingError(format!(
                "the bearer token comes from {TOKEN_VAR} or from a file, not both"
            )));
        }
        let (file, content) =
            Followed::start("the token file", vec![path.clone()]).map_err(ScimSettingError)?;
        let token = admit::token_in_file(&content[0])
            .map_err(|problem| ScimSettingError(format!("{}: {problem}", path.display())))?;
        env.push((TOKEN_VAR.to_string(), token));
        followed.token = Some(file);
    }
    let certificate = match &options.tls {
        None => None,
        Some(files) => {
            let paths = vec![files.cert.clone(), files.key.clone()];
            let (file, content) =
                Followed::start("the certificate", paths).map_err(ScimSettingError)?;
            let certificate = tls::Certificate::new(&content[0], &content[1])
                .map_err(|problem| ScimSettingError(format!("{}: {problem}", pair(&file))))?;
            followed.certificate = Some(file);
            Some(certificate)
        }
    };
    Ok((followed, certificate))
}

pub struct ScimServer {
    sandbox: Arc<Sandbox>,
    pre: ProxyPre<HostState>,
    compilation: Compilation,
    options: ScimOptions,
    credentials: RwLock<Arc<Credentials>>,
    allowed: Vec<Origin>,
    timeout_ms: Option<u32>,
    idle: Mutex<Idle>,
    /// One permit per instance that may run at once.
    busy: Arc<Semaphore>,
    certificate: Option<Arc<tls::Certificate>>,
    followed: Mutex<FollowedFiles>,
    /// Requests from their head to the end of their answer.
    in_flight: Arc<AtomicUsize>,
    instances_made: AtomicU64,
    largest_memory: AtomicUsize,
}

impl ScimServer {
    /// Loads the component. Every instance's whole environment is `config`'s variables and
    /// `scim_env` (`SMARTCOMM_SCIM_TENANT_ID`, `SMARTCOMM_SCIM_TOKEN`, …); its requests may
    /// reach the origins of the API and authenticate URLs, nothing else. The SCIM component
    /// never reads a group: `config`'s Graph settings (its secret, its hosts) are left out.
    /// Each request is one call of the client, whose deadline is the request deadline. With
    /// `options.token_file`, the token is that file's (and `scim_env` must hold none); with
    /// `options.tls`, the server speaks HTTPS only.
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
        let (followed, certificate) = follow_from_start(&options, &mut env)?;
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
            credentials: RwLock::new(Arc::new(Credentials {
                token,
                env,
                generation: 0,
            })),
            allowed,
            timeout_ms,
            idle: Mutex::new(Idle::default()),
            certificate,
            followed: Mutex::new(followed),
            in_flight: Arc::new(AtomicUsize::new(0)),
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

    /// Requests being served: from their head to the end of their answer.
    pub fn requests_in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Where the host stops an instance: a margin past the call's own deadline, which the
    /// component keeps.
    fn backstop(&self) -> Duration {
        self.options.request_deadline + self.options.runtime.deadline_margin
    }

    fn credentials(&self) -> Arc<Credentials> {
        self.credentials
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Idle> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An instance for `credentials`: a kept one, or a new one made with them.
    async fn instance(&self, credentials: &Credentials) -> anyhow::Result<Instance> {
        let kept = {
            let mut idle = self.idle();
            match idle.generation == credentials.generation {
                true => idle.instances.pop(),
                false => None,
            }
        };
        if let Some(instance) = kept {
            return Ok(instance);
        }
        let mut store = self.sandbox.store(
            &credentials.env,
            self.allowed.clone(),
            self.timeout_ms,
            self.backstop(),
        );
        let proxy = self.pre.instantiate_async(&mut store).await?;
        self.instances_made.fetch_add(1, Ordering::Relaxed);
        Ok((store, proxy))
    }

    /// Keeps an instance for the next request, unless its token has been replaced since.
    fn release(&self, generation: u64, (store, proxy): Instance) {
        self.largest_memory
            .fetch_max(store.data().memory_size(), Ordering::Relaxed);
        let mut idle = self.idle();
        if idle.generation == generation {
            idle.instances.push((store, proxy));
        }
    }

    /// Replaces the bearer token: requests are checked against it from now on, and the idle
    /// instances, made with the previous one, are dropped (those in flight finish, and are
    /// not kept).
    fn set_token(&self, token: String) {
        let mut idle = self.idle();
        let previous = self.credentials();
        let mut env: Vec<_> = (previous.env.iter())
            .filter(|(name, _)| name != TOKEN_VAR)
            .cloned()
            .collect();
        env.push((TOKEN_VAR.to_string(), token.clone()));
        let generation = previous.generation + 1;
        *self.credentials.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Credentials {
            token: Some(token),
            env,
            generation,
        });
        idle.generation = generation;
        let retired = std::mem::take(&mut idle.instances);
        drop(idle);
        drop(retired);
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
        if path == "/health" && matches!(method, hyper::Method::GET | hyper::Method::HEAD) {
            tracing::debug!(%method, %path, "health check");
            return admit::healthy();
        }
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
        let credentials = self.credentials();
        if let Some(token) = &credentials.token {
            admit::authorized(request.headers(), token)?;
        }
        let request = admit::with_body(request, &self.options.limits).await?;
        let limits = &self.options.limits;
        let turn = tokio::time::timeout(limits.instance_wait, self.busy.clone().acquire_owned())
            .await
            .map_err(|_| Refusal::busy(limits.busy_retry_after_secs))?
            .expect("the semaphore is never closed");
        self.run(turn, &credentials, request).await.map_err(|e| {
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
        credentials: &Credentials,
        request: hyper::Request<Full<Bytes>>,
    ) -> anyhow::Result<hyper::Response<HyperOutgoingBody>> {
        let (mut store, proxy) = self.instance(credentials).await?;
        let generation = credentials.generation;
        let request = request.map(|body| body.map_err(|never| -> ErrorCode { match never {} }));
        let (sender, receiver) = tokio::sync::oneshot::channel();
        // The component names its resources' URLs with the scheme the client used, which it
        // reads from X-Forwarded-Proto: over TLS, the host is the proxy that says so.
        let mut request = request;
        let scheme = match self.certificate {
            Some(_) => {
                let https = hyper::header::HeaderValue::from_static("https");
                request.headers_mut().insert("x-forwarded-proto", https);
                Scheme::Https
            }
            None => Scheme::Http,
        };
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(scheme, request)?;
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
                    server.release(generation, (store, proxy));
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
