//! Whether what the API holds already is what a request asked for. A repeated onboard,
//! offboard, inbox creation or assignment (our retry after a lost answer, or a workflow
//! engine's retry of a whole step) meets "already exists" or "not found"; reading the state
//! back tells a request that already took effect from a genuine conflict.

use crate::client::Client;
use crate::error::ApiError;
use crate::model::*;
use crate::response;
use crate::transport::Transport;

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
    text("upn", wanted.upn.as_deref(), existing.upn.as_deref());
    text(
        "consistency_id",
        wanted.consistency_id.as_deref(),
        existing.consistency_id.as_deref(),
    );
    text(
        "brand_name",
        wanted.brand_name.as_deref(),
        existing.brand_name.as_deref(),
    );
    text(
        "department",
        wanted.department.as_deref(),
        existing.department.as_deref(),
    );
    text(
        "region",
        wanted.region.as_deref(),
        existing.region.as_deref(),
    );
    text("state", wanted.state.as_deref(), existing.state.as_deref());
    text(
        "district",
        wanted.district.as_deref(),
        existing.district.as_deref(),
    );
    text("store", wanted.store.as_deref(), existing.store.as_deref());
    text("city", wanted.city.as_deref(), existing.city.as_deref());
    text(
        "zip_code",
        wanted.zip_code.as_deref(),
        existing.zip_code.as_deref(),
    );
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
    let mut text = |name: &'static str, want: &Option<String>, have: &Option<String>| {
        if want.is_some() && want != have {
            differences.push(name);
        }
    };
    text(
        "user_object_id",
        &changes.user_object_id,
        &existing.user_object_id,
    );
    text("tenant_id", &changes.tenant_id, &existing.tenant_id);
    text("name", &changes.name, &existing.name);
    text("upn", &changes.upn, &existing.upn);
    text(
        "consistency_id",
        &changes.consistency_id,
        &existing.consistency_id,
    );
    text("brand_name", &changes.brand_name, &existing.brand_name);
    text("department", &changes.department, &existing.department);
    text("region", &changes.region, &existing.region);
    text("state", &changes.state, &existing.state);
    text("district", &changes.district, &existing.district);
    text("store", &changes.store, &existing.store);
    text("city", &changes.city, &existing.city);
    text("zip_code", &changes.zip_code, &existing.zip_code);
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

/// What reading the state back says about an item the API refused.
pub(crate) enum Verdict<O> {
    /// It is already in the requested state.
    Done(O),
    /// The state differs: a genuine conflict, with what differs.
    Conflict(String),
    /// Nothing to conclude (not a "exists"/"missing" refusal, or the read failed).
    Unknown,
}

/// Reading the state back, to tell a refused repeat from a genuine conflict.
impl<T: Transport> Client<T> {
    /// The agent `id` names under `key`, or `None` when there is none.
    pub(crate) fn read_agent(&mut self, id: &str, key: KeyId) -> Result<Option<Agent>, ApiError> {
        let request = self.requests.get_agent(id, Some(key), None);
        match self
            .execute(&request)
            .and_then(|resp| response::agent(&resp, self.now()))
        {
            Ok(agent) => Ok(Some(agent)),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The agents whose `kind` field is `value`.
    pub(crate) fn find_agents(
        &mut self,
        kind: IdentifierKind,
        value: &str,
    ) -> Result<Vec<Agent>, ApiError> {
        let mut filter = AgentFilter::default();
        let slot = match kind {
            IdentifierKind::UserObjectId => &mut filter.user_object_id,
            IdentifierKind::TenantId => &mut filter.tenant_id,
            IdentifierKind::ConsistencyId => &mut filter.consistency_id,
            IdentifierKind::Upn => &mut filter.upn,
            IdentifierKind::PhoneNumber => &mut filter.phone_number,
        };
        *slot = Some(value.to_string());
        let request = self.requests.list_agents(&filter);
        let resp = self.execute(&request)?;
        response::agent_list(&resp, self.now())
    }

    /// Whether the agents show `inbox` as created: each user sees the shared inbox, or the
    /// owner holds the supervised number.
    pub(crate) fn inbox_in_place(&mut self, inbox: &NewInbox) -> Result<bool, ApiError> {
        match (inbox.inbox_type, &inbox.owner) {
            (InboxType::Supervised, Some(owner)) => {
                let Some(key) = key_for(owner.identifier) else {
                    return Ok(false);
                };
                Ok(self.read_agent(&owner.value, key)?.is_some_and(|agent| {
                    agent.phone_number.iter().any(|p| {
                        p.number_type == NumberType::Supervised && p.value == inbox.phone_number
                    })
                }))
            }
            (InboxType::Shared, _) => {
                let Some(key) = key_for(inbox.users.identifier) else {
                    return Ok(false);
                };
                for user in &inbox.users.values {
                    let member = self.read_agent(user, key)?.is_some_and(|agent| {
                        agent.shared_inbox.iter().any(|s| {
                            s.phone_number.as_deref() == Some(inbox.phone_number.as_str())
                                && s.name.as_deref().is_none_or(|n| n == inbox.name)
                        })
                    });
                    if !member {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (InboxType::Supervised, None) => Ok(false),
        }
    }

    /// Whether every agent of `assignment` is (add) or is not (remove) in its inbox.
    pub(crate) fn members_in_place(&mut self, assignment: &Assignment) -> Result<bool, ApiError> {
        let want = assignment.operation == Operation::Add;
        let Some(agent_key) = key_for(assignment.agents.identifier) else {
            return Ok(false);
        };
        match assignment.inbox.inbox_type {
            InboxType::Shared => {
                for value in &assignment.agents.values {
                    let Some(agent) = self.read_agent(value, agent_key)? else {
                        return Ok(false);
                    };
                    let member = agent.shared_inbox.iter().any(|s| {
                        s.phone_number.as_deref() == Some(assignment.inbox.value.as_str())
                    });
                    if member != want {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            InboxType::Supervised => {
                let Some(owner_key) = key_for(assignment.inbox.identifier) else {
                    return Ok(false);
                };
                let Some(owner) = self.read_agent(&assignment.inbox.value, owner_key)? else {
                    return Ok(false);
                };
                for value in &assignment.agents.values {
                    let Some(agent) = self.read_agent(value, agent_key)? else {
                        return Ok(false);
                    };
                    let member = owner.supervisors.iter().any(|s| {
                        s.user_object_id.is_some() && s.user_object_id == agent.user_object_id
                    });
                    if member != want {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }
}
