//! The only place that performs I/O: HTTP through wasi:http (via waki), clocks, sleeping and
//! randomness (all through the standard library's wasip2 support).
//!
//! waki sets the connect timeout of a request; the wait for the response head and between
//! body chunks is bounded by the host (smartcomm's host applies `timeout-ms` to both).

use crate::error::ApiError;
use crate::request::Method;
use crate::response::RawResponse;
use crate::transport::{HttpRequest, Transport};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use waki::{Client, ErrorCode};

pub struct WasiHttp {
    started: Instant,
}

impl WasiHttp {
    pub fn new() -> Self {
        WasiHttp {
            started: Instant::now(),
        }
    }
}

fn transport_error(error: anyhow::Error) -> ApiError {
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
    fn send(&mut self, request: &HttpRequest) -> Result<RawResponse, ApiError> {
        let client = Client::new();
        let mut builder = match request.method {
            Method::Get => client.get(&request.url),
            Method::Post => client.post(&request.url),
            Method::Patch => client.patch(&request.url),
            Method::Delete => client.delete(&request.url),
        };
        for (name, value) in &request.headers {
            builder = builder.header(*name, value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.as_bytes());
        }
        let response = builder
            .connect_timeout(Duration::from_millis(request.timeout_ms.into()))
            .send()
            .map_err(transport_error)?;
        let header = |name: &str| {
            response
                .header(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let status = response.status_code();
        let content_type = header("content-type");
        let retry_after = header("retry-after");
        let limit = request.max_response_bytes as usize;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk(64 * 1024).map_err(transport_error)? {
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

    fn sleep_ms(&mut self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    fn random_up_to(&mut self, max: u64) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        // RandomState draws its keys from wasi:random; jitter needs nothing stronger.
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        random % max.saturating_add(1)
    }
}
