//! Faults a test injects per route: wrong statuses, broken or lost answers, slow ones.

use crate::{Body, full, json_response, lock};
use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use hyper::body::Frame;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

/// What a fault rule does to a matching request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status (and `Retry-After`, and body) without applying the request.
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<String>,
        #[serde(default)]
        body: Option<Value>,
    },
    /// Apply the request, then hold the answer back this long.
    Delay { ms: u64 },
    /// Hold the request this long, then apply it and answer: a request that lands late. It
    /// lands even when the client has stopped waiting for it.
    ApplyLate { ms: u64 },
    /// Change the account's password to this one and revoke every token issued so far, then
    /// handle the request (which meets a 401): a password changed while a client works.
    ChangePassword { password: String },
    /// Close the connection without answering; nothing is applied.
    Drop,
    /// Apply the request, then send half of the answer and close the connection.
    Truncate,
    /// Revoke every token issued so far, then handle the request (which meets a 401).
    RevokeTokens,
    /// Answer with an HTML error page (as a proxy would); nothing is applied.
    Html { status: u16 },
    /// Answer with an empty body; nothing is applied.
    Empty { status: u16 },
    /// Answer 200 with a JSON body of about this many bytes; nothing is applied.
    Oversized { bytes: usize },
    /// Apply the request, then answer with `status`, or drop the connection when `None`: the
    /// client cannot know the request succeeded.
    LostResponse {
        #[serde(default)]
        status: Option<u16>,
    },
}

/// For the next `times` requests matching `route` (`*` for any), and whose body holds
/// `body_contains` when it is set, after letting `after` of them through, do `action`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FaultRule {
    pub route: String,
    pub times: u32,
    pub action: FaultAction,
    #[serde(default)]
    pub after: u32,
    #[serde(default)]
    pub body_contains: Option<String>,
}

impl FaultRule {
    /// `action` for the next `times` requests of `route`.
    pub fn new(route: impl Into<String>, times: u32, action: FaultAction) -> FaultRule {
        FaultRule {
            route: route.into(),
            times,
            action,
            after: 0,
            body_contains: None,
        }
    }

    /// Once `n` matching requests have gone through.
    pub fn after(self, n: u32) -> FaultRule {
        FaultRule { after: n, ..self }
    }

    /// Only for requests whose body holds `text`.
    pub fn body_contains(self, text: impl Into<String>) -> FaultRule {
        FaultRule {
            body_contains: Some(text.into()),
            ..self
        }
    }
}

/// The rules in the order they were added; the first that matches a request is used up.
#[derive(Default)]
pub(crate) struct Faults(Mutex<Vec<FaultRule>>);

impl Faults {
    pub fn add(&self, rule: FaultRule) {
        lock(&self.0).push(rule);
    }

    pub fn clear(&self) {
        lock(&self.0).clear();
    }

    pub fn take(&self, route: &str, body: &[u8]) -> Option<FaultAction> {
        let mut faults = lock(&self.0);
        let holds = |text: &str| {
            body.windows(text.len().max(1))
                .any(|w| w == text.as_bytes())
        };
        let i = faults.iter().position(|f| {
            f.times > 0
                && (f.route == "*" || f.route == route)
                && f.body_contains.as_deref().is_none_or(holds)
        })?;
        if faults[i].after > 0 {
            faults[i].after -= 1;
            return None;
        }
        faults[i].times -= 1;
        let action = faults[i].action.clone();
        if faults[i].times == 0 {
            faults.remove(i);
        }
        Some(action)
    }
}

/// Sends `data`, then fails: the client sees a body shorter than its `Content-Length`.
struct Truncated(Option<Bytes>);

impl hyper::body::Body for Truncated {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(match self.0.take() {
            Some(data) => Ok(Frame::data(data)),
            None => Err(std::io::Error::other("truncated on purpose")),
        }))
    }
}

fn emulated(status: u16) -> Value {
    json!({"message": format!("emulated status {status}")})
}

/// The answer of a fault that replaces handling the request, if `action` is one.
pub(crate) fn answer_instead(
    action: &FaultAction,
) -> Option<Result<Response<Body>, std::io::Error>> {
    let response = match action {
        FaultAction::Status {
            status,
            retry_after,
            body,
        } => {
            let mut response = json_response(*status, body.as_ref().unwrap_or(&emulated(*status)));
            if let Some(value) = retry_after.as_deref().and_then(|r| r.parse().ok()) {
                response.headers_mut().insert("retry-after", value);
            }
            response
        }
        FaultAction::Drop => return Some(Err(std::io::Error::other("connection dropped on purpose"))),
        FaultAction::Html { status } => Response::builder()
            .status(*status)
            .header("content-type", "text/html")
            .body(full(format!(
                "<html><head><title>{status} Bad Gateway</title></head><body><h1>{status} Bad Gateway</h1></body></html>"
            )))
            .expect("a valid response"),
        FaultAction::Empty { status } => Response::builder()
            .status(*status)
            .body(full(Bytes::new()))
            .expect("a valid response"),
        FaultAction::Oversized { bytes } => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(full(format!(
                r#"{{"message":"Success","filler":"{}"}}"#,
                "x".repeat(*bytes)
            )))
            .expect("a valid response"),
        FaultAction::Delay { .. }
        | FaultAction::ApplyLate { .. }
        | FaultAction::Truncate
        | FaultAction::RevokeTokens
        | FaultAction::ChangePassword { .. }
        | FaultAction::LostResponse { .. } => return None,
    };
    Some(Ok(response))
}

/// The answer to a handled request, as `action` (if any) spoils it.
pub(crate) async fn answer_after(
    action: Option<FaultAction>,
    status: u16,
    value: Value,
) -> Result<Response<Body>, std::io::Error> {
    match action {
        Some(FaultAction::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(FaultAction::Truncate) => {
            let text = value.to_string();
            let half = Bytes::from(text.as_bytes()[..text.len() / 2].to_vec());
            return Ok(Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .header("content-length", text.len())
                .body(Truncated(Some(half)).boxed())
                .expect("a valid response"));
        }
        Some(FaultAction::LostResponse { status: None }) => {
            return Err(std::io::Error::other("response lost on purpose"));
        }
        Some(FaultAction::LostResponse { status: Some(s) }) => {
            return Ok(json_response(s, &emulated(s)));
        }
        _ => {}
    }
    Ok(json_response(status, &value))
}
