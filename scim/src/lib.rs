//! A SCIM 2.0 endpoint (RFC 7643, 7644) for SmartCommunicator: identity providers (Microsoft
//! Entra ID, Okta) create, update, disable and delete users and manage group memberships,
//! and the bridge turns each request into the User Management API's operations through the
//! `smartcomm` client.
//!
//! Built for `wasm32-wasip2`, the crate is a component of the `wasi:http/proxy` world
//! (`handler`, wasm-only). Everything else is plain Rust: filters and PATCH paths, the
//! mapping between Users and agents and between Groups and shared inboxes, discovery, and
//! the endpoints over any `Transport`.

pub mod bridge;
pub mod discovery;
pub mod error;
pub mod exchange;
pub mod filter;
pub mod group;
mod groups;
pub mod key;
pub mod patch;
pub mod projection;
pub mod user;
mod users;

#[cfg(target_arch = "wasm32")]
mod handler;
