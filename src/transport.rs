//! What the client needs from the outside world: HTTP exchanges (several may be in flight at
//! once), clocks, sleep and randomness. The component implements it with wasi:http (`http`);
//! tests script it.

use crate::error::ApiError;
use crate::request::Method;
use crate::response::RawResponse;
use std::fmt;

/// One HTTP exchange as the transport performs it.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
    /// Connect timeout, and the longest wait for the head and between body chunks.
    pub timeout_ms: u32,
    /// A larger body is an `UnexpectedResponse`.
    pub max_response_bytes: u32,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers carry the token and bodies may carry the password: neither is shown.
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The client drives several exchanges at once from one thread, so every method takes
/// `&self` and the futures need not be `Send`.
pub trait Transport {
    fn send(&self, request: &HttpRequest) -> impl Future<Output = Result<RawResponse, ApiError>>;
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> u64;
    /// Milliseconds on a clock that only moves forward.
    fn now_ms(&self) -> u64;
    fn sleep_ms(&self, ms: u64) -> impl Future<Output = ()>;
    /// Ends when the clock of `now_ms` reaches `at_ms`: the call's deadline. A transport on a
    /// simulated clock may end it only when that clock gets there.
    fn deadline(&self, at_ms: u64) -> impl Future<Output = ()> {
        async move {
            let now = self.now_ms();
            if at_ms > now {
                self.sleep_ms(at_ms - now).await;
            }
        }
    }
    /// A random number in `0..=max` (backoff jitter).
    fn random_up_to(&self, max: u64) -> u64;
}
