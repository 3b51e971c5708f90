//! How the SCIM server runs the component, and every limit it holds its clients to: the one
//! place they are set.

use crate::options::RuntimeOptions;
use std::time::Duration;

/// How the server runs the component.
#[derive(Clone, Debug)]
pub struct ScimOptions {
    /// The component (`component`: the embedded SCIM one by default), its cache and limits.
    pub runtime: RuntimeOptions,
    /// The most requests served at once, each on an instance of its own.
    pub instances: usize,
    /// The longest one request may take, the component's work and its API calls included: the
    /// deadline of the call the request is (the component answers a 503 with `Retry-After`
    /// at it). The host stops an instance that outlives it by the runtime's
    /// `deadline_margin`, and answers a 500.
    pub request_deadline: Duration,
    /// What a client may send, and how slowly.
    pub limits: ScimLimits,
}

impl Default for ScimOptions {
    fn default() -> Self {
        ScimOptions {
            runtime: RuntimeOptions::default(),
            instances: 8,
            request_deadline: Duration::from_secs(60),
            limits: ScimLimits::default(),
        }
    }
}

/// The limits that keep slow, unauthenticated or numerous clients from holding the server:
/// a request takes an instance only once its head and whole body are in and its token is
/// right.
#[derive(Clone, Debug)]
pub struct ScimLimits {
    /// The longest a client may take to send a request's head.
    pub header_timeout: Duration,
    /// The longest a client may take to send a request's body, once its head is in.
    pub body_timeout: Duration,
    /// The largest request body read (the component's own limit): more is a 413.
    pub max_body_bytes: usize,
    /// The longest a request waits for a free instance: past it, a 503.
    pub instance_wait: Duration,
    /// The `Retry-After` of that 503, in seconds.
    pub busy_retry_after_secs: u32,
    /// The most connections open at once: more wait in the listen queue until one closes.
    pub max_connections: usize,
    /// The largest request head (request line and headers); more is a 431. SCIM's longest
    /// is a filter (2,048 characters, percent-encoded) with a bearer token.
    pub max_header_bytes: usize,
    /// The most header fields of a request.
    pub max_headers: usize,
    /// The most one connection buffers of what a client sends.
    pub read_buffer_bytes: usize,
    /// The longest pause after a failed accept (out of file descriptors, say); pauses double
    /// from 10 ms up to it, so that the loop neither spins nor stops.
    pub accept_backoff_max: Duration,
}

impl Default for ScimLimits {
    fn default() -> Self {
        ScimLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_body_bytes: 1 << 20,
            instance_wait: Duration::from_secs(10),
            busy_retry_after_secs: 5,
            max_connections: 256,
            max_header_bytes: 16 << 10,
            max_headers: 64,
            read_buffer_bytes: 64 << 10,
            accept_backoff_max: Duration::from_secs(1),
        }
    }
}
