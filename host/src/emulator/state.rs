//! The emulator's accounts and their rules, free of HTTP: each operation takes the request's
//! parsed parts and returns the status and JSON body the API would answer with.

use serde::Serialize;
use serde_json::{Value, json};
use smartcomm::model::*;
use smartcomm::validate::{MAX_BATCH, is_e164};
use std::collections::{BTreeMap, HashMap};

/// A status and JSON body.
pub type Answer = (u16, Value);

pub fn not_found() -> Answer {
    (
        404,
        json!({"status": "error", "message": "object not found"}),
    )
}

fn failed(message: &str, errors: Vec<Value>) -> Answer {
    (400, json!({"message": message, "errors": errors}))
}

fn item_error(index: usize, errors: Vec<String>) -> Value {
    json!({"itemIndex": index, "errors": errors})
}

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
    fn field(&self, kind: IdentifierKind) -> Option<&str> {
        match kind {
            IdentifierKind::UserObjectId => Some(&self.user_object_id),
            IdentifierKind::TenantId => Some(&self.tenant_id),
            IdentifierKind::ConsistencyId => self.consistency_id.as_deref(),
            IdentifierKind::Upn => self.upn.as_deref(),
            IdentifierKind::PhoneNumber => self.messaging_number.as_deref(),
        }
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
    keys: HashMap<(IdentifierKind, String), usize>,
}

const INDEXED_KEYS: [IdentifierKind; 3] = [
    IdentifierKind::UserObjectId,
    IdentifierKind::Upn,
    IdentifierKind::ConsistencyId,
];

/// Who holds a number.
enum Holder<'a> {
    Free,
    Agent(&'a AgentRecord),
    Inbox(&'a InboxRecord),
}

impl Account {
    pub fn seeded(numbers: &[String]) -> Account {
        Account {
            numbers: numbers.to_vec(),
            ..Default::default()
        }
    }

    fn holder(&self, number: &str) -> Holder<'_> {
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

    fn agent_index(&self, kind: IdentifierKind, value: &str) -> Option<usize> {
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

    /// After a change that moves agents.
    fn reindex(&mut self) {
        self.keys.clear();
        for index in 0..self.agents.len() {
            self.index_agent(index);
        }
    }

    fn agent_by_key(&self, key_id: &str, value: &str) -> Option<usize> {
        match key_id {
            "id" => self.agents.iter().position(|a| a.id == value),
            "user_object_id" => self.agent_index(IdentifierKind::UserObjectId, value),
            "consistency_id" => self.agent_index(IdentifierKind::ConsistencyId, value),
            "upn" => self.agent_index(IdentifierKind::Upn, value),
            _ => None,
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
        kind: IdentifierKind,
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

    /// The agent as get, list and update show it.
    pub fn view(&self, agent: &AgentRecord) -> Value {
        let mut numbers = Vec::new();
        if let Some(n) = &agent.messaging_number {
            numbers.push(json!({"type": "messaging", "value": n}));
        }
        let mut supervisors = Vec::new();
        if let Some(i) = self.supervised_inbox_of(&agent.user_object_id) {
            let inbox = &self.inboxes[i];
            numbers.push(json!({"type": "supervised", "value": inbox.phone_number}));
            for member in inbox.members.iter().filter(|m| **m != agent.user_object_id) {
                if let Some(s) = self.agent_index(IdentifierKind::UserObjectId, member) {
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
            "id": agent.id,
            "user_object_id": agent.user_object_id,
            "name": agent.name,
            "tenant_id": agent.tenant_id,
            "phone_number": numbers,
            "roles": agent.roles,
            "enabled_services": agent.enabled_services,
            "supervisors": supervisors,
            "shared_inbox": shared,
            "status": status(agent.active),
            "active": agent.active,
        });
        let object = view.as_object_mut().expect("a JSON object");
        for (key, value) in [
            ("upn", &agent.upn),
            ("consistency_id", &agent.consistency_id),
            ("brand_name", &agent.brand_name),
            ("department", &agent.department),
            ("region", &agent.region),
            ("state", &agent.state),
            ("district", &agent.district),
            ("store", &agent.store),
            ("city", &agent.city),
            ("zip_code", &agent.zip_code),
        ] {
            if let Some(v) = value {
                object.insert(key.into(), json!(v));
            }
        }
        view
    }

    /// Checks that `number` is registered and free (or already held by the agent
    /// `holder_uoid`, for updates).
    fn check_number_free(&self, number: &str, holder_uoid: Option<&str>) -> Result<(), String> {
        if !is_e164(number) {
            return Err("Invalid phone number format".into());
        }
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

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!(
            "{:024x}",
            0x5f7c_a4be_0000_0000_u64 as u128 * 0x1_0000 + self.next_id as u128
        )
    }

    // ---- agents -------------------------------------------------------------------------

    pub fn onboard(
        &mut self,
        items: &[Value],
        continue_on_error: bool,
        reassign_inbox: bool,
    ) -> Answer {
        run_batch(
            items,
            continue_on_error,
            "Onboarded successfully",
            "Onboarding failed",
            |_, item| {
                let agent: NewAgent = parse(item)?;
                self.onboard_one(agent, reassign_inbox)
                    .map_err(|e| vec![e])?;
                Ok(None)
            },
        )
    }

    fn onboard_one(&mut self, agent: NewAgent, reassign_inbox: bool) -> Result<(), String> {
        for (field, value) in [
            ("user_object_id", &agent.user_object_id),
            ("tenant_id", &agent.tenant_id),
            ("name", &agent.name),
        ] {
            if value.trim().is_empty() {
                return Err(format!("Missing required field: {field}"));
            }
        }
        if self
            .agent_index(IdentifierKind::UserObjectId, &agent.user_object_id)
            .is_some()
        {
            return Err("An agent with the same user_object_id already exists".into());
        }
        for (kind, value) in [
            (IdentifierKind::Upn, &agent.upn),
            (IdentifierKind::ConsistencyId, &agent.consistency_id),
        ] {
            if let Some(v) = value
                && self.agent_index(kind, v).is_some()
            {
                return Err(format!("An agent with the same {kind} already exists"));
            }
        }
        if agent.number_provisioning.len() > 2 {
            return Err("number_provisioning can have at most two elements".into());
        }
        let mut messaging = None;
        let mut supervised: Option<(&NumberProvisioning, Option<usize>)> = None;
        for p in &agent.number_provisioning {
            let taken = match p.number_type {
                NumberType::Messaging => messaging.replace(p.phone_number.clone()).is_some(),
                NumberType::Supervised => supervised.replace((p, None)).is_some(),
            };
            if taken {
                return Err(format!(
                    "Only one {} number can be provisioned",
                    p.number_type
                ));
            }
            if p.supervisors.is_some() && p.number_type != NumberType::Supervised {
                return Err("supervisors can only be used with a supervised number".into());
            }
        }
        if let Some(number) = &messaging {
            self.check_number_free(number, None)?;
        }
        let mut supervisor_ids = Vec::new();
        if let Some((p, orphan)) = &mut supervised {
            if let Err(e) = self.check_number_free(&p.phone_number, None) {
                // A supervised inbox whose owner is gone or deactivated can be taken over.
                let inbox = self.inboxes.iter().position(|i| {
                    i.phone_number == p.phone_number
                        && i.inbox_type == InboxType::Supervised
                        && i.owner.as_deref().is_none_or(|o| {
                            self.agent_index(IdentifierKind::UserObjectId, o)
                                .is_none_or(|a| !self.agents[a].active)
                        })
                });
                match inbox {
                    Some(i) if reassign_inbox => *orphan = Some(i),
                    Some(_) => {
                        return Err(format!(
                            "Phone number {} belongs to the supervised inbox of an offboarded or deactivated agent; use reassignInbox=true to take it over",
                            p.phone_number
                        ));
                    }
                    None => return Err(e),
                }
            }
            if let Some(s) = &p.supervisors {
                if !matches!(
                    s.identifier,
                    IdentifierKind::UserObjectId
                        | IdentifierKind::Upn
                        | IdentifierKind::ConsistencyId
                ) {
                    return Err(format!("Invalid supervisors identifier: {}", s.identifier));
                }
                // An agent may name itself among its supervisors (the reference's example
                // does); it is the inbox's owner anyway.
                supervisor_ids = s
                    .values
                    .iter()
                    .filter(|v| {
                        s.identifier != IdentifierKind::UserObjectId || **v != agent.user_object_id
                    })
                    .map(|v| {
                        self.agent_index(s.identifier, v)
                            .map(|i| self.agents[i].user_object_id.clone())
                            .ok_or_else(|| format!("Supervisor not found: {} {v}", s.identifier))
                    })
                    .collect::<Result<_, _>>()?;
            }
        }
        let enabled_services = agent.enabled_services.clone().unwrap_or(EnabledServices {
            messages: Some(messaging.is_some()),
            supervised_inbox: Some(supervised.is_some()),
            calls: Some(false),
            shared_inbox: Some(false),
        });
        let uoid = agent.user_object_id.clone();
        if let Some((p, orphan)) = supervised {
            match orphan {
                Some(i) => {
                    let inbox = &mut self.inboxes[i];
                    inbox.owner = Some(uoid.clone());
                    for s in supervisor_ids {
                        if !inbox.members.contains(&s) {
                            inbox.members.push(s);
                        }
                    }
                }
                None => {
                    let mut members = vec![uoid.clone()];
                    members.extend(supervisor_ids);
                    self.inboxes.push(InboxRecord {
                        name: format!("{} (supervised)", agent.name),
                        inbox_type: InboxType::Supervised,
                        phone_number: p.phone_number.clone(),
                        owner: Some(uoid.clone()),
                        members,
                    });
                }
            }
        }
        let id = self.new_id();
        self.agents.push(AgentRecord {
            id,
            user_object_id: uoid,
            tenant_id: agent.tenant_id,
            name: agent.name,
            upn: agent.upn,
            consistency_id: agent.consistency_id,
            brand_name: agent.brand_name,
            department: agent.department,
            region: agent.region,
            state: agent.state,
            district: agent.district,
            store: agent.store,
            city: agent.city,
            zip_code: agent.zip_code,
            roles: agent
                .roles
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| vec![Role::Member]),
            enabled_services,
            messaging_number: messaging,
            active: true,
        });
        self.index_agent(self.agents.len() - 1);
        Ok(())
    }

    pub fn get_agent(&self, agent_id: &str, key_id: Option<&str>, upn: Option<&str>) -> Answer {
        let key_id = key_id.unwrap_or("user_object_id");
        if !["user_object_id", "consistency_id", "upn"].contains(&key_id) {
            return failed(
                "Invalid key_id",
                vec![json!(format!(
                    "key_id must be user_object_id, consistency_id or upn, not {key_id}"
                ))],
            );
        }
        match self.agent_by_key(key_id, agent_id) {
            Some(i) if upn.is_none_or(|u| self.agents[i].upn.as_deref() == Some(u)) => {
                (200, self.view(&self.agents[i]))
            }
            _ => not_found(),
        }
    }

    pub fn list_agents(&self, filter: &AgentFilter) -> Answer {
        let matches = |a: &AgentRecord| {
            let eq = |want: &Option<String>, have: Option<&str>| {
                want.as_deref().is_none_or(|w| have == Some(w))
            };
            let number_ok = filter.phone_number.as_deref().is_none_or(|n| {
                a.messaging_number.as_deref() == Some(n)
                    || self
                        .supervised_inbox_of(&a.user_object_id)
                        .is_some_and(|i| self.inboxes[i].phone_number == n)
            });
            eq(&filter.user_object_id, Some(&a.user_object_id))
                && eq(&filter.tenant_id, Some(&a.tenant_id))
                && eq(&filter.consistency_id, a.consistency_id.as_deref())
                && eq(&filter.upn, a.upn.as_deref())
                && number_ok
        };
        let list: Vec<Value> = self
            .agents
            .iter()
            .filter(|a| matches(a))
            .map(|a| self.view(a))
            .collect();
        if list.is_empty() {
            // The reference documents 404 `object not found` for this endpoint too.
            return not_found();
        }
        (200, Value::Array(list))
    }

    pub fn update_agent(&mut self, agent_id: &str, key_id: Option<&str>, body: &Value) -> Answer {
        let key_id = key_id.unwrap_or("user_object_id");
        if !["user_object_id", "consistency_id", "id"].contains(&key_id) {
            return failed(
                "Invalid key_id",
                vec![json!(format!(
                    "key_id must be user_object_id, consistency_id or id, not {key_id}"
                ))],
            );
        }
        let Some(index) = self.agent_by_key(key_id, agent_id) else {
            return not_found();
        };
        let changes = match parse::<AgentChanges>(body) {
            Ok(c) => c,
            Err(e) => return failed("Update failed", vec![item_error(0, e)]),
        };
        match self.apply_changes(index, &changes) {
            Ok(()) => {
                let mut view = self.view(&self.agents[index]);
                view["itemIndex"] = json!(0);
                (200, view)
            }
            Err(e) => failed("Update failed", vec![item_error(0, vec![e])]),
        }
    }

    pub fn update_many(&mut self, items: &[Value], continue_on_error: bool) -> Answer {
        run_batch(
            items,
            continue_on_error,
            "Updated successfully",
            "Update failed",
            |_, item| {
                let update: AgentUpdate = parse(item)?;
                let Some(index) = self.agent_index(update.target.identifier, &update.target.value)
                else {
                    return Err(vec![format!(
                        "User with the specified {} not found",
                        update.target.identifier
                    )]);
                };
                self.apply_changes(index, &update.updates)
                    .map_err(|e| vec![e])?;
                Ok(Some(self.view(&self.agents[index])))
            },
        )
    }

    /// Applies every change or none.
    fn apply_changes(&mut self, index: usize, changes: &AgentChanges) -> Result<(), String> {
        let current = self.agents[index].clone();
        let uoid = current.user_object_id.clone();
        for (kind, value) in [
            (IdentifierKind::UserObjectId, &changes.user_object_id),
            (IdentifierKind::Upn, &changes.upn),
            (IdentifierKind::ConsistencyId, &changes.consistency_id),
        ] {
            if let Some(v) = value {
                if v.trim().is_empty() {
                    return Err(format!("{kind} must not be empty"));
                }
                if self
                    .agent_index(kind, v)
                    .is_some_and(|other| other != index)
                {
                    return Err(format!("An agent with the same {kind} already exists"));
                }
            }
        }
        let mut new_messaging = current.messaging_number.clone();
        let mut new_supervised = None;
        for (n, p) in changes.phone_number.iter().flatten().enumerate() {
            if changes
                .phone_number
                .iter()
                .flatten()
                .skip(n + 1)
                .any(|q| q.number_type == p.number_type)
            {
                return Err(format!("Only one {} number can be assigned", p.number_type));
            }
            self.check_number_free(&p.value, Some(&uoid))?;
            match p.number_type {
                NumberType::Messaging => new_messaging = Some(p.value.clone()),
                NumberType::Supervised => new_supervised = Some(p.value.clone()),
            }
        }
        self.unindex_agent(index);
        let agent = &mut self.agents[index];
        let set = |field: &mut Option<String>, value: &Option<String>| {
            if value.is_some() {
                field.clone_from(value);
            }
        };
        if let Some(v) = &changes.user_object_id {
            agent.user_object_id = v.clone();
        }
        if let Some(v) = &changes.tenant_id {
            agent.tenant_id = v.clone();
        }
        if let Some(v) = &changes.name {
            agent.name = v.clone();
        }
        set(&mut agent.upn, &changes.upn);
        set(&mut agent.consistency_id, &changes.consistency_id);
        set(&mut agent.brand_name, &changes.brand_name);
        set(&mut agent.department, &changes.department);
        set(&mut agent.region, &changes.region);
        set(&mut agent.state, &changes.state);
        set(&mut agent.district, &changes.district);
        set(&mut agent.store, &changes.store);
        set(&mut agent.city, &changes.city);
        set(&mut agent.zip_code, &changes.zip_code);
        if let Some(roles) = &changes.roles {
            for r in &roles.assign {
                if !agent.roles.contains(r) {
                    agent.roles.push(*r);
                }
            }
            agent.roles.retain(|r| !roles.remove.contains(r));
        }
        if let Some(s) = &changes.enabled_services {
            let e = &mut agent.enabled_services;
            e.messages = s.messages.or(e.messages);
            e.supervised_inbox = s.supervised_inbox.or(e.supervised_inbox);
            e.calls = s.calls.or(e.calls);
            e.shared_inbox = s.shared_inbox.or(e.shared_inbox);
        }
        if let Some(active) = changes.active {
            agent.active = active;
        }
        agent.messaging_number = new_messaging;
        let new_uoid = agent.user_object_id.clone();
        let name = agent.name.clone();
        self.index_agent(index);
        // Inboxes refer to agents by user_object_id: follow a rename.
        if new_uoid != uoid {
            for inbox in &mut self.inboxes {
                if inbox.owner.as_deref() == Some(&uoid) {
                    inbox.owner = Some(new_uoid.clone());
                }
                for m in &mut inbox.members {
                    if *m == uoid {
                        m.clone_from(&new_uoid);
                    }
                }
            }
        }
        if let Some(number) = new_supervised {
            match self.supervised_inbox_of(&new_uoid) {
                Some(i) => self.inboxes[i].phone_number = number,
                None => self.inboxes.push(InboxRecord {
                    name: format!("{name} (supervised)"),
                    inbox_type: InboxType::Supervised,
                    phone_number: number,
                    owner: Some(new_uoid.clone()),
                    members: vec![new_uoid],
                }),
            }
        }
        Ok(())
    }

    /// Removes an agent: its messaging number is released; its supervised inbox is
    /// deprovisioned (number released) only with `deprovision`, else it stays, ownerless
    /// until another agent takes it over with `reassignInbox`. It leaves every inbox it was in.
    fn offboard_index(&mut self, index: usize, deprovision: bool) {
        let agent = self.agents.remove(index);
        self.reindex();
        let uoid = agent.user_object_id;
        if deprovision {
            self.inboxes.retain(|i| {
                !(i.inbox_type == InboxType::Supervised && i.owner.as_deref() == Some(&uoid))
            });
        }
        for inbox in &mut self.inboxes {
            inbox.members.retain(|m| *m != uoid);
        }
    }

    pub fn offboard_agent(
        &mut self,
        agent_id: &str,
        key_id: Option<&str>,
        deprovision: bool,
    ) -> Answer {
        let key_id = key_id.unwrap_or("user_object_id");
        if !["user_object_id", "consistency_id", "id"].contains(&key_id) {
            return failed(
                "Unsuccessful offboarding",
                vec![json!(format!("Invalid key_id: {key_id}"))],
            );
        }
        match self.agent_by_key(key_id, agent_id) {
            Some(i) => {
                self.offboard_index(i, deprovision);
                (200, json!({"message": "Agent successfully offboarded"}))
            }
            None => failed("Unsuccessful offboarding", vec![json!("Agent not found")]),
        }
    }

    pub fn offboard_many(
        &mut self,
        items: &[Value],
        continue_on_error: bool,
        deprovision: bool,
    ) -> Answer {
        run_batch(
            items,
            continue_on_error,
            "Offboarded successfully",
            "Offboarding failed",
            |_, item| {
                let item: OffboardItem = parse(item)?;
                if item.identifier == IdentifierKind::PhoneNumber {
                    return Err(vec!["Invalid identifier: phone_number".into()]);
                }
                if item.value.is_empty() {
                    return Err(vec!["value must list at least one identifier value".into()]);
                }
                let mut targets = Vec::new();
                let mut errors = Vec::new();
                for v in &item.value {
                    let found: Vec<String> = self
                        .agents
                        .iter()
                        .filter(|a| a.field(item.identifier) == Some(v.as_str()))
                        .map(|a| a.user_object_id.clone())
                        .collect();
                    if found.is_empty() {
                        errors.push(match item.identifier {
                            IdentifierKind::UserObjectId => {
                                "Azure Object ID is not registered with SmartCommunicator"
                                    .to_string()
                            }
                            kind => format!(
                                "Agent with {kind} {v} is not registered with SmartCommunicator"
                            ),
                        });
                    }
                    targets.extend(found);
                }
                if !errors.is_empty() {
                    return Err(errors);
                }
                for uoid in targets {
                    if let Some(i) = self.agent_index(IdentifierKind::UserObjectId, &uoid) {
                        self.offboard_index(i, deprovision);
                    }
                }
                Ok(None)
            },
        )
    }

    // ---- inboxes ------------------------------------------------------------------------

    pub fn create_inboxes(&mut self, items: &[Value], continue_on_error: bool) -> Answer {
        run_batch(
            items,
            continue_on_error,
            "Success",
            "Creating inboxes failed",
            |_, item| {
                let inbox: NewInbox = parse(item)?;
                self.create_inbox(inbox).map_err(|e| vec![e])?;
                Ok(None)
            },
        )
    }

    fn create_inbox(&mut self, inbox: NewInbox) -> Result<(), String> {
        if inbox.name.trim().is_empty() {
            return Err("Missing required field: name".into());
        }
        if self.inboxes.iter().any(|i| {
            i.phone_number == inbox.phone_number
                || (i.name == inbox.name && i.inbox_type == inbox.inbox_type)
        }) {
            return Err("Inbox already exists".into());
        }
        self.check_number_free(&inbox.phone_number, None)?;
        let agent_kinds = [
            IdentifierKind::UserObjectId,
            IdentifierKind::Upn,
            IdentifierKind::ConsistencyId,
        ];
        if !agent_kinds.contains(&inbox.users.identifier) {
            return Err(format!(
                "Invalid users identifier: {}",
                inbox.users.identifier
            ));
        }
        let mut members = self.resolve(inbox.users.identifier, &inbox.users.values, "User")?;
        let owner = match (inbox.inbox_type, &inbox.owner) {
            (InboxType::Supervised, None) => {
                return Err("owner is required for a supervised inbox".into());
            }
            (InboxType::Supervised, Some(owner)) => {
                if !agent_kinds.contains(&owner.identifier) {
                    return Err(format!("Invalid owner identifier: {}", owner.identifier));
                }
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
            (InboxType::Shared, _) => None,
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

    pub fn assign(&mut self, items: &[Value]) -> Answer {
        run_batch(
            items,
            false,
            "Assignment successful",
            "Assignment failed",
            |_, item| {
                let mut item = item.clone();
                // The reference's parameter list spells the key `vlaues`; its examples say `values`.
                if let Some(agents) = item.get_mut("agents").and_then(Value::as_object_mut)
                    && !agents.contains_key("values")
                    && let Some(v) = agents.remove("vlaues")
                {
                    agents.insert("values".into(), v);
                }
                let assignment: Assignment = parse(&item)?;
                self.apply_assignment(assignment).map_err(|e| vec![e])?;
                Ok(None)
            },
        )
    }

    fn apply_assignment(&mut self, a: Assignment) -> Result<(), String> {
        let inbox = match (a.inbox.inbox_type, a.inbox.identifier) {
            (InboxType::Shared, IdentifierKind::PhoneNumber) => self
                .inboxes
                .iter()
                .position(|i| i.inbox_type == InboxType::Shared && i.phone_number == a.inbox.value),
            (
                InboxType::Supervised,
                kind @ (IdentifierKind::UserObjectId
                | IdentifierKind::ConsistencyId
                | IdentifierKind::Upn),
            ) => self
                .agent_index(kind, &a.inbox.value)
                .and_then(|i| self.supervised_inbox_of(&self.agents[i].user_object_id.clone())),
            (t, kind) => return Err(format!("Invalid identifier {kind} for a {t} inbox")),
        };
        let Some(inbox) = inbox else {
            return Err("Target inbox not found".into());
        };
        if !matches!(
            a.agents.identifier,
            IdentifierKind::UserObjectId | IdentifierKind::Upn | IdentifierKind::ConsistencyId
        ) {
            return Err(format!(
                "Invalid agents identifier: {}",
                a.agents.identifier
            ));
        }
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

    // ---- numbers ------------------------------------------------------------------------

    pub fn list_numbers(&self, status: Option<&str>, matching: Option<&str>) -> Answer {
        let status = match status {
            None => None,
            Some("assigned") => Some(NumberStatus::Assigned),
            Some("active") => Some(NumberStatus::Active),
            Some(other) => {
                return failed(
                    "Invalid status",
                    vec![json!(format!(
                        "status must be assigned or active, not {other}"
                    ))],
                );
            }
        };
        if let Some(m) = matching
            && (!(1..=11).contains(&m.len()) || !m.bytes().all(|b| b.is_ascii_digit()))
        {
            return failed("Invalid match", vec![json!("match must be 1 to 11 digits")]);
        }
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
                                .and_then(|o| self.agent_index(IdentifierKind::UserObjectId, o))
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

fn status(active: bool) -> &'static str {
    if active { "active" } else { "inactive" }
}

fn assignee(a: &AgentRecord) -> Value {
    json!({
        "name": a.name,
        "user_object_id": a.user_object_id,
        "upn": a.upn,
        "consistency_id": a.consistency_id,
    })
}

fn parse<T: serde::de::DeserializeOwned>(item: &Value) -> Result<T, Vec<String>> {
    serde_json::from_value(item.clone()).map_err(|e| vec![format!("Invalid item: {e}")])
}

/// Runs a batch the way this emulator reads the API: items are applied in order, each item
/// entirely or not at all. Without `continueOnError` the first failing item stops the batch:
/// the items before it stay applied, the ones after it are not looked at. The answer is 200
/// when every item was applied, else 400 with the failing items' errors (and, for updates,
/// the `result` of the applied ones).
fn run_batch(
    items: &[Value],
    continue_on_error: bool,
    ok_message: &str,
    failed_message: &str,
    mut apply: impl FnMut(usize, &Value) -> Result<Option<Value>, Vec<String>>,
) -> Answer {
    if items.is_empty() {
        return failed(
            failed_message,
            vec![json!("The request body must be a non-empty array")],
        );
    }
    if items.len() > MAX_BATCH {
        return failed(
            failed_message,
            vec![json!(format!(
                "Batch operations are limited to {MAX_BATCH} items per request"
            ))],
        );
    }
    let mut errors = Vec::new();
    let mut results = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match apply(i, item) {
            Ok(Some(mut view)) => {
                view["itemIndex"] = json!(i);
                results.push(view);
            }
            Ok(None) => {}
            Err(messages) => {
                errors.push(item_error(i, messages));
                if !continue_on_error {
                    break;
                }
            }
        }
    }
    let mut body = if errors.is_empty() {
        json!({"message": ok_message, "errors": []})
    } else {
        json!({"message": failed_message, "errors": errors})
    };
    if !results.is_empty() {
        body["result"] = Value::Array(results);
    }
    (if errors.is_empty() { 200 } else { 400 }, body)
}

/// Every customer's account, created on first use with the seeded numbers.
#[derive(Debug, Default, Serialize)]
pub struct Accounts {
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
mod tests {
    use super::*;

    fn account() -> Account {
        Account::seeded(&seed_numbers(10))
    }

    fn agent(uoid: &str, numbers: Value) -> Value {
        json!({"user_object_id": uoid, "tenant_id": "t", "name": uoid, "upn": format!("{uoid}@x.com"), "number_provisioning": numbers})
    }

    fn holder_of(a: &Account, number: &str) -> Option<String> {
        let (_, list) = a.list_numbers(Some("assigned"), None);
        list.as_array()
            .unwrap()
            .iter()
            .find(|n| n["number"] == number)
            .map(|n| {
                n["assignedTo"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
    }

    #[test]
    fn onboarding_assigns_numbers_and_offboarding_releases_them_as_asked() {
        let mut a = account();
        let n = seed_numbers(2);
        let (status, _) = a.onboard(
            &[agent("x", json!([{"type": "messaging", "phone_number": n[0]}, {"type": "supervised", "phone_number": n[1]}]))],
            false,
            false,
        );
        assert_eq!(status, 200);
        assert_eq!(holder_of(&a, &n[0]).as_deref(), Some("x"));
        assert_eq!(holder_of(&a, &n[1]).as_deref(), Some("x"));
        // Without deprovisioning the supervised inbox keeps its number.
        a.offboard_agent("x", None, false);
        assert_eq!(holder_of(&a, &n[0]), None);
        assert!(holder_of(&a, &n[1]).is_some());
        assert_eq!(a.inboxes[0].owner.as_deref(), Some("x"));
    }

    #[test]
    fn deprovisioning_removes_the_supervised_inbox_and_frees_its_number() {
        let mut a = account();
        let n = seed_numbers(1);
        a.onboard(
            &[agent(
                "x",
                json!([{"type": "supervised", "phone_number": n[0]}]),
            )],
            false,
            false,
        );
        a.offboard_agent("x", None, true);
        assert!(a.inboxes.is_empty());
        assert_eq!(holder_of(&a, &n[0]), None);
    }

    #[test]
    fn a_number_is_held_by_one_agent_or_inbox_at_a_time() {
        let mut a = account();
        let n = seed_numbers(1);
        a.onboard(
            &[agent(
                "x",
                json!([{"type": "messaging", "phone_number": n[0]}]),
            )],
            false,
            false,
        );
        let (status, body) = a.onboard(
            &[agent(
                "y",
                json!([{"type": "messaging", "phone_number": n[0]}]),
            )],
            false,
            false,
        );
        assert_eq!(status, 400);
        assert_eq!(
            body["errors"][0]["errors"][0],
            format!("Phone number {} is already assigned", n[0])
        );
        let (_, body) = a.create_inboxes(
            &[json!({"name": "S", "type": "shared", "phone_number": n[0], "users": {"identifier": "user_object_id", "values": ["x"]}})],
            false,
        );
        assert!(
            body["errors"][0]["errors"][0]
                .as_str()
                .unwrap()
                .contains("already assigned")
        );
        let (_, body) = a.onboard(
            &[agent(
                "z",
                json!([{"type": "messaging", "phone_number": "+19999999999"}]),
            )],
            false,
            false,
        );
        assert!(
            body["errors"][0]["errors"][0]
                .as_str()
                .unwrap()
                .contains("not registered")
        );
    }

    #[test]
    fn reassign_inbox_hands_an_orphaned_supervised_inbox_to_the_new_agent() {
        let mut a = account();
        let n = seed_numbers(1);
        a.onboard(
            &[agent(
                "old",
                json!([{"type": "supervised", "phone_number": n[0]}]),
            )],
            false,
            false,
        );
        a.offboard_agent("old", None, false);
        let (status, _) = a.onboard(
            &[agent(
                "new",
                json!([{"type": "supervised", "phone_number": n[0]}]),
            )],
            false,
            false,
        );
        assert_eq!(status, 400);
        let (status, _) = a.onboard(
            &[agent(
                "new",
                json!([{"type": "supervised", "phone_number": n[0]}]),
            )],
            false,
            true,
        );
        assert_eq!(status, 200);
        assert_eq!(a.inboxes.len(), 1);
        assert_eq!(a.inboxes[0].owner.as_deref(), Some("new"));
    }

    #[test]
    fn a_deactivated_owner_also_frees_the_inbox_for_reassignment() {
        let mut a = account();
        let n = seed_numbers(1);
        a.onboard(
            &[agent(
                "old",
                json!([{"type": "supervised", "phone_number": n[0]}]),
            )],
            false,
            false,
        );
        a.update_agent("old", None, &json!({"active": false}));
        let (status, _) = a.onboard(
            &[agent(
                "new",
                json!([{"type": "supervised", "phone_number": n[0]}]),
            )],
            false,
            true,
        );
        assert_eq!(status, 200);
    }

    #[test]
    fn without_continue_on_error_items_before_the_failure_stay_applied_and_later_ones_are_not_tried()
     {
        let mut a = account();
        let items = [
            agent("a", json!([])),
            agent("a", json!([])),
            agent("b", json!([])),
        ];
        let (status, body) = a.onboard(&items, false, false);
        assert_eq!(status, 400);
        assert_eq!(
            body["errors"],
            json!([{"itemIndex": 1, "errors": ["An agent with the same user_object_id already exists"]}])
        );
        assert_eq!(a.agents.len(), 1);

        let mut a = account();
        let (status, body) = a.onboard(&items, true, false);
        assert_eq!(status, 400);
        assert_eq!(body["errors"].as_array().unwrap().len(), 1);
        assert_eq!(
            a.agents.len(),
            2,
            "continueOnError applies every valid item"
        );
    }

    #[test]
    fn batches_over_ten_are_refused_whole() {
        let mut a = account();
        let items: Vec<Value> = (0..11)
            .map(|i| agent(&format!("u{i}"), json!([])))
            .collect();
        let (status, body) = a.onboard(&items, true, false);
        assert_eq!(status, 400);
        assert_eq!(
            body["errors"][0],
            "Batch operations are limited to 10 items per request"
        );
        assert!(a.agents.is_empty());
    }

    #[test]
    fn supervised_inbox_ownership_and_membership_rules() {
        let mut a = account();
        let n = seed_numbers(3);
        a.onboard(
            &[agent("o", json!([])), agent("s", json!([]))],
            false,
            false,
        );
        let inbox = |number: &str| {
            json!({"name": number, "type": "supervised", "phone_number": number,
            "owner": {"identifier": "upn", "value": "o@x.com"}, "users": {"identifier": "user_object_id", "values": ["s"]}})
        };
        assert_eq!(a.create_inboxes(&[inbox(&n[0])], false).0, 200);
        assert_eq!(a.inboxes[0].members, vec!["o".to_string(), "s".to_string()]);
        let (_, body) = a.create_inboxes(&[inbox(&n[1])], false);
        assert_eq!(
            body["errors"][0]["errors"][0],
            "The owner already has a supervised inbox"
        );
        let remove_owner = json!({"inbox": {"type": "supervised", "identifier": "user_object_id", "value": "o"},
            "agents": {"identifier": "user_object_id", "vlaues": ["o"]}, "operation": "remove"});
        let (_, body) = a.assign(&[remove_owner]);
        assert_eq!(
            body["errors"][0]["errors"][0],
            "The owner cannot be removed from a supervised inbox"
        );
        let view = a.view(&a.agents[0]);
        assert_eq!(view["supervisors"][0]["user_object_id"], "s");
    }

    #[test]
    fn offboarding_removes_the_agent_from_every_inbox() {
        let mut a = account();
        let n = seed_numbers(1);
        a.onboard(
            &[agent("a", json!([])), agent("b", json!([]))],
            false,
            false,
        );
        a.create_inboxes(
            &[json!({"name": "S", "type": "shared", "phone_number": n[0], "users": {"identifier": "user_object_id", "values": ["a", "b"]}})],
            false,
        );
        let (status, _) = a.offboard_many(
            &[json!({"identifier": "upn", "value": ["a@x.com"]})],
            false,
            false,
        );
        assert_eq!(status, 200);
        assert_eq!(a.inboxes[0].members, vec!["b".to_string()]);
    }
}
