//! One agent: what it takes to bring a live agent to the roster's values, field by field, and
//! what an onboard of a new one shows.

use super::changed;
use crate::model::*;
use crate::sync::{DesiredAgent, FieldChange, Unconvergeable};

/// What it takes to bring one live agent to the roster's values.
#[derive(Default)]
pub(super) struct Diff {
    pub changes: AgentChanges,
    pub fields: Vec<FieldChange>,
    pub unconvergeable: Vec<Unconvergeable>,
}

pub(super) fn is_active(agent: &Agent) -> bool {
    agent.active != Some(false)
}

pub(super) fn diff(want: &DesiredAgent, have: &Agent) -> Diff {
    let mut d = Diff::default();
    text_changes(&want.agent, have, &mut d);
    role_changes(&want.agent, have, &mut d);
    number_changes(&want.agent, have, &mut d);
    service_changes(&want.agent, have, &mut d);
    if want.active == Some(true) && !is_active(have) {
        d.changes.active = Some(true);
        d.fields
            .push(changed("active", Some("false"), Some("true")));
    }
    d
}

/// The roster's text fields that differ from the live agent's; an unset one is not managed.
fn text_changes(want: &NewAgent, have: &Agent, d: &mut Diff) {
    let mut set = |field: &str, slot: &mut Option<String>, new: &str, old: Option<&str>| {
        if Some(new) != old {
            *slot = Some(new.to_string());
            d.fields.push(changed(field, old, Some(new)));
        }
    };
    let mut changes = std::mem::take(&mut d.changes);
    set(
        "tenant_id",
        &mut changes.tenant_id,
        &want.tenant_id,
        have.tenant_id.as_deref(),
    );
    set("name", &mut changes.name, &want.name, have.name.as_deref());
    for &field in ProfileField::ALL {
        if let Some(new) = want.profile(field) {
            set(
                field.name(),
                changes.profile_mut(field),
                new,
                have.profile(field),
            );
        }
    }
    d.changes = changes;
}

fn role_changes(want: &NewAgent, have: &Agent, d: &mut Diff) {
    let Some(roles) = want.roles.as_ref().filter(|r| !r.is_empty()) else {
        return;
    };
    let assign: Vec<Role> = roles
        .iter()
        .filter(|r| !have.roles.contains(r))
        .copied()
        .collect();
    let remove: Vec<Role> = have
        .roles
        .iter()
        .filter(|r| !roles.contains(r))
        .copied()
        .collect();
    for r in &assign {
        d.fields.push(changed("roles", None, Some(r.as_str())));
    }
    for r in &remove {
        d.fields.push(changed("roles", Some(r.as_str()), None));
    }
    if !assign.is_empty() || !remove.is_empty() {
        d.changes.roles = Some(RoleChanges { assign, remove });
    }
}

fn number_changes(want: &NewAgent, have: &Agent, d: &mut Diff) {
    let mut numbers = Vec::new();
    for p in &want.number_provisioning {
        let current = have
            .phone_number
            .iter()
            .find(|n| n.number_type == p.number_type)
            .map(|n| n.value.as_str());
        if current != Some(p.phone_number.as_str()) {
            numbers.push(PhoneNumber {
                number_type: p.number_type,
                value: p.phone_number.clone(),
            });
            d.fields.push(changed(
                format!("phone_number.{}", p.number_type),
                current,
                Some(&p.phone_number),
            ));
        }
        if let Some(supervisors) = &p.supervisors {
            missing_supervisors(&want.user_object_id, supervisors, have, d);
        }
    }
    if !numbers.is_empty() {
        d.changes.phone_number = Some(numbers);
    }
}

/// Supervisors the roster names that the agent does not have: the API sets them only when it
/// onboards an agent, so the plan cannot converge them.
fn missing_supervisors(uoid: &str, supervisors: &Selector, have: &Agent, d: &mut Diff) {
    let missing: Vec<&str> = supervisors
        .values
        .iter()
        .filter(|v| {
            let held = |s: &Supervisor| match supervisors.identifier {
                IdentifierKind::UserObjectId => s.user_object_id.as_ref() == Some(*v),
                IdentifierKind::Upn => s.upn.as_ref() == Some(*v),
                // The API shows no consistency_id of a supervisor: nothing to compare.
                _ => true,
            };
            !have.supervisors.iter().any(held)
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        d.unconvergeable.push(Unconvergeable {
            user_object_id: uoid.to_string(),
            field: "supervisors".into(),
            reason: format!(
                "the roster names supervisors the agent does not have ({}); the API sets supervisors only when it onboards an agent",
                missing.join(", ")
            ),
        });
    }
}

fn service_changes(want: &NewAgent, have: &Agent, d: &mut Diff) {
    let Some(services) = &want.enabled_services else {
        return;
    };
    let live = have.enabled_services.clone().unwrap_or_default();
    let mut wanted = EnabledServices::default();
    for (field, new, old, slot) in [
        (
            "messages",
            services.messages,
            live.messages,
            &mut wanted.messages,
        ),
        (
            "supervisedInbox",
            services.supervised_inbox,
            live.supervised_inbox,
            &mut wanted.supervised_inbox,
        ),
        ("calls", services.calls, live.calls, &mut wanted.calls),
        (
            "sharedInbox",
            services.shared_inbox,
            live.shared_inbox,
            &mut wanted.shared_inbox,
        ),
    ] {
        if let Some(new) = new
            && Some(new) != old
        {
            *slot = Some(new);
            let text = |b: Option<bool>| b.map(|b| b.to_string());
            d.fields.push(FieldChange {
                field: format!("enabled_services.{field}"),
                old: text(old),
                new: text(Some(new)),
            });
        }
    }
    if wanted != EnabledServices::default() {
        d.changes.enabled_services = Some(wanted);
    }
}

/// What onboarding `want` sets, as a plan shows it.
pub(super) fn onboard_fields(want: &NewAgent) -> Vec<FieldChange> {
    let mut fields = vec![changed("name", None, Some(&want.name))];
    fields.extend(ProfileField::ALL.iter().filter_map(|&f| {
        want.profile(f)
            .map(|new| changed(f.name(), None, Some(new)))
    }));
    if let Some(roles) = &want.roles {
        fields.extend(
            roles
                .iter()
                .map(|r| changed("roles", None, Some(r.as_str()))),
        );
    }
    fields.extend(want.number_provisioning.iter().map(|p| {
        changed(
            format!("phone_number.{}", p.number_type),
            None,
            Some(&p.phone_number),
        )
    }));
    fields
}
