//! Runs the smartcomm component (the IntelePeer SmartCommunicator User Management API as a
//! WebAssembly component) in wasmtime: compiled once and cached, each instance confined, its
//! HTTP requests passed through one outbound policy.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use smartcomm_host::{Auth, Config, Operations, Runtime, RuntimeOptions};
//! let runtime = Runtime::new(RuntimeOptions::default())?;
//! let mut session = runtime.session(Config::new(
//!     "12345678",
//!     Auth::Credentials { username: "me@example.com".into(), password: "…".into() },
//! ));
//! let agent = session.get_agent("17c528d0-dcfa-49bf-bb2b-8955bf377e5a".into(), None, None).await?;
//! println!("{:?}", agent.name);
//! # Ok(()) }
//! ```

// The step error (`steps::StepError`) is large since `sync.plan`'s refusal at the removal cap
// carries the refused plan, for a person to read and apply; every error type that holds it is
// large too. It is the rare path, and boxing it would change every match on the public errors.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

pub mod blocking;
mod cache;
pub mod convert;
mod operations;
mod options;
mod policy;
mod pool;
mod runtime;
mod sandbox;
mod scim;
mod session;
mod step_calls;

pub use cache::{Compilation, default_cache_dir};
pub use operations::Operations;
pub use options::{ComponentSource, RuntimeOptions};
pub use policy::{ObservedRequest, Origin, OutboundPolicy, RequestObserver, is_loopback};
pub use runtime::{EMBEDDED_COMPONENT, Runtime};
pub use scim::{
    EMBEDDED_SCIM_COMPONENT, ScimLimits, ScimOptions, ScimServer, ScimSettingError, Stopped,
    TlsFiles,
};
pub use session::{CallError, Session};
pub use smartcomm::config::{Auth, AuthScheme, Config, RetryPolicy};
pub use step_calls::{StepCallError, Steps};

/// Rust types and bindings generated from `wit/`.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "smartcomm",
        exports: { default: async },
        additional_derives: [PartialEq],
    });
}

/// The WIT types (`types`: the data of every area; `client`: the connection's settings) and
/// the step error, for callers.
pub use bindings::exports::intelepeer::smartcommunicator::{client, entra, steps, types};

/// For this crate's own tests.
#[doc(hidden)]
pub mod testing {
    /// A component of the smartcomm world whose `authenticate` spins forever and whose
    /// `agents.get` allocates without bound.
    pub const MISBEHAVING_COMPONENT: &str = concat!(env!("OUT_DIR"), "/misbehaving.wasm");
}

/// The Rust examples of the embedding guide compile (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../../docs/embedding.md")]
struct EmbeddingGuideExamples;
