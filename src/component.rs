//! The WIT exports: converts between the generated types and the model, and calls the client.
//!
//! Two worlds: `smartcomm` (the default `component` feature) exports the `client` resource's
//! interfaces and the resource-free `steps`, `sync` and `entra`; `smartcomm-engine` (the
//! `engine` feature, which wins when both are on) exports only the resource-free ones, which
//! is all a workflow engine can call.

// `ws::StepError` is large since `sync.plan`'s refusal at the removal cap carries the refused
// plan, for a person to read and apply. It is the rare path, and the generated type cannot be
// boxed.
#![allow(clippy::result_large_err)]

use crate::batch::Outcome;
use crate::client::Client;
use crate::config::Config;
use crate::converge::Note;
use crate::error::ApiError;
use crate::http::WasiHttp;
use crate::sync::{ApplyReport, SyncError};
use wstd::runtime::block_on;

#[cfg(not(feature = "engine"))]
wit_bindgen::generate!({
    path: "wit",
    world: "smartcomm",
});

#[cfg(feature = "engine")]
wit_bindgen::generate!({
    path: "wit",
    world: "smartcomm-engine",
});

#[cfg(not(feature = "engine"))]
use exports::intelepeer::smartcommunicator::{
    agents as wa, client as wc, inboxes as wi, numbers as wn,
};
use exports::intelepeer::smartcommunicator::{
    entra as we, steps as ws, sync as wsync, types as wt,
};

struct Component;

export!(Component);

#[cfg(not(feature = "engine"))]
pub struct ClientResource(Client<WasiHttp>);

#[cfg(not(feature = "engine"))]
impl wc::Guest for Component {
    type Client = ClientResource;
}

#[cfg(not(feature = "engine"))]
impl wc::GuestClient for ClientResource {
    fn new(config: wc::ClientConfig) -> Self {
        let config = Config::from(config);
        ClientResource(Client::new(config, WasiHttp::new()))
    }

    fn authenticate(&self) -> Result<wc::TokenInfo, wt::Error> {
        block_on(self.0.authenticate())
            .map(|expires_at| wc::TokenInfo { expires_at })
            .map_err(wt::Error::from)
    }

    fn stats(&self) -> wc::ClientStats {
        let stats = self.0.stats();
        wc::ClientStats {
            requests: stats.requests,
            authentications: stats.authentications,
            throttled: stats.throttled,
            unknown_outcomes: stats.unknown_outcomes,
            peak_in_flight: stats.peak_in_flight as u32,
            limit_path: stats.limit_path.into_iter().map(|l| l as u32).collect(),
        }
    }
}

fn outcomes<T, W>(list: Vec<Outcome<T>>, map: impl Fn(Outcome<T>) -> W) -> Vec<W> {
    list.into_iter().map(map).collect()
}

fn item_outcome(o: Outcome<Note>) -> wt::ItemOutcome {
    match o {
        Outcome::Succeeded(None) => wt::ItemOutcome::Succeeded,
        Outcome::Succeeded(Some(found)) => wt::ItemOutcome::AlreadyDone(found),
        Outcome::Rejected(m) => wt::ItemOutcome::Rejected(m),
        Outcome::Failed(e) => wt::ItemOutcome::Failed(e.into()),
        Outcome::NotAttempted => wt::ItemOutcome::NotAttempted,
    }
}

fn update_outcome(o: Outcome<Option<crate::model::Agent>>) -> wt::UpdateOutcome {
    match o {
        Outcome::Succeeded(agent) => wt::UpdateOutcome::Updated(agent.map(Into::into)),
        Outcome::Rejected(m) => wt::UpdateOutcome::Rejected(m),
        Outcome::Failed(e) => wt::UpdateOutcome::Failed(e.into()),
        Outcome::NotAttempted => wt::UpdateOutcome::NotAttempted,
    }
}

type Api = Client<WasiHttp>;

fn list_of<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(Into::into).collect()
}

/// Runs one step: a client configured from the environment, used once. `finish` sees the
/// result and whether the call's deadline cut it short.
fn step<R>(
    f: impl AsyncFnOnce(&Api) -> Result<R, ApiError>,
    finish: impl FnOnce(R, bool) -> Result<R, ws::StepError>,
) -> Result<R, ws::StepError> {
    let client = step_client()?;
    let result = block_on(f(&client)).map_err(step_error)?;
    finish(result, client.deadline_cut())
}

fn as_is<R>(result: R, _cut: bool) -> Result<R, ws::StepError> {
    Ok(result)
}

#[inline(never)]
fn step_client() -> Result<Api, ws::StepError> {
    Ok(Client::new(config_from_env()?, WasiHttp::new()))
}

fn config_from_env() -> Result<Config, ws::StepError> {
    Config::from_env(|name| std::env::var(name).ok()).map_err(bad_setting)
}

fn bad_setting(problems: Vec<crate::error::Problem>) -> ws::StepError {
    ws::StepError::PermanentBadSetting(problems.into_iter().map(input_problem).collect())
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

/// A batch with an item that a retry could still get done is `incomplete`: one failed for
/// a transient reason, or one the call's deadline kept from being sent.
#[inline(never)]
fn incomplete_if_retryable(
    list: Vec<wt::ItemOutcome>,
    cut: bool,
) -> Result<Vec<wt::ItemOutcome>, ws::StepError> {
    if list.iter().any(|o| match o {
        wt::ItemOutcome::Failed(e) => is_transient(e),
        wt::ItemOutcome::NotAttempted => cut,
        _ => false,
    }) {
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

/// How a step's result is finished: as it is, or by a function of the result and whether
/// the deadline cut the call short.
macro_rules! finish {
    () => {
        as_is
    };
    ($finish:ident) => {
        $finish
    };
}

/// Each operation once, from one list: the function that converts between WIT and model
/// values and calls the client, and both faces of it — the function of its area's interface
/// (on the `client` the caller passes; not in the engine world) and the step of the same name
/// (on a client configured from the environment). The shared function is kept out of line
/// (`inline(never)`) so that the two exports share one copy instead of each inlining its own.
macro_rules! exports {
    ($(
        $area:ident {$(
            $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty $(=> $finish:ident)?
                = |$client:ident| $body:block;
        )*}
    )*) => {
        $($(
            #[inline(never)]
            async fn $name($client: &Api, $($arg: $ty),*) -> Result<$ret, ApiError> $body
        )*)*

        $(#[cfg(not(feature = "engine"))]
        impl $area::Guest for Component {$(
            fn $name(client: wc::ClientBorrow<'_>, $($arg: $ty),*) -> Result<$ret, wt::Error> {
                block_on($name(&client.get::<ClientResource>().0, $($arg),*))
                    .map_err(wt::Error::from)
            }
        )*})*

        impl ws::Guest for Component {$($(
            fn $name($($arg: $ty),*) -> Result<$ret, ws::StepError> {
                step(async |c| $name(c, $($arg),*).await, finish!($($finish)?))
            }
        )*)*}
    };
}

exports! {
    wa {
        onboard_agents(agents: Vec<wt::NewAgent>, options: wt::OnboardOptions) -> Vec<wt::ItemOutcome> => incomplete_if_retryable = |c| {
            c.onboard_agents(&list_of(agents), options.into())
                .await
                .map(|list| outcomes(list, item_outcome))
        };
        get_agent(id: String, key_id: Option<wt::KeyId>, upn: Option<String>) -> wt::Agent = |c| {
            c.get_agent(&id, key_id.map(Into::into), upn.as_deref())
                .await
                .map(Into::into)
        };
        list_agents(filter: wt::AgentFilter) -> Vec<wt::Agent> = |c| {
            c.list_agents(&filter.into()).await.map(list_of)
        };
        update_agent(id: String, key_id: Option<wt::KeyId>, changes: wt::AgentChanges) -> wt::Agent = |c| {
            c.update_agent(&id, key_id.map(Into::into), &changes.into())
                .await
                .map(Into::into)
        };
        update_agents(updates: Vec<wt::AgentUpdate>, options: wt::UpdateOptions) -> Vec<wt::UpdateOutcome> => incomplete_updates_if_retryable = |c| {
            c.update_agents(&list_of(updates), options.continue_on_error)
                .await
                .map(|list| outcomes(list, update_outcome))
        };
        offboard_agent(id: String, key_id: Option<wt::KeyId>, deprovision_supervised_inbox: Option<bool>) -> String = |c| {
            c.offboard_agent(&id, key_id.map(Into::into), deprovision_supervised_inbox)
                .await
        };
        offboard_agents(selectors: Vec<wt::AgentSelector>, options: wt::OffboardOptions) -> Vec<wt::ItemOutcome> => incomplete_if_retryable = |c| {
            c.offboard_agents(&list_of(selectors), options.into())
                .await
                .map(|list| outcomes(list, item_outcome))
        };
    }
    wi {
        create_inboxes(inboxes: Vec<wt::NewInbox>, options: wt::CreateInboxesOptions) -> Vec<wt::ItemOutcome> => incomplete_if_retryable = |c| {
            c.create_inboxes(&list_of(inboxes), options.continue_on_error)
                .await
                .map(|list| outcomes(list, item_outcome))
        };
        assign_inboxes(assignments: Vec<wt::Assignment>) -> Vec<wt::ItemOutcome> => incomplete_if_retryable = |c| {
            c.assign_inboxes(&list_of(assignments))
                .await
                .map(|list| outcomes(list, item_outcome))
        };
    }
    wn {
        list_numbers(status: Option<wt::NumberStatus>, digits: Option<String>) -> Vec<wt::NumberInfo> = |c| {
            c.list_numbers(status.map(Into::into), digits.as_deref())
                .await
                .map(list_of)
        };
    }
}

/// `update-agents` reports transient failures in its own case.
#[inline(never)]
fn incomplete_updates_if_retryable(
    list: Vec<wt::UpdateOutcome>,
    cut: bool,
) -> Result<Vec<wt::UpdateOutcome>, ws::StepError> {
    if list.iter().any(|o| match o {
        wt::UpdateOutcome::Failed(e) => is_transient(e),
        wt::UpdateOutcome::NotAttempted => cut,
        _ => false,
    }) {
        Err(ws::StepError::IncompleteUpdates(list))
    } else {
        Ok(list)
    }
}

impl wsync::Guest for Component {
    fn plan(
        desired: Vec<wt::DesiredAgent>,
        options: wt::PlanOptions,
    ) -> Result<wt::SyncPlan, ws::StepError> {
        let client = step_client()?;
        block_on(client.sync_plan(&list_of(desired), &options.into()))
            .map(Into::into)
            .map_err(sync_error)
    }

    fn apply(
        plan: wt::SyncPlan,
        options: wt::ApplyOptions,
    ) -> Result<wt::ApplyReport, ws::StepError> {
        let client = step_client()?;
        let report =
            block_on(client.sync_apply(&plan.into(), options.into())).map_err(sync_error)?;
        let report = apply_report(report);
        let cut = client.deadline_cut();
        let unfinished = report
            .changes
            .iter()
            .map(|c| &c.outcome)
            .chain(report.assignments.iter().map(|a| &a.outcome))
            .any(|o| match o {
                wt::ItemOutcome::Failed(e) => is_transient(e),
                wt::ItemOutcome::NotAttempted => cut,
                _ => false,
            });
        if unfinished {
            Err(ws::StepError::IncompleteSync(report))
        } else {
            Ok(report)
        }
    }
}

impl we::Guest for Component {
    fn read_group(
        tenant_id: String,
        group_id: String,
        mapping: we::RosterMapping,
        extras: Vec<we::RosterExtra>,
    ) -> Result<we::GroupRoster, ws::StepError> {
        let config = config_from_env()?;
        let graph = config.graph.settings().map_err(bad_setting)?;
        let client = Client::new(config, WasiHttp::new());
        let extras: Vec<crate::entra::Extra> = list_of(extras);
        block_on(client.read_group(&graph, &tenant_id, &group_id, &mapping.into(), &extras))
            .map(Into::into)
            .map_err(step_error)
    }
}

crate::entra_conversions!(types: wt, entra: we);

fn sync_error(e: SyncError) -> ws::StepError {
    match e {
        SyncError::Api(e) => step_error(e),
        SyncError::TooManyRemovals(cap) => {
            ws::StepError::PermanentTooManyRemovals(wt::RemovalCap {
                removals: cap.removals,
                max_removals: cap.max_removals,
                in_scope: cap.in_scope,
                plan: (*cap.plan).into(),
            })
        }
        SyncError::Stale(agents) => ws::StepError::PermanentStalePlan(
            agents
                .into_iter()
                .map(|a| wt::StaleAgent {
                    user_object_id: a.user_object_id,
                    reason: a.reason,
                })
                .collect(),
        ),
    }
}

fn apply_report(report: ApplyReport) -> wt::ApplyReport {
    let mut summary = wt::ApplySummary {
        succeeded: 0,
        already_done: 0,
        rejected: 0,
        failed: 0,
        not_attempted: 0,
    };
    for outcome in report.outcomes() {
        let count = match outcome {
            Outcome::Succeeded(None) => &mut summary.succeeded,
            Outcome::Succeeded(Some(_)) => &mut summary.already_done,
            Outcome::Rejected(_) => &mut summary.rejected,
            Outcome::Failed(_) => &mut summary.failed,
            Outcome::NotAttempted => &mut summary.not_attempted,
        };
        *count += 1;
    }
    wt::ApplyReport {
        changes: report
            .changes
            .into_iter()
            .map(|c| wt::ChangeOutcome {
                action: c.action.into(),
                user_object_id: c.user_object_id,
                outcome: item_outcome(c.outcome),
            })
            .collect(),
        assignments: report
            .assignments
            .into_iter()
            .map(|a| wt::AssignmentOutcome {
                inbox: a.assignment.inbox,
                operation: a.assignment.operation.into(),
                agents: a.assignment.agents,
                outcome: item_outcome(a.outcome),
            })
            .collect(),
        summary,
    }
}

fn input_problem(p: crate::error::Problem) -> wt::InputProblem {
    wt::InputProblem {
        index: p.index.map(|i| i as u32),
        field: p.field,
        message: p.message,
    }
}

crate::type_conversions!(types: wt);
#[cfg(not(feature = "engine"))]
crate::client_conversions!(client: wc);

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
            e @ ApiError::Deadline { attempts, .. } => wt::Error::Timeout(wt::Failure {
                message: e.to_string(),
                attempts,
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
