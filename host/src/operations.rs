//! The component's operations, one method each, named as their WIT functions are. `Session`
//! (a `client` resource in one instance) and `Steps` (the step functions, a fresh instance
//! per call) both implement it, so code written against it runs either way. Each method says
//! once how both faces call its export.

use crate::bindings::Smartcomm;
use crate::fanout::{self, Batch, Outcome};
use crate::runtime::HostState;
use crate::{steps, types};
use smartcomm::{model, validate};
use std::future::Future;
use std::pin::Pin;
use wasmtime::Store;
use wasmtime::component::ResourceAny;

/// The instance an operation runs on: a session's, with its `client`, or a step's.
#[doc(hidden)]
pub enum Face<'a> {
    Client {
        bindings: &'a Smartcomm,
        store: &'a mut Store<HostState>,
        client: ResourceAny,
    },
    Step {
        bindings: &'a Smartcomm,
        store: &'a mut Store<HostState>,
    },
}

impl<'a> Face<'a> {
    /// The instance, for the resource-free functions both faces call alike.
    fn instance(self) -> (&'a Smartcomm, &'a mut Store<HostState>) {
        match self {
            Face::Client {
                bindings, store, ..
            }
            | Face::Step { bindings, store } => (bindings, store),
        }
    }
}

/// What an export returned, in the error type of the face that called it.
#[doc(hidden)]
pub enum Answer<T> {
    Client(Result<T, types::Error>),
    Step(Result<T, steps::StepError>),
}

/// One operation's call on its face, as wasmtime returns it.
#[doc(hidden)]
pub type Call<'a, T> = Pin<Box<dyn Future<Output = wasmtime::Result<Answer<T>>> + Send + 'a>>;

mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for crate::Session {}
impl sealed::Sealed for crate::Steps {}

/// Every operation of `agents`, `inboxes` and `numbers` (and of `steps`, which has the same
/// functions), and `sync`'s `plan` and `apply`. Each method's documentation in WIT says what
/// it sends, returns and what a repeat does.
pub trait Operations: sealed::Sealed + Send {
    /// `CallError` for a session, `StepCallError` for steps.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Runs `call` on this face's instance, within the call deadline.
    #[doc(hidden)]
    fn run<T: Send + 'static>(
        &mut self,
        operation: &'static str,
        call: impl for<'a> FnOnce(Face<'a>) -> Call<'a, T> + Send,
    ) -> impl Future<Output = Result<T, Self::Error>> + Send;

    /// Runs a bulk operation, `call` making one call of the component with some of the
    /// batch's items. By default that is one call with all of them (the component sends them
    /// ten per request, one request after another); a session with a concurrency above 1
    /// runs the requests' chunks on several instances at once.
    #[doc(hidden)]
    fn run_batch<I, O>(
        &mut self,
        operation: &'static str,
        batch: Batch<I>,
        call: impl for<'a> Fn(Face<'a>, Vec<I>) -> Call<'a, Vec<O>> + Send + Sync,
    ) -> impl Future<Output = Result<Vec<O>, Self::Error>> + Send
    where
        I: Clone + Send + Sync + 'static,
        O: Outcome,
    {
        let items = batch.items;
        self.run(operation, move |face| call(face, items))
    }

    /// `onboard-agents`: `POST /{customer_id}/agents`, 10 agents per request; one outcome per
    /// agent, at its index.
    fn onboard_agents(
        &mut self,
        agents: Vec<types::NewAgent>,
        options: types::OnboardOptions,
    ) -> impl Future<Output = Result<Vec<types::ItemOutcome>, Self::Error>> + Send {
        let batch = Batch {
            keep_going: options.continue_on_error == Some(true),
            check: |agents| validate::onboard_agents(&models::<_, model::NewAgent>(agents)),
            waits_for: fanout::supervisors_first,
            items: agents,
        };
        self.run_batch("onboard-agents", batch, move |face, agents| {
            Box::pin(async move {
                Ok(match face {
                    Face::Client {
                        bindings,
                        store,
                        client,
                    } => Answer::Client(
                        bindings
                            .intelepeer_smartcommunicator_agents()
                            .call_onboard_agents(store, client, &agents, options)
                            .await?,
                    ),
                    Face::Step { bindings, store } => Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_steps()
                            .call_onboard_agents(store, &agents, options)
                            .await?,
                    ),
                })
            })
        })
    }

    /// `get-agent`: `GET /{customer_id}/agents/{id}`.
    fn get_agent(
        &mut self,
        id: String,
        key_id: Option<types::KeyId>,
        upn: Option<String>,
    ) -> impl Future<Output = Result<types::Agent, Self::Error>> + Send {
        self.run("get-agent", move |face| {
            Box::pin(async move {
                Ok(match face {
                    Face::Client {
                        bindings,
                        store,
                        client,
                    } => Answer::Client(
                        bindings
                            .intelepeer_smartcommunicator_agents()
                            .call_get_agent(store, client, &id, key_id, upn.as_deref())
                            .await?,
                    ),
                    Face::Step { bindings, store } => Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_steps()
                            .call_get_agent(store, &id, key_id, upn.as_deref())
                            .await?,
                    ),
                })
            })
        })
    }

    /// `list-agents`: `GET /{customer_id}/agents`, every given filter matching.
    fn list_agents(
        &mut self,
        filter: types::AgentFilter,
    ) -> impl Future<Output = Result<Vec<types::Agent>, Self::Error>> + Send {
        self.run("list-agents", move |face| {
            Box::pin(async move {
                Ok(match face {
                    Face::Client {
                        bindings,
                        store,
                        client,
                    } => Answer::Client(
                        bindings
                            .intelepeer_smartcommunicator_agents()
                            .call_list_agents(store, client, &filter)
                            .await?,
                    ),
                    Face::Step { bindings, store } => Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_steps()
                            .call_list_agents(store, &filter)
                            .await?,
                    ),
                })
            })
        })
    }

    /// `update-agent`: `PATCH /{customer_id}/agents/{id}`.
    fn update_agent(
        &mut self,
        id: String,
        key_id: Option<types::KeyId>,
        changes: types::AgentChanges,
    ) -> impl Future<Output = Result<types::Agent, Self::Error>> + Send {
        self.run("update-agent", move |face| {
            Box::pin(async move {
                Ok(match face {
                    Face::Client {
                        bindings,
                        store,
                        client,
                    } => Answer::Client(
                        bindings
                            .intelepeer_smartcommunicator_agents()
                            .call_update_agent(store, client, &id, key_id, &changes)
                            .await?,
                    ),
                    Face::Step { bindings, store } => Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_steps()
                            .call_update_agent(store, &id, key_id, &changes)
                            .await?,
                    ),
                })
            })
        })
    }

    /// `update-agents`: `PATCH /{customer_id}/agents`, 10 updates per request.
    fn update_agents(
        &mut self,
        updates: Vec<types::AgentUpdate>,
        options: types::UpdateOptions,
    ) -> impl Future<Output = Result<Vec<types::UpdateOutcome>, Self::Error>> + Send {
        let batch = Batch::independent(updates, options.continue_on_error == Some(true), |u| {
            validate::update_agents(&models::<_, model::AgentUpdate>(u))
        });
        self.run_batch("update-agents", batch, move |face, updates| {
            Box::pin(async move {
                Ok(match face {
                    Face::Client {
                        bindings,
                        store,
                        client,
                    } => Answer::Client(
                        bindings
                            .intelepeer_smartcommunicator_agents()
                            .call_update_agents(store, client, &updates, options)
                            .await?,
                    ),
                    Face::Step { bindings, store } => Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_steps()
                            .call_update_agents(store, &updates, options)
                            .await?,
                    ),
                })
            })
        })
    }

    /// `offboard-agent`: `DELETE /{customer_id}/agents/{id}`; the API's message.
    fn offboard_agent(
        &mut self,
        id: String,
        key_id: Option<types::KeyId>,
        deprovision_supervised_inbox: Option<bool>,
    ) -> impl Future<Output = Result<String, Self::Error>> + Send {
        self.run("offboard-agent", move |face| {
            Box::pin(async move {
                Ok(match face {
                    Face::Client {
                        bindings,
                        store,
                        client,
                    } => Answer::Client(
                        bindings
                            .intelepeer_smartcommunicator_agents()
                            .call_offboard_agent(
                                store,
                                client,
                                &id,
                                key_id,
                                deprovision_supervised_inbox,
                            )
                            .await?,
                    ),
                    Face::Step { bindings, store } => Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_steps()
                            .call_offboard_agent(store, &id, key_id, deprovision_supervised_inbox)
                            .await?,
                    ),
                })
            })
        })
    }

    /// `offboard-agents`: `POST /{customer_id}/agents/offboard`, 10 selectors per request.
    fn offboard_agents(
        &mut self,
        selectors: Vec<types::AgentSelector>,
        options: types::OffboardOptions,
    ) -> impl Future<Output = Result<Vec<types::ItemOutcome>, Self::Error>> + Send {
        let batch = Batch::independent(selectors, options.continue_on_error == Some(true), |s| {
            validate::offboard_agents(&models::<_, model::OffboardItem>(s))
        });
        self.run_batch("offboard-agents", batch, move |face, selectors| {
            Box::pin(async move {
                Ok(match face {
                    Face::Client {
                        bindings,
                        store,
                        client,
                    } => Answer::Client(
                        bindings
                            .intelepeer_smartcommunicator_agents()
                            .call_offboard_agents(store, client, &selectors, options)
                            .await?,
                    ),
                    Face::Step { bindings, store } => Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_steps()
                            .call_offboard_agents(store, &selectors, options)
                            .await?,
                    ),
                })
            })
        })
    }

    /// `create-inboxes`: `POST /{customer_id}/inboxes`, 10 inboxes per request.
    fn create_inboxes(
        &mut self,
        inboxes: Vec<types::NewInbox>,
        options: types::CreateInboxesOptions,
    ) -> impl Future<Output = Result<Vec<types::ItemOutcome>, Self::Error>> + Send {
        let batch = Batch::independent(inboxes, options.continue_on_error == Some(true), |i| {
            validate::create_inboxes(&models::<_, model::NewInbox>(i))
        });
        self.run_batch("create-inboxes", batch, move |face, inboxes| {
            Box::pin(async move {
                Ok(match face {
                    Face::Client {
                        bindings,
                        store,
                        client,
                    } => Answer::Client(
                        bindings
                            .intelepeer_smartcommunicator_inboxes()
                            .call_create_inboxes(store, client, &inboxes, options)
                            .await?,
                    ),
                    Face::Step { bindings, store } => Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_steps()
                            .call_create_inboxes(store, &inboxes, options)
                            .await?,
                    ),
                })
            })
        })
    }

    /// `assign-inboxes`: `POST /{customer_id}/inboxes/assignments`, 10 per request.
    fn assign_inboxes(
        &mut self,
        assignments: Vec<types::Assignment>,
    ) -> impl Future<Output = Result<Vec<types::ItemOutcome>, Self::Error>> + Send {
        // The API has no continueOnError for assignments: the first refused one ends them.
        let batch = Batch::independent(assignments, false, |a| {
            validate::assign_inboxes(&models::<_, model::Assignment>(a))
        });
        self.run_batch("assign-inboxes", batch, move |face, assignments| {
            Box::pin(async move {
                Ok(match face {
                    Face::Client {
                        bindings,
                        store,
                        client,
                    } => Answer::Client(
                        bindings
                            .intelepeer_smartcommunicator_inboxes()
                            .call_assign_inboxes(store, client, &assignments)
                            .await?,
                    ),
                    Face::Step { bindings, store } => Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_steps()
                            .call_assign_inboxes(store, &assignments)
                            .await?,
                    ),
                })
            })
        })
    }

    /// `sync.plan`: lists each tenant of the roster once and the numbers once, and returns
    /// the changes that make the live agents equal to `desired`. Sends no write.
    fn sync_plan(
        &mut self,
        desired: Vec<DesiredAgent>,
        options: PlanOptions,
    ) -> impl Future<Output = Result<SyncPlan, Self::Error>> + Send {
        self.run("sync-plan", move |face| {
            let (bindings, store) = face.instance();
            Box::pin(async move {
                Ok(Answer::Step(
                    bindings
                        .intelepeer_smartcommunicator_sync()
                        .call_plan(store, &desired, &options)
                        .await?,
                ))
            })
        })
    }

    /// `sync.apply`: re-reads the plan's tenants, refuses a stale plan, and applies the rest
    /// ten items per request; every change's outcome.
    fn sync_apply(
        &mut self,
        plan: SyncPlan,
        options: ApplyOptions,
    ) -> impl Future<Output = Result<ApplyReport, Self::Error>> + Send {
        self.run("sync-apply", move |face| {
            let (bindings, store) = face.instance();
            Box::pin(async move {
                Ok(Answer::Step(
                    bindings
                        .intelepeer_smartcommunicator_sync()
                        .call_apply(store, &plan, options)
                        .await?,
                ))
            })
        })
    }

    /// `list-numbers`: `GET /{customer_id}/numbers`.
    fn list_numbers(
        &mut self,
        status: Option<types::NumberStatus>,
        digits: Option<String>,
    ) -> impl Future<Output = Result<Vec<types::NumberInfo>, Self::Error>> + Send {
        self.run("list-numbers", move |face| {
            Box::pin(async move {
                Ok(match face {
                    Face::Client {
                        bindings,
                        store,
                        client,
                    } => Answer::Client(
                        bindings
                            .intelepeer_smartcommunicator_numbers()
                            .call_list_numbers(store, client, status, digits.as_deref())
                            .await?,
                    ),
                    Face::Step { bindings, store } => Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_steps()
                            .call_list_numbers(store, status, digits.as_deref())
                            .await?,
                    ),
                })
            })
        })
    }
}

/// The data of the `sync` interface, which lives in `types`.
pub use crate::types::{ApplyOptions, ApplyReport, DesiredAgent, PlanOptions, SyncPlan};

/// The guest crate's model of WIT values, for its checks run here.
fn models<A: Clone + Into<B>, B>(items: &[A]) -> Vec<B> {
    items.iter().cloned().map(Into::into).collect()
}
