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
        attempts: u32,
    },
    ServerError {
        status: u16,
        message: String,
        attempts: u32,
    },
    Timeout {
        message: String,
        attempts: u32,
    },
    Transport {
        message: String,
        attempts: u32,
    },
    /// The host refused to send the request (its allow-list): never retried.
    Denied(String),
    /// The call's deadline (`call-deadline`, in seconds) passed. `sent`: the request was in
    /// flight, so whether the API applied it is unknown; otherwise nothing was sent.
    Deadline {
        seconds: u32,
        sent: bool,
        attempts: u32,
    },
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

impl ApiError {
    pub fn timeout(message: impl Into<String>) -> Self {
        ApiError::Timeout {
            message: message.into(),
            attempts: 1,
        }
    }

    pub fn transport(message: impl Into<String>) -> Self {
        ApiError::Transport {
            message: message.into(),
            attempts: 1,
        }
    }

    /// The error of a request that was sent, met by a later step of its own (a read that
    /// judges it, a re-send): a deadline that came before that step leaves the request's
    /// outcome unknown, not unsent.
    pub fn after_sending(self) -> Self {
        match self {
            ApiError::Deadline {
                seconds,
                sent: false,
                ..
            } => ApiError::Deadline {
                seconds,
                sent: true,
                attempts: 1,
            },
            other => other,
        }
    }

    /// The same error, counted as the outcome of `n` attempts.
    pub fn after_attempts(mut self, n: u32) -> Self {
        match &mut self {
            ApiError::RateLimited { attempts, .. }
            | ApiError::ServerError { attempts, .. }
            | ApiError::Timeout { attempts, .. }
            | ApiError::Transport { attempts, .. }
            | ApiError::Deadline { attempts, .. } => *attempts = n,
            _ => {}
        }
        self
    }
}

fn tries(f: &mut fmt::Formatter<'_>, attempts: u32) -> fmt::Result {
    match attempts {
        0 | 1 => Ok(()),
        n => write!(f, " (after {n} attempts)"),
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
                retry_after,
                attempts,
            } => {
                write!(f, "rate limited")?;
                if let Some(s) = retry_after {
                    write!(f, ": retry after {s} s")?;
                }
                tries(f, *attempts)
            }
            ApiError::ServerError {
                status,
                message,
                attempts,
            } => {
                write!(f, "server error ({status}): {message}")?;
                tries(f, *attempts)
            }
            ApiError::Timeout { message, attempts } => {
                write!(f, "timed out: {message}")?;
                tries(f, *attempts)
            }
            ApiError::Transport { message, attempts } => {
                write!(f, "transport error: {message}")?;
                tries(f, *attempts)
            }
            ApiError::Denied(m) => write!(f, "the host denied the request: {m}"),
            ApiError::Deadline {
                seconds,
                sent: true,
                attempts,
            } => {
                write!(
                    f,
                    "the call's deadline of {seconds} s passed while this request was in flight: \
                     its outcome is unknown, and repeating the call converges"
                )?;
                tries(f, *attempts)
            }
            ApiError::Deadline {
                seconds,
                sent: false,
                ..
            } => write!(
                f,
                "the call's deadline of {seconds} s passed before this request was sent: \
                 nothing was sent"
            ),
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
