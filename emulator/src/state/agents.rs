//! The agent endpoints: onboard, read, list, update, offboard.

use super::{
    Account, AgentRecord, Answer, Identifier, InboxRecord, InboxType, OFFBOARDING, OFFBOARDING_ONE,
    ONBOARDING, READING_AGENT_FAILED, Role, UPDATING, failed, item_error, not_found, refused,
    run_batch,
};
use crate::wire::{
    self, AgentChanges, AgentFilter, CHANGE_KEY_IDS, EnabledServices, GET_KEY_IDS, NewAgent,
    NumberType,
};
use serde_json::{Value, json};

impl Account {
    pub fn onboard(
        &mut self,
        body: &Value,
        continue_on_error: bool,
        reassign_inbox: bool,
    ) -> Answer {
        run_batch(body, continue_on_error, &ONBOARDING, |_, item| {
            let agent = wire::new_agent(item)?;
            self.onboard_one(agent, reassign_inbox)
                .map_err(|e| vec![e])?;
            Ok(None)
        })
    }

    fn onboard_one(&mut self, agent: NewAgent, reassign_inbox: bool) -> Result<(), String> {
        if self
            .agent_index(Identifier::UserObjectId, &agent.user_object_id)
            .is_some()
        {
            return Err("An agent with the same user_object_id already exists".into());
        }
        for (kind, value) in [
            (Identifier::Upn, &agent.profile.upn),
            (Identifier::ConsistencyId, &agent.profile.consistency_id),
        ] {
            if let Some(v) = value
                && self.agent_index(kind, v).is_some()
            {
                return Err(format!("An agent with the same {kind} already exists"));
            }
        }
        if let Some(number) = &agent.messaging_number {
            self.check_number_free(number, None)?;
        }
        let mut orphan = None;
        let mut supervisor_ids = Vec::new();
        if let Some(supervised) = &agent.supervised_number {
            let number = &supervised.phone_number;
            if let Err(e) = self.check_number_free(number, None) {
                // A supervised inbox whose owner is gone or deactivated can be taken over.
                let inbox = self.inboxes.iter().position(|i| {
                    i.phone_number == *number
                        && i.inbox_type == InboxType::Supervised
                        && i.owner.as_deref().is_none_or(|o| {
                            self.agent_index(Identifier::UserObjectId, o)
                                .is_none_or(|a| !self.agents[a].active)
                        })
                });
                match inbox {
                    Some(i) if reassign_inbox => orphan = Some(i),
                    Some(_) => {
                        return Err(format!(
                            "Phone number {number} belongs to the supervised inbox of an offboarded or deactivated agent; use reassignInbox=true to take it over"
                        ));
                    }
                    None => return Err(e),
                }
            }
            if let Some(s) = &supervised.supervisors {
                // An agent may name itself among its supervisors (the reference's example
                // does); it is the inbox's owner anyway.
                supervisor_ids = s
                    .values
                    .iter()
                    .filter(|v| {
                        s.identifier != Identifier::UserObjectId || **v != agent.user_object_id
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
            messages: Some(agent.messaging_number.is_some()),
            supervised_inbox: Some(agent.supervised_number.is_some()),
            calls: Some(false),
            shared_inbox: Some(false),
        });
        let uoid = agent.user_object_id.clone();
        if let Some(supervised) = &agent.supervised_number {
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
                        phone_number: supervised.phone_number.clone(),
                        owner: Some(uoid.clone()),
                        members,
                    });
                }
            }
        }
        let id = self.new_id();
        let profile = agent.profile;
        self.agents.push(AgentRecord {
            id,
            user_object_id: uoid,
            tenant_id: agent.tenant_id,
            name: agent.name,
            upn: profile.upn,
            consistency_id: profile.consistency_id,
            brand_name: profile.brand_name,
            department: profile.department,
            region: profile.region,
            state: profile.state,
            district: profile.district,
            store: profile.store,
            city: profile.city,
            zip_code: profile.zip_code,
            roles: agent
                .roles
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| vec![Role::Member]),
            enabled_services,
            messaging_number: agent.messaging_number,
            active: true,
        });
        self.index_agent(self.agents.len() - 1);
        Ok(())
    }

    pub fn get_agent(&self, agent_id: &str, key_id: Option<&str>, upn: Option<&str>) -> Answer {
        let key_id = match wire::key_id(key_id, GET_KEY_IDS) {
            Ok(key_id) => key_id,
            Err(problem) => return refused(READING_AGENT_FAILED, vec![problem]),
        };
        match self.agent_by_key(key_id, agent_id) {
            Some(i) if upn.is_none_or(|u| self.agents[i].upn.as_deref() == Some(u)) => {
                (200, self.view(&self.agents[i]))
            }
            _ => not_found(),
        }
    }

    pub(crate) fn list_agents(&self, filter: &AgentFilter) -> Answer {
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

    /// The body is read before the agent is looked up: a malformed request is a 400 whoever
    /// it names.
    pub fn update_agent(&mut self, agent_id: &str, key_id: Option<&str>, body: &Value) -> Answer {
        let key_id = match wire::key_id(key_id, CHANGE_KEY_IDS) {
            Ok(key_id) => key_id,
            Err(problem) => return refused(UPDATING.failure, vec![problem]),
        };
        let changes = match wire::agent_changes(body) {
            Ok(changes) => changes,
            Err(problems) if !body.is_object() => return refused(UPDATING.failure, problems),
            Err(problems) => return failed(UPDATING.failure, vec![item_error(0, problems)]),
        };
        let Some(index) = self.agent_by_key(key_id, agent_id) else {
            return not_found();
        };
        match self.apply_changes(index, &changes) {
            Ok(()) => (200, self.updated_view(&self.agents[index], 0)),
            Err(e) => failed(UPDATING.failure, vec![item_error(0, vec![e])]),
        }
    }

    pub fn update_many(&mut self, body: &Value, continue_on_error: bool) -> Answer {
        run_batch(body, continue_on_error, &UPDATING, |i, item| {
            let update = match wire::agent_update(item) {
                Ok(update) => update,
                Err(mut problems) => {
                    if let Some(target) = wire::update_target(item)
                        && self.agent_index(target.identifier, &target.value).is_none()
                    {
                        problems.push(target_not_found(target.identifier));
                    }
                    return Err(problems);
                }
            };
            let Some(index) = self.agent_index(update.target.identifier, &update.target.value)
            else {
                return Err(vec![target_not_found(update.target.identifier)]);
            };
            self.apply_changes(index, &update.updates)
                .map_err(|e| vec![e])?;
            Ok(Some(self.updated_view(&self.agents[index], i)))
        })
    }

    /// Applies every change or none.
    fn apply_changes(&mut self, index: usize, changes: &AgentChanges) -> Result<(), String> {
        let current = self.agents[index].clone();
        let uoid = current.user_object_id.clone();
        for (kind, value) in [
            (Identifier::UserObjectId, &changes.user_object_id),
            (Identifier::Upn, &changes.profile.upn),
            (Identifier::ConsistencyId, &changes.profile.consistency_id),
        ] {
            if let Some(v) = value
                && self
                    .agent_index(kind, v)
                    .is_some_and(|other| other != index)
            {
                return Err(format!("An agent with the same {kind} already exists"));
            }
        }
        let mut new_messaging = current.messaging_number.clone();
        let mut new_supervised = None;
        for (number_type, number) in &changes.phone_numbers {
            self.check_number_free(number, Some(&uoid))?;
            match number_type {
                NumberType::Messaging => new_messaging = Some(number.clone()),
                NumberType::Supervised => new_supervised = Some(number.clone()),
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
        let profile = &changes.profile;
        set(&mut agent.upn, &profile.upn);
        set(&mut agent.consistency_id, &profile.consistency_id);
        set(&mut agent.brand_name, &profile.brand_name);
        set(&mut agent.department, &profile.department);
        set(&mut agent.region, &profile.region);
        set(&mut agent.state, &profile.state);
        set(&mut agent.district, &profile.district);
        set(&mut agent.store, &profile.store);
        set(&mut agent.city, &profile.city);
        set(&mut agent.zip_code, &profile.zip_code);
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
        let uoid = self.remove_agent(index).user_object_id;
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
        let key_id = match wire::key_id(key_id, CHANGE_KEY_IDS) {
            Ok(key_id) => key_id,
            Err(problem) => return refused(OFFBOARDING_ONE.failure, vec![problem]),
        };
        match self.agent_by_key(key_id, agent_id) {
            Some(i) => {
                self.offboard_index(i, deprovision);
                (200, json!({"message": OFFBOARDING_ONE.success}))
            }
            None => failed(OFFBOARDING_ONE.failure, vec![json!("Agent not found")]),
        }
    }

    pub fn offboard_many(
        &mut self,
        body: &Value,
        continue_on_error: bool,
        deprovision: bool,
    ) -> Answer {
        run_batch(body, continue_on_error, &OFFBOARDING, |_, item| {
            let item = wire::offboard_item(item)?;
            let mut targets = Vec::new();
            let mut errors = Vec::new();
            for v in &item.values {
                let found: Vec<String> = self
                    .agents
                    .iter()
                    .filter(|a| a.field(item.identifier) == Some(v.as_str()))
                    .map(|a| a.user_object_id.clone())
                    .collect();
                if found.is_empty() {
                    errors.push(match item.identifier {
                        Identifier::UserObjectId => {
                            "Azure Object ID is not registered with SmartCommunicator".to_string()
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
                if let Some(i) = self.agent_index(Identifier::UserObjectId, &uoid) {
                    self.offboard_index(i, deprovision);
                }
            }
            Ok(None)
        })
    }
}

fn target_not_found(identifier: Identifier) -> String {
    format!("User with the specified {identifier} not found")
}
