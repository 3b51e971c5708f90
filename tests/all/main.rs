//! The end-to-end tests: the real component in the real host, over HTTP on loopback, against
//! the emulator. One binary, one module per area, so wasmtime is linked once.

mod certificates;
mod common;
mod tools;

mod agents;
mod auth;
mod automation;
mod cli;
mod concurrency;
mod connections;
mod deadline;
mod emulator;
mod engine_contract;
mod entra_graph;
mod host_policy;
mod inboxes;
mod numbers;
mod polyglot;
mod production_scim;
mod reliability;
mod scim;
mod scim_https;
mod scim_okta;
mod scim_server;
mod scim_suites;
mod secrets;
mod step_environment;
mod steps;
mod sync;
mod validation;
