//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): which attributes of a resource
//! are returned. `id` and `schemas` always are.

use crate::filter::{AttrPath, parse_path};
use serde_json::{Map, Value};

/// What a request asked to see.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    only: Vec<AttrPath>,
    without: Vec<AttrPath>,
}

/// `urn:ietf:params:scim:schemas:core:2.0:User:userName` names `userName` (RFC 7644 §3.10).
fn without_core_urn(mut path: AttrPath) -> AttrPath {
    if [crate::user::USER_SCHEMA, crate::group::GROUP_SCHEMA]
        .iter()
        .any(|core| path.in_schema(core))
    {
        path.urn = None;
    }
    path
}

impl Projection {
    /// From the two comma-separated lists; names that do not parse are skipped, as attributes
    /// a resource does not have would be.
    pub fn new(attributes: Option<&str>, excluded: Option<&str>) -> Projection {
        let paths = |list: Option<&str>| -> Vec<AttrPath> {
            list.into_iter()
                .flat_map(|l| l.split(','))
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .filter_map(|n| parse_path(n).ok())
                .map(without_core_urn)
                .collect()
        };
        Projection {
            only: paths(attributes),
            without: paths(excluded),
        }
    }

    /// Whether `name` (a top-level attribute, lower-case) is excluded whole.
    pub fn excludes(&self, name: &str) -> bool {
        self.without
            .iter()
            .any(|p| p.urn.is_none() && p.sub.is_none() && p.name == name)
            || (!self.only.is_empty()
                && !self.only.iter().any(|p| p.urn.is_none() && p.name == name))
    }

    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(fields) = resource else {
            return resource;
        };
        let mut kept = Map::new();
        for (key, value) in fields {
            let lower = key.to_ascii_lowercase();
            if matches!(lower.as_str(), "id" | "schemas") {
                kept.insert(key, value);
                continue;
            }
            let is_extension = lower.starts_with("urn:");
            let value = match (is_extension, value) {
                (true, Value::Object(ext)) => match self.extension(&lower, ext) {
                    Some(ext) => Value::Object(ext),
                    None => continue,
                },
                (_, value) => match self.attribute(&lower, value) {
                    Some(value) => value,
                    None => continue,
                },
            };
            kept.insert(key, value);
        }
        Value::Object(kept)
    }

    fn attribute(&self, name: &str, value: Value) -> Option<Value> {
        let named = |p: &&AttrPath| p.urn.is_none() && p.name == name;
        if self.without.iter().filter(named).any(|p| p.sub.is_none()) {
            return None;
        }
        let asked: Vec<&AttrPath> = self.only.iter().filter(named).collect();
        if !self.only.is_empty() && asked.is_empty() {
            return None;
        }
        let subs_asked: Vec<&str> = match asked.iter().any(|p| p.sub.is_none()) {
            true => Vec::new(),
            false => asked.iter().filter_map(|p| p.sub.as_deref()).collect(),
        };
        let subs_excluded: Vec<&str> = self
            .without
            .iter()
            .filter(named)
            .filter_map(|p| p.sub.as_deref())
            .collect();
        Some(trim_subs(value, &subs_asked, &subs_excluded))
    }

    fn extension(&self, urn: &str, ext: Map<String, Value>) -> Option<Map<String, Value>> {
        let in_urn = |p: &&AttrPath| p.urn.as_deref() == Some(urn);
        // `urn:…:2.0:User` alone reads as the URN `urn:…:2.0` and the name `user`.
        let whole = |p: &AttrPath| {
            p.sub.is_none()
                && p.urn.as_deref().is_some_and(|u| {
                    urn.strip_prefix(u).and_then(|rest| rest.strip_prefix(':'))
                        == Some(p.name.as_str())
                })
        };
        if self.without.iter().any(whole) {
            return None;
        }
        let asked_whole = self.only.iter().any(whole);
        let asked: Vec<&str> = self
            .only
            .iter()
            .filter(in_urn)
            .map(|p| p.name.as_str())
            .collect();
        if !self.only.is_empty() && !asked_whole && asked.is_empty() {
            return None;
        }
        let excluded: Vec<&str> = self
            .without
            .iter()
            .filter(in_urn)
            .map(|p| p.name.as_str())
            .collect();
        let kept: Map<String, Value> = ext
            .into_iter()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                (asked_whole || asked.is_empty() || asked.contains(&k.as_str()))
                    && !excluded.contains(&k.as_str())
            })
            .collect();
        Some(kept)
    }
}

/// Keeps only the asked sub-attributes (all when none are named) and drops the excluded ones,
/// in an object or in each object of a list.
fn trim_subs(value: Value, asked: &[&str], excluded: &[&str]) -> Value {
    if asked.is_empty() && excluded.is_empty() {
        return value;
    }
    let trim = |object: Map<String, Value>| -> Map<String, Value> {
        object
            .into_iter()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                (asked.is_empty() || asked.contains(&k.as_str())) && !excluded.contains(&k.as_str())
            })
            .collect()
    };
    match value {
        Value::Object(object) => Value::Object(trim(object)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(object) => Value::Object(trim(object)),
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["s"], "id": "u1", "userName": "ann", "displayName": "Ann",
            "name": {"formatted": "Ann", "givenName": "A"},
            "meta": {"resourceType": "User"},
            "urn:x:2.0:User": {"department": "Ops", "employeeNumber": "7"},
        })
    }

    #[test]
    fn a_core_attribute_named_with_its_schema_urn_is_that_attribute() {
        let urn = "urn:ietf:params:scim:schemas:core:2.0:User";
        let shown = Projection::new(Some(&format!("{urn}:userName,{urn}:name.givenName")), None)
            .apply(user());
        assert_eq!(
            shown,
            json!({"schemas": ["s"], "id": "u1", "userName": "ann", "name": {"givenName": "A"}})
        );
        let without = Projection::new(None, Some(&format!("{urn}:displayName"))).apply(user());
        assert!(without.get("displayName").is_none(), "{without}");
        assert_eq!(without["userName"], "ann");
    }

    #[test]
    fn attributes_keep_only_those_named_and_always_id_and_schemas() {
        let shown = Projection::new(Some("userName,name.givenName"), None).apply(user());
        assert_eq!(
            shown,
            json!({"schemas": ["s"], "id": "u1", "userName": "ann", "name": {"givenName": "A"}})
        );
        let shown = Projection::new(Some("urn:x:2.0:User:department"), None).apply(user());
        assert_eq!(shown["urn:x:2.0:User"], json!({"department": "Ops"}));
        let without = Projection::new(None, Some("urn:x:2.0:User")).apply(user());
        assert!(without.get("urn:x:2.0:User").is_none(), "{without}");
        let only = Projection::new(Some("urn:x:2.0:User"), None).apply(user());
        assert_eq!(only["urn:x:2.0:User"]["employeeNumber"], "7");
        assert!(shown.get("userName").is_none());
    }

    #[test]
    fn excluded_attributes_are_dropped_whole_or_by_sub_attribute() {
        let shown = Projection::new(None, Some("displayName,name.givenName,meta")).apply(user());
        assert!(shown.get("displayName").is_none() && shown.get("meta").is_none());
        assert_eq!(shown["name"], json!({"formatted": "Ann"}));
        assert_eq!(shown["userName"], "ann");
        let members = Projection::new(None, Some("members"));
        assert!(members.excludes("members"));
        assert!(!Projection::new(None, None).excludes("members"));
    }
}
