//! The bodies of the inbox endpoints: create inboxes, manage assignments.

use super::agents::{AgentRef, Selector, agent_ref, selector};
use super::{
    AGENT_IDENTIFIERS, Choice, INVALID_PHONE_NUMBER, Identifier, InboxType, Need, Operation,
    Reader, is_e164, item_object,
};
use serde_json::Value;

/// One item of `POST /{customer_id}/inboxes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewInbox {
    pub name: String,
    pub inbox_type: InboxType,
    pub phone_number: String,
    /// Read for a shared inbox too (a malformed one is refused), but only a supervised inbox
    /// has an owner.
    pub owner: Option<AgentRef>,
    pub users: Selector,
}

pub(crate) fn new_inbox(item: &Value) -> Result<NewInbox, Vec<String>> {
    let o = item_object(item)?;
    let mut r = Reader::default();
    let name = r.text(o, "", "name", Need::Required);
    let inbox_type = r.choice(o, "", "type", Need::Required, InboxType::ALL);
    let phone_number = r.phone(o, "", "phone_number", Need::Required);
    let owner = r
        .object(o, "", "owner", Need::Optional)
        .and_then(|owner| agent_ref(&mut r, owner, "owner."));
    if inbox_type == Some(InboxType::Supervised) && o.get("owner").is_none_or(Value::is_null) {
        r.problem("owner is required for a supervised inbox");
    }
    let users = r
        .object(o, "", "users", Need::Required)
        .and_then(|users| selector(&mut r, users, "users.", "values"));
    r.finish(|| {
        Some(NewInbox {
            name: name?,
            inbox_type: inbox_type?,
            phone_number: phone_number?,
            owner,
            users: users?,
        })
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InboxRef {
    pub inbox_type: InboxType,
    pub identifier: Identifier,
    pub value: String,
}

/// One item of `POST /{customer_id}/inboxes/assignments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assignment {
    pub inbox: InboxRef,
    pub agents: Selector,
    pub operation: Operation,
}

pub(crate) fn assignment(item: &Value) -> Result<Assignment, Vec<String>> {
    let o = item_object(item)?;
    let mut r = Reader::default();
    let inbox = r
        .object(o, "", "inbox", Need::Required)
        .and_then(|inbox| inbox_ref(&mut r, inbox));
    let agents = r
        .object(o, "", "agents", Need::Required)
        .and_then(|agents| {
            // The reference's parameter list spells the key `vlaues`; its examples say `values`.
            let values_key = match (agents.contains_key("values"), agents.contains_key("vlaues")) {
                (true, true) => {
                    r.problem("agents: give values or vlaues, not both");
                    return None;
                }
                (false, true) => "vlaues",
                _ => "values",
            };
            selector(&mut r, agents, "agents.", values_key)
        });
    let operation = r.choice(o, "", "operation", Need::Required, Operation::ALL);
    r.finish(|| {
        Some(Assignment {
            inbox: inbox?,
            agents: agents?,
            operation: operation?,
        })
    })
}

/// A shared inbox is found by its number; a supervised one by its owner.
fn inbox_ref(r: &mut Reader, o: &serde_json::Map<String, Value>) -> Option<InboxRef> {
    let at = "inbox.";
    let inbox_type = r.choice(o, at, "type", Need::Required, InboxType::ALL);
    let allowed: &[Identifier] = match inbox_type {
        Some(InboxType::Shared) => &[Identifier::PhoneNumber],
        Some(InboxType::Supervised) => AGENT_IDENTIFIERS,
        None => &[
            Identifier::PhoneNumber,
            Identifier::UserObjectId,
            Identifier::ConsistencyId,
            Identifier::Upn,
        ],
    };
    let identifier = r.choice(o, at, "identifier", Need::Required, allowed);
    let value = r.text(o, at, "value", Need::Required);
    if identifier == Some(Identifier::PhoneNumber) && value.as_deref().is_some_and(|v| !is_e164(v))
    {
        r.problem(INVALID_PHONE_NUMBER);
        return None;
    }
    Some(InboxRef {
        inbox_type: inbox_type?,
        identifier: identifier?,
        value: value?,
    })
}
