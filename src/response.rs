//! Reads the API's answers: success bodies in their documented (and undocumented but seen)
//! shapes, and every error shape, into model values or an `ApiError`. Never panics.

use crate::error::ApiError;
use crate::model::{Agent, ItemErrors, NumberInfo};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How much of an unreadable body an error quotes.
const EXCERPT_BYTES: usize = 200;

/// An HTTP answer as the transport received it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A JSON answer, as the tests script them.
    #[cfg(test)]
    pub(crate) fn json_answer(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            content_type: Some("application/json".into()),
            retry_after: None,
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn unexpected(&self) -> ApiError {
        let end = self.body.len().min(EXCERPT_BYTES);
        ApiError::UnexpectedResponse {
            status: self.status,
            content_type: self.content_type.clone(),
            body_excerpt: String::from_utf8_lossy(&self.body[..end]).into_owned(),
        }
    }

    fn json(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(&self.body).map_err(|_| self.unexpected())
    }

    fn parse<T: DeserializeOwned>(&self, value: Value) -> Result<T, ApiError> {
        serde_json::from_value(value).map_err(|_| self.unexpected())
    }
}

/// The message and errors of a body in any of the documented error shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    pub message: String,
    pub messages: Vec<String>,
    pub items: Vec<ItemErrors>,
}

/// Reads `{"message", "errors": [..]}` where each error is a string or
/// `{"itemIndex", "errors": [..]}`. `None` when the value has neither field.
pub fn error_body(value: &Value) -> Option<ErrorBody> {
    let obj = value.as_object()?;
    let message = obj.get("message").and_then(Value::as_str);
    let errors = obj.get("errors");
    if message.is_none() && errors.is_none() {
        return None;
    }
    let mut body = ErrorBody {
        message: message.unwrap_or_default().to_string(),
        ..Default::default()
    };
    let list: &[Value] = match errors {
        Some(Value::Array(list)) => list,
        Some(Value::String(s)) => {
            body.messages.push(s.clone());
            &[]
        }
        _ => &[],
    };
    for e in list {
        match e {
            Value::String(s) => body.messages.push(s.clone()),
            Value::Object(o) => {
                let index = o
                    .get("itemIndex")
                    .and_then(|i| i.as_u64().or_else(|| i.as_str()?.parse().ok()));
                let messages = string_list(o.get("errors").or_else(|| o.get("message")));
                match index {
                    Some(i) => body.items.push(ItemErrors {
                        item_index: i as usize,
                        errors: messages,
                    }),
                    None => body.messages.extend(messages),
                }
            }
            other => body.messages.push(other.to_string()),
        }
    }
    Some(body)
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(other) => vec![other.to_string()],
        None => Vec::new(),
    }
}

/// `Retry-After` as seconds: a number of seconds (a larger one than `u32` holds is the
/// largest), or an HTTP date (any of HTTP's three forms) measured against `now`; a date past
/// is 0. Anything else is no `Retry-After`.
pub fn retry_after_seconds(header: Option<&str>, now_unix: u64) -> Option<u32> {
    let h = header?.trim();
    if !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()) {
        return Some(h.parse::<u32>().unwrap_or(u32::MAX));
    }
    let at = httpdate::parse_http_date(h)
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(u32::try_from(at.saturating_sub(now_unix)).unwrap_or(u32::MAX))
}

/// The error for a non-2xx answer.
pub fn error_for(resp: &RawResponse, now_unix: u64) -> ApiError {
    let parsed = serde_json::from_slice::<Value>(&resp.body)
        .ok()
        .and_then(|v| error_body(&v));
    let message = |fallback: &str| {
        parsed
            .as_ref()
            .map(|b| {
                let mut all = vec![b.message.clone()];
                all.extend(b.messages.iter().cloned());
                all.retain(|m| !m.is_empty());
                all.join("; ")
            })
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| fallback.to_string())
    };
    match resp.status {
        401 | 403 => ApiError::Unauthorized(message("the API refused the credentials or token")),
        404 => ApiError::NotFound(message("object not found")),
        429 => ApiError::RateLimited {
            retry_after: retry_after_seconds(resp.retry_after.as_deref(), now_unix),
            attempts: 1,
        },
        500..=599 => ApiError::ServerError {
            status: resp.status,
            message: message(&String::from_utf8_lossy(
                &resp.body[..resp.body.len().min(EXCERPT_BYTES)],
            )),
            attempts: 1,
        },
        status => match parsed {
            Some(body) => ApiError::Rejected {
                status,
                message: body.message,
                messages: body.messages,
                items: body.items,
            },
            None => resp.unexpected(),
        },
    }
}

fn success_json(resp: &RawResponse, now_unix: u64) -> Result<Value, ApiError> {
    if !resp.is_success() {
        return Err(error_for(resp, now_unix));
    }
    resp.json()
}

/// The token of an authenticate answer: `{"data": "<JWT>"}` or `{"token": "<JWT>"}`.
pub fn token(resp: &RawResponse, now_unix: u64) -> Result<String, ApiError> {
    if resp.status == 401 || resp.status == 403 {
        return Err(ApiError::Unauthorized(
            "authentication failed: check the username and password".into(),
        ));
    }
    let value = success_json(resp, now_unix)?;
    ["data", "token"]
        .iter()
        .find_map(|k| value.get(k).and_then(Value::as_str))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| resp.unexpected())
}

/// The `exp` claim of a JWT (seconds since the epoch), read without verifying the signature:
/// only to know when to renew.
pub fn jwt_expiry(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64url_decode(payload)?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let exp = value.get("exp")?;
    exp.as_u64().or_else(|| exp.as_f64().map(|f| f as u64))
}

fn base64url_decode(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in input.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// One agent: the object itself, or wrapped in `data`/`agent`/`result`.
pub fn agent(resp: &RawResponse, now_unix: u64) -> Result<Agent, ApiError> {
    let value = success_json(resp, now_unix)?;
    let value = match value {
        Value::Object(ref o) if !o.contains_key("user_object_id") => ["data", "agent", "result"]
            .iter()
            .find_map(|k| o.get(*k).filter(|v| v.is_object()).cloned())
            .unwrap_or(value),
        v => v,
    };
    if !value.is_object() {
        return Err(resp.unexpected());
    }
    resp.parse(value)
}

/// A list of agents: an array, a single agent, or an object wrapping the array in `data`,
/// `agents` or `result`. A 404 means nothing matched.
pub fn agent_list(resp: &RawResponse, now_unix: u64) -> Result<Vec<Agent>, ApiError> {
    if resp.status == 404 {
        return Ok(Vec::new());
    }
    let value = success_json(resp, now_unix)?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut o) => {
            match ["data", "agents", "result"]
                .iter()
                .find_map(|k| match o.remove(*k) {
                    Some(Value::Array(items)) => Some(items),
                    _ => None,
                }) {
                Some(items) => items,
                None if o.is_empty() => Vec::new(),
                None => vec![Value::Object(o)],
            }
        }
        Value::Null => Vec::new(),
        _ => return Err(resp.unexpected()),
    };
    items.into_iter().map(|v| resp.parse(v)).collect()
}

/// Registered numbers: an array, or an object wrapping it in `data`/`numbers`/`result`.
pub fn numbers(resp: &RawResponse, now_unix: u64) -> Result<Vec<NumberInfo>, ApiError> {
    if resp.status == 404 {
        return Ok(Vec::new());
    }
    let value = success_json(resp, now_unix)?;
    let value = match value {
        Value::Object(mut o) => ["data", "numbers", "result"]
            .iter()
            .find_map(|k| o.remove(*k).filter(Value::is_array))
            .unwrap_or(Value::Null),
        v => v,
    };
    match value {
        Value::Array(items) => items.into_iter().map(|v| resp.parse(v)).collect(),
        _ => Err(resp.unexpected()),
    }
}

/// A 2xx answer to a batch: its message and per-item errors (with `continueOnError`) and, for
/// bulk update, the updated agents by item index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchAnswer {
    pub errors: ErrorBody,
    pub results: Vec<(usize, Agent)>,
}

pub fn batch(resp: &RawResponse, now_unix: u64) -> Result<BatchAnswer, ApiError> {
    if resp.body.iter().all(u8::is_ascii_whitespace) && resp.is_success() {
        // An empty 2xx answer is still a success.
        return Ok(BatchAnswer::default());
    }
    Ok(batch_answer(&success_json(resp, now_unix)?))
}

/// The batch answer in a body whatever its status; empty when it is not JSON.
pub fn batch_body(body: &[u8]) -> BatchAnswer {
    serde_json::from_slice(body)
        .map(|v| batch_answer(&v))
        .unwrap_or_default()
}

fn batch_answer(value: &Value) -> BatchAnswer {
    let errors = error_body(value).unwrap_or_default();
    let mut results = Vec::new();
    if let Some(Value::Array(list)) = value.get("result") {
        for (position, item) in list.iter().enumerate() {
            let index = item
                .get("itemIndex")
                .and_then(Value::as_u64)
                .map(|i| i as usize)
                .unwrap_or(position);
            if let Ok(agent) = serde_json::from_value::<Agent>(item.clone()) {
                results.push((index, agent));
            }
        }
    }
    BatchAnswer { errors, results }
}

/// The message of a 2xx answer with a `message` field (offboard one agent).
pub fn message(resp: &RawResponse, now_unix: u64) -> Result<String, ApiError> {
    if resp.is_success() && resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(String::new());
    }
    let value = success_json(resp, now_unix)?;
    Ok(value
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string())
}
