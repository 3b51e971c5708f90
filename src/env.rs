//! Connection settings from environment variables, for the step functions (and any host that
//! configures through the environment).

use crate::client::{Auth, AuthScheme, Config};
use crate::error::Problem;

pub const API_URL: &str = "SMARTCOMM_API_URL";
pub const AUTH_URL: &str = "SMARTCOMM_AUTH_URL";
pub const CUSTOMER_ID: &str = "SMARTCOMM_CUSTOMER_ID";
pub const USERNAME: &str = "SMARTCOMM_USERNAME";
pub const PASSWORD: &str = "SMARTCOMM_PASSWORD";
pub const TOKEN: &str = "SMARTCOMM_TOKEN";
pub const AUTH_SCHEME: &str = "SMARTCOMM_AUTH_SCHEME";
pub const TIMEOUT_MS: &str = "SMARTCOMM_TIMEOUT_MS";
pub const MAX_ATTEMPTS: &str = "SMARTCOMM_MAX_ATTEMPTS";

fn problem(variable: &str, message: impl Into<String>) -> Problem {
    Problem {
        index: None,
        field: variable.into(),
        message: message.into(),
    }
}

/// Reads a config through `get` (the environment); every problem names its variable. Empty
/// values count as unset.
pub fn config_from(get: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<Problem>> {
    let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
    let mut problems = Vec::new();
    let customer_id = get(CUSTOMER_ID).unwrap_or_else(|| {
        problems.push(problem(CUSTOMER_ID, "is required"));
        String::new()
    });
    let auth = match (get(TOKEN), get(USERNAME), get(PASSWORD)) {
        (Some(token), _, _) => Auth::Token(token),
        (None, Some(username), Some(password)) => Auth::Credentials { username, password },
        (None, None, _) => {
            problems.push(problem(
                USERNAME,
                format!("is required (with {PASSWORD}), or set {TOKEN}"),
            ));
            Auth::Token(String::new())
        }
        (None, Some(_), None) => {
            problems.push(problem(PASSWORD, format!("is required with {USERNAME}")));
            Auth::Token(String::new())
        }
    };
    let mut config = Config::new(customer_id, auth);
    for (variable, slot) in [
        (API_URL, &mut config.api_url),
        (AUTH_URL, &mut config.auth_url),
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
    match get(AUTH_SCHEME).as_deref() {
        None | Some("bearer") => {}
        Some("bare") => config.auth_scheme = AuthScheme::Bare,
        Some(other) => problems.push(problem(
            AUTH_SCHEME,
            format!("{other:?} is not bearer or bare"),
        )),
    }
    let number = |variable: &str, problems: &mut Vec<Problem>| -> Option<u32> {
        let value = get(variable)?;
        match value.trim().parse::<u32>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                problems.push(problem(
                    variable,
                    format!("{value:?} is not a whole number above 0"),
                ));
                None
            }
        }
    };
    config.timeout_ms = number(TIMEOUT_MS, &mut problems);
    if let Some(attempts) = number(MAX_ATTEMPTS, &mut problems) {
        config.retry.max_attempts = attempts;
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

/// The variables that carry `config`: what a host sets for the step functions.
pub fn variables_for(config: &Config) -> Vec<(String, String)> {
    let mut vars = vec![(CUSTOMER_ID, config.customer_id.clone())];
    match &config.auth {
        Auth::Credentials { username, password } => {
            vars.push((USERNAME, username.clone()));
            vars.push((PASSWORD, password.clone()));
        }
        Auth::Token(token) => vars.push((TOKEN, token.clone())),
    }
    if let Some(url) = &config.api_url {
        vars.push((API_URL, url.clone()));
    }
    if let Some(url) = &config.auth_url {
        vars.push((AUTH_URL, url.clone()));
    }
    if config.auth_scheme == AuthScheme::Bare {
        vars.push((AUTH_SCHEME, "bare".into()));
    }
    if let Some(ms) = config.timeout_ms {
        vars.push((TIMEOUT_MS, ms.to_string()));
    }
    vars.push((MAX_ATTEMPTS, config.retry.max_attempts.to_string()));
    vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Config, Vec<Problem>> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        config_from(|name| map.get(name).cloned())
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
            ])),
            [API_URL, AUTH_SCHEME, TIMEOUT_MS, MAX_ATTEMPTS]
        );
    }

    #[test]
    fn a_config_survives_the_round_trip_through_variables() {
        let mut config = Config::new(
            "c",
            Auth::Credentials {
                username: "u".into(),
                password: "p".into(),
            },
        );
        config.api_url = Some("http://127.0.0.1:1".into());
        config.auth_scheme = AuthScheme::Bare;
        config.timeout_ms = Some(1500);
        config.retry.max_attempts = 5;
        let vars = variables_for(&config);
        assert!(vars.iter().all(|(k, _)| k.starts_with("SMARTCOMM_")));
        let back = config_from(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap();
        assert_eq!(back, config);
    }
}
