//! smartcomm: the IntelePeer SmartCommunicator User Management API as a WebAssembly component.
//!
//! The modules below are plain Rust and build for any target: the settings, the JSON model,
//! validation, request building, response parsing, batching, read-back and the client logic
//! over a `Transport`. Only `component` (the WIT exports) and `http` (wasi:http through
//! waki) are wasm-only.

pub mod batch;
pub mod client;
pub mod config;
pub mod converge;
pub mod error;
pub mod model;
pub mod request;
pub mod response;
pub mod sync;
pub mod transport;
pub mod validate;
mod wit_conversions;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod http;

#[cfg(test)]
mod tests;
