//! SCIM Groups as shared inboxes. The API lists no inboxes and cannot make one without a
//! number, so the administrator maps each group's `displayName` to its inbox's phone number;
//! the group's `id` is that number's digits, and its members are the tenant's agents that the
//! inbox lists.

use crate::error::ScimError;
use crate::patch::{Change, Op};
use serde_json::{Value, json};
use smartcomm::model::Agent;
use smartcomm::validate;
use std::collections::BTreeMap;

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The groups the bridge serves: displayName → the shared inbox's number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inboxes(BTreeMap<String, String>);

/// One group of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub number: String,
}

impl Group {
    /// Its SCIM id: the number's digits.
    pub fn id(&self) -> String {
        self.number.trim_start_matches('+').to_string()
    }
}

impl Inboxes {
    /// Reads `{"Store 1234 Team": "+15550100050", …}`; every problem names the group.
    pub fn parse(json: &str) -> Result<Inboxes, String> {
        let map: BTreeMap<String, String> = serde_json::from_str(json).map_err(|e| {
            format!("the inbox map is a JSON object of group names to phone numbers: {e}")
        })?;
        let mut numbers = BTreeMap::new();
        for (name, number) in &map {
            if !validate::is_e164(number) {
                return Err(format!(
                    "group {name:?}: {number:?} is not an E.164 phone number"
                ));
            }
            if let Some(other) = numbers.insert(number.clone(), name.clone()) {
                return Err(format!(
                    "groups {other:?} and {name:?} both map to {number}"
                ));
            }
        }
        Ok(Inboxes(map))
    }

    pub fn groups(&self) -> impl Iterator<Item = Group> + '_ {
        self.0.iter().map(|(name, number)| Group {
            name: name.clone(),
            number: number.clone(),
        })
    }

    pub fn by_id(&self, id: &str) -> Option<Group> {
        self.groups().find(|g| g.id() == id)
    }

    /// The group named `name` (SCIM compares displayNames regardless of letter case).
    pub fn by_name(&self, name: &str) -> Option<Group> {
        self.groups().find(|g| g.name.eq_ignore_ascii_case(name))
    }

    /// The group named `name`, or a 400 naming it.
    pub fn mapped(&self, name: &str) -> Result<Group, ScimError> {
        self.by_name(name).ok_or_else(|| {
            ScimError::invalid_value(format!(
                "the group {name:?} is not in the inbox map: add it with its shared inbox's \
                 phone number (--inboxes)"
            ))
        })
    }
}

/// The agents of `tenant_agents` that the inbox of `number` lists.
pub fn members<'a>(tenant_agents: &'a [Agent], number: &str) -> Vec<&'a Agent> {
    tenant_agents
        .iter()
        .filter(|a| {
            a.shared_inbox
                .iter()
                .any(|s| s.phone_number.as_deref() == Some(number))
        })
        .collect()
}

/// The group as a SCIM resource; `members` is `None` when they were not asked for.
pub fn resource(group: &Group, members: Option<&[&Agent]>, base: &str) -> Value {
    let mut resource = json!({
        "schemas": [GROUP_SCHEMA],
        "id": group.id(),
        "displayName": group.name,
        "meta": {"resourceType": "Group", "location": format!("{base}/Groups/{}", group.id())},
    });
    if let Some(members) = members {
        resource["members"] = members
            .iter()
            .filter_map(|a| a.user_object_id.as_ref().map(|id| (id, a)))
            .map(|(id, a)| {
                json!({"value": id, "display": a.name, "$ref": format!("{base}/Users/{id}")})
            })
            .collect();
    }
    resource
}

/// A group resource's body, which must be a JSON object.
pub fn object(body: Value) -> Result<serde_json::Map<String, Value>, ScimError> {
    match body {
        Value::Object(object) => Ok(object),
        _ => Err(ScimError::invalid_syntax("a group is a JSON object")),
    }
}

/// The user ids of a `members` value: `[{"value": id}, …]`, or one such object.
pub fn member_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let list = match value {
        Value::Array(list) => list.clone(),
        Value::Object(_) => vec![value.clone()],
        _ => {
            return Err(ScimError::invalid_value(
                "members is a list of {\"value\": user id}",
            ));
        }
    };
    list.iter()
        .map(|m| {
            m.as_object()
                .and_then(|m| crate::patch::field(m, "value"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| ScimError::invalid_value(format!("a member without a value: {m}")))
        })
        .collect()
}

/// What a group PATCH asks: members to add and to remove (by value list or by a filtered
/// path `members[value eq "id"]`); `replace` of members is both, against `current`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MemberChanges {
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// Whether `change` needs the current members to know whom it removes: a replace of the
/// members, or a remove of them with no value (or an empty one) and no filter.
pub fn needs_current_members(change: &Change) -> bool {
    let removes_every_member = change.op == Op::Remove
        && change.path.value_filter.is_none()
        && change
            .value
            .as_ref()
            .is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty));
    change.path.name == "members" && (change.op == Op::Replace || removes_every_member)
}

/// Whether `value` is the group's own displayName (letter case aside).
pub fn names(group: &Group, value: Option<&Value>) -> bool {
    value
        .and_then(Value::as_str)
        .is_some_and(|name| name.eq_ignore_ascii_case(&group.name))
}

/// A displayName other than the group's own: the inbox map, not SCIM, names the inbox.
pub fn renamed() -> ScimError {
    ScimError::mutability(
        "a group's displayName names its shared inbox in the inbox map: it cannot change here",
    )
}

pub fn member_changes(
    group: &Group,
    operations: &[Change],
    current: &[String],
) -> Result<MemberChanges, ScimError> {
    let mut changes = MemberChanges::default();
    for change in operations {
        let path = &change.path;
        match (path.name.as_str(), change.op) {
            ("members", op) if path.sub.as_deref().is_none_or(|s| s == "value") => {
                let mut ids = match &change.value {
                    Some(value) if !value.is_null() => member_ids(value)?,
                    _ => Vec::new(),
                };
                if let Some(filter) = &path.value_filter {
                    if filter.path.name != "value" {
                        return Err(ScimError::invalid_filter(format!(
                            "{path}: members are selected by value"
                        )));
                    }
                    ids.extend(filter.value.as_text());
                }
                match op {
                    Op::Add => changes.add.extend(ids),
                    Op::Remove if ids.is_empty() => changes.remove.extend(current.iter().cloned()),
                    Op::Remove => changes.remove.extend(ids),
                    Op::Replace => {
                        changes
                            .remove
                            .extend(current.iter().filter(|c| !ids.contains(c)).cloned());
                        changes.add.extend(ids);
                    }
                }
            }
            // Entra re-sends a group's displayName with its member changes: the same name is
            // no change.
            ("displayname", Op::Add | Op::Replace) if names(group, change.value.as_ref()) => {}
            ("displayname", _) => return Err(renamed()),
            ("externalid", _) => {}
            _ => {
                return Err(ScimError::invalid_path(format!(
                    "{path} is not an attribute of a group"
                )));
            }
        }
    }
    changes.add.sort();
    changes.add.dedup();
    changes.remove.sort();
    changes.remove.dedup();
    changes.remove.retain(|r| !changes.add.contains(r));
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Group {
        Group {
            name: "Store 1234 Team".into(),
            number: "+15550100050".into(),
        }
    }

    fn changes(operations: Value) -> Vec<Change> {
        crate::patch::read(&json!({ "Operations": operations })).unwrap()
    }

    #[test]
    fn the_groups_own_display_name_resent_with_members_is_no_change() {
        let operations = changes(json!([
            {"op": "Replace", "path": "displayName", "value": "store 1234 TEAM"},
            {"op": "Add", "value": {"displayName": "Store 1234 Team"}},
            {"op": "add", "path": "members", "value": [{"value": "u1"}]},
        ]));
        let wanted = member_changes(&store(), &operations, &[]).unwrap();
        assert_eq!(wanted.add, ["u1"]);
        assert!(wanted.remove.is_empty());
    }

    #[test]
    fn member_values_are_read_whatever_the_letter_case_of_their_name() {
        let ids = member_ids(&json!([{"value": "u1"}, {"Value": "u2", "display": "Pat"}]));
        assert_eq!(ids.unwrap(), ["u1", "u2"]);
        let refused = member_ids(&json!([{"display": "Pat"}])).unwrap_err();
        assert!(refused.detail.contains("without a value"), "{refused:?}");
    }

    #[test]
    fn another_display_name_is_refused_as_immutable() {
        for operation in [
            json!({"op": "replace", "path": "displayName", "value": "Store 99"}),
            json!({"op": "replace", "value": {"displayName": "Store 99"}}),
            json!({"op": "remove", "path": "displayName"}),
        ] {
            let refused = member_changes(&store(), &changes(json!([operation])), &[]).unwrap_err();
            assert_eq!(refused.scim_type, Some("mutability"), "{operation}");
        }
    }

    #[test]
    fn only_a_replace_or_a_whole_remove_of_members_reads_the_current_ones() {
        let reads = |operation: Value| {
            changes(json!([operation]))
                .iter()
                .any(needs_current_members)
        };
        assert!(reads(
            json!({"op": "replace", "path": "members", "value": []})
        ));
        assert!(reads(json!({"op": "remove", "path": "members"})));
        assert!(reads(
            json!({"op": "remove", "path": "members", "value": []})
        ));
        assert!(reads(
            json!({"op": "remove", "path": "members", "value": null})
        ));
        assert!(!reads(
            json!({"op": "remove", "path": "members[value eq \"u1\"]"})
        ));
        assert!(!reads(
            json!({"op": "remove", "path": "members", "value": [{"value": "u1"}]})
        ));
        assert!(!reads(
            json!({"op": "replace", "path": "displayName", "value": "Store 1234 Team"})
        ));
        assert!(!reads(json!({"op": "remove", "path": "displayName"})));
    }
}
