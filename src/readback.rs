//! Reading the state back to judge refused repeats (see `converge`). A batch of one request
//! reads the agents its items name, all in flight together. A larger batch reads once, on
//! its first refused repeat, every agent that could judge any of its items (its tenants, or
//! the account: one list request each) and judges the rest of the call from that snapshot.
//! A repeat of a thousand onboards then costs its hundred writes and one read, not a read
//! per item.

use crate::client::Client;
use crate::converge::{self, Found, Lookup};
use crate::error::ApiError;
use crate::model::{Agent, AgentFilter, IdentifierKind};
use crate::transport::Transport;
use futures_util::future::join_all;
use futures_util::lock::Mutex;
use std::collections::HashMap;
use std::rc::Rc;

/// Agents read by list requests, indexed by every lookup they answer.
struct Snapshot {
    agents: Vec<Agent>,
    index: HashMap<Lookup, Vec<usize>>,
    /// Read for the whole account: an agent it lacks does not exist.
    whole_account: bool,
}

impl Snapshot {
    fn new(agents: Vec<Agent>, whole_account: bool) -> Snapshot {
        let mut index: HashMap<Lookup, Vec<usize>> = HashMap::new();
        for (i, agent) in agents.iter().enumerate() {
            let keys = [
                (IdentifierKind::UserObjectId, &agent.user_object_id),
                (IdentifierKind::ConsistencyId, &agent.consistency_id),
                (IdentifierKind::Upn, &agent.upn),
                (IdentifierKind::TenantId, &agent.tenant_id),
            ];
            let numbers = agent
                .phone_number
                .iter()
                .map(|p| (IdentifierKind::PhoneNumber, p.value.clone()));
            let lookups = keys
                .into_iter()
                .filter_map(|(kind, value)| value.clone().map(|v| (kind, v)))
                .chain(numbers);
            for lookup in lookups {
                index.entry(lookup).or_default().push(i);
            }
        }
        Snapshot {
            agents,
            index,
            whole_account,
        }
    }

    fn matching(&self, lookup: &Lookup) -> Vec<Agent> {
        self.index.get(lookup).map_or_else(Vec::new, |found| {
            found.iter().map(|&i| self.agents[i].clone()).collect()
        })
    }
}

/// The read-backs of one batch call.
pub(crate) struct ReadBack<'c, T> {
    client: &'c Client<T>,
    /// The list requests of the snapshot; `None` reads per item.
    snapshot_filters: Option<Vec<AgentFilter>>,
    /// Taken on first need, by one request while the others wait; `Some(None)` when it could
    /// not be read (then each item is read).
    snapshot: Mutex<Option<Option<Rc<Snapshot>>>>,
}

impl<'c, T: Transport> ReadBack<'c, T> {
    pub(crate) fn new(client: &'c Client<T>, snapshot_filters: Option<Vec<AgentFilter>>) -> Self {
        ReadBack {
            client,
            snapshot_filters,
            snapshot: Mutex::new(None),
        }
    }

    async fn snapshot(&self) -> Option<Rc<Snapshot>> {
        let filters = self.snapshot_filters.as_ref()?;
        let mut taken = self.snapshot.lock().await;
        if let Some(snapshot) = taken.as_ref() {
            return snapshot.clone();
        }
        let whole_account = filters.iter().any(|f| *f == AgentFilter::default());
        // One size limit for all the snapshot's lists; beyond it, items are read on their own.
        let snapshot = self
            .client
            .lists_within_limit(filters)
            .await
            .ok()
            .map(|agents| Rc::new(Snapshot::new(agents, whole_account)));
        *taken = Some(snapshot.clone());
        snapshot
    }

    /// What each lookup finds (see `find`); when `stale` says the snapshot that answered predates what the API just
    /// said (a request's earlier attempt, its answer lost, was applied after it), that
    /// snapshot is taken again, unless another request already did, and the lookups found
    /// again. Items read on their own are as fresh as a read gets.
    pub(crate) async fn find_unless_stale(
        &self,
        wanted: Vec<(Lookup, bool)>,
        stale: impl Fn(&Found) -> bool,
    ) -> Reads {
        let (reads, answered_by) = self.find(wanted.clone()).await;
        let Some(used) = answered_by.filter(|_| stale(&reads.found)) else {
            return reads;
        };
        {
            let mut taken = self.snapshot.lock().await;
            if matches!(taken.as_ref(), Some(Some(current)) if Rc::ptr_eq(current, &used)) {
                *taken = None;
            }
        }
        self.find(wanted).await.0
    }

    /// What each lookup finds. `must_know` lookups judge a refused item: a snapshot that
    /// lacks the agent (it may have been taken before the agent was made, or in another
    /// tenant) is checked by a read of its own. The others only decide whether an item not
    /// yet sent needs sending, and a snapshot's word is enough. A lookup whose read failed is
    /// among the failures, with its error: nothing is concluded from it.
    /// With what was found, the snapshot that answered, if one did.
    async fn find(&self, wanted: Vec<(Lookup, bool)>) -> (Reads, Option<Rc<Snapshot>>) {
        let mut reads = Reads::default();
        if wanted.is_empty() {
            return (reads, None);
        }
        let snapshot = self.snapshot().await;
        let found = &mut reads.found;
        let mut to_read = Vec::new();
        for (lookup, must_know) in merged(wanted) {
            if let Some(snapshot) = &snapshot {
                let agents = snapshot.matching(&lookup);
                if !agents.is_empty() || snapshot.whole_account || !must_know {
                    found.insert(lookup, agents);
                    continue;
                }
            }
            to_read.push(lookup);
        }
        let answers = join_all(
            to_read
                .iter()
                .map(|(kind, value)| self.client.find_agents(*kind, value)),
        )
        .await;
        for (lookup, read) in to_read.into_iter().zip(answers) {
            match read {
                Ok(agents) => {
                    reads.found.insert(lookup, agents);
                }
                Err(e) => {
                    reads.failed.insert(lookup, e);
                }
            }
        }
        (reads, snapshot)
    }
}

/// What the reads of one answer found, and the lookups whose read failed.
#[derive(Default)]
pub(crate) struct Reads {
    pub(crate) found: Found,
    pub(crate) failed: HashMap<Lookup, ApiError>,
}

impl Reads {
    /// The error of a failed read among `lookups`, if one failed: the item it would have
    /// judged stays unknown. A read the deadline kept from being sent leaves the item, which
    /// was sent, as unknown as one in flight.
    pub(crate) fn failure(&self, lookups: &[Lookup]) -> Option<ApiError> {
        let failed = lookups.iter().find_map(|l| self.failed.get(l))?;
        Some(failed.clone().after_sending())
    }
}

/// Each lookup once, to be known when any of its askers must know it.
fn merged(wanted: Vec<(Lookup, bool)>) -> Vec<(Lookup, bool)> {
    let mut position: HashMap<Lookup, usize> = HashMap::new();
    let mut merged: Vec<(Lookup, bool)> = Vec::new();
    for (lookup, must_know) in wanted {
        match position.get(&lookup) {
            Some(&i) => merged[i].1 |= must_know,
            None => {
                position.insert(lookup.clone(), merged.len());
                merged.push((lookup, must_know));
            }
        }
    }
    merged
}

/// The lookups of `items`, each marked whether it must be known.
pub(crate) fn lookups_of<'a, I: converge::Convergent + 'a>(
    items: impl IntoIterator<Item = (&'a I, bool)>,
) -> Vec<(Lookup, bool)> {
    items
        .into_iter()
        .flat_map(|(item, must_know)| item.lookups().into_iter().map(move |l| (l, must_know)))
        .collect()
}
