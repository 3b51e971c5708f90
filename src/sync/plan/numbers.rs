//! The numbers a plan gives out: each must be registered, and free or freed by the same plan
//! (the messaging number of an agent it offboards, or the old number of an agent it moves); an
//! update that takes a number another update frees goes after it.

use super::problem;
use crate::error::Problem;
use crate::model::{Agent, AgentChanges, NumberInfo, NumberStatus, NumberType};
use crate::sync::PlannedChange;
use std::collections::{HashMap, HashSet};

/// A number the plan gives an agent.
pub(super) struct Claim {
    pub index: usize,
    pub field: String,
    pub number: String,
    pub user_object_id: String,
}

/// What the numbers' check reads: the registered numbers and the live agents.
pub(super) struct Holders<'a> {
    pub registered: HashMap<&'a str, &'a NumberInfo>,
    pub by_uoid: &'a HashMap<&'a str, &'a Agent>,
}

impl Holders<'_> {
    /// Checks every claim; returns, per agent, the agents whose updates must go first.
    pub fn check(
        &self,
        claims: &[Claim],
        offboards: &[PlannedChange],
        updates: &[(usize, PlannedChange)],
        problems: &mut Vec<Problem>,
    ) -> HashMap<String, Vec<String>> {
        let offboarded: HashSet<&str> = offboards
            .iter()
            .map(|c| c.user_object_id.as_str())
            .collect();
        let moving: HashMap<&str, &AgentChanges> = updates
            .iter()
            .filter_map(|(_, c)| c.update.as_ref().map(|u| (c.user_object_id.as_str(), u)))
            .collect();
        let mut must_follow: HashMap<String, Vec<String>> = HashMap::new();
        for claim in claims {
            match self.holder(claim) {
                Err(message) => problems.push(problem(claim.index, &claim.field, message)),
                Ok(None) => {}
                Ok(Some((holder_id, holder_name))) => {
                    let held_as = self.by_uoid.get(holder_id).and_then(|a| {
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
                                "{} is assigned to {holder_name} ({holder_id}), whom this plan does not free it from",
                                claim.number
                            ),
                        ));
                    }
                }
            }
        }
        must_follow
    }

    /// The other agent holding the claimed number (its id and name), `None` when it is free
    /// or the claimant's own; an error when it is unregistered or held by no agent.
    fn holder<'c>(&'c self, claim: &Claim) -> Result<Option<(&'c str, &'c str)>, String> {
        let Some(info) = self.registered.get(claim.number.as_str()) else {
            return Err(format!("{} is not registered to the account", claim.number));
        };
        let Some(holder) = info.assigned_to.as_ref() else {
            return match info.status == Some(NumberStatus::Assigned) {
                true => Err(format!(
                    "{} is assigned, and the API does not say to whom",
                    claim.number
                )),
                false => Ok(None),
            };
        };
        let Some(holder_id) = holder.user_object_id.as_deref() else {
            let name = holder.name.as_deref().unwrap_or("an inbox");
            return Err(format!("{} is assigned to {name}", claim.number));
        };
        if holder_id == claim.user_object_id {
            return Ok(None);
        }
        Ok(Some((
            holder_id,
            holder.name.as_deref().unwrap_or("another agent"),
        )))
    }
}

/// Orders updates so that one taking a number comes after the update that frees it; the
/// roster indices of a cycle when there is one.
pub(super) fn in_dependency_order(
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
