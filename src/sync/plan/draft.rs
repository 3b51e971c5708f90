//! A plan being drawn: the changes, memberships, number claims and problems found so far, one
//! roster agent at a time, then the live agents the roster leaves out.

use super::diff::{diff, is_active, onboard_fields};
use super::numbers::Claim;
use super::scope::Scope;
use super::{Live, changed, problem};
use crate::error::Problem;
use crate::model::*;
use crate::sync::{
    AbsentAgents, ChangeAction, DesiredAgent, PlanSummary, PlannedChange, Unconvergeable,
    agent_digest,
};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Default)]
pub(super) struct Draft {
    pub summary: PlanSummary,
    pub problems: Vec<Problem>,
    pub onboards: Vec<PlannedChange>,
    /// With the roster index of each, to order them and to name them in a problem.
    pub updates: Vec<(usize, PlannedChange)>,
    pub deactivations: Vec<PlannedChange>,
    pub offboards: Vec<PlannedChange>,
    pub unconvergeable: Vec<Unconvergeable>,
    pub kept: Vec<String>,
    pub memberships: BTreeMap<(String, Operation), Vec<String>>,
    pub claims: Vec<Claim>,
    /// The plan joins an inbox no agent shows: whether it exists is read from the numbers.
    pub needs_numbers: bool,
}

/// What every roster agent is planned against.
pub(super) struct Context<'a> {
    pub live: &'a Live<'a>,
    pub scope: &'a Scope<'a>,
    /// The shared inboxes the live state shows.
    pub inboxes: HashSet<String>,
    pub registered: HashMap<&'a str, &'a NumberInfo>,
    pub protected: HashSet<&'a str>,
}

impl Draft {
    /// Plans one roster agent: its memberships, then its onboarding or update.
    pub fn roster_agent(&mut self, cx: &Context, index: usize, want: &DesiredAgent) {
        let have = cx
            .scope
            .by_uoid
            .get(want.agent.user_object_id.as_str())
            .copied();
        let membership_changes = self.memberships_of(cx, index, want, have);
        self.summary.assignments += membership_changes;
        match have {
            // Disabled in the roster and not onboarded: already as it should be.
            None if want.active == Some(false) => self.summary.unchanged += 1,
            None => self.onboard(index, want),
            Some(have) => self.update(cx, index, want, have, membership_changes),
        }
    }

    /// The shared inboxes `want` joins and leaves; how many membership changes that is.
    fn memberships_of(
        &mut self,
        cx: &Context,
        index: usize,
        want: &DesiredAgent,
        have: Option<&Agent>,
    ) -> u32 {
        // A disabled roster row that is not live is not onboarded, so it joins nothing.
        let joins = have.is_some() || want.active != Some(false);
        let Some(wanted) = want.shared_inboxes.as_ref().filter(|_| joins) else {
            return 0;
        };
        let uoid = &want.agent.user_object_id;
        let live_inboxes: HashSet<&str> = have
            .map(|a| {
                a.shared_inbox
                    .iter()
                    .filter_map(|i| i.phone_number.as_deref())
                    .collect()
            })
            .unwrap_or_default();
        let mut changes = 0;
        for (n, inbox) in wanted.iter().enumerate() {
            if live_inboxes.contains(inbox.as_str()) {
                continue;
            }
            if cx.inboxes.contains(inbox) {
                self.member(inbox, Operation::Add, uoid);
                changes += 1;
            } else if cx.live.numbers.is_none() {
                self.needs_numbers = true;
            } else if !cx.registered.contains_key(inbox.as_str()) {
                self.problems.push(problem(
                    index,
                    format!("shared_inboxes[{n}]"),
                    format!("{inbox} is not registered to the account"),
                ));
            } else {
                self.unconvergeable.push(Unconvergeable {
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
            self.member(inbox, Operation::Remove, uoid);
            changes += 1;
        }
        changes
    }

    fn member(&mut self, inbox: &str, operation: Operation, uoid: &str) {
        self.memberships
            .entry((inbox.to_string(), operation))
            .or_default()
            .push(uoid.to_string());
    }

    fn onboard(&mut self, index: usize, want: &DesiredAgent) {
        let uoid = &want.agent.user_object_id;
        for (n, p) in want.agent.number_provisioning.iter().enumerate() {
            self.claims.push(Claim {
                index,
                field: format!("number_provisioning[{n}].phone_number"),
                number: p.phone_number.clone(),
                user_object_id: uoid.clone(),
            });
        }
        self.onboards.push(PlannedChange {
            action: ChangeAction::Onboard,
            user_object_id: uoid.clone(),
            tenant_id: want.agent.tenant_id.clone(),
            name: want.agent.name.clone(),
            onboard: Some(want.agent.clone()),
            update: None,
            fields: onboard_fields(&want.agent),
            observed: None,
        });
    }

    fn update(
        &mut self,
        cx: &Context,
        index: usize,
        want: &DesiredAgent,
        have: &Agent,
        membership_changes: u32,
    ) {
        let uoid = &want.agent.user_object_id;
        let mut d = diff(want, have);
        self.unconvergeable.append(&mut d.unconvergeable);
        for (n, p) in d.changes.phone_number.iter().flatten().enumerate() {
            let position = want
                .agent
                .number_provisioning
                .iter()
                .position(|w| w.phone_number == p.value)
                .unwrap_or(n);
            self.claims.push(Claim {
                index,
                field: format!("number_provisioning[{position}].phone_number"),
                number: p.value.clone(),
                user_object_id: uoid.clone(),
            });
        }
        let deactivate = want.active == Some(false) && is_active(have);
        let kept_active = deactivate && cx.protected.contains(uoid.as_str());
        let action = if kept_active {
            self.kept.push(uoid.clone());
            self.summary.protected += 1;
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
                self.summary.unchanged += 1;
            }
            return;
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
            ChangeAction::Deactivate => self.deactivations.push(change),
            _ => self.updates.push((index, change)),
        }
    }

    /// The live agents in scope that the roster leaves out: deactivated or offboarded, unless
    /// protected (or already inactive, for a deactivation).
    pub fn absent_agents(&mut self, cx: &Context, absent: AbsentAgents) {
        for have in &cx.scope.live {
            let Some(uoid) = have.user_object_id.as_deref() else {
                continue;
            };
            if cx.scope.roster.contains_key(uoid) {
                continue;
            }
            if absent == AbsentAgents::Deactivate && !is_active(have) {
                self.summary.unchanged += 1;
                continue;
            }
            if cx.protected.contains(uoid) {
                self.kept.push(uoid.to_string());
                self.summary.protected += 1;
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
                ChangeAction::Offboard => self.offboards.push(change),
                _ => self.deactivations.push(change),
            }
        }
    }

    /// The plan's removals, and its cap: `max_removals`, by default 10% of the agents in
    /// scope, rounded up. A plan over its cap is refused, with its content, once it is made.
    pub fn removals_and_cap(&self, in_scope: usize, max_removals: Option<u32>) -> (u32, u32) {
        let removals = (self.deactivations.len() + self.offboards.len()) as u32;
        (
            removals,
            max_removals.unwrap_or((in_scope as u32).div_ceil(10)),
        )
    }
}
