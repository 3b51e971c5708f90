//! smartcomm: the IntelePeer SmartCommunicator User Management API as a WebAssembly component.
//!
//! The modules below are plain Rust and build for any target: the JSON model, validation,
//! request building, response parsing, batching and the client logic over a `Transport`.
//! Only `component` (the WIT exports) and `http` (wasi:http through waki) are wasm-only.

pub mod batch;
pub mod client;
pub mod converge;
pub mod env;
pub mod error;
pub mod model;
pub mod request;
pub mod response;
pub mod validate;
mod wit_conversions;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod http;

#[cfg(test)]
mod tests;
