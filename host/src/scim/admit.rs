//! What a request must pass before it takes an instance: the right bearer token, from its
//! headers alone, and its whole body, within its own time and size. A refusal is a SCIM
//! error the host writes itself.

use super::options::ScimLimits;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderMap, HeaderValue};
use std::time::Duration;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A request the host answers itself.
#[derive(Debug)]
pub(super) struct Refusal {
    status: u16,
    detail: String,
    retry_after_secs: Option<u32>,
}

impl Refusal {
    pub(super) fn new(status: u16, detail: impl Into<String>) -> Self {
        Refusal {
            status,
            detail: detail.into(),
            retry_after_secs: None,
        }
    }

    fn unauthorized() -> Self {
        Self::new(
            401,
            "a bearer token (the provisioning app's Secret Token) is required",
        )
    }

    pub(super) fn busy(retry_after_secs: u32) -> Self {
        Refusal {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(503, "every instance is busy: try again later")
        }
    }

    /// The SCIM error answer.
    pub(super) fn response(&self) -> hyper::Response<HyperOutgoingBody> {
        let body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        let body = Full::new(Bytes::from(body.to_string()))
            .map_err(|never| match never {})
            .boxed_unsync();
        let mut response = hyper::Response::new(body);
        *response.status_mut() = hyper::StatusCode::from_u16(self.status).unwrap_or_default();
        let headers = response.headers_mut();
        headers.insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("application/scim+json"),
        );
        if self.status == 401 {
            headers.insert(
                hyper::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer"),
            );
        }
        // A client without the token, or whose body was not read whole, keeps no connection:
        // an unauthenticated client cannot hold one of the connection slots while it idles.
        if matches!(self.status, 401 | 408 | 413) {
            headers.insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Some(seconds) = self.retry_after_secs {
            headers.insert(hyper::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The request's bearer token is `token`: the scheme's name in any letter case (RFC 7235
/// §2.1), the token compared in constant time.
pub(super) fn authorized(headers: &HeaderMap, token: &str) -> Result<(), Refusal> {
    use subtle::ConstantTimeEq;
    let given = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once([' ', '\t']))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, given)| given.trim());
    match given {
        Some(given)
            if given.len() == token.len()
                && bool::from(given.as_bytes().ct_eq(token.as_bytes())) =>
        {
            Ok(())
        }
        _ => Err(Refusal::unauthorized()),
    }
}

/// The token a token file holds: one line of visible ASCII characters (what an
/// `Authorization` header carries unchanged), the whitespace around it aside. A problem never
/// quotes the file.
pub(super) fn token_in_file(content: &[u8]) -> Result<String, &'static str> {
    let text = std::str::from_utf8(content)
        .map_err(|_| "the token file is not text")?
        .trim();
    if text.is_empty() {
        return Err("the token file is empty");
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "the token file must hold one token: visible ASCII characters, without spaces or line breaks",
        );
    }
    Ok(text.to_string())
}

/// The answer to `GET /health`: the server is up, and nothing else.
pub(super) fn healthy() -> hyper::Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::from_static(b"ok\n"))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    response
}

/// The request with its whole body read, at most `max_body_bytes` within `body_timeout`.
pub(super) async fn with_body<B>(
    request: hyper::Request<B>,
    limits: &ScimLimits,
) -> Result<hyper::Request<Full<Bytes>>, Refusal>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let too_large = || {
        Refusal::new(
            413,
            format!(
                "the body is larger than the {} bytes allowed",
                limits.max_body_bytes
            ),
        )
    };
    let declared = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return Err(too_large());
    }
    let (parts, body) = request.into_parts();
    let read = Limited::new(body, limits.max_body_bytes).collect();
    let body = match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Ok(Err(e)) => {
            return Err(Refusal::new(
                400,
                format!("the body could not be read: {e}"),
            ));
        }
        Err(_) => return Err(slow_body(limits.body_timeout)),
    };
    Ok(hyper::Request::from_parts(parts, Full::new(body)))
}

fn slow_body(timeout: Duration) -> Refusal {
    Refusal::new(
        408,
        format!("the body did not arrive within {} s", timeout.as_secs_f32()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            hyper::header::AUTHORIZATION,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn the_token_is_taken_from_a_bearer_scheme_in_any_letter_case() {
        for value in ["Bearer s3cret", "bearer s3cret", "BEARER   s3cret "] {
            assert!(
                authorized(&with_authorization(value), "s3cret").is_ok(),
                "{value}"
            );
        }
        for value in [
            "Bearer s3cre",
            "Basic s3cret",
            "s3cret",
            "Bearer",
            "Bearer s3cret x",
        ] {
            assert!(
                authorized(&with_authorization(value), "s3cret").is_err(),
                "{value}"
            );
        }
        let refused = authorized(&HeaderMap::new(), "s3cret")
            .unwrap_err()
            .response();
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.headers()["www-authenticate"], "Bearer");
        assert_eq!(refused.headers()["connection"], "close");
    }

    #[test]
    fn a_token_file_holds_one_token_of_visible_characters() {
        assert_eq!(token_in_file(b"  0a1b2c\n").unwrap(), "0a1b2c");
        assert_eq!(token_in_file(b"a.b-c_d~e+f/g=").unwrap(), "a.b-c_d~e+f/g=");
        for (content, problem) in [
            (&b""[..], "empty"),
            (b" \n\t", "empty"),
            (b"one\ntwo", "one token"),
            (b"one two", "one token"),
            (b"caf\xc3\xa9", "one token"),
            (b"\xff\xfe", "not text"),
        ] {
            let refused = token_in_file(content).unwrap_err();
            assert!(refused.contains(problem), "{content:?}: {refused}");
        }
    }
}
