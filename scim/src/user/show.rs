//! A SCIM User from an agent.

use super::{
    ENTERPRISE_SCHEMA, SMARTCOMM_SCHEMA, Tab, USER_SCHEMA, address, core, enterprise, extension,
    fields_in,
};
use serde_json::{Map, Value, json};
use smartcomm::model::*;

/// The agent's profile fields that live where `home_of` says, as attributes.
fn profile_attributes(
    agent: &Agent,
    home_of: impl Fn(super::Home) -> Option<&'static str>,
) -> Map<String, Value> {
    fields_in(home_of)
        .filter_map(|(field, name)| agent.profile(field).map(|v| (name.to_string(), json!(v))))
        .collect()
}

/// The agent as a SCIM User; `location` is its URL.
pub fn resource(agent: &Agent, location: &str) -> Value {
    let id = agent.user_object_id.clone().unwrap_or_default();
    let mut user = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA, SMARTCOMM_SCHEMA],
        "id": id,
        "externalId": id,
        "active": agent.active.unwrap_or(true),
        "meta": {"resourceType": "User", "location": location},
    });
    let object = user.as_object_mut().expect("a User is an object");
    object.extend(profile_attributes(agent, core));
    // The agent has one name: `displayName`. `name`'s parts are read when a request has no
    // displayName, and not shown.
    if let Some(name) = &agent.name {
        object.insert("displayName".into(), json!(name));
    }
    let mut work_address = profile_attributes(agent, address);
    if !work_address.is_empty() {
        work_address.insert("type".into(), json!("work"));
        object.insert("addresses".into(), json!([work_address]));
    }
    object.insert(
        ENTERPRISE_SCHEMA.into(),
        Value::Object(profile_attributes(agent, enterprise)),
    );
    object.insert(SMARTCOMM_SCHEMA.into(), extension_attributes(agent));
    user
}

fn extension_attributes(agent: &Agent) -> Value {
    let mut ext = profile_attributes(agent, extension);
    if !agent.roles.is_empty() {
        ext.insert(
            "roles".into(),
            json!(agent.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
        );
    }
    for (name, number_type) in [
        ("messagingNumber", NumberType::Messaging),
        ("supervisedNumber", NumberType::Supervised),
    ] {
        if let Some(p) = agent
            .phone_number
            .iter()
            .find(|p| p.number_type == number_type)
        {
            ext.insert(name.into(), json!(p.value));
        }
    }
    if let Some(services) = &agent.enabled_services {
        let mut services = services.clone();
        let mut tabs = Map::new();
        for (tab, name) in Tab::ALL {
            if let Some(on) = *tab.of(&mut services) {
                tabs.insert(name.into(), json!(on));
            }
        }
        if !tabs.is_empty() {
            ext.insert("enabledServices".into(), Value::Object(tabs));
        }
    }
    Value::Object(ext)
}

/// The agent as onboarding `agent` leaves it, for the answer to a create: its fields, the
/// `member` role the API gives an agent onboarded without roles, and its numbers.
pub fn onboarded(agent: &NewAgent) -> Agent {
    let mut onboarded = Agent {
        user_object_id: Some(agent.user_object_id.clone()),
        tenant_id: Some(agent.tenant_id.clone()),
        name: Some(agent.name.clone()),
        phone_number: agent
            .number_provisioning
            .iter()
            .map(|p| PhoneNumber {
                number_type: p.number_type,
                value: p.phone_number.clone(),
            })
            .collect(),
        roles: agent.roles.clone().unwrap_or_else(|| vec![Role::Member]),
        enabled_services: agent.enabled_services.clone(),
        active: Some(true),
        ..Agent::default()
    };
    for &field in ProfileField::ALL {
        *onboarded.profile_mut(field) = agent.profile(field).map(str::to_string);
    }
    onboarded
}
