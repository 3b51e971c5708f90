//! The inbox endpoints: create inboxes, manage their assignments.

use super::{
    ASSIGNING, Account, Answer, CREATING_INBOXES, Identifier, InboxRecord, InboxType, run_batch,
};
use crate::wire::{self, Assignment, NewInbox, Operation};
use serde_json::Value;

impl Account {
    pub fn create_inboxes(&mut self, body: &Value, continue_on_error: bool) -> Answer {
        run_batch(body, continue_on_error, &CREATING_INBOXES, |_, item| {
            let inbox = wire::new_inbox(item)?;
            self.create_inbox(inbox).map_err(|e| vec![e])?;
            Ok(None)
        })
    }

    fn create_inbox(&mut self, inbox: NewInbox) -> Result<(), String> {
        if self.inboxes.iter().any(|i| {
            i.phone_number == inbox.phone_number
                || (i.name == inbox.name && i.inbox_type == inbox.inbox_type)
        }) {
            return Err("Inbox already exists".into());
        }
        self.check_number_free(&inbox.phone_number, None)?;
        let mut members = self.resolve(inbox.users.identifier, &inbox.users.values, "User")?;
        let owner = match (inbox.inbox_type, &inbox.owner) {
            (InboxType::Supervised, Some(owner)) => {
                let uoid = self
                    .resolve(
                        owner.identifier,
                        std::slice::from_ref(&owner.value),
                        "Owner",
                    )?
                    .remove(0);
                if self.supervised_inbox_of(&uoid).is_some() {
                    return Err("The owner already has a supervised inbox".into());
                }
                if !members.contains(&uoid) {
                    members.insert(0, uoid.clone());
                }
                Some(uoid)
            }
            // The wire refuses a supervised inbox without an owner.
            (InboxType::Supervised, None) | (InboxType::Shared, _) => None,
        };
        members.dedup();
        self.inboxes.push(InboxRecord {
            name: inbox.name,
            inbox_type: inbox.inbox_type,
            phone_number: inbox.phone_number,
            owner,
            members,
        });
        Ok(())
    }

    /// The reference documents no `continueOnError` here: the first failing item stops the
    /// batch.
    pub fn assign(&mut self, body: &Value) -> Answer {
        run_batch(body, false, &ASSIGNING, |_, item| {
            let assignment = wire::assignment(item)?;
            self.apply_assignment(assignment).map_err(|e| vec![e])?;
            Ok(None)
        })
    }

    fn apply_assignment(&mut self, a: Assignment) -> Result<(), String> {
        let inbox = match a.inbox.inbox_type {
            InboxType::Shared => self
                .inboxes
                .iter()
                .position(|i| i.inbox_type == InboxType::Shared && i.phone_number == a.inbox.value),
            InboxType::Supervised => self
                .agent_index(a.inbox.identifier, &a.inbox.value)
                .filter(|_| a.inbox.identifier != Identifier::PhoneNumber)
                .and_then(|i| self.supervised_inbox_of(&self.agents[i].user_object_id.clone())),
        };
        let Some(inbox) = inbox else {
            return Err("Target inbox not found".into());
        };
        let agents = self.resolve(a.agents.identifier, &a.agents.values, "Agent")?;
        let inbox = &mut self.inboxes[inbox];
        match a.operation {
            Operation::Add => {
                for uoid in agents {
                    if !inbox.members.contains(&uoid) {
                        inbox.members.push(uoid);
                    }
                }
            }
            Operation::Remove => {
                if let Some(owner) = &inbox.owner
                    && agents.contains(owner)
                {
                    return Err("The owner cannot be removed from a supervised inbox".into());
                }
                inbox.members.retain(|m| !agents.contains(m));
            }
        }
        Ok(())
    }
}
