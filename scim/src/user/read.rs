//! An agent to onboard, from the values of a whole resource (a POST or PUT body).

use super::{
    ENTERPRISE_SCHEMA, NamePart, SMARTCOMM_SCHEMA, Slot, USER_SCHEMA, address, describe, fields_in,
    slot,
};
use crate::error::ScimError;
use crate::filter::AttrPath;
use crate::key;
use crate::patch;
use serde_json::{Map, Value, json};
use smartcomm::model::*;
use std::collections::BTreeMap;

/// The values a request gives each field: `None` for one it clears.
pub type Values = BTreeMap<Slot, Option<Value>>;

/// The fields a whole resource (a POST or PUT body) gives, each once.
pub fn values_of_resource(resource: &Value) -> Result<Values, ScimError> {
    let Some(object) = resource.as_object() else {
        return Err(ScimError::invalid_syntax("a User is a JSON object"));
    };
    let mut values = Values::new();
    for (key, value) in object {
        let lower = key.to_ascii_lowercase();
        // `password` is dropped unread: Okta sends one with every create, even with password
        // sync off, and an agent signs in through Entra.
        if matches!(lower.as_str(), "schemas" | "meta" | "groups" | "password") {
            continue;
        }
        if lower == "addresses" {
            values.extend(work_address(value)?);
            continue;
        }
        let single = Map::from_iter([(key.clone(), value.clone())]);
        let changes = patch::read(&json!({"Operations": [{"op": "replace", "value": single}]}))?;
        for change in changes {
            let slot = slot(&change.path).or_else(|e| match resource_tolerates(&change.path) {
                true => Ok(Slot::Ignored),
                false => Err(e),
            })?;
            if slot != Slot::Ignored {
                values.insert(slot, given(change.value));
            }
        }
    }
    Ok(values)
}

/// A value as a request gives it: `None` for a null or a blank string, which clear an
/// attribute (identity providers send either for an empty source attribute).
pub(super) fn given(value: Option<Value>) -> Option<Value> {
    value.filter(|v| !v.is_null() && !v.as_str().is_some_and(|s| s.trim().is_empty()))
}

/// A whole resource may carry attributes of schemas this bridge does not know (another app's
/// extension); those are ignored, as RFC 7643 allows.
fn resource_tolerates(path: &AttrPath) -> bool {
    path.urn.as_deref().is_some_and(|urn| {
        ![USER_SCHEMA, ENTERPRISE_SCHEMA, SMARTCOMM_SCHEMA]
            .iter()
            .any(|known| urn.eq_ignore_ascii_case(known))
    })
}

/// The work address of an `addresses` list (the one typed `work`, else the primary one, else
/// the only one), as field values.
pub(super) fn work_address(value: &Value) -> Result<Values, ScimError> {
    let addresses = match value {
        Value::Null => return Ok(Values::new()),
        Value::Array(list) => list,
        _ => return Err(ScimError::invalid_value("addresses is a list")),
    };
    let typed = |t: &str| {
        addresses
            .iter()
            .find(|a| a.get("type").and_then(Value::as_str) == Some(t))
    };
    let chosen = typed("work")
        .or_else(|| {
            addresses
                .iter()
                .find(|a| a.get("primary") == Some(&json!(true)))
        })
        .or(match addresses.len() {
            1 => addresses.first(),
            _ => None,
        });
    let mut values = Values::new();
    if let Some(work) = chosen.and_then(Value::as_object) {
        for (field, name) in fields_in(address) {
            if let Some((_, v)) = work.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                values.insert(Slot::Text(field), given(Some(v.clone())));
            }
        }
    }
    Ok(values)
}

pub(super) fn text(slot: Slot, value: &Value) -> Result<String, ScimError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => Err(ScimError::invalid_value(format!(
            "{} must be a string",
            describe(slot)
        ))),
    }
}

pub(super) fn roles(value: &Value) -> Result<Vec<Role>, ScimError> {
    let list = match value {
        Value::Array(list) => list.clone(),
        single => vec![single.clone()],
    };
    list.iter()
        .map(|v| {
            let name = v.get("value").unwrap_or(v);
            serde_json::from_value::<Role>(name.clone()).map_err(|_| {
                ScimError::invalid_value(format!(
                    "{SMARTCOMM_SCHEMA}:roles: {name} is not member, manager or admin"
                ))
            })
        })
        .collect()
}

pub(super) fn boolean(slot: Slot, value: &Value) -> Result<bool, ScimError> {
    patch::boolean(value).ok_or_else(|| {
        ScimError::invalid_value(format!(
            "{} must be true or false, not {value}",
            describe(slot)
        ))
    })
}

/// The display name from `displayName`, else `name.formatted`, else the given and family names.
pub(super) fn display_name(values: &Values) -> Result<Option<String>, ScimError> {
    let part = |slot: Slot| -> Result<Option<String>, ScimError> {
        values
            .get(&slot)
            .cloned()
            .flatten()
            .map(|v| text(slot, &v))
            .transpose()
    };
    if let Some(name) = part(Slot::Name)? {
        return Ok(Some(name));
    }
    if let Some(formatted) = part(Slot::NamePart(NamePart::Formatted))? {
        return Ok(Some(formatted));
    }
    let given = part(Slot::NamePart(NamePart::Given))?;
    let family = part(Slot::NamePart(NamePart::Family))?;
    let joined: Vec<String> = given.into_iter().chain(family).collect();
    Ok((!joined.is_empty()).then(|| joined.join(" ")))
}

/// The agent a POST onboards, in `tenant`, and whether it starts deactivated.
pub fn new_agent(values: &Values, tenant: &str) -> Result<(NewAgent, Option<bool>), ScimError> {
    let user_object_id = match values.get(&Slot::UserObjectId).cloned().flatten() {
        Some(v) => key::object_id("externalId", &text(Slot::UserObjectId, &v)?)?,
        None => {
            return Err(ScimError::invalid_value(format!(
                "externalId is required: it becomes the agent's user_object_id; {}",
                key::MAPPING_TO_FIX
            )));
        }
    };
    let mut agent = NewAgent {
        user_object_id,
        tenant_id: tenant.to_string(),
        name: display_name(values)?.ok_or_else(|| {
            ScimError::invalid_value(
                "displayName is required (or name.formatted, or name.givenName and familyName)",
            )
        })?,
        ..Default::default()
    };
    let mut active = None;
    let mut services = EnabledServices::default();
    for (slot, value) in values {
        let Some(value) = value else { continue };
        match *slot {
            Slot::Text(field) => *agent.profile_mut(field) = Some(text(*slot, value)?),
            Slot::Roles => agent.roles = Some(roles(value)?),
            Slot::Number(number) => agent.number_provisioning.push(NumberProvisioning {
                number_type: number.number_type(),
                phone_number: text(*slot, value)?,
                supervisors: None,
            }),
            Slot::Tab(tab) => *tab.of(&mut services) = Some(boolean(*slot, value)?),
            Slot::Active => active = Some(boolean(*slot, value)?),
            Slot::UserObjectId | Slot::Name | Slot::NamePart(_) | Slot::Ignored => {}
        }
    }
    if services != EnabledServices::default() {
        agent.enabled_services = Some(services);
    }
    Ok((agent, active))
}
