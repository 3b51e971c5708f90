//! The resource-free step functions, as a workflow engine calls them.

use crate::bindings::Smartcomm;
use crate::operations::Operations;
use crate::policy::Origin;
use crate::runtime::{HostState, Runtime};
use crate::session::within;
use crate::{steps, types};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use wasmtime::Store;

/// Why a step call did not return the step's own answer.
#[derive(Debug)]
pub enum StepCallError {
    /// The step's error; its case says whether a retry can help.
    Step(steps::StepError),
    /// The host stopped the call (deadline, memory limit, trap) or could not instantiate.
    Host(anyhow::Error),
}

impl fmt::Display for StepCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepCallError::Step(e) => write!(f, "{e:?}"),
            StepCallError::Host(e) => write!(f, "the host stopped the call: {e:#}"),
        }
    }
}

impl std::error::Error for StepCallError {}

/// The step functions: every call on a fresh instance whose environment holds only the
/// `SMARTCOMM_*` settings.
#[derive(Clone)]
pub struct Steps {
    runtime: Runtime,
    env: Vec<(String, String)>,
    allowed: Vec<Origin>,
    timeout_ms: Option<u32>,
}

impl fmt::Debug for Steps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Steps")
            .field("env", &names)
            .field("allowed", &self.allowed)
            .finish()
    }
}

/// One step export's call on a fresh instance, as wasmtime returns it.
type StepCall<'a, T> =
    Pin<Box<dyn Future<Output = wasmtime::Result<Result<T, steps::StepError>>> + Send + 'a>>;

impl Steps {
    pub(crate) fn new(
        runtime: Runtime,
        env: Vec<(String, String)>,
        allowed: Vec<Origin>,
        timeout_ms: Option<u32>,
    ) -> Steps {
        Steps {
            runtime,
            env,
            allowed,
            timeout_ms,
        }
    }

    /// Runs one step export on a fresh instance within the call deadline.
    async fn run<T>(
        &self,
        call: impl for<'a> FnOnce(&'a Smartcomm, &'a mut Store<HostState>) -> StepCall<'a, T>,
    ) -> Result<T, StepCallError> {
        let deadline = self.runtime.call_deadline();
        let (mut store, bindings) = self
            .runtime
            .new_instance(&self.env, self.allowed.clone(), self.timeout_ms)
            .await
            .map_err(StepCallError::Host)?;
        match within(deadline, call(&bindings, &mut store)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(StepCallError::Step(e)),
            Err(trap) => Err(StepCallError::Host(trap.into())),
        }
    }
}

impl Operations for Steps {
    type Error = StepCallError;

    async fn onboard_agents(
        &mut self,
        agents: Vec<types::NewAgent>,
        options: types::OnboardOptions,
    ) -> Result<Vec<types::ItemOutcome>, StepCallError> {
        self.run(move |bindings, store| {
            Box::pin(async move {
                let steps = bindings.intelepeer_smartcommunicator_steps();
                steps.call_onboard_agents(store, &agents, options).await
            })
        })
        .await
    }

    async fn get_agent(
        &mut self,
        id: String,
        key_id: Option<types::KeyId>,
        upn: Option<String>,
    ) -> Result<types::Agent, StepCallError> {
        self.run(move |bindings, store| {
            Box::pin(async move {
                let steps = bindings.intelepeer_smartcommunicator_steps();
                steps
                    .call_get_agent(store, &id, key_id, upn.as_deref())
                    .await
            })
        })
        .await
    }

    async fn list_agents(
        &mut self,
        filter: types::AgentFilter,
    ) -> Result<Vec<types::Agent>, StepCallError> {
        self.run(move |bindings, store| {
            Box::pin(async move {
                let steps = bindings.intelepeer_smartcommunicator_steps();
                steps.call_list_agents(store, &filter).await
            })
        })
        .await
    }

    async fn update_agent(
        &mut self,
        id: String,
        key_id: Option<types::KeyId>,
        changes: types::AgentChanges,
    ) -> Result<types::Agent, StepCallError> {
        self.run(move |bindings, store| {
            Box::pin(async move {
                let steps = bindings.intelepeer_smartcommunicator_steps();
                steps.call_update_agent(store, &id, key_id, &changes).await
            })
        })
        .await
    }

    async fn update_agents(
        &mut self,
        updates: Vec<types::AgentUpdate>,
        options: types::UpdateOptions,
    ) -> Result<Vec<types::UpdateOutcome>, StepCallError> {
        self.run(move |bindings, store| {
            Box::pin(async move {
                let steps = bindings.intelepeer_smartcommunicator_steps();
                steps.call_update_agents(store, &updates, options).await
            })
        })
        .await
    }

    async fn offboard_agent(
        &mut self,
        id: String,
        key_id: Option<types::KeyId>,
        deprovision_supervised_inbox: Option<bool>,
    ) -> Result<String, StepCallError> {
        self.run(move |bindings, store| {
            Box::pin(async move {
                let steps = bindings.intelepeer_smartcommunicator_steps();
                steps
                    .call_offboard_agent(store, &id, key_id, deprovision_supervised_inbox)
                    .await
            })
        })
        .await
    }

    async fn offboard_agents(
        &mut self,
        selectors: Vec<types::AgentSelector>,
        options: types::OffboardOptions,
    ) -> Result<Vec<types::ItemOutcome>, StepCallError> {
        self.run(move |bindings, store| {
            Box::pin(async move {
                let steps = bindings.intelepeer_smartcommunicator_steps();
                steps.call_offboard_agents(store, &selectors, options).await
            })
        })
        .await
    }

    async fn create_inboxes(
        &mut self,
        inboxes: Vec<types::NewInbox>,
        options: types::CreateInboxesOptions,
    ) -> Result<Vec<types::ItemOutcome>, StepCallError> {
        self.run(move |bindings, store| {
            Box::pin(async move {
                let steps = bindings.intelepeer_smartcommunicator_steps();
                steps.call_create_inboxes(store, &inboxes, options).await
            })
        })
        .await
    }

    async fn assign_inboxes(
        &mut self,
        assignments: Vec<types::Assignment>,
    ) -> Result<Vec<types::ItemOutcome>, StepCallError> {
        self.run(move |bindings, store| {
            Box::pin(async move {
                let steps = bindings.intelepeer_smartcommunicator_steps();
                steps.call_assign_inboxes(store, &assignments).await
            })
        })
        .await
    }

    async fn list_numbers(
        &mut self,
        status: Option<types::NumberStatus>,
        digits: Option<String>,
    ) -> Result<Vec<types::NumberInfo>, StepCallError> {
        self.run(move |bindings, store| {
            Box::pin(async move {
                let steps = bindings.intelepeer_smartcommunicator_steps();
                steps
                    .call_list_numbers(store, status, digits.as_deref())
                    .await
            })
        })
        .await
    }
}
