//! The client's settings, defined once: the Rust struct, its checks, and its encoding as
//! `SMARTCOMM_*` environment variables (the step functions' configuration). The WIT
//! `client-config` record converts to and from it in `wit_conversions`, for the component and
//! the host alike.

use crate::error::Problem;
use std::fmt;

pub const DEFAULT_API_URL: &str = "https://smartcommunicator-api-users.intelepeer.com";
pub const DEFAULT_AUTH_URL: &str = "https://atmosphere-api.intelepeer.com/rest/v1/authenticate";
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;
/// A list of 10,000 agents with every field set is about 6 MB. This takes about 13,500 of
/// them, whose parsing fits the host's default 64 MiB of instance memory (a 14 MB list did
/// not): a larger answer is refused as an `unexpected-response`, not a trap.
pub const DEFAULT_MAX_RESPONSE_BYTES: u32 = 8 * 1024 * 1024;
/// A token is renewed this long before its `exp`, so a request never carries a token that
/// expires in flight.
pub const RENEW_BEFORE_EXPIRY_SECS: u64 = 60;
/// Requests of one call in flight at once, by default: modest, since the API publishes no
/// rate limit (the client backs off by itself when it throttles).
pub const DEFAULT_CONCURRENCY: u32 = 4;
/// The most requests of one call in flight at once.
pub const MAX_CONCURRENCY: u32 = 64;
/// How long one call may take, in seconds, by default: what a host allowed a call before the
/// deadline moved into the component. A workflow engine's step sets its own, below the lock
/// the engine holds on it; a command-line `sync apply` raises it to what its plan needs.
pub const DEFAULT_CALL_DEADLINE_SECS: u32 = 300;
/// The longest call deadline accepted: a day.
pub const MAX_CALL_DEADLINE_SECS: u32 = 86_400;
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";

/// See the WIT `retry-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay_ms: u32,
    pub max_delay_ms: u32,
    pub budget_ms: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay_ms: 500,
            max_delay_ms: 20_000,
            budget_ms: 60_000,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`: the API's `Retry-After` when it gave one,
    /// else "equal jitter": half of `base * 2^(attempt-1)` plus a random part of the other
    /// half, so that a re-send never follows at once, never above the cap.
    pub fn delay_ms(
        &self,
        attempt: u32,
        retry_after_secs: Option<u32>,
        random_up_to: impl FnOnce(u64) -> u64,
    ) -> u64 {
        let cap = u64::from(self.max_delay_ms);
        match retry_after_secs {
            Some(s) => (u64::from(s) * 1000).min(cap),
            None => {
                let ceiling = u64::from(self.base_delay_ms)
                    .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
                    .min(cap);
                let half = ceiling / 2;
                half + random_up_to(ceiling - half)
            }
        }
    }
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

/// Microsoft Graph, for reading an Entra group's members (`graph`): an app registration's
/// client id and secret (the client-credentials grant), and the two URLs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct GraphConfig {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// `None` is [`DEFAULT_GRAPH_URL`].
    pub graph_url: Option<String>,
    /// `None` is [`DEFAULT_LOGIN_URL`].
    pub login_url: Option<String>,
}

impl fmt::Debug for GraphConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("graph_url", &self.graph_url)
            .field("login_url", &self.login_url)
            .finish()
    }
}

/// Graph settings whose values have been checked.
#[derive(Clone)]
pub struct GraphSettings {
    pub client_id: String,
    pub client_secret: String,
    pub graph_url: String,
    pub login_url: String,
}

impl GraphConfig {
    /// The settings, or a problem naming each missing or malformed variable.
    pub fn settings(&self) -> Result<GraphSettings, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut required = |variable: &str, value: &Option<String>| {
            let value = value.clone().filter(|v| !v.trim().is_empty());
            if value.is_none() {
                problems.push(problem(
                    variable,
                    "is required to read a group through Graph",
                ));
            }
            value.unwrap_or_default()
        };
        let client_id = required(var::GRAPH_CLIENT_ID, &self.client_id);
        let client_secret = required(var::GRAPH_CLIENT_SECRET, &self.client_secret);
        let graph_url = self.graph_url.as_deref().unwrap_or(DEFAULT_GRAPH_URL);
        let login_url = self.login_url.as_deref().unwrap_or(DEFAULT_LOGIN_URL);
        check_url(var::GRAPH_URL, graph_url, &mut problems);
        check_url(var::LOGIN_URL, login_url, &mut problems);
        match problems.is_empty() {
            true => Ok(GraphSettings {
                client_id,
                client_secret,
                graph_url: graph_url.trim_end_matches('/').to_string(),
                login_url: login_url.trim_end_matches('/').to_string(),
            }),
            false => Err(problems),
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
    pub retry: RetryPolicy,
    pub max_response_bytes: Option<u32>,
    /// Requests of one call in flight at once; `None` is [`DEFAULT_CONCURRENCY`].
    pub concurrency: Option<u32>,
    /// The longest one call may take, in seconds; `None` is [`DEFAULT_CALL_DEADLINE_SECS`].
    pub call_deadline: Option<u32>,
    /// For reading an Entra group through Graph; not needed otherwise.
    pub graph: GraphConfig,
}

impl Config {
    /// A config with the vendor URLs and default settings.
    pub fn new(customer_id: impl Into<String>, auth: Auth) -> Config {
        Config {
            api_url: None,
            auth_url: None,
            customer_id: customer_id.into(),
            auth,
            auth_scheme: AuthScheme::Bearer,
            timeout_ms: None,
            retry: RetryPolicy::default(),
            max_response_bytes: None,
            concurrency: None,
            call_deadline: None,
            graph: GraphConfig::default(),
        }
    }

    /// The call deadline this config gives, the default included.
    pub fn call_deadline_secs(&self) -> u32 {
        self.call_deadline.unwrap_or(DEFAULT_CALL_DEADLINE_SECS)
    }
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
pub(crate) struct Settings {
    pub(crate) api_url: String,
    pub(crate) auth_url: String,
    pub(crate) auth: Auth,
    pub(crate) auth_scheme: AuthScheme,
    pub(crate) timeout_ms: u32,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_response_bytes: u32,
    pub(crate) concurrency: usize,
    pub(crate) call_deadline_secs: u32,
}

impl Config {
    pub(crate) fn settings(&self) -> Result<Settings, Vec<Problem>> {
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
        for (field, value) in [
            ("timeout_ms", self.timeout_ms),
            ("retry.max_attempts", Some(self.retry.max_attempts)),
            ("max_response_bytes", self.max_response_bytes),
        ] {
            if value == Some(0) {
                problems.push(Problem {
                    index: None,
                    field: field.into(),
                    message: "must be more than 0".into(),
                });
            }
        }
        for (field, value, most) in [
            ("concurrency", self.concurrency, MAX_CONCURRENCY),
            ("call_deadline", self.call_deadline, MAX_CALL_DEADLINE_SECS),
        ] {
            if let Some(n) = value
                && !(1..=most).contains(&n)
            {
                problems.push(Problem {
                    index: None,
                    field: field.into(),
                    message: format!("must be 1 to {most}, not {n}"),
                });
            }
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
            retry: self.retry,
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            concurrency: self.concurrency.unwrap_or(DEFAULT_CONCURRENCY) as usize,
            call_deadline_secs: self.call_deadline_secs(),
        })
    }
}

/// The environment variables of each setting.
pub mod var {
    pub const API_URL: &str = "SMARTCOMM_API_URL";
    pub const AUTH_URL: &str = "SMARTCOMM_AUTH_URL";
    pub const CUSTOMER_ID: &str = "SMARTCOMM_CUSTOMER_ID";
    pub const USERNAME: &str = "SMARTCOMM_USERNAME";
    pub const PASSWORD: &str = "SMARTCOMM_PASSWORD";
    pub const TOKEN: &str = "SMARTCOMM_TOKEN";
    pub const AUTH_SCHEME: &str = "SMARTCOMM_AUTH_SCHEME";
    pub const TIMEOUT_MS: &str = "SMARTCOMM_TIMEOUT_MS";
    pub const MAX_ATTEMPTS: &str = "SMARTCOMM_MAX_ATTEMPTS";
    pub const RETRY_BASE_DELAY_MS: &str = "SMARTCOMM_RETRY_BASE_DELAY_MS";
    pub const RETRY_MAX_DELAY_MS: &str = "SMARTCOMM_RETRY_MAX_DELAY_MS";
    pub const RETRY_BUDGET_MS: &str = "SMARTCOMM_RETRY_BUDGET_MS";
    pub const MAX_RESPONSE_BYTES: &str = "SMARTCOMM_MAX_RESPONSE_BYTES";
    pub const CONCURRENCY: &str = "SMARTCOMM_CONCURRENCY";
    pub const CALL_DEADLINE: &str = "SMARTCOMM_CALL_DEADLINE";
    pub const GRAPH_CLIENT_ID: &str = "SMARTCOMM_GRAPH_CLIENT_ID";
    pub const GRAPH_CLIENT_SECRET: &str = "SMARTCOMM_GRAPH_CLIENT_SECRET";
    pub const GRAPH_URL: &str = "SMARTCOMM_GRAPH_URL";
    pub const LOGIN_URL: &str = "SMARTCOMM_LOGIN_URL";
}

/// One setting of a client's config: its variable, its command-line flag, and its line in the
/// docs. Every variable of [`var`] is here once (a test checks it).
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub variable: &'static str,
    /// The flag that overrides the variable; `None` for a secret, which is never a flag
    /// (a process's arguments are visible to every user of the machine).
    pub flag: Option<&'static str>,
    pub value_name: &'static str,
    /// What it is, with its default, as the docs and `--help` say it.
    pub meaning: &'static str,
}

/// Every setting of the config, in the order the docs list them.
pub const SETTINGS: [Setting; 19] = [
    Setting {
        variable: var::CUSTOMER_ID,
        flag: Some("customer-id"),
        value_name: "ID",
        meaning: "your account id, the first path segment of every users-API request; required",
    },
    Setting {
        variable: var::USERNAME,
        flag: Some("username"),
        value_name: "NAME",
        meaning: "a username with API access; required unless SMARTCOMM_TOKEN is set",
    },
    Setting {
        variable: var::PASSWORD,
        flag: None,
        value_name: "PASSWORD",
        meaning: "its password; the command prompts for it on a terminal",
    },
    Setting {
        variable: var::TOKEN,
        flag: None,
        value_name: "TOKEN",
        meaning: "a ready token instead of a username and password: never renewed",
    },
    Setting {
        variable: var::API_URL,
        flag: Some("api-url"),
        value_name: "URL",
        meaning: "the users API; default https://smartcommunicator-api-users.intelepeer.com",
    },
    Setting {
        variable: var::AUTH_URL,
        flag: Some("auth-url"),
        value_name: "URL",
        meaning: "the authenticate endpoint; default https://atmosphere-api.intelepeer.com/rest/v1/authenticate",
    },
    Setting {
        variable: var::AUTH_SCHEME,
        flag: Some("auth-scheme"),
        value_name: "bearer|bare",
        meaning: "how the token is sent: `Authorization: Bearer <token>` (bearer, the default) or `Authorization: <token>`",
    },
    Setting {
        variable: var::TIMEOUT_MS,
        flag: Some("timeout-ms"),
        value_name: "MS",
        meaning: "connect timeout of each request, and the longest wait for its answer's head and between its chunks; default 30000",
    },
    Setting {
        variable: var::MAX_ATTEMPTS,
        flag: Some("max-attempts"),
        value_name: "N",
        meaning: "sends of one request in all, the first included (1 turns retries off); default 3",
    },
    Setting {
        variable: var::RETRY_BASE_DELAY_MS,
        flag: Some("retry-base-delay-ms"),
        value_name: "MS",
        meaning: "the first backoff step; default 500",
    },
    Setting {
        variable: var::RETRY_MAX_DELAY_MS,
        flag: Some("retry-max-delay-ms"),
        value_name: "MS",
        meaning: "the longest single wait, Retry-After included (a longer Retry-After is reported as rate-limited); default 20000",
    },
    Setting {
        variable: var::RETRY_BUDGET_MS,
        flag: Some("retry-budget-ms"),
        value_name: "MS",
        meaning: "the longest one request may take with its retries, from its first send; default 60000",
    },
    Setting {
        variable: var::MAX_RESPONSE_BYTES,
        flag: Some("max-response-bytes"),
        value_name: "BYTES",
        meaning: "the largest answer read; default 8388608 (a list of about 13,500 agents)",
    },
    Setting {
        variable: var::CONCURRENCY,
        flag: Some("concurrency"),
        value_name: "N",
        meaning: "requests of one call in flight at once, 1 to 64; default 4",
    },
    Setting {
        variable: var::CALL_DEADLINE,
        flag: Some("call-deadline"),
        value_name: "SECONDS",
        meaning: "the longest one call may take, 1 to 86400; at it the call reports what it did; default 300",
    },
    Setting {
        variable: var::GRAPH_CLIENT_ID,
        flag: Some("graph-client-id"),
        value_name: "ID",
        meaning: "the Entra app registration that reads a group through Microsoft Graph",
    },
    Setting {
        variable: var::GRAPH_CLIENT_SECRET,
        flag: None,
        value_name: "SECRET",
        meaning: "its client secret",
    },
    Setting {
        variable: var::GRAPH_URL,
        flag: Some("graph-url"),
        value_name: "URL",
        meaning: "Microsoft Graph; default https://graph.microsoft.com",
    },
    Setting {
        variable: var::LOGIN_URL,
        flag: Some("login-url"),
        value_name: "URL",
        meaning: "Microsoft Entra's login endpoint, for the Graph token; default https://login.microsoftonline.com",
    },
];

/// The Graph settings' variables, and their fields; all text.
type TextField = fn(&mut GraphConfig) -> &mut Option<String>;
const GRAPH_TEXT: [(&str, TextField); 4] = [
    (var::GRAPH_CLIENT_ID, |g| &mut g.client_id),
    (var::GRAPH_CLIENT_SECRET, |g| &mut g.client_secret),
    (var::GRAPH_URL, |g| &mut g.graph_url),
    (var::LOGIN_URL, |g| &mut g.login_url),
];

/// Where a numeric setting lives in the config.
type NumberField = fn(&mut Config) -> NumberSlot<'_>;

/// The numeric settings: variable, the range of accepted values, and the field.
const NUMBERS: [(&str, (u32, u32), NumberField); 8] = [
    (var::TIMEOUT_MS, (1, u32::MAX), |c| {
        NumberSlot::Optional(&mut c.timeout_ms)
    }),
    (var::MAX_ATTEMPTS, (1, u32::MAX), |c| {
        NumberSlot::Set(&mut c.retry.max_attempts)
    }),
    (var::RETRY_BASE_DELAY_MS, (0, u32::MAX), |c| {
        NumberSlot::Set(&mut c.retry.base_delay_ms)
    }),
    (var::RETRY_MAX_DELAY_MS, (0, u32::MAX), |c| {
        NumberSlot::Set(&mut c.retry.max_delay_ms)
    }),
    (var::RETRY_BUDGET_MS, (0, u32::MAX), |c| {
        NumberSlot::Set(&mut c.retry.budget_ms)
    }),
    (var::MAX_RESPONSE_BYTES, (1, u32::MAX), |c| {
        NumberSlot::Optional(&mut c.max_response_bytes)
    }),
    (var::CONCURRENCY, (1, MAX_CONCURRENCY), |c| {
        NumberSlot::Optional(&mut c.concurrency)
    }),
    (var::CALL_DEADLINE, (1, MAX_CALL_DEADLINE_SECS), |c| {
        NumberSlot::Optional(&mut c.call_deadline)
    }),
];

enum NumberSlot<'a> {
    Optional(&'a mut Option<u32>),
    Set(&'a mut u32),
}

fn problem(variable: &str, message: impl Into<String>) -> Problem {
    Problem {
        index: None,
        field: variable.into(),
        message: message.into(),
    }
}

impl Config {
    /// Reads a config through `get` (the environment); every problem names its variable.
    /// Empty values count as unset; unset numbers keep their defaults.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<Problem>> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let mut problems = Vec::new();
        let customer_id = get(var::CUSTOMER_ID).unwrap_or_else(|| {
            problems.push(problem(var::CUSTOMER_ID, "is required"));
            String::new()
        });
        let auth = match (get(var::TOKEN), get(var::USERNAME), get(var::PASSWORD)) {
            (Some(token), _, _) => Auth::Token(token),
            (None, Some(username), Some(password)) => Auth::Credentials { username, password },
            (None, None, _) => {
                problems.push(problem(
                    var::USERNAME,
                    format!(
                        "is required (with {}), or set {}",
                        var::PASSWORD,
                        var::TOKEN
                    ),
                ));
                Auth::Token(String::new())
            }
            (None, Some(_), None) => {
                problems.push(problem(
                    var::PASSWORD,
                    format!("is required with {}", var::USERNAME),
                ));
                Auth::Token(String::new())
            }
        };
        let mut config = Config::new(customer_id, auth);
        for (variable, slot) in [
            (var::API_URL, &mut config.api_url),
            (var::AUTH_URL, &mut config.auth_url),
        ] {
            if let Some(url) = get(variable) {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    problems.push(problem(
                        variable,
                        format!("{url:?} is not an http:// or https:// URL"),
                    ));
                }
                *slot = Some(url);
            }
        }
        match get(var::AUTH_SCHEME).as_deref() {
            None | Some("bearer") => {}
            Some("bare") => config.auth_scheme = AuthScheme::Bare,
            Some(other) => problems.push(problem(
                var::AUTH_SCHEME,
                format!("{other:?} is not bearer or bare"),
            )),
        }
        for (variable, field) in GRAPH_TEXT {
            *field(&mut config.graph) = get(variable);
        }
        for (variable, (least, most), slot) in NUMBERS {
            let Some(value) = get(variable) else { continue };
            match value.trim().parse::<u32>() {
                Ok(n) if (least..=most).contains(&n) => match slot(&mut config) {
                    NumberSlot::Optional(field) => *field = Some(n),
                    NumberSlot::Set(field) => *field = n,
                },
                _ if most == u32::MAX => problems.push(problem(
                    variable,
                    format!("{value:?} is not a whole number of at least {least}"),
                )),
                _ => problems.push(problem(
                    variable,
                    format!("{value:?} is not a whole number from {least} to {most}"),
                )),
            }
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// The variables that carry this config, every field included: what a host sets for the
    /// step functions. `Config::from_env` reads them back to an equal config.
    pub fn to_env(&self) -> Vec<(String, String)> {
        let mut vars = vec![(var::CUSTOMER_ID, self.customer_id.clone())];
        match &self.auth {
            Auth::Credentials { username, password } => {
                vars.push((var::USERNAME, username.clone()));
                vars.push((var::PASSWORD, password.clone()));
            }
            Auth::Token(token) => vars.push((var::TOKEN, token.clone())),
        }
        if let Some(url) = &self.api_url {
            vars.push((var::API_URL, url.clone()));
        }
        if let Some(url) = &self.auth_url {
            vars.push((var::AUTH_URL, url.clone()));
        }
        let scheme = match self.auth_scheme {
            AuthScheme::Bearer => "bearer",
            AuthScheme::Bare => "bare",
        };
        vars.push((var::AUTH_SCHEME, scheme.into()));
        let mut copy = self.clone();
        for (variable, field) in GRAPH_TEXT {
            if let Some(value) = field(&mut copy.graph) {
                vars.push((variable, value.clone()));
            }
        }
        for (variable, _, slot) in NUMBERS {
            let value = match slot(&mut copy) {
                NumberSlot::Optional(field) => *field,
                NumberSlot::Set(field) => Some(*field),
            };
            if let Some(n) = value {
                vars.push((variable, n.to_string()));
            }
        }
        vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::var::*;
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Config, Vec<Problem>> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_env(|name| map.get(name).cloned())
    }

    fn fields(result: Result<Config, Vec<Problem>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn credentials_or_a_token_and_a_customer_id_are_enough() {
        let config = read(&[(CUSTOMER_ID, "1"), (USERNAME, "u"), (PASSWORD, "p")]).unwrap();
        assert_eq!(config.api_url, None, "the vendor URL by default");
        assert!(matches!(config.auth, Auth::Credentials { .. }));
        let config = read(&[(CUSTOMER_ID, "1"), (TOKEN, "t"), (USERNAME, "u")]).unwrap();
        assert_eq!(config.auth, Auth::Token("t".into()), "a token wins");
    }

    #[test]
    fn each_missing_or_malformed_setting_names_its_variable() {
        assert_eq!(fields(read(&[])), [CUSTOMER_ID, USERNAME]);
        assert_eq!(
            fields(read(&[(CUSTOMER_ID, " "), (USERNAME, "u")])),
            [CUSTOMER_ID, PASSWORD]
        );
        assert_eq!(
            fields(read(&[
                (CUSTOMER_ID, "1"),
                (TOKEN, "t"),
                (API_URL, "ftp://x"),
                (AUTH_SCHEME, "basic"),
                (TIMEOUT_MS, "soon"),
                (MAX_ATTEMPTS, "0"),
                (CONCURRENCY, "65"),
                (CALL_DEADLINE, "0"),
            ])),
            [
                API_URL,
                AUTH_SCHEME,
                TIMEOUT_MS,
                MAX_ATTEMPTS,
                CONCURRENCY,
                CALL_DEADLINE
            ]
        );
    }

    /// Every field set to a value other than its default.
    pub(crate) fn config_with_every_field_set() -> Config {
        Config {
            api_url: Some("http://127.0.0.1:1".into()),
            auth_url: Some("http://127.0.0.1:2/rest/v1/authenticate".into()),
            customer_id: "c".into(),
            auth: Auth::Credentials {
                username: "u".into(),
                password: "p".into(),
            },
            auth_scheme: AuthScheme::Bare,
            timeout_ms: Some(1500),
            retry: RetryPolicy {
                max_attempts: 5,
                base_delay_ms: 7,
                max_delay_ms: 900,
                budget_ms: 4000,
            },
            max_response_bytes: Some(65536),
            concurrency: Some(9),
            call_deadline: Some(42),
            graph: GraphConfig {
                client_id: Some("app".into()),
                client_secret: Some("s3cret".into()),
                graph_url: Some("http://127.0.0.1:3".into()),
                login_url: Some("http://127.0.0.1:4".into()),
            },
        }
    }

    #[test]
    fn the_graph_secret_is_never_shown_and_missing_graph_settings_are_named() {
        let config = config_with_every_field_set();
        assert!(!format!("{config:?}").contains("s3cret"));
        let problems = GraphConfig::default().settings().err().unwrap();
        let named: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(named, [GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET]);
    }

    #[test]
    fn a_config_with_every_field_set_survives_the_round_trip_through_variables() {
        let config = config_with_every_field_set();
        let vars = config.to_env();
        assert!(vars.iter().all(|(k, _)| k.starts_with("SMARTCOMM_")));
        let back =
            Config::from_env(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
                .unwrap();
        assert_eq!(back, config);
        let token = Config {
            auth: Auth::Token("t".into()),
            ..config
        };
        let vars = token.to_env();
        let back =
            Config::from_env(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
                .unwrap();
        assert_eq!(back, token);
    }

    #[test]
    fn every_variable_a_config_is_written_to_is_a_setting_listed_once() {
        let listed: Vec<&str> = SETTINGS.iter().map(|s| s.variable).collect();
        let mut unique = listed.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), listed.len(), "a setting listed twice");
        let config = config_with_every_field_set();
        let token = Config {
            auth: Auth::Token("t".into()),
            ..config.clone()
        };
        for (variable, _) in config.to_env().into_iter().chain(token.to_env()) {
            assert!(
                listed.contains(&variable.as_str()),
                "{variable} is not listed"
            );
        }
        let secrets = [PASSWORD, TOKEN, GRAPH_CLIENT_SECRET];
        for setting in SETTINGS {
            assert_eq!(
                setting.flag.is_none(),
                secrets.contains(&setting.variable),
                "{}: only secrets have no flag",
                setting.variable
            );
        }
    }

    #[test]
    fn zero_retry_delays_are_accepted_and_a_zero_size_limit_is_refused() {
        let config = read(&[
            (CUSTOMER_ID, "1"),
            (TOKEN, "t"),
            (RETRY_BASE_DELAY_MS, "0"),
            (RETRY_BUDGET_MS, "0"),
        ])
        .unwrap();
        assert_eq!((config.retry.base_delay_ms, config.retry.budget_ms), (0, 0));
        assert_eq!(
            fields(read(&[
                (CUSTOMER_ID, "1"),
                (TOKEN, "t"),
                (MAX_RESPONSE_BYTES, "0"),
                (RETRY_MAX_DELAY_MS, "-1"),
            ])),
            [RETRY_MAX_DELAY_MS, MAX_RESPONSE_BYTES]
        );
    }
}
