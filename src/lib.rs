//! smartcomm: the IntelePeer SmartCommunicator User Management API as a WebAssembly component.
//!
//! The modules below are plain Rust and build for any target: the settings, the JSON model,
//! validation, request building, response parsing, batching, the Entra mapping and the Graph
//! roster reader, the order of requests in
//! flight, the limit on them, convergence, and the client over a `Transport`. Only
//! `component` (the WIT exports) and `http` (wasi:http through wstd) are wasm-only.

pub mod batch;
mod bulk;
pub mod client;
pub mod config;
pub mod converge;
pub mod dispatch;
pub mod entra;
pub mod error;
pub mod graph;
pub mod limit;
pub mod model;
mod readback;
pub mod request;
pub mod response;
pub mod sync;
pub mod transport;
pub mod validate;
mod wit_conversions;

#[cfg(all(target_arch = "wasm32", any(feature = "component", feature = "engine")))]
mod component;
#[cfg(target_arch = "wasm32")]
pub mod http;

#[cfg(test)]
mod tests;
