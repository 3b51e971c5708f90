//! The `wasi:http/incoming-handler` export: checks the token, reads the request (its body up
//! to the limit), answers it with the instance's bridge, and writes the SCIM answer. The bridge, its client
//! and its token live as long as the instance: a host that keeps instances between requests
//! authenticates once per instance, not once per request.

use crate::bridge::{Bridge, Settings};
use crate::error::{ScimError, problems_text};
use crate::exchange::{MAX_BODY_BYTES, ScimRequest, ScimResponse, body_too_large};
use smartcomm::http::WasiHttp;
use std::cell::OnceCell;
use waki::{ErrorCode, Method, Request, Response, handler};

thread_local! {
    static BRIDGE: OnceCell<Result<Bridge<WasiHttp>, ScimError>> = const { OnceCell::new() };
}

fn bridge_from_env() -> Result<Bridge<WasiHttp>, ScimError> {
    let (config, settings) = Settings::from_env(|name| std::env::var(name).ok()).map_err(|p| {
        ScimError::internal(format!(
            "the bridge is not configured: {}",
            problems_text(&p)
        ))
    })?;
    Ok(Bridge::new(config, settings, WasiHttp::new()))
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Patch => "PATCH".into(),
        Method::Delete => "DELETE".into(),
        Method::Head => "HEAD".into(),
        Method::Options => "OPTIONS".into(),
        Method::Connect => "CONNECT".into(),
        Method::Trace => "TRACE".into(),
        Method::Other(other) => other.to_ascii_uppercase(),
    }
}

fn header(request: &Request, name: &str) -> Option<String> {
    request
        .header(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The request as the bridge reads it; a body over the limit is refused unread.
fn read(request: &Request) -> Result<ScimRequest, ScimError> {
    let header = |name: &str| header(request, name);
    let mut body = Vec::new();
    loop {
        match request.chunk(64 * 1024) {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_BODY_BYTES {
                    return Err(body_too_large(body.len()));
                }
            }
            Ok(None) => break,
            Err(e) => return Err(ScimError::invalid_syntax(format!("reading the body: {e}"))),
        }
    }
    Ok(ScimRequest {
        method: method_name(&request.method()),
        path: request.path().to_string(),
        query: request.query().into_iter().collect(),
        authorization: header("authorization"),
        // wasi:http hands the Host header over as the request's authority.
        host: request
            .authority()
            .as_ref()
            .map(|a| a.to_string())
            .or_else(|| header("host")),
        forwarded_proto: header("x-forwarded-proto"),
        forwarded_host: header("x-forwarded-host"),
        body,
    })
}

fn write(answer: ScimResponse) -> Result<Response, ErrorCode> {
    let mut builder = Response::builder()
        .status_code(answer.status)
        .header("content-type", "application/scim+json");
    if let Some(location) = answer.location {
        builder = builder.header("location", location);
    }
    if let Some(seconds) = answer.retry_after {
        builder = builder.header("retry-after", seconds.to_string());
    }
    if let Some(scheme) = answer.challenge {
        builder = builder.header("www-authenticate", scheme);
    }
    if let Some(body) = answer.body {
        builder = builder.body(serde_json::to_vec(&body).unwrap_or_default());
    }
    builder.build()
}

/// The token is checked from the headers before the body is read: a client without it never
/// holds the instance while it sends one.
#[handler]
fn handle(request: Request) -> Result<Response, ErrorCode> {
    let answer = BRIDGE.with(|cell| match cell.get_or_init(bridge_from_env) {
        Err(e) => e.clone().into(),
        Ok(bridge) if !bridge.authorizes(header(&request, "authorization").as_deref()) => {
            ScimError::unauthorized().into()
        }
        Ok(bridge) => match read(&request) {
            Ok(request) => wstd::runtime::block_on(bridge.handle(&request)),
            Err(e) => e.into(),
        },
    });
    write(answer)
}
