//! Computing a plan: pure, from the roster, the live agents and the registered numbers. In
//! phases: the scope (`scope`); each roster agent's memberships, onboarding or update, field by
//! field (`draft`, `diff`); the live agents the roster leaves out and the removal cap; the
//! numbers the plan gives out, and the order of the updates that free them (`numbers`); the
//! plan, assembled.

mod diff;
mod draft;
mod numbers;
mod scope;

use super::{
    DesiredAgent, FieldChange, Plan, PlanOptions, PlannedAssignment, RemovalCap, SyncError,
    plan_fingerprint,
};
use crate::error::Problem;
use crate::model::*;
use crate::validate::{self, MAX_BATCH};
use draft::{Context, Draft};
use numbers::{Holders, in_dependency_order};
use scope::Scope;
use std::collections::{HashMap, HashSet};

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

fn changed(field: impl Into<String>, old: Option<&str>, new: Option<&str>) -> FieldChange {
    FieldChange {
        field: field.into(),
        old: old.map(str::to_string),
        new: new.map(str::to_string),
    }
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
    let scope = Scope::new(desired, &live, &options.scope);
    let cx = Context {
        live: &live,
        scope: &scope,
        inboxes: known_inboxes(&live),
        registered: live
            .numbers
            .unwrap_or_default()
            .iter()
            .map(|n| (n.number.as_str(), n))
            .collect(),
        protected: options.protected.iter().map(String::as_str).collect(),
    };
    let mut draft = Draft::default();
    draft.summary.out_of_scope = (live.agents.len() - scope.live.len()) as u32;
    for (index, want) in desired.iter().enumerate() {
        if scope.includes(want) {
            draft.roster_agent(&cx, index, want);
        }
    }
    if (draft.needs_numbers || !draft.claims.is_empty()) && live.numbers.is_none() {
        return Ok(None);
    }
    draft.absent_agents(&cx, options.absent.unwrap_or_default());
    let (removals, cap) = draft.removals_and_cap(scope.live.len(), options.max_removals);
    let holders = Holders {
        registered: cx.registered,
        by_uoid: &scope.by_uoid,
    };
    let must_follow = holders.check(
        &draft.claims,
        &draft.offboards,
        &draft.updates,
        &mut draft.problems,
    );
    let updates = match in_dependency_order(std::mem::take(&mut draft.updates), &must_follow) {
        Ok(updates) => updates,
        Err(cycle) => {
            draft.problems.extend(cycle.into_iter().map(|index| {
                problem(
                    index,
                    "number_provisioning",
                    "agents of the roster take each other's numbers in a cycle; the API cannot swap numbers: free one first",
                )
            }));
            Vec::new()
        }
    };
    if !draft.problems.is_empty() {
        draft.problems.sort_by_key(|p| p.index);
        return Err(draft.problems.into());
    }
    // The plan records the cap it was made under, which `apply` checks again.
    let options = PlanOptions {
        max_removals: Some(cap),
        ..options.clone()
    };
    let plan = assemble(customer_id, desired, &options, draft, updates);
    match removals > cap {
        // Refused, with the plan: a person may read it and apply it as it is.
        true => Err(SyncError::TooManyRemovals(RemovalCap {
            removals,
            max_removals: cap,
            in_scope: scope.live.len() as u32,
            plan: Box::new(plan),
        })),
        false => Ok(Some(plan)),
    }
}

/// The plan: its changes in the order they are applied, its assignments in requests of ten,
/// its summary and fingerprint.
fn assemble(
    customer_id: &str,
    desired: &[DesiredAgent],
    options: &PlanOptions,
    draft: Draft,
    updates: Vec<super::PlannedChange>,
) -> Plan {
    let mut summary = draft.summary;
    summary.onboard = draft.onboards.len() as u32;
    summary.update = updates.len() as u32;
    summary.deactivate = draft.deactivations.len() as u32;
    summary.offboard = draft.offboards.len() as u32;
    summary.unconvergeable = draft.unconvergeable.len() as u32;
    let assignments = draft
        .memberships
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
        tenants: tenants(desired),
        options: options.clone(),
        changes: draft
            .onboards
            .into_iter()
            .chain(updates)
            .chain(draft.deactivations)
            .chain(draft.offboards)
            .collect(),
        assignments,
        unconvergeable: draft.unconvergeable,
        kept: draft.kept,
        summary,
        fingerprint: String::new(),
    };
    plan.fingerprint = plan_fingerprint(&plan);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{AbsentAgents, ChangeAction, ScopeField, SyncError, agent_digest};

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
                // The refused plan comes with the refusal, whole, for a person to apply.
                let removed: Vec<&str> = cap
                    .plan
                    .changes
                    .iter()
                    .filter(|c| c.action == ChangeAction::Deactivate)
                    .map(|c| c.user_object_id.as_str())
                    .collect();
                assert_eq!(removed, ["a26", "a27", "a28", "a29"]);
                assert_eq!(cap.plan.summary.deactivate, 4);
                assert_eq!(cap.plan.fingerprint, plan_fingerprint(&cap.plan));
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
