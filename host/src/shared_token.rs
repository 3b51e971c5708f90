//! One authenticate for all the instances of a session. Each instance's `client` asks for a
//! token by itself, as the component always does; this makes those requests single-flight:
//! while one is on its way the others wait for it, and an instance that has not seen the
//! newest answer gets that answer without a request. Only an instance whose newest token was
//! refused (a 401) sends a new one, so a revoked token costs one authenticate, not one per
//! instance.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// Larger authenticate requests or answers than this are not the API's.
const MAX_BODY: usize = 64 << 10;

/// The newest answer of the authenticate endpoint, with the number of answers before it.
struct Issued {
    epoch: u64,
    status: http::StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
}

/// The authenticate endpoint of one session and its newest answer.
pub struct SharedToken {
    endpoint: http::Uri,
    issued: tokio::sync::Mutex<Option<Issued>>,
}

impl fmt::Debug for SharedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The answer holds the token: never printed.
        f.debug_struct("SharedToken")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The epoch of the newest answer one instance has received.
pub type Seen = Arc<AtomicU64>;

impl SharedToken {
    pub fn new(endpoint: http::Uri) -> Arc<SharedToken> {
        Arc::new(SharedToken {
            endpoint,
            issued: tokio::sync::Mutex::new(None),
        })
    }

    pub fn is_authenticate(&self, request: &http::Request<WasiBody>) -> bool {
        let (uri, endpoint) = (request.uri(), &self.endpoint);
        request.method() == http::Method::POST
            && uri.scheme() == endpoint.scheme()
            && uri.authority() == endpoint.authority()
            && uri.path() == endpoint.path()
    }

    /// Answers an authenticate request of the instance that has seen `seen`: with the newest
    /// answer when the instance has not seen it, else by sending it with `send`.
    pub async fn authenticate<F>(
        &self,
        seen: &AtomicU64,
        request: http::Request<WasiBody>,
        send: impl FnOnce(http::Request<WasiBody>) -> F,
    ) -> Result<http::Response<WasiBody>, HttpError>
    where
        F: Future<Output = Result<http::Response<WasiBody>, HttpError>>,
    {
        let (parts, body) = request.into_parts();
        let body = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|_| HttpError::HttpRequestBodySize(None))?
            .to_bytes();
        // Held while a request is on its way: the others wait for its answer.
        let mut issued = self.issued.lock().await;
        if let Some(newest) = issued
            .as_ref()
            .filter(|i| i.epoch > seen.load(Ordering::Acquire))
        {
            seen.store(newest.epoch, Ordering::Release);
            return Ok(replay(newest.status, &newest.headers, newest.body.clone()));
        }
        let request = http::Request::from_parts(parts, full(body));
        let response = send(request).await?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|_| HttpError::HttpResponseBodySize(None))?
            .to_bytes();
        let epoch = issued.as_ref().map_or(0, |i| i.epoch) + 1;
        seen.store(epoch, Ordering::Release);
        *issued = Some(Issued {
            epoch,
            status: parts.status,
            headers: parts.headers.clone(),
            body: body.clone(),
        });
        Ok(replay(parts.status, &parts.headers, body))
    }
}

fn full(body: Bytes) -> WasiBody {
    Full::new(body)
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn replay(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    body: Bytes,
) -> http::Response<WasiBody> {
    let mut response = http::Response::new(full(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers.clone();
    response
}
