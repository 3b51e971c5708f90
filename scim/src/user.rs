//! SCIM Users as SmartCommunicator agents: which attribute holds which agent field, a resource
//! from an agent, and an agent (to onboard) or changes (to send) from a resource or a PATCH.
//! The API cannot clear a field or take a number away: such a request is refused, never
//! answered with a silent success.

use crate::error::ScimError;
use crate::filter::AttrPath;
use crate::patch::{self, Change, Op};
use serde_json::{Map, Value, json};
use smartcomm::model::*;
use std::collections::BTreeMap;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The extension for what only SmartCommunicator holds. Entra ID takes custom attributes of
/// this form (`urn:ietf:params:scim:schemas:extension:{name}:2.0:User:{attribute}`).
pub const SMARTCOMM_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:smartcommunicator:2.0:User";

/// A tab of the SmartCommunicator app an agent may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tab {
    Messages,
    SupervisedInbox,
    Calls,
    SharedInbox,
}

impl Tab {
    pub const ALL: [(Tab, &'static str); 4] = [
        (Tab::Messages, "messages"),
        (Tab::SupervisedInbox, "supervisedInbox"),
        (Tab::Calls, "calls"),
        (Tab::SharedInbox, "sharedInbox"),
    ];

    fn of(self, services: &mut EnabledServices) -> &mut Option<bool> {
        match self {
            Tab::Messages => &mut services.messages,
            Tab::SupervisedInbox => &mut services.supervised_inbox,
            Tab::Calls => &mut services.calls,
            Tab::SharedInbox => &mut services.shared_inbox,
        }
    }
}

/// An agent field, as a SCIM attribute names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// `externalId` (and `id`): the agent's user_object_id, fixed once onboarded.
    UserObjectId,
    Text(TextField),
    /// `displayName`.
    Name,
    /// `name.formatted`, `name.givenName`, `name.familyName`: the name when no displayName.
    NamePart(NamePart),
    Active,
    Roles,
    Number(Number),
    Tab(Tab),
    /// A core attribute the agent has no field for (`emails`, `phoneNumbers`, `title`, …):
    /// accepted and not kept.
    Ignored,
}

/// The agent's two numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Number {
    Messaging,
    Supervised,
}

impl Number {
    fn number_type(self) -> NumberType {
        match self {
            Number::Messaging => NumberType::Messaging,
            Number::Supervised => NumberType::Supervised,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NamePart {
    Formatted,
    Given,
    Family,
}

/// The agent's free-text fields that SCIM attributes hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TextField {
    Upn,
    ConsistencyId,
    BrandName,
    Department,
    Region,
    State,
    District,
    Store,
    City,
    ZipCode,
}

impl TextField {
    pub fn api_name(self) -> &'static str {
        match self {
            TextField::Upn => "upn",
            TextField::ConsistencyId => "consistency_id",
            TextField::BrandName => "brand_name",
            TextField::Department => "department",
            TextField::Region => "region",
            TextField::State => "state",
            TextField::District => "district",
            TextField::Store => "store",
            TextField::City => "city",
            TextField::ZipCode => "zip_code",
        }
    }

    fn of_agent(self, agent: &Agent) -> &Option<String> {
        match self {
            TextField::Upn => &agent.upn,
            TextField::ConsistencyId => &agent.consistency_id,
            TextField::BrandName => &agent.brand_name,
            TextField::Department => &agent.department,
            TextField::Region => &agent.region,
            TextField::State => &agent.state,
            TextField::District => &agent.district,
            TextField::Store => &agent.store,
            TextField::City => &agent.city,
            TextField::ZipCode => &agent.zip_code,
        }
    }

    fn of_new(self, agent: &mut NewAgent) -> &mut Option<String> {
        match self {
            TextField::Upn => &mut agent.upn,
            TextField::ConsistencyId => &mut agent.consistency_id,
            TextField::BrandName => &mut agent.brand_name,
            TextField::Department => &mut agent.department,
            TextField::Region => &mut agent.region,
            TextField::State => &mut agent.state,
            TextField::District => &mut agent.district,
            TextField::Store => &mut agent.store,
            TextField::City => &mut agent.city,
            TextField::ZipCode => &mut agent.zip_code,
        }
    }

    fn of_changes(self, changes: &mut AgentChanges) -> &mut Option<String> {
        match self {
            TextField::Upn => &mut changes.upn,
            TextField::ConsistencyId => &mut changes.consistency_id,
            TextField::BrandName => &mut changes.brand_name,
            TextField::Department => &mut changes.department,
            TextField::Region => &mut changes.region,
            TextField::State => &mut changes.state,
            TextField::District => &mut changes.district,
            TextField::Store => &mut changes.store,
            TextField::City => &mut changes.city,
            TextField::ZipCode => &mut changes.zip_code,
        }
    }
}

/// The work address's sub-attributes, and the agent fields they hold.
const ADDRESS: [(&str, TextField); 3] = [
    ("region", TextField::State),
    ("locality", TextField::City),
    ("postalcode", TextField::ZipCode),
];

/// The SmartCommunicator extension's text attributes.
const EXTENSION_TEXT: [(&str, TextField); 4] = [
    ("store", TextField::Store),
    ("district", TextField::District),
    ("region", TextField::Region),
    ("brandname", TextField::BrandName),
];

/// Core attributes of RFC 7643 the agent has no field for: accepted, not kept.
const IGNORED_CORE: [&str; 14] = [
    "emails",
    "phonenumbers",
    "ims",
    "photos",
    "nickname",
    "profileurl",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "entitlements",
    "roles",
    "x509certificates",
];

/// The enterprise extension's attributes the agent has no field for.
const IGNORED_ENTERPRISE: [&str; 4] = ["costcenter", "organization", "division", "manager"];

/// Which agent field `path` names; an attribute outside the schemas is `invalidPath`.
pub fn slot(path: &AttrPath) -> Result<Slot, ScimError> {
    let sub = path.sub.as_deref();
    let unknown = || {
        ScimError::invalid_path(format!(
            "{path} is not an attribute of a SmartCommunicator user"
        ))
    };
    match path.urn.as_deref() {
        None => core_slot(path, sub).ok_or_else(unknown),
        Some(urn) if urn.eq_ignore_ascii_case(USER_SCHEMA) => {
            core_slot(path, sub).ok_or_else(unknown)
        }
        Some(urn) if urn.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) => match path.name.as_str() {
            "department" => Ok(Slot::Text(TextField::Department)),
            "employeenumber" => Ok(Slot::Text(TextField::ConsistencyId)),
            name if IGNORED_ENTERPRISE.contains(&name) => Ok(Slot::Ignored),
            _ => Err(unknown()),
        },
        Some(urn) if urn.eq_ignore_ascii_case(SMARTCOMM_SCHEMA) => {
            extension_slot(path, sub).ok_or_else(unknown)
        }
        Some(_) => Err(unknown()),
    }
}

fn core_slot(path: &AttrPath, sub: Option<&str>) -> Option<Slot> {
    match (path.name.as_str(), sub) {
        ("id" | "externalid", None) => Some(Slot::UserObjectId),
        ("username", None) => Some(Slot::Text(TextField::Upn)),
        ("displayname", None) => Some(Slot::Name),
        ("name", Some("formatted")) => Some(Slot::NamePart(NamePart::Formatted)),
        ("name", Some("givenname")) => Some(Slot::NamePart(NamePart::Given)),
        ("name", Some("familyname")) => Some(Slot::NamePart(NamePart::Family)),
        ("name", Some(_)) => Some(Slot::Ignored),
        ("active", None) => Some(Slot::Active),
        ("addresses", Some(sub)) if is_work(path) => ADDRESS
            .iter()
            .find(|(name, _)| *name == sub)
            .map(|(_, field)| Slot::Text(*field))
            .or(Some(Slot::Ignored)),
        ("addresses", _) => Some(Slot::Ignored),
        (name, _) if IGNORED_CORE.contains(&name) => Some(Slot::Ignored),
        _ => None,
    }
}

/// A path into `addresses` that selects the work address (or names no type).
fn is_work(path: &AttrPath) -> bool {
    path.value_filter.as_ref().is_none_or(|f| {
        f.path.name == "type"
            && f.value
                .as_text()
                .is_some_and(|t| t.eq_ignore_ascii_case("work"))
    })
}

fn extension_slot(path: &AttrPath, sub: Option<&str>) -> Option<Slot> {
    let text = EXTENSION_TEXT
        .iter()
        .find(|(name, _)| *name == path.name)
        .map(|(_, field)| Slot::Text(*field));
    match (path.name.as_str(), sub) {
        (_, None) if text.is_some() => text,
        ("roles", None) => Some(Slot::Roles),
        ("messagingnumber", None) => Some(Slot::Number(Number::Messaging)),
        ("supervisednumber", None) => Some(Slot::Number(Number::Supervised)),
        ("enabledservices", Some(sub)) => Tab::ALL
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(sub))
            .map(|(tab, _)| Slot::Tab(*tab)),
        _ => None,
    }
}

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
        if matches!(lower.as_str(), "schemas" | "meta" | "groups") {
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
                values.insert(slot, change.value.filter(|v| !v.is_null()));
            }
        }
    }
    Ok(values)
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
fn work_address(value: &Value) -> Result<Values, ScimError> {
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
    if let Some(address) = chosen.and_then(Value::as_object) {
        for (name, field) in ADDRESS {
            if let Some((_, v)) = address.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                values.insert(Slot::Text(field), Some(v.clone()).filter(|v| !v.is_null()));
            }
        }
    }
    Ok(values)
}

fn text(slot: Slot, value: &Value) -> Result<String, ScimError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => Err(ScimError::invalid_value(format!(
            "{} must be a string",
            describe(slot)
        ))),
    }
}

/// A slot as the error messages name it.
pub fn describe(slot: Slot) -> String {
    match slot {
        Slot::UserObjectId => "externalId".into(),
        Slot::Text(TextField::Upn) => "userName".into(),
        Slot::Text(TextField::Department) => "department".into(),
        Slot::Text(TextField::ConsistencyId) => "employeeNumber".into(),
        Slot::Text(TextField::State) => "addresses[type eq \"work\"].region".into(),
        Slot::Text(TextField::City) => "addresses[type eq \"work\"].locality".into(),
        Slot::Text(TextField::ZipCode) => "addresses[type eq \"work\"].postalCode".into(),
        Slot::Text(field) => format!("{SMARTCOMM_SCHEMA}:{}", extension_name(field)),
        Slot::Name => "displayName".into(),
        Slot::NamePart(NamePart::Formatted) => "name.formatted".into(),
        Slot::NamePart(NamePart::Given) => "name.givenName".into(),
        Slot::NamePart(NamePart::Family) => "name.familyName".into(),
        Slot::Active => "active".into(),
        Slot::Roles => format!("{SMARTCOMM_SCHEMA}:roles"),
        Slot::Number(Number::Messaging) => format!("{SMARTCOMM_SCHEMA}:messagingNumber"),
        Slot::Number(Number::Supervised) => format!("{SMARTCOMM_SCHEMA}:supervisedNumber"),
        Slot::Tab(tab) => {
            let name = Tab::ALL
                .iter()
                .find(|(t, _)| *t == tab)
                .map_or("", |(_, n)| n);
            format!("{SMARTCOMM_SCHEMA}:enabledServices.{name}")
        }
        Slot::Ignored => "an ignored attribute".into(),
    }
}

fn extension_name(field: TextField) -> &'static str {
    match field {
        TextField::Store => "store",
        TextField::District => "district",
        TextField::Region => "region",
        TextField::BrandName => "brandName",
        _ => "",
    }
}

fn roles(value: &Value) -> Result<Vec<Role>, ScimError> {
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

fn boolean(slot: Slot, value: &Value) -> Result<bool, ScimError> {
    patch::boolean(value).ok_or_else(|| {
        ScimError::invalid_value(format!(
            "{} must be true or false, not {value}",
            describe(slot)
        ))
    })
}

/// The display name from `displayName`, else `name.formatted`, else the given and family names.
fn display_name(values: &Values) -> Result<Option<String>, ScimError> {
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
    let required = |slot: Slot, why: &str| -> Result<String, ScimError> {
        match values.get(&slot).cloned().flatten() {
            Some(v) => text(slot, &v),
            None => Err(ScimError::invalid_value(format!(
                "{} is required: {why}",
                describe(slot)
            ))),
        }
    };
    let mut agent = NewAgent {
        user_object_id: required(
            Slot::UserObjectId,
            "it becomes the agent's user_object_id (in Entra ID, map objectId to externalId)",
        )?,
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
            Slot::Text(field) => *field.of_new(&mut agent) = Some(text(*slot, value)?),
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
    for field in [
        TextField::Upn,
        TextField::ConsistencyId,
        TextField::BrandName,
        TextField::Department,
        TextField::Region,
        TextField::State,
        TextField::District,
        TextField::Store,
        TextField::City,
        TextField::ZipCode,
    ] {
        let slot = Slot::Text(field);
        let have = field.of_agent(current);
        match values.get(&slot).cloned().flatten() {
            Some(v) => {
                let want = text(slot, &v)?;
                if have.as_deref() != Some(&want) {
                    *field.of_changes(&mut changes) = Some(want);
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
        let slot = slot(&change.path)?;
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
    if !name_parts.is_empty()
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
    let sub = ADDRESS
        .iter()
        .find(|(_, field)| Slot::Text(*field) == slot)
        .map_or("", |(name, _)| name);
    crate::filter::parse_path(&format!("addresses[type eq \"work\"].{sub}")).expect("a valid path")
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
            Slot::Number(_) => Err(ScimError::mutability(format!(
                "{} cannot be removed: the SmartCommunicator API cannot take a number from an agent",
                describe(slot)
            ))),
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
        Slot::Text(field) => *field.of_changes(changes) = Some(text(slot, value)?),
        Slot::Name => changes.name = Some(text(slot, value)?),
        Slot::Active => changes.active = Some(boolean(slot, value)?),
        Slot::Roles => role_change(current, op, roles(value)?, changes),
        Slot::Number(number) => {
            if op == Op::Remove {
                return Err(ScimError::mutability(format!(
                    "{} cannot be removed: the SmartCommunicator API cannot take a number from an agent",
                    describe(slot)
                )));
            }
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
        Slot::Tab(tab) => {
            if op == Op::Remove {
                return Err(cannot_clear(slot));
            }
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
    let mut put = |key: &str, value: Option<&String>| {
        if let Some(value) = value {
            user[key] = json!(value);
        }
    };
    put("userName", agent.upn.as_ref());
    // The agent has one name: `displayName`. `name`'s parts are read when a request has no
    // displayName, and not shown.
    put("displayName", agent.name.as_ref());
    let mut address = Map::new();
    for (name, field) in [
        ("region", TextField::State),
        ("locality", TextField::City),
        ("postalCode", TextField::ZipCode),
    ] {
        if let Some(v) = field.of_agent(agent) {
            address.insert(name.into(), json!(v));
        }
    }
    if !address.is_empty() {
        address.insert("type".into(), json!("work"));
        user["addresses"] = json!([address]);
    }
    let mut enterprise = Map::new();
    for (name, value) in [
        ("department", &agent.department),
        ("employeeNumber", &agent.consistency_id),
    ] {
        if let Some(v) = value {
            enterprise.insert(name.into(), json!(v));
        }
    }
    user[ENTERPRISE_SCHEMA] = Value::Object(enterprise);
    user[SMARTCOMM_SCHEMA] = extension(agent);
    user
}

fn extension(agent: &Agent) -> Value {
    let mut ext = Map::new();
    for (name, field) in [
        ("store", TextField::Store),
        ("district", TextField::District),
        ("region", TextField::Region),
        ("brandName", TextField::BrandName),
    ] {
        if let Some(v) = field.of_agent(agent) {
            ext.insert(name.into(), json!(v));
        }
    }
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
    Agent {
        user_object_id: Some(agent.user_object_id.clone()),
        tenant_id: Some(agent.tenant_id.clone()),
        name: Some(agent.name.clone()),
        upn: agent.upn.clone(),
        consistency_id: agent.consistency_id.clone(),
        brand_name: agent.brand_name.clone(),
        department: agent.department.clone(),
        region: agent.region.clone(),
        state: agent.state.clone(),
        district: agent.district.clone(),
        store: agent.store.clone(),
        city: agent.city.clone(),
        zip_code: agent.zip_code.clone(),
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
    }
}
