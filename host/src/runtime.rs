//! Loads the component (compiled once, cached on disk) and makes the confined instances that
//! sessions and steps run in.

use crate::bindings::{Smartcomm, SmartcommPre};
use crate::cache::{self, Compilation};
use crate::policy::{Origin, OutboundPolicy, RequestObserver};
use crate::pool::ConnectionPool;
use crate::session::Session;
use crate::step_calls::Steps;
use anyhow::Context as _;
use sha2::{Digest, Sha256};
use smartcomm::config::{Config, DEFAULT_API_URL, DEFAULT_AUTH_URL, DEFAULT_TIMEOUT_MS};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The component built from this workspace's `src/` and embedded at build time.
pub const EMBEDDED_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/smartcomm.wasm"));
const EMBEDDED_COMPONENT_SHA256: &str = env!("SMARTCOMM_EMBEDDED_SHA256");

const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Where the component comes from.
#[derive(Clone, Debug, Default)]
pub enum ComponentSource {
    /// The component embedded in this binary.
    #[default]
    Embedded,
    /// A `.wasm` component file.
    Path(PathBuf),
    Bytes(Arc<[u8]>),
}

/// How the host loads and confines the component.
#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    pub component: ComponentSource,
    /// Where compiled code is cached; `None` compiles on every start.
    pub cache_dir: Option<PathBuf>,
    /// The most linear memory one instance may use.
    pub memory_limit: usize,
    /// The longest one call may run (guest code and its HTTP waits together).
    pub call_deadline: Duration,
    /// The longest wait for a response head, and between two body chunks.
    pub response_timeout: Duration,
    /// Reuse keep-alive connections across requests and instances (on by default); off opens
    /// a new connection for every request, as wasmtime-wasi-http's default sender does.
    pub reuse_connections: bool,
    /// Preallocate memory and tables for this many concurrent instances with wasmtime's
    /// pooling allocator, which makes creating an instance cheaper; `None` allocates per
    /// instance. More concurrent instances than this fail to instantiate.
    pub pooled_instances: Option<u32>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            component: ComponentSource::Embedded,
            cache_dir: cache::default_cache_dir(),
            memory_limit: 64 << 20,
            call_deadline: Duration::from_secs(300),
            response_timeout: Duration::from_secs(60),
            reuse_connections: true,
            pooled_instances: None,
        }
    }
}

struct Shared {
    engine: Engine,
    pre: SmartcommPre<HostState>,
    options: RuntimeOptions,
    compilation: Compilation,
    pool: Option<Arc<ConnectionPool>>,
    observer: Mutex<Option<RequestObserver>>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// A loaded component, ready to instantiate. Cheap to clone; share it between sessions.
#[derive(Clone)]
pub struct Runtime {
    shared: Arc<Shared>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("options", &self.shared.options)
            .field("compilation", &self.shared.compilation)
            .finish()
    }
}

impl Runtime {
    /// Loads the component: from the disk cache when it holds this component compiled by
    /// this wasmtime, else by compiling it (and filling the cache).
    pub fn new(options: RuntimeOptions) -> anyhow::Result<Runtime> {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        // The component uses WASI 0.2 and plain async calls, not the component model's own
        // concurrency; without it, wasmtime skips creating a task for every guest-to-host call.
        config.concurrency_support(false);
        if let Some(instances) = options.pooled_instances {
            let mut pooling = wasmtime::PoolingAllocationConfig::default();
            pooling
                .total_component_instances(instances)
                .total_core_instances(instances.saturating_mul(4))
                .total_memories(instances)
                .total_tables(instances.saturating_mul(2))
                .max_memory_size(options.memory_limit);
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pooling));
        }
        let engine = Engine::new(&config)?;
        let wasm: std::borrow::Cow<[u8]> = match &options.component {
            ComponentSource::Embedded => EMBEDDED_COMPONENT.into(),
            ComponentSource::Path(path) => std::fs::read(path)
                .with_context(|| format!("reading the component {}", path.display()))?
                .into(),
            ComponentSource::Bytes(bytes) => bytes.to_vec().into(),
        };
        let digest = match &options.component {
            // Hashed at build time: hashing it here took a fifth of a CLI call's own CPU time.
            ComponentSource::Embedded => EMBEDDED_COMPONENT_SHA256.to_string(),
            _ => cache::hex(&Sha256::digest(&wasm)),
        };
        let (component, compilation) =
            cache::load(&engine, &wasm, &digest, options.cache_dir.as_deref())?;
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        let pre = SmartcommPre::new(linker.instantiate_pre(&component)?)?;

        let pool = options
            .reuse_connections
            .then(|| Arc::new(ConnectionPool::default()));
        let stop_ticker = Arc::new(AtomicBool::new(false));
        let ticker_engine = engine.clone();
        let stop = stop_ticker.clone();
        std::thread::Builder::new()
            .name("smartcomm-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticker_engine.increment_epoch();
                }
            })?;
        Ok(Runtime {
            shared: Arc::new(Shared {
                engine,
                pre,
                options,
                compilation,
                pool,
                observer: Mutex::new(None),
                stop_ticker,
            }),
        })
    }

    /// The longest one call may run.
    pub(crate) fn call_deadline(&self) -> Duration {
        self.shared.options.call_deadline
    }

    /// Calls `observer` for every request of every instance made from now on, as its answer
    /// arrives (method, path and status only), for a progress display.
    pub fn observe_requests(&self, observer: RequestObserver) {
        *self
            .shared
            .observer
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(observer);
    }

    /// The loaded component: its imports, exports and their types.
    pub fn component(&self) -> &wasmtime::component::Component {
        self.shared.pre.instance_pre().component()
    }

    pub fn compilation(&self) -> Compilation {
        self.shared.compilation
    }

    /// Creates one instance and drops it, as every step call does before it runs: hosts can
    /// call it to warm up, and the benchmarks time it.
    pub async fn instantiate_once(&self) -> anyhow::Result<()> {
        self.new_instance(&[], Vec::new(), None).await.map(drop)
    }

    /// Connections opened by this runtime's pool so far (0 when connections are not reused).
    pub fn connections_opened(&self) -> u64 {
        self.shared
            .pool
            .as_ref()
            .map_or(0, |p| p.connections_opened())
    }

    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }

    /// A session for one account. Sends nothing until its first call.
    pub fn session(&self, config: Config) -> Session {
        Session::new(self.clone(), config)
    }

    /// A fresh store and component instance, confined by the options, `allowed` and the
    /// timeout, with `env` as its whole environment.
    pub(crate) async fn new_instance(
        &self,
        env: &[(String, String)],
        allowed: Vec<Origin>,
        timeout_ms: Option<u32>,
    ) -> anyhow::Result<(Store<HostState>, Smartcomm)> {
        let options = &self.shared.options;
        let timeout = Duration::from_millis(timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).into());
        let policy = OutboundPolicy {
            allowed,
            connect_timeout: timeout,
            // The component's `timeout-ms` bounds the wait for the answer too, within the
            // host's own limit.
            response_timeout: timeout.min(options.response_timeout),
            pool: self.shared.pool.clone(),
            observer: self
                .shared
                .observer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        };
        let state = HostState {
            wasi: WasiCtx::builder().envs(env).build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            policy,
            limits: MemoryTracked {
                limits: StoreLimitsBuilder::new()
                    .memory_size(options.memory_limit)
                    .instances(4)
                    .build(),
                memory_size: 0,
            },
        };
        let mut store = Store::new(&self.shared.engine, state);
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks(options.call_deadline));
        let bindings = self.shared.pre.instantiate_async(&mut store).await?;
        Ok((store, bindings))
    }

    /// The step functions, configured by `config` through the guest's environment.
    pub fn steps(&self, config: &Config) -> Steps {
        Steps::new(
            self.clone(),
            config.to_env(),
            configured_origins(config),
            config.timeout_ms,
        )
    }

    /// The step functions with exactly these environment variables (and nothing of the host's
    /// own environment); the outbound allow-list follows their URLs.
    pub fn steps_with_env(&self, env: Vec<(String, String)>) -> Steps {
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let (allowed, timeout_ms) = match Config::from_env(lookup) {
            Ok(config) => (configured_origins(&config), config.timeout_ms),
            Err(_) => (Vec::new(), None),
        };
        Steps::new(self.clone(), env, allowed, timeout_ms)
    }
}

/// The origins of the API and authenticate URLs: all a session may reach.
pub(crate) fn configured_origins(config: &Config) -> Vec<Origin> {
    let api_url = config.api_url.as_deref().unwrap_or(DEFAULT_API_URL);
    let auth_url = config.auth_url.as_deref().unwrap_or(DEFAULT_AUTH_URL);
    [api_url, auth_url]
        .into_iter()
        .filter_map(Origin::of)
        .collect()
}

pub(crate) fn deadline_ticks(deadline: Duration) -> u64 {
    (deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
}

/// The state of one store: the WASI and wasi-http contexts the guest sees, and the outbound
/// policy that every one of its HTTP requests passes through.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    policy: OutboundPolicy,
    limits: MemoryTracked,
}

impl HostState {
    /// The guest's linear memory, in bytes (it only grows).
    pub(crate) fn memory_size(&self) -> usize {
        self.limits.memory_size
    }
}

/// The store's limits, noting the size its memory grew to.
struct MemoryTracked {
    limits: StoreLimits,
    memory_size: usize,
}

impl ResourceLimiter for MemoryTracked {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory_size = self.memory_size.max(desired);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.policy,
        }
    }
}
