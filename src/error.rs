//! The error of every operation, mirroring the WIT `error` variant.

use crate::model::ItemErrors;
use std::fmt;

/// One problem with the caller's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Index in the caller's list; `None` for a lone argument.
    pub index: Option<usize>,
    /// The field as the API names it, e.g. `number_provisioning[1].phone_number`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "item {i}: {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    InvalidInput(Vec<Problem>),
    Unauthorized(String),
    NotFound(String),
    Rejected {
        status: u16,
        message: String,
        messages: Vec<String>,
        items: Vec<ItemErrors>,
    },
    RateLimited {
        retry_after: Option<u32>,
    },
    ServerError {
        status: u16,
        message: String,
    },
    Timeout(String),
    Transport(String),
    UnexpectedResponse {
        status: u16,
        content_type: Option<String>,
        body_excerpt: String,
    },
}

impl ApiError {
    pub fn invalid(
        index: Option<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError::InvalidInput(vec![Problem {
            index,
            field: field.into(),
            message: message.into(),
        }])
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::InvalidInput(problems) => {
                write!(f, "invalid input, nothing was sent: ")?;
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
            ApiError::Unauthorized(m) => write!(f, "unauthorized: {m}"),
            ApiError::NotFound(m) => write!(f, "not found: {m}"),
            ApiError::Rejected {
                status,
                message,
                messages,
                items,
            } => {
                write!(f, "rejected by the API ({status}): {message}")?;
                for m in messages {
                    write!(f, "; {m}")?;
                }
                for item in items {
                    write!(f, "; item {}: {}", item.item_index, item.errors.join(", "))?;
                }
                Ok(())
            }
            ApiError::RateLimited {
                retry_after: Some(s),
            } => write!(f, "rate limited: retry after {s} s"),
            ApiError::RateLimited { retry_after: None } => write!(f, "rate limited"),
            ApiError::ServerError { status, message } => {
                write!(f, "server error ({status}): {message}")
            }
            ApiError::Timeout(m) => write!(f, "timed out: {m}"),
            ApiError::Transport(m) => write!(f, "transport error: {m}"),
            ApiError::UnexpectedResponse {
                status,
                content_type,
                body_excerpt,
            } => write!(
                f,
                "unexpected response: status {status}, content type {}, body {body_excerpt:?}",
                content_type.as_deref().unwrap_or("(none)")
            ),
        }
    }
}

impl std::error::Error for ApiError {}
