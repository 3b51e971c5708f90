//! Bulk operations with several requests in flight: a session splits a batch into the
//! requests the component would send one after another (ten items each) and runs them on up
//! to `concurrency` instances at once. Each instance runs its chunk with the component's own
//! semantics; the instances share the pooled connections, one token, and the limit that backs
//! off when the API throttles.

use crate::types;
use smartcomm::batch::ends_batch;
use smartcomm::error::Problem;
use smartcomm::validate::MAX_BATCH as CHUNK;
use std::collections::BTreeSet;

/// What the batch runner needs to know of an outcome type.
pub trait Outcome: Sized + Send + 'static {
    /// The item is in the requested state (this call applied it, or it already was).
    fn done(&self) -> bool;
    fn failed(error: types::Error) -> Self;
    fn not_attempted() -> Self;
}

impl Outcome for types::ItemOutcome {
    fn done(&self) -> bool {
        matches!(
            self,
            types::ItemOutcome::Succeeded | types::ItemOutcome::AlreadyDone(_)
        )
    }
    fn failed(error: types::Error) -> Self {
        types::ItemOutcome::Failed(error)
    }
    fn not_attempted() -> Self {
        types::ItemOutcome::NotAttempted
    }
}

impl Outcome for types::UpdateOutcome {
    fn done(&self) -> bool {
        matches!(self, types::UpdateOutcome::Updated(_))
    }
    fn failed(error: types::Error) -> Self {
        types::UpdateOutcome::Failed(error)
    }
    fn not_attempted() -> Self {
        types::UpdateOutcome::NotAttempted
    }
}

/// One bulk call: its items, whether it goes on past refused items, the component's checks
/// of the whole batch, and which chunks must wait for which.
pub struct Batch<I> {
    pub items: Vec<I>,
    pub keep_going: bool,
    pub check: fn(&[I]) -> Result<(), Vec<Problem>>,
    /// For each chunk, the earlier chunks it must wait for.
    pub waits_for: fn(&[I]) -> Vec<BTreeSet<usize>>,
}

impl<I> Batch<I> {
    pub fn independent(
        items: Vec<I>,
        keep_going: bool,
        check: fn(&[I]) -> Result<(), Vec<Problem>>,
    ) -> Batch<I> {
        Batch {
            items,
            keep_going,
            check,
            waits_for: |items| vec![BTreeSet::new(); items.len().div_ceil(CHUNK)],
        }
    }
}

pub fn invalid_input(problems: Vec<Problem>) -> types::Error {
    types::Error::InvalidInput(
        problems
            .into_iter()
            .map(|p| types::InputProblem {
                index: p.index.map(|i| i as u32),
                field: p.field,
                message: p.message,
            })
            .collect(),
    )
}

/// For onboarding: a chunk waits for the earlier chunks that onboard one of its supervisors.
pub fn supervisors_first(agents: &[types::NewAgent]) -> Vec<BTreeSet<usize>> {
    let chunk_of = |predicate: &dyn Fn(&types::NewAgent) -> bool| {
        agents.iter().position(predicate).map(|i| i / CHUNK)
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
                    selector.values.iter().filter_map(move |value| {
                        chunk_of(&|a: &types::NewAgent| names(a, selector.identifier, value))
                    })
                })
                .filter(|&other| other < chunk)
                .collect()
        })
        .collect()
}

fn names(agent: &types::NewAgent, identifier: types::IdentifierKind, value: &str) -> bool {
    let field = match identifier {
        types::IdentifierKind::UserObjectId => Some(&agent.user_object_id),
        types::IdentifierKind::Upn => agent.upn.as_ref(),
        types::IdentifierKind::ConsistencyId => agent.consistency_id.as_ref(),
        _ => None,
    };
    field.is_some_and(|f| f == value)
}

/// Where a batch stands while its chunks run.
pub struct Progress<O> {
    chunks: usize,
    outcomes: Vec<Option<Vec<O>>>,
    started: Vec<bool>,
    waits_for: Vec<BTreeSet<usize>>,
    keep_going: bool,
    stopped: bool,
    /// A chunk whose call failed as a whole, before its items were applied, and its error.
    failed_whole: Vec<(usize, types::Error)>,
}

impl<O: Outcome> Progress<O> {
    pub fn new(chunks: usize, waits_for: Vec<BTreeSet<usize>>, keep_going: bool) -> Progress<O> {
        Progress {
            chunks,
            outcomes: (0..chunks).map(|_| None).collect(),
            started: vec![false; chunks],
            waits_for,
            keep_going,
            stopped: false,
            failed_whole: Vec::new(),
        }
    }

    /// The lowest chunk that may start now, if any.
    pub fn next(&mut self) -> Option<usize> {
        if self.stopped {
            return None;
        }
        let ready = (0..self.chunks).find(|&c| {
            !self.started[c]
                && self.waits_for[c]
                    .iter()
                    .all(|&d| self.outcomes[d].is_some())
        })?;
        self.started[ready] = true;
        Some(ready)
    }

    /// Records a chunk's outcomes; without `keep_going`, one not done stops the batch.
    pub fn finished(&mut self, chunk: usize, outcomes: Vec<O>) {
        let all_done = outcomes.iter().all(Outcome::done);
        self.outcomes[chunk] = Some(outcomes);
        if ends_batch(self.keep_going, all_done) {
            self.stopped = true;
        }
    }

    pub fn failed(&mut self, chunk: usize, len: usize, error: types::Error) {
        self.failed_whole.push((chunk, error.clone()));
        self.finished(chunk, (0..len).map(|_| O::failed(error.clone())).collect());
    }

    /// Every item's outcome at its index; chunks never started are `not-attempted`. When the
    /// first chunk failed as a whole and no chunk applied anything, that failure is the
    /// call's, as it is when the component sends the chunks itself.
    pub fn outcomes(self, len: usize) -> Result<Vec<O>, types::Error> {
        let applied_any = self
            .outcomes
            .iter()
            .enumerate()
            .any(|(c, o)| o.is_some() && !self.failed_whole.iter().any(|(f, _)| *f == c));
        if !applied_any && let Some((_, error)) = self.failed_whole.iter().find(|(c, _)| *c == 0) {
            return Err(error.clone());
        }
        let mut all = Vec::with_capacity(len);
        for (chunk, outcomes) in self.outcomes.into_iter().enumerate() {
            match outcomes {
                Some(outcomes) => all.extend(outcomes),
                None => {
                    let size = CHUNK.min(len - chunk * CHUNK);
                    all.extend((0..size).map(|_| O::not_attempted()));
                }
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use types::ItemOutcome::{NotAttempted, Rejected, Succeeded};

    fn agent(id: &str, supervisors: &[&str]) -> types::NewAgent {
        let mut agent: types::NewAgent = smartcomm::model::NewAgent {
            user_object_id: id.into(),
            tenant_id: "t".into(),
            name: id.into(),
            ..Default::default()
        }
        .into();
        if !supervisors.is_empty() {
            agent.number_provisioning = vec![types::NumberProvisioning {
                type_: types::NumberType::Supervised,
                phone_number: "+15550100000".into(),
                supervisors: Some(types::AgentSelector {
                    identifier: types::IdentifierKind::UserObjectId,
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
        let mut progress = Progress::<types::ItemOutcome>::new(
            3,
            vec![BTreeSet::new(), BTreeSet::new(), BTreeSet::from([0])],
            true,
        );
        assert_eq!(progress.next(), Some(0));
        assert_eq!(progress.next(), Some(1));
        assert_eq!(progress.next(), None, "chunk 2 waits for chunk 0");
        progress.finished(1, vec![Succeeded; 10]);
        assert_eq!(progress.next(), None);
        progress.finished(0, vec![Succeeded; 10]);
        assert_eq!(progress.next(), Some(2));
    }

    #[test]
    fn without_keep_going_a_chunk_not_done_stops_the_rest_and_every_outcome_keeps_its_index() {
        let mut progress = Progress::<types::ItemOutcome>::new(4, vec![BTreeSet::new(); 4], false);
        assert_eq!(progress.next(), Some(0));
        assert_eq!(progress.next(), Some(1));
        let mut refused = vec![Succeeded; 10];
        refused[4] = Rejected(vec!["no".into()]);
        progress.finished(1, refused);
        assert_eq!(progress.next(), None, "the batch has ended");
        progress.finished(0, vec![Succeeded; 10]);
        let outcomes = progress.outcomes(35).unwrap();
        assert_eq!(outcomes.len(), 35);
        assert_eq!(outcomes[14], Rejected(vec!["no".into()]));
        assert!(outcomes[..14].iter().all(|o| *o == Succeeded));
        assert!(outcomes[20..].iter().all(|o| *o == NotAttempted));
    }

    #[test]
    fn a_first_chunk_failing_whole_with_nothing_applied_is_the_calls_error() {
        let unauthorized = types::Error::Unauthorized("no".into());
        let mut progress = Progress::<types::ItemOutcome>::new(2, vec![BTreeSet::new(); 2], true);
        progress.next();
        progress.next();
        progress.failed(1, 10, unauthorized.clone());
        progress.failed(0, 10, unauthorized.clone());
        assert_eq!(progress.outcomes(20).unwrap_err(), unauthorized);

        let mut progress = Progress::<types::ItemOutcome>::new(2, vec![BTreeSet::new(); 2], true);
        progress.next();
        progress.next();
        progress.finished(1, vec![Succeeded; 10]);
        progress.failed(0, 10, unauthorized.clone());
        let outcomes = progress.outcomes(20).unwrap();
        assert_eq!(outcomes[0], types::ItemOutcome::Failed(unauthorized));
        assert_eq!(outcomes[10], Succeeded);
    }
}
