//! What every component the host runs shares: the engine (with its epoch ticker for
//! deadlines), the compiled-code cache, the connection pool, and the confined store each
//! instance lives in — no files, only the environment it is given, a memory limit, and every
//! HTTP request through the outbound policy.

use crate::cache::{self, Compilation};
use crate::options::{ComponentSource, RuntimeOptions};
use crate::policy::{Origin, OutboundPolicy, RequestObserver};
use crate::pool::ConnectionPool;
use anyhow::Context as _;
use sha2::{Digest, Sha256};
use smartcomm::config::{Config, DEFAULT_API_URL, DEFAULT_AUTH_URL, DEFAULT_TIMEOUT_MS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A component built into this binary, and its digest (hashed at build time: hashing it at
/// start took a fifth of a CLI call's own CPU time).
#[derive(Clone, Copy)]
pub(crate) struct Embedded {
    pub wasm: &'static [u8],
    pub sha256: &'static str,
}

pub(crate) struct Sandbox {
    pub engine: Engine,
    pub options: RuntimeOptions,
    pool: Option<Arc<ConnectionPool>>,
    observer: Mutex<Option<RequestObserver>>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

impl Sandbox {
    pub fn new(options: RuntimeOptions) -> anyhow::Result<Arc<Sandbox>> {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        // The components use WASI 0.2 and plain async calls, not the component model's own
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
        let stop_ticker = Arc::new(AtomicBool::new(false));
        let (ticker_engine, stop) = (engine.clone(), stop_ticker.clone());
        std::thread::Builder::new()
            .name("smartcomm-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticker_engine.increment_epoch();
                }
            })?;
        Ok(Arc::new(Sandbox {
            pool: options
                .reuse_connections
                .then(|| Arc::new(ConnectionPool::default())),
            engine,
            options,
            observer: Mutex::new(None),
            stop_ticker,
        }))
    }

    /// The component `source` names (`embedded` for the default), from the disk cache when it
    /// holds it compiled by this wasmtime, else compiled now.
    pub fn load(
        &self,
        source: &ComponentSource,
        embedded: Embedded,
    ) -> anyhow::Result<(Component, Compilation)> {
        let wasm: std::borrow::Cow<[u8]> = match source {
            ComponentSource::Embedded => embedded.wasm.into(),
            ComponentSource::Path(path) => std::fs::read(path)
                .with_context(|| format!("reading the component {}", path.display()))?
                .into(),
            ComponentSource::Bytes(bytes) => bytes.to_vec().into(),
        };
        let digest = match source {
            ComponentSource::Embedded => embedded.sha256.to_string(),
            _ => cache::hex(&Sha256::digest(&wasm)),
        };
        cache::load(
            &self.engine,
            &wasm,
            &digest,
            self.options.cache_dir.as_deref(),
        )
    }

    /// WASI p2 (filesystem and sockets included, which the store grants nothing of) and
    /// wasi:http.
    pub fn linker(&self) -> anyhow::Result<Linker<HostState>> {
        let mut linker = Linker::<HostState>::new(&self.engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        Ok(linker)
    }

    pub fn observe_requests(&self, observer: RequestObserver) {
        *self.observer.lock().unwrap_or_else(|p| p.into_inner()) = Some(observer);
    }

    pub fn connections_opened(&self) -> u64 {
        self.pool.as_ref().map_or(0, |p| p.connections_opened())
    }

    /// A fresh store, confined by the options, `allowed` and the timeout, with `env` as its
    /// whole environment.
    pub fn store(
        &self,
        env: &[(String, String)],
        allowed: Vec<Origin>,
        timeout_ms: Option<u32>,
        deadline: Duration,
    ) -> Store<HostState> {
        let options = &self.options;
        let timeout = Duration::from_millis(timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).into());
        let policy = OutboundPolicy {
            allowed,
            connect_timeout: timeout,
            // The component's `timeout-ms` bounds the wait for the answer too, within the
            // host's own limit.
            response_timeout: timeout.min(options.response_timeout),
            pool: self.pool.clone(),
            observer: self
                .observer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            in_flight: Arc::new(Semaphore::new(options.max_requests_in_flight.max(1))),
        };
        let state = HostState {
            // No sockets at all: the guest reaches the network through wasi:http only, where
            // the policy applies (and no name lookups either).
            wasi: WasiCtx::builder()
                .envs(env)
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build(),
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
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks(deadline));
        store
    }
}

/// The origins of the API and authenticate URLs: all a session may reach.
pub(crate) fn configured_origins(config: &Config) -> Vec<Origin> {
    let api_url = config.api_url.as_deref().unwrap_or(DEFAULT_API_URL);
    let auth_url = config.auth_url.as_deref().unwrap_or(DEFAULT_AUTH_URL);
    let mut origins: Vec<Origin> = [api_url, auth_url]
        .into_iter()
        .filter_map(Origin::of)
        .collect();
    // Graph and Entra's login only for a config that can read a group.
    if let Ok(graph) = config.graph.settings() {
        origins.extend(
            [graph.graph_url.as_str(), graph.login_url.as_str()]
                .into_iter()
                .filter_map(Origin::of),
        );
    }
    origins
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
