//! The component's operations, one method each, named as their WIT functions are. `Session`
//! (a `client` resource in one instance) and `Steps` (the step functions, a fresh instance
//! per call) both implement it, so code written against it runs either way. One table below
//! says, for each operation, how both faces call its export.

use crate::bindings::Smartcomm;
use crate::sandbox::HostState;
use crate::{entra, steps, types};
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

/// The trait, with one method per operation of `agents`, `inboxes` and `numbers` (and of
/// `steps`, which has the same functions): `name(args) -> result = interface.export`, each
/// argument with how it is passed to the export. The `client` face calls the export of the
/// operation's interface on its resource, the step face the export of the same name in
/// `steps`.
macro_rules! operations {
    (
        resource_free { $($resource_free:tt)* }
        $(
            $(#[doc = $doc:expr])*
            $name:ident($($arg:ident: $ty:ty => $pass:expr),*) -> $ret:ty = $area:ident . $call:ident;
        )*
    ) => {
        /// Every operation of `agents`, `inboxes` and `numbers` (and of `steps`, which has the
        /// same functions), and `sync`'s `plan` and `apply`. Each method's documentation in WIT
        /// says what it sends, returns and what a repeat does.
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

            $(
                $(#[doc = $doc])*
                fn $name(
                    &mut self,
                    $($arg: $ty),*
                ) -> impl Future<Output = Result<$ret, Self::Error>> + Send {
                    self.run(stringify!($name), move |face| {
                        Box::pin(async move {
                            Ok(match face {
                                Face::Client { bindings, store, client } => Answer::Client(
                                    bindings.$area().$call(store, client, $($pass),*).await?,
                                ),
                                Face::Step { bindings, store } => Answer::Step(
                                    bindings
                                        .intelepeer_smartcommunicator_steps()
                                        .$call(store, $($pass),*)
                                        .await?,
                                ),
                            })
                        })
                    })
                }
            )*

            $($resource_free)*
        }
    };
}

operations! {
    resource_free {
        /// `sync.plan`: lists each tenant of the roster once and the numbers once, and returns
        /// the changes that make the live agents equal to `desired`. Sends no write.
        fn sync_plan(
            &mut self,
            desired: Vec<DesiredAgent>,
            options: PlanOptions,
        ) -> impl Future<Output = Result<SyncPlan, Self::Error>> + Send {
            self.run("sync_plan", move |face| {
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

        /// `sync.apply`: re-reads the plan's tenants, refuses a stale plan, and applies the
        /// rest ten items per request, up to the concurrency at once; every change's outcome.
        fn sync_apply(
            &mut self,
            plan: SyncPlan,
            options: ApplyOptions,
        ) -> impl Future<Output = Result<ApplyReport, Self::Error>> + Send {
            self.run("sync_apply", move |face| {
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

        /// `entra.read-group`: a Graph token, then the group's transitive members page by
        /// page; its users as a roster of agents of `tenant_id`. Sends nothing to the API.
        fn read_group(
            &mut self,
            tenant_id: String,
            group_id: String,
            mapping: entra::RosterMapping,
            extras: Vec<entra::RosterExtra>,
        ) -> impl Future<Output = Result<entra::GroupRoster, Self::Error>> + Send {
            self.run("read_group", move |face| {
                let (bindings, store) = face.instance();
                Box::pin(async move {
                    Ok(Answer::Step(
                        bindings
                            .intelepeer_smartcommunicator_entra()
                            .call_read_group(store, &tenant_id, &group_id, &mapping, &extras)
                            .await?,
                    ))
                })
            })
        }
    }

    /// `onboard-agents`: `POST /{customer_id}/agents`, 10 agents per request; one outcome per
    /// agent, at its index.
    onboard_agents(agents: Vec<types::NewAgent> => &agents, options: types::OnboardOptions => options)
        -> Vec<types::ItemOutcome> = intelepeer_smartcommunicator_agents.call_onboard_agents;
    /// `get-agent`: `GET /{customer_id}/agents/{id}`.
    get_agent(id: String => &id, key_id: Option<types::KeyId> => key_id, upn: Option<String> => upn.as_deref())
        -> types::Agent = intelepeer_smartcommunicator_agents.call_get_agent;
    /// `list-agents`: `GET /{customer_id}/agents`, every given filter matching.
    list_agents(filter: types::AgentFilter => &filter)
        -> Vec<types::Agent> = intelepeer_smartcommunicator_agents.call_list_agents;
    /// `update-agent`: `PATCH /{customer_id}/agents/{id}`.
    update_agent(id: String => &id, key_id: Option<types::KeyId> => key_id, changes: types::AgentChanges => &changes)
        -> types::Agent = intelepeer_smartcommunicator_agents.call_update_agent;
    /// `update-agents`: `PATCH /{customer_id}/agents`, 10 updates per request.
    update_agents(updates: Vec<types::AgentUpdate> => &updates, options: types::UpdateOptions => options)
        -> Vec<types::UpdateOutcome> = intelepeer_smartcommunicator_agents.call_update_agents;
    /// `offboard-agent`: `DELETE /{customer_id}/agents/{id}`; the API's message.
    offboard_agent(id: String => &id, key_id: Option<types::KeyId> => key_id, deprovision_supervised_inbox: Option<bool> => deprovision_supervised_inbox)
        -> String = intelepeer_smartcommunicator_agents.call_offboard_agent;
    /// `offboard-agents`: `POST /{customer_id}/agents/offboard`, 10 selectors per request.
    offboard_agents(selectors: Vec<types::AgentSelector> => &selectors, options: types::OffboardOptions => options)
        -> Vec<types::ItemOutcome> = intelepeer_smartcommunicator_agents.call_offboard_agents;
    /// `create-inboxes`: `POST /{customer_id}/inboxes`, 10 inboxes per request.
    create_inboxes(inboxes: Vec<types::NewInbox> => &inboxes, options: types::CreateInboxesOptions => options)
        -> Vec<types::ItemOutcome> = intelepeer_smartcommunicator_inboxes.call_create_inboxes;
    /// `assign-inboxes`: `POST /{customer_id}/inboxes/assignments`, 10 per request.
    assign_inboxes(assignments: Vec<types::Assignment> => &assignments)
        -> Vec<types::ItemOutcome> = intelepeer_smartcommunicator_inboxes.call_assign_inboxes;
    /// `list-numbers`: `GET /{customer_id}/numbers`.
    list_numbers(status: Option<types::NumberStatus> => status, digits: Option<String> => digits.as_deref())
        -> Vec<types::NumberInfo> = intelepeer_smartcommunicator_numbers.call_list_numbers;
}

/// The data of the `sync` interface, which lives in `types`.
pub use crate::types::{ApplyOptions, ApplyReport, DesiredAgent, PlanOptions, SyncPlan};
