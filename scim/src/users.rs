//! `/Users`: each SCIM request as the fewest API requests that answer it. A read by id or by
//! filter is one request; a create is one (and a read only when the API says the agent
//! exists); a PATCH, PUT or DELETE is one read (which keeps it to the bridge's tenant) and one
//! write. A request that deactivates the user gets its deactivation applied even when the
//! rest of it is refused: a leaver never stays active.

use crate::bridge::Bridge;
use crate::discovery::{self, MAX_RESULTS};
use crate::error::ScimError;
use crate::exchange::{ScimRequest, ScimResponse};
use crate::filter::Comparison;
use crate::key;
use crate::patch;
use crate::projection::Projection;
use crate::user;
use smartcomm::batch::Outcome;
use smartcomm::converge::says_exists;
use smartcomm::model::{Agent, AgentChanges, AgentFilter, OnboardOptions};
use smartcomm::transport::Transport;

impl<T: Transport> Bridge<T> {
    pub(crate) async fn users(
        &self,
        method: &str,
        rest: &[&str],
        request: &ScimRequest,
        base: &str,
    ) -> Result<ScimResponse, ScimError> {
        match (method, rest) {
            ("GET", []) => self.list_users(request, base).await,
            ("POST", []) => self.create_user(request, base).await,
            ("GET", [id]) => {
                let agent = self.agent(id).await?;
                Ok(ScimResponse::json(200, self.shown(&agent, request, base)))
            }
            ("PATCH", [id]) => self.change_user(id, Form::Patch, request, base).await,
            ("PUT", [id]) => self.change_user(id, Form::Put, request, base).await,
            ("DELETE", [id]) => self.delete_user(id).await,
            (_, [] | [_]) => Err(ScimError::method_not_allowed(format!(
                "{method} is not supported here"
            ))),
            _ => Err(ScimError::not_found("no such user endpoint")),
        }
    }

    /// The agent whose user_object_id is `id`, in this bridge's tenant. An id that is not an
    /// Entra object id names no agent, and is not looked up.
    async fn agent(&self, id: &str) -> Result<Agent, ScimError> {
        let not_found = || no_user(id);
        let Some(key) = key::path_id(id) else {
            return Err(not_found());
        };
        match self.client.get_agent(&key, None, None).await {
            Ok(agent) if self.in_tenant(&agent) => Ok(agent),
            Ok(_) | Err(smartcomm::error::ApiError::NotFound(_)) => Err(not_found()),
            Err(smartcomm::error::ApiError::InvalidInput(_)) => Err(not_found()),
            Err(e) => Err(ScimError::from_api(e)),
        }
    }

    fn location(base: &str, id: &str) -> String {
        format!("{base}/Users/{id}")
    }

    fn shown(&self, agent: &Agent, request: &ScimRequest, base: &str) -> serde_json::Value {
        Self::projected(agent, &request.projection(), base)
    }

    fn projected(agent: &Agent, projection: &Projection, base: &str) -> serde_json::Value {
        let id = agent.user_object_id.as_deref().unwrap_or_default();
        projection.apply(user::resource(agent, &Self::location(base, id)))
    }

    async fn list_users(
        &self,
        request: &ScimRequest,
        base: &str,
    ) -> Result<ScimResponse, ScimError> {
        let (start, count) = request.page(MAX_RESULTS)?;
        // Pages are cut from references: the tenant's cached list is not copied per page.
        let (tenant, found);
        let mut agents: Vec<&Agent> = match request.filter()? {
            None => {
                tenant = self.tenant_agents().await?;
                tenant.iter().collect()
            }
            Some(conditions) => {
                found = match self.user_filter(&conditions)? {
                    Some(filter) => self.users_matching(&filter).await?,
                    None => Vec::new(),
                };
                // The API is asked for the tenant's agents only; what it answers is checked.
                found.iter().filter(|a| self.in_tenant(a)).collect()
            }
        };
        // The API lists in no promised order: pages hold still only if the bridge sorts.
        agents.sort_by(|a, b| a.user_object_id.cmp(&b.user_object_id));
        let projection = request.projection();
        let page = agents
            .iter()
            .skip(start - 1)
            .take(count)
            .map(|a| Self::projected(a, &projection, base))
            .collect();
        Ok(ScimResponse::json(
            200,
            discovery::list(page, agents.len(), start),
        ))
    }

    /// The agents `filter` selects. `userName` is not case-exact (RFC 7643, and Okta checks
    /// it): when the API finds no agent for the upn as written, the tenant's agents (its
    /// cached list) are matched in any letter case.
    async fn users_matching(&self, filter: &AgentFilter) -> Result<Vec<Agent>, ScimError> {
        let found = self
            .client
            .list_agents(filter)
            .await
            .map_err(ScimError::from_api)?;
        let Some(upn) = filter.upn.as_deref().filter(|_| found.is_empty()) else {
            return Ok(found);
        };
        let upn = upn.to_lowercase();
        let tenant = self.tenant_agents().await?;
        Ok(tenant
            .iter()
            .filter(|a| a.upn.as_deref().is_some_and(|u| u.to_lowercase() == upn))
            .filter(|a| {
                filter
                    .user_object_id
                    .as_ref()
                    .is_none_or(|id| a.user_object_id.as_ref() == Some(id))
            })
            .cloned()
            .collect())
    }

    /// The list request of a filter on `userName`, `externalId`, `id` or the work email
    /// (which is the upn), in this tenant; `None` when it matches nobody (one attribute asked
    /// equal to two values).
    fn user_filter(&self, conditions: &[Comparison]) -> Result<Option<AgentFilter>, ScimError> {
        let mut filter = AgentFilter {
            tenant_id: Some(self.settings.tenant_id.clone()),
            ..AgentFilter::default()
        };
        for condition in conditions {
            let path = &condition.path;
            let work_email = path.name == "emails"
                && path.sub.as_deref().is_none_or(|s| s == "value")
                && user::is_work(path);
            let core = path.in_schema(user::USER_SCHEMA);
            let slot = match (path.name.as_str(), path.sub.as_deref()) {
                ("username", None) if core => &mut filter.upn,
                ("externalid" | "id", None) if core => &mut filter.user_object_id,
                ("emails", _) if core && work_email => &mut filter.upn,
                _ => {
                    return Err(ScimError::invalid_filter(format!(
                        "filtering by {path} is not supported: userName, externalId, id and \
                         emails[type eq \"work\"].value are"
                    )));
                }
            };
            let Some(mut value) = condition.value.as_text() else {
                return Ok(None);
            };
            if path.name != "username" && !work_email {
                value = key::object_id(&path.to_string(), &value)
                    .map_err(|refused| ScimError::invalid_filter(refused.detail))?;
            }
            match slot {
                Some(existing) if *existing != value => return Ok(None),
                _ => *slot = Some(value),
            }
        }
        Ok(Some(filter))
    }

    async fn create_user(
        &self,
        request: &ScimRequest,
        base: &str,
    ) -> Result<ScimResponse, ScimError> {
        let values = user::values_of_resource(&request.json()?)?;
        let (agent, active) = user::new_agent(&values, &self.settings.tenant_id)?;
        let lost_before = self.client.stats().unknown_outcomes;
        let outcomes = self
            .client
            .onboard_agents(std::slice::from_ref(&agent), OnboardOptions::default())
            .await
            .map_err(ScimError::from_api)?;
        self.forget_tenant_list();
        let exists = |detail: String| {
            ScimError::uniqueness(format!(
                "a user with externalId {} exists: {detail}",
                agent.user_object_id
            ))
        };
        match outcomes.into_iter().next() {
            Some(Outcome::Succeeded(None)) => {}
            // Found already onboarded: this request's own write, if an earlier attempt of it
            // went unanswered; else it was there before.
            Some(Outcome::Succeeded(Some(_)))
                if self.client.stats().unknown_outcomes > lost_before => {}
            Some(Outcome::Succeeded(Some(note))) => return Err(exists(note)),
            Some(Outcome::Rejected(messages)) if says_exists(&messages) => {
                return Err(exists(messages.join("; ")));
            }
            Some(Outcome::Rejected(messages)) => {
                return Err(ScimError::invalid_value(format!(
                    "the SmartCommunicator API refused the user: {}",
                    messages.join("; ")
                )));
            }
            Some(Outcome::Failed(e)) => return Err(ScimError::from_api(e)),
            Some(Outcome::NotAttempted) | None => {
                return Err(ScimError::internal("the onboarding was not attempted"));
            }
        }
        let mut onboarded = user::onboarded(&agent);
        if active == Some(false) {
            onboarded = self.update(&onboarded, &deactivate()).await?;
        }
        let location = Self::location(base, &agent.user_object_id);
        Ok(ScimResponse::created(
            self.shown(&onboarded, request, base),
            location,
        ))
    }

    async fn update(&self, agent: &Agent, changes: &AgentChanges) -> Result<Agent, ScimError> {
        let key = agent.user_object_id.as_deref().unwrap_or_default();
        let updated = self
            .client
            .update_agent(key, None, changes)
            .await
            .map_err(ScimError::from_api)?;
        self.forget_tenant_list();
        Ok(updated)
    }

    /// A PATCH or a PUT: the changes it asks, against the agent read for it.
    async fn change_user(
        &self,
        id: &str,
        form: Form,
        request: &ScimRequest,
        base: &str,
    ) -> Result<ScimResponse, ScimError> {
        let body = request.json()?;
        let leaver = form.deactivates(&body);
        // What no agent could take is refused before anything is read, unless it deactivates.
        let any_agent_with_this_id = Agent {
            user_object_id: key::path_id(id),
            ..Agent::default()
        };
        if let Err(refused) = form.changes(&any_agent_with_this_id, &body)
            && !leaver
        {
            return Err(refused);
        }
        let current = self.agent(id).await?;
        let updated = match form.changes(&current, &body) {
            Ok(changes) if changes == AgentChanges::default() => current,
            Ok(changes) => self.update_or_deactivate(&current, &changes).await?,
            Err(refused) if leaver => return Err(self.deactivated_anyway(&current, refused).await),
            Err(refused) => return Err(refused),
        };
        Ok(ScimResponse::json(200, self.shown(&updated, request, base)))
    }

    /// Applies `changes`. When the API refuses them and they deactivate the agent, the
    /// deactivation is sent alone, and the refusal still answered.
    async fn update_or_deactivate(
        &self,
        current: &Agent,
        changes: &AgentChanges,
    ) -> Result<Agent, ScimError> {
        match self.update(current, changes).await {
            Err(refused) if changes.active == Some(false) && refused.status == 400 => {
                Err(self.deactivated_anyway(current, refused).await)
            }
            other => other,
        }
    }

    /// `refused`, once the agent is deactivated: a leaver's `active: false` is applied
    /// whatever else the request carries.
    async fn deactivated_anyway(&self, current: &Agent, refused: ScimError) -> ScimError {
        if current.active != Some(false)
            && let Err(failed) = self.update(current, &deactivate()).await
        {
            return failed;
        }
        refused.noting("the user was deactivated all the same: active false is always applied")
    }

    /// Offboards the agent (its supervised inbox stays, as the API's default keeps it). An
    /// agent that is not there is a 404, once a read confirms it.
    async fn delete_user(&self, id: &str) -> Result<ScimResponse, ScimError> {
        // The offboard alone would reach an agent of any tenant of the account.
        let agent = self.agent(id).await?;
        let key = agent.user_object_id.as_deref().unwrap_or_default();
        let message = self
            .client
            .offboard_agent(key, None, None)
            .await
            .map_err(ScimError::from_api)?;
        self.forget_tenant_list();
        if message.starts_with("already offboarded") {
            return Err(no_user(id));
        }
        Ok(ScimResponse::empty(204))
    }
}

/// The two requests that change a user's fields.
#[derive(Clone, Copy)]
enum Form {
    Patch,
    Put,
}

impl Form {
    fn deactivates(self, body: &serde_json::Value) -> bool {
        match self {
            Form::Patch => user::patch_deactivates(body),
            Form::Put => user::put_deactivates(body),
        }
    }

    fn changes(self, agent: &Agent, body: &serde_json::Value) -> Result<AgentChanges, ScimError> {
        match self {
            Form::Patch => user::patched(agent, &patch::read(body)?),
            Form::Put => user::replaced(agent, &user::values_of_resource(body)?),
        }
    }
}

fn no_user(id: &str) -> ScimError {
    ScimError::not_found(format!("no user with id {id}"))
}

fn deactivate() -> AgentChanges {
    AgentChanges {
        active: Some(false),
        ..AgentChanges::default()
    }
}
