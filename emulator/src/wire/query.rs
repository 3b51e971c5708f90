//! Query parameters and path segments.

use super::{Choice, INVALID_PHONE_NUMBER, KeyId, NumberStatus, is_e164};
use std::collections::HashMap;

/// Decodes `%XX` escapes, and `+` as a space (as form encoding does); a malformed escape is
/// kept as it is.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request's query parameters, decoded; a repeated name keeps its last value.
#[derive(Debug, Default)]
pub(crate) struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(query: &str) -> Query {
        Query(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        )
    }

    pub fn into_map(self) -> HashMap<String, String> {
        self.0
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Boolean parameters: absent is `false`, else exactly `true` or `false`.
    pub fn flags<const N: usize>(&self, names: [&str; N]) -> Result<[bool; N], Vec<String>> {
        let mut problems = Vec::new();
        let values = names.map(|name| match self.get(name) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                problems.push(format!("{name} must be true or false, not {other:?}"));
                false
            }
        });
        if problems.is_empty() {
            Ok(values)
        } else {
            Err(problems)
        }
    }

    /// The filters of `GET /{customer_id}/agents`.
    pub fn agent_filter(&self) -> Result<AgentFilter, Vec<String>> {
        let text = |name: &str| self.get(name).map(str::to_string);
        let filter = AgentFilter {
            user_object_id: text("user_object_id"),
            tenant_id: text("tenant_id"),
            consistency_id: text("consistency_id"),
            phone_number: text("phone_number"),
            upn: text("upn"),
        };
        match &filter.phone_number {
            Some(number) if !is_e164(number) => Err(vec![INVALID_PHONE_NUMBER.into()]),
            _ => Ok(filter),
        }
    }
}

/// Each given filter must match; none given lists every agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AgentFilter {
    pub user_object_id: Option<String>,
    pub tenant_id: Option<String>,
    pub consistency_id: Option<String>,
    pub phone_number: Option<String>,
    pub upn: Option<String>,
}

/// Which field the path's agent id names: `user_object_id` unless the query says otherwise.
pub(crate) fn key_id(key_id: Option<&str>, allowed: &[KeyId]) -> Result<KeyId, String> {
    let Some(text) = key_id else {
        return Ok(KeyId::UserObjectId);
    };
    KeyId::from_wire(text)
        .filter(|k| allowed.contains(k))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
            format!(
                "Invalid key_id: {text:?} is not one of {}",
                names.join(", ")
            )
        })
}

/// `status` (`assigned` or `active`) and `match` (1 to 11 digits) of `GET /numbers`.
pub(crate) fn numbers_query<'q>(
    status: Option<&str>,
    matching: Option<&'q str>,
) -> Result<(Option<NumberStatus>, Option<&'q str>), Vec<String>> {
    let mut problems = Vec::new();
    let status = status.and_then(|text| {
        let status = NumberStatus::from_wire(text);
        if status.is_none() {
            problems.push(format!("status must be assigned or active, not {text}"));
        }
        status
    });
    if let Some(m) = matching
        && (!(1..=11).contains(&m.len()) || !m.bytes().all(|b| b.is_ascii_digit()))
    {
        problems.push("match must be 1 to 11 digits".to_string());
    }
    if problems.is_empty() {
        Ok((status, matching))
    } else {
        Err(problems)
    }
}
