//! Which agents a plan looks at: the live agents of the roster's tenants, narrowed by the
//! scope's field matches.

use super::Live;
use crate::model::{Agent, ProfileField};
use crate::sync::{DesiredAgent, ScopeMatch};
use std::collections::HashMap;

/// The live agents and the roster, by user_object_id, and the scope that narrows them.
pub(super) struct Scope<'a> {
    pub by_uoid: HashMap<&'a str, &'a Agent>,
    pub roster: HashMap<&'a str, &'a DesiredAgent>,
    /// The live agents in scope.
    pub live: Vec<&'a Agent>,
    matches: &'a [ScopeMatch],
}

/// Whether an agent whose profile field reads as `profile` says meets every match.
fn meets<'p>(profile: impl Fn(ProfileField) -> Option<&'p str>, matches: &[ScopeMatch]) -> bool {
    matches
        .iter()
        .all(|m| profile(m.field.profile_field()) == Some(m.value.as_str()))
}

impl<'a> Scope<'a> {
    /// A live agent is in scope when it matches as it is or as the roster has it, so that an
    /// agent the roster moves into or out of the scope is updated, not onboarded or removed.
    pub fn new(desired: &'a [DesiredAgent], live: &Live<'a>, matches: &'a [ScopeMatch]) -> Self {
        let by_uoid: HashMap<&str, &Agent> = live
            .agents
            .iter()
            .filter_map(|a| a.user_object_id.as_deref().map(|id| (id, a)))
            .collect();
        let roster: HashMap<&str, &DesiredAgent> = desired
            .iter()
            .map(|d| (d.agent.user_object_id.as_str(), d))
            .collect();
        let in_scope = live
            .agents
            .iter()
            .filter(|a| {
                meets(|f| a.profile(f), matches)
                    || a.user_object_id
                        .as_deref()
                        .and_then(|id| roster.get(id))
                        .is_some_and(|d| meets(|f| d.agent.profile(f), matches))
            })
            .collect();
        Scope {
            by_uoid,
            roster,
            live: in_scope,
            matches,
        }
    }

    /// Whether the plan looks at this roster agent.
    pub fn includes(&self, want: &DesiredAgent) -> bool {
        meets(|f| want.agent.profile(f), self.matches)
            || self
                .by_uoid
                .get(want.agent.user_object_id.as_str())
                .is_some_and(|a| meets(|f| a.profile(f), self.matches))
    }
}
