//! The component's operations, one method each, named as their WIT functions are. `Session`
//! (a `client` resource in one instance) and `Steps` (the step functions, a fresh instance
//! per call) both implement it, so code written against it runs either way.

use crate::types;
use std::future::Future;

/// Every operation of `agents`, `inboxes` and `numbers` (and of `steps`, which has the same
/// functions). Each method's documentation in WIT says what it sends, returns and what a
/// repeat does.
pub trait Operations {
    /// `CallError` for a session, `StepCallError` for steps.
    type Error: std::error::Error + Send + Sync + 'static;

    /// `onboard-agents`: `POST /{customer_id}/agents`, 10 agents per request; one outcome per
    /// agent, at its index.
    fn onboard_agents(
        &mut self,
        agents: Vec<types::NewAgent>,
        options: types::OnboardOptions,
    ) -> impl Future<Output = Result<Vec<types::ItemOutcome>, Self::Error>> + Send;

    /// `get-agent`: `GET /{customer_id}/agents/{id}`.
    fn get_agent(
        &mut self,
        id: String,
        key_id: Option<types::KeyId>,
        upn: Option<String>,
    ) -> impl Future<Output = Result<types::Agent, Self::Error>> + Send;

    /// `list-agents`: `GET /{customer_id}/agents`, every given filter matching.
    fn list_agents(
        &mut self,
        filter: types::AgentFilter,
    ) -> impl Future<Output = Result<Vec<types::Agent>, Self::Error>> + Send;

    /// `update-agent`: `PATCH /{customer_id}/agents/{id}`.
    fn update_agent(
        &mut self,
        id: String,
        key_id: Option<types::KeyId>,
        changes: types::AgentChanges,
    ) -> impl Future<Output = Result<types::Agent, Self::Error>> + Send;

    /// `update-agents`: `PATCH /{customer_id}/agents`, 10 updates per request.
    fn update_agents(
        &mut self,
        updates: Vec<types::AgentUpdate>,
        options: types::UpdateOptions,
    ) -> impl Future<Output = Result<Vec<types::UpdateOutcome>, Self::Error>> + Send;

    /// `offboard-agent`: `DELETE /{customer_id}/agents/{id}`; the API's message.
    fn offboard_agent(
        &mut self,
        id: String,
        key_id: Option<types::KeyId>,
        deprovision_supervised_inbox: Option<bool>,
    ) -> impl Future<Output = Result<String, Self::Error>> + Send;

    /// `offboard-agents`: `POST /{customer_id}/agents/offboard`, 10 selectors per request.
    fn offboard_agents(
        &mut self,
        selectors: Vec<types::AgentSelector>,
        options: types::OffboardOptions,
    ) -> impl Future<Output = Result<Vec<types::ItemOutcome>, Self::Error>> + Send;

    /// `create-inboxes`: `POST /{customer_id}/inboxes`, 10 inboxes per request.
    fn create_inboxes(
        &mut self,
        inboxes: Vec<types::NewInbox>,
        options: types::CreateInboxesOptions,
    ) -> impl Future<Output = Result<Vec<types::ItemOutcome>, Self::Error>> + Send;

    /// `assign-inboxes`: `POST /{customer_id}/inboxes/assignments`, 10 per request.
    fn assign_inboxes(
        &mut self,
        assignments: Vec<types::Assignment>,
    ) -> impl Future<Output = Result<Vec<types::ItemOutcome>, Self::Error>> + Send;

    /// `list-numbers`: `GET /{customer_id}/numbers`.
    fn list_numbers(
        &mut self,
        status: Option<types::NumberStatus>,
        digits: Option<String>,
    ) -> impl Future<Output = Result<Vec<types::NumberInfo>, Self::Error>> + Send;
}
