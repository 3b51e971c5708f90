//! Loads the component (compiled once, cached on disk) and makes the confined instances that
//! sessions and steps run in.

use crate::bindings::{Smartcomm, SmartcommPre};
use crate::cache::Compilation;
use crate::options::RuntimeOptions;
use crate::policy::{Origin, RequestObserver};
use crate::sandbox::{Embedded, HostState, Sandbox};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::types::ComponentItem;
use wasmtime::{Engine, Store};

/// The component built from this workspace's `src/` and embedded at build time.
pub const EMBEDDED_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/smartcomm.wasm"));
const EMBEDDED_COMPONENT_SHA256: &str = env!("SMARTCOMM_EMBEDDED_SHA256");

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

    /// Where the host stops a call whose own deadline is `call_deadline_secs`: that deadline
    /// and the margin.
    pub(crate) fn backstop(&self, call_deadline_secs: u32) -> Duration {
        Duration::from_secs(call_deadline_secs.into()) + self.sandbox.options.deadline_margin
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

    /// The functions the loaded component exports, by the interface that exports them, each
    /// list sorted: what an engine offers of this build.
    pub fn exported_functions(&self) -> BTreeMap<String, Vec<String>> {
        functions_by_interface(self.engine(), self.component())
    }

    /// `exported_functions` of any component, of whatever world: loaded (through the cache)
    /// but neither linked nor instantiated, so that the engine build, the SCIM component or a
    /// build without exports can be listed too.
    pub fn exports_of(options: RuntimeOptions) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
        let source = options.component.clone();
        let sandbox = Sandbox::new(options)?;
        let embedded = Embedded {
            wasm: EMBEDDED_COMPONENT,
            sha256: EMBEDDED_COMPONENT_SHA256,
        };
        let (component, _) = sandbox.load(&source, embedded)?;
        Ok(functions_by_interface(&sandbox.engine, &component))
    }

    pub fn compilation(&self) -> Compilation {
        self.compilation
    }

    /// Creates one instance and drops it, as every step call does before it runs: hosts can
    /// call it to warm up, and the benchmarks time it.
    pub async fn instantiate_once(&self) -> anyhow::Result<()> {
        let deadline = self.backstop(smartcomm::config::DEFAULT_CALL_DEADLINE_SECS);
        self.new_instance(&[], Vec::new(), None, deadline)
            .await
            .map(drop)
    }

    /// Connections opened by this runtime's pool so far (0 when connections are not reused).
    pub fn connections_opened(&self) -> u64 {
        self.sandbox.connections_opened()
    }

    pub fn engine(&self) -> &Engine {
        &self.sandbox.engine
    }

    /// A fresh store and component instance, confined by the options, `allowed` and the
    /// timeout, with `env` as its whole environment; its guest code stops at `deadline`.
    pub(crate) async fn new_instance(
        &self,
        env: &[(String, String)],
        allowed: Vec<Origin>,
        timeout_ms: Option<u32>,
        deadline: Duration,
    ) -> anyhow::Result<(Store<HostState>, Smartcomm)> {
        let mut store = self.sandbox.store(env, allowed, timeout_ms, deadline);
        let bindings = self.pre.instantiate_async(&mut store).await?;
        Ok((store, bindings))
    }
}

fn functions_by_interface(
    engine: &Engine,
    component: &wasmtime::component::Component,
) -> BTreeMap<String, Vec<String>> {
    let mut interfaces = BTreeMap::new();
    for (interface, export) in component.component_type().exports(engine) {
        let ComponentItem::ComponentInstance(instance) = export.ty else {
            continue;
        };
        let mut functions: Vec<String> = instance
            .exports(engine)
            .filter(|(_, export)| matches!(export.ty, ComponentItem::ComponentFunc(_)))
            .map(|(name, _)| name.to_string())
            .collect();
        functions.sort();
        interfaces.insert(interface.to_string(), functions);
    }
    interfaces
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
