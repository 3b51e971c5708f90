//! Whether what the API holds already is what a request asked for. A repeated onboard,
//! offboard, inbox creation or assignment (our retry after a lost answer, or a workflow
//! engine's retry of a whole step) meets "already exists" or "not found"; reading the state
//! back tells a request that already took effect from a genuine conflict.

use crate::model::*;

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

/// The field of an agent that an identifier kind names.
pub fn identifier_value(agent: &Agent, kind: IdentifierKind) -> Option<&str> {
    match kind {
        IdentifierKind::UserObjectId => agent.user_object_id.as_deref(),
        IdentifierKind::ConsistencyId => agent.consistency_id.as_deref(),
        IdentifierKind::Upn => agent.upn.as_deref(),
        IdentifierKind::TenantId => agent.tenant_id.as_deref(),
        IdentifierKind::PhoneNumber => None,
    }
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
