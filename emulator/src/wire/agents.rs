//! The bodies of the agent endpoints: onboard, update one, bulk update, bulk offboard.

use super::{
    AGENT_IDENTIFIERS, Choice, EnabledServices, Identifier, Need, NumberType, OFFBOARD_IDENTIFIERS,
    Reader, Role, item_object,
};
use serde_json::{Map, Value};

/// The optional descriptive fields an agent has, onboarded and updated alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Profile {
    pub upn: Option<String>,
    pub consistency_id: Option<String>,
    pub brand_name: Option<String>,
    pub department: Option<String>,
    pub region: Option<String>,
    pub state: Option<String>,
    pub district: Option<String>,
    pub store: Option<String>,
    pub city: Option<String>,
    pub zip_code: Option<String>,
}

fn profile(r: &mut Reader, o: &Map<String, Value>, at: &str) -> Profile {
    let mut text = |key: &str| r.text(o, at, key, Need::Optional);
    Profile {
        upn: text("upn"),
        consistency_id: text("consistency_id"),
        brand_name: text("brand_name"),
        department: text("department"),
        region: text("region"),
        state: text("state"),
        district: text("district"),
        store: text("store"),
        city: text("city"),
        zip_code: text("zip_code"),
    }
}

/// `{"identifier", "values": [..]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    pub identifier: Identifier,
    pub values: Vec<String>,
}

pub(super) fn selector(
    r: &mut Reader,
    o: &Map<String, Value>,
    at: &str,
    values_key: &str,
) -> Option<Selector> {
    let identifier = r.choice(o, at, "identifier", Need::Required, AGENT_IDENTIFIERS);
    let values = r.texts(o, at, values_key, Need::Required);
    Some(Selector {
        identifier: identifier?,
        values: values?,
    })
}

/// `{"identifier", "value"}`: one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgentRef {
    pub identifier: Identifier,
    pub value: String,
}

pub(super) fn agent_ref(r: &mut Reader, o: &Map<String, Value>, at: &str) -> Option<AgentRef> {
    let identifier = r.choice(o, at, "identifier", Need::Required, AGENT_IDENTIFIERS);
    let value = r.text(o, at, "value", Need::Required);
    Some(AgentRef {
        identifier: identifier?,
        value: value?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SupervisedNumber {
    pub phone_number: String,
    pub supervisors: Option<Selector>,
}

/// One item of `POST /{customer_id}/agents`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewAgent {
    pub user_object_id: String,
    pub tenant_id: String,
    pub name: String,
    pub profile: Profile,
    pub roles: Option<Vec<Role>>,
    pub messaging_number: Option<String>,
    pub supervised_number: Option<SupervisedNumber>,
    pub enabled_services: Option<EnabledServices>,
}

pub(crate) fn new_agent(item: &Value) -> Result<NewAgent, Vec<String>> {
    let o = item_object(item)?;
    let mut r = Reader::default();
    let user_object_id = r.text(o, "", "user_object_id", Need::Required);
    let tenant_id = r.text(o, "", "tenant_id", Need::Required);
    let name = r.text(o, "", "name", Need::Required);
    let profile = profile(&mut r, o, "");
    let roles = r.choices(o, "", "roles", Role::ALL);
    let (messaging_number, supervised_number) = number_provisioning(&mut r, o);
    let enabled_services = r.enabled_services(o, "");
    r.finish(|| {
        Some(NewAgent {
            user_object_id: user_object_id?,
            tenant_id: tenant_id?,
            name: name?,
            profile,
            roles,
            messaging_number,
            supervised_number,
            enabled_services,
        })
    })
}

/// At most two entries, one of each type; supervisors only on the supervised one.
fn number_provisioning(
    r: &mut Reader,
    o: &Map<String, Value>,
) -> (Option<String>, Option<SupervisedNumber>) {
    let (mut messaging, mut supervised) = (None, None);
    let Some(entries) = r.objects(o, "", "number_provisioning") else {
        return (messaging, supervised);
    };
    let count = o
        .get("number_provisioning")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if count > 2 {
        r.problem("number_provisioning can have at most two elements");
    }
    let mut seen = Vec::new();
    for (at, entry) in entries {
        let number_type = r.choice(entry, &at, "type", Need::Required, NumberType::ALL);
        let phone_number = r.phone(entry, &at, "phone_number", Need::Required);
        let supervisors = r
            .object(entry, &at, "supervisors", Need::Optional)
            .map(|s| selector(r, s, &format!("{at}supervisors."), "values"));
        let Some(number_type) = number_type else {
            continue;
        };
        if seen.contains(&number_type) {
            r.problem(format!("Only one {number_type} number can be provisioned"));
        }
        seen.push(number_type);
        match number_type {
            NumberType::Messaging => {
                if supervisors.is_some() {
                    r.problem("supervisors can only be used with a supervised number");
                }
                messaging = messaging.or(phone_number);
            }
            NumberType::Supervised => {
                if let (None, Some(phone_number)) = (&supervised, phone_number) {
                    supervised = Some(SupervisedNumber {
                        phone_number,
                        supervisors: supervisors.flatten(),
                    });
                }
            }
        }
    }
    (messaging, supervised)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RoleChanges {
    pub assign: Vec<Role>,
    pub remove: Vec<Role>,
}

/// The body of `PATCH /agents/{id}`, and the `updates` of a bulk-update item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AgentChanges {
    pub user_object_id: Option<String>,
    pub tenant_id: Option<String>,
    pub name: Option<String>,
    pub profile: Profile,
    pub roles: Option<RoleChanges>,
    /// In the order given: each number is checked before any is moved.
    pub phone_numbers: Vec<(NumberType, String)>,
    pub enabled_services: Option<EnabledServices>,
    pub active: Option<bool>,
}

pub(crate) fn agent_changes(body: &Value) -> Result<AgentChanges, Vec<String>> {
    let o = body
        .as_object()
        .ok_or_else(|| vec!["The request body must be a JSON object".to_string()])?;
    let mut r = Reader::default();
    let changes = read_changes(&mut r, o, "");
    r.finish(|| Some(changes))
}

fn read_changes(r: &mut Reader, o: &Map<String, Value>, at: &str) -> AgentChanges {
    let user_object_id = r.text(o, at, "user_object_id", Need::Optional);
    let tenant_id = r.text(o, at, "tenant_id", Need::Optional);
    let name = r.text(o, at, "name", Need::Optional);
    let profile = profile(r, o, at);
    // These three find agents: a blank one would name nobody.
    for (key, value) in [
        ("user_object_id", &user_object_id),
        ("upn", &profile.upn),
        ("consistency_id", &profile.consistency_id),
    ] {
        if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
            r.problem(format!("{at}{key} must not be empty"));
        }
    }
    let roles = r.object(o, at, "roles", Need::Optional).map(|roles| {
        let at = format!("{at}roles.");
        RoleChanges {
            assign: r
                .choices(roles, &at, "assign", Role::ALL)
                .unwrap_or_default(),
            remove: r
                .choices(roles, &at, "remove", Role::ALL)
                .unwrap_or_default(),
        }
    });
    let mut phone_numbers: Vec<(NumberType, String)> = Vec::new();
    for (entry_at, entry) in r.objects(o, at, "phone_number").unwrap_or_default() {
        let number_type = r.choice(entry, &entry_at, "type", Need::Required, NumberType::ALL);
        let value = r.phone(entry, &entry_at, "value", Need::Required);
        if let Some(t) = number_type {
            if phone_numbers.iter().any(|(seen, _)| *seen == t) {
                r.problem(format!("Only one {t} number can be assigned"));
            } else if let Some(value) = value {
                phone_numbers.push((t, value));
            }
        }
    }
    let enabled_services = r.enabled_services(o, at);
    // The reference's bulk-update example sends `"active": "true"`.
    let active = r.boolean(o, at, "active", true);
    AgentChanges {
        user_object_id,
        tenant_id,
        name,
        profile,
        roles,
        phone_numbers,
        enabled_services,
        active,
    }
}

/// One item of `PATCH /{customer_id}/agents`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgentUpdate {
    pub target: AgentRef,
    pub updates: AgentChanges,
}

pub(crate) fn agent_update(item: &Value) -> Result<AgentUpdate, Vec<String>> {
    let o = item_object(item)?;
    let mut r = Reader::default();
    let target = r
        .object(o, "", "target", Need::Required)
        .and_then(|t| agent_ref(&mut r, t, "target."));
    let updates = r
        .object(o, "", "updates", Need::Required)
        .map(|u| read_changes(&mut r, u, "updates."));
    r.finish(|| {
        Some(AgentUpdate {
            target: target?,
            updates: updates?,
        })
    })
}

/// The target of a bulk-update item whose other parts may be broken, so the answer can say
/// whether it names anyone as well (the reference's example lists both problems).
pub(crate) fn update_target(item: &Value) -> Option<AgentRef> {
    let mut r = Reader::default();
    let target = r.object(item.as_object()?, "", "target", Need::Required)?;
    let target = agent_ref(&mut r, target, "target.");
    r.finish(|| target).ok()
}

/// One item of `POST /{customer_id}/agents/offboard`: `value` is a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OffboardItem {
    pub identifier: Identifier,
    pub values: Vec<String>,
}

pub(crate) fn offboard_item(item: &Value) -> Result<OffboardItem, Vec<String>> {
    let o = item_object(item)?;
    let mut r = Reader::default();
    let identifier = r.choice(o, "", "identifier", Need::Required, OFFBOARD_IDENTIFIERS);
    let values = r.texts(o, "", "value", Need::Required);
    if values.as_ref().is_some_and(Vec::is_empty) {
        r.problem("value must list at least one identifier value");
    }
    r.finish(|| {
        Some(OffboardItem {
            identifier: identifier?,
            values: values?,
        })
    })
}
