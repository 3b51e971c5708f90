//! How the host loads and confines the component: the options of a `Runtime`.

use crate::cache;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    /// How long past a call's own deadline (the config's `call_deadline`, which the component
    /// keeps: at it, the call returns what it has) the host stops the call: the backstop for
    /// a guest that spins or ignores its deadline, which then returns no outcome at all.
    pub deadline_margin: Duration,
    /// The longest wait for a response head, and between two body chunks.
    pub response_timeout: Duration,
    /// The most HTTP requests one instance may have waiting for their answers' heads at once;
    /// more wait for a place, whatever the guest's own concurrency.
    pub max_requests_in_flight: usize,
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
            deadline_margin: Duration::from_secs(10),
            response_timeout: Duration::from_secs(60),
            max_requests_in_flight: smartcomm::config::MAX_CONCURRENCY as usize,
            reuse_connections: true,
            pooled_instances: None,
        }
    }
}
