//! Reads requests straight from their JSON and query strings, by the reference's rules and
//! nothing else: a test double that shared the client's types would agree with any mistake in
//! them. Each item is read whole, so its answer lists every problem it has, as the reference's
//! error examples do, not only the first.

mod agents;
mod inboxes;
mod query;

pub(crate) use agents::{
    AgentChanges, NewAgent, agent_changes, agent_update, new_agent, offboard_item, update_target,
};
pub(crate) use inboxes::{Assignment, NewInbox, assignment, new_inbox};
pub use query::percent_decode;
pub(crate) use query::{AgentFilter, Query, key_id, numbers_query};

use serde::Serialize;
use serde_json::{Map, Value};

/// "Batch operations are limited to 10 items per request."
pub(crate) const MAX_BATCH: usize = 10;

pub(crate) const NOT_AN_OBJECT: &str = "The item must be a JSON object";
pub(crate) const INVALID_PHONE_NUMBER: &str = "Invalid phone number format";

/// A closed set of names the reference allows for one field.
pub(crate) trait Choice: Copy + PartialEq + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;

    fn from_wire(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

macro_rules! choice {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $($variant),+
        }

        impl Choice for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];

            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

choice! {
    /// An agent's role; `member` when onboarding names none.
    pub enum Role { Member => "member", Manager => "manager", Admin => "admin" }
}

choice! {
    pub enum InboxType { Shared => "shared", Supervised => "supervised" }
}

choice! {
    pub(crate) enum NumberType { Supervised => "supervised", Messaging => "messaging" }
}

choice! {
    /// What an `identifier` field may name; each endpoint allows a subset.
    pub(crate) enum Identifier {
        UserObjectId => "user_object_id",
        ConsistencyId => "consistency_id",
        Upn => "upn",
        TenantId => "tenant_id",
        PhoneNumber => "phone_number",
    }
}

choice! {
    pub(crate) enum KeyId {
        UserObjectId => "user_object_id",
        ConsistencyId => "consistency_id",
        Upn => "upn",
        Id => "id",
    }
}

choice! {
    pub(crate) enum Operation { Add => "add", Remove => "remove" }
}

choice! {
    pub(crate) enum NumberStatus { Assigned => "assigned", Active => "active" }
}

/// Supervisors, inbox owners and users, assignment agents and bulk-update targets.
pub(crate) const AGENT_IDENTIFIERS: &[Identifier] = &[
    Identifier::UserObjectId,
    Identifier::ConsistencyId,
    Identifier::Upn,
];

/// The reference lists the first three and shows `upn` in its example.
pub(crate) const OFFBOARD_IDENTIFIERS: &[Identifier] = &[
    Identifier::UserObjectId,
    Identifier::TenantId,
    Identifier::ConsistencyId,
    Identifier::Upn,
];

pub(crate) const GET_KEY_IDS: &[KeyId] = &[KeyId::UserObjectId, KeyId::ConsistencyId, KeyId::Upn];
pub(crate) const CHANGE_KEY_IDS: &[KeyId] = &[KeyId::UserObjectId, KeyId::ConsistencyId, KeyId::Id];

/// The application tabs an agent sees; a tab left out keeps its setting on update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnabledServices {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<bool>,
    #[serde(rename = "supervisedInbox", skip_serializing_if = "Option::is_none")]
    pub supervised_inbox: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<bool>,
    #[serde(rename = "sharedInbox", skip_serializing_if = "Option::is_none")]
    pub shared_inbox: Option<bool>,
}

/// `^\+[1-9][0-9]{1,14}$`, as the reference requires of every phone number.
pub(crate) fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    let mut bytes = digits.bytes();
    matches!(bytes.next(), Some(b'1'..=b'9'))
        && (2..=15).contains(&digits.len())
        && bytes.all(|b| b.is_ascii_digit())
}

/// The items of a batch body, or why the whole request is refused.
pub(crate) fn batch_items(body: &Value) -> Result<&[Value], String> {
    match body {
        Value::Array(items) if items.is_empty() => {
            Err("The request body must be a non-empty array".into())
        }
        Value::Array(items) if items.len() > MAX_BATCH => Err(format!(
            "Batch operations are limited to {MAX_BATCH} items per request"
        )),
        Value::Array(items) => Ok(items),
        _ => Err("The request body must be a JSON array".into()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Required,
    Optional,
}

/// Reads the fields of one item, noting each problem and reading on. A field that is absent,
/// `null` or wrong reads as `None`; only a reader without problems yields its item.
#[derive(Default)]
pub(crate) struct Reader {
    problems: Vec<String>,
}

impl Reader {
    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    /// The item `build` assembles from what was read, or every problem found.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<String>> {
        if self.has_problems() {
            return Err(self.problems);
        }
        // Every required field that reads as `None` has noted a problem, so this is Some.
        build().ok_or_else(|| vec!["The item could not be read".to_string()])
    }

    /// The value at `key`; `null` counts as absent, as serde reads an optional field.
    pub fn field<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        at: &str,
        key: &str,
        need: Need,
    ) -> Option<&'v Value> {
        match object.get(key) {
            None | Some(Value::Null) => {
                if need == Need::Required {
                    self.problem(format!("Missing required field: {at}{key}"));
                }
                None
            }
            Some(value) => Some(value),
        }
    }

    /// A string; a required one must not be blank.
    pub fn text(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        key: &str,
        need: Need,
    ) -> Option<String> {
        match self.field(object, at, key, need)? {
            Value::String(s) if need == Need::Required && s.trim().is_empty() => {
                self.problem(format!("Missing required field: {at}{key}"));
                None
            }
            Value::String(s) => Some(s.clone()),
            _ => {
                self.problem(format!("{at}{key} must be a string"));
                None
            }
        }
    }

    pub fn object<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        at: &str,
        key: &str,
        need: Need,
    ) -> Option<&'v Map<String, Value>> {
        match self.field(object, at, key, need)? {
            Value::Object(inner) => Some(inner),
            _ => {
                self.problem(format!("{at}{key} must be an object"));
                None
            }
        }
    }

    pub fn list<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        at: &str,
        key: &str,
        need: Need,
    ) -> Option<&'v [Value]> {
        match self.field(object, at, key, need)? {
            Value::Array(items) => Some(items),
            _ => {
                self.problem(format!("{at}{key} must be a list"));
                None
            }
        }
    }

    /// A list of strings; every entry that is not one is noted.
    pub fn texts(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        key: &str,
        need: Need,
    ) -> Option<Vec<String>> {
        let items = self.list(object, at, key, need)?;
        let before = self.problems.len();
        let texts: Vec<String> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Value::String(s) => Some(s.clone()),
                _ => {
                    self.problem(format!("{at}{key}[{i}] must be a string"));
                    None
                }
            })
            .collect();
        (self.problems.len() == before).then_some(texts)
    }

    /// One of `allowed`, named by its string.
    pub fn choice<T: Choice>(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        key: &str,
        need: Need,
        allowed: &[T],
    ) -> Option<T> {
        let value = self.field(object, at, key, need)?;
        self.choice_of(value, &format!("{at}{key}"), allowed)
    }

    /// A list of `allowed` names.
    pub fn choices<T: Choice>(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        key: &str,
        allowed: &[T],
    ) -> Option<Vec<T>> {
        let items = self.list(object, at, key, Need::Optional)?;
        let before = self.problems.len();
        let chosen: Vec<T> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.choice_of(item, &format!("{at}{key}[{i}]"), allowed))
            .collect();
        (self.problems.len() == before).then_some(chosen)
    }

    fn choice_of<T: Choice>(&mut self, value: &Value, path: &str, allowed: &[T]) -> Option<T> {
        let Value::String(text) = value else {
            self.problem(format!("{path} must be a string"));
            return None;
        };
        match T::from_wire(text).filter(|c| allowed.contains(c)) {
            Some(choice) => Some(choice),
            None => {
                let names: Vec<&str> = allowed.iter().map(|c| c.as_str()).collect();
                self.problem(format!(
                    "Invalid {path}: {text:?} is not one of {}",
                    names.join(", ")
                ));
                None
            }
        }
    }

    /// An E.164 number.
    pub fn phone(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        key: &str,
        need: Need,
    ) -> Option<String> {
        let number = self.text(object, at, key, need)?;
        if is_e164(&number) {
            Some(number)
        } else {
            self.problem(INVALID_PHONE_NUMBER);
            None
        }
    }

    /// A JSON boolean; with `strings_too`, also the strings `"true"` and `"false"`.
    pub fn boolean(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        key: &str,
        strings_too: bool,
    ) -> Option<bool> {
        match self.field(object, at, key, Need::Optional)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if strings_too && s == "true" => Some(true),
            Value::String(s) if strings_too && s == "false" => Some(false),
            _ if strings_too => {
                self.problem(format!("{at}{key} must be a boolean or \"true\"/\"false\""));
                None
            }
            _ => {
                self.problem(format!("{at}{key} must be a boolean"));
                None
            }
        }
    }

    /// Each entry of the list at `key` that is an object, with its path prefix.
    pub fn objects<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        at: &str,
        key: &str,
    ) -> Option<Vec<(String, &'v Map<String, Value>)>> {
        let items = self.list(object, at, key, Need::Optional)?;
        Some(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Value::Object(entry) => Some((format!("{at}{key}[{i}]."), entry)),
                    _ => {
                        self.problem(format!("{at}{key}[{i}] must be an object"));
                        None
                    }
                })
                .collect(),
        )
    }

    /// `{"messages", "supervisedInbox", "calls", "sharedInbox"}`, each optional.
    pub fn enabled_services(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
    ) -> Option<EnabledServices> {
        let services = self.object(object, at, "enabled_services", Need::Optional)?;
        let at = format!("{at}enabled_services.");
        Some(EnabledServices {
            messages: self.boolean(services, &at, "messages", false),
            supervised_inbox: self.boolean(services, &at, "supervisedInbox", false),
            calls: self.boolean(services, &at, "calls", false),
            shared_inbox: self.boolean(services, &at, "sharedInbox", false),
        })
    }
}

/// The fields of a batch item, or the problem that it has none.
pub(crate) fn item_object(item: &Value) -> Result<&Map<String, Value>, Vec<String>> {
    item.as_object().ok_or_else(|| vec![NOT_AN_OBJECT.into()])
}

#[cfg(test)]
mod tests;
