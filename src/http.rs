//! The only place that performs I/O: HTTP through wasi:http (via waki) and the wall clock.

use crate::client::{HttpRequest, Transport};
use crate::error::ApiError;
use crate::request::Method;
use crate::response::RawResponse;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use waki::{Client, ErrorCode};

/// Answers larger than this are refused rather than buffered: no documented answer comes near.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

pub struct WasiHttp;

fn transport_error(error: anyhow::Error) -> ApiError {
    let described = format!("{error:#}");
    match error.downcast_ref::<ErrorCode>() {
        Some(
            ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::ConnectionWriteTimeout
            | ErrorCode::HttpResponseTimeout,
        ) => ApiError::Timeout(described),
        Some(ErrorCode::HttpRequestDenied) => {
            ApiError::Transport(format!("the host denied the request: {described}"))
        }
        _ => ApiError::Transport(described),
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
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk(64 * 1024).map_err(transport_error)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_RESPONSE_BYTES {
                return Err(ApiError::UnexpectedResponse {
                    status,
                    content_type,
                    body_excerpt: format!("the body exceeds {MAX_RESPONSE_BYTES} bytes"),
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
}
