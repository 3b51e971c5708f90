//! Whether what the API holds already is what a request asked for. A repeated onboard,
//! offboard, inbox creation or assignment (our retry after a lost answer, or a workflow
//! engine's retry of a whole step) meets "already exists" or "not found"; reading the state
//! back tells a request that already took effect from a genuine conflict.
//!
//! Pure decisions only: which agents must be read to judge an item (its [`Lookup`]s), and
//! what those agents say. The reads themselves are the client's (`readback`).

use crate::model::*;
use std::collections::HashMap;

/// A question a read answers: the agents whose `kind` field is `value`.
pub type Lookup = (IdentifierKind, String);

/// The agents read for each lookup.
pub type Found = HashMap<Lookup, Vec<Agent>>;

/// What the state read back says about an item.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict<O> {
    /// It is already in the requested state.
    Done(O),
    /// The state differs: a genuine conflict, with what differs.
    Conflict(String),
    /// Not (known to be) in place: a refusal stands, an item not yet sent is sent.
    NotDone,
}

/// A batch item whose repeat converges.
pub trait Convergent {
    /// What a success carries.
    type Done;
    /// Whether an item not yet sent may be judged before sending (a batch that stopped at a
    /// refused repeat would otherwise send every later item once more only to have it
    /// refused in turn).
    const JUDGED_BEFORE_SENDING: bool;
    /// Whether a refusal with these messages is one a repeat meets.
    fn repeat_refusal(&self, messages: &[String]) -> bool;
    /// The reads that judge this item; empty when none can.
    fn lookups(&self) -> Vec<Lookup>;
    /// What the agents read say; `refused` when the API refused the item as a repeat.
    fn verdict(&self, found: &Found, refused: bool) -> Verdict<Self::Done>;
    /// The list requests that read, at once, the agents that judge any of `items`: for a
    /// batch of many requests, cheaper than reading per item. By default the whole account;
    /// `None` reads per item.
    fn snapshot(items: &[Self]) -> Option<Vec<AgentFilter>>
    where
        Self: Sized,
    {
        let _ = items;
        Some(vec![AgentFilter::default()])
    }
}

/// More tenants than this in one onboarding, and the whole account is read instead.
const MAX_TENANT_READS: usize = 10;

/// What a batch item's success says: `None` when this call applied it, else a note that it
/// already was in the requested state.
pub type Note = Option<String>;

fn found<'a>(found: &'a Found, kind: IdentifierKind, value: &str) -> Option<&'a [Agent]> {
    found.get(&(kind, value.to_string())).map(Vec::as_slice)
}

/// The one agent a lookup by a unique key found.
fn the_agent<'a>(found_agents: &'a Found, kind: IdentifierKind, value: &str) -> Option<&'a Agent> {
    found(found_agents, kind, value).and_then(|agents| agents.first())
}

impl Convergent for NewAgent {
    type Done = Note;
    const JUDGED_BEFORE_SENDING: bool = true;

    fn repeat_refusal(&self, messages: &[String]) -> bool {
        says_exists(messages)
    }

    fn lookups(&self) -> Vec<Lookup> {
        vec![(IdentifierKind::UserObjectId, self.user_object_id.clone())]
    }

    /// The agents of the onboarded tenants.
    fn snapshot(items: &[Self]) -> Option<Vec<AgentFilter>> {
        let tenants: std::collections::BTreeSet<&str> =
            items.iter().map(|a| a.tenant_id.as_str()).collect();
        if tenants.len() > MAX_TENANT_READS {
            return Some(vec![AgentFilter::default()]);
        }
        Some(
            tenants
                .into_iter()
                .map(|t| AgentFilter::matching(IdentifierKind::TenantId, t))
                .collect(),
        )
    }

    fn verdict(&self, found: &Found, _refused: bool) -> Verdict<Note> {
        let Some(existing) = the_agent(found, IdentifierKind::UserObjectId, &self.user_object_id)
        else {
            return Verdict::NotDone;
        };
        let differences = onboarded_differences(existing, self);
        if differences.is_empty() {
            Verdict::Done(Some("already onboarded with these values".into()))
        } else {
            Verdict::Conflict(format!(
                "an agent with this user_object_id exists with other values: {}",
                differences.join(", ")
            ))
        }
    }
}

impl Convergent for OffboardItem {
    type Done = Note;
    const JUDGED_BEFORE_SENDING: bool = true;

    fn repeat_refusal(&self, messages: &[String]) -> bool {
        says_missing(messages)
    }

    fn lookups(&self) -> Vec<Lookup> {
        self.value
            .iter()
            .map(|value| (self.identifier, value.clone()))
            .collect()
    }

    fn verdict(&self, found_agents: &Found, _refused: bool) -> Verdict<Note> {
        let gone = self.value.iter().all(|value| {
            found(found_agents, self.identifier, value).is_some_and(|agents| agents.is_empty())
        });
        if gone {
            Verdict::Done(Some("already offboarded".into()))
        } else {
            Verdict::NotDone
        }
    }
}

impl Convergent for NewInbox {
    type Done = Note;
    const JUDGED_BEFORE_SENDING: bool = true;

    fn repeat_refusal(&self, messages: &[String]) -> bool {
        says_exists(messages)
    }

    fn lookups(&self) -> Vec<Lookup> {
        match (self.inbox_type, &self.owner) {
            (InboxType::Supervised, Some(owner)) => vec![(owner.identifier, owner.value.clone())],
            (InboxType::Shared, _) => selector_lookups(&self.users),
            (InboxType::Supervised, None) => Vec::new(),
        }
    }

    fn verdict(&self, found_agents: &Found, refused: bool) -> Verdict<Note> {
        let in_place = match (self.inbox_type, &self.owner) {
            (InboxType::Supervised, Some(owner)) => {
                the_agent(found_agents, owner.identifier, &owner.value).is_some_and(|agent| {
                    agent.phone_number.iter().any(|p| {
                        p.number_type == NumberType::Supervised && p.value == self.phone_number
                    })
                })
            }
            (InboxType::Shared, _) => self.users.values.iter().all(|user| {
                the_agent(found_agents, self.users.identifier, user).is_some_and(|agent| {
                    agent.shared_inbox.iter().any(|s| {
                        s.phone_number.as_deref() == Some(self.phone_number.as_str())
                            && s.name.as_deref().is_none_or(|n| n == self.name)
                    })
                })
            }),
            (InboxType::Supervised, None) => false,
        };
        match (in_place, refused) {
            (true, _) => Verdict::Done(Some("already created with these settings".into())),
            (false, true) => Verdict::Conflict(
                "an inbox with this number or name exists with other settings".into(),
            ),
            (false, false) => Verdict::NotDone,
        }
    }
}

impl Convergent for Assignment {
    type Done = Note;
    const JUDGED_BEFORE_SENDING: bool = true;

    fn repeat_refusal(&self, messages: &[String]) -> bool {
        says_membership(messages)
    }

    fn lookups(&self) -> Vec<Lookup> {
        let mut lookups = selector_lookups(&self.agents);
        if self.inbox.inbox_type == InboxType::Supervised {
            lookups.push((self.inbox.identifier, self.inbox.value.clone()));
        }
        lookups
    }

    fn verdict(&self, found_agents: &Found, _refused: bool) -> Verdict<Note> {
        let want = self.operation == Operation::Add;
        let owner = match self.inbox.inbox_type {
            InboxType::Supervised => {
                match the_agent(found_agents, self.inbox.identifier, &self.inbox.value) {
                    Some(owner) => Some(owner),
                    None => return Verdict::NotDone,
                }
            }
            InboxType::Shared => None,
        };
        let in_place = self.agents.values.iter().all(|value| {
            let Some(agent) = the_agent(found_agents, self.agents.identifier, value) else {
                return false;
            };
            let member = match owner {
                Some(owner) => owner.supervisors.iter().any(|s| {
                    s.user_object_id.is_some() && s.user_object_id == agent.user_object_id
                }),
                None => agent
                    .shared_inbox
                    .iter()
                    .any(|s| s.phone_number.as_deref() == Some(self.inbox.value.as_str())),
            };
            member == want
        });
        if in_place {
            Verdict::Done(Some(match self.operation {
                Operation::Add => "already assigned".into(),
                Operation::Remove => "already removed".into(),
            }))
        } else {
            Verdict::NotDone
        }
    }
}

impl Convergent for AgentUpdate {
    type Done = Option<Agent>;
    /// An update is safe to send again: it sets values.
    const JUDGED_BEFORE_SENDING: bool = false;

    /// A repeat of an update that renamed the key the agent was found by meets "not found".
    fn repeat_refusal(&self, messages: &[String]) -> bool {
        self.renamed().is_some() && says_missing(messages)
    }

    fn lookups(&self) -> Vec<Lookup> {
        self.renamed().into_iter().collect()
    }

    fn snapshot(_: &[Self]) -> Option<Vec<AgentFilter>> {
        None
    }

    fn verdict(&self, found_agents: &Found, _refused: bool) -> Verdict<Option<Agent>> {
        match self
            .renamed()
            .and_then(|(kind, value)| the_agent(found_agents, kind, &value))
        {
            Some(agent) if change_differences(agent, &self.updates).is_empty() => {
                Verdict::Done(Some(agent.clone()))
            }
            _ => Verdict::NotDone,
        }
    }
}

impl AgentUpdate {
    /// The key the update targets its agent by, with its new value, when it renames it.
    fn renamed(&self) -> Option<Lookup> {
        let key = key_for(self.target.identifier)?;
        let value = renamed_key(key, &self.updates)?;
        Some((self.target.identifier, value.to_string()))
    }
}

fn selector_lookups(selector: &Selector) -> Vec<Lookup> {
    selector
        .values
        .iter()
        .map(|value| (selector.identifier, value.clone()))
        .collect()
}

/// The fields of `existing` that differ from what `wanted` onboards; empty when it matches.
pub fn onboarded_differences(existing: &Agent, wanted: &NewAgent) -> Vec<&'static str> {
    let mut differences = Vec::new();
    let mut text = |name: &'static str, want: Option<&str>, have: Option<&str>| {
        if want.is_some() && want != have {
            differences.push(name);
        }
    };
    text("name", Some(&wanted.name), existing.name.as_deref());
    text(
        "tenant_id",
        Some(&wanted.tenant_id),
        existing.tenant_id.as_deref(),
    );
    for &field in ProfileField::ALL {
        text(field.name(), wanted.profile(field), existing.profile(field));
    }
    if let Some(roles) = &wanted.roles
        && !roles.is_empty()
        && !same_set(roles, &existing.roles)
    {
        differences.push("roles");
    }
    let has_number = |t: NumberType, n: &str| {
        existing
            .phone_number
            .iter()
            .any(|p| p.number_type == t && p.value == n)
    };
    if !wanted
        .number_provisioning
        .iter()
        .all(|p| has_number(p.number_type, &p.phone_number))
    {
        differences.push("number_provisioning");
    }
    if let Some(services) = &wanted.enabled_services
        && !services_match(services, existing.enabled_services.as_ref())
    {
        differences.push("enabled_services");
    }
    differences
}

/// The fields of `existing` that do not show `changes` applied; empty when they all do.
pub fn change_differences(existing: &Agent, changes: &AgentChanges) -> Vec<&'static str> {
    let mut differences = Vec::new();
    let mut text = |name: &'static str, want: Option<&str>, have: Option<&str>| {
        if want.is_some() && want != have {
            differences.push(name);
        }
    };
    text(
        "user_object_id",
        changes.user_object_id.as_deref(),
        existing.user_object_id.as_deref(),
    );
    text(
        "tenant_id",
        changes.tenant_id.as_deref(),
        existing.tenant_id.as_deref(),
    );
    text("name", changes.name.as_deref(), existing.name.as_deref());
    for &field in ProfileField::ALL {
        text(
            field.name(),
            changes.profile(field),
            existing.profile(field),
        );
    }
    if let Some(roles) = &changes.roles
        && (roles.assign.iter().any(|r| !existing.roles.contains(r))
            || roles.remove.iter().any(|r| existing.roles.contains(r)))
    {
        differences.push("roles");
    }
    if let Some(numbers) = &changes.phone_number
        && !numbers.iter().all(|n| existing.phone_number.contains(n))
    {
        differences.push("phone_number");
    }
    if let Some(services) = &changes.enabled_services
        && !services_match(services, existing.enabled_services.as_ref())
    {
        differences.push("enabled_services");
    }
    if changes.active.is_some() && changes.active != existing.active {
        differences.push("active");
    }
    differences
}

fn same_set(a: &[Role], b: &[Role]) -> bool {
    a.iter().all(|r| b.contains(r)) && b.iter().all(|r| a.contains(r))
}

fn services_match(wanted: &EnabledServices, have: Option<&EnabledServices>) -> bool {
    let have = have.cloned().unwrap_or_default();
    let same = |w: Option<bool>, h: Option<bool>| w.is_none() || w == h;
    same(wanted.messages, have.messages)
        && same(wanted.supervised_inbox, have.supervised_inbox)
        && same(wanted.calls, have.calls)
        && same(wanted.shared_inbox, have.shared_inbox)
}

/// The `key_id` that looks an agent up by this identifier kind (GET accepts three).
pub fn key_for(kind: IdentifierKind) -> Option<KeyId> {
    match kind {
        IdentifierKind::UserObjectId => Some(KeyId::UserObjectId),
        IdentifierKind::ConsistencyId => Some(KeyId::ConsistencyId),
        IdentifierKind::Upn => Some(KeyId::Upn),
        IdentifierKind::TenantId | IdentifierKind::PhoneNumber => None,
    }
}

/// The identifier kind a `key_id` names, when a list request can filter by it.
pub fn kind_of(key: KeyId) -> Option<IdentifierKind> {
    match key {
        KeyId::UserObjectId => Some(IdentifierKind::UserObjectId),
        KeyId::ConsistencyId => Some(IdentifierKind::ConsistencyId),
        KeyId::Upn => Some(IdentifierKind::Upn),
        KeyId::Id => None,
    }
}

/// The new value of the key an agent was looked up by, when `changes` renames it.
pub fn renamed_key(key: KeyId, changes: &AgentChanges) -> Option<&str> {
    match key {
        KeyId::UserObjectId => changes.user_object_id.as_deref(),
        KeyId::ConsistencyId => changes.consistency_id.as_deref(),
        KeyId::Upn => changes.upn.as_deref(),
        KeyId::Id => None,
    }
}

/// Messages that say the thing to create is already there.
pub fn says_exists(messages: &[String]) -> bool {
    messages
        .iter()
        .any(|m| m.to_ascii_lowercase().contains("already exist"))
}

/// Messages that say the thing to remove is not there.
pub fn says_missing(messages: &[String]) -> bool {
    messages.iter().any(|m| {
        let m = m.to_ascii_lowercase();
        m.contains("not found") || m.contains("not registered") || m.contains("does not exist")
    })
}

/// Messages about membership that a repeated assignment may meet.
pub fn says_membership(messages: &[String]) -> bool {
    messages.iter().any(|m| {
        let m = m.to_ascii_lowercase();
        m.contains("already") || m.contains("not assigned") || m.contains("not a member")
    })
}
