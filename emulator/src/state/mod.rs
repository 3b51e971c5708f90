//! The emulator's accounts and the rules of each operation, free of HTTP: each operation takes
//! the request's parts and returns the status and JSON body the API would answer with.

mod agents;
mod inboxes;
mod numbers;

use crate::wire::{self, EnabledServices, Identifier, InboxType, Role};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// A status and JSON body.
pub type Answer = (u16, Value);

pub(crate) fn not_found() -> Answer {
    (
        404,
        json!({"status": "error", "message": "object not found"}),
    )
}

/// The reference's 400 shape: `errors` holds strings for the request as a whole, or
/// `{"itemIndex", "errors"}` objects for its items.
pub(crate) fn failed(message: &str, errors: Vec<Value>) -> Answer {
    (400, json!({"message": message, "errors": errors}))
}

/// A 400 for problems of the request as a whole (its query, or its body's shape).
pub(crate) fn refused(message: &str, problems: Vec<String>) -> Answer {
    failed(message, problems.into_iter().map(Value::String).collect())
}

pub(crate) fn item_error(index: usize, errors: Vec<String>) -> Value {
    json!({"itemIndex": index, "errors": errors})
}

/// How one endpoint words its answers, as the reference prints them.
pub(crate) struct Wording {
    pub success: &'static str,
    pub failure: &'static str,
    /// Whether the success body carries `"errors": []` (every batch endpoint's example does
    /// but create inboxes').
    pub success_has_errors: bool,
}

pub(crate) const ONBOARDING: Wording = Wording {
    success: "Onboarded successfully",
    failure: "Onboarding failed",
    success_has_errors: true,
};
pub(crate) const UPDATING: Wording = Wording {
    success: "Updated successfully",
    failure: "Update failed",
    success_has_errors: true,
};
pub(crate) const OFFBOARDING_ONE: Wording = Wording {
    success: "Agent successfully offboarded",
    failure: "Unsuccessful offboarding",
    success_has_errors: false,
};
pub(crate) const OFFBOARDING: Wording = Wording {
    success: "Offboarded successfully",
    failure: "Offboarding failed",
    success_has_errors: true,
};
pub(crate) const CREATING_INBOXES: Wording = Wording {
    success: "Success",
    failure: "Creating inboxes failed",
    success_has_errors: false,
};
pub(crate) const ASSIGNING: Wording = Wording {
    success: "Assignment successful",
    failure: "Assignment failed",
    success_has_errors: true,
};
/// The reference documents no error of the three reads but 404; these word their 400s.
pub(crate) const READING_AGENT_FAILED: &str = "Reading the agent failed";
pub(crate) const LISTING_AGENTS_FAILED: &str = "Listing agents failed";
pub(crate) const LISTING_NUMBERS_FAILED: &str = "Listing numbers failed";

#[derive(Debug, Clone, Serialize)]
pub struct AgentRecord {
    /// The platform's own id (`key_id=id`).
    pub id: String,
    pub user_object_id: String,
    pub tenant_id: String,
    pub name: String,
    pub upn: Option<String>,
    pub consistency_id: Option<String>,
    pub brand_name: Option<String>,
    pub department: Option<String>,
    pub region: Option<String>,
    pub state: Option<String>,
    pub district: Option<String>,
    pub store: Option<String>,
    pub city: Option<String>,
    pub zip_code: Option<String>,
    pub roles: Vec<Role>,
    pub enabled_services: EnabledServices,
    pub messaging_number: Option<String>,
    pub active: bool,
}

impl AgentRecord {
    fn field(&self, kind: Identifier) -> Option<&str> {
        match kind {
            Identifier::UserObjectId => Some(&self.user_object_id),
            Identifier::TenantId => Some(&self.tenant_id),
            Identifier::ConsistencyId => self.consistency_id.as_deref(),
            Identifier::Upn => self.upn.as_deref(),
            Identifier::PhoneNumber => self.messaging_number.as_deref(),
        }
    }

    /// The optional fields an agent shows only when set.
    fn profile(&self) -> [(&'static str, &Option<String>); 10] {
        [
            ("upn", &self.upn),
            ("consistency_id", &self.consistency_id),
            ("brand_name", &self.brand_name),
            ("department", &self.department),
            ("region", &self.region),
            ("state", &self.state),
            ("district", &self.district),
            ("store", &self.store),
            ("city", &self.city),
            ("zip_code", &self.zip_code),
        ]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InboxRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub inbox_type: InboxType,
    pub phone_number: String,
    /// The owner's user_object_id (supervised inboxes). The owner may have been offboarded:
    /// the inbox then waits for `reassignInbox`.
    pub owner: Option<String>,
    /// user_object_ids of the members (shared) or supervisors (supervised).
    pub members: Vec<String>,
}

/// One customer's data.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Account {
    pub agents: Vec<AgentRecord>,
    pub inboxes: Vec<InboxRecord>,
    /// The registered numbers, in order.
    pub numbers: Vec<String>,
    next_id: u64,
    /// Where each user_object_id, upn and consistency_id is: onboarding checks all three for
    /// every new agent, and scanning made a large batch quadratic in the number of agents.
    #[serde(skip)]
    keys: HashMap<(Identifier, String), usize>,
}

const INDEXED_KEYS: [Identifier; 3] = [
    Identifier::UserObjectId,
    Identifier::Upn,
    Identifier::ConsistencyId,
];

impl Account {
    pub fn seeded(numbers: &[String]) -> Account {
        Account {
            numbers: numbers.to_vec(),
            ..Default::default()
        }
    }

    fn agent_index(&self, kind: Identifier, value: &str) -> Option<usize> {
        if INDEXED_KEYS.contains(&kind) {
            return self.keys.get(&(kind, value.to_string())).copied();
        }
        self.agents
            .iter()
            .position(|a| a.field(kind) == Some(value))
    }

    fn index_agent(&mut self, index: usize) {
        for kind in INDEXED_KEYS {
            if let Some(value) = self.agents[index].field(kind) {
                self.keys.entry((kind, value.to_string())).or_insert(index);
            }
        }
    }

    fn unindex_agent(&mut self, index: usize) {
        for kind in INDEXED_KEYS {
            if let Some(value) = self.agents[index].field(kind) {
                let key = (kind, value.to_string());
                if self.keys.get(&key) == Some(&index) {
                    self.keys.remove(&key);
                }
            }
        }
    }

    /// Removes the agent at `index`, keeping the key index: the later agents move down one.
    /// No other agent holds its keys (onboard and update refuse a key that is taken).
    /// (Rebuilding the index instead made offboarding 10,000 agents take a minute.)
    pub(crate) fn remove_agent(&mut self, index: usize) -> AgentRecord {
        self.unindex_agent(index);
        let agent = self.agents.remove(index);
        for slot in self.keys.values_mut() {
            if *slot > index {
                *slot -= 1;
            }
        }
        agent
    }

    fn agent_by_key(&self, key_id: wire::KeyId, value: &str) -> Option<usize> {
        match key_id {
            wire::KeyId::Id => self.agents.iter().position(|a| a.id == value),
            wire::KeyId::UserObjectId => self.agent_index(Identifier::UserObjectId, value),
            wire::KeyId::ConsistencyId => self.agent_index(Identifier::ConsistencyId, value),
            wire::KeyId::Upn => self.agent_index(Identifier::Upn, value),
        }
    }

    fn supervised_inbox_of(&self, user_object_id: &str) -> Option<usize> {
        self.inboxes.iter().position(|i| {
            i.inbox_type == InboxType::Supervised && i.owner.as_deref() == Some(user_object_id)
        })
    }

    /// user_object_ids of the agents a selector names, or the message for the first value
    /// that names nobody.
    fn resolve(
        &self,
        kind: Identifier,
        values: &[String],
        what: &str,
    ) -> Result<Vec<String>, String> {
        values
            .iter()
            .map(|v| {
                self.agent_index(kind, v)
                    .map(|i| self.agents[i].user_object_id.clone())
                    .ok_or_else(|| format!("{what} not found: {kind} {v}"))
            })
            .collect()
    }

    /// The agent's numbers as `{"type", "value"}`: its messaging number, then its supervised
    /// inbox's.
    fn numbers_of(&self, agent: &AgentRecord) -> Vec<Value> {
        let mut numbers = Vec::new();
        if let Some(n) = &agent.messaging_number {
            numbers.push(json!({"type": "messaging", "value": n}));
        }
        if let Some(i) = self.supervised_inbox_of(&agent.user_object_id) {
            numbers.push(json!({"type": "supervised", "value": self.inboxes[i].phone_number}));
        }
        numbers
    }

    /// The agent as get and list show it: the fields of the reference's example, the
    /// optional ones only when set.
    pub fn view(&self, agent: &AgentRecord) -> Value {
        let mut supervisors = Vec::new();
        if let Some(i) = self.supervised_inbox_of(&agent.user_object_id) {
            let inbox = &self.inboxes[i];
            for member in inbox.members.iter().filter(|m| **m != agent.user_object_id) {
                if let Some(s) = self.agent_index(Identifier::UserObjectId, member) {
                    let s = &self.agents[s];
                    supervisors.push(json!({
                        "user_object_id": s.user_object_id,
                        "status": status(s.active),
                        "name": s.name,
                        "upn": s.upn,
                    }));
                }
            }
        }
        let shared: Vec<Value> = self
            .inboxes
            .iter()
            .filter(|i| {
                i.inbox_type == InboxType::Shared && i.members.contains(&agent.user_object_id)
            })
            .map(|i| json!({"name": i.name, "phone_number": i.phone_number}))
            .collect();
        let mut view = json!({
            "user_object_id": agent.user_object_id,
            "name": agent.name,
            "tenant_id": agent.tenant_id,
            "phone_number": self.numbers_of(agent),
            "roles": agent.roles,
            "enabled_services": agent.enabled_services,
            "supervisors": supervisors,
            "shared_inbox": shared,
            "status": status(agent.active),
            "active": agent.active,
        });
        with_profile(&mut view, agent);
        view
    }

    /// The agent as an update answers it: the fields of the reference's update examples,
    /// which leave out the tenant, status, supervisors and shared inboxes.
    pub fn updated_view(&self, agent: &AgentRecord, item_index: usize) -> Value {
        let mut view = json!({
            "itemIndex": item_index,
            "user_object_id": agent.user_object_id,
            "name": agent.name,
            "phone_number": self.numbers_of(agent),
            "roles": agent.roles,
            "enabled_services": agent.enabled_services,
            "active": agent.active,
        });
        with_profile(&mut view, agent);
        view
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!(
            "{:024x}",
            0x5f7c_a4be_0000_0000_u64 as u128 * 0x1_0000 + self.next_id as u128
        )
    }
}

fn with_profile(view: &mut Value, agent: &AgentRecord) {
    let object = view.as_object_mut().expect("a JSON object");
    for (key, value) in agent.profile() {
        if let Some(v) = value {
            object.insert(key.into(), json!(v));
        }
    }
}

fn status(active: bool) -> &'static str {
    if active { "active" } else { "inactive" }
}

/// Runs a batch the way this emulator reads the API. A body that is not a JSON array, an empty
/// one, or one of more than ten items is refused whole. Otherwise items are applied in order,
/// each entirely or not at all; without `continueOnError` the first failing item stops the
/// batch: the items before it stay applied, the ones after it are not looked at. The answer is
/// 200 when every item was applied, else 400 with the failing items' errors (and, for updates,
/// the `result` of the applied ones).
pub(crate) fn run_batch(
    body: &Value,
    continue_on_error: bool,
    wording: &Wording,
    mut apply: impl FnMut(usize, &Value) -> Result<Option<Value>, Vec<String>>,
) -> Answer {
    let items = match wire::batch_items(body) {
        Ok(items) => items,
        Err(problem) => return refused(wording.failure, vec![problem]),
    };
    let mut errors = Vec::new();
    let mut results = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match apply(i, item) {
            Ok(Some(result)) => results.push(result),
            Ok(None) => {}
            Err(messages) => {
                errors.push(item_error(i, messages));
                if !continue_on_error {
                    break;
                }
            }
        }
    }
    let succeeded = errors.is_empty();
    let mut body = match succeeded {
        true if wording.success_has_errors => json!({"message": wording.success, "errors": []}),
        true => json!({"message": wording.success}),
        false => json!({"message": wording.failure, "errors": errors}),
    };
    if !results.is_empty() {
        body["result"] = Value::Array(results);
    }
    (if succeeded { 200 } else { 400 }, body)
}

/// Every customer's account, created on first use with the seeded numbers.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Accounts {
    pub customers: BTreeMap<String, Account>,
    #[serde(skip)]
    pub seed_numbers: Vec<String>,
}

impl Accounts {
    pub fn new(seed_numbers: Vec<String>) -> Accounts {
        Accounts {
            customers: BTreeMap::new(),
            seed_numbers,
        }
    }

    pub fn account(&mut self, customer_id: &str) -> &mut Account {
        let seed = &self.seed_numbers;
        self.customers
            .entry(customer_id.to_string())
            .or_insert_with(|| Account::seeded(seed))
    }
}

/// `count` numbers from +15550100000 up.
pub fn seed_numbers(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("+1555010{i:04}")).collect()
}

#[cfg(test)]
mod tests;
