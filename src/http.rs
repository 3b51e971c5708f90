//! The only place that performs I/O: HTTP through wasi:http, clocks, sleeping and randomness.
//!
//! wstd drives wasi:http asynchronously: `outgoing-handler.handle` returns at once with a
//! future response, and its reactor waits on the pollables of every request in flight with
//! one `wasi:io/poll.poll`, so one instance keeps several requests in flight. Each request
//! carries its three timeouts (connect, first byte, between bytes); a host may cap them.

use crate::error::ApiError;
use crate::request::Method;
use crate::response::RawResponse;
use crate::transport::{HttpRequest, Transport};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use wstd::http::body::Bytes;
use wstd::http::body::util::{BodyExt, Empty, Full};
use wstd::http::{Body, Client, ErrorCode, Request};
use wstd::time::Duration;

pub struct WasiHttp {
    started: Instant,
}

impl WasiHttp {
    pub fn new() -> Self {
        WasiHttp::default()
    }
}

impl Default for WasiHttp {
    fn default() -> Self {
        WasiHttp {
            started: Instant::now(),
        }
    }
}

fn transport_error(error: wstd::http::Error) -> ApiError {
    let described = format!("{error:#}");
    match error.downcast_ref::<ErrorCode>() {
        Some(
            ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::ConnectionWriteTimeout
            | ErrorCode::HttpResponseTimeout,
        ) => ApiError::timeout(described),
        Some(ErrorCode::HttpRequestDenied) => ApiError::Denied(described),
        _ => ApiError::transport(described),
    }
}

impl Transport for WasiHttp {
    async fn send(&self, request: &HttpRequest) -> Result<RawResponse, ApiError> {
        let method = match request.method {
            Method::Get => wstd::http::Method::GET,
            Method::Post => wstd::http::Method::POST,
            Method::Patch => wstd::http::Method::PATCH,
            Method::Delete => wstd::http::Method::DELETE,
        };
        let mut builder = Request::builder().method(method).uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value.as_str());
        }
        // No content-length: a host that puts secrets into the body (Obelisk replaces the
        // password's placeholder) changes its length, and a stale length leaves the server
        // waiting for bytes that never come. No body at all writes nothing: writing even an
        // empty chunk to a GET's body stream fails once the host has sent the request whole.
        let body = match &request.body {
            Some(body) => Body::from_http_body(Full::new(Bytes::from(body.clone()))),
            None => Body::from_http_body(Empty::<Bytes>::new()),
        };
        let outgoing = builder
            .body(body)
            .map_err(|e| ApiError::transport(format!("building the request: {e}")))?;
        let timeout = Duration::from_millis(request.timeout_ms.into());
        let mut client = Client::new();
        client.set_connect_timeout(timeout);
        client.set_first_byte_timeout(timeout);
        client.set_between_bytes_timeout(timeout);
        let response = client.send(outgoing).await.map_err(transport_error)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let status = response.status().as_u16();
        let content_type = header("content-type");
        let retry_after = header("retry-after");
        let limit = request.max_response_bytes as usize;
        let mut incoming = response.into_body().into_boxed_body();
        let mut body = Vec::new();
        while let Some(frame) = incoming.frame().await {
            let Ok(chunk) = frame.map_err(transport_error)?.into_data() else {
                continue; // trailers
            };
            body.extend_from_slice(&chunk);
            if body.len() > limit {
                return Err(ApiError::UnexpectedResponse {
                    status,
                    content_type,
                    body_excerpt: format!("the body exceeds the limit of {limit} bytes"),
                });
            }
        }
        Ok(RawResponse {
            status,
            content_type,
            retry_after,
            body,
        })
    }

    fn now_unix(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    async fn sleep_ms(&self, ms: u64) {
        wstd::task::sleep(Duration::from_millis(ms)).await;
    }

    fn random_up_to(&self, max: u64) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        // RandomState draws its keys from wasi:random; jitter needs nothing stronger.
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        random % max.saturating_add(1)
    }
}
