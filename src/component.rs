//! The WIT exports: converts between the generated types and the model, and calls the client.

use crate::batch::Outcome;
use crate::client::{self, BatchOptions, Client};
use crate::error::ApiError;
use crate::http::WasiHttp;
use std::cell::RefCell;

wit_bindgen::generate!({
    path: "wit",
    world: "smartcomm",
});

use exports::intelepeer::smartcommunicator::{
    agents as wa, inboxes as wi, numbers as wn, steps as ws, types as wt,
};

struct Component;

export!(Component);

pub struct ClientResource(RefCell<Client<WasiHttp>>);

impl ClientResource {
    fn with<R>(
        &self,
        f: impl FnOnce(&mut Client<WasiHttp>) -> Result<R, ApiError>,
    ) -> Result<R, wt::Error> {
        f(&mut self.0.borrow_mut()).map_err(wt::Error::from)
    }
}

impl wt::Guest for Component {
    type Client = ClientResource;
}

impl wt::GuestClient for ClientResource {
    fn new(config: wt::ClientConfig) -> Self {
        let auth = match config.auth {
            wt::Auth::Credentials(c) => client::Auth::Credentials {
                username: c.username,
                password: c.password,
            },
            wt::Auth::Token(t) => client::Auth::Token(t),
        };
        let config = client::Config {
            api_url: config.api_url,
            auth_url: config.auth_url,
            customer_id: config.customer_id,
            auth,
            auth_scheme: match config.auth_scheme {
                Some(wt::AuthScheme::Bare) => client::AuthScheme::Bare,
                _ => client::AuthScheme::Bearer,
            },
            timeout_ms: config.timeout_ms,
            retry: config
                .retry
                .map(|r| {
                    let d = client::RetryPolicy::default();
                    client::RetryPolicy {
                        max_attempts: r.max_attempts.unwrap_or(d.max_attempts),
                        base_delay_ms: r.base_delay_ms.unwrap_or(d.base_delay_ms),
                        max_delay_ms: r.max_delay_ms.unwrap_or(d.max_delay_ms),
                        budget_ms: r.budget_ms.unwrap_or(d.budget_ms),
                    }
                })
                .unwrap_or_default(),
            max_response_bytes: config.max_response_bytes,
        };
        ClientResource(RefCell::new(Client::new(config, WasiHttp::new())))
    }

    fn authenticate(&self) -> Result<wt::TokenInfo, wt::Error> {
        self.with(|c| c.authenticate())
            .map(|expires_at| wt::TokenInfo { expires_at })
    }
}

fn outcomes<T, W>(list: Vec<Outcome<T>>, map: impl Fn(Outcome<T>) -> W) -> Vec<W> {
    list.into_iter().map(map).collect()
}

fn item_outcome(o: Outcome<client::Note>) -> wt::ItemOutcome {
    match o {
        Outcome::Succeeded(note) => wt::ItemOutcome::Succeeded(note),
        Outcome::Rejected(m) => wt::ItemOutcome::Rejected(m),
        Outcome::Failed(e) => wt::ItemOutcome::Failed(e.into()),
        Outcome::NotAttempted => wt::ItemOutcome::NotAttempted,
    }
}

type Api = Client<WasiHttp>;

// Each operation once, from WIT values to WIT values; the `client` resource and the step
// functions both call these. They are kept out of line (`inline(never)`) so that the two
// exports of an operation share one copy instead of each inlining its own: a third of the
// component's code was such duplicates.

fn list_of<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(Into::into).collect()
}

#[inline(never)]
fn onboard(
    c: &mut Api,
    agents: Vec<wa::NewAgent>,
    options: wa::OnboardOptions,
) -> Result<Vec<wt::ItemOutcome>, ApiError> {
    let options = BatchOptions {
        continue_on_error: options.continue_on_error,
        flag: options.reassign_inbox,
    };
    c.onboard(&list_of(agents), options)
        .map(|list| outcomes(list, item_outcome))
}

#[inline(never)]
fn get(
    c: &mut Api,
    id: String,
    key_id: Option<wt::KeyId>,
    upn: Option<String>,
) -> Result<wa::Agent, ApiError> {
    c.get_agent(&id, key_id.map(Into::into), upn.as_deref())
        .map(Into::into)
}

#[inline(never)]
fn list(c: &mut Api, filter: wa::AgentFilter) -> Result<Vec<wa::Agent>, ApiError> {
    c.list_agents(&filter.into()).map(list_of)
}

#[inline(never)]
fn update(
    c: &mut Api,
    id: String,
    key_id: Option<wt::KeyId>,
    changes: wa::AgentChanges,
) -> Result<wa::Agent, ApiError> {
    c.update_agent(&id, key_id.map(Into::into), &changes.into())
        .map(Into::into)
}

#[inline(never)]
fn update_many(
    c: &mut Api,
    updates: Vec<wa::AgentUpdate>,
    continue_on_error: Option<bool>,
) -> Result<Vec<wa::UpdateOutcome>, ApiError> {
    c.update_many(&list_of(updates), continue_on_error)
        .map(|list| {
            outcomes(list, |o| match o {
                Outcome::Succeeded(agent) => wa::UpdateOutcome::Updated(agent.map(Into::into)),
                Outcome::Rejected(m) => wa::UpdateOutcome::Rejected(m),
                Outcome::Failed(e) => wa::UpdateOutcome::Failed(e.into()),
                Outcome::NotAttempted => wa::UpdateOutcome::NotAttempted,
            })
        })
}

#[inline(never)]
fn offboard(
    c: &mut Api,
    id: String,
    key_id: Option<wt::KeyId>,
    deprovision: Option<bool>,
) -> Result<String, ApiError> {
    c.offboard_agent(&id, key_id.map(Into::into), deprovision)
}

#[inline(never)]
fn offboard_many(
    c: &mut Api,
    selectors: Vec<wa::AgentSelector>,
    options: wa::OffboardOptions,
) -> Result<Vec<wt::ItemOutcome>, ApiError> {
    let options = BatchOptions {
        continue_on_error: options.continue_on_error,
        flag: options.deprovision_supervised_inbox,
    };
    c.offboard_many(&list_of(selectors), options)
        .map(|list| outcomes(list, item_outcome))
}

#[inline(never)]
fn create_inboxes(
    c: &mut Api,
    inboxes: Vec<wi::NewInbox>,
    continue_on_error: Option<bool>,
) -> Result<Vec<wt::ItemOutcome>, ApiError> {
    c.create_inboxes(&list_of(inboxes), continue_on_error)
        .map(|list| outcomes(list, item_outcome))
}

#[inline(never)]
fn assign(c: &mut Api, assignments: Vec<wi::Assignment>) -> Result<Vec<wt::ItemOutcome>, ApiError> {
    c.assign(&list_of(assignments))
        .map(|list| outcomes(list, item_outcome))
}

#[inline(never)]
fn list_numbers(
    c: &mut Api,
    status: Option<wt::NumberStatus>,
    digits: Option<String>,
) -> Result<Vec<wn::NumberInfo>, ApiError> {
    c.list_numbers(status.map(Into::into), digits.as_deref())
        .map(list_of)
}

impl wa::Guest for Component {
    fn onboard(
        client: wt::ClientBorrow<'_>,
        agents: Vec<wa::NewAgent>,
        options: wa::OnboardOptions,
    ) -> Result<Vec<wt::ItemOutcome>, wt::Error> {
        client
            .get::<ClientResource>()
            .with(|c| onboard(c, agents, options))
    }

    fn get(
        client: wt::ClientBorrow<'_>,
        id: String,
        key_id: Option<wt::KeyId>,
        upn: Option<String>,
    ) -> Result<wa::Agent, wt::Error> {
        client
            .get::<ClientResource>()
            .with(|c| get(c, id, key_id, upn))
    }

    fn list(
        client: wt::ClientBorrow<'_>,
        filter: wa::AgentFilter,
    ) -> Result<Vec<wa::Agent>, wt::Error> {
        client.get::<ClientResource>().with(|c| list(c, filter))
    }

    fn update(
        client: wt::ClientBorrow<'_>,
        id: String,
        key_id: Option<wt::KeyId>,
        changes: wa::AgentChanges,
    ) -> Result<wa::Agent, wt::Error> {
        client
            .get::<ClientResource>()
            .with(|c| update(c, id, key_id, changes))
    }

    fn update_many(
        client: wt::ClientBorrow<'_>,
        updates: Vec<wa::AgentUpdate>,
        continue_on_error: Option<bool>,
    ) -> Result<Vec<wa::UpdateOutcome>, wt::Error> {
        client
            .get::<ClientResource>()
            .with(|c| update_many(c, updates, continue_on_error))
    }

    fn offboard(
        client: wt::ClientBorrow<'_>,
        id: String,
        key_id: Option<wt::KeyId>,
        deprovision_supervised_inbox: Option<bool>,
    ) -> Result<String, wt::Error> {
        client
            .get::<ClientResource>()
            .with(|c| offboard(c, id, key_id, deprovision_supervised_inbox))
    }

    fn offboard_many(
        client: wt::ClientBorrow<'_>,
        selectors: Vec<wa::AgentSelector>,
        options: wa::OffboardOptions,
    ) -> Result<Vec<wt::ItemOutcome>, wt::Error> {
        client
            .get::<ClientResource>()
            .with(|c| offboard_many(c, selectors, options))
    }
}

impl wi::Guest for Component {
    fn create(
        client: wt::ClientBorrow<'_>,
        inboxes: Vec<wi::NewInbox>,
        continue_on_error: Option<bool>,
    ) -> Result<Vec<wt::ItemOutcome>, wt::Error> {
        client
            .get::<ClientResource>()
            .with(|c| create_inboxes(c, inboxes, continue_on_error))
    }

    fn assign(
        client: wt::ClientBorrow<'_>,
        assignments: Vec<wi::Assignment>,
    ) -> Result<Vec<wt::ItemOutcome>, wt::Error> {
        client
            .get::<ClientResource>()
            .with(|c| assign(c, assignments))
    }
}

impl wn::Guest for Component {
    fn list(
        client: wt::ClientBorrow<'_>,
        status: Option<wt::NumberStatus>,
        digits: Option<String>,
    ) -> Result<Vec<wn::NumberInfo>, wt::Error> {
        client
            .get::<ClientResource>()
            .with(|c| list_numbers(c, status, digits))
    }
}

/// Runs one step: a client configured from the environment, used once.
fn step<R>(f: impl FnOnce(&mut Api) -> Result<R, ApiError>) -> Result<R, ws::StepError> {
    let mut client = step_client()?;
    f(&mut client).map_err(step_error)
}

#[inline(never)]
fn step_client() -> Result<Api, ws::StepError> {
    let config = crate::env::config_from(|name| std::env::var(name).ok()).map_err(|problems| {
        ws::StepError::PermanentBadSetting(problems.into_iter().map(input_problem).collect())
    })?;
    Ok(Client::new(config, WasiHttp::new()))
}

#[inline(never)]
fn step_error(e: ApiError) -> ws::StepError {
    wt::Error::from(e).into()
}

fn is_transient(e: &wt::Error) -> bool {
    matches!(
        e,
        wt::Error::RateLimited(_)
            | wt::Error::ServerError(_)
            | wt::Error::Timeout(_)
            | wt::Error::Transport(_)
            | wt::Error::UnexpectedResponse(_)
    )
}

/// A batch with an item that a retry could still get done is `incomplete`.
#[inline(never)]
fn finished(list: Vec<wt::ItemOutcome>) -> Result<Vec<wt::ItemOutcome>, ws::StepError> {
    if list
        .iter()
        .any(|o| matches!(o, wt::ItemOutcome::Failed(e) if is_transient(e)))
    {
        Err(ws::StepError::Incomplete(list))
    } else {
        Ok(list)
    }
}

impl From<wt::Error> for ws::StepError {
    fn from(e: wt::Error) -> Self {
        use ws::StepError as S;
        match e {
            wt::Error::InvalidInput(p) => S::PermanentInvalidInput(p),
            wt::Error::Unauthorized(m) => S::PermanentUnauthorized(m),
            wt::Error::NotFound(m) => S::PermanentNotFound(m),
            wt::Error::Rejected(r) => S::PermanentRejected(r),
            wt::Error::RateLimited(r) => S::RateLimited(r),
            wt::Error::ServerError(s) => S::ServerError(s),
            wt::Error::Timeout(f) => S::Timeout(f),
            wt::Error::Transport(f) => S::Transport(f),
            wt::Error::UnexpectedResponse(u) => S::UnexpectedResponse(u),
        }
    }
}

impl ws::Guest for Component {
    fn onboard_agents(
        agents: Vec<wa::NewAgent>,
        options: wa::OnboardOptions,
    ) -> Result<Vec<wt::ItemOutcome>, ws::StepError> {
        step(|c| onboard(c, agents, options)).and_then(finished)
    }

    fn get_agent(
        id: String,
        key_id: Option<wt::KeyId>,
        upn: Option<String>,
    ) -> Result<wa::Agent, ws::StepError> {
        step(|c| get(c, id, key_id, upn))
    }

    fn list_agents(filter: wa::AgentFilter) -> Result<Vec<wa::Agent>, ws::StepError> {
        step(|c| list(c, filter))
    }

    fn update_agent(
        id: String,
        key_id: Option<wt::KeyId>,
        changes: wa::AgentChanges,
    ) -> Result<wa::Agent, ws::StepError> {
        step(|c| update(c, id, key_id, changes))
    }

    fn update_agents(
        updates: Vec<wa::AgentUpdate>,
        continue_on_error: Option<bool>,
    ) -> Result<Vec<wa::UpdateOutcome>, ws::StepError> {
        let list = step(|c| update_many(c, updates, continue_on_error))?;
        if list
            .iter()
            .any(|o| matches!(o, wa::UpdateOutcome::Failed(e) if is_transient(e)))
        {
            Err(ws::StepError::IncompleteUpdates(list))
        } else {
            Ok(list)
        }
    }

    fn offboard_agent(
        id: String,
        key_id: Option<wt::KeyId>,
        deprovision_supervised_inbox: Option<bool>,
    ) -> Result<String, ws::StepError> {
        step(|c| offboard(c, id, key_id, deprovision_supervised_inbox))
    }

    fn offboard_agents(
        selectors: Vec<wa::AgentSelector>,
        options: wa::OffboardOptions,
    ) -> Result<Vec<wt::ItemOutcome>, ws::StepError> {
        step(|c| offboard_many(c, selectors, options)).and_then(finished)
    }

    fn create_inboxes(
        inboxes: Vec<wi::NewInbox>,
        continue_on_error: Option<bool>,
    ) -> Result<Vec<wt::ItemOutcome>, ws::StepError> {
        step(|c| create_inboxes(c, inboxes, continue_on_error)).and_then(finished)
    }

    fn assign_inboxes(
        assignments: Vec<wi::Assignment>,
    ) -> Result<Vec<wt::ItemOutcome>, ws::StepError> {
        step(|c| assign(c, assignments)).and_then(finished)
    }

    fn list_numbers(
        status: Option<wt::NumberStatus>,
        digits: Option<String>,
    ) -> Result<Vec<wn::NumberInfo>, ws::StepError> {
        step(|c| list_numbers(c, status, digits))
    }
}

fn input_problem(p: crate::error::Problem) -> wt::InputProblem {
    wt::InputProblem {
        index: p.index.map(|i| i as u32),
        field: p.field,
        message: p.message,
    }
}

crate::model_conversions!(types: wt, agents: wa, inboxes: wi, numbers: wn);

impl From<ApiError> for wt::Error {
    #[inline(never)]
    fn from(e: ApiError) -> Self {
        let index = |i: usize| i as u32;
        match e {
            ApiError::InvalidInput(problems) => {
                wt::Error::InvalidInput(problems.into_iter().map(input_problem).collect())
            }
            ApiError::Unauthorized(m) => wt::Error::Unauthorized(m),
            ApiError::NotFound(m) => wt::Error::NotFound(m),
            ApiError::Rejected {
                status,
                message,
                messages,
                items,
            } => wt::Error::Rejected(wt::Rejection {
                status,
                message,
                messages,
                items: items
                    .into_iter()
                    .map(|i| wt::ItemErrors {
                        index: index(i.item_index),
                        messages: i.errors,
                    })
                    .collect(),
            }),
            ApiError::RateLimited {
                retry_after,
                attempts,
            } => wt::Error::RateLimited(wt::RateLimit {
                retry_after,
                attempts,
            }),
            ApiError::ServerError {
                status,
                message,
                attempts,
            } => wt::Error::ServerError(wt::ServerFailure {
                status,
                message,
                attempts,
            }),
            ApiError::Timeout { message, attempts } => {
                wt::Error::Timeout(wt::Failure { message, attempts })
            }
            ApiError::Transport { message, attempts } => {
                wt::Error::Transport(wt::Failure { message, attempts })
            }
            e @ ApiError::Denied(_) => wt::Error::Transport(wt::Failure {
                message: e.to_string(),
                attempts: 1,
            }),
            ApiError::UnexpectedResponse {
                status,
                content_type,
                body_excerpt,
            } => wt::Error::UnexpectedResponse(wt::UnexpectedResponse {
                status,
                content_type,
                body_excerpt,
            }),
        }
    }
}
