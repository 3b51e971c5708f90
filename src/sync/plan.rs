//! Computing a plan: pure, from the roster, the live agents and the registered numbers.

use super::{
    AbsentAgents, ChangeAction, DesiredAgent, FieldChange, Plan, PlanOptions, PlanSummary,
    PlannedAssignment, PlannedChange, RemovalCap, ScopeField, SyncError, Unconvergeable,
    agent_digest, plan_fingerprint,
};
use crate::error::Problem;
use crate::model::*;
use crate::validate::{self, MAX_BATCH};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What the plan reads from the API: every agent of the roster's tenants, and the registered
/// numbers (`None`: not read yet).
pub struct Live<'a> {
    pub agents: &'a [Agent],
    pub numbers: Option<&'a [NumberInfo]>,
}

fn problem(index: usize, field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        index: Some(index),
        field: field.into(),
        message: message.into(),
    }
}

/// Every problem of a roster that can be told without the API: each agent as onboarding
/// checks it, ids and numbers two agents share, malformed shared-inbox numbers.
pub fn check_roster(desired: &[DesiredAgent]) -> Result<(), Vec<Problem>> {
    let agents: Vec<NewAgent> = desired.iter().map(|d| d.agent.clone()).collect();
    let mut problems = validate::onboard_agents(&agents).err().unwrap_or_default();
    let mut upns: HashMap<&str, usize> = HashMap::new();
    let mut consistency_ids: HashMap<&str, usize> = HashMap::new();
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    for (i, d) in desired.iter().enumerate() {
        for (field, value, seen) in [
            ("upn", d.agent.upn.as_deref(), &mut upns),
            (
                "consistency_id",
                d.agent.consistency_id.as_deref(),
                &mut consistency_ids,
            ),
        ] {
            if let Some(v) = value.filter(|v| !v.is_empty())
                && let Some(earlier) = seen.insert(v, i)
            {
                problems.push(problem(
                    i,
                    field,
                    format!("the same {field} as item {earlier}"),
                ));
            }
        }
        for (n, p) in d.agent.number_provisioning.iter().enumerate() {
            if let Some(earlier) = numbers.insert(p.phone_number.as_str(), i) {
                problems.push(problem(
                    i,
                    format!("number_provisioning[{n}].phone_number"),
                    format!("{} is also claimed by item {earlier}", p.phone_number),
                ));
            }
        }
        for (n, inbox) in d.shared_inboxes.iter().flatten().enumerate() {
            if !validate::is_e164(inbox) {
                problems.push(problem(
                    i,
                    format!("shared_inboxes[{n}]"),
                    format!("{inbox:?} is not an E.164 number (+ and 2 to 15 digits)"),
                ));
            }
        }
    }
    problems.sort_by_key(|p| p.index);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The roster's tenants, in the order they first appear.
pub fn tenants(desired: &[DesiredAgent]) -> Vec<String> {
    let mut seen = HashSet::new();
    desired
        .iter()
        .map(|d| d.agent.tenant_id.clone())
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// The value of a scope field on an onboard item or a live agent, which name it alike.
macro_rules! scope_value {
    ($agent:expr, $field:expr) => {
        match $field {
            ScopeField::BrandName => $agent.brand_name.as_deref(),
            ScopeField::Department => $agent.department.as_deref(),
            ScopeField::Region => $agent.region.as_deref(),
            ScopeField::State => $agent.state.as_deref(),
            ScopeField::District => $agent.district.as_deref(),
            ScopeField::Store => $agent.store.as_deref(),
            ScopeField::City => $agent.city.as_deref(),
            ScopeField::ZipCode => $agent.zip_code.as_deref(),
        }
    };
}

/// The text fields an onboard item carries, paired with the live agent's.
fn text_fields<'a>(
    want: &'a NewAgent,
    have: &'a Agent,
) -> [(&'static str, Option<&'a str>, Option<&'a str>); 12] {
    [
        (
            "tenant_id",
            Some(want.tenant_id.as_str()),
            have.tenant_id.as_deref(),
        ),
        ("name", Some(want.name.as_str()), have.name.as_deref()),
        ("upn", want.upn.as_deref(), have.upn.as_deref()),
        (
            "consistency_id",
            want.consistency_id.as_deref(),
            have.consistency_id.as_deref(),
        ),
        (
            "brand_name",
            want.brand_name.as_deref(),
            have.brand_name.as_deref(),
        ),
        (
            "department",
            want.department.as_deref(),
            have.department.as_deref(),
        ),
        ("region", want.region.as_deref(), have.region.as_deref()),
        ("state", want.state.as_deref(), have.state.as_deref()),
        (
            "district",
            want.district.as_deref(),
            have.district.as_deref(),
        ),
        ("store", want.store.as_deref(), have.store.as_deref()),
        ("city", want.city.as_deref(), have.city.as_deref()),
        (
            "zip_code",
            want.zip_code.as_deref(),
            have.zip_code.as_deref(),
        ),
    ]
}

fn set_text(changes: &mut AgentChanges, field: &str, value: &str) {
    let slot = match field {
        "tenant_id" => &mut changes.tenant_id,
        "name" => &mut changes.name,
        "upn" => &mut changes.upn,
        "consistency_id" => &mut changes.consistency_id,
        "brand_name" => &mut changes.brand_name,
        "department" => &mut changes.department,
        "region" => &mut changes.region,
        "state" => &mut changes.state,
        "district" => &mut changes.district,
        "store" => &mut changes.store,
        "city" => &mut changes.city,
        "zip_code" => &mut changes.zip_code,
        other => unreachable!("{other} is not a text field"),
    };
    *slot = Some(value.to_string());
}

fn changed(field: impl Into<String>, old: Option<&str>, new: Option<&str>) -> FieldChange {
    FieldChange {
        field: field.into(),
        old: old.map(str::to_string),
        new: new.map(str::to_string),
    }
}

fn is_active(agent: &Agent) -> bool {
    agent.active != Some(false)
}

/// What it takes to bring one live agent to the roster's values.
#[derive(Default)]
struct Diff {
    changes: AgentChanges,
    fields: Vec<FieldChange>,
    unconvergeable: Vec<Unconvergeable>,
}

fn diff(want: &DesiredAgent, have: &Agent) -> Diff {
    let mut d = Diff::default();
    let uoid = &want.agent.user_object_id;
    for (field, new, old) in text_fields(&want.agent, have) {
        if let Some(new) = new
            && Some(new) != old
        {
            set_text(&mut d.changes, field, new);
            d.fields.push(changed(field, old, Some(new)));
        }
    }
    if let Some(roles) = want.agent.roles.as_ref().filter(|r| !r.is_empty()) {
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
    let mut numbers = Vec::new();
    for p in &want.agent.number_provisioning {
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
            let missing: Vec<&String> = supervisors
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
                .collect();
            if !missing.is_empty() {
                d.unconvergeable.push(Unconvergeable {
                    user_object_id: uoid.clone(),
                    field: "supervisors".into(),
                    reason: format!(
                        "the roster names supervisors the agent does not have ({}); the API sets supervisors only when it onboards an agent",
                        missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
    }
    if !numbers.is_empty() {
        d.changes.phone_number = Some(numbers);
    }
    if let Some(services) = &want.agent.enabled_services {
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
    if want.active == Some(true) && !is_active(have) {
        d.changes.active = Some(true);
        d.fields
            .push(changed("active", Some("false"), Some("true")));
    }
    d
}

/// The shared inboxes the live state shows: those agents work in, and numbers held by an
/// inbox rather than an agent.
fn known_inboxes(live: &Live) -> HashSet<String> {
    let mut inboxes: HashSet<String> = live
        .agents
        .iter()
        .flat_map(|a| a.shared_inbox.iter())
        .filter_map(|i| i.phone_number.clone())
        .collect();
    inboxes.extend(
        live.numbers
            .unwrap_or_default()
            .iter()
            .filter(|n| {
                n.assigned_to
                    .as_ref()
                    .is_some_and(|a| a.user_object_id.is_none())
            })
            .map(|n| n.number.clone()),
    );
    inboxes
}

/// A number the plan gives an agent.
struct Claim {
    index: usize,
    field: String,
    number: String,
    user_object_id: String,
}

/// Plans the changes that make the live agents in scope equal to `desired`. `Ok(None)` when
/// the plan gives out numbers or joins inboxes the agents do not show and `live.numbers` is
/// `None`: plan again with the numbers (a plan that needs none costs no request for them).
pub fn compute_plan(
    customer_id: &str,
    desired: &[DesiredAgent],
    live: Live,
    options: &PlanOptions,
) -> Result<Option<Plan>, SyncError> {
    check_roster(desired)?;
    let tenants = tenants(desired);
    let protected: HashSet<&str> = options.protected.iter().map(String::as_str).collect();
    let by_uoid: HashMap<&str, &Agent> = live
        .agents
        .iter()
        .filter_map(|a| a.user_object_id.as_deref().map(|id| (id, a)))
        .collect();
    let roster: HashMap<&str, &DesiredAgent> = desired
        .iter()
        .map(|d| (d.agent.user_object_id.as_str(), d))
        .collect();
    let matches_scope = |value: &dyn Fn(ScopeField) -> Option<String>| {
        options
            .scope
            .iter()
            .all(|m| value(m.field).as_deref() == Some(m.value.as_str()))
    };
    let live_matches = |a: &Agent| matches_scope(&|f| scope_value!(a, f).map(str::to_string));
    let desired_matches =
        |d: &DesiredAgent| matches_scope(&|f| scope_value!(d.agent, f).map(str::to_string));
    // An agent is in scope when it matches as it is or as the roster has it, so that an agent
    // the roster moves into or out of the scope is updated, not onboarded or removed.
    let desired_in_scope = |d: &DesiredAgent| {
        desired_matches(d)
            || by_uoid
                .get(d.agent.user_object_id.as_str())
                .is_some_and(|a| live_matches(a))
    };
    let in_scope: Vec<&Agent> = live
        .agents
        .iter()
        .filter(|a| {
            live_matches(a)
                || a.user_object_id
                    .as_deref()
                    .and_then(|id| roster.get(id))
                    .is_some_and(|d| desired_matches(d))
        })
        .collect();

    let registered: HashMap<&str, &NumberInfo> = live
        .numbers
        .unwrap_or_default()
        .iter()
        .map(|n| (n.number.as_str(), n))
        .collect();
    let mut needs_numbers = false;
    let inboxes = known_inboxes(&live);
    let mut summary = PlanSummary {
        out_of_scope: (live.agents.len() - in_scope.len()) as u32,
        ..PlanSummary::default()
    };
    let mut problems = Vec::new();
    let mut onboards = Vec::new();
    let mut updates: Vec<(usize, PlannedChange)> = Vec::new();
    let mut deactivations = Vec::new();
    let mut offboards = Vec::new();
    let mut unconvergeable = Vec::new();
    let mut kept = Vec::new();
    let mut memberships: BTreeMap<(String, Operation), Vec<String>> = BTreeMap::new();
    let mut claims: Vec<Claim> = Vec::new();

    for (index, want) in desired.iter().enumerate() {
        if !desired_in_scope(want) {
            continue;
        }
        let uoid = &want.agent.user_object_id;
        let have = by_uoid.get(uoid.as_str()).copied();
        let live_inboxes: HashSet<&str> = have
            .map(|a| {
                a.shared_inbox
                    .iter()
                    .filter_map(|i| i.phone_number.as_deref())
                    .collect()
            })
            .unwrap_or_default();
        let mut membership_changes = 0;
        // A disabled roster row that is not live is not onboarded, so it joins nothing.
        let joins = have.is_some() || want.active != Some(false);
        if let Some(wanted) = &want.shared_inboxes
            && joins
        {
            for (n, inbox) in wanted.iter().enumerate() {
                if live_inboxes.contains(inbox.as_str()) {
                    continue;
                }
                if inboxes.contains(inbox) {
                    memberships
                        .entry((inbox.clone(), Operation::Add))
                        .or_default()
                        .push(uoid.clone());
                    membership_changes += 1;
                } else if live.numbers.is_none() {
                    needs_numbers = true;
                } else if !registered.contains_key(inbox.as_str()) {
                    problems.push(problem(
                        index,
                        format!("shared_inboxes[{n}]"),
                        format!("{inbox} is not registered to the account"),
                    ));
                } else {
                    unconvergeable.push(Unconvergeable {
                        user_object_id: uoid.clone(),
                        field: format!("shared_inboxes[{n}]"),
                        reason: format!(
                            "no shared inbox has the number {inbox}: create it (create-inboxes) and plan again"
                        ),
                    });
                }
            }
            for inbox in live_inboxes
                .iter()
                .filter(|i| !wanted.iter().any(|w| w == *i))
            {
                memberships
                    .entry((inbox.to_string(), Operation::Remove))
                    .or_default()
                    .push(uoid.clone());
                membership_changes += 1;
            }
        }
        summary.assignments += membership_changes;
        let Some(have) = have else {
            if want.active == Some(false) {
                // Disabled in the roster and not onboarded: already as it should be.
                summary.unchanged += 1;
                continue;
            }
            for (n, p) in want.agent.number_provisioning.iter().enumerate() {
                claims.push(Claim {
                    index,
                    field: format!("number_provisioning[{n}].phone_number"),
                    number: p.phone_number.clone(),
                    user_object_id: uoid.clone(),
                });
            }
            let nothing = Agent::default();
            let mut fields: Vec<FieldChange> = text_fields(&want.agent, &nothing)
                .into_iter()
                .filter(|(field, new, _)| new.is_some() && *field != "tenant_id")
                .map(|(field, new, _)| changed(field, None, new))
                .collect();
            if let Some(roles) = &want.agent.roles {
                fields.extend(
                    roles
                        .iter()
                        .map(|r| changed("roles", None, Some(r.as_str()))),
                );
            }
            fields.extend(want.agent.number_provisioning.iter().map(|p| {
                changed(
                    format!("phone_number.{}", p.number_type),
                    None,
                    Some(&p.phone_number),
                )
            }));
            onboards.push(PlannedChange {
                action: ChangeAction::Onboard,
                user_object_id: uoid.clone(),
                tenant_id: want.agent.tenant_id.clone(),
                name: want.agent.name.clone(),
                onboard: Some(want.agent.clone()),
                update: None,
                fields,
                observed: None,
            });
            continue;
        };
        let mut d = diff(want, have);
        unconvergeable.append(&mut d.unconvergeable);
        for (n, p) in d.changes.phone_number.iter().flatten().enumerate() {
            let position = want
                .agent
                .number_provisioning
                .iter()
                .position(|w| w.phone_number == p.value)
                .unwrap_or(n);
            claims.push(Claim {
                index,
                field: format!("number_provisioning[{position}].phone_number"),
                number: p.value.clone(),
                user_object_id: uoid.clone(),
            });
        }
        let deactivate = want.active == Some(false) && is_active(have);
        let kept_active = deactivate && protected.contains(uoid.as_str());
        let action = if kept_active {
            kept.push(uoid.clone());
            summary.protected += 1;
            ChangeAction::Update
        } else if deactivate {
            d.changes.active = Some(false);
            d.fields
                .push(changed("active", Some("true"), Some("false")));
            ChangeAction::Deactivate
        } else {
            ChangeAction::Update
        };
        if d.fields.is_empty() {
            if membership_changes == 0 && !kept_active {
                summary.unchanged += 1;
            }
            continue;
        }
        let change = PlannedChange {
            action,
            user_object_id: uoid.clone(),
            tenant_id: want.agent.tenant_id.clone(),
            name: want.agent.name.clone(),
            onboard: None,
            update: Some(d.changes),
            fields: d.fields,
            observed: Some(agent_digest(have)),
        };
        match action {
            ChangeAction::Deactivate => deactivations.push(change),
            _ => updates.push((index, change)),
        }
    }

    needs_numbers |= !claims.is_empty();
    if needs_numbers && live.numbers.is_none() {
        return Ok(None);
    }

    let absent = options.absent.unwrap_or_default();
    for have in &in_scope {
        let Some(uoid) = have.user_object_id.as_deref() else {
            continue;
        };
        if roster.contains_key(uoid) {
            continue;
        }
        if absent == AbsentAgents::Deactivate && !is_active(have) {
            summary.unchanged += 1;
            continue;
        }
        if protected.contains(uoid) {
            kept.push(uoid.to_string());
            summary.protected += 1;
            continue;
        }
        let (action, update, fields) = match absent {
            AbsentAgents::Deactivate => (
                ChangeAction::Deactivate,
                Some(AgentChanges {
                    active: Some(false),
                    ..AgentChanges::default()
                }),
                vec![changed("active", Some("true"), Some("false"))],
            ),
            AbsentAgents::Offboard => (ChangeAction::Offboard, None, Vec::new()),
        };
        let change = PlannedChange {
            action,
            user_object_id: uoid.to_string(),
            tenant_id: have.tenant_id.clone().unwrap_or_default(),
            name: have.name.clone().unwrap_or_default(),
            onboard: None,
            update,
            fields,
            observed: Some(agent_digest(have)),
        };
        match action {
            ChangeAction::Offboard => offboards.push(change),
            _ => deactivations.push(change),
        }
    }

    let removals = (deactivations.len() + offboards.len()) as u32;
    let max_removals = options
        .max_removals
        .unwrap_or((in_scope.len() as u32).div_ceil(10));
    if removals > max_removals {
        return Err(SyncError::TooManyRemovals(RemovalCap {
            removals,
            max_removals,
            in_scope: in_scope.len() as u32,
        }));
    }

    // Every number given out must be registered and free, or freed by this plan.
    let offboarded: HashSet<&str> = offboards
        .iter()
        .map(|c| c.user_object_id.as_str())
        .collect();
    let moving: HashMap<&str, &AgentChanges> = updates
        .iter()
        .filter_map(|(_, c)| c.update.as_ref().map(|u| (c.user_object_id.as_str(), u)))
        .collect();
    let mut must_follow: HashMap<String, Vec<String>> = HashMap::new();
    for claim in &claims {
        let Some(info) = registered.get(claim.number.as_str()) else {
            problems.push(problem(
                claim.index,
                &claim.field,
                format!("{} is not registered to the account", claim.number),
            ));
            continue;
        };
        let Some(holder) = info.assigned_to.as_ref() else {
            if info.status == Some(NumberStatus::Assigned) {
                problems.push(problem(
                    claim.index,
                    &claim.field,
                    format!(
                        "{} is assigned, and the API does not say to whom",
                        claim.number
                    ),
                ));
            }
            continue;
        };
        let Some(holder_id) = holder.user_object_id.as_deref() else {
            let name = holder.name.as_deref().unwrap_or("an inbox");
            problems.push(problem(
                claim.index,
                &claim.field,
                format!("{} is assigned to {name}", claim.number),
            ));
            continue;
        };
        if holder_id == claim.user_object_id {
            continue;
        }
        let held_as = by_uoid.get(holder_id).and_then(|a| {
            a.phone_number
                .iter()
                .find(|p| p.value == claim.number)
                .map(|p| p.number_type)
        });
        let freed_by_offboard =
            offboarded.contains(holder_id) && held_as == Some(NumberType::Messaging);
        let freed_by_update = held_as.is_some_and(|t| {
            moving.get(holder_id).is_some_and(|u| {
                u.phone_number
                    .iter()
                    .flatten()
                    .any(|p| p.number_type == t && p.value != claim.number)
            })
        });
        if freed_by_update {
            must_follow
                .entry(claim.user_object_id.clone())
                .or_default()
                .push(holder_id.to_string());
        } else if !freed_by_offboard {
            problems.push(problem(
                claim.index,
                &claim.field,
                format!(
                    "{} is assigned to {} ({holder_id}), whom this plan does not free it from",
                    claim.number,
                    holder.name.as_deref().unwrap_or("another agent")
                ),
            ));
        }
    }
    let updates = match in_dependency_order(updates, &must_follow) {
        Ok(updates) => updates,
        Err(cycle) => {
            problems.extend(cycle.into_iter().map(|index| {
                problem(
                    index,
                    "number_provisioning",
                    "agents of the roster take each other's numbers in a cycle; the API cannot swap numbers: free one first",
                )
            }));
            Vec::new()
        }
    };
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.index);
        return Err(problems.into());
    }

    summary.onboard = onboards.len() as u32;
    summary.update = updates.len() as u32;
    summary.deactivate = deactivations.len() as u32;
    summary.offboard = offboards.len() as u32;
    summary.unconvergeable = unconvergeable.len() as u32;
    let assignments = memberships
        .into_iter()
        .flat_map(|((inbox, operation), agents)| {
            agents
                .chunks(MAX_BATCH)
                .map(|agents| PlannedAssignment {
                    inbox: inbox.clone(),
                    operation,
                    agents: agents.to_vec(),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut plan = Plan {
        customer_id: customer_id.to_string(),
        tenants,
        options: options.clone(),
        changes: onboards
            .into_iter()
            .chain(updates)
            .chain(deactivations)
            .chain(offboards)
            .collect(),
        assignments,
        unconvergeable,
        kept,
        summary,
        fingerprint: String::new(),
    };
    plan.fingerprint = plan_fingerprint(&plan);
    Ok(Some(plan))
}

/// Orders updates so that one taking a number comes after the update that frees it; the
/// roster indices of a cycle when there is one.
fn in_dependency_order(
    updates: Vec<(usize, PlannedChange)>,
    must_follow: &HashMap<String, Vec<String>>,
) -> Result<Vec<PlannedChange>, Vec<usize>> {
    let mut waiting: Vec<(usize, PlannedChange)> = updates;
    let mut ordered: Vec<PlannedChange> = Vec::with_capacity(waiting.len());
    let mut placed: HashSet<String> = HashSet::new();
    let pending: HashSet<String> = waiting
        .iter()
        .map(|(_, c)| c.user_object_id.clone())
        .collect();
    while !waiting.is_empty() {
        let before = waiting.len();
        let (ready, rest): (Vec<_>, Vec<_>) = waiting.into_iter().partition(|(_, c)| {
            must_follow
                .get(&c.user_object_id)
                .into_iter()
                .flatten()
                .all(|h| placed.contains(h) || !pending.contains(h))
        });
        for (_, c) in ready {
            placed.insert(c.user_object_id.clone());
            ordered.push(c);
        }
        waiting = rest;
        if waiting.len() == before {
            return Err(waiting.into_iter().map(|(i, _)| i).collect());
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(uoid: &str) -> DesiredAgent {
        DesiredAgent {
            agent: NewAgent {
                user_object_id: uoid.into(),
                tenant_id: "t".into(),
                name: uoid.to_uppercase(),
                store: Some("1".into()),
                ..NewAgent::default()
            },
            active: None,
            shared_inboxes: None,
        }
    }

    fn live(uoid: &str) -> Agent {
        Agent {
            user_object_id: Some(uoid.into()),
            tenant_id: Some("t".into()),
            name: Some(uoid.to_uppercase()),
            store: Some("1".into()),
            roles: vec![Role::Member],
            active: Some(true),
            ..Agent::default()
        }
    }

    fn messaging(number: &str) -> NumberProvisioning {
        NumberProvisioning {
            number_type: NumberType::Messaging,
            phone_number: number.into(),
            supervisors: None,
        }
    }

    fn number(n: &str, holder: Option<&str>) -> NumberInfo {
        NumberInfo {
            number: n.into(),
            status: Some(match holder {
                Some(_) => NumberStatus::Assigned,
                None => NumberStatus::Active,
            }),
            assigned_to: holder.map(|h| Assignee {
                user_object_id: Some(h.into()),
                ..Assignee::default()
            }),
        }
    }

    fn plan(
        desired: &[DesiredAgent],
        agents: &[Agent],
        numbers: &[NumberInfo],
        options: &PlanOptions,
    ) -> Result<Plan, SyncError> {
        let live = Live {
            agents,
            numbers: Some(numbers),
        };
        compute_plan("c", desired, live, options).map(|plan| plan.expect("numbers were given"))
    }

    fn problems(result: Result<Plan, SyncError>) -> Vec<Problem> {
        match result {
            Err(SyncError::Api(crate::error::ApiError::InvalidInput(p))) => p,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn every_roster_problem_is_reported_at_once_with_its_item_and_field() {
        let mut a = want("a");
        a.agent.consistency_id = Some("E1".into());
        a.agent.number_provisioning = vec![messaging("+15550000001")];
        let mut b = want("b");
        b.agent.consistency_id = Some("E1".into());
        b.agent.number_provisioning = vec![messaging("+15550000001")];
        b.shared_inboxes = Some(vec!["555-0100".into()]);
        let found = check_roster(&[a, b]).unwrap_err();
        let named: Vec<(Option<usize>, &str)> =
            found.iter().map(|p| (p.index, p.field.as_str())).collect();
        assert_eq!(
            named,
            [
                (Some(1), "consistency_id"),
                (Some(1), "number_provisioning[0].phone_number"),
                (Some(1), "shared_inboxes[0]"),
            ]
        );
    }

    #[test]
    fn a_field_the_roster_leaves_unset_is_not_managed() {
        let mut have = live("a");
        have.department = Some("Deli".into());
        have.city = Some("Springfield".into());
        let result = plan(&[want("a")], &[have], &[], &PlanOptions::default()).unwrap();
        assert!(result.changes.is_empty());
        assert_eq!(result.summary.unchanged, 1);
    }

    #[test]
    fn roles_are_diffed_as_assign_and_remove() {
        let mut a = want("a");
        a.agent.roles = Some(vec![Role::Manager]);
        let result = plan(&[a], &[live("a")], &[], &PlanOptions::default()).unwrap();
        let update = result.changes[0].update.as_ref().unwrap();
        assert_eq!(
            update.roles,
            Some(RoleChanges {
                assign: vec![Role::Manager],
                remove: vec![Role::Member]
            })
        );
    }

    #[test]
    fn a_number_held_by_someone_the_plan_does_not_free_is_refused_and_one_it_frees_is_taken() {
        let mut a = want("a");
        a.agent.number_provisioning = vec![messaging("+15550000009")];
        let mut holder = live("h");
        holder.phone_number = vec![PhoneNumber {
            number_type: NumberType::Messaging,
            value: "+15550000009".into(),
        }];
        let numbers = [number("+15550000009", Some("h"))];
        // h stays in the roster: its number is not free.
        let found = problems(plan(
            &[a.clone(), want("h")],
            &[holder.clone()],
            &numbers,
            &PlanOptions::default(),
        ));
        assert_eq!(found[0].index, Some(0));
        assert!(
            found[0].message.contains("is assigned to"),
            "{}",
            found[0].message
        );
        // h is offboarded by the same plan: the number is freed first.
        let options = PlanOptions {
            absent: Some(AbsentAgents::Offboard),
            max_removals: Some(1),
            ..PlanOptions::default()
        };
        let result = plan(&[a], &[holder], &numbers, &options).unwrap();
        assert_eq!(result.summary.onboard, 1);
        assert_eq!(result.summary.offboard, 1);
    }

    #[test]
    fn the_numbers_are_needed_only_by_a_plan_that_gives_one_out() {
        let agents = [live("a")];
        let without_numbers = || Live {
            agents: &agents,
            numbers: None,
        };
        let options = PlanOptions::default();
        let unchanged = compute_plan("c", &[want("a")], without_numbers(), &options);
        assert!(unchanged.unwrap().is_some());
        let mut a = want("a");
        a.agent.number_provisioning = vec![messaging("+15550000002")];
        let numbered = compute_plan("c", &[a], without_numbers(), &options);
        assert!(numbered.unwrap().is_none());
    }

    #[test]
    fn moving_an_agent_into_an_inbox_another_agent_shows_needs_no_numbers() {
        let inbox = |n: &str| SharedInboxRef {
            name: Some("Front".into()),
            phone_number: Some(n.into()),
        };
        let mut member = live("m");
        member.shared_inbox = vec![inbox("+15550000050")];
        let agents = [live("a"), member];
        let mut a = want("a");
        a.shared_inboxes = Some(vec!["+15550000050".into()]);
        let live = Live {
            agents: &agents,
            numbers: None,
        };
        let plan = compute_plan("c", &[a, want("m")], live, &PlanOptions::default())
            .unwrap()
            .expect("no numbers needed");
        assert_eq!(
            plan.assignments,
            [PlannedAssignment {
                inbox: "+15550000050".into(),
                operation: Operation::Add,
                agents: vec!["a".into()],
            }]
        );
    }

    #[test]
    fn an_unregistered_number_is_refused_at_plan_time() {
        let mut a = want("a");
        a.agent.number_provisioning = vec![messaging("+15550000002")];
        let found = problems(plan(&[a], &[], &[], &PlanOptions::default()));
        assert_eq!(found[0].field, "number_provisioning[0].phone_number");
        assert!(found[0].message.contains("not registered"));
    }

    #[test]
    fn an_update_taking_a_number_another_update_frees_comes_after_it_and_a_swap_is_refused() {
        let with = |uoid: &str, n: &str| {
            let mut agent = live(uoid);
            agent.phone_number = vec![PhoneNumber {
                number_type: NumberType::Messaging,
                value: n.into(),
            }];
            agent
        };
        let wanting = |uoid: &str, n: &str| {
            let mut d = want(uoid);
            d.agent.number_provisioning = vec![messaging(n)];
            d
        };
        let numbers = [
            number("+15550000001", Some("a")),
            number("+15550000002", Some("b")),
            number("+15550000003", None),
        ];
        let agents = [with("a", "+15550000001"), with("b", "+15550000002")];
        // a takes b's number, b moves to a free one: b's update goes first.
        let result = plan(
            &[wanting("a", "+15550000002"), wanting("b", "+15550000003")],
            &agents,
            &numbers,
            &PlanOptions::default(),
        )
        .unwrap();
        let order: Vec<&str> = result
            .changes
            .iter()
            .map(|c| c.user_object_id.as_str())
            .collect();
        assert_eq!(order, ["b", "a"]);
        // a and b swap: no order works.
        let found = problems(plan(
            &[wanting("a", "+15550000002"), wanting("b", "+15550000001")],
            &agents,
            &numbers,
            &PlanOptions::default(),
        ));
        assert_eq!(found.len(), 2);
        assert!(found[0].message.contains("cycle"));
    }

    #[test]
    fn scope_keeps_other_stores_out_but_follows_an_agent_the_roster_moves_out_of_it() {
        let mut other_store = live("x");
        other_store.store = Some("2".into());
        let mut moving = want("m");
        moving.agent.store = Some("2".into());
        let options = PlanOptions {
            scope: vec![super::super::ScopeMatch {
                field: ScopeField::Store,
                value: "1".into(),
            }],
            ..PlanOptions::default()
        };
        let result = plan(
            &[moving, want("a")],
            &[live("a"), live("m"), other_store],
            &[],
            &options,
        )
        .unwrap();
        assert_eq!(result.summary.out_of_scope, 1, "x is another store's");
        assert_eq!(result.summary.deactivate, 0, "x is not touched");
        assert_eq!(result.changes.len(), 1);
        assert_eq!(result.changes[0].user_object_id, "m");
        assert_eq!(result.changes[0].fields[0].field, "store");
    }

    #[test]
    fn removals_beyond_ten_percent_are_refused_and_protected_agents_are_kept() {
        let agents: Vec<Agent> = (0..30).map(|i| live(&format!("a{i}"))).collect();
        let roster: Vec<DesiredAgent> = (0..26).map(|i| want(&format!("a{i}"))).collect();
        match plan(&roster, &agents, &[], &PlanOptions::default()) {
            Err(SyncError::TooManyRemovals(cap)) => {
                assert_eq!((cap.removals, cap.max_removals, cap.in_scope), (4, 3, 30));
            }
            other => panic!("expected the cap, got {other:?}"),
        }
        let options = PlanOptions {
            protected: vec!["a29".into()],
            ..PlanOptions::default()
        };
        let result = plan(&roster, &agents, &[], &options).unwrap();
        assert_eq!(result.summary.deactivate, 3);
        assert_eq!(result.kept, ["a29"]);
    }

    #[test]
    fn a_re_enabled_agent_gets_active_back_and_the_plan_carries_its_fingerprint() {
        let mut have = live("a");
        have.active = Some(false);
        let mut a = want("a");
        a.active = Some(true);
        let result = plan(&[a], &[have.clone()], &[], &PlanOptions::default()).unwrap();
        assert_eq!(
            result.changes[0].update.as_ref().unwrap().active,
            Some(true)
        );
        assert_eq!(result.changes[0].observed, Some(agent_digest(&have)));
        assert_eq!(result.fingerprint, plan_fingerprint(&result));
    }
}
