//! The client: configuration, token handling and every operation, over any `Transport`.
//! The component plugs in wasi:http; tests plug in a scripted transport.

use crate::batch::{self, Outcome};
use crate::error::{ApiError, Problem};
use crate::model::*;
use crate::request::{ApiRequest, Method, Requests};
use crate::response::{self, RawResponse};
use crate::validate;
use std::fmt;

pub const DEFAULT_API_URL: &str = "https://smartcommunicator-api-users.intelepeer.com";
pub const DEFAULT_AUTH_URL: &str = "https://atmosphere-api.intelepeer.com/rest/v1/authenticate";
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;
/// A token is renewed this long before its `exp`, so a request never carries a token that
/// expires in flight.
pub const RENEW_BEFORE_EXPIRY_SECS: u64 = 60;

/// One HTTP exchange as the transport performs it.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
    pub timeout_ms: u32,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers carry the token and bodies may carry the password: neither is shown.
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

pub trait Transport {
    fn send(&mut self, request: &HttpRequest) -> Result<RawResponse, ApiError>;
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> u64;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AuthScheme {
    #[default]
    Bearer,
    Bare,
}

#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    Credentials { username: String, password: String },
    Token(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Credentials { username, .. } => f
                .debug_struct("Credentials")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Auth::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub api_url: Option<String>,
    pub auth_url: Option<String>,
    pub customer_id: String,
    pub auth: Auth,
    pub auth_scheme: AuthScheme,
    pub timeout_ms: Option<u32>,
}

fn check_url(field: &str, url: &str, problems: &mut Vec<Problem>) {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let valid = rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    });
    if !valid {
        problems.push(Problem {
            index: None,
            field: field.into(),
            message: format!("{url:?} is not an http:// or https:// URL"),
        });
    }
}

/// A config whose values have been checked.
#[derive(Clone, Debug)]
struct Settings {
    api_url: String,
    auth_url: String,
    auth: Auth,
    auth_scheme: AuthScheme,
    timeout_ms: u32,
}

impl Config {
    fn settings(&self) -> Result<Settings, Vec<Problem>> {
        let mut problems = Vec::new();
        let api_url = self
            .api_url
            .clone()
            .unwrap_or_else(|| DEFAULT_API_URL.into());
        let auth_url = self
            .auth_url
            .clone()
            .unwrap_or_else(|| DEFAULT_AUTH_URL.into());
        check_url("api_url", &api_url, &mut problems);
        check_url("auth_url", &auth_url, &mut problems);
        let mut require = |field: &str, value: &str| {
            if value.trim().is_empty() {
                problems.push(Problem {
                    index: None,
                    field: field.into(),
                    message: "is required and must not be empty".into(),
                });
            }
        };
        require("customer_id", &self.customer_id);
        match &self.auth {
            Auth::Credentials { username, password } => {
                require("username", username);
                require("password", password);
            }
            Auth::Token(token) => require("token", token),
        }
        if self.timeout_ms == Some(0) {
            problems.push(Problem {
                index: None,
                field: "timeout_ms".into(),
                message: "must be more than 0".into(),
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Settings {
            api_url: api_url.trim_end_matches('/').to_string(),
            auth_url,
            auth: self.auth.clone(),
            auth_scheme: self.auth_scheme,
            timeout_ms: self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
        })
    }
}

#[derive(Clone)]
struct Token {
    value: String,
    expires_at: Option<u64>,
}

pub struct Client<T> {
    settings: Result<Settings, Vec<Problem>>,
    requests: Requests,
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

impl<T: Transport> Client<T> {
    pub fn new(config: Config, transport: T) -> Self {
        Client {
            requests: Requests::new(&config.customer_id),
            settings: config.settings(),
            token: None,
            transport,
        }
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    fn settings(&self) -> Result<&Settings, ApiError> {
        self.settings
            .as_ref()
            .map_err(|problems| ApiError::InvalidInput(problems.clone()))
    }

    /// Authenticates now (credentials), or reads the ready token's expiry (token).
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
                };
                let resp = self.transport.send(&request)?;
                let value = response::token(&resp, self.transport.now_unix())?;
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

    fn current_token(&mut self) -> Result<String, ApiError> {
        let now = self.transport.now_unix();
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
        }
    }

    /// Sends a users-API request with a valid token; on a 401, authenticates again once and
    /// repeats the request once (a ready token cannot be renewed, so its 401 is final).
    fn execute(&mut self, request: &ApiRequest) -> Result<RawResponse, ApiError> {
        let settings = self.settings()?.clone();
        let token = self.current_token()?;
        let resp = self
            .transport
            .send(&self.http_request(&settings, request, &token))?;
        if resp.status != 401 || !matches!(settings.auth, Auth::Credentials { .. }) {
            return Ok(resp);
        }
        self.token = None;
        let token = self.current_token()?;
        self.transport
            .send(&self.http_request(&settings, request, &token))
    }

    fn now(&self) -> u64 {
        self.transport.now_unix()
    }

    fn run_batch<I, O>(
        &mut self,
        items: &[I],
        continue_on_error: Option<bool>,
        build: impl Fn(&Requests, &[I]) -> ApiRequest,
        succeeded: impl Fn(&response::BatchAnswer, usize) -> O,
    ) -> Result<Vec<Outcome<O>>, ApiError> {
        self.settings()?;
        // A failure to get a token before anything was sent fails the call as a whole.
        self.current_token()?;
        let keep_going = continue_on_error.unwrap_or(false);
        let mut outcomes: Vec<Outcome<O>> = Vec::with_capacity(items.len());
        for (_, chunk) in batch::chunks(items) {
            let request = build(&self.requests, chunk);
            let answer = self.execute(&request);
            let (chunk_outcomes, failed) =
                batch::chunk_outcomes(chunk.len(), answer, keep_going, self.now(), &succeeded);
            outcomes.extend(chunk_outcomes);
            if failed && !keep_going {
                break;
            }
        }
        outcomes.resize_with(items.len(), || Outcome::NotAttempted);
        Ok(outcomes)
    }

    pub fn onboard(
        &mut self,
        agents: &[NewAgent],
        options: BatchOptions,
    ) -> Result<Vec<Outcome<()>>, ApiError> {
        self.settings()?;
        invalid(validate::onboard(agents))?;
        let reassign = options.flag;
        self.run_batch(
            agents,
            options.continue_on_error,
            |r, chunk| r.onboard(chunk, options.continue_on_error, reassign),
            |_, _| (),
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

    pub fn update_agent(
        &mut self,
        id: &str,
        key_id: Option<KeyId>,
        changes: &AgentChanges,
    ) -> Result<Agent, ApiError> {
        self.settings()?;
        invalid(validate::update_agent(id, key_id, changes))?;
        let request = self.requests.update_agent(id, key_id, changes);
        let resp = self.execute(&request)?;
        // The reference answers a single update with the agent; a body without one (or a
        // bulk-style `result` list) still means it was applied.
        let now = self.now();
        match response::agent(&resp, now) {
            Ok(agent) => Ok(agent),
            Err(e @ ApiError::UnexpectedResponse { .. }) => response::batch(&resp, now)
                .ok()
                .and_then(|b| b.results.into_iter().next().map(|(_, a)| a))
                .ok_or(e),
            Err(e) => Err(e),
        }
    }

    pub fn update_many(
        &mut self,
        updates: &[AgentUpdate],
        continue_on_error: Option<bool>,
    ) -> Result<Vec<Outcome<Option<Agent>>>, ApiError> {
        self.settings()?;
        invalid(validate::update_many(updates))?;
        self.run_batch(
            updates,
            continue_on_error,
            |r, chunk| r.update_many(chunk, continue_on_error),
            |answer, i| {
                answer
                    .results
                    .iter()
                    .find(|(index, _)| *index == i)
                    .map(|(_, agent)| agent.clone())
            },
        )
    }

    pub fn offboard_agent(
        &mut self,
        id: &str,
        key_id: Option<KeyId>,
        deprovision: Option<bool>,
    ) -> Result<String, ApiError> {
        self.settings()?;
        invalid(validate::offboard_agent(id, key_id))?;
        let request = self.requests.offboard_agent(id, key_id, deprovision);
        let resp = self.execute(&request)?;
        response::message(&resp, self.now())
    }

    pub fn offboard_many(
        &mut self,
        items: &[OffboardItem],
        options: BatchOptions,
    ) -> Result<Vec<Outcome<()>>, ApiError> {
        self.settings()?;
        invalid(validate::offboard_many(items))?;
        self.run_batch(
            items,
            options.continue_on_error,
            |r, chunk| r.offboard_many(chunk, options.continue_on_error, options.flag),
            |_, _| (),
        )
    }

    pub fn create_inboxes(
        &mut self,
        inboxes: &[NewInbox],
        continue_on_error: Option<bool>,
    ) -> Result<Vec<Outcome<()>>, ApiError> {
        self.settings()?;
        invalid(validate::create_inboxes(inboxes))?;
        self.run_batch(
            inboxes,
            continue_on_error,
            |r, chunk| r.create_inboxes(chunk, continue_on_error),
            |_, _| (),
        )
    }

    pub fn assign(&mut self, assignments: &[Assignment]) -> Result<Vec<Outcome<()>>, ApiError> {
        self.settings()?;
        invalid(validate::assignments(assignments))?;
        self.run_batch(
            assignments,
            None,
            |r, chunk| r.assignments(chunk),
            |_, _| (),
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
