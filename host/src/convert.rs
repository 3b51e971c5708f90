//! Between the API's JSON (the `smartcomm::model` types, as files and output use it) and the
//! WIT types the component takes and returns.

use crate::{agents, inboxes, numbers, steps, types};
use serde_json::{Value, json};
use smartcomm::model;

smartcomm::same_enum! {
    types::Role => model::Role { Member, Manager, Admin }
    types::NumberType => model::NumberType { Supervised, Messaging }
    types::KeyId => model::KeyId { UserObjectId, ConsistencyId, Upn, Id }
    types::IdentifierKind => model::IdentifierKind { UserObjectId, ConsistencyId, Upn, TenantId, PhoneNumber }
    types::InboxType => model::InboxType { Shared, Supervised }
    types::NumberStatus => model::NumberStatus { Assigned, Active }
    types::AssignmentOperation => model::Operation { Add, Remove }
}

fn list<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(Into::into).collect()
}

impl From<model::Selector> for agents::AgentSelector {
    fn from(s: model::Selector) -> Self {
        agents::AgentSelector {
            identifier: s.identifier.into(),
            values: s.values,
        }
    }
}

impl From<model::OffboardItem> for agents::AgentSelector {
    fn from(s: model::OffboardItem) -> Self {
        agents::AgentSelector {
            identifier: s.identifier.into(),
            values: s.value,
        }
    }
}

impl From<model::AgentRef> for agents::AgentRef {
    fn from(r: model::AgentRef) -> Self {
        agents::AgentRef {
            identifier: r.identifier.into(),
            value: r.value,
        }
    }
}

impl From<model::EnabledServices> for agents::EnabledServices {
    fn from(s: model::EnabledServices) -> Self {
        agents::EnabledServices {
            messages: s.messages,
            supervised_inbox: s.supervised_inbox,
            calls: s.calls,
            shared_inbox: s.shared_inbox,
        }
    }
}

impl From<agents::EnabledServices> for model::EnabledServices {
    fn from(s: agents::EnabledServices) -> Self {
        model::EnabledServices {
            messages: s.messages,
            supervised_inbox: s.supervised_inbox,
            calls: s.calls,
            shared_inbox: s.shared_inbox,
        }
    }
}

impl From<model::PhoneNumber> for agents::PhoneNumber {
    fn from(p: model::PhoneNumber) -> Self {
        agents::PhoneNumber {
            type_: p.number_type.into(),
            value: p.value,
        }
    }
}

impl From<agents::PhoneNumber> for model::PhoneNumber {
    fn from(p: agents::PhoneNumber) -> Self {
        model::PhoneNumber {
            number_type: p.type_.into(),
            value: p.value,
        }
    }
}

impl From<model::NewAgent> for agents::NewAgent {
    fn from(a: model::NewAgent) -> Self {
        agents::NewAgent {
            user_object_id: a.user_object_id,
            tenant_id: a.tenant_id,
            name: a.name,
            upn: a.upn,
            consistency_id: a.consistency_id,
            brand_name: a.brand_name,
            department: a.department,
            region: a.region,
            state: a.state,
            district: a.district,
            store: a.store,
            city: a.city,
            zip_code: a.zip_code,
            roles: a.roles.map(list),
            number_provisioning: a
                .number_provisioning
                .into_iter()
                .map(|p| agents::NumberProvisioning {
                    type_: p.number_type.into(),
                    phone_number: p.phone_number,
                    supervisors: p.supervisors.map(Into::into),
                })
                .collect(),
            enabled_services: a.enabled_services.map(Into::into),
        }
    }
}

impl From<model::AgentChanges> for agents::AgentChanges {
    fn from(c: model::AgentChanges) -> Self {
        agents::AgentChanges {
            user_object_id: c.user_object_id,
            tenant_id: c.tenant_id,
            name: c.name,
            upn: c.upn,
            consistency_id: c.consistency_id,
            brand_name: c.brand_name,
            department: c.department,
            region: c.region,
            state: c.state,
            district: c.district,
            store: c.store,
            city: c.city,
            zip_code: c.zip_code,
            roles: c.roles.map(|r| agents::RoleChanges {
                assign: list(r.assign),
                remove: list(r.remove),
            }),
            phone_numbers: c.phone_number.map(list),
            enabled_services: c.enabled_services.map(Into::into),
            active: c.active,
        }
    }
}

impl From<model::AgentUpdate> for agents::AgentUpdate {
    fn from(u: model::AgentUpdate) -> Self {
        agents::AgentUpdate {
            target: u.target.into(),
            updates: u.updates.into(),
        }
    }
}

impl From<model::AgentFilter> for agents::AgentFilter {
    fn from(f: model::AgentFilter) -> Self {
        agents::AgentFilter {
            user_object_id: f.user_object_id,
            tenant_id: f.tenant_id,
            consistency_id: f.consistency_id,
            phone_number: f.phone_number,
            upn: f.upn,
        }
    }
}

impl From<model::NewInbox> for inboxes::NewInbox {
    fn from(i: model::NewInbox) -> Self {
        inboxes::NewInbox {
            name: i.name,
            type_: i.inbox_type.into(),
            phone_number: i.phone_number,
            owner: i.owner.map(Into::into),
            users: i.users.into(),
        }
    }
}

impl From<model::Assignment> for inboxes::Assignment {
    fn from(a: model::Assignment) -> Self {
        inboxes::Assignment {
            inbox: inboxes::InboxRef {
                type_: a.inbox.inbox_type.into(),
                identifier: a.inbox.identifier.into(),
                value: a.inbox.value,
            },
            agents: a.agents.into(),
            operation: a.operation.into(),
        }
    }
}

impl From<agents::Agent> for model::Agent {
    fn from(a: agents::Agent) -> Self {
        model::Agent {
            user_object_id: a.user_object_id,
            tenant_id: a.tenant_id,
            name: a.name,
            upn: a.upn,
            consistency_id: a.consistency_id,
            brand_name: a.brand_name,
            department: a.department,
            region: a.region,
            state: a.state,
            district: a.district,
            store: a.store,
            city: a.city,
            zip_code: a.zip_code,
            phone_number: list(a.phone_numbers),
            roles: list(a.roles),
            enabled_services: a.enabled_services.map(Into::into),
            supervisors: a
                .supervisors
                .into_iter()
                .map(|s| model::Supervisor {
                    user_object_id: s.user_object_id,
                    name: s.name,
                    upn: s.upn,
                    status: s.status,
                })
                .collect(),
            shared_inbox: a
                .shared_inboxes
                .into_iter()
                .map(|s| model::SharedInboxRef {
                    name: s.name,
                    phone_number: s.phone_number,
                })
                .collect(),
            status: a.status,
            active: a.active,
        }
    }
}

impl From<numbers::NumberInfo> for model::NumberInfo {
    fn from(n: numbers::NumberInfo) -> Self {
        model::NumberInfo {
            number: n.number,
            status: n.status.map(Into::into),
            assigned_to: n.assigned_to.map(|a| model::Assignee {
                name: a.name,
                user_object_id: a.user_object_id,
                upn: a.upn,
                consistency_id: a.consistency_id,
            }),
        }
    }
}

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
        O::Succeeded(None) => json!({"index": index, "outcome": "succeeded"}),
        O::Succeeded(Some(note)) => json!({"index": index, "outcome": "succeeded", "note": note}),
        O::Rejected(errors) => json!({"index": index, "outcome": "rejected", "errors": errors}),
        O::Failed(e) => json!({"index": index, "outcome": "failed", "error": error_json(e)}),
        O::NotAttempted => json!({"index": index, "outcome": "not_attempted"}),
    }
}

pub fn update_outcome_json(index: usize, outcome: &agents::UpdateOutcome) -> Value {
    use agents::UpdateOutcome as O;
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

impl StepAnswer for Vec<agents::UpdateOutcome> {
    fn from_incomplete(e: steps::StepError) -> Result<Self, steps::StepError> {
        match e {
            steps::StepError::IncompleteUpdates(outcomes) => Ok(outcomes),
            other => Err(other),
        }
    }
}

impl StepAnswer for agents::Agent {}
impl StepAnswer for Vec<agents::Agent> {}
impl StepAnswer for Vec<numbers::NumberInfo> {}
impl StepAnswer for String {}

pub fn step_as_call<T: StepAnswer>(
    result: Result<T, crate::StepCallError>,
) -> Result<T, crate::CallError> {
    use steps::StepError as S;
    use types::Error as E;
    let error = match result {
        Ok(value) => return Ok(value),
        Err(crate::StepCallError::Host(e)) => return Err(crate::CallError::Host(e)),
        Err(crate::StepCallError::Step(e)) => e,
    };
    let error = match T::from_incomplete(error) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    Err(crate::CallError::Api(match error {
        S::PermanentBadSetting(p) | S::PermanentInvalidInput(p) => E::InvalidInput(p),
        S::PermanentUnauthorized(m) => E::Unauthorized(m),
        S::PermanentNotFound(m) => E::NotFound(m),
        S::PermanentRejected(r) => E::Rejected(r),
        S::RateLimited(r) => E::RateLimited(r),
        S::ServerError(s) => E::ServerError(s),
        S::Timeout(f) => E::Timeout(f),
        S::Transport(f) => E::Transport(f),
        S::UnexpectedResponse(u) => E::UnexpectedResponse(u),
        S::Incomplete(_) | S::IncompleteUpdates(_) => E::Transport(types::Failure {
            message: "the batch did not complete".into(),
            attempts: 1,
        }),
    }))
}
