//! Loads the component (compiled once, cached on disk) and makes the confined instances that
//! sessions and steps run in.

use crate::bindings::{Smartcomm, SmartcommPre};
use crate::cache::{self, Compilation};
use crate::policy::{Origin, RequestObserver};
use crate::sandbox::{Embedded, HostState, Sandbox, configured_origins};
use crate::session::Session;
use crate::step_calls::Steps;
use smartcomm::config::Config;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Engine, Store};

/// The component built from this workspace's `src/` and embedded at build time.
pub const EMBEDDED_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/smartcomm.wasm"));
const EMBEDDED_COMPONENT_SHA256: &str = env!("SMARTCOMM_EMBEDDED_SHA256");

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

/// A loaded component, ready to instantiate. Cheap to clone; share it between sessions.
#[derive(Clone)]
pub struct Runtime {
    sandbox: Arc<Sandbox>,
    pre: SmartcommPre<HostState>,
    compilation: Compilation,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("options", &self.sandbox.options)
            .field("compilation", &self.compilation)
            .finish()
    }
}

impl Runtime {
    /// Loads the component: from the disk cache when it holds this component compiled by
    /// this wasmtime, else by compiling it (and filling the cache).
    pub fn new(options: RuntimeOptions) -> anyhow::Result<Runtime> {
        let source = options.component.clone();
        let sandbox = Sandbox::new(options)?;
        let embedded = Embedded {
            wasm: EMBEDDED_COMPONENT,
            sha256: EMBEDDED_COMPONENT_SHA256,
        };
        let (component, compilation) = sandbox.load(&source, embedded)?;
        let pre = SmartcommPre::new(sandbox.linker()?.instantiate_pre(&component)?)?;
        Ok(Runtime {
            sandbox,
            pre,
            compilation,
        })
    }

    /// The longest one call may run.
    pub(crate) fn call_deadline(&self) -> Duration {
        self.sandbox.options.call_deadline
    }

    /// Calls `observer` for every request of every instance made from now on, as its answer
    /// arrives (method, path and status only), for a progress display.
    pub fn observe_requests(&self, observer: RequestObserver) {
        self.sandbox.observe_requests(observer);
    }

    /// The loaded component: its imports, exports and their types.
    pub fn component(&self) -> &wasmtime::component::Component {
        self.pre.instance_pre().component()
    }

    pub fn compilation(&self) -> Compilation {
        self.compilation
    }

    /// Creates one instance and drops it, as every step call does before it runs: hosts can
    /// call it to warm up, and the benchmarks time it.
    pub async fn instantiate_once(&self) -> anyhow::Result<()> {
        self.new_instance(&[], Vec::new(), None).await.map(drop)
    }

    /// Connections opened by this runtime's pool so far (0 when connections are not reused).
    pub fn connections_opened(&self) -> u64 {
        self.sandbox.connections_opened()
    }

    pub fn engine(&self) -> &Engine {
        &self.sandbox.engine
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
        let mut store = self.sandbox.store(env, allowed, timeout_ms);
        let bindings = self.pre.instantiate_async(&mut store).await?;
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
