//! The client: token handling, retries and every operation, over any `Transport`.

use crate::batch::Outcome;
use crate::config::{Auth, AuthScheme, Config, RENEW_BEFORE_EXPIRY_SECS, Settings};
use crate::converge;
use crate::converge::Verdict;
use crate::error::{ApiError, Problem};
use crate::model::*;
use crate::request::{ApiRequest, Method, Requests};
use crate::response::{self, RawResponse};
use crate::transport::{HttpRequest, Transport};
use crate::validate;
use std::fmt;

#[derive(Clone)]
struct Token {
    value: String,
    expires_at: Option<u64>,
}

pub struct Client<T> {
    customer_id: String,
    settings: Result<Settings, Vec<Problem>>,
    pub(crate) requests: Requests,
    token: Option<Token>,
    transport: T,
}

impl<T> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("settings", &self.settings)
            .field("has_token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

/// What a batch item's success says: `None` when this call applied it, else a note that it
/// already was in the requested state.
pub type Note = Option<String>;

/// Options of a batch call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchOptions {
    pub continue_on_error: Option<bool>,
    /// `reassignInbox` for onboard, `deprovisionSupervisedInbox` for offboard.
    pub flag: Option<bool>,
}

fn invalid(result: Result<(), Vec<Problem>>) -> Result<(), ApiError> {
    result.map_err(ApiError::InvalidInput)
}

/// One attempt's result; `Err((error, true))` ends the retries at once.
type Attempt = Result<RawResponse, (ApiError, bool)>;

impl<T: Transport> Client<T> {
    pub fn new(config: Config, transport: T) -> Self {
        Client {
            requests: Requests::new(&config.customer_id),
            customer_id: config.customer_id.clone(),
            settings: config.settings(),
            token: None,
            transport,
        }
    }

    pub fn customer_id(&self) -> &str {
        &self.customer_id
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    pub(crate) fn settings(&self) -> Result<&Settings, ApiError> {
        self.settings
            .as_ref()
            .map_err(|problems| ApiError::InvalidInput(problems.clone()))
    }

    pub(crate) fn now(&self) -> u64 {
        self.transport.now_unix()
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retry policy is spent.
    /// 429 and 503 mean the request was not processed; 500, 502, 504, timeouts and dropped
    /// connections leave it unknown, and every operation converges on a repeat: all retried.
    /// An error status left at the end becomes its `ApiError`, counting the attempts.
    fn with_retries(
        &mut self,
        mut attempt: impl FnMut(&mut Self) -> Attempt,
    ) -> Result<RawResponse, ApiError> {
        let policy = self.settings()?.retry;
        let started = self.transport.now_ms();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = attempt(self);
            let (retryable, retry_after) = match &result {
                Ok(r) if r.status == 429 || r.status == 503 => (
                    true,
                    response::retry_after_seconds(r.retry_after.as_deref(), self.now()),
                ),
                Ok(r) if matches!(r.status, 500 | 502 | 504) => (true, None),
                Err((ApiError::Timeout { .. } | ApiError::Transport { .. }, false)) => (true, None),
                _ => (false, None),
            };
            if retryable && attempts < policy.max_attempts {
                let transport = &mut self.transport;
                let delay =
                    policy.delay_ms(attempts, retry_after, |max| transport.random_up_to(max));
                let elapsed = self.transport.now_ms().saturating_sub(started);
                // A Retry-After beyond the cap is the API's word: report it rather than knock early.
                let within_cap = retry_after
                    .is_none_or(|s| u64::from(s) * 1000 <= u64::from(policy.max_delay_ms));
                if within_cap && elapsed + delay <= u64::from(policy.budget_ms) {
                    self.transport.sleep_ms(delay);
                    continue;
                }
            }
            return match result {
                Ok(r) if r.status == 429 || r.status >= 500 => {
                    Err(response::error_for(&r, self.now()).after_attempts(attempts))
                }
                Ok(r) => Ok(r),
                // A final error (getting a token) carries its own count.
                Err((e, true)) => Err(e),
                Err((e, false)) => Err(e.after_attempts(attempts)),
            };
        }
    }

    /// Authenticates now (credentials), or reads the ready token's expiry (token). Safe to
    /// repeat: it changes nothing. Bad credentials (401) fail at once.
    pub fn authenticate(&mut self) -> Result<Option<u64>, ApiError> {
        let settings = self.settings()?.clone();
        let token = match &settings.auth {
            Auth::Token(value) => Token {
                value: value.clone(),
                expires_at: response::jwt_expiry(value),
            },
            Auth::Credentials { username, password } => {
                let body = serde_json::to_string(&Credentials {
                    username: username.clone(),
                    password: password.clone(),
                })
                .expect("credentials always serialize");
                let request = HttpRequest {
                    method: Method::Post,
                    url: settings.auth_url.clone(),
                    headers: vec![
                        ("accept", "application/json".into()),
                        ("content-type", "application/json".into()),
                    ],
                    body: Some(body),
                    timeout_ms: settings.timeout_ms,
                    max_response_bytes: settings.max_response_bytes,
                };
                let resp = self
                    .with_retries(|this| this.transport.send(&request).map_err(|e| (e, false)))?;
                let value = response::token(&resp, self.now())?;
                Token {
                    expires_at: response::jwt_expiry(&value),
                    value,
                }
            }
        };
        let expires_at = token.expires_at;
        self.token = Some(token);
        Ok(expires_at)
    }

    pub(crate) fn current_token(&mut self) -> Result<String, ApiError> {
        let now = self.now();
        let fresh = self.token.as_ref().is_some_and(|t| {
            t.expires_at
                .is_none_or(|exp| now + RENEW_BEFORE_EXPIRY_SECS < exp)
        });
        let uses_credentials = matches!(self.settings()?.auth, Auth::Credentials { .. });
        if !fresh && (uses_credentials || self.token.is_none()) {
            self.authenticate()?;
        }
        Ok(self
            .token
            .as_ref()
            .map(|t| t.value.clone())
            .unwrap_or_default())
    }

    fn http_request(&self, settings: &Settings, request: &ApiRequest, token: &str) -> HttpRequest {
        let authorization = match settings.auth_scheme {
            AuthScheme::Bearer => format!("Bearer {token}"),
            AuthScheme::Bare => token.to_string(),
        };
        let mut headers = vec![
            ("accept", "application/json".to_string()),
            ("authorization", authorization),
        ];
        if request.body.is_some() {
            headers.push(("content-type", "application/json".into()));
        }
        HttpRequest {
            method: request.method,
            url: format!("{}{}", settings.api_url, request.path_and_query()),
            headers,
            body: request.body.clone(),
            timeout_ms: settings.timeout_ms,
            max_response_bytes: settings.max_response_bytes,
        }
    }

    /// One attempt with a valid token; on a 401, authenticates again once and repeats the
    /// request once (a ready token cannot be renewed, so its 401 is final).
    fn send_once(&mut self, settings: &Settings, request: &ApiRequest) -> Attempt {
        let token = self.current_token().map_err(|e| (e, true))?;
        let resp = self
            .transport
            .send(&self.http_request(settings, request, &token))
            .map_err(|e| (e, false))?;
        if resp.status != 401 || !matches!(settings.auth, Auth::Credentials { .. }) {
            return Ok(resp);
        }
        self.token = None;
        let token = self.current_token().map_err(|e| (e, true))?;
        self.transport
            .send(&self.http_request(settings, request, &token))
            .map_err(|e| (e, false))
    }

    /// Sends a users-API request with retries. Every request is repeated after an unknown
    /// outcome (5xx, timeout, dropped connection): each operation converges on a repeat.
    pub(crate) fn execute(&mut self, request: &ApiRequest) -> Result<RawResponse, ApiError> {
        let settings = self.settings()?.clone();
        self.with_retries(|this| this.send_once(&settings, request))
    }

    pub fn onboard_agents(
        &mut self,
        agents: &[NewAgent],
        options: BatchOptions,
    ) -> Result<Vec<Outcome<Note>>, ApiError> {
        self.settings()?;
        invalid(validate::onboard_agents(agents))?;
        let reassign = options.flag;
        self.run_batch(
            agents,
            options.continue_on_error,
            |r, chunk| r.onboard_agents(chunk, options.continue_on_error, reassign),
            |_, _| None,
            |this, agent, messages| {
                if !converge::says_exists(messages) {
                    return Verdict::Unknown;
                }
                match this.read_agent(&agent.user_object_id, KeyId::UserObjectId) {
                    Ok(Some(existing)) => {
                        let differences = converge::onboarded_differences(&existing, agent);
                        if differences.is_empty() {
                            Verdict::Done(Some("already onboarded with these values".into()))
                        } else {
                            Verdict::Conflict(format!(
                                "an agent with this user_object_id exists with other values: {}",
                                differences.join(", ")
                            ))
                        }
                    }
                    _ => Verdict::Unknown,
                }
            },
        )
    }

    pub fn get_agent(
        &mut self,
        id: &str,
        key_id: Option<KeyId>,
        upn: Option<&str>,
    ) -> Result<Agent, ApiError> {
        self.settings()?;
        invalid(validate::get_agent(id, key_id, upn))?;
        let request = self.requests.get_agent(id, key_id, upn);
        let resp = self.execute(&request)?;
        response::agent(&resp, self.now())
    }

    pub fn list_agents(&mut self, filter: &AgentFilter) -> Result<Vec<Agent>, ApiError> {
        self.settings()?;
        invalid(validate::list_agents(filter))?;
        let request = self.requests.list_agents(filter);
        let resp = self.execute(&request)?;
        response::agent_list(&resp, self.now())
    }

    /// Safe to repeat: it sets values. A repeat of a change that renamed the key the agent
    /// was found by meets 404; the agent is then read under its new key.
    pub fn update_agent(
        &mut self,
        id: &str,
        key_id: Option<KeyId>,
        changes: &AgentChanges,
    ) -> Result<Agent, ApiError> {
        self.settings()?;
        invalid(validate::update_agent(id, key_id, changes))?;
        let request = self.requests.update_agent(id, key_id, changes);
        let now = self.now();
        let resp = match self.execute(&request) {
            Ok(resp) => resp,
            Err(ApiError::NotFound(message)) => {
                let key = key_id.unwrap_or(KeyId::UserObjectId);
                if let Some(renamed) = converge::renamed_key(key, changes)
                    && let Ok(Some(agent)) = self.read_agent(renamed, key)
                    && converge::change_differences(&agent, changes).is_empty()
                {
                    return Ok(agent);
                }
                return Err(ApiError::NotFound(message));
            }
            Err(e) => return Err(e),
        };
        // The reference answers a single update with the agent; a body without one (or a
        // bulk-style `result` list) still means it was applied.
        match response::agent(&resp, now) {
            Ok(agent) => Ok(agent),
            Err(e @ ApiError::UnexpectedResponse { .. }) => response::batch(&resp, now)
                .ok()
                .and_then(|b| b.results.into_iter().next().map(|(_, a)| a))
                .ok_or(e),
            Err(e) => Err(e),
        }
    }

    pub fn update_agents(
        &mut self,
        updates: &[AgentUpdate],
        continue_on_error: Option<bool>,
    ) -> Result<Vec<Outcome<Option<Agent>>>, ApiError> {
        self.settings()?;
        invalid(validate::update_agents(updates))?;
        self.run_batch(
            updates,
            continue_on_error,
            |r, chunk| r.update_agents(chunk, continue_on_error),
            |answer, i| {
                answer
                    .results
                    .iter()
                    .find(|(index, _)| *index == i)
                    .map(|(_, agent)| agent.clone())
            },
            |this, update, messages| {
                let Some(key) = converge::key_for(update.target.identifier) else {
                    return Verdict::Unknown;
                };
                let Some(renamed) = converge::renamed_key(key, &update.updates) else {
                    return Verdict::Unknown;
                };
                if !converge::says_missing(messages) {
                    return Verdict::Unknown;
                }
                match this.read_agent(renamed, key) {
                    Ok(Some(agent))
                        if converge::change_differences(&agent, &update.updates).is_empty() =>
                    {
                        Verdict::Done(Some(agent))
                    }
                    _ => Verdict::Unknown,
                }
            },
        )
    }

    /// Safe to repeat: offboarding an agent that is not there (any more) succeeds, with a
    /// message saying so, once a read confirms it is gone.
    pub fn offboard_agent(
        &mut self,
        id: &str,
        key_id: Option<KeyId>,
        deprovision: Option<bool>,
    ) -> Result<String, ApiError> {
        self.settings()?;
        invalid(validate::offboard_agent(id, key_id))?;
        let request = self.requests.offboard_agent(id, key_id, deprovision);
        let outcome = self
            .execute(&request)
            .and_then(|resp| response::message(&resp, self.now()));
        let key = key_id.unwrap_or(KeyId::UserObjectId);
        let missing = match &outcome {
            Err(ApiError::NotFound(_)) => true,
            Err(ApiError::Rejected {
                messages, message, ..
            }) => {
                converge::says_missing(messages)
                    || converge::says_missing(std::slice::from_ref(message))
            }
            _ => false,
        };
        if missing && key != KeyId::Id && matches!(self.read_agent(id, key), Ok(None)) {
            return Ok(format!("already offboarded: no agent has {key} {id}"));
        }
        outcome
    }

    pub fn offboard_agents(
        &mut self,
        items: &[OffboardItem],
        options: BatchOptions,
    ) -> Result<Vec<Outcome<Note>>, ApiError> {
        self.settings()?;
        invalid(validate::offboard_agents(items))?;
        self.run_batch(
            items,
            options.continue_on_error,
            |r, chunk| r.offboard_agents(chunk, options.continue_on_error, options.flag),
            |_, _| None,
            |this, item, messages| {
                if !converge::says_missing(messages) {
                    return Verdict::Unknown;
                }
                for value in &item.value {
                    match this.find_agents(item.identifier, value) {
                        Ok(found) if found.is_empty() => {}
                        _ => return Verdict::Unknown,
                    }
                }
                Verdict::Done(Some("already offboarded".into()))
            },
        )
    }

    pub fn create_inboxes(
        &mut self,
        inboxes: &[NewInbox],
        continue_on_error: Option<bool>,
    ) -> Result<Vec<Outcome<Note>>, ApiError> {
        self.settings()?;
        invalid(validate::create_inboxes(inboxes))?;
        self.run_batch(
            inboxes,
            continue_on_error,
            |r, chunk| r.create_inboxes(chunk, continue_on_error),
            |_, _| None,
            |this, inbox, messages| {
                if !converge::says_exists(messages) {
                    return Verdict::Unknown;
                }
                match this.inbox_in_place(inbox) {
                    Ok(true) => Verdict::Done(Some("already created with these settings".into())),
                    Ok(false) => Verdict::Conflict(
                        "an inbox with this number or name exists with other settings".into(),
                    ),
                    Err(_) => Verdict::Unknown,
                }
            },
        )
    }

    pub fn assign_inboxes(
        &mut self,
        assignments: &[Assignment],
    ) -> Result<Vec<Outcome<Note>>, ApiError> {
        self.settings()?;
        invalid(validate::assign_inboxes(assignments))?;
        self.run_batch(
            assignments,
            None,
            |r, chunk| r.assign_inboxes(chunk),
            |_, _| None,
            |this, assignment, messages| {
                if !converge::says_membership(messages) {
                    return Verdict::Unknown;
                }
                match this.members_in_place(assignment) {
                    Ok(true) => Verdict::Done(Some(match assignment.operation {
                        Operation::Add => "already assigned".into(),
                        Operation::Remove => "already removed".into(),
                    })),
                    _ => Verdict::Unknown,
                }
            },
        )
    }

    pub fn list_numbers(
        &mut self,
        status: Option<NumberStatus>,
        matching: Option<&str>,
    ) -> Result<Vec<NumberInfo>, ApiError> {
        self.settings()?;
        invalid(validate::list_numbers(matching))?;
        let request = self.requests.list_numbers(status, matching);
        let resp = self.execute(&request)?;
        response::numbers(&resp, self.now())
    }
}
