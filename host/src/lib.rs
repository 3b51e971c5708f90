//! Runs the smartcomm component (the IntelePeer SmartCommunicator User Management API as a
//! WebAssembly component) in wasmtime, and a stateful emulator of the API to run it against.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use smartcomm_host::{Runtime, RuntimeOptions, Config, Auth};
//! let runtime = Runtime::new(RuntimeOptions::default())?;
//! let mut session = runtime.session(Config::new(
//!     "12345678",
//!     Auth::Credentials { username: "me@example.com".into(), password: "…".into() },
//! ));
//! let agent = session.get_agent("17c528d0-dcfa-49bf-bb2b-8955bf377e5a".into(), None, None).await?;
//! println!("{:?}", agent.name);
//! # Ok(()) }
//! ```

pub mod blocking;
pub mod convert;
pub mod demo;
pub mod emulator;
mod policy;
mod pool;
mod runtime;

pub use policy::{Origin, OutboundPolicy, is_loopback};
pub use runtime::{
    CallError, Compilation, ComponentSource, EMBEDDED_COMPONENT, Runtime, RuntimeOptions, Session,
    StepCallError, Steps, default_cache_dir,
};
pub use smartcomm::client::{Auth, AuthScheme, Config};

/// Rust types and bindings generated from `wit/`.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "smartcomm",
        exports: { default: async },
        additional_derives: [PartialEq],
    });
}

/// The WIT types of each interface, for callers.
pub use bindings::exports::intelepeer::smartcommunicator::{
    agents, inboxes, numbers, steps, types,
};

/// For this crate's own tests.
#[doc(hidden)]
pub mod testing {
    /// A component of the smartcomm world whose `authenticate` spins forever and whose
    /// `agents.get` allocates without bound.
    pub const MISBEHAVING_COMPONENT: &str = concat!(env!("OUT_DIR"), "/misbehaving.wasm");
}

/// The README's Rust example compiles (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
