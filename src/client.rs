//! The client: the token, the limit on requests in flight, retries and every operation, over
//! any `Transport`. Its methods take `&self`, so that one call can keep several of its
//! requests in flight (`bulk`) while they share one token and one limit.

use crate::batch::Outcome;
use crate::config::{
    Auth, AuthScheme, Config, DEFAULT_CALL_DEADLINE_SECS, RENEW_BEFORE_EXPIRY_SECS, RetryPolicy,
    Settings,
};
use crate::converge::{self, Note};
use crate::dispatch;
use crate::error::{ApiError, Problem};
use crate::limit::{Limit, Signal};
use crate::model::*;
use crate::request::{ApiRequest, Method, Requests};
use crate::response::{self, RawResponse};
use crate::transport::{HttpRequest, Transport};
use crate::validate;
use futures_util::future::{Either, select};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::pin::pin;

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
    /// The values the limit on requests in flight took, the latest [`crate::limit::PATH_KEPT`].
    pub limit_path: Vec<usize>,
}

/// The call in progress: its deadline, and a sign-in refused during it. A call is one
/// operation as a caller sees it (a step, a `sync apply`, a SCIM request); operations that
/// call others share the outermost one's.
#[derive(Default)]
struct Call {
    /// Calls open; the outermost sets the deadline.
    depth: Cell<u32>,
    deadline_at_ms: Cell<u64>,
    deadline_secs: Cell<u32>,
    /// A sign-in the API refused during this call: every later need of a token fails with it,
    /// so a changed password costs one refused sign-in, not one per request.
    refused_sign_in: RefCell<Option<ApiError>>,
    /// Whether the deadline cut the call short.
    cut: Cell<bool>,
}

/// A call open on a client, until it is dropped (see [`Client::begin_call`]).
pub struct CallScope<'c> {
    call: &'c Call,
}

impl Drop for CallScope<'_> {
    fn drop(&mut self) {
        self.call.depth.set(self.call.depth.get() - 1);
    }
}

pub struct Client<T> {
    customer_id: String,
    settings: Result<Settings, Vec<Problem>>,
    pub(crate) requests: Requests,
    token: RefCell<Option<Token>>,
    token_generation: Cell<u64>,
    /// Held while a token is fetched: requests that need one meanwhile wait for it.
    authenticating: futures_util::lock::Mutex<()>,
    limit: Limit,
    call: Call,
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

/// When a request's first attempt went out: its retry budget counts from there, not from
/// its wait for a place among the requests in flight.
type FirstSent = Cell<Option<u64>>;

/// Whether an answer or a failure leaves the request's outcome unknown (the API may have
/// applied it).
fn unknown_outcome(result: &Attempt) -> bool {
    match result {
        Ok(r) => matches!(r.status, 500 | 502 | 504),
        Err((e, false)) => matches!(
            e,
            ApiError::Timeout { .. } | ApiError::Transport { .. } | ApiError::Deadline { .. }
        ),
        Err(_) => false,
    }
}

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
            token_generation: Cell::new(0),
            authenticating: futures_util::lock::Mutex::new(()),
            limit,
            call: Call::default(),
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

    /// Opens a call: its deadline starts now, unless a call is open already (an operation
    /// that calls others), whose deadline it shares. Every operation opens one; a host that
    /// makes one call of several operations (a SCIM request) opens it around them.
    pub fn begin_call(&self) -> CallScope<'_> {
        let call = &self.call;
        if call.depth.get() == 0 {
            let secs = self
                .settings
                .as_ref()
                .map_or(DEFAULT_CALL_DEADLINE_SECS, |s| s.call_deadline_secs);
            call.deadline_secs.set(secs);
            call.deadline_at_ms
                .set(self.transport.now_ms() + u64::from(secs) * 1000);
            call.refused_sign_in.replace(None);
            call.cut.set(false);
        }
        call.depth.set(call.depth.get() + 1);
        CallScope { call }
    }

    /// Whether the last call's deadline cut it short: items it reports `not-attempted` would
    /// have been sent with more time.
    pub fn deadline_cut(&self) -> bool {
        self.call.cut.get()
    }

    /// Milliseconds left of the open call; none open, no bound.
    fn remaining_ms(&self) -> u64 {
        match self.call.depth.get() {
            0 => u64::MAX,
            _ => self
                .call
                .deadline_at_ms
                .get()
                .saturating_sub(self.transport.now_ms()),
        }
    }

    pub(crate) fn deadline_passed(&self) -> bool {
        self.remaining_ms() == 0
    }

    /// Whether the deadline has passed, so that work left is not started: the call is then
    /// marked as cut short.
    pub(crate) fn out_of_time(&self) -> bool {
        let passed = self.deadline_passed();
        if passed {
            self.call.cut.set(true);
        }
        passed
    }

    /// The error of a request the deadline stopped; `sent` when it was in flight.
    pub(crate) fn deadline_error(&self, sent: bool) -> ApiError {
        self.call.cut.set(true);
        ApiError::Deadline {
            seconds: self.call.deadline_secs.get(),
            sent,
            attempts: u32::from(sent),
        }
    }

    /// `wait`'s output, or `None` when the call's deadline comes first.
    pub(crate) async fn before_deadline<F: Future>(&self, wait: F) -> Option<F::Output> {
        if self.call.depth.get() == 0 {
            return Some(wait.await);
        }
        let deadline = pin!(self.transport.deadline(self.call.deadline_at_ms.get()));
        match select(pin!(wait), deadline).await {
            Either::Left((output, _)) => Some(output),
            Either::Right(_) => None,
        }
    }

    /// Sends one request within the call's deadline, recording the first send.
    async fn send_in_call(
        &self,
        request: &HttpRequest,
        first_sent: &FirstSent,
    ) -> Result<RawResponse, ApiError> {
        if self.deadline_passed() {
            return Err(self.deadline_error(false));
        }
        if first_sent.get().is_none() {
            first_sent.set(Some(self.transport.now_ms()));
        }
        self.before_deadline(self.transport.send(request))
            .await
            .unwrap_or_else(|| Err(self.deadline_error(true)))
    }

    /// Sends a request that carries no token of this client's (Entra, Graph) with retries.
    pub(crate) async fn send_with_retries(
        &self,
        request: &HttpRequest,
    ) -> Result<RawResponse, ApiError> {
        self.with_retries(false, async |first_sent| {
            self.send_in_call(request, first_sent)
                .await
                .map_err(|e| (e, false))
        })
        .await
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retry policy or the call's
    /// deadline is spent. Every send counts as an attempt, a 429's and the one after a new
    /// token too: 429 and 503 mean the request was not processed; 500, 502, 504, timeouts
    /// and dropped connections leave it unknown, and every operation converges on a repeat:
    /// all retried, never at once. With `renews_token`, a 401 is sent again at once, once,
    /// with a new token (the attempt fetches it). The budget counts from the first send. An
    /// error status left at the end becomes its `ApiError`, counting the attempts.
    async fn with_retries(
        &self,
        renews_token: bool,
        mut attempt: impl AsyncFnMut(&FirstSent) -> Attempt,
    ) -> Result<RawResponse, ApiError> {
        let policy = self.settings()?.retry;
        let first_sent: FirstSent = Cell::new(None);
        let (mut attempts, mut renewed) = (0, false);
        let mut last_failure: Option<ApiError> = None;
        loop {
            let result = attempt(&first_sent).await;
            if let Err((ApiError::Deadline { sent: false, .. }, _)) = &result {
                // Not sent again: the request stands as its last answer left it.
                return Err(last_failure.unwrap_or_else(|| self.deadline_error(false)));
            }
            attempts += 1;
            if unknown_outcome(&result) {
                self.unknown_outcomes.set(self.unknown_outcomes.get() + 1);
            }
            let retry_after = match &result {
                Ok(r) if r.status == 429 || r.status == 503 => {
                    response::retry_after_seconds(r.retry_after.as_deref(), self.now())
                }
                _ => None,
            };
            let beyond_cap =
                retry_after.is_some_and(|s| u64::from(s) * 1000 > u64::from(policy.max_delay_ms));
            let failure = match &result {
                // A Retry-After beyond the cap is the API's word: report it rather than knock early.
                Ok(r) if beyond_cap => Some(ApiError::RateLimited {
                    retry_after,
                    attempts,
                }),
                Ok(r) if r.status == 429 || r.status >= 500 => {
                    Some(response::error_for(r, self.now()).after_attempts(attempts))
                }
                Ok(_) => None,
                // A final error (getting a token) carries its own count.
                Err((e, true)) => Some(e.clone()),
                Err((e, false)) => Some(e.clone().after_attempts(attempts)),
            };
            let again = attempts < policy.max_attempts && !self.deadline_passed();
            let delay = match &result {
                Ok(r) if r.status == 401 && renews_token && !renewed => {
                    renewed = true;
                    again.then_some(0)
                }
                Ok(r) if r.status == 429 || r.status == 503 => {
                    (again && !beyond_cap).then(|| self.backoff(&policy, attempts, retry_after))
                }
                _ if unknown_outcome(&result)
                    && !matches!(result, Err((ApiError::Deadline { .. }, _))) =>
                {
                    again.then(|| self.backoff(&policy, attempts, None))
                }
                _ => None,
            };
            let elapsed = first_sent
                .get()
                .map_or(0, |at| self.transport.now_ms().saturating_sub(at));
            match delay {
                Some(delay) if elapsed + delay <= u64::from(policy.budget_ms) => {
                    if delay >= self.remaining_ms() {
                        // No time left in the call for this wait: the request stands as it is.
                        self.call.cut.set(true);
                    } else {
                        self.transport.sleep_ms(delay).await;
                        // A 401 says nothing of an earlier attempt whose outcome is unknown.
                        if failure.is_some() {
                            last_failure = failure;
                        }
                        continue;
                    }
                }
                _ => {}
            }
            return match (result, failure) {
                (_, Some(failure)) => Err(failure),
                (Ok(r), None) => Ok(r),
                (Err((e, _)), None) => Err(e),
            };
        }
    }

    fn backoff(&self, policy: &RetryPolicy, attempts: u32, retry_after: Option<u32>) -> u64 {
        policy.delay_ms(attempts, retry_after, |max| {
            self.transport.random_up_to(max)
        })
    }

    /// Authenticates now (credentials), or reads the ready token's expiry (token). Safe to
    /// repeat: it changes nothing. Bad credentials (401) fail at once.
    pub async fn authenticate(&self) -> Result<Option<u64>, ApiError> {
        let _call = self.begin_call();
        let _only_one = self.authenticating.lock().await;
        self.fetch_token().await
    }

    /// Gets a token and keeps it; the caller holds `authenticating`. A sign-in refused
    /// earlier in the call is not tried again.
    async fn fetch_token(&self) -> Result<Option<u64>, ApiError> {
        if let Some(refused) = self.call.refused_sign_in.borrow().clone() {
            return Err(refused);
        }
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
                    .with_retries(false, async |first_sent| {
                        if !self.deadline_passed() {
                            self.authentications.set(self.authentications.get() + 1);
                        }
                        self.send_in_call(&request, first_sent)
                            .await
                            .map_err(|e| (e, false))
                    })
                    .await?;
                match response::token(&resp, self.now()) {
                    Ok(token) => token,
                    Err(refused @ ApiError::Unauthorized(_)) => {
                        self.call.refused_sign_in.replace(Some(refused.clone()));
                        return Err(refused);
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let expires_at = response::jwt_expiry(&value);
        let generation = self.token_generation.get() + 1;
        self.token_generation.set(generation);
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
        let Some(_only_one) = self.before_deadline(self.authenticating.lock()).await else {
            return Err(self.deadline_error(false));
        };
        if self.usable_token().is_none() {
            self.fetch_token().await?;
        }
        let token = self.token.borrow().clone().expect("a token was just kept");
        Ok((token.value, token.generation))
    }

    /// Drops the token of `generation`, which the API refused: the next request fetches a
    /// new one (once, however many met the same refusal).
    fn forget_token(&self, generation: u64) {
        let mut token = self.token.borrow_mut();
        if token.as_ref().is_some_and(|t| t.generation == generation) {
            *token = None;
        }
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
    /// answer. The wait for a place, a `Retry-After` pause included, ends at the deadline.
    async fn send_limited(
        &self,
        request: &HttpRequest,
        first_sent: &FirstSent,
    ) -> Result<RawResponse, ApiError> {
        let Some(permit) = self
            .before_deadline(self.limit.acquire(&self.transport))
            .await
        else {
            return Err(self.deadline_error(false));
        };
        if self.deadline_passed() {
            return Err(self.deadline_error(false));
        }
        self.sent.set(self.sent.get() + 1);
        let answer = self.send_in_call(request, first_sent).await;
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

    /// Sends a users-API request with retries. Every request is repeated after an unknown
    /// outcome (5xx, timeout, dropped connection): each operation converges on a repeat. A
    /// 401 drops the token it carried, and the next attempt sends a new one.
    pub(crate) async fn execute(&self, request: &ApiRequest) -> Result<RawResponse, ApiError> {
        self.execute_within(request, None).await
    }

    /// `execute`, with an answer no larger than `max_response_bytes` when given (a read that
    /// shares the size limit with others).
    pub(crate) async fn execute_within(
        &self,
        request: &ApiRequest,
        max_response_bytes: Option<u32>,
    ) -> Result<RawResponse, ApiError> {
        let settings = self.settings()?;
        let renews = matches!(settings.auth, Auth::Credentials { .. });
        self.with_retries(renews, async |first_sent| {
            let (token, generation) = self.current_token().await.map_err(|e| (e, true))?;
            let mut http = self.http_request(settings, request, &token);
            if let Some(limit) = max_response_bytes {
                http.max_response_bytes = limit;
            }
            let resp = self
                .send_limited(&http, first_sent)
                .await
                .map_err(|e| (e, false))?;
            if resp.status == 401 && renews {
                self.forget_token(generation);
            }
            Ok(resp)
        })
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

    /// The agents of every list `filters` name, read one after another under one size limit
    /// for all their answers together (`max-response-bytes`): several tenants' lists never
    /// take more memory than one list may. The agents are moved into one list, not copied.
    pub(crate) async fn lists_within_limit(
        &self,
        filters: &[AgentFilter],
    ) -> Result<Vec<Agent>, ApiError> {
        let limit = self.settings()?.max_response_bytes;
        let mut left = limit;
        let mut agents = Vec::new();
        for filter in filters {
            let request = self.requests.list_agents(filter);
            let resp = match self.execute_within(&request, Some(left)).await {
                Ok(resp) => resp,
                Err(ApiError::UnexpectedResponse {
                    status,
                    content_type,
                    body_excerpt,
                }) if filters.len() > 1 => {
                    return Err(ApiError::UnexpectedResponse {
                        status,
                        content_type,
                        body_excerpt: format!(
                            "{body_excerpt} (the {} lists are read under one limit for all, \
                             max-response-bytes {limit})",
                            filters.len()
                        ),
                    });
                }
                Err(e) => return Err(e),
            };
            left = left.saturating_sub(u32::try_from(resp.body.len()).unwrap_or(u32::MAX));
            agents.extend(response::agent_list(&resp, self.now())?);
        }
        Ok(agents)
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
        let _call = self.begin_call();
        self.settings()?;
        invalid(validate::onboard_agents(agents))?;
        self.run_batch(
            agents,
            options.continue_on_error.unwrap_or(false),
            dispatch::in_caller_order(agents),
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
        let _call = self.begin_call();
        self.settings()?;
        invalid(validate::get_agent(id, key_id, upn))?;
        let request = self.requests.get_agent(id, key_id, upn);
        let resp = self.execute(&request).await?;
        response::agent(&resp, self.now())
    }

    pub async fn list_agents(&self, filter: &AgentFilter) -> Result<Vec<Agent>, ApiError> {
        let _call = self.begin_call();
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
        let _call = self.begin_call();
        self.settings()?;
        invalid(validate::update_agent(id, key_id, changes))?;
        let request = self.requests.update_agent(id, key_id, changes);
        let now = self.now();
        let resp = match self.execute(&request).await {
            Ok(resp) => resp,
            Err(ApiError::NotFound(message)) => {
                let key = key_id.unwrap_or(KeyId::UserObjectId);
                let Some(renamed) = converge::renamed_key(key, changes) else {
                    return Err(ApiError::NotFound(message));
                };
                // A read that fails leaves the outcome unknown: its error, not a refusal.
                let read = self.read_agent(renamed, key).await;
                return match read.map_err(ApiError::after_sending)? {
                    Some(agent) if converge::change_differences(&agent, changes).is_empty() => {
                        Ok(agent)
                    }
                    _ => Err(ApiError::NotFound(message)),
                };
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
        let _call = self.begin_call();
        self.settings()?;
        invalid(validate::update_agents(updates))?;
        self.run_batch(
            updates,
            continue_on_error.unwrap_or(false),
            dispatch::in_caller_order(updates),
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
        let _call = self.begin_call();
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
        if !missing || key == KeyId::Id {
            return outcome;
        }
        // A read that fails leaves the outcome unknown: its error, not the refusal.
        match self
            .read_agent(id, key)
            .await
            .map_err(ApiError::after_sending)?
        {
            None => Ok(format!("already offboarded: no agent has {key} {id}")),
            Some(_) => outcome,
        }
    }

    pub async fn offboard_agents(
        &self,
        items: &[OffboardItem],
        options: OffboardOptions,
    ) -> Result<Vec<Outcome<Note>>, ApiError> {
        let _call = self.begin_call();
        self.settings()?;
        invalid(validate::offboard_agents(items))?;
        self.run_batch(
            items,
            options.continue_on_error.unwrap_or(false),
            dispatch::in_caller_order(items),
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
        let _call = self.begin_call();
        self.settings()?;
        invalid(validate::create_inboxes(inboxes))?;
        self.run_batch(
            inboxes,
            continue_on_error.unwrap_or(false),
            dispatch::in_caller_order(inboxes),
            |r, chunk| r.create_inboxes(chunk, continue_on_error),
            |_, _| None,
        )
        .await
    }

    pub async fn assign_inboxes(
        &self,
        assignments: &[Assignment],
    ) -> Result<Vec<Outcome<Note>>, ApiError> {
        let _call = self.begin_call();
        self.settings()?;
        invalid(validate::assign_inboxes(assignments))?;
        self.run_batch(
            assignments,
            false,
            dispatch::in_caller_order(assignments),
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
        let _call = self.begin_call();
        self.settings()?;
        invalid(validate::list_numbers(matching))?;
        let request = self.requests.list_numbers(status, matching);
        let resp = self.execute(&request).await?;
        response::numbers(&resp, self.now())
    }
}
