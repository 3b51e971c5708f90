//! SCIM PATCH requests (RFC 7644 §3.5.2) as Entra ID and Okta send them, read into one
//! operation per attribute: `op` in any letter case; with a `path` (possibly filtered, as
//! `emails[type eq "work"].value`, or URN-prefixed), or without one, with a value object keyed
//! by attribute names, dotted names or URN-prefixed names.

use crate::error::ScimError;
use crate::filter::{self, AttrPath};
use serde_json::{Map, Value};

/// The most operations one PATCH may carry.
pub const MAX_OPERATIONS: usize = 100;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

/// One operation on one attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub op: Op,
    pub path: AttrPath,
    /// `None` for a `remove` without a value.
    pub value: Option<Value>,
}

/// Reads a PATCH body into its changes, in order; every problem is a SCIM 400 naming it.
pub fn read(body: &Value) -> Result<Vec<Change>, ScimError> {
    let Some(object) = body.as_object() else {
        return Err(ScimError::invalid_syntax("a PATCH body is a JSON object"));
    };
    if let Some(schemas) = object.get("schemas")
        && !schemas
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(PATCH_OP)))
    {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must name {PATCH_OP}"
        )));
    }
    let operations = object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("operations"))
        .and_then(|(_, v)| v.as_array())
        .ok_or_else(|| ScimError::invalid_syntax("Operations, a list, is required"))?;
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::too_many(format!(
            "{} operations in one PATCH, more than the {MAX_OPERATIONS} allowed",
            operations.len()
        )));
    }
    let mut changes = Vec::new();
    for (i, operation) in operations.iter().enumerate() {
        changes.extend(read_operation(i, operation)?);
    }
    Ok(changes)
}

/// A JSON object's member named `name` in any letter case, as SCIM's attribute names are.
pub fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn read_operation(i: usize, operation: &Value) -> Result<Vec<Change>, ScimError> {
    let Some(operation) = operation.as_object() else {
        return Err(ScimError::invalid_syntax(format!(
            "Operations[{i}] is not an object"
        )));
    };
    let op = match field(operation, "op").and_then(Value::as_str) {
        Some(op) if op.eq_ignore_ascii_case("add") => Op::Add,
        Some(op) if op.eq_ignore_ascii_case("replace") => Op::Replace,
        Some(op) if op.eq_ignore_ascii_case("remove") => Op::Remove,
        Some(other) => {
            return Err(ScimError::invalid_syntax(format!(
                "Operations[{i}].op {other:?} is not add, replace or remove"
            )));
        }
        None => {
            return Err(ScimError::invalid_syntax(format!(
                "Operations[{i}].op is required"
            )));
        }
    };
    let value = field(operation, "value").cloned();
    match field(operation, "path") {
        Some(Value::String(path)) => {
            let path = filter::parse_path(path)
                .map_err(|e| ScimError::invalid_path(format!("Operations[{i}].path: {e}")))?;
            if op != Op::Remove && value.is_none() {
                return Err(ScimError::invalid_syntax(format!(
                    "Operations[{i}] ({path}) needs a value"
                )));
            }
            Ok(vec![Change { op, path, value }])
        }
        Some(Value::Null) | None => pathless(i, op, value),
        Some(_) => Err(ScimError::invalid_path(format!(
            "Operations[{i}].path is not a string"
        ))),
    }
}

/// An operation without a path: its value is an object whose keys name the attributes.
fn pathless(i: usize, op: Op, value: Option<Value>) -> Result<Vec<Change>, ScimError> {
    if op == Op::Remove {
        return Err(ScimError::no_target(format!(
            "Operations[{i}] removes without a path: name the attribute to remove"
        )));
    }
    let Some(Value::Object(attributes)) = value else {
        return Err(ScimError::invalid_syntax(format!(
            "Operations[{i}] has no path, so its value must be an object of attributes"
        )));
    };
    let mut changes = Vec::new();
    flatten(i, op, None, attributes, 0, &mut changes)?;
    Ok(changes)
}

/// One change per attribute of `attributes`. A schema URN key whose value is an object holds
/// that extension's attributes; a complex attribute (`name: {givenName}`) is spread into its
/// sub-attributes, as its dotted names would be.
fn flatten(
    i: usize,
    op: Op,
    urn: Option<&str>,
    attributes: Map<String, Value>,
    depth: usize,
    changes: &mut Vec<Change>,
) -> Result<(), ScimError> {
    if depth > filter::MAX_DEPTH {
        return Err(ScimError::invalid_syntax(format!(
            "Operations[{i}]: the value is nested deeper than {}",
            filter::MAX_DEPTH
        )));
    }
    for (key, value) in attributes {
        // An extension's object may name its own schema, as a resource does.
        if urn.is_some() && matches!(key.to_ascii_lowercase().as_str(), "schemas" | "meta") {
            continue;
        }
        if is_schema_urn(&key)
            && let Value::Object(extension) = value
        {
            let urn = key.to_ascii_lowercase();
            flatten(i, op, Some(&urn), extension, depth + 1, changes)?;
            continue;
        }
        let name = match urn {
            Some(urn) => format!("{urn}:{key}"),
            None => key.clone(),
        };
        let mut path = filter::parse_path(&name)
            .map_err(|e| ScimError::invalid_path(format!("Operations[{i}].value.{key}: {e}")))?;
        match value {
            Value::Object(sub_attributes) if path.sub.is_none() && path.value_filter.is_none() => {
                for (sub, sub_value) in sub_attributes {
                    let mut sub_path = path.clone();
                    sub_path.sub = Some(sub.to_ascii_lowercase());
                    changes.push(Change {
                        op,
                        path: sub_path,
                        value: Some(sub_value),
                    });
                }
            }
            value => {
                if path.urn.is_none() {
                    path.urn = urn.map(str::to_string);
                }
                changes.push(Change {
                    op,
                    path,
                    value: Some(value),
                });
            }
        }
    }
    Ok(())
}

/// Whether `key` names a schema (`urn:…:2.0:User`, whose value holds that extension's
/// attributes) rather than an attribute of one (`urn:…:2.0:User:enabledServices`): a schema
/// URN ends with its version and the resource's name.
pub fn is_schema_urn(key: &str) -> bool {
    let segments: Vec<&str> = key.split(':').collect();
    key.to_ascii_lowercase().starts_with("urn:")
        && segments.len() >= 3
        && segments[segments.len() - 2]
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// A change whose value is an object for a whole complex attribute or extension (`path:
/// "name", value: {"givenName": …}`) as one change per sub-attribute, as a pathless value
/// object would be read.
pub fn spread(change: Change) -> Result<Vec<Change>, ScimError> {
    let whole = change.path.sub.is_none() && change.path.value_filter.is_none();
    match (&change.value, whole) {
        (Some(Value::Object(_)), true) => {
            let key = change.path.to_string();
            let value = Map::from_iter([(key, change.value.clone().unwrap_or_default())]);
            let mut changes = Vec::new();
            flatten(0, change.op, None, value, 0, &mut changes)?;
            Ok(changes)
        }
        _ => Ok(vec![change]),
    }
}

/// A boolean as identity providers send it: `true`, or the strings `"True"`, `"false"`.
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(changes: &[Change]) -> Vec<String> {
        changes.iter().map(|c| c.path.to_string()).collect()
    }

    #[test]
    fn capitalised_ops_with_paths_as_entra_sends_them_by_default() {
        let body = json!({
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "a@b.example"},
                {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
            ]
        });
        let changes = read(&body).unwrap();
        assert_eq!(changes[0].op, Op::Replace);
        assert_eq!(boolean(changes[0].value.as_ref().unwrap()), Some(false));
        assert_eq!(changes[1].op, Op::Add);
        assert_eq!(changes[1].path.name, "emails");
        assert_eq!(changes[2].path.name, "department");
        assert!(
            changes[2]
                .path
                .urn
                .as_deref()
                .unwrap()
                .ends_with("enterprise:2.0:user")
        );
    }

    #[test]
    fn a_pathless_value_object_becomes_one_change_per_attribute() {
        let body = json!({
            "Operations": [{"op": "replace", "value": {
                "active": false,
                "displayName": "Ann Lee",
                "name.givenName": "Ann",
                "name": {"familyName": "Lee"},
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "E1",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"},
            }}]
        });
        let changes = read(&body).unwrap();
        let mut paths = names(&changes);
        paths.sort();
        assert_eq!(
            paths,
            [
                "active",
                "displayname",
                "name.familyname",
                "name.givenname",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber",
            ]
        );
        assert!(changes.iter().all(|c| c.op == Op::Replace));
    }

    #[test]
    fn a_member_removed_by_a_filtered_path_needs_no_value() {
        let body = json!({"Operations": [{"op": "remove", "path": "members[value eq \"u1\"]"}]});
        let changes = read(&body).unwrap();
        assert_eq!(changes[0].op, Op::Remove);
        assert_eq!(changes[0].value, None);
        assert_eq!(changes[0].path.name, "members");
    }

    #[test]
    fn malformed_patches_are_refused_naming_the_operation() {
        for (body, expected) in [
            (json!([]), "a JSON object"),
            (json!({"Operations": {}}), "Operations, a list"),
            (
                json!({"schemas": ["x"], "Operations": []}),
                "schemas must name",
            ),
            (
                json!({"Operations": [{"op": "move", "path": "a"}]}),
                "Operations[0].op \"move\"",
            ),
            (
                json!({"Operations": [{"path": "a"}]}),
                "Operations[0].op is required",
            ),
            (
                json!({"Operations": [{"op": "add", "path": "a"}]}),
                "needs a value",
            ),
            (json!({"Operations": [{"op": "remove"}]}), "without a path"),
            (
                json!({"Operations": [{"op": "add", "value": 3}]}),
                "must be an object",
            ),
            (
                json!({"Operations": [{"op": "add", "path": "a b", "value": 1}]}),
                "Operations[0].path",
            ),
        ] {
            let error = read(&body).unwrap_err();
            assert_eq!(error.status, 400);
            assert!(error.detail.contains(expected), "{body}: {}", error.detail);
        }
        let many = json!({"Operations": vec![json!({"op": "add", "path": "a", "value": 1}); MAX_OPERATIONS + 1]});
        assert!(
            read(&many)
                .unwrap_err()
                .detail
                .contains("more than the 100 allowed")
        );
    }

    #[test]
    fn a_path_to_a_whole_complex_attribute_or_extension_spreads_into_its_sub_attributes() {
        let changes = read(&json!({"Operations": [
            {"op": "add", "path": "name", "value": {"givenName": "Ann"}},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "value": {"department": "Ops"}},
            {"op": "replace", "path": "urn:x:params:scim:schemas:extension:s:2.0:User:enabledServices", "value": {"calls": true}},
        ]}))
        .unwrap();
        let spread: Vec<Change> = changes
            .into_iter()
            .flat_map(|c| spread(c).unwrap())
            .collect();
        assert_eq!(
            names(&spread),
            [
                "name.givenname",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department",
                "urn:x:params:scim:schemas:extension:s:2.0:user:enabledservices.calls",
            ]
        );
        assert!(is_schema_urn("urn:ietf:params:scim:schemas:core:2.0:User"));
        assert!(!is_schema_urn(
            "urn:ietf:params:scim:schemas:core:2.0:User:name"
        ));
    }

    #[test]
    fn booleans_arrive_as_json_or_as_words() {
        assert_eq!(boolean(&json!(true)), Some(true));
        assert_eq!(boolean(&json!("True")), Some(true));
        assert_eq!(boolean(&json!("false")), Some(false));
        assert_eq!(boolean(&json!("yes")), None);
        assert_eq!(boolean(&json!(1)), None);
    }
}
