//! Planning against the API and applying a plan, on the client.

use super::plan::{check_roster, tenants};
use super::{
    ApplyOptions, ChangeAction, DesiredAgent, Live, Plan, PlanOptions, PlannedAssignment,
    RemovalCap, StaleAgent, SyncError, agent_digest, compute_plan, plan_fingerprint,
};
use crate::batch::Outcome;
use crate::client::Client;
use crate::converge::{self, Note};
use crate::error::{ApiError, Problem};
use crate::model::*;
use crate::transport::Transport;
use futures_util::future::join_all;
use std::collections::{HashMap, HashSet};

/// What became of one planned change.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeResult {
    pub action: ChangeAction,
    pub user_object_id: String,
    pub outcome: Outcome<Note>,
}

/// What became of one planned assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentResult {
    pub assignment: PlannedAssignment,
    pub outcome: Outcome<Note>,
}

/// Every change's and assignment's outcome, at its index in the plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApplyReport {
    pub changes: Vec<ChangeResult>,
    pub assignments: Vec<AssignmentResult>,
}

impl ApplyReport {
    pub fn outcomes(&self) -> impl Iterator<Item = &Outcome<Note>> {
        self.changes
            .iter()
            .map(|c| &c.outcome)
            .chain(self.assignments.iter().map(|a| &a.outcome))
    }
}

/// Where the change at an index stands before anything is sent.
enum Standing {
    Pending,
    Done(&'static str),
}

fn already(note: &str) -> Outcome<Note> {
    Outcome::Succeeded(Some(note.to_string()))
}

/// The order in which a plan's pending changes are sent: each step's requests go together,
/// the steps one after another.
struct ApplyOrder {
    /// Offboards that free a number the plan gives to another agent.
    first_offboards: Vec<usize>,
    /// Onboards and updates in waves: one taking a number that an update frees goes in a
    /// later wave than that update, rather than trusting the API's order within a request.
    waves: Vec<Wave>,
    deactivations: Vec<usize>,
    last_offboards: Vec<usize>,
}

#[derive(Default)]
struct Wave {
    updates: Vec<usize>,
    onboards: Vec<usize>,
}

impl ApplyOrder {
    fn new(
        plan: &Plan,
        by_uoid: &HashMap<&str, &Agent>,
        outcomes: &[Option<Outcome<Note>>],
    ) -> ApplyOrder {
        let pending = |action: ChangeAction| -> Vec<usize> {
            plan.changes
                .iter()
                .enumerate()
                .filter(|(i, c)| c.action == action && outcomes[*i].is_none())
                .map(|(i, _)| i)
                .collect()
        };
        let claims = |i: usize| -> Vec<&str> {
            let c = &plan.changes[i];
            let onboarded = c.onboard.iter().flat_map(|n| {
                n.number_provisioning
                    .iter()
                    .map(|p| p.phone_number.as_str())
            });
            let updated = c
                .update
                .iter()
                .flat_map(|u| u.phone_number.iter().flatten().map(|p| p.value.as_str()));
            onboarded.chain(updated).collect()
        };
        let claimed: HashSet<&str> = (0..plan.changes.len()).flat_map(claims).collect();
        // Who holds each number now: a change that takes one waits for the change freeing it.
        let holders: HashMap<&str, &str> = by_uoid
            .iter()
            .flat_map(|(id, a)| a.phone_number.iter().map(move |p| (p.value.as_str(), *id)))
            .collect();
        let waits_on = |i: usize| -> Vec<&str> {
            let own = plan.changes[i].user_object_id.as_str();
            claims(i)
                .into_iter()
                .filter_map(|n| holders.get(n).copied())
                .filter(|holder| *holder != own)
                .collect()
        };
        let frees_a_claimed_number = |i: &usize| {
            by_uoid
                .get(plan.changes[*i].user_object_id.as_str())
                .is_some_and(|a| {
                    a.phone_number
                        .iter()
                        .any(|p| claimed.contains(p.value.as_str()))
                })
        };
        let (first_offboards, last_offboards) = pending(ChangeAction::Offboard)
            .into_iter()
            .partition(frees_a_claimed_number);
        let mut waiting: Vec<usize> = pending(ChangeAction::Onboard)
            .into_iter()
            .chain(pending(ChangeAction::Update))
            .collect();
        let mut moving: HashSet<&str> = waiting
            .iter()
            .filter(|&&i| plan.changes[i].action == ChangeAction::Update)
            .map(|&i| plan.changes[i].user_object_id.as_str())
            .collect();
        let mut waves = Vec::new();
        while !waiting.is_empty() {
            let (mut ready, rest): (Vec<usize>, Vec<usize>) = waiting
                .iter()
                .partition(|&&i| waits_on(i).iter().all(|h| !moving.contains(h)));
            if ready.is_empty() {
                // The plan refuses cycles; should the live state have made one, send them.
                ready = rest.clone();
            }
            let mut wave = Wave::default();
            for &i in &ready {
                match plan.changes[i].action {
                    ChangeAction::Onboard => wave.onboards.push(i),
                    _ => {
                        moving.remove(plan.changes[i].user_object_id.as_str());
                        wave.updates.push(i);
                    }
                }
            }
            waves.push(wave);
            waiting.retain(|i| !ready.contains(i));
        }
        ApplyOrder {
            first_offboards,
            waves,
            deactivations: pending(ChangeAction::Deactivate),
            last_offboards,
        }
    }
}

/// The outcomes of an apply so far, and whether it stopped.
struct Applying {
    outcomes: Vec<Option<Outcome<Note>>>,
    continue_on_error: bool,
    stopped: bool,
}

impl<T: Transport> Client<T> {
    /// Every agent of `tenants`, one list request each, under one size limit together.
    async fn live_agents(&self, tenants: &[String]) -> Result<Vec<Agent>, ApiError> {
        let filters: Vec<AgentFilter> = tenants
            .iter()
            .map(|tenant| AgentFilter::matching(IdentifierKind::TenantId, tenant))
            .collect();
        self.lists_within_limit(&filters).await
    }

    /// Plans a sync of `desired`: checks it, reads each tenant's agents and the numbers once.
    pub async fn sync_plan(
        &self,
        desired: &[DesiredAgent],
        options: &PlanOptions,
    ) -> Result<Plan, SyncError> {
        let _call = self.begin_call();
        self.settings()?;
        check_roster(desired)?;
        let protected_problems: Vec<Problem> = options
            .protected
            .iter()
            .enumerate()
            .filter(|(_, id)| id.trim().is_empty())
            .map(|(i, _)| Problem {
                index: None,
                field: format!("protected[{i}]"),
                message: "must not be empty".into(),
            })
            .collect();
        if !protected_problems.is_empty() {
            return Err(protected_problems.into());
        }
        let agents = self.live_agents(&tenants(desired)).await?;
        let customer_id = self.customer_id().to_string();
        let without_numbers = Live {
            agents: &agents,
            numbers: None,
        };
        if let Some(plan) = compute_plan(&customer_id, desired, without_numbers, options)? {
            return Ok(plan);
        }
        let numbers = self.list_numbers(None, None).await?;
        let live = Live {
            agents: &agents,
            numbers: Some(&numbers),
        };
        Ok(compute_plan(&customer_id, desired, live, options)?
            .expect("a plan given the numbers needs nothing more"))
    }

    /// Applies exactly `plan`, or refuses it when the live state moved away from it. The
    /// requests of one step go out together, up to the concurrency; the steps keep their
    /// order.
    pub async fn sync_apply(
        &self,
        plan: &Plan,
        options: ApplyOptions,
    ) -> Result<ApplyReport, SyncError> {
        let _call = self.begin_call();
        self.settings()?;
        if plan_fingerprint(plan) != plan.fingerprint {
            return Err(vec![Problem {
                index: None,
                field: "fingerprint".into(),
                message: "the plan's content does not match its fingerprint: it was edited or is damaged; plan again".into(),
            }]
            .into());
        }
        if plan.customer_id != self.customer_id() {
            return Err(vec![Problem {
                index: None,
                field: "customer_id".into(),
                message: format!(
                    "the plan is for customer {}, this client for {}",
                    plan.customer_id,
                    self.customer_id()
                ),
            }]
            .into());
        }
        check_guards(plan, options.approved_removals)?;
        if plan.changes.is_empty() && plan.assignments.is_empty() {
            return Ok(ApplyReport::default());
        }
        let live = self.live_agents(&plan.tenants).await?;
        let by_uoid: HashMap<&str, &Agent> = live
            .iter()
            .filter_map(|a| a.user_object_id.as_deref().map(|id| (id, a)))
            .collect();
        let outcomes = self.standings(plan, &by_uoid).await?;
        let order = ApplyOrder::new(plan, &by_uoid, &outcomes);
        let mut applying = Applying {
            outcomes,
            continue_on_error: options.continue_on_error.unwrap_or(true),
            stopped: false,
        };
        self.apply_step(
            plan,
            &mut applying,
            vec![(Phase::Offboard, order.first_offboards)],
        )
        .await;
        for wave in order.waves {
            let step = vec![
                (Phase::Update, wave.updates),
                (Phase::Onboard, wave.onboards),
            ];
            self.apply_step(plan, &mut applying, step).await;
        }
        // Memberships after the onboards and updates they may depend on, before removals.
        let stopped = applying.stopped || (!plan.assignments.is_empty() && self.out_of_time());
        let assignment_results = self
            .apply_assignments(plan, &by_uoid, &applying.outcomes, stopped)
            .await;
        applying.stopped |= !applying.continue_on_error
            && assignment_results.iter().any(|a| !a.outcome.is_success());
        self.apply_step(
            plan,
            &mut applying,
            vec![(Phase::Update, order.deactivations)],
        )
        .await;
        self.apply_step(
            plan,
            &mut applying,
            vec![(Phase::Offboard, order.last_offboards)],
        )
        .await;
        Ok(ApplyReport {
            changes: plan
                .changes
                .iter()
                .zip(applying.outcomes)
                .map(|(c, o)| ChangeResult {
                    action: c.action,
                    user_object_id: c.user_object_id.clone(),
                    outcome: o.unwrap_or(Outcome::NotAttempted),
                })
                .collect(),
            assignments: assignment_results,
        })
    }

    /// One step of an apply: its bulk calls together, or none once the apply has stopped.
    async fn apply_step(
        &self,
        plan: &Plan,
        applying: &mut Applying,
        step: Vec<(Phase, Vec<usize>)>,
    ) {
        let step: Vec<(Phase, Vec<usize>)> = step
            .into_iter()
            .filter(|(_, indices)| !indices.is_empty())
            .collect();
        let results: Vec<Vec<Outcome<Note>>> =
            if applying.stopped || (!step.is_empty() && self.out_of_time()) {
                step.iter()
                    .map(|(_, indices)| indices.iter().map(|_| Outcome::NotAttempted).collect())
                    .collect()
            } else {
                let continue_on_error = applying.continue_on_error;
                join_all(step.iter().map(|(phase, indices)| {
                    self.apply_phase(plan, *phase, indices, continue_on_error)
                }))
                .await
            };
        for ((_, indices), results) in step.into_iter().zip(results) {
            applying.stopped |=
                !applying.continue_on_error && results.iter().any(|o| !o.is_success());
            for (i, outcome) in indices.into_iter().zip(results) {
                applying.outcomes[i] = Some(outcome);
            }
        }
    }

    /// Where each change stands against the live state: `None` to do, `Some` already done (a
    /// repeat of a plan partly applied); or the whole plan stale, nothing sent.
    async fn standings(
        &self,
        plan: &Plan,
        by_uoid: &HashMap<&str, &Agent>,
    ) -> Result<Vec<Option<Outcome<Note>>>, SyncError> {
        // An agent to offboard that its tenant no longer lists may have moved to another.
        let unlisted: Vec<&str> = plan
            .changes
            .iter()
            .filter(|c| {
                c.action == ChangeAction::Offboard
                    && !by_uoid.contains_key(c.user_object_id.as_str())
            })
            .map(|c| c.user_object_id.as_str())
            .collect();
        let reads = join_all(
            unlisted
                .iter()
                .map(|id| self.find_agents(IdentifierKind::UserObjectId, id)),
        )
        .await;
        let mut elsewhere: HashMap<&str, String> = HashMap::new();
        for (id, read) in unlisted.into_iter().zip(reads) {
            if let Some(found) = read?.first() {
                elsewhere.insert(id, found.tenant_id.clone().unwrap_or_default());
            }
        }
        let mut stale = Vec::new();
        let mut standings = Vec::with_capacity(plan.changes.len());
        for change in &plan.changes {
            let have = by_uoid.get(change.user_object_id.as_str()).copied();
            let mut refuse = |reason: &str| {
                stale.push(StaleAgent {
                    user_object_id: change.user_object_id.clone(),
                    reason: reason.to_string(),
                });
                Standing::Pending
            };
            let standing = match (change.action, have) {
                (ChangeAction::Onboard, None) => Standing::Pending,
                (ChangeAction::Onboard, Some(have)) => match &change.onboard {
                    Some(new) if converge::onboarded_differences(have, new).is_empty() => {
                        Standing::Done("already onboarded with these values")
                    }
                    _ => refuse("onboarded with other values since the plan was made"),
                },
                (ChangeAction::Offboard, None) => {
                    match elsewhere.get(change.user_object_id.as_str()) {
                        Some(tenant) => {
                            refuse(&format!("moved to tenant {tenant} since the plan was made"))
                        }
                        None => Standing::Done("already offboarded"),
                    }
                }
                (_, None) => refuse("no longer exists"),
                (_, Some(have)) => {
                    let shows_change = change
                        .update
                        .as_ref()
                        .is_some_and(|u| converge::change_differences(have, u).is_empty());
                    if shows_change {
                        Standing::Done("already shows these values")
                    } else if change.observed.as_deref() == Some(agent_digest(have).as_str()) {
                        Standing::Pending
                    } else {
                        refuse("changed since the plan was made")
                    }
                }
            };
            standings.push(standing);
        }
        if !stale.is_empty() {
            return Err(SyncError::Stale(stale));
        }
        Ok(standings
            .into_iter()
            .map(|s| match s {
                Standing::Done(note) => Some(already(note)),
                Standing::Pending => None,
            })
            .collect())
    }

    /// One bulk call for the changes at `indices`; a whole-call failure is each item's.
    async fn apply_phase(
        &self,
        plan: &Plan,
        phase: Phase,
        indices: &[usize],
        continue_on_error: bool,
    ) -> Vec<Outcome<Note>> {
        let changes = indices.iter().map(|&i| &plan.changes[i]);
        let continue_on_error = Some(continue_on_error);
        let result = match phase {
            Phase::Onboard => {
                let agents: Vec<NewAgent> = changes.filter_map(|c| c.onboard.clone()).collect();
                let options = OnboardOptions {
                    continue_on_error,
                    reassign_inbox: None,
                };
                self.onboard_agents(&agents, options).await
            }
            Phase::Update => {
                let updates: Vec<AgentUpdate> = changes
                    .map(|c| AgentUpdate {
                        target: AgentRef {
                            identifier: IdentifierKind::UserObjectId,
                            value: c.user_object_id.clone(),
                        },
                        updates: c.update.clone().unwrap_or_default(),
                    })
                    .collect();
                self.update_agents(&updates, continue_on_error)
                    .await
                    .map(|list| {
                        list.into_iter()
                            .map(|o| match o {
                                Outcome::Succeeded(_) => Outcome::Succeeded(None),
                                Outcome::Rejected(m) => Outcome::Rejected(m),
                                Outcome::Failed(e) => Outcome::Failed(e),
                                Outcome::NotAttempted => Outcome::NotAttempted,
                            })
                            .collect()
                    })
            }
            Phase::Offboard => {
                let items: Vec<OffboardItem> = changes
                    .map(|c| OffboardItem {
                        identifier: IdentifierKind::UserObjectId,
                        value: vec![c.user_object_id.clone()],
                    })
                    .collect();
                let options = OffboardOptions {
                    continue_on_error,
                    deprovision_supervised_inbox: None,
                };
                self.offboard_agents(&items, options).await
            }
        };
        match result {
            Ok(list) if list.len() == indices.len() => list,
            Ok(_) => unreachable!("a batch has an outcome per item"),
            Err(e) => indices.iter().map(|_| Outcome::Failed(e.clone())).collect(),
        }
    }

    /// The plan's assignments, without the agents whose membership already is as planned or
    /// whose onboarding did not succeed.
    async fn apply_assignments(
        &self,
        plan: &Plan,
        live: &HashMap<&str, &Agent>,
        outcomes: &[Option<Outcome<Note>>],
        stopped: bool,
    ) -> Vec<AssignmentResult> {
        let onboard_failed: HashSet<&str> = plan
            .changes
            .iter()
            .zip(outcomes)
            .filter(|(c, o)| {
                c.action == ChangeAction::Onboard && !o.as_ref().is_some_and(|o| o.is_success())
            })
            .map(|(c, _)| c.user_object_id.as_str())
            .collect();
        let mut results: Vec<Option<Outcome<Note>>> = vec![None; plan.assignments.len()];
        let mut sending: Vec<(usize, Assignment)> = Vec::new();
        let mut dropped: HashMap<usize, Vec<&str>> = HashMap::new();
        for (i, planned) in plan.assignments.iter().enumerate() {
            let member = |id: &str| {
                live.get(id).is_some_and(|a| {
                    a.shared_inbox
                        .iter()
                        .any(|s| s.phone_number.as_deref() == Some(planned.inbox.as_str()))
                })
            };
            let not_onboarded: Vec<&str> = planned
                .agents
                .iter()
                .map(String::as_str)
                .filter(|id| onboard_failed.contains(id))
                .collect();
            let agents: Vec<String> = planned
                .agents
                .iter()
                .filter(|id| match planned.operation {
                    Operation::Add => !member(id) && !onboard_failed.contains(id.as_str()),
                    Operation::Remove => member(id),
                })
                .cloned()
                .collect();
            if !not_onboarded.is_empty() {
                dropped.insert(i, not_onboarded);
            }
            if dropped.contains_key(&i) && agents.is_empty() {
                results[i] = Some(Outcome::NotAttempted);
            } else if agents.is_empty() {
                results[i] = Some(already(match planned.operation {
                    Operation::Add => "already assigned",
                    Operation::Remove => "already removed",
                }));
            } else if stopped {
                results[i] = Some(Outcome::NotAttempted);
            } else {
                sending.push((
                    i,
                    Assignment {
                        inbox: InboxRef {
                            inbox_type: InboxType::Shared,
                            identifier: IdentifierKind::PhoneNumber,
                            value: planned.inbox.clone(),
                        },
                        agents: Selector {
                            identifier: IdentifierKind::UserObjectId,
                            values: agents,
                        },
                        operation: planned.operation,
                    },
                ));
            }
        }
        if !sending.is_empty() {
            let items: Vec<Assignment> = sending.iter().map(|(_, a)| a.clone()).collect();
            let list = match self.assign_inboxes(&items).await {
                Ok(list) => list,
                Err(e) => items.iter().map(|_| Outcome::Failed(e.clone())).collect(),
            };
            for ((i, _), outcome) in sending.into_iter().zip(list) {
                // Done for the agents sent, but not for those whose onboarding failed.
                let outcome = match (outcome, dropped.get(&i)) {
                    (Outcome::Succeeded(_), Some(left_out)) => Outcome::Rejected(vec![format!(
                        "applied for the other agents, not sent for {}: their onboarding did not succeed",
                        left_out.join(", ")
                    )]),
                    (outcome, _) => outcome,
                };
                results[i] = Some(outcome);
            }
        }
        plan.assignments
            .iter()
            .zip(results)
            .map(|(a, o)| AssignmentResult {
                assignment: a.clone(),
                outcome: o.unwrap_or(Outcome::NotAttempted),
            })
            .collect()
    }
}

/// The guards of a plan, checked again on the plan as it is read: the fingerprint only
/// catches accidental edits (anyone can compute it), so a plan whose removals exceed the cap
/// it records, or that removes an agent it protects, is refused here too, nothing sent. A
/// plan over its cap passes when `approved_removals` is exactly its number of removals.
fn check_guards(plan: &Plan, approved_removals: Option<u32>) -> Result<(), SyncError> {
    // What a change does, whatever it is called: an update that sets `active: false` removes.
    let removing = |c: &&super::PlannedChange| {
        matches!(c.action, ChangeAction::Deactivate | ChangeAction::Offboard)
            || c.update.as_ref().is_some_and(|u| u.active == Some(false))
    };
    let protected: Vec<Problem> = plan
        .changes
        .iter()
        .enumerate()
        .filter(|(_, c)| removing(c) && plan.options.protected.contains(&c.user_object_id))
        .map(|(i, c)| Problem {
            index: Some(i),
            field: "changes".into(),
            message: format!(
                "removes {} ({}), whom the plan's options protect",
                c.user_object_id,
                c.action.as_str()
            ),
        })
        .collect();
    if !protected.is_empty() {
        return Err(protected.into());
    }
    let removals = plan.changes.iter().filter(removing).count() as u32;
    let Some(cap) = plan.options.max_removals else {
        return Err(vec![Problem {
            index: None,
            field: "options.max_removals".into(),
            message: "the plan records no removal cap (an older plan's format): plan again".into(),
        }]
        .into());
    };
    match approved_removals {
        Some(approved) if approved != removals => Err(vec![Problem {
            index: None,
            field: "approved_removals".into(),
            message: format!("{approved} approved, but the plan removes {removals} agents"),
        }]
        .into()),
        None if removals > cap => Err(SyncError::TooManyRemovals(RemovalCap {
            removals,
            max_removals: cap,
            in_scope: plan.summary.unchanged
                + plan.summary.update
                + plan.summary.protected
                + removals,
            plan: Box::new(plan.clone()),
        })),
        _ => Ok(()),
    }
}

#[derive(Clone, Copy)]
enum Phase {
    Onboard,
    Update,
    Offboard,
}
