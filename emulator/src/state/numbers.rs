//! Phone numbers: who holds each, and `GET /{customer_id}/numbers`.

use super::{Account, AgentRecord, Answer, Identifier, InboxRecord, LISTING_NUMBERS_FAILED};
use crate::wire::{self, NumberStatus};
use serde_json::{Value, json};

/// Who holds a number.
pub(super) enum Holder<'a> {
    Free,
    Agent(&'a AgentRecord),
    Inbox(&'a InboxRecord),
}

impl Account {
    pub(super) fn holder(&self, number: &str) -> Holder<'_> {
        if let Some(agent) = self
            .agents
            .iter()
            .find(|a| a.messaging_number.as_deref() == Some(number))
        {
            return Holder::Agent(agent);
        }
        match self.inboxes.iter().find(|i| i.phone_number == number) {
            Some(inbox) => Holder::Inbox(inbox),
            None => Holder::Free,
        }
    }

    /// Checks that `number` is registered and free (or already held by the agent
    /// `holder_uoid`, for updates).
    pub(super) fn check_number_free(
        &self,
        number: &str,
        holder_uoid: Option<&str>,
    ) -> Result<(), String> {
        if !self.numbers.iter().any(|n| n == number) {
            return Err(format!(
                "Phone number {number} is not registered to the account"
            ));
        }
        match self.holder(number) {
            Holder::Free => Ok(()),
            Holder::Agent(a) if Some(a.user_object_id.as_str()) == holder_uoid => Ok(()),
            Holder::Inbox(i) if i.owner.is_some() && i.owner.as_deref() == holder_uoid => Ok(()),
            _ => Err(format!("Phone number {number} is already assigned")),
        }
    }

    pub fn list_numbers(&self, status: Option<&str>, matching: Option<&str>) -> Answer {
        let (status, matching) = match wire::numbers_query(status, matching) {
            Ok(query) => query,
            Err(problems) => return super::refused(LISTING_NUMBERS_FAILED, problems),
        };
        let list: Vec<Value> = self
            .numbers
            .iter()
            .filter(|n| matching.is_none_or(|m| n.contains(m)))
            .filter_map(|n| {
                let (number_status, assigned_to) = match self.holder(n) {
                    Holder::Free => (NumberStatus::Active, None),
                    Holder::Agent(a) => (NumberStatus::Assigned, Some(assignee(a))),
                    Holder::Inbox(i) => (
                        NumberStatus::Assigned,
                        Some(
                            i.owner
                                .as_deref()
                                .and_then(|o| self.agent_index(Identifier::UserObjectId, o))
                                .map(|a| assignee(&self.agents[a]))
                                .unwrap_or_else(|| json!({"name": i.name})),
                        ),
                    ),
                };
                if status.is_some_and(|s| s != number_status) {
                    return None;
                }
                let mut entry = json!({"number": n, "status": number_status});
                if let Some(to) = assigned_to {
                    entry["assignedTo"] = to;
                }
                Some(entry)
            })
            .collect();
        (200, Value::Array(list))
    }
}

fn assignee(a: &AgentRecord) -> Value {
    json!({
        "name": a.name,
        "user_object_id": a.user_object_id,
        "upn": a.upn,
        "consistency_id": a.consistency_id,
    })
}
