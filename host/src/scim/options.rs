//! How the SCIM server runs the component, and every limit it holds its clients to: the one
//! place they are set.

use crate::options::RuntimeOptions;
use std::path::PathBuf;
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
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// A file that holds the bearer token (`SMARTCOMM_SCIM_TOKEN_FILE`), instead of the
    /// token among the instances' settings; followed while the server runs.
    pub token_file: Option<PathBuf>,
    /// How often the token file and the certificate files are looked at for a change. A
    /// change is taken once two looks in a row read the same content, so that a file being
    /// written is never taken half-way; `ScimServer::reload` takes it at once.
    pub watch_interval: Duration,
    /// Once a shutdown is asked for, the longest the requests in flight may take to finish:
    /// past it they are cut. Below a service manager's grace period (Kubernetes: 30 s).
    pub shutdown_grace: Duration,
}

/// The PEM files of the server's certificate (the chain, the server's own first) and its
/// private key (PKCS#8, PKCS#1 or SEC1).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for ScimOptions {
    fn default() -> Self {
        ScimOptions {
            runtime: RuntimeOptions::default(),
            instances: 8,
            request_deadline: Duration::from_secs(60),
            limits: ScimLimits::default(),
            tls: None,
            token_file: None,
            watch_interval: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(25),
        }
    }
}

/// The limits that keep slow, unauthenticated or numerous clients from holding the server:
/// a request takes an instance only once its head and whole body are in and its token is
/// right.
#[derive(Clone, Debug)]
pub struct ScimLimits {
    /// The longest a client may take to send a request's head, once its first byte is in; a
    /// new connection must deliver its first request's head (and its TLS handshake) within it.
    pub header_timeout: Duration,
    /// The longest a kept-alive connection may wait for its next request. Longer than the
    /// idle time of the proxies that keep connections to the server (nginx and AWS ALB: 60
    /// s; Google Cloud: 600 s), so that a proxy never sends a request on a connection the
    /// server is closing.
    pub idle_timeout: Duration,
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
            idle_timeout: Duration::from_secs(620),
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
