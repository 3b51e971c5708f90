//! One module per API area; each command is the operation of the same name.

pub mod agents;
pub mod emulator;
pub mod inboxes;
pub mod nightly;
pub mod numbers;
pub mod scim;
pub mod sync;
