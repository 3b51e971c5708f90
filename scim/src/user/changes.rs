//! The changes a PUT (`replaced`) or a PATCH (`patched`) makes to an agent.

use super::read::{Values, boolean, display_name, roles, text, work_address};
use super::{Home, NamePart, Slot, describe, home};
use crate::error::ScimError;
use crate::filter::AttrPath;
use crate::patch::{self, Change, Op};
use serde_json::Value;
use smartcomm::model::*;

/// The changes that make `current` hold `values` (a PUT): every field the values name; a
/// field the agent holds that they leave out or clear is refused, since the API cannot clear
/// it.
pub fn replaced(current: &Agent, values: &Values) -> Result<AgentChanges, ScimError> {
    let mut changes = AgentChanges::default();
    if let Some(Some(id)) = values.get(&Slot::UserObjectId)
        && current.user_object_id.as_deref() != Some(&text(Slot::UserObjectId, id)?)
    {
        return Err(ScimError::mutability(
            "externalId is the agent's user_object_id: it cannot change",
        ));
    }
    if let Some(name) = display_name(values)?
        && current.name.as_deref() != Some(&name)
    {
        changes.name = Some(name);
    }
    for &field in ProfileField::ALL {
        let slot = Slot::Text(field);
        let have = current.profile(field);
        match values.get(&slot).cloned().flatten() {
            Some(v) => {
                let want = text(slot, &v)?;
                if have != Some(want.as_str()) {
                    *changes.profile_mut(field) = Some(want);
                }
            }
            None if have.is_some() => return Err(cannot_clear(slot)),
            None => {}
        }
    }
    for (slot, value) in values {
        if matches!(
            slot,
            Slot::Text(_) | Slot::UserObjectId | Slot::Name | Slot::NamePart(_)
        ) {
            continue;
        }
        apply_one(current, *slot, Op::Replace, value.as_ref(), &mut changes)?;
    }
    Ok(changes)
}

/// Whether a PATCH's name attributes say the whole name: `displayName`, `name.formatted`, or
/// both the given and the family name. One part alone cannot rebuild the agent's one name.
fn names_whole(parts: &Values) -> bool {
    let has = |slot: Slot| parts.get(&slot).is_some_and(Option::is_some);
    has(Slot::Name)
        || has(Slot::NamePart(NamePart::Formatted))
        || (has(Slot::NamePart(NamePart::Given)) && has(Slot::NamePart(NamePart::Family)))
}

fn cannot_clear(slot: Slot) -> ScimError {
    ScimError::mutability(format!(
        "{} cannot be cleared: the SmartCommunicator API has no way to empty a field",
        describe(slot)
    ))
}

/// The changes a PATCH makes to `current`.
pub fn patched(current: &Agent, operations: &[Change]) -> Result<AgentChanges, ScimError> {
    let mut changes = AgentChanges::default();
    let mut name_parts = Values::new();
    let mut spread = Vec::new();
    for change in operations {
        spread.extend(addresses_spread(change.clone())?);
    }
    for change in &spread {
        let slot = super::slot(&change.path)?;
        match slot {
            Slot::NamePart(_) | Slot::Name => {
                if change.op == Op::Remove {
                    return Err(cannot_clear(slot));
                }
                name_parts.insert(slot, change.value.clone());
            }
            _ => apply_one(
                current,
                slot,
                change.op,
                change.value.as_ref(),
                &mut changes,
            )?,
        }
    }
    if names_whole(&name_parts)
        && let Some(name) = display_name(&name_parts)?
        && current.name.as_deref() != Some(&name)
    {
        changes.name = Some(name);
    }
    Ok(changes)
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

fn number_cannot_go(slot: Slot) -> ScimError {
    ScimError::mutability(format!(
        "{} cannot be removed: the SmartCommunicator API cannot take a number from an agent",
        describe(slot)
    ))
}

/// One change to one field: `remove` (or a null value) clears, which the API cannot do except
/// for a role; roles are added, replaced or removed as a set.
fn apply_one(
    current: &Agent,
    slot: Slot,
    op: Op,
    value: Option<&Value>,
    changes: &mut AgentChanges,
) -> Result<(), ScimError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return match slot {
            Slot::Ignored => Ok(()),
            Slot::Roles if op == Op::Remove => Err(ScimError::mutability(format!(
                "{}: name the roles to remove; an agent keeps at least one",
                describe(slot)
            ))),
            Slot::Number(_) => Err(number_cannot_go(slot)),
            _ => Err(cannot_clear(slot)),
        };
    };
    match slot {
        Slot::UserObjectId => {
            if current.user_object_id.as_deref() != Some(&text(slot, value)?) {
                return Err(ScimError::mutability(
                    "externalId is the agent's user_object_id: it cannot change",
                ));
            }
        }
        Slot::Text(field) => *changes.profile_mut(field) = Some(text(slot, value)?),
        Slot::Name => changes.name = Some(text(slot, value)?),
        Slot::Active => changes.active = Some(boolean(slot, value)?),
        Slot::Roles => role_change(current, op, roles(value)?, changes),
        Slot::Number(_) if op == Op::Remove => return Err(number_cannot_go(slot)),
        Slot::Number(number) => {
            let number = PhoneNumber {
                number_type: number.number_type(),
                value: text(slot, value)?,
            };
            if !current.phone_number.contains(&number) {
                changes
                    .phone_number
                    .get_or_insert_with(Vec::new)
                    .push(number);
            }
        }
        Slot::Tab(_) if op == Op::Remove => return Err(cannot_clear(slot)),
        Slot::Tab(tab) => {
            let services = changes
                .enabled_services
                .get_or_insert_with(Default::default);
            *tab.of(services) = Some(boolean(slot, value)?);
        }
        Slot::NamePart(_) | Slot::Ignored => {}
    }
    Ok(())
}

fn role_change(current: &Agent, op: Op, roles: Vec<Role>, changes: &mut AgentChanges) {
    let role_changes = changes.roles.get_or_insert_with(Default::default);
    match op {
        Op::Add => role_changes.assign.extend(roles),
        Op::Remove => role_changes.remove.extend(roles),
        Op::Replace => {
            role_changes
                .remove
                .extend(current.roles.iter().filter(|r| !roles.contains(r)).copied());
            role_changes.assign.extend(roles);
        }
    }
    role_changes.assign.sort_by_key(|r| r.as_str());
    role_changes.assign.dedup();
    role_changes.remove.sort_by_key(|r| r.as_str());
    role_changes.remove.dedup();
    let (assign, remove) = (role_changes.assign.clone(), role_changes.remove.clone());
    if assign.iter().all(|r| current.roles.contains(r))
        && remove.iter().all(|r| !current.roles.contains(r))
    {
        changes.roles = None;
    }
}
