//! Between the API's JSON (the `smartcomm::model` types, as files and output use it) and the
//! WIT types the component takes and returns.

use crate::{CallError, StepCallError, client, entra, steps, types};
use serde_json::{Value, json};
use smartcomm::model;

smartcomm::model_conversions!(types: types, client: client);
smartcomm::entra_conversions!(types: types, entra: entra);

fn tries(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

/// One line (or a few) saying what went wrong.
pub fn describe_error(e: &types::Error) -> String {
    use types::Error as E;
    match e {
        E::InvalidInput(problems) => {
            let list: Vec<String> = problems
                .iter()
                .map(|p| match p.index {
                    Some(i) => format!("item {i}: {}: {}", p.field, p.message),
                    None => format!("{}: {}", p.field, p.message),
                })
                .collect();
            format!("invalid input, nothing was sent:\n  {}", list.join("\n  "))
        }
        E::Unauthorized(m) => format!("unauthorized: {m}"),
        E::NotFound(m) => format!("not found: {m}"),
        E::Rejected(r) => {
            let mut text = format!("rejected by the API ({}): {}", r.status, r.message);
            for m in &r.messages {
                text.push_str(&format!("; {m}"));
            }
            for item in &r.items {
                text.push_str(&format!(
                    "; item {}: {}",
                    item.index,
                    item.messages.join(", ")
                ));
            }
            text
        }
        E::RateLimited(r) => {
            let wait = r
                .retry_after
                .map(|s| format!(": retry after {s} s"))
                .unwrap_or_default();
            format!("rate limited{wait}{}", tries(r.attempts))
        }
        E::ServerError(s) => format!(
            "server error ({}): {}{}",
            s.status,
            s.message,
            tries(s.attempts)
        ),
        E::Timeout(f) => format!("timed out: {}{}", f.message, tries(f.attempts)),
        E::Transport(f) => format!("transport error: {}{}", f.message, tries(f.attempts)),
        E::UnexpectedResponse(u) => format!(
            "unexpected response: status {}, content type {}, body {:?}",
            u.status,
            u.content_type.as_deref().unwrap_or("(none)"),
            u.body_excerpt
        ),
    }
}

/// A step error in the terms of `error` where it has one.
pub fn step_error_as_error(e: &steps::StepError) -> Option<types::Error> {
    use steps::StepError as S;
    use types::Error as E;
    Some(match e.clone() {
        S::PermanentBadSetting(p) | S::PermanentInvalidInput(p) => E::InvalidInput(p),
        S::PermanentUnauthorized(m) => E::Unauthorized(m),
        S::PermanentNotFound(m) => E::NotFound(m),
        S::PermanentRejected(r) => E::Rejected(r),
        S::RateLimited(r) => E::RateLimited(r),
        S::ServerError(s) => E::ServerError(s),
        S::Timeout(f) => E::Timeout(f),
        S::Transport(f) => E::Transport(f),
        S::UnexpectedResponse(u) => E::UnexpectedResponse(u),
        S::Incomplete(_)
        | S::IncompleteUpdates(_)
        | S::IncompleteSync(_)
        | S::ExecutionFailed
        | S::PermanentTooManyRemovals(_)
        | S::PermanentStalePlan(_) => return None,
    })
}

/// One line (or a few) saying what went wrong in a step.
pub fn describe_step_error(e: &steps::StepError) -> String {
    use steps::StepError as S;
    if let Some(error) = step_error_as_error(e) {
        return describe_error(&error);
    }
    match e {
        S::PermanentTooManyRemovals(cap) => format!(
            "refused: the plan would remove {} of the {} agents in scope, more than the {} allowed (--max-removals)",
            cap.removals, cap.in_scope, cap.max_removals
        ),
        S::PermanentStalePlan(agents) => {
            let list: Vec<String> = agents
                .iter()
                .map(|a| format!("{}: {}", a.user_object_id, a.reason))
                .collect();
            format!(
                "refused, nothing was sent: {} agents changed since the plan was made; plan again:\n  {}",
                agents.len(),
                list.join("\n  ")
            )
        }
        S::IncompleteSync(report) => format!(
            "{} changes failed and {} were not attempted; applying the plan again finishes them",
            report.summary.failed, report.summary.not_attempted
        ),
        S::Incomplete(_) | S::IncompleteUpdates(_) => "the batch did not complete".into(),
        _ => "the step failed".into(),
    }
}

/// The JSON of an error, for machine-readable output.
pub fn error_json(e: &types::Error) -> Value {
    use types::Error as E;
    let kind = match e {
        E::InvalidInput(_) => "invalid_input",
        E::Unauthorized(_) => "unauthorized",
        E::NotFound(_) => "not_found",
        E::Rejected(_) => "rejected",
        E::RateLimited(_) => "rate_limited",
        E::ServerError(_) => "server_error",
        E::Timeout(_) => "timeout",
        E::Transport(_) => "transport",
        E::UnexpectedResponse(_) => "unexpected_response",
    };
    let mut value = json!({"error": kind, "message": describe_error(e)});
    match e {
        E::InvalidInput(problems) => {
            value["problems"] = problems
                .iter()
                .map(|p| json!({"index": p.index, "field": p.field, "message": p.message}))
                .collect();
        }
        E::Rejected(r) => {
            value["status"] = json!(r.status);
            value["items"] = r
                .items
                .iter()
                .map(|i| json!({"index": i.index, "errors": i.messages}))
                .collect();
        }
        E::RateLimited(r) => {
            value["retry_after"] = json!(r.retry_after);
            value["attempts"] = json!(r.attempts);
        }
        E::ServerError(s) => {
            value["status"] = json!(s.status);
            value["attempts"] = json!(s.attempts);
        }
        E::Timeout(f) | E::Transport(f) => value["attempts"] = json!(f.attempts),
        E::UnexpectedResponse(u) => value["status"] = json!(u.status),
        _ => {}
    }
    value
}

/// `{"index", "outcome", …}` for one batch item.
pub fn item_outcome_json(index: usize, outcome: &types::ItemOutcome) -> Value {
    use types::ItemOutcome as O;
    match outcome {
        O::Succeeded => json!({"index": index, "outcome": "succeeded"}),
        O::AlreadyDone(found) => json!({"index": index, "outcome": "already_done", "note": found}),
        O::Rejected(errors) => json!({"index": index, "outcome": "rejected", "errors": errors}),
        O::Failed(e) => json!({"index": index, "outcome": "failed", "error": error_json(e)}),
        O::NotAttempted => json!({"index": index, "outcome": "not_attempted"}),
    }
}

pub fn update_outcome_json(index: usize, outcome: &types::UpdateOutcome) -> Value {
    use types::UpdateOutcome as O;
    match outcome {
        O::Updated(agent) => json!({
            "index": index,
            "outcome": "succeeded",
            "agent": agent.clone().map(model::Agent::from),
        }),
        O::Rejected(errors) => json!({"index": index, "outcome": "rejected", "errors": errors}),
        O::Failed(e) => json!({"index": index, "outcome": "failed", "error": error_json(e)}),
        O::NotAttempted => json!({"index": index, "outcome": "not_attempted"}),
    }
}

/// A step's answer in a session's terms, for callers that handle both alike (the CLI): an
/// `incomplete` batch becomes its outcomes, every other step error its `error` case.
pub trait StepAnswer: Sized {
    fn from_incomplete(e: steps::StepError) -> Result<Self, steps::StepError> {
        Err(e)
    }
}

impl StepAnswer for Vec<types::ItemOutcome> {
    fn from_incomplete(e: steps::StepError) -> Result<Self, steps::StepError> {
        match e {
            steps::StepError::Incomplete(outcomes) => Ok(outcomes),
            other => Err(other),
        }
    }
}

impl StepAnswer for Vec<types::UpdateOutcome> {
    fn from_incomplete(e: steps::StepError) -> Result<Self, steps::StepError> {
        match e {
            steps::StepError::IncompleteUpdates(outcomes) => Ok(outcomes),
            other => Err(other),
        }
    }
}

impl StepAnswer for types::ApplyReport {
    fn from_incomplete(e: steps::StepError) -> Result<Self, steps::StepError> {
        match e {
            steps::StepError::IncompleteSync(report) => Ok(report),
            other => Err(other),
        }
    }
}

impl StepAnswer for types::SyncPlan {}
impl StepAnswer for types::Agent {}
impl StepAnswer for Vec<types::Agent> {}
impl StepAnswer for Vec<types::NumberInfo> {}
impl StepAnswer for String {}
impl StepAnswer for entra::GroupRoster {}

/// An operation's error, as code that runs sessions and steps alike (the CLI) handles it.
pub trait OperationError: Sized {
    /// The answer in a session's terms: a step's `incomplete` batch becomes its outcomes,
    /// every other step error its `error` case.
    fn settle<T: StepAnswer>(result: Result<T, Self>) -> Result<T, CallError>;
}

impl OperationError for CallError {
    fn settle<T: StepAnswer>(result: Result<T, Self>) -> Result<T, CallError> {
        result
    }
}

impl OperationError for StepCallError {
    fn settle<T: StepAnswer>(result: Result<T, Self>) -> Result<T, CallError> {
        let error = match result {
            Ok(value) => return Ok(value),
            Err(StepCallError::Host(e)) => return Err(CallError::Host(e)),
            Err(StepCallError::Step(e)) => e,
        };
        let error = match T::from_incomplete(error) {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        Err(match step_error_as_error(&error) {
            Some(e) => CallError::Api(e),
            None => CallError::Step(error),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::client::ClientConfig;
    use smartcomm::config::{Auth, AuthScheme, Config, RetryPolicy};

    /// Every field set to a value other than its default.
    fn config_with_every_field_set(auth: Auth) -> Config {
        Config {
            api_url: Some("http://127.0.0.1:1".into()),
            auth_url: Some("http://127.0.0.1:2/rest/v1/authenticate".into()),
            customer_id: "c".into(),
            auth,
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
            call_deadline: Some(77),
            // The `client` resource reads no Graph group: its record has no Graph settings.
            graph: Default::default(),
        }
    }

    #[test]
    fn a_config_survives_the_wit_record_and_the_environment_with_every_field_set() {
        for auth in [
            Auth::Credentials {
                username: "u".into(),
                password: "p".into(),
            },
            Auth::Token("t".into()),
        ] {
            let config = config_with_every_field_set(auth);
            let through_wit = Config::from(ClientConfig::from(config.clone()));
            assert_eq!(through_wit, config);
            let vars = through_wit.to_env();
            let through_env = Config::from_env(|name| {
                vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            })
            .unwrap();
            assert_eq!(through_env, config);
        }
    }
}
