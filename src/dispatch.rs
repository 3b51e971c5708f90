//! The order in which a batch's requests may go out when several are in flight: which chunk
//! may start now, which must wait for an earlier one, and when the batch stops.

use crate::model::{
    AgentUpdate, Assignment, IdentifierKind, NewAgent, NewInbox, OffboardItem, Selector,
};
use crate::validate::MAX_BATCH as CHUNK;
use std::collections::{BTreeSet, HashMap};

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

/// What an item acts on, as far as the order of a batch's requests cares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// An agent, by one of its keys.
    Agent(IdentifierKind, String),
    /// An inbox, by its phone number (or, for a supervised one, its owner's key).
    Inbox(IdentifierKind, String),
    /// Any agent (an offboard of a whole tenant).
    Every,
}

/// An item whose targets can be named before anything is sent.
pub trait Targets {
    /// Every name of what the item acts on. An agent is known by each key the item gives:
    /// an onboard gives all of them, a rename the old and the new.
    fn targets(&self) -> Vec<Target>;
}

/// The caller's order for one target: each chunk waits for the latest earlier chunk that
/// names one of its targets (which waits for the one before, and so on), so two items on
/// one agent or inbox land in the order the caller listed them. A chunk that names every
/// agent (an offboard of a tenant) waits for every earlier chunk, and every later one for it. Items in one request keep
/// their order by themselves. Items that name one agent by different keys (a `upn` here, a
/// `user_object_id` there) are linked only when an item between them names both.
pub fn in_caller_order<I: Targets>(items: &[I]) -> Vec<BTreeSet<usize>> {
    let mut last_naming: HashMap<Target, usize> = HashMap::new();
    let mut last_every: Option<usize> = None;
    items
        .chunks(CHUNK)
        .enumerate()
        .map(|(chunk, members)| {
            let targets: Vec<Target> = members.iter().flat_map(Targets::targets).collect();
            let mut waits: BTreeSet<usize> = last_every.into_iter().collect();
            if targets.contains(&Target::Every) {
                waits.extend(0..chunk);
                last_every = Some(chunk);
            }
            for target in targets {
                if let Some(earlier) = last_naming.insert(target, chunk)
                    && earlier != chunk
                {
                    waits.insert(earlier);
                }
            }
            waits.retain(|&w| w < chunk);
            waits
        })
        .collect()
}

fn agent(kind: IdentifierKind, value: &str) -> Target {
    match kind {
        IdentifierKind::TenantId => Target::Every,
        kind => Target::Agent(kind, value.to_string()),
    }
}

fn selected(selector: &Selector) -> impl Iterator<Item = Target> + '_ {
    selector
        .values
        .iter()
        .map(|v| agent(selector.identifier, v))
}

impl Targets for NewAgent {
    /// The agent by all its keys and numbers, and its supervisors: a later chunk that
    /// changes one of them waits for this one, and this one for the chunk onboarding them.
    fn targets(&self) -> Vec<Target> {
        let keys = [
            (IdentifierKind::UserObjectId, Some(&self.user_object_id)),
            (IdentifierKind::Upn, self.upn.as_ref()),
            (IdentifierKind::ConsistencyId, self.consistency_id.as_ref()),
        ];
        let numbers = self
            .number_provisioning
            .iter()
            .map(|n| agent(IdentifierKind::PhoneNumber, &n.phone_number));
        let supervisors = self
            .number_provisioning
            .iter()
            .filter_map(|n| n.supervisors.as_ref())
            .flat_map(selected);
        keys.into_iter()
            .filter_map(|(kind, value)| value.map(|v| agent(kind, v)))
            .chain(numbers)
            .chain(supervisors)
            .collect()
    }
}

impl Targets for AgentUpdate {
    fn targets(&self) -> Vec<Target> {
        let changes = &self.updates;
        let renamed = [
            (IdentifierKind::UserObjectId, &changes.user_object_id),
            (IdentifierKind::Upn, &changes.upn),
            (IdentifierKind::ConsistencyId, &changes.consistency_id),
        ];
        std::iter::once(agent(self.target.identifier, &self.target.value))
            .chain(
                renamed
                    .into_iter()
                    .filter_map(|(kind, value)| value.as_deref().map(|v| agent(kind, v))),
            )
            .collect()
    }
}

impl Targets for OffboardItem {
    fn targets(&self) -> Vec<Target> {
        self.value
            .iter()
            .map(|v| agent(self.identifier, v))
            .collect()
    }
}

impl Targets for NewInbox {
    fn targets(&self) -> Vec<Target> {
        let inbox = Target::Inbox(IdentifierKind::PhoneNumber, self.phone_number.clone());
        let owner = self.owner.iter().map(|o| agent(o.identifier, &o.value));
        std::iter::once(inbox)
            .chain(owner)
            .chain(selected(&self.users))
            .collect()
    }
}

impl Targets for Assignment {
    fn targets(&self) -> Vec<Target> {
        let inbox = Target::Inbox(self.inbox.identifier, self.inbox.value.clone());
        std::iter::once(inbox)
            .chain(selected(&self.agents))
            .collect()
    }
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
        let waits = in_caller_order(&agents);
        assert_eq!(waits.len(), 3);
        assert!(waits[0].is_empty() && waits[1].is_empty());
        // a3 is in chunk 0, a12 in chunk 1; a27 is in its own chunk, nobody in none.
        assert_eq!(waits[2], BTreeSet::from([0, 1]));
    }

    fn update(target: &str, new_id: Option<&str>) -> AgentUpdate {
        AgentUpdate {
            target: crate::model::AgentRef {
                identifier: IdentifierKind::UserObjectId,
                value: target.into(),
            },
            updates: crate::model::AgentChanges {
                user_object_id: new_id.map(Into::into),
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_chunk_waits_for_the_latest_earlier_chunk_that_names_its_agent_by_any_key() {
        let mut updates: Vec<_> = (0..40).map(|i| update(&format!("u{i}"), None)).collect();
        updates[3] = update("u3", Some("renamed"));
        updates[14] = update("renamed", None);
        updates[25] = update("u3", None);
        updates[35] = update("u3", None);
        let waits = in_caller_order(&updates);
        assert_eq!(waits[0], BTreeSet::new());
        assert_eq!(
            waits[1],
            BTreeSet::from([0]),
            "the new id of item 3's rename"
        );
        assert_eq!(waits[2], BTreeSet::from([0]), "item 3's old id");
        assert_eq!(
            waits[3],
            BTreeSet::from([2]),
            "the latest earlier chunk naming u3"
        );
    }

    #[test]
    fn an_offboard_of_a_tenant_waits_for_every_chunk_before_it_and_holds_every_chunk_after() {
        let item = |identifier, value: &str| OffboardItem {
            identifier,
            value: vec![value.into()],
        };
        let mut items: Vec<_> = (0..50)
            .map(|i| item(IdentifierKind::UserObjectId, &format!("u{i}")))
            .collect();
        items[25] = item(IdentifierKind::TenantId, "t");
        let waits = in_caller_order(&items);
        assert_eq!(waits[0], BTreeSet::new());
        assert_eq!(waits[1], BTreeSet::new());
        assert_eq!(waits[2], BTreeSet::from([0, 1]), "every chunk before it");
        assert_eq!(waits[3], BTreeSet::from([2]));
        assert_eq!(waits[4], BTreeSet::from([2]));
    }

    #[test]
    fn assignments_of_one_inbox_keep_their_order_and_others_go_together() {
        let assignment = |inbox: &str, who: &str, operation| Assignment {
            inbox: crate::model::InboxRef {
                inbox_type: crate::model::InboxType::Shared,
                identifier: IdentifierKind::PhoneNumber,
                value: inbox.into(),
            },
            agents: Selector {
                identifier: IdentifierKind::UserObjectId,
                values: vec![who.into()],
            },
            operation,
        };
        let mut items: Vec<_> = (0..30)
            .map(|i| {
                assignment(
                    &format!("+1555010{i:04}"),
                    &format!("u{i}"),
                    crate::model::Operation::Add,
                )
            })
            .collect();
        items[3] = assignment("+15550109999", "a", crate::model::Operation::Add);
        items[14] = assignment("+15550109999", "a", crate::model::Operation::Remove);
        let waits = in_caller_order(&items);
        assert_eq!(
            waits,
            [BTreeSet::new(), BTreeSet::from([0]), BTreeSet::new()]
        );
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
        let mut dispatch = Dispatch::new(vec![BTreeSet::new(); 4], false);
        assert_eq!(dispatch.next_ready(), Some(0));
        assert_eq!(dispatch.next_ready(), Some(1));
        dispatch.finish(1, false);
        assert_eq!(dispatch.next_ready(), None, "the batch has ended");
        dispatch.finish(0, true);
        assert_eq!(dispatch.next_ready(), None);
    }

    #[test]
    fn with_continue_on_error_every_chunk_starts() {
        let mut dispatch = Dispatch::new(vec![BTreeSet::new(); 3], true);
        assert_eq!(dispatch.next_ready(), Some(0));
        dispatch.finish(0, false);
        assert_eq!(dispatch.next_ready(), Some(1));
        assert_eq!(dispatch.next_ready(), Some(2));
    }
}
