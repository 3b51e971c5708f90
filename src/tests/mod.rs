//! Native unit tests of the pure modules.

mod batching;
mod client;
mod reference_examples;
mod validation;
