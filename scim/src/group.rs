//! SCIM Groups as shared inboxes. The API lists no inboxes and cannot make one without a
//! number, so the administrator maps each group's `displayName` to its inbox's phone number;
//! the group's `id` is that number's digits, and its members are the tenant's agents that the
//! inbox lists.

use crate::error::ScimError;
use crate::key;
use crate::patch::{Change, Op};
use serde_json::{Value, json};
use smartcomm::model::Agent;
use smartcomm::validate;
use std::collections::{BTreeMap, BTreeSet};

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

/// The user ids of a `members` value: `[{"value": id}, …]`, or one such object. Each must be
/// an Entra object id, as every user id of the bridge is.
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
                .ok_or_else(|| ScimError::invalid_value(format!("a member without a value: {m}")))
                .and_then(|id| key::object_id("members.value", id))
        })
        .collect()
}

/// What a group request does to its members: whom to add and whom to remove.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MemberChanges {
    pub add: BTreeSet<String>,
    pub remove: BTreeSet<String>,
}

/// Whether `operations` change the members (and so need the members as they are now).
pub fn touches_members(operations: &[Change]) -> bool {
    operations.iter().any(|c| c.path.name == "members")
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

/// A PATCH's operations applied in order to `current` (the members now): members added by
/// value, removed by value or by a filtered path `members[value eq "id"]`, replaced, or all
/// removed. The group's own `displayName` and `id` may be re-sent (Entra and Okta do, beside
/// member changes); any other change of them is refused.
pub fn member_changes(
    group: &Group,
    operations: &[Change],
    current: &BTreeSet<String>,
) -> Result<MemberChanges, ScimError> {
    let mut members = current.clone();
    for change in operations {
        let path = &change.path;
        let op = change.op;
        match path.name.as_str() {
            "members" if path.sub.as_deref().is_none_or(|s| s == "value") => {
                apply_to_members(change, &mut members)?
            }
            "displayname" if op != Op::Remove && names(group, change.value.as_ref()) => {}
            "displayname" => return Err(renamed()),
            "id" if op != Op::Remove && is_own_id(group, change.value.as_ref()) => {}
            "id" => {
                return Err(ScimError::mutability(format!(
                    "a group's id is its shared inbox's number ({}): it cannot change",
                    group.id()
                )));
            }
            "externalid" => {}
            _ => {
                return Err(ScimError::invalid_path(format!(
                    "{path} is not an attribute of a group"
                )));
            }
        }
    }
    Ok(MemberChanges {
        add: members.difference(current).cloned().collect(),
        remove: current.difference(&members).cloned().collect(),
    })
}

/// One operation on `members`, applied to the members so far.
fn apply_to_members(change: &Change, members: &mut BTreeSet<String>) -> Result<(), ScimError> {
    let mut ids = match &change.value {
        Some(value) if !value.is_null() => member_ids(value)?,
        _ => Vec::new(),
    };
    if let Some(filter) = &change.path.value_filter {
        if filter.path.name != "value" {
            return Err(ScimError::invalid_filter(format!(
                "{}: members are selected by value",
                change.path
            )));
        }
        let id = filter.value.as_text().unwrap_or_default();
        ids.push(key::object_id("members[value eq …]", &id)?);
    }
    match change.op {
        Op::Add => members.extend(ids),
        // A remove that names no member removes them all (RFC 7644 §3.5.2.2).
        Op::Remove if ids.is_empty() => members.clear(),
        Op::Remove => ids.iter().for_each(|id| {
            members.remove(id);
        }),
        Op::Replace => *members = ids.into_iter().collect(),
    }
    Ok(())
}

fn is_own_id(group: &Group, value: Option<&Value>) -> bool {
    value.and_then(Value::as_str) == Some(group.id().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: &str = "00000000-0000-4000-8000-000000000001";
    const U2: &str = "00000000-0000-4000-8000-000000000002";
    const U3: &str = "00000000-0000-4000-8000-000000000003";

    fn store() -> Group {
        Group {
            name: "Store 1234 Team".into(),
            number: "+15550100050".into(),
        }
    }

    fn changes(operations: Value) -> Vec<Change> {
        crate::patch::read(&json!({ "Operations": operations })).unwrap()
    }

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|id| id.to_string()).collect()
    }

    #[test]
    fn the_groups_own_display_name_and_id_resent_with_members_are_no_change() {
        let operations = changes(json!([
            {"op": "Replace", "path": "displayName", "value": "store 1234 TEAM"},
            {"op": "Add", "value": {"displayName": "Store 1234 Team"}},
            {"op": "replace", "value": {"id": "15550100050", "displayName": "Store 1234 Team"}},
            {"op": "add", "path": "members", "value": [{"value": U1}]},
        ]));
        let wanted = member_changes(&store(), &operations, &set(&[])).unwrap();
        assert_eq!(wanted.add, set(&[U1]));
        assert!(wanted.remove.is_empty());
    }

    #[test]
    fn member_values_are_read_whatever_the_letter_case_of_their_name() {
        let ids =
            member_ids(&json!([{"value": U1}, {"Value": U2.to_uppercase(), "display": "Pat"}]));
        assert_eq!(ids.unwrap(), [U1, U2]);
        let refused = member_ids(&json!([{"display": "Pat"}])).unwrap_err();
        assert!(refused.detail.contains("without a value"), "{refused:?}");
    }

    #[test]
    fn a_member_id_that_is_not_an_entra_object_id_is_refused_naming_it() {
        for operation in [
            json!({"op": "add", "path": "members", "value": [{"value": "g1"}]}),
            json!({"op": "remove", "path": "members[value eq \"g1\"]"}),
        ] {
            let refused =
                member_changes(&store(), &changes(json!([operation])), &set(&[])).unwrap_err();
            assert!(
                refused.detail.contains("\"g1\" is not an Entra object id"),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn another_display_name_or_id_is_refused_as_immutable() {
        for operation in [
            json!({"op": "replace", "path": "displayName", "value": "Store 99"}),
            json!({"op": "replace", "value": {"displayName": "Store 99"}}),
            json!({"op": "remove", "path": "displayName"}),
            json!({"op": "replace", "value": {"id": "15550100099", "displayName": "Store 1234 Team"}}),
        ] {
            let refused =
                member_changes(&store(), &changes(json!([operation])), &set(&[])).unwrap_err();
            assert_eq!(refused.scim_type, Some("mutability"), "{operation}");
        }
    }

    #[test]
    fn operations_apply_in_order() {
        let current = set(&[U1]);
        let wanted =
            |operations: Value| member_changes(&store(), &changes(operations), &current).unwrap();
        let add_then_remove = wanted(json!([
            {"op": "add", "path": "members", "value": [{"value": U2}]},
            {"op": "remove", "path": format!("members[value eq \"{U2}\"]")},
        ]));
        assert_eq!(add_then_remove, MemberChanges::default());
        let remove_then_add = wanted(json!([
            {"op": "remove", "path": "members", "value": [{"value": U1}]},
            {"op": "add", "path": "members", "value": [{"value": U1}]},
        ]));
        assert_eq!(remove_then_add, MemberChanges::default());
        let replace_then_add = wanted(json!([
            {"op": "replace", "path": "members", "value": [{"value": U2}]},
            {"op": "add", "path": "members", "value": [{"value": U3}]},
        ]));
        assert_eq!(replace_then_add.add, set(&[U2, U3]));
        assert_eq!(replace_then_add.remove, set(&[U1]));
        let all_removed = wanted(json!([{"op": "remove", "path": "members"}]));
        assert_eq!(all_removed.remove, set(&[U1]));
    }

    #[test]
    fn only_member_operations_need_the_members_as_they_are() {
        assert!(touches_members(&changes(json!([
            {"op": "remove", "path": "members[value eq \"x\"]"}
        ]))));
        assert!(!touches_members(&changes(json!([
            {"op": "replace", "value": {"id": "15550100050", "displayName": "Store 1234 Team"}}
        ]))));
    }
}
