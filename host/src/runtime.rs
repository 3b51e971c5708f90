//! Loads the component (compiled once, cached on disk), and runs calls in sessions.

use crate::bindings::exports::intelepeer::smartcommunicator::{
    agents, inboxes, numbers, steps, types,
};
use crate::bindings::{Smartcomm, SmartcommPre};
use crate::policy::{Origin, OutboundPolicy};
use crate::pool::ConnectionPool;
use anyhow::Context as _;
use sha2::{Digest, Sha256};
use smartcomm::client::{Auth, AuthScheme, Config, DEFAULT_API_URL, DEFAULT_AUTH_URL};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, ResourceAny, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
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
            cache_dir: default_cache_dir(),
            memory_limit: 64 << 20,
            call_deadline: Duration::from_secs(300),
            response_timeout: Duration::from_secs(60),
            reuse_connections: true,
            pooled_instances: None,
        }
    }
}

/// `$SMARTCOMM_CACHE_DIR`, else `$XDG_CACHE_HOME/smartcomm`, else `~/.cache/smartcomm`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SMARTCOMM_CACHE_DIR") {
        return Some(dir.into());
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("smartcomm"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/smartcomm"))
}

/// How the compiled component was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compilation {
    /// Read from the disk cache: no compilation.
    Cached,
    /// Compiled now (and written to the cache when there is one).
    Compiled,
}

struct Shared {
    engine: Engine,
    pre: SmartcommPre<HostState>,
    options: RuntimeOptions,
    compilation: Compilation,
    pool: Option<Arc<ConnectionPool>>,
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
            _ => hex(&Sha256::digest(&wasm)),
        };
        let (component, compilation) = load(&engine, &wasm, &digest, options.cache_dir.as_deref())?;
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
                stop_ticker,
            }),
        })
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
        Session {
            runtime: self.clone(),
            allowed: configured_origins(&config),
            config,
            instance: None,
        }
    }

    /// A fresh store and component instance, confined by the options, `allowed` and the
    /// timeout, with `env` as its whole environment.
    async fn new_instance(
        &self,
        env: &[(String, String)],
        allowed: Vec<Origin>,
        timeout_ms: Option<u32>,
    ) -> anyhow::Result<(Store<HostState>, Smartcomm)> {
        let options = &self.shared.options;
        let timeout = Duration::from_millis(
            timeout_ms
                .unwrap_or(smartcomm::client::DEFAULT_TIMEOUT_MS)
                .into(),
        );
        let policy = OutboundPolicy {
            allowed,
            connect_timeout: timeout,
            // The component's `timeout-ms` bounds the wait for the answer too, within the
            // host's own limit.
            response_timeout: timeout.min(options.response_timeout),
            pool: self.shared.pool.clone(),
        };
        let state = HostState {
            wasi: WasiCtx::builder().envs(env).build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            policy,
            limits: StoreLimitsBuilder::new()
                .memory_size(options.memory_limit)
                .instances(4)
                .build(),
        };
        let mut store = Store::new(&self.shared.engine, state);
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks(options.call_deadline));
        let bindings = self.shared.pre.instantiate_async(&mut store).await?;
        Ok((store, bindings))
    }

    async fn instantiate(&self, config: &Config, allowed: Vec<Origin>) -> anyhow::Result<Instance> {
        let (mut store, bindings) = self.new_instance(&[], allowed, config.timeout_ms).await?;
        let client = bindings
            .intelepeer_smartcommunicator_types()
            .client()
            .call_constructor(&mut store, &wit_config(config))
            .await?;
        Ok(Instance {
            store,
            bindings,
            client,
        })
    }

    /// The step functions, configured by `config` through the guest's environment.
    pub fn steps(&self, config: &Config) -> Steps {
        Steps {
            runtime: self.clone(),
            env: smartcomm::env::variables_for(config),
            allowed: configured_origins(config),
            timeout_ms: config.timeout_ms,
        }
    }

    /// The step functions with exactly these environment variables (and nothing of the host's
    /// own environment); the outbound allow-list follows their URLs.
    pub fn steps_with_env(&self, env: Vec<(String, String)>) -> Steps {
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let parsed = smartcomm::env::config_from(lookup);
        let (allowed, timeout_ms) = match &parsed {
            Ok(config) => (configured_origins(config), config.timeout_ms),
            Err(_) => (Vec::new(), None),
        };
        Steps {
            runtime: self.clone(),
            env,
            allowed,
            timeout_ms,
        }
    }
}

/// The origins of the API and authenticate URLs: all a session may reach.
fn configured_origins(config: &Config) -> Vec<Origin> {
    let api_url = config.api_url.as_deref().unwrap_or(DEFAULT_API_URL);
    let auth_url = config.auth_url.as_deref().unwrap_or(DEFAULT_AUTH_URL);
    [api_url, auth_url]
        .into_iter()
        .filter_map(Origin::of)
        .collect()
}

fn deadline_ticks(deadline: Duration) -> u64 {
    (deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
}

fn wit_config(config: &Config) -> types::ClientConfig {
    types::ClientConfig {
        api_url: config.api_url.clone(),
        auth_url: config.auth_url.clone(),
        customer_id: config.customer_id.clone(),
        auth: match &config.auth {
            Auth::Credentials { username, password } => {
                types::Auth::Credentials(types::Credentials {
                    username: username.clone(),
                    password: password.clone(),
                })
            }
            Auth::Token(token) => types::Auth::Token(token.clone()),
        },
        auth_scheme: Some(match config.auth_scheme {
            AuthScheme::Bearer => types::AuthScheme::Bearer,
            AuthScheme::Bare => types::AuthScheme::Bare,
        }),
        timeout_ms: config.timeout_ms,
        retry: Some(types::RetryPolicy {
            max_attempts: Some(config.retry.max_attempts),
            base_delay_ms: Some(config.retry.base_delay_ms),
            max_delay_ms: Some(config.retry.max_delay_ms),
            budget_ms: Some(config.retry.budget_ms),
        }),
        max_response_bytes: config.max_response_bytes,
    }
}

fn load(
    engine: &Engine,
    wasm: &[u8],
    wasm_sha256: &str,
    cache_dir: Option<&Path>,
) -> anyhow::Result<(Component, Compilation)> {
    let Some(dir) = cache_dir else {
        return Ok((Component::new(engine, wasm)?, Compilation::Compiled));
    };
    let path = dir.join(format!("{}.cwasm", cache_key(engine, wasm_sha256)));
    if path.exists() {
        // SAFETY: the file is one this function wrote: wasmtime's own serialization of this
        // component, named after the component's hash, wasmtime's version and the engine's
        // compatibility hash. A file that does not match is rejected by wasmtime's header check.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok((component, Compilation::Cached)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable compiled-code cache")
            }
        }
    }
    let compiled = engine.precompile_component(wasm)?;
    if let Err(e) = write_atomically(dir, &path, &compiled) {
        tracing::warn!(path = %path.display(), error = %e, "could not write the compiled-code cache");
    }
    // SAFETY: `compiled` was produced by this engine just now.
    let component = unsafe { Component::deserialize(engine, &compiled)? };
    Ok((component, Compilation::Compiled))
}

fn cache_key(engine: &Engine, wasm_sha256: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut compat = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let mut hasher = Sha256::new();
    hasher.update(wasm_sha256.as_bytes());
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(wasmtime_version().as_bytes());
    hasher.update(compat.finish().to_le_bytes());
    hex(&hasher.finalize()[..16])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn wasmtime_version() -> &'static str {
    // The crate's major.minor.patch, resolved from Cargo.lock at build time.
    env!("SMARTCOMM_WASMTIME_VERSION")
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), unique()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

pub(crate) struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    policy: OutboundPolicy,
    limits: StoreLimits,
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

struct Instance {
    store: Store<HostState>,
    bindings: Smartcomm,
    client: ResourceAny,
}

/// Why a call did not return the component's answer.
#[derive(Debug)]
pub enum CallError {
    /// The component's own error: invalid input, an API error, a transport failure.
    Api(types::Error),
    /// The host stopped the call (deadline, memory limit, trap) or could not instantiate
    /// the component. The session starts a fresh instance on its next call.
    Host(anyhow::Error),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Api(e) => f.write_str(&crate::convert::describe_error(e)),
            CallError::Host(e) => write!(f, "the host stopped the call: {e:#}"),
        }
    }
}

impl std::error::Error for CallError {}

/// One account's connection: a component instance holding a `client` (and its token),
/// made on the first call. Calls are sequential (`&mut self`).
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

macro_rules! operations {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty
            = |$b:ident, $store:ident, $client:ident| $call:expr;
    )*) => {
        impl Session {$(
            $(#[$doc])*
            pub async fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, CallError> {
                let deadline = self.runtime.shared.options.call_deadline;
                let instance = self.instance().await?;
                instance.store.set_epoch_deadline(deadline_ticks(deadline));
                let started = Instant::now();
                // The epoch deadline stops guest code that runs too long; the timeout stops a
                // call that waits too long in the host (for example on a slow response).
                let outcome = {
                    let $b = &instance.bindings;
                    let $store = &mut instance.store;
                    let $client = instance.client;
                    tokio::time::timeout(deadline, $call).await
                };
                let outcome = outcome.unwrap_or_else(|_| {
                    Err(wasmtime::Error::msg(format!("the call exceeded its deadline of {deadline:?}")))
                });
                tracing::debug!(operation = stringify!($name), elapsed_ms = started.elapsed().as_millis() as u64, "call finished");
                self.settle(outcome)
            }
        )*}

        impl crate::blocking::Session {$(
            $(#[$doc])*
            pub fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, CallError> {
                self.runtime.block_on(self.session.$name($($arg),*))
            }
        )*}
    };
}

impl Session {
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

    async fn instance(&mut self) -> Result<&mut Instance, CallError> {
        if self.instance.is_none() {
            let instance = self
                .runtime
                .instantiate(&self.config, self.allowed.clone())
                .await
                .map_err(CallError::Host)?;
            self.instance = Some(instance);
        }
        Ok(self.instance.as_mut().expect("just set"))
    }

    fn settle<T>(
        &mut self,
        outcome: wasmtime::Result<Result<T, types::Error>>,
    ) -> Result<T, CallError> {
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(CallError::Api(e)),
            Err(trap) => {
                // A trapped instance cannot be entered again: the next call starts afresh.
                self.instance = None;
                tracing::warn!(error = %format!("{trap:#}"), "the component was stopped");
                Err(CallError::Host(trap.into()))
            }
        }
    }
}

operations! {
    /// Authenticates now and returns the token's expiry (never the token).
    fn authenticate() -> types::TokenInfo
        = |b, store, client| b.intelepeer_smartcommunicator_types().client().call_authenticate(store, client);

    /// Onboards agents (`POST /{customer_id}/agents`, 10 per request); one outcome per agent.
    fn onboard(agents: Vec<agents::NewAgent>, options: agents::OnboardOptions) -> Vec<types::ItemOutcome>
        = |b, store, client| b.intelepeer_smartcommunicator_agents().call_onboard(store, client, &agents, options);

    /// Reads one agent (`GET /{customer_id}/agents/{id}`).
    fn get_agent(id: String, key_id: Option<types::KeyId>, upn: Option<String>) -> agents::Agent
        = |b, store, client| b.intelepeer_smartcommunicator_agents().call_get(store, client, &id, key_id, upn.as_deref());

    /// Lists agents matching every given filter (`GET /{customer_id}/agents`).
    fn list_agents(filter: agents::AgentFilter) -> Vec<agents::Agent>
        = |b, store, client| b.intelepeer_smartcommunicator_agents().call_list(store, client, &filter);

    /// Updates one agent (`PATCH /{customer_id}/agents/{id}`).
    fn update_agent(id: String, key_id: Option<types::KeyId>, changes: agents::AgentChanges) -> agents::Agent
        = |b, store, client| b.intelepeer_smartcommunicator_agents().call_update(store, client, &id, key_id, &changes);

    /// Updates many agents (`PATCH /{customer_id}/agents`, 10 per request).
    fn update_agents(updates: Vec<agents::AgentUpdate>, continue_on_error: Option<bool>) -> Vec<agents::UpdateOutcome>
        = |b, store, client| b.intelepeer_smartcommunicator_agents().call_update_many(store, client, &updates, continue_on_error);

    /// Offboards one agent (`DELETE /{customer_id}/agents/{id}`); returns the API's message.
    fn offboard_agent(id: String, key_id: Option<types::KeyId>, deprovision_supervised_inbox: Option<bool>) -> String
        = |b, store, client| b.intelepeer_smartcommunicator_agents().call_offboard(store, client, &id, key_id, deprovision_supervised_inbox);

    /// Offboards the agents each selector names (`POST /{customer_id}/agents/offboard`).
    fn offboard_agents(selectors: Vec<agents::AgentSelector>, options: agents::OffboardOptions) -> Vec<types::ItemOutcome>
        = |b, store, client| b.intelepeer_smartcommunicator_agents().call_offboard_many(store, client, &selectors, options);

    /// Creates inboxes (`POST /{customer_id}/inboxes`, 10 per request).
    fn create_inboxes(inboxes: Vec<inboxes::NewInbox>, continue_on_error: Option<bool>) -> Vec<types::ItemOutcome>
        = |b, store, client| b.intelepeer_smartcommunicator_inboxes().call_create(store, client, &inboxes, continue_on_error);

    /// Adds agents to or removes them from inboxes (`POST /{customer_id}/inboxes/assignments`).
    fn assign(assignments: Vec<inboxes::Assignment>) -> Vec<types::ItemOutcome>
        = |b, store, client| b.intelepeer_smartcommunicator_inboxes().call_assign(store, client, &assignments);

    /// Lists registered numbers (`GET /{customer_id}/numbers`).
    fn list_numbers(status: Option<types::NumberStatus>, digits: Option<String>) -> Vec<numbers::NumberInfo>
        = |b, store, client| b.intelepeer_smartcommunicator_numbers().call_list(store, client, status, digits.as_deref());
}

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

/// The resource-free step functions, as a workflow engine calls them: every call on a fresh
/// instance whose environment holds only the `SMARTCOMM_*` settings.
#[derive(Clone)]
pub struct Steps {
    runtime: Runtime,
    env: Vec<(String, String)>,
    allowed: Vec<Origin>,
    timeout_ms: Option<u32>,
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

macro_rules! step_operations {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = |$b:ident, $store:ident| $call:expr;
    )*) => {
        impl Steps {$(
            $(#[$doc])*
            pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret, StepCallError> {
                let deadline = self.runtime.shared.options.call_deadline;
                let (mut store, bindings) = self
                    .runtime
                    .new_instance(&self.env, self.allowed.clone(), self.timeout_ms)
                    .await
                    .map_err(StepCallError::Host)?;
                let outcome = {
                    let $b = &bindings;
                    let $store = &mut store;
                    tokio::time::timeout(deadline, $call).await
                };
                match outcome {
                    Ok(Ok(Ok(value))) => Ok(value),
                    Ok(Ok(Err(e))) => Err(StepCallError::Step(e)),
                    Ok(Err(trap)) => Err(StepCallError::Host(trap.into())),
                    Err(_) => Err(StepCallError::Host(anyhow::anyhow!(
                        "the call exceeded its deadline of {deadline:?}"
                    ))),
                }
            }
        )*}
    };
}

step_operations! {
    /// `onboard-agents`.
    fn onboard(agents: Vec<agents::NewAgent>, options: agents::OnboardOptions) -> Vec<types::ItemOutcome>
        = |b, store| b.intelepeer_smartcommunicator_steps().call_onboard_agents(store, &agents, options);

    /// `get-agent`.
    fn get_agent(id: String, key_id: Option<types::KeyId>, upn: Option<String>) -> agents::Agent
        = |b, store| b.intelepeer_smartcommunicator_steps().call_get_agent(store, &id, key_id, upn.as_deref());

    /// `list-agents`.
    fn list_agents(filter: agents::AgentFilter) -> Vec<agents::Agent>
        = |b, store| b.intelepeer_smartcommunicator_steps().call_list_agents(store, &filter);

    /// `update-agent`.
    fn update_agent(id: String, key_id: Option<types::KeyId>, changes: agents::AgentChanges) -> agents::Agent
        = |b, store| b.intelepeer_smartcommunicator_steps().call_update_agent(store, &id, key_id, &changes);

    /// `update-agents`.
    fn update_agents(updates: Vec<agents::AgentUpdate>, continue_on_error: Option<bool>) -> Vec<agents::UpdateOutcome>
        = |b, store| b.intelepeer_smartcommunicator_steps().call_update_agents(store, &updates, continue_on_error);

    /// `offboard-agent`.
    fn offboard_agent(id: String, key_id: Option<types::KeyId>, deprovision_supervised_inbox: Option<bool>) -> String
        = |b, store| b.intelepeer_smartcommunicator_steps().call_offboard_agent(store, &id, key_id, deprovision_supervised_inbox);

    /// `offboard-agents`.
    fn offboard_agents(selectors: Vec<agents::AgentSelector>, options: agents::OffboardOptions) -> Vec<types::ItemOutcome>
        = |b, store| b.intelepeer_smartcommunicator_steps().call_offboard_agents(store, &selectors, options);

    /// `create-inboxes`.
    fn create_inboxes(inboxes: Vec<inboxes::NewInbox>, continue_on_error: Option<bool>) -> Vec<types::ItemOutcome>
        = |b, store| b.intelepeer_smartcommunicator_steps().call_create_inboxes(store, &inboxes, continue_on_error);

    /// `assign-inboxes`.
    fn assign(assignments: Vec<inboxes::Assignment>) -> Vec<types::ItemOutcome>
        = |b, store| b.intelepeer_smartcommunicator_steps().call_assign_inboxes(store, &assignments);

    /// `list-numbers`.
    fn list_numbers(status: Option<types::NumberStatus>, digits: Option<String>) -> Vec<numbers::NumberInfo>
        = |b, store| b.intelepeer_smartcommunicator_steps().call_list_numbers(store, status, digits.as_deref());
}
