//! Serves the SCIM component (`wasi:http/incoming-handler`) over HTTP/1.1: each request runs
//! on an instance taken from a pool (kept between requests, so its client and token serve
//! many), confined as every instance is, within a deadline. A request that traps or runs out
//! of time is a SCIM 500, and the server goes on.

use crate::cache::Compilation;
use crate::options::RuntimeOptions;
use crate::policy::Origin;
use crate::sandbox::{Embedded, HostState, Sandbox, configured_origins, deadline_ticks};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use smartcomm::config::Config;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The SCIM component built from this workspace's `scim/` and embedded at build time.
pub const EMBEDDED_SCIM_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/scim.wasm"));
const EMBEDDED_SCIM_SHA256: &str = env!("SMARTCOMM_EMBEDDED_SCIM_SHA256");

/// The largest request body passed to the component: above the component's own limit
/// (1 MiB, which it refuses with a SCIM 413), so that only abuse is cut here.
const MAX_BODY_BYTES: usize = 2 << 20;

/// How the server runs the component.
#[derive(Clone, Debug)]
pub struct ScimOptions {
    /// The component (`component`: the embedded SCIM one by default), its cache and limits.
    pub runtime: RuntimeOptions,
    /// The most requests served at once, each on an instance of its own.
    pub instances: usize,
    /// The longest one request may take, the component's work and its API calls included.
    pub request_deadline: Duration,
    /// The longest a client may take to send a request's head.
    pub header_timeout: Duration,
}

impl Default for ScimOptions {
    fn default() -> Self {
        ScimOptions {
            runtime: RuntimeOptions::default(),
            instances: 8,
            request_deadline: Duration::from_secs(60),
            header_timeout: Duration::from_secs(10),
        }
    }
}

type Instance = (Store<HostState>, Proxy);

pub struct ScimServer {
    sandbox: Arc<Sandbox>,
    pre: ProxyPre<HostState>,
    compilation: Compilation,
    options: ScimOptions,
    /// The instances' whole environment: the `SMARTCOMM_*` settings, the SCIM ones included.
    env: Vec<(String, String)>,
    allowed: Vec<Origin>,
    timeout_ms: Option<u32>,
    idle: Mutex<Vec<Instance>>,
    busy: Semaphore,
    instances_made: AtomicU64,
    largest_memory: AtomicUsize,
}

impl ScimServer {
    /// Loads the component. Every instance's whole environment is `config`'s variables and
    /// `scim_env` (`SMARTCOMM_SCIM_TENANT_ID`, `SMARTCOMM_SCIM_TOKEN`, …); its requests may
    /// reach the origins of the API and authenticate URLs, nothing else. The SCIM component
    /// never reads a group: `config`'s Graph settings (its secret, its hosts) are left out.
    pub fn new(
        options: ScimOptions,
        config: &Config,
        scim_env: Vec<(String, String)>,
    ) -> anyhow::Result<Arc<ScimServer>> {
        let config = &Config {
            graph: Default::default(),
            ..config.clone()
        };
        let mut env = config.to_env();
        env.extend(scim_env);
        let (allowed, timeout_ms) = (configured_origins(config), config.timeout_ms);
        let sandbox = Sandbox::new(options.runtime.clone())?;
        let embedded = Embedded {
            wasm: EMBEDDED_SCIM_COMPONENT,
            sha256: EMBEDDED_SCIM_SHA256,
        };
        let (component, compilation) = sandbox.load(&options.runtime.component, embedded)?;
        let pre = ProxyPre::new(sandbox.linker()?.instantiate_pre(&component)?)?;
        Ok(Arc::new(ScimServer {
            busy: Semaphore::new(options.instances.max(1)),
            sandbox,
            pre,
            compilation,
            options,
            env,
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

    async fn instance(&self) -> anyhow::Result<Instance> {
        if let Some(instance) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(instance);
        }
        let mut store = self.sandbox.store(
            &self.env,
            self.allowed.clone(),
            self.timeout_ms,
            self.options.request_deadline,
        );
        let proxy = self.pre.instantiate_async(&mut store).await?;
        self.instances_made.fetch_add(1, Ordering::Relaxed);
        Ok((store, proxy))
    }

    /// Answers one request with the component.
    pub async fn handle<B>(&self, request: hyper::Request<B>) -> hyper::Response<HyperOutgoingBody>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let (method, path) = (request.method().clone(), request.uri().path().to_string());
        let response = match self.run(request).await {
            Ok(response) => response,
            Err(e) => {
                tracing::warn!(%method, %path, error = %format!("{e:#}"), "the component was stopped");
                failure(
                    500,
                    "the request could not be completed: the bridge was stopped",
                )
            }
        };
        // The path only: the query may hold a filter on a user's name.
        tracing::info!(
            %method,
            %path,
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "scim request"
        );
        response
    }

    async fn run<B>(
        &self,
        request: hyper::Request<B>,
    ) -> anyhow::Result<hyper::Response<HyperOutgoingBody>>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let _turn = self.busy.acquire().await?;
        let (mut store, proxy) = self.instance().await?;
        let request = request.map(|body| {
            Limited::new(body, MAX_BODY_BYTES).map_err(|e| {
                wasmtime_wasi_http::p2::bindings::http::types::ErrorCode::InternalError(Some(
                    e.to_string(),
                ))
            })
        });
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        store.set_epoch_deadline(deadline_ticks(self.options.request_deadline));
        let call = proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, incoming, out);
        let outcome = tokio::time::timeout(self.options.request_deadline, call).await;
        match outcome {
            Ok(Ok(())) => {
                self.largest_memory
                    .fetch_max(store.data().memory_size(), Ordering::Relaxed);
                self.idle
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((store, proxy));
            }
            Ok(Err(trap)) => return Err(trap.into()),
            Err(_) => anyhow::bail!(
                "the request exceeded its deadline of {:?}",
                self.options.request_deadline
            ),
        }
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => anyhow::bail!("the component answered with an error: {code:?}"),
            Err(_) => anyhow::bail!("the component set no response"),
        }
    }

    /// Serves `listener` until `shutdown` completes, then lets the requests in flight finish
    /// (for at most the request deadline).
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            let Ok((stream, _)) = accepted else { continue };
            let server = self.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let server = server.clone();
                async move { Ok::<_, std::convert::Infallible>(server.handle(request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(self.options.header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
        let _ = tokio::time::timeout(self.options.request_deadline, graceful.shutdown()).await;
        Ok(())
    }
}

/// A SCIM error answer the host writes itself.
fn failure(status: u16, detail: &str) -> hyper::Response<HyperOutgoingBody> {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.to_string(),
        "detail": detail,
    });
    let body = Full::new(Bytes::from(body.to_string()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/scim+json"),
    );
    response
}
