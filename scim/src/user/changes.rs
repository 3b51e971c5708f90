//! The changes a PUT (`replaced`) or a PATCH (`patched`) makes to an agent.
//!
//! The API only sets values: it cannot empty a field, take a number away, or leave an agent
//! without a role. A request that clears such a field, or leaves it out of a PUT, keeps the
//! agent's value, and the answer shows it (RFC 7644 lets a service provider keep a value it
//! cannot clear). It never blocks the rest of the request: a leaver's `active: false` must
//! always get through.

use super::read::{Values, boolean, display_name, given, roles, text, work_address};
use super::{Home, NamePart, Slot, Tab, home};
use crate::error::ScimError;
use crate::filter::AttrPath;
use crate::key;
use crate::patch::{self, Change, Op};
use serde_json::Value;
use smartcomm::model::*;

/// The changes that make `current` hold `values` (a PUT): every field the values give; a
/// field they leave out or clear keeps its value.
pub fn replaced(current: &Agent, values: &Values) -> Result<AgentChanges, ScimError> {
    let mut draft = Draft::new(current);
    if let Some(Some(id)) = values.get(&Slot::UserObjectId) {
        draft.same_key(id)?;
    }
    if let Some(name) = display_name(values)? {
        draft.changes.name = Some(name);
    }
    for (slot, value) in values {
        if !matches!(slot, Slot::UserObjectId | Slot::Name | Slot::NamePart(_)) {
            draft.apply(*slot, Op::Replace, value.as_ref())?;
        }
    }
    Ok(draft.finish())
}

/// The changes a PATCH makes to `current`: its operations applied in order, so a later one
/// overrides an earlier one on the same field.
pub fn patched(current: &Agent, operations: &[Change]) -> Result<AgentChanges, ScimError> {
    let mut draft = Draft::new(current);
    let mut name_parts = Values::new();
    for change in operations {
        for change in addresses_spread(change.clone())? {
            let slot = super::slot(&change.path)?;
            let value = given(change.value);
            match slot {
                // A clear of a name keeps it: an agent always has one.
                Slot::NamePart(_) | Slot::Name if change.op == Op::Remove || value.is_none() => {
                    name_parts.remove(&slot);
                }
                Slot::NamePart(_) | Slot::Name => {
                    name_parts.insert(slot, value);
                }
                _ => draft.apply(slot, change.op, value.as_ref())?,
            }
        }
    }
    if names_whole(&name_parts) {
        draft.changes.name = display_name(&name_parts)?;
    }
    Ok(draft.finish())
}

/// Whether a PATCH's name attributes say the whole name: `displayName`, `name.formatted`, or
/// both the given and the family name. One part alone cannot rebuild the agent's one name.
fn names_whole(parts: &Values) -> bool {
    let has = |slot: Slot| parts.get(&slot).is_some_and(Option::is_some);
    has(Slot::Name)
        || has(Slot::NamePart(NamePart::Formatted))
        || (has(Slot::NamePart(NamePart::Given)) && has(Slot::NamePart(NamePart::Family)))
}

/// The changes so far, against the agent as it is.
struct Draft<'a> {
    current: &'a Agent,
    changes: AgentChanges,
    /// The roles the agent is to hold, once an operation named them.
    roles: Option<Vec<Role>>,
}

impl<'a> Draft<'a> {
    fn new(current: &'a Agent) -> Self {
        Draft {
            current,
            changes: AgentChanges::default(),
            roles: None,
        }
    }

    /// `externalId` (or `id`) may be sent, but only as the agent's own.
    fn same_key(&self, value: &Value) -> Result<(), ScimError> {
        let given = key::object_id("externalId", &text(Slot::UserObjectId, value)?)?;
        match self.current.user_object_id.as_deref() {
            Some(own) if own.eq_ignore_ascii_case(&given) => Ok(()),
            _ => Err(ScimError::mutability(
                "externalId is the agent's user_object_id: it cannot change",
            )),
        }
    }

    /// One operation on one field. A clear (`remove`, or a null value) keeps the agent's
    /// value: it undoes this request's earlier change to the field, if any. Names are read
    /// whole by the caller.
    fn apply(&mut self, slot: Slot, op: Op, value: Option<&Value>) -> Result<(), ScimError> {
        let set = given(value.cloned()).filter(|_| op != Op::Remove);
        let set = set.as_ref();
        match (slot, set) {
            (Slot::Ignored | Slot::Name | Slot::NamePart(_), _) => {}
            (Slot::UserObjectId, Some(value)) => self.same_key(value)?,
            (Slot::UserObjectId, None) => {}
            (Slot::Roles, _) => {
                self.roles = Some(self.role_change(op, given(value.cloned()).as_ref())?)
            }
            (Slot::Text(field), set) => {
                *self.changes.profile_mut(field) = set.map(|v| text(slot, v)).transpose()?;
            }
            (Slot::Active, set) => {
                self.changes.active = set.map(|v| boolean(slot, v)).transpose()?;
            }
            (Slot::Number(number), set) => {
                let numbers = self.changes.phone_number.get_or_insert_with(Vec::new);
                numbers.retain(|n| n.number_type != number.number_type());
                if let Some(value) = set {
                    numbers.push(PhoneNumber {
                        number_type: number.number_type(),
                        value: text(slot, value)?,
                    });
                }
            }
            (Slot::Tab(tab), set) => {
                let services = self
                    .changes
                    .enabled_services
                    .get_or_insert_with(Default::default);
                *tab.of(services) = set.map(|v| boolean(slot, v)).transpose()?;
            }
        }
        Ok(())
    }

    /// The roles after one operation on them. An operation that would leave none (a remove
    /// that names no role, or every role) keeps them as they were: the API keeps at least one.
    fn role_change(&self, op: Op, value: Option<&Value>) -> Result<Vec<Role>, ScimError> {
        let before = self
            .roles
            .clone()
            .unwrap_or_else(|| self.current.roles.clone());
        let named = value.map(roles).transpose()?;
        let after: Vec<Role> = match (op, named) {
            (Op::Add, Some(named)) => before.iter().chain(&named).copied().collect(),
            (Op::Replace, Some(named)) => named,
            (Op::Remove, Some(named)) => {
                before.into_iter().filter(|r| !named.contains(r)).collect()
            }
            (_, None) => before.clone(),
        };
        Ok(match after.is_empty() {
            true => self.current.roles.clone(),
            false => after,
        })
    }

    /// The changes, without those the agent already holds.
    fn finish(mut self) -> AgentChanges {
        let current = self.current;
        let changes = &mut self.changes;
        for &field in ProfileField::ALL {
            if changes.profile(field).is_some() && changes.profile(field) == current.profile(field)
            {
                *changes.profile_mut(field) = None;
            }
        }
        if changes.name.is_some() && changes.name == current.name {
            changes.name = None;
        }
        if changes.active.is_some() && changes.active == Some(current.active.unwrap_or(true)) {
            changes.active = None;
        }
        if let Some(numbers) = &mut changes.phone_number {
            numbers.retain(|n| !current.phone_number.contains(n));
        }
        if changes.phone_number.as_ref().is_some_and(Vec::is_empty) {
            changes.phone_number = None;
        }
        if let Some(services) = &mut changes.enabled_services {
            let mut held = current.enabled_services.clone().unwrap_or_default();
            for (tab, _) in Tab::ALL {
                let wanted = tab.of(services);
                if wanted.is_some() && *wanted == *tab.of(&mut held) {
                    *wanted = None;
                }
            }
            if *services == EnabledServices::default() {
                changes.enabled_services = None;
            }
        }
        changes.roles = self
            .roles
            .and_then(|wanted| role_changes(&current.roles, &wanted));
        self.changes
    }
}

/// The assignments and removals that take `held` to `wanted`; `None` when they are the same.
fn role_changes(held: &[Role], wanted: &[Role]) -> Option<RoleChanges> {
    let mut changes = RoleChanges {
        assign: wanted
            .iter()
            .filter(|r| !held.contains(r))
            .copied()
            .collect(),
        remove: held
            .iter()
            .filter(|r| !wanted.contains(r))
            .copied()
            .collect(),
    };
    for list in [&mut changes.assign, &mut changes.remove] {
        list.sort_by_key(|r| r.as_str());
        list.dedup();
    }
    (!changes.assign.is_empty() || !changes.remove.is_empty()).then_some(changes)
}

/// A change to a whole complex attribute or extension as changes to its sub-attributes, and
/// one to the whole `addresses` list as changes to the work address's.
fn addresses_spread(change: Change) -> Result<Vec<Change>, ScimError> {
    let whole_addresses = change.path.urn.is_none()
        && change.path.name == "addresses"
        && change.path.sub.is_none()
        && change.path.value_filter.is_none();
    match (&change.value, whole_addresses) {
        (Some(list @ Value::Array(_)), true) => Ok(work_address(list)?
            .into_iter()
            .map(|(slot, value)| Change {
                op: change.op,
                path: address_path(slot),
                value,
            })
            .collect()),
        _ => patch::spread(change),
    }
}

/// The path of the work address's sub-attribute that holds `slot`.
fn address_path(slot: Slot) -> AttrPath {
    let sub = match slot {
        Slot::Text(field) => match home(field) {
            Home::Address(name) => name,
            _ => "",
        },
        _ => "",
    };
    crate::filter::parse_path(&format!("addresses[type eq \"work\"].{sub}")).expect("a valid path")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::{ENTERPRISE_SCHEMA, SMARTCOMM_SCHEMA, values_of_resource};
    use serde_json::json;

    const ID: &str = "2819c223-7f76-453a-919d-413861904646";

    fn department() -> ProfileField {
        *ProfileField::ALL
            .iter()
            .find(|f| f.name() == "department")
            .unwrap()
    }

    fn agent() -> Agent {
        let mut agent = Agent {
            user_object_id: Some(ID.into()),
            name: Some("Ann Lee".into()),
            roles: vec![Role::Member, Role::Manager],
            phone_number: vec![PhoneNumber {
                number_type: NumberType::Messaging,
                value: "+15550100001".into(),
            }],
            active: Some(true),
            ..Agent::default()
        };
        *agent.profile_mut(department()) = Some("Front End".into());
        agent
    }

    fn patch(operations: Value) -> Result<AgentChanges, ScimError> {
        patched(
            &agent(),
            &patch::read(&json!({ "Operations": operations }))?,
        )
    }

    #[test]
    fn clears_of_what_the_api_cannot_clear_keep_the_value_and_block_nothing() {
        let changes = patch(json!([
            {"op": "remove", "path": format!("{ENTERPRISE_SCHEMA}:department")},
            {"op": "remove", "path": "name.familyName"},
            {"op": "remove", "path": "displayName"},
            {"op": "replace", "path": "title", "value": null},
            {"op": "replace", "path": "displayName", "value": ""},
            {"op": "replace", "path": "userName", "value": " "},
            {"op": "remove", "path": format!("{SMARTCOMM_SCHEMA}:messagingNumber")},
            {"op": "remove", "path": format!("{SMARTCOMM_SCHEMA}:roles")},
            {"op": "remove", "path": format!("{SMARTCOMM_SCHEMA}:enabledServices.calls")},
            {"op": "replace", "path": "active", "value": false},
        ]))
        .unwrap();
        assert_eq!(
            changes,
            AgentChanges {
                active: Some(false),
                ..AgentChanges::default()
            }
        );
    }

    #[test]
    fn a_put_that_leaves_fields_out_keeps_them_and_deactivates() {
        // Okta's custom-app deactivation: the whole user as Okta knows it, no department.
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": ID,
            "userName": "ann@x.example",
            "name": {"givenName": "Ann", "middleName": "", "familyName": "Lee"},
            "emails": [{"primary": true, "value": "ann@x.example", "type": "work"}],
            "password": "1mz050nq",
            "active": false,
            "groups": [],
        });
        let changes = replaced(&agent(), &values_of_resource(&body).unwrap()).unwrap();
        assert_eq!(changes.active, Some(false));
        assert_eq!(changes.name, None, "Ann Lee already");
        assert_eq!(changes.profile(department()), None);
        assert_eq!(changes.roles, None);
        assert!(!format!("{changes:?}").contains("1mz050nq"));
    }

    #[test]
    fn operations_on_one_field_apply_in_order() {
        let set_then_clear = patch(json!([
            {"op": "replace", "path": format!("{ENTERPRISE_SCHEMA}:department"), "value": "Ops"},
            {"op": "remove", "path": format!("{ENTERPRISE_SCHEMA}:department")},
        ]))
        .unwrap();
        assert_eq!(set_then_clear, AgentChanges::default());
        let roles = |operations: Value| patch(operations).unwrap().roles;
        let path = format!("{SMARTCOMM_SCHEMA}:roles");
        assert_eq!(
            roles(json!([
                {"op": "add", "path": path, "value": ["admin"]},
                {"op": "remove", "path": path, "value": ["admin"]},
            ])),
            None
        );
        assert_eq!(
            roles(json!([
                {"op": "remove", "path": path, "value": ["manager"]},
                {"op": "add", "path": path, "value": ["admin"]},
            ])),
            Some(RoleChanges {
                assign: vec![Role::Admin],
                remove: vec![Role::Manager],
            })
        );
        assert_eq!(
            roles(json!([{"op": "remove", "path": path, "value": ["member", "manager"]}])),
            None,
            "an agent keeps at least one role"
        );
    }

    #[test]
    fn what_is_not_a_clear_is_still_refused_naming_it() {
        let other = "5a1b2c3d-0000-4000-8000-00000000abcd";
        for (operations, names) in [
            (
                json!([{"op": "replace", "path": "externalId", "value": other}]),
                "externalId",
            ),
            (
                json!([{"op": "replace", "path": "externalId", "value": "jyoung"}]),
                "objectId → externalId",
            ),
            (
                json!([{"op": "replace", "path": "active", "value": "maybe"}]),
                "active",
            ),
            (
                json!([{"op": "replace", "path": "nickName2", "value": "x"}]),
                "nickname2",
            ),
        ] {
            let refused = patch(operations).unwrap_err();
            assert!(refused.detail.contains(names), "{names}: {refused:?}");
        }
        let own =
            patch(json!([{"op": "replace", "path": "externalId", "value": ID.to_uppercase()}]));
        assert_eq!(own.unwrap(), AgentChanges::default());
    }
}
