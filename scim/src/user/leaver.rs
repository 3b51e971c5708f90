//! Whether a request deactivates the user, read from its raw body: a leaver's `active: false`
//! is applied even when the rest of the request is refused, so it must be found without
//! reading the rest.

use super::USER_SCHEMA;
use crate::filter;
use crate::patch::{self, MAX_OPERATIONS};
use serde_json::{Map, Value};

/// Whether a whole resource (a PUT's body) sets `active` to false.
pub fn put_deactivates(body: &Value) -> bool {
    body.as_object().and_then(active_in) == Some(Some(false))
}

/// Whether a PATCH's operations, in order, leave `active` false: the last operation that
/// names it sets it (a `remove` keeps the agent's value, so it undoes an earlier one).
pub fn patch_deactivates(body: &Value) -> bool {
    let operations = body
        .as_object()
        .and_then(|o| patch::field(o, "Operations"))
        .and_then(Value::as_array);
    let mut active = None;
    for operation in operations.into_iter().flatten().take(MAX_OPERATIONS) {
        let Some(operation) = operation.as_object() else {
            continue;
        };
        let op = patch::field(operation, "op").and_then(Value::as_str);
        let removes = op.is_some_and(|op| op.eq_ignore_ascii_case("remove"));
        let sets = op
            .is_some_and(|op| op.eq_ignore_ascii_case("replace") || op.eq_ignore_ascii_case("add"));
        let value = patch::field(operation, "value");
        let named = match patch::field(operation, "path") {
            Some(Value::String(path)) if names_active(path) => match removes {
                true => Some(None),
                false => Some(value.and_then(patch::boolean)),
            },
            Some(Value::String(_)) => None,
            _ => value.and_then(Value::as_object).and_then(active_in),
        };
        if let Some(set) = named
            && (sets || removes)
        {
            active = set;
        }
    }
    active == Some(false)
}

/// `active` among a resource's (or a pathless value's) attributes, read as the reader reads
/// them: by name, by the core schema's URN-prefixed name, or inside the core schema's object,
/// the last one named deciding. `None` when none names it; `Some(None)` when the last one
/// does not set it false or true (a null keeps the agent's value).
fn active_in(attributes: &Map<String, Value>) -> Option<Option<bool>> {
    let mut found = None;
    for (key, value) in attributes {
        if names_active(key) {
            found = Some(patch::boolean(value));
        } else if key.eq_ignore_ascii_case(USER_SCHEMA)
            && let Some(inner) = value.as_object()
        {
            found = active_in(inner).or(found);
        }
    }
    found
}

fn names_active(path: &str) -> bool {
    filter::parse_path(path)
        .is_ok_and(|p| p.name == "active" && p.sub.is_none() && p.in_schema(USER_SCHEMA))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_deactivation_is_found_in_every_form_identity_providers_send() {
        for operations in [
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            json!([{"op": "replace", "value": {"active": false}}]),
            json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User:active": false}}]),
            json!([{"op": "add", "path": "ACTIVE", "value": false}]),
            json!([
                {"op": "remove", "path": "name.familyName"},
                {"op": "replace", "value": {"active": false}},
                {"op": "bogus", "path": "active", "value": true},
            ]),
        ] {
            let body = json!({"Operations": operations});
            assert!(patch_deactivates(&body), "{body}");
        }
        assert!(put_deactivates(&json!({"userName": "a", "active": false})));
        assert!(put_deactivates(&json!({"Active": "false"})));
    }

    #[test]
    fn the_last_operation_on_active_decides() {
        let later_true = json!({"Operations": [
            {"op": "replace", "path": "active", "value": false},
            {"op": "replace", "path": "active", "value": true},
        ]});
        assert!(!patch_deactivates(&later_true));
        let removed = json!({"Operations": [
            {"op": "replace", "path": "active", "value": false},
            {"op": "remove", "path": "active"},
        ]});
        assert!(!patch_deactivates(&removed));
        for not_one in [
            json!({"Operations": [{"op": "replace", "path": "active", "value": true}]}),
            json!({"Operations": [{"op": "replace", "path": "displayName", "value": false}]}),
            json!({"Operations": [{"op": "replace", "path": "urn:x:2.0:Other:active", "value": false}]}),
            json!({"Operations": "active"}),
            json!([]),
        ] {
            assert!(!patch_deactivates(&not_one), "{not_one}");
        }
        assert!(!put_deactivates(&json!({"active": true})));
        assert!(!put_deactivates(&json!({"displayName": "x"})));
    }
}
