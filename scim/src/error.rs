//! SCIM errors (RFC 7644 §3.12): a status, a `scimType` for 400s and 409s, and a `detail` that
//! names the attribute, the limit or what the API cannot do.

use serde_json::{Value, json};
use smartcomm::error::{ApiError, Problem};
use std::fmt;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
    /// Seconds, for a 429 or 503.
    pub retry_after: Option<u32>,
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl ScimError {
    fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }

    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidFilter"), detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidPath"), detail)
    }

    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(400, Some("noTarget"), detail)
    }

    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(400, Some("mutability"), detail)
    }

    /// A request over one of the server's limits (operations, filter terms).
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::new(400, Some("tooMany"), detail)
    }

    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(413, None, detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            401,
            None,
            "a bearer token (the provisioning app's Secret Token) is required",
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(405, None, detail)
    }

    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some("uniqueness"), detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, None, detail)
    }

    /// The same error, its detail followed by `note`.
    pub fn noting(mut self, note: &str) -> Self {
        self.detail = format!("{}; {note}", self.detail);
        self
    }

    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        body
    }

    /// The API's error, for a SCIM caller: its refusals as 400s, its throttling as 429 or 503
    /// with `Retry-After`, the call's deadline as 503 with `Retry-After`, the rest as 502 (the
    /// bridge's upstream failed).
    pub fn from_api(error: ApiError) -> Self {
        match error {
            ApiError::InvalidInput(problems) => Self::invalid_value(problems_text(&problems)),
            ApiError::NotFound(message) => Self::not_found(message),
            ApiError::Rejected {
                message,
                messages,
                items,
                ..
            } => {
                let mut all: Vec<String> = messages;
                all.extend(items.into_iter().flat_map(|i| i.errors));
                let detail = match all.is_empty() {
                    true => message,
                    false => format!("{message}: {}", all.join("; ")),
                };
                Self::invalid_value(format!("the SmartCommunicator API refused it: {detail}"))
            }
            ApiError::RateLimited { retry_after, .. } => ScimError {
                retry_after: Some(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
                ..Self::new(
                    429,
                    None,
                    "the SmartCommunicator API is throttling: try again later",
                )
            },
            ApiError::ServerError {
                status: 503,
                message,
                ..
            } => ScimError {
                retry_after: Some(DEFAULT_RETRY_AFTER),
                ..Self::new(
                    503,
                    None,
                    format!("the SmartCommunicator API is unavailable: {message}"),
                )
            },
            // The request's share of time ran out: the identity provider repeats it later, and
            // a repeat converges whether or not the API applied what was in flight.
            ApiError::Deadline { .. } => ScimError {
                retry_after: Some(DEFAULT_RETRY_AFTER),
                ..Self::new(
                    503,
                    None,
                    format!("the request ran out of time: {error}; try again later"),
                )
            },
            ApiError::Unauthorized(message) => Self::new(
                502,
                None,
                format!("the bridge's SmartCommunicator credentials were refused: {message}"),
            ),
            other => Self::new(502, None, format!("the SmartCommunicator API: {other}")),
        }
    }
}

/// The `Retry-After` given when the API gave none, in seconds.
const DEFAULT_RETRY_AFTER: u32 = 30;

pub fn problems_text(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
