//! The client: the token, the limit on requests in flight, retries and every operation, over
//! any `Transport`. Its methods take `&self`, so that one call can keep several of its
//! requests in flight (`bulk`) while they share one token and one limit.

use crate::batch::Outcome;
use crate::config::{Auth, AuthScheme, Config, RENEW_BEFORE_EXPIRY_SECS, Settings};
use crate::converge::{self, Note};
use crate::dispatch;
use crate::error::{ApiError, Problem};
use crate::limit::{Limit, Signal};
use crate::model::*;
use crate::request::{ApiRequest, Method, Requests};
use crate::response::{self, RawResponse};
use crate::transport::{HttpRequest, Transport};
use crate::validate;
use std::cell::{Cell, RefCell};
use std::fmt;

#[derive(Clone)]
struct Token {
    value: String,
    expires_at: Option<u64>,
    /// Bumped with every token: a 401 for an older one needs no new authenticate.
    generation: u64,
}

/// What a client has sent so far, for hosts and benchmarks to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Users-API requests sent, every retry counted.
    pub requests: u64,
    /// Authenticate requests sent.
    pub authentications: u64,
    /// Answers that were 429 or 503.
    pub throttled: u64,
    /// Attempts whose outcome stayed unknown (no answer, a timeout, 500, 502, 504): the API
    /// may have applied them.
    pub unknown_outcomes: u64,
    /// The most users-API requests that were in flight at once.
    pub peak_in_flight: usize,
    /// Every value the limit on requests in flight took.
    pub limit_path: Vec<usize>,
}

pub struct Client<T> {
    customer_id: String,
    settings: Result<Settings, Vec<Problem>>,
    pub(crate) requests: Requests,
    token: RefCell<Option<Token>>,
    /// Held while a token is fetched: requests that need one meanwhile wait for it.
    authenticating: futures_util::lock::Mutex<()>,
    limit: Limit,
    sent: Cell<u64>,
    authentications: Cell<u64>,
    unknown_outcomes: Cell<u64>,
    transport: T,
}

impl<T> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("settings", &self.settings)
            .field("has_token", &self.token.borrow().is_some())
            .finish_non_exhaustive()
    }
}

fn invalid(result: Result<(), Vec<Problem>>) -> Result<(), ApiError> {
    result.map_err(ApiError::InvalidInput)
}

/// One attempt's result; `Err((error, true))` ends the retries at once.
type Attempt = Result<RawResponse, (ApiError, bool)>;

impl<T: Transport> Client<T> {
    pub fn new(config: Config, transport: T) -> Self {
        let settings = config.settings();
        let limit = match &settings {
            Ok(s) => Limit::new(s.concurrency, s.retry.max_delay_ms.into()),
            Err(_) => Limit::new(1, 0),
        };
        Client {
            requests: Requests::new(&config.customer_id),
            customer_id: config.customer_id,
            settings,
            token: RefCell::new(None),
            authenticating: futures_util::lock::Mutex::new(()),
            limit,
            sent: Cell::new(0),
            authentications: Cell::new(0),
            unknown_outcomes: Cell::new(0),
            transport,
        }
    }

    pub fn customer_id(&self) -> &str {
        &self.customer_id
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    pub fn stats(&self) -> ClientStats {
        ClientStats {
            requests: self.sent.get(),
            authentications: self.authentications.get(),
            throttled: self.limit.throttled_answers(),
            unknown_outcomes: self.unknown_outcomes.get(),
            peak_in_flight: self.limit.peak_in_flight(),
            limit_path: self.limit.path(),
        }
    }

    pub(crate) fn settings(&self) -> Result<&Settings, ApiError> {
        self.settings
            .as_ref()
            .map_err(|problems| ApiError::InvalidInput(problems.clone()))
    }

    /// How many of one call's requests may be in flight at once.
    pub(crate) fn concurrency(&self) -> usize {
        self.settings.as_ref().map_or(1, |s| s.concurrency)
    }

    pub(crate) fn now(&self) -> u64 {
        self.transport.now_unix()
    }

    /// Sends a request that carries no token of this client's (Entra, Graph) with retries.
    pub(crate) async fn send_with_retries(
        &self,
        request: &HttpRequest,
    ) -> Result<RawResponse, ApiError> {
        self.with_retries(async || self.transport.send(request).await.map_err(|e| (e, false)))
            .await
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retry policy is spent. Every
    /// send counts as an attempt, a 429's too: 429 and 503 mean the request was not
    /// processed; 500, 502, 504, timeouts and dropped connections leave it unknown, and
    /// every operation converges on a repeat: all retried, never at once. An error status
    /// left at the end becomes its `ApiError`, counting the attempts.
    async fn with_retries(
        &self,
        mut attempt: impl AsyncFnMut() -> Attempt,
    ) -> Result<RawResponse, ApiError> {
        let policy = self.settings()?.retry;
        let started = self.transport.now_ms();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = attempt().await;
            let unknown = match &result {
                Ok(r) => matches!(r.status, 500 | 502 | 504),
                Err((e, false)) => {
                    matches!(e, ApiError::Timeout { .. } | ApiError::Transport { .. })
                }
                Err(_) => false,
            };
            if unknown {
                self.unknown_outcomes.set(self.unknown_outcomes.get() + 1);
            }
            let (retryable, retry_after) = match &result {
                Ok(r) if r.status == 429 || r.status == 503 => (
                    true,
                    response::retry_after_seconds(r.retry_after.as_deref(), self.now()),
                ),
                _ => (unknown, None),
            };
            if retryable && attempts < policy.max_attempts {
                let delay = policy.delay_ms(attempts, retry_after, |max| {
                    self.transport.random_up_to(max)
                });
                let elapsed = self.transport.now_ms().saturating_sub(started);
                // A Retry-After beyond the cap is the API's word: report it rather than knock early.
                let within_cap = retry_after
                    .is_none_or(|s| u64::from(s) * 1000 <= u64::from(policy.max_delay_ms));
                if within_cap && elapsed + delay <= u64::from(policy.budget_ms) {
                    self.transport.sleep_ms(delay).await;
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
    pub async fn authenticate(&self) -> Result<Option<u64>, ApiError> {
        let _only_one = self.authenticating.lock().await;
        self.fetch_token().await
    }

    /// Gets a token and keeps it; the caller holds `authenticating`.
    async fn fetch_token(&self) -> Result<Option<u64>, ApiError> {
        let settings = self.settings()?.clone();
        let value = match &settings.auth {
            Auth::Token(value) => value.clone(),
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
                    .with_retries(async || {
                        self.authentications.set(self.authentications.get() + 1);
                        self.transport.send(&request).await.map_err(|e| (e, false))
                    })
                    .await?;
                response::token(&resp, self.now())?
            }
        };
        let expires_at = response::jwt_expiry(&value);
        let generation = self.token.borrow().as_ref().map_or(0, |t| t.generation) + 1;
        *self.token.borrow_mut() = Some(Token {
            value,
            expires_at,
            generation,
        });
        Ok(expires_at)
    }

    /// The token kept, while it is not close to its `exp` (a ready token is used as is).
    fn usable_token(&self) -> Option<Token> {
        let now = self.now();
        let uses_credentials = self
            .settings
            .as_ref()
            .is_ok_and(|s| matches!(s.auth, Auth::Credentials { .. }));
        self.token.borrow().as_ref().cloned().filter(|t| {
            !uses_credentials
                || t.expires_at
                    .is_none_or(|exp| now + RENEW_BEFORE_EXPIRY_SECS < exp)
        })
    }

    /// A token to send, fetched when there is none to use: one fetch however many requests
    /// need it at once.
    pub(crate) async fn current_token(&self) -> Result<(String, u64), ApiError> {
        if let Some(token) = self.usable_token() {
            return Ok((token.value, token.generation));
        }
        let _only_one = self.authenticating.lock().await;
        if self.usable_token().is_none() {
            self.fetch_token().await?;
        }
        let token = self.token.borrow().clone().expect("a token was just kept");
        Ok((token.value, token.generation))
    }

    /// A token to send after the API refused the token of `refused_generation`: a new one,
    /// fetched once for every request that met the same refusal.
    async fn renewed_token(&self, refused_generation: u64) -> Result<String, ApiError> {
        let _only_one = self.authenticating.lock().await;
        let current = self.token.borrow().as_ref().map(|t| t.generation);
        if current == Some(refused_generation) || current.is_none() {
            self.fetch_token().await?;
        }
        Ok(self.token.borrow().as_ref().expect("a token").value.clone())
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

    /// Sends a users-API request once it may go under the limit, which learns from the
    /// answer.
    async fn send_limited(&self, request: &HttpRequest) -> Result<RawResponse, ApiError> {
        let permit = self.limit.acquire(&self.transport).await;
        self.sent.set(self.sent.get() + 1);
        let answer = self.transport.send(request).await;
        let signal = match &answer {
            Ok(r) if r.status == 429 || r.status == 503 => Signal::Throttled {
                retry_after_ms: response::retry_after_seconds(r.retry_after.as_deref(), self.now())
                    .map(|s| u64::from(s) * 1000),
            },
            Ok(_) => Signal::Answered,
            Err(_) => Signal::NoAnswer,
        };
        permit.release(signal, self.transport.now_ms());
        answer
    }

    /// One attempt with a valid token; on a 401, a new token and the request once more, as
    /// part of the same attempt (a ready token cannot be renewed, so its 401 is final).
    async fn send_once(&self, settings: &Settings, request: &ApiRequest) -> Attempt {
        let (token, generation) = self.current_token().await.map_err(|e| (e, true))?;
        let resp = self
            .send_limited(&self.http_request(settings, request, &token))
            .await
            .map_err(|e| (e, false))?;
        if resp.status != 401 || !matches!(settings.auth, Auth::Credentials { .. }) {
            return Ok(resp);
        }
        let token = self
            .renewed_token(generation)
            .await
            .map_err(|e| (e, true))?;
        self.send_limited(&self.http_request(settings, request, &token))
            .await
            .map_err(|e| (e, false))
    }

    /// Sends a users-API request with retries. Every request is repeated after an unknown
    /// outcome (5xx, timeout, dropped connection): each operation converges on a repeat.
    pub(crate) async fn execute(&self, request: &ApiRequest) -> Result<RawResponse, ApiError> {
        let settings = self.settings()?;
        self.with_retries(async || self.send_once(settings, request).await)
            .await
    }

    /// The agents whose `kind` field is `value` (a filtered list request).
    pub(crate) async fn find_agents(
        &self,
        kind: IdentifierKind,
        value: &str,
    ) -> Result<Vec<Agent>, ApiError> {
        self.list_agents_unchecked(&AgentFilter::matching(kind, value))
            .await
    }

    pub(crate) async fn list_agents_unchecked(
        &self,
        filter: &AgentFilter,
    ) -> Result<Vec<Agent>, ApiError> {
        let resp = self.execute(&self.requests.list_agents(filter)).await?;
        response::agent_list(&resp, self.now())
    }

    /// The one agent `key` = `id` names, or `None` when there is none (or `key` cannot be
    /// looked up by a list request).
    async fn read_agent(&self, id: &str, key: KeyId) -> Result<Option<Agent>, ApiError> {
        let Some(kind) = converge::kind_of(key) else {
            return Ok(None);
        };
        Ok(self.find_agents(kind, id).await?.into_iter().next())
    }

    pub async fn onboard_agents(
        &self,
        agents: &[NewAgent],
        options: OnboardOptions,
    ) -> Result<Vec<Outcome<Note>>, ApiError> {
        self.settings()?;
        invalid(validate::onboard_agents(agents))?;
        self.run_batch(
            agents,
            options.continue_on_error.unwrap_or(false),
            dispatch::supervisors_first(agents),
            |r, chunk| r.onboard_agents(chunk, options.continue_on_error, options.reassign_inbox),
            |_, _| None,
        )
        .await
    }

    pub async fn get_agent(
        &self,
        id: &str,
        key_id: Option<KeyId>,
        upn: Option<&str>,
    ) -> Result<Agent, ApiError> {
        self.settings()?;
        invalid(validate::get_agent(id, key_id, upn))?;
        let request = self.requests.get_agent(id, key_id, upn);
        let resp = self.execute(&request).await?;
        response::agent(&resp, self.now())
    }

    pub async fn list_agents(&self, filter: &AgentFilter) -> Result<Vec<Agent>, ApiError> {
        self.settings()?;
        invalid(validate::list_agents(filter))?;
        self.list_agents_unchecked(filter).await
    }

    /// Safe to repeat: it sets values. A repeat of a change that renamed the key the agent
    /// was found by meets 404; the agent is then read under its new key.
    pub async fn update_agent(
        &self,
        id: &str,
        key_id: Option<KeyId>,
        changes: &AgentChanges,
    ) -> Result<Agent, ApiError> {
        self.settings()?;
        invalid(validate::update_agent(id, key_id, changes))?;
        let request = self.requests.update_agent(id, key_id, changes);
        let now = self.now();
        let resp = match self.execute(&request).await {
            Ok(resp) => resp,
            Err(ApiError::NotFound(message)) => {
                let key = key_id.unwrap_or(KeyId::UserObjectId);
                if let Some(renamed) = converge::renamed_key(key, changes)
                    && let Ok(Some(agent)) = self.read_agent(renamed, key).await
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

    pub async fn update_agents(
        &self,
        updates: &[AgentUpdate],
        continue_on_error: Option<bool>,
    ) -> Result<Vec<Outcome<Option<Agent>>>, ApiError> {
        self.settings()?;
        invalid(validate::update_agents(updates))?;
        self.run_batch(
            updates,
            continue_on_error.unwrap_or(false),
            dispatch::independent(updates.len()),
            |r, chunk| r.update_agents(chunk, continue_on_error),
            |answer, i| {
                answer
                    .results
                    .iter()
                    .find(|(index, _)| *index == i)
                    .map(|(_, agent)| agent.clone())
            },
        )
        .await
    }

    /// Safe to repeat: offboarding an agent that is not there (any more) succeeds, with a
    /// message saying so, once a read confirms it is gone.
    pub async fn offboard_agent(
        &self,
        id: &str,
        key_id: Option<KeyId>,
        deprovision: Option<bool>,
    ) -> Result<String, ApiError> {
        self.settings()?;
        invalid(validate::offboard_agent(id, key_id))?;
        let request = self.requests.offboard_agent(id, key_id, deprovision);
        let outcome = match self.execute(&request).await {
            Ok(resp) => response::message(&resp, self.now()),
            Err(e) => Err(e),
        };
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
        if missing && key != KeyId::Id && matches!(self.read_agent(id, key).await, Ok(None)) {
            return Ok(format!("already offboarded: no agent has {key} {id}"));
        }
        outcome
    }

    pub async fn offboard_agents(
        &self,
        items: &[OffboardItem],
        options: OffboardOptions,
    ) -> Result<Vec<Outcome<Note>>, ApiError> {
        self.settings()?;
        invalid(validate::offboard_agents(items))?;
        self.run_batch(
            items,
            options.continue_on_error.unwrap_or(false),
            dispatch::independent(items.len()),
            |r, chunk| {
                r.offboard_agents(
                    chunk,
                    options.continue_on_error,
                    options.deprovision_supervised_inbox,
                )
            },
            |_, _| None,
        )
        .await
    }

    pub async fn create_inboxes(
        &self,
        inboxes: &[NewInbox],
        continue_on_error: Option<bool>,
    ) -> Result<Vec<Outcome<Note>>, ApiError> {
        self.settings()?;
        invalid(validate::create_inboxes(inboxes))?;
        self.run_batch(
            inboxes,
            continue_on_error.unwrap_or(false),
            dispatch::independent(inboxes.len()),
            |r, chunk| r.create_inboxes(chunk, continue_on_error),
            |_, _| None,
        )
        .await
    }

    pub async fn assign_inboxes(
        &self,
        assignments: &[Assignment],
    ) -> Result<Vec<Outcome<Note>>, ApiError> {
        self.settings()?;
        invalid(validate::assign_inboxes(assignments))?;
        self.run_batch(
            assignments,
            false,
            dispatch::independent(assignments.len()),
            |r, chunk| r.assign_inboxes(chunk),
            |_, _| None,
        )
        .await
    }

    pub async fn list_numbers(
        &self,
        status: Option<NumberStatus>,
        matching: Option<&str>,
    ) -> Result<Vec<NumberInfo>, ApiError> {
        self.settings()?;
        invalid(validate::list_numbers(matching))?;
        let request = self.requests.list_numbers(status, matching);
        let resp = self.execute(&request).await?;
        response::numbers(&resp, self.now())
    }
}
