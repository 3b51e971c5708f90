//! A SCIM request as the bridge reads it, and its answer: independent of the HTTP library
//! that carries them, so that every rule below is plain Rust.

use crate::error::ScimError;
use crate::filter;
use serde_json::Value;

/// The largest request body read.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// The deepest a JSON body may nest.
pub const MAX_JSON_DEPTH: usize = 16;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimRequest {
    pub method: String,
    /// The path, with the base path (everything up to `/scim/v2`) still on it.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub host: Option<String>,
    pub forwarded_proto: Option<String>,
    pub forwarded_host: Option<String>,
    pub body: Vec<u8>,
}

impl ScimRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The resource path below the base path, and the base path: `/scim/v2/Users/7` is
    /// (`/Users/7`, `/scim/v2`). Without `/scim/v2`, the whole path is the resource path.
    pub fn split_path(&self) -> (&str, &str) {
        let path = self.path.trim_end_matches('/');
        match path.to_ascii_lowercase().find("/scim/v2") {
            Some(at) => {
                let end = at + "/scim/v2".len();
                (&path[end..], &path[..end])
            }
            None => (path, ""),
        }
    }

    /// The body as JSON: within the size and depth limits, else a SCIM error naming the limit.
    pub fn json(&self) -> Result<Value, ScimError> {
        if self.body.len() > MAX_BODY_BYTES {
            return Err(body_too_large(self.body.len()));
        }
        let value: Value = serde_json::from_slice(&self.body)
            .map_err(|e| ScimError::invalid_syntax(format!("the body is not JSON: {e}")))?;
        if depth(&value) > MAX_JSON_DEPTH {
            return Err(ScimError::invalid_syntax(format!(
                "the body is nested deeper than {MAX_JSON_DEPTH} levels"
            )));
        }
        Ok(value)
    }

    /// The `attributes` and `excludedAttributes` the answer is cut to.
    pub fn projection(&self) -> crate::projection::Projection {
        crate::projection::Projection::new(
            self.param("attributes"),
            self.param("excludedAttributes"),
        )
    }

    /// `startIndex` (1-based) and `count`, within the page size.
    pub fn page(&self, max: usize) -> Result<(usize, usize), ScimError> {
        let number = |name: &str, default: usize| -> Result<usize, ScimError> {
            match self.param(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<i64>()
                    .map(|n| n.max(0) as usize)
                    .map_err(|_| {
                        ScimError::invalid_value(format!("{name} {v:?} is not a whole number"))
                    }),
            }
        };
        Ok((
            number("startIndex", 1)?.max(1),
            number("count", max)?.min(max),
        ))
    }

    /// The `filter` parameter, parsed.
    pub fn filter(&self) -> Result<Option<Vec<filter::Comparison>>, ScimError> {
        self.param("filter")
            .map(|f| filter::parse_filter(f).map_err(|e| ScimError::invalid_filter(e.0)))
            .transpose()
    }
}

pub fn body_too_large(bytes: usize) -> ScimError {
    ScimError::too_large(format!(
        "the body is {bytes} bytes, more than the {MAX_BODY_BYTES} allowed"
    ))
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(fields) => 1 + fields.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScimResponse {
    pub status: u16,
    pub location: Option<String>,
    pub retry_after: Option<u32>,
    /// `WWW-Authenticate` (RFC 6750 §3): the scheme a 401 asks for.
    pub challenge: Option<&'static str>,
    pub body: Option<Value>,
}

impl ScimResponse {
    pub fn json(status: u16, body: Value) -> Self {
        ScimResponse {
            status,
            location: None,
            retry_after: None,
            challenge: None,
            body: Some(body),
        }
    }

    pub fn empty(status: u16) -> Self {
        ScimResponse {
            status,
            location: None,
            retry_after: None,
            challenge: None,
            body: None,
        }
    }

    pub fn created(body: Value, location: String) -> Self {
        ScimResponse {
            location: Some(location),
            ..Self::json(201, body)
        }
    }
}

impl From<ScimError> for ScimResponse {
    fn from(error: ScimError) -> Self {
        ScimResponse {
            retry_after: error.retry_after,
            challenge: (error.status == 401).then_some("Bearer"),
            ..Self::json(error.status, error.body())
        }
    }
}

/// The token of an `Authorization` header of the `Bearer` scheme, whose name is matched in
/// any letter case (RFC 7235 §2.1); `None` for another scheme or no token.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Constant-time comparison, so that a wrong token takes as long to refuse whatever its
/// first differing byte.
pub fn same_secret(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, query: &[(&str, &str)]) -> ScimRequest {
        ScimRequest {
            path: path.into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_base_path_is_everything_up_to_scim_v2() {
        assert_eq!(
            request("/scim/v2/Users/7", &[]).split_path(),
            ("/Users/7", "/scim/v2")
        );
        assert_eq!(
            request("/t/x/scim/v2/Groups/", &[]).split_path(),
            ("/Groups", "/t/x/scim/v2")
        );
        assert_eq!(request("/Users", &[]).split_path(), ("/Users", ""));
    }

    #[test]
    fn pages_are_one_based_and_never_larger_than_the_maximum() {
        assert_eq!(request("/", &[]).page(100).unwrap(), (1, 100));
        assert_eq!(
            request("/", &[("startIndex", "0"), ("count", "500")])
                .page(100)
                .unwrap(),
            (1, 100)
        );
        assert_eq!(request("/", &[("count", "-3")]).page(100).unwrap(), (1, 0));
        assert!(
            request("/", &[("count", "ten")])
                .page(100)
                .unwrap_err()
                .detail
                .contains("count")
        );
    }

    #[test]
    fn bodies_over_the_limits_are_refused_naming_the_limit() {
        let big = ScimRequest {
            body: vec![b' '; MAX_BODY_BYTES + 1],
            ..Default::default()
        };
        assert_eq!(big.json().unwrap_err().status, 413);
        let deep = ScimRequest {
            body: format!(
                "{}{}",
                "[".repeat(MAX_JSON_DEPTH + 1),
                "]".repeat(MAX_JSON_DEPTH + 1)
            )
            .into_bytes(),
            ..Default::default()
        };
        assert!(deep.json().unwrap_err().detail.contains("nested deeper"));
    }

    #[test]
    fn the_bearer_scheme_is_named_in_any_letter_case() {
        for header in ["Bearer t0k", "bearer t0k", "BEARER  t0k ", " Bearer\tt0k"] {
            assert_eq!(bearer_token(header), Some("t0k"), "{header:?}");
        }
        for header in ["Basic t0k", "Bearer", "Bearer  ", "Bearert0k", "t0k", ""] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }

    #[test]
    fn secrets_compare_equal_only_when_they_are() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cret", "s3creT"));
        assert!(!same_secret("s3cre", "s3cret"));
    }
}
