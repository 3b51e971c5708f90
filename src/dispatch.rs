//! The order in which a batch's requests may go out when several are in flight: which chunk
//! may start now, which must wait for an earlier one, and when the batch stops.

use crate::model::{IdentifierKind, NewAgent};
use crate::validate::MAX_BATCH as CHUNK;
use std::collections::BTreeSet;

/// Where a batch's chunks stand.
#[derive(Debug)]
pub struct Dispatch {
    started: Vec<bool>,
    finished: Vec<bool>,
    /// For each chunk, the earlier chunks it must wait for.
    waits_for: Vec<BTreeSet<usize>>,
    continue_on_error: bool,
    stopped: bool,
}

impl Dispatch {
    pub fn new(waits_for: Vec<BTreeSet<usize>>, continue_on_error: bool) -> Dispatch {
        let chunks = waits_for.len();
        Dispatch {
            started: vec![false; chunks],
            finished: vec![false; chunks],
            waits_for,
            continue_on_error,
            stopped: false,
        }
    }

    /// The lowest chunk that may start now, marked as started; `None` when none may (all
    /// started, the rest waiting, or the batch stopped).
    pub fn next_ready(&mut self) -> Option<usize> {
        if self.stopped {
            return None;
        }
        let ready = (0..self.started.len()).find(|&chunk| {
            !self.started[chunk] && self.waits_for[chunk].iter().all(|&d| self.finished[d])
        })?;
        self.started[ready] = true;
        Some(ready)
    }

    /// Records a finished chunk. Without `continue-on-error`, a chunk with an item not done
    /// stops the batch: the chunks in flight finish, no other starts.
    pub fn finish(&mut self, chunk: usize, all_done: bool) {
        self.finished[chunk] = true;
        if !self.continue_on_error && !all_done {
            self.stopped = true;
        }
    }
}

/// For a batch of `items` whose chunks depend on nothing but their own items.
pub fn independent(items: usize) -> Vec<BTreeSet<usize>> {
    vec![BTreeSet::new(); items.div_ceil(CHUNK)]
}

/// For onboarding: each chunk waits for the earlier chunks that onboard one of its
/// supervisors.
pub fn supervisors_first(agents: &[NewAgent]) -> Vec<BTreeSet<usize>> {
    let chunk_naming = |identifier: IdentifierKind, value: &str| {
        agents
            .iter()
            .position(|agent| names(agent, identifier, value))
            .map(|i| i / CHUNK)
    };
    agents
        .chunks(CHUNK)
        .enumerate()
        .map(|(chunk, members)| {
            members
                .iter()
                .flat_map(|agent| &agent.number_provisioning)
                .filter_map(|number| number.supervisors.as_ref())
                .flat_map(|selector| {
                    selector
                        .values
                        .iter()
                        .filter_map(|value| chunk_naming(selector.identifier, value))
                })
                .filter(|&other| other < chunk)
                .collect()
        })
        .collect()
}

fn names(agent: &NewAgent, identifier: IdentifierKind, value: &str) -> bool {
    let field = match identifier {
        IdentifierKind::UserObjectId => Some(&agent.user_object_id),
        IdentifierKind::Upn => agent.upn.as_ref(),
        IdentifierKind::ConsistencyId => agent.consistency_id.as_ref(),
        IdentifierKind::TenantId | IdentifierKind::PhoneNumber => None,
    };
    field.is_some_and(|f| f == value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NumberProvisioning, NumberType, Selector};

    fn agent(id: &str, supervisors: &[&str]) -> NewAgent {
        let mut agent = NewAgent {
            user_object_id: id.into(),
            tenant_id: "t".into(),
            name: id.into(),
            ..Default::default()
        };
        if !supervisors.is_empty() {
            agent.number_provisioning = vec![NumberProvisioning {
                number_type: NumberType::Supervised,
                phone_number: "+15550100000".into(),
                supervisors: Some(Selector {
                    identifier: IdentifierKind::UserObjectId,
                    values: supervisors.iter().map(|s| s.to_string()).collect(),
                }),
            }];
        }
        agent
    }

    #[test]
    fn a_chunk_waits_only_for_earlier_chunks_that_onboard_its_supervisors() {
        let mut agents: Vec<_> = (0..30).map(|i| agent(&format!("a{i}"), &[])).collect();
        agents[25] = agent("a25", &["a3", "a12", "a27", "nobody"]);
        let waits = supervisors_first(&agents);
        assert_eq!(waits.len(), 3);
        assert!(waits[0].is_empty() && waits[1].is_empty());
        // a3 is in chunk 0, a12 in chunk 1; a27 is in its own chunk, nobody in none.
        assert_eq!(waits[2], BTreeSet::from([0, 1]));
    }

    #[test]
    fn chunks_start_in_order_once_what_they_wait_for_has_finished() {
        let mut dispatch = Dispatch::new(
            vec![BTreeSet::new(), BTreeSet::new(), BTreeSet::from([0])],
            true,
        );
        assert_eq!(dispatch.next_ready(), Some(0));
        assert_eq!(dispatch.next_ready(), Some(1));
        assert_eq!(dispatch.next_ready(), None, "chunk 2 waits for chunk 0");
        dispatch.finish(1, true);
        assert_eq!(dispatch.next_ready(), None);
        dispatch.finish(0, true);
        assert_eq!(dispatch.next_ready(), Some(2));
        assert_eq!(dispatch.next_ready(), None, "all started");
    }

    #[test]
    fn without_continue_on_error_a_chunk_not_done_stops_the_rest() {
        let mut dispatch = Dispatch::new(independent(40), false);
        assert_eq!(dispatch.next_ready(), Some(0));
        assert_eq!(dispatch.next_ready(), Some(1));
        dispatch.finish(1, false);
        assert_eq!(dispatch.next_ready(), None, "the batch has ended");
        dispatch.finish(0, true);
        assert_eq!(dispatch.next_ready(), None);
    }

    #[test]
    fn with_continue_on_error_every_chunk_starts() {
        let mut dispatch = Dispatch::new(independent(21), true);
        assert_eq!(dispatch.next_ready(), Some(0));
        dispatch.finish(0, false);
        assert_eq!(dispatch.next_ready(), Some(1));
        assert_eq!(dispatch.next_ready(), Some(2));
    }
}
