//! Native unit tests of the pure modules.

mod batching;
mod client;
mod properties;
mod reference_examples;
mod validation;
