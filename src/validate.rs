//! Checks input against the API's rules before anything is sent. Each function returns every
//! problem it finds, each naming the item's index in the caller's list and the field.

use crate::error::Problem;
use crate::model::*;
use std::collections::{HashMap, HashSet};

/// The most items one batch request may carry.
pub const MAX_BATCH: usize = 10;

/// Identifier kinds that name an agent in selectors (supervisors, inbox users and owners,
/// assignment agents, bulk-update targets).
const AGENT_IDENTIFIERS: &[IdentifierKind] = &[
    IdentifierKind::UserObjectId,
    IdentifierKind::ConsistencyId,
    IdentifierKind::Upn,
];

const OFFBOARD_IDENTIFIERS: &[IdentifierKind] = &[
    IdentifierKind::UserObjectId,
    IdentifierKind::TenantId,
    IdentifierKind::ConsistencyId,
    IdentifierKind::Upn,
];

const GET_KEY_IDS: &[KeyId] = &[KeyId::UserObjectId, KeyId::ConsistencyId, KeyId::Upn];
const CHANGE_KEY_IDS: &[KeyId] = &[KeyId::UserObjectId, KeyId::ConsistencyId, KeyId::Id];

/// `^\+[1-9][0-9]{1,14}$`
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

struct Problems {
    list: Vec<Problem>,
    index: Option<usize>,
}

impl Problems {
    fn new() -> Self {
        Problems {
            list: Vec::new(),
            index: None,
        }
    }

    fn at(&mut self, index: usize) -> &mut Self {
        self.index = Some(index);
        self
    }

    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.list.push(Problem {
            index: self.index,
            field: field.into(),
            message: message.into(),
        });
    }

    fn required(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(field, "is required and must not be empty");
        }
    }

    fn optional_text(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value
            && v.trim().is_empty()
        {
            self.push(field, "must not be empty when given");
        }
    }

    fn phone(&mut self, field: &str, value: &str) {
        if !is_e164(value) {
            self.push(
                field,
                format!(
                    "{value:?} is not an E.164 number (+ then 2 to 15 digits, e.g. +12345678901)"
                ),
            );
        }
    }

    fn identifier(&mut self, field: &str, kind: IdentifierKind, allowed: &[IdentifierKind]) {
        if !allowed.contains(&kind) {
            let names: Vec<_> = allowed.iter().map(|k| k.as_str()).collect();
            self.push(
                field,
                format!(
                    "{kind} is not allowed here; use one of {}",
                    names.join(", ")
                ),
            );
        }
    }

    fn key_id(&mut self, kind: Option<KeyId>, allowed: &[KeyId]) {
        if let Some(kind) = kind
            && !allowed.contains(&kind)
        {
            let names: Vec<_> = allowed.iter().map(|k| k.as_str()).collect();
            self.push(
                "key_id",
                format!(
                    "{kind} is not allowed here; use one of {}",
                    names.join(", ")
                ),
            );
        }
    }

    fn selector(&mut self, field: &str, selector: &Selector, allowed: &[IdentifierKind]) {
        self.identifier(&format!("{field}.identifier"), selector.identifier, allowed);
        if selector.values.is_empty() {
            self.push(format!("{field}.values"), "must name at least one agent");
        }
        for (i, v) in selector.values.iter().enumerate() {
            self.required(&format!("{field}.values[{i}]"), v);
        }
    }

    fn batch_size(&mut self, len: usize) {
        if len == 0 {
            self.push("items", "the list is empty");
        }
    }

    /// `prefix` is prepended to each field name; `whole` names the changes as a whole.
    fn changes(&mut self, prefix: &str, whole: &str, changes: &AgentChanges) {
        let field = |name: &str| format!("{prefix}{name}");
        for (name, value) in [
            ("user_object_id", &changes.user_object_id),
            ("tenant_id", &changes.tenant_id),
            ("name", &changes.name),
            ("upn", &changes.upn),
            ("consistency_id", &changes.consistency_id),
        ] {
            self.optional_text(&field(name), value.as_deref());
        }
        if let Some(roles) = &changes.roles {
            for role in &roles.assign {
                if roles.remove.contains(role) {
                    self.push(
                        field("roles"),
                        format!("{role} is both assigned and removed"),
                    );
                }
            }
        }
        if let Some(numbers) = &changes.phone_number {
            let mut seen = HashSet::new();
            for (i, n) in numbers.iter().enumerate() {
                self.phone(&field(&format!("phone_number[{i}].value")), &n.value);
                if !seen.insert(n.number_type) {
                    self.push(
                        field(&format!("phone_number[{i}].type")),
                        format!("only one {} number per agent", n.number_type),
                    );
                }
            }
        }
        if *changes == AgentChanges::default() {
            self.push(whole, "nothing to change");
        }
    }

    fn finish(self) -> Result<(), Vec<Problem>> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(self.list)
        }
    }
}

pub fn onboard_agents(agents: &[NewAgent]) -> Result<(), Vec<Problem>> {
    let mut p = Problems::new();
    p.batch_size(agents.len());
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (i, agent) in agents.iter().enumerate() {
        p.at(i);
        p.required("user_object_id", &agent.user_object_id);
        p.required("tenant_id", &agent.tenant_id);
        p.required("name", &agent.name);
        p.optional_text("upn", agent.upn.as_deref());
        p.optional_text("consistency_id", agent.consistency_id.as_deref());
        if let Some(earlier) = first_seen.insert(agent.user_object_id.as_str(), i)
            && !agent.user_object_id.trim().is_empty()
        {
            p.push(
                "user_object_id",
                format!("the same user_object_id as item {earlier}"),
            );
        }
        if agent.number_provisioning.len() > 2 {
            p.push(
                "number_provisioning",
                format!(
                    "at most 2 entries (one supervised, one messaging), found {}",
                    agent.number_provisioning.len()
                ),
            );
        }
        let mut types = HashSet::new();
        for (n, prov) in agent.number_provisioning.iter().enumerate() {
            let field = format!("number_provisioning[{n}]");
            p.phone(&format!("{field}.phone_number"), &prov.phone_number);
            if !types.insert(prov.number_type) {
                p.push(
                    format!("{field}.type"),
                    format!("only one {} entry is allowed", prov.number_type),
                );
            }
            if let Some(supervisors) = &prov.supervisors {
                if prov.number_type != NumberType::Supervised {
                    p.push(
                        format!("{field}.supervisors"),
                        "supervisors are only allowed on a supervised number",
                    );
                }
                p.selector(
                    &format!("{field}.supervisors"),
                    supervisors,
                    AGENT_IDENTIFIERS,
                );
                for value in &supervisors.values {
                    if let Some(later) = onboarded_after(agents, i, supervisors.identifier, value) {
                        p.push(
                            format!("{field}.supervisors"),
                            format!(
                                "names {value}, whom item {later} onboards later in this call: \
                                 the API takes items in order, so list the supervisor first"
                            ),
                        );
                    }
                }
            }
        }
    }
    p.finish()
}

/// The index after `i` of an agent of `agents` that `identifier` = `value` names.
fn onboarded_after(
    agents: &[NewAgent],
    i: usize,
    identifier: IdentifierKind,
    value: &str,
) -> Option<usize> {
    fn key(agent: &NewAgent, identifier: IdentifierKind) -> Option<&str> {
        match identifier {
            IdentifierKind::UserObjectId => Some(agent.user_object_id.as_str()),
            IdentifierKind::Upn => agent.upn.as_deref(),
            IdentifierKind::ConsistencyId => agent.consistency_id.as_deref(),
            IdentifierKind::TenantId | IdentifierKind::PhoneNumber => None,
        }
    }
    agents
        .iter()
        .enumerate()
        .skip(i + 1)
        .find(|(_, agent)| key(agent, identifier) == Some(value))
        .map(|(later, _)| later)
}

pub fn get_agent(id: &str, key_id: Option<KeyId>, upn: Option<&str>) -> Result<(), Vec<Problem>> {
    let mut p = Problems::new();
    p.required("agent_id", id);
    p.key_id(key_id, GET_KEY_IDS);
    p.optional_text("upn", upn);
    p.finish()
}

pub fn list_agents(filter: &AgentFilter) -> Result<(), Vec<Problem>> {
    let mut p = Problems::new();
    for (name, value) in [
        ("user_object_id", &filter.user_object_id),
        ("tenant_id", &filter.tenant_id),
        ("consistency_id", &filter.consistency_id),
        ("phone_number", &filter.phone_number),
        ("upn", &filter.upn),
    ] {
        p.optional_text(name, value.as_deref());
    }
    if let Some(number) = &filter.phone_number {
        p.phone("phone_number", number);
    }
    p.finish()
}

pub fn update_agent(
    id: &str,
    key_id: Option<KeyId>,
    changes: &AgentChanges,
) -> Result<(), Vec<Problem>> {
    let mut p = Problems::new();
    p.required("agent_id", id);
    p.key_id(key_id, CHANGE_KEY_IDS);
    p.changes("", "changes", changes);
    p.finish()
}

pub fn update_agents(updates: &[AgentUpdate]) -> Result<(), Vec<Problem>> {
    let mut p = Problems::new();
    p.batch_size(updates.len());
    for (i, update) in updates.iter().enumerate() {
        p.at(i);
        p.identifier(
            "target.identifier",
            update.target.identifier,
            AGENT_IDENTIFIERS,
        );
        p.required("target.value", &update.target.value);
        p.changes("updates.", "updates", &update.updates);
    }
    p.finish()
}

pub fn offboard_agent(id: &str, key_id: Option<KeyId>) -> Result<(), Vec<Problem>> {
    let mut p = Problems::new();
    p.required("agent_id", id);
    p.key_id(key_id, CHANGE_KEY_IDS);
    p.finish()
}

pub fn offboard_agents(items: &[OffboardItem]) -> Result<(), Vec<Problem>> {
    let mut p = Problems::new();
    p.batch_size(items.len());
    for (i, item) in items.iter().enumerate() {
        p.at(i);
        p.identifier("identifier", item.identifier, OFFBOARD_IDENTIFIERS);
        if item.value.is_empty() {
            p.push("value", "must name at least one agent");
        }
        for (v, value) in item.value.iter().enumerate() {
            p.required(&format!("value[{v}]"), value);
        }
    }
    p.finish()
}

pub fn create_inboxes(inboxes: &[NewInbox]) -> Result<(), Vec<Problem>> {
    let mut p = Problems::new();
    p.batch_size(inboxes.len());
    for (i, inbox) in inboxes.iter().enumerate() {
        p.at(i);
        p.required("name", &inbox.name);
        p.phone("phone_number", &inbox.phone_number);
        match (&inbox.owner, inbox.inbox_type) {
            (None, InboxType::Supervised) => p.push("owner", "is required for a supervised inbox"),
            (Some(_), InboxType::Shared) => {
                p.push("owner", "is only allowed on a supervised inbox")
            }
            (Some(owner), InboxType::Supervised) => {
                p.identifier("owner.identifier", owner.identifier, AGENT_IDENTIFIERS);
                p.required("owner.value", &owner.value);
            }
            (None, InboxType::Shared) => {}
        }
        p.selector("users", &inbox.users, AGENT_IDENTIFIERS);
    }
    p.finish()
}

pub fn assign_inboxes(assignments: &[Assignment]) -> Result<(), Vec<Problem>> {
    let mut p = Problems::new();
    p.batch_size(assignments.len());
    for (i, a) in assignments.iter().enumerate() {
        p.at(i);
        match a.inbox.inbox_type {
            InboxType::Shared => {
                p.identifier(
                    "inbox.identifier",
                    a.inbox.identifier,
                    &[IdentifierKind::PhoneNumber],
                );
                if a.inbox.identifier == IdentifierKind::PhoneNumber {
                    p.phone("inbox.value", &a.inbox.value);
                }
            }
            InboxType::Supervised => {
                p.identifier("inbox.identifier", a.inbox.identifier, AGENT_IDENTIFIERS)
            }
        }
        p.required("inbox.value", &a.inbox.value);
        p.selector("agents", &a.agents, AGENT_IDENTIFIERS);
    }
    p.finish()
}

pub fn list_numbers(matching: Option<&str>) -> Result<(), Vec<Problem>> {
    let mut p = Problems::new();
    if let Some(m) = matching
        && (!(1..=11).contains(&m.len()) || !m.bytes().all(|b| b.is_ascii_digit()))
    {
        p.push(
            "match",
            format!("{m:?} must be 1 to 11 digits, digits only"),
        );
    }
    p.finish()
}
