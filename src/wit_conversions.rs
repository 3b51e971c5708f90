//! Conversions between the model and the Rust types that WIT bindings generate from `wit/`.
//! The component (wit-bindgen) and the host (wasmtime's `bindgen!`) generate the same names
//! from the same WIT, so one macro writes both sides' conversions.

/// Converts one field: `same` as it is, `into` by `Into`, `opt` inside an `Option`, `vec`
/// for each element, `opt_vec` for each element inside an `Option`.
#[doc(hidden)]
#[macro_export]
macro_rules! convert_field {
    (same, $e:expr) => {
        $e
    };
    (into, $e:expr) => {
        $e.into()
    };
    (opt, $e:expr) => {
        $e.map(Into::into)
    };
    (vec, $e:expr) => {
        $e.into_iter().map(Into::into).collect()
    };
    (opt_vec, $e:expr) => {
        $e.map(|v| v.into_iter().map(Into::into).collect())
    };
}

/// `From` both ways between a model record and a WIT record, field by field
/// (`model_field => wit_field: how`).
#[doc(hidden)]
#[macro_export]
macro_rules! convert_record {
    ($($model:ty => $wit:ty { $($mf:ident => $wf:ident : $how:ident),* $(,)? })*) => {$(
        impl From<$wit> for $model {
            fn from(v: $wit) -> Self {
                Self { $($mf: $crate::convert_field!($how, v.$wf)),* }
            }
        }
        impl From<$model> for $wit {
            fn from(v: $model) -> Self {
                Self { $($wf: $crate::convert_field!($how, v.$mf)),* }
            }
        }
    )*};
}

/// `convert_record!` for a record with the profile fields, which the WIT record names alike.
#[doc(hidden)]
#[macro_export]
macro_rules! convert_profiled_record {
    (
        $model:ty => $wit:ty { $($mf:ident => $wf:ident : $how:ident),* $(,)? }
        [$($field:ident)*]
    ) => {
        impl From<$wit> for $model {
            fn from(v: $wit) -> Self {
                Self { $($mf: $crate::convert_field!($how, v.$wf),)* $($field: v.$field,)* }
            }
        }
        impl From<$model> for $wit {
            fn from(v: $model) -> Self {
                Self { $($wf: $crate::convert_field!($how, v.$mf),)* $($field: v.$field,)* }
            }
        }
    };
}

/// Every conversion between the model and a set of WIT bindings, given the modules the
/// bindings generated for the `types` and `client` interfaces.
#[macro_export]
macro_rules! model_conversions {
    (types: $t:ident, client: $c:ident) => {
        $crate::type_conversions!(types: $t);
        $crate::client_conversions!(client: $c);
    };
}

/// The conversions of the `types` interface's records and enums, given the module the
/// bindings generated for it: all a world without the `client` interface needs.
#[macro_export]
macro_rules! type_conversions {
    (types: $t:ident) => {
        $crate::same_enum! {
            $t::Role => $crate::model::Role { Member, Manager, Admin }
            $t::NumberType => $crate::model::NumberType { Supervised, Messaging }
            $t::KeyId => $crate::model::KeyId { UserObjectId, ConsistencyId, Upn, Id }
            $t::IdentifierKind => $crate::model::IdentifierKind { UserObjectId, ConsistencyId, Upn, TenantId, PhoneNumber }
            $t::InboxType => $crate::model::InboxType { Shared, Supervised }
            $t::NumberStatus => $crate::model::NumberStatus { Assigned, Active }
            $t::AssignmentOperation => $crate::model::Operation { Add, Remove }
            $t::AbsentAgents => $crate::sync::AbsentAgents { Deactivate, Offboard }
            $t::ScopeField => $crate::sync::ScopeField { BrandName, Department, Region, State, District, Store, City, ZipCode }
            $t::ChangeAction => $crate::sync::ChangeAction { Onboard, Update, Deactivate, Offboard }
        }

        $crate::convert_record! {
            $crate::model::Selector => $t::AgentSelector { identifier => identifier: into, values => values: same }
            $crate::model::OffboardItem => $t::AgentSelector { identifier => identifier: into, value => values: same }
            $crate::model::AgentRef => $t::AgentRef { identifier => identifier: into, value => value: same }
            $crate::model::EnabledServices => $t::EnabledServices {
                messages => messages: same,
                supervised_inbox => supervised_inbox: same,
                calls => calls: same,
                shared_inbox => shared_inbox: same,
            }
            $crate::model::PhoneNumber => $t::PhoneNumber { number_type => type_: into, value => value: same }
            $crate::model::NumberProvisioning => $t::NumberProvisioning {
                number_type => type_: into,
                phone_number => phone_number: same,
                supervisors => supervisors: opt,
            }
            $crate::model::Supervisor => $t::Supervisor {
                user_object_id => user_object_id: same,
                name => name: same,
                upn => upn: same,
                status => status: same,
            }
            $crate::model::SharedInboxRef => $t::SharedInbox { name => name: same, phone_number => phone_number: same }
            $crate::model::RoleChanges => $t::RoleChanges { assign => assign: vec, remove => remove: vec }
            $crate::model::AgentUpdate => $t::AgentUpdate { target => target: into, updates => updates: into }
            $crate::model::AgentFilter => $t::AgentFilter {
                user_object_id => user_object_id: same,
                tenant_id => tenant_id: same,
                consistency_id => consistency_id: same,
                phone_number => phone_number: same,
                upn => upn: same,
            }
            $crate::model::NewInbox => $t::NewInbox {
                name => name: same,
                inbox_type => type_: into,
                phone_number => phone_number: same,
                owner => owner: opt,
                users => users: into,
            }
            $crate::model::InboxRef => $t::InboxRef {
                inbox_type => type_: into,
                identifier => identifier: into,
                value => value: same,
            }
            $crate::model::Assignment => $t::Assignment {
                inbox => inbox: into,
                agents => agents: into,
                operation => operation: into,
            }
            $crate::model::Assignee => $t::Assignee {
                name => name: same,
                user_object_id => user_object_id: same,
                upn => upn: same,
                consistency_id => consistency_id: same,
            }
            $crate::model::NumberInfo => $t::NumberInfo {
                number => number: same,
                status => status: opt,
                assigned_to => assigned_to: opt,
            }
            $crate::sync::DesiredAgent => $t::DesiredAgent {
                agent => agent: into,
                active => active: same,
                shared_inboxes => shared_inboxes: same,
            }
            $crate::sync::ScopeMatch => $t::ScopeMatch { field => field: into, value => value: same }
            $crate::sync::PlanOptions => $t::PlanOptions {
                absent => absent: opt,
                scope => scope: vec,
                max_removals => max_removals: same,
                protected => protected: same,
            }
            $crate::sync::FieldChange => $t::FieldChange { field => field: same, old => old: same, new => new: same }
            $crate::sync::PlannedChange => $t::PlannedChange {
                action => action: into,
                user_object_id => user_object_id: same,
                tenant_id => tenant_id: same,
                name => name: same,
                onboard => onboard: opt,
                update => update: opt,
                fields => fields: vec,
                observed => observed: same,
            }
            $crate::sync::PlannedAssignment => $t::PlannedAssignment {
                inbox => inbox: same,
                operation => operation: into,
                agents => agents: same,
            }
            $crate::sync::Unconvergeable => $t::Unconvergeable {
                user_object_id => user_object_id: same,
                field => field: same,
                reason => reason: same,
            }
            $crate::sync::PlanSummary => $t::PlanSummary {
                onboard => onboard: same,
                update => update: same,
                deactivate => deactivate: same,
                offboard => offboard: same,
                unchanged => unchanged: same,
                assignments => assignments: same,
                out_of_scope => out_of_scope: same,
                protected => protected: same,
                unconvergeable => unconvergeable: same,
            }
            $crate::sync::Plan => $t::SyncPlan {
                customer_id => customer_id: same,
                tenants => tenants: same,
                options => options: into,
                changes => changes: vec,
                assignments => assignments: vec,
                unconvergeable => unconvergeable: vec,
                kept => kept: same,
                summary => summary: into,
                fingerprint => fingerprint: same,
            }
            $crate::sync::ApplyOptions => $t::ApplyOptions {
                continue_on_error => continue_on_error: same,
                approved_removals => approved_removals: same,
            }
            $crate::model::OnboardOptions => $t::OnboardOptions {
                continue_on_error => continue_on_error: same,
                reassign_inbox => reassign_inbox: same,
            }
            $crate::model::OffboardOptions => $t::OffboardOptions {
                continue_on_error => continue_on_error: same,
                deprovision_supervised_inbox => deprovision_supervised_inbox: same,
            }
        }

        // The agent records, with the profile fields from their one list.
        $crate::profile_fields!($crate::convert_profiled_record,
            $crate::model::NewAgent => $t::NewAgent {
                user_object_id => user_object_id: same,
                tenant_id => tenant_id: same,
                name => name: same,
                roles => roles: opt_vec,
                number_provisioning => number_provisioning: vec,
                enabled_services => enabled_services: opt,
            });
        $crate::profile_fields!($crate::convert_profiled_record,
            $crate::model::Agent => $t::Agent {
                user_object_id => user_object_id: same,
                tenant_id => tenant_id: same,
                name => name: same,
                phone_number => phone_numbers: vec,
                roles => roles: vec,
                enabled_services => enabled_services: opt,
                supervisors => supervisors: vec,
                shared_inbox => shared_inboxes: vec,
                status => status: same,
                active => active: same,
            });
        $crate::profile_fields!($crate::convert_profiled_record,
            $crate::model::AgentChanges => $t::AgentChanges {
                user_object_id => user_object_id: same,
                tenant_id => tenant_id: same,
                name => name: same,
                roles => roles: opt,
                phone_number => phone_numbers: opt_vec,
                enabled_services => enabled_services: opt,
                active => active: same,
            });
    };
}

/// The conversions of the `client` interface's configuration, given the module the bindings
/// generated for it.
#[macro_export]
macro_rules! client_conversions {
    (client: $c:ident) => {
        impl From<$crate::config::Config> for $c::ClientConfig {
            fn from(config: $crate::config::Config) -> Self {
                use $crate::config::{Auth, AuthScheme};
                $c::ClientConfig {
                    api_url: config.api_url,
                    auth_url: config.auth_url,
                    customer_id: config.customer_id,
                    auth: match config.auth {
                        Auth::Credentials { username, password } => {
                            $c::Auth::Credentials($c::Credentials { username, password })
                        }
                        Auth::Token(token) => $c::Auth::Token(token),
                    },
                    auth_scheme: Some(match config.auth_scheme {
                        AuthScheme::Bearer => $c::AuthScheme::Bearer,
                        AuthScheme::Bare => $c::AuthScheme::Bare,
                    }),
                    timeout_ms: config.timeout_ms,
                    retry: Some($c::RetryPolicy {
                        max_attempts: Some(config.retry.max_attempts),
                        base_delay_ms: Some(config.retry.base_delay_ms),
                        max_delay_ms: Some(config.retry.max_delay_ms),
                        budget_ms: Some(config.retry.budget_ms),
                    }),
                    max_response_bytes: config.max_response_bytes,
                    concurrency: config.concurrency,
                    call_deadline: config.call_deadline,
                }
            }
        }

        impl From<$c::ClientConfig> for $crate::config::Config {
            fn from(config: $c::ClientConfig) -> Self {
                use $crate::config::{Auth, AuthScheme, RetryPolicy};
                let defaults = RetryPolicy::default();
                let retry = config.retry.unwrap_or($c::RetryPolicy {
                    max_attempts: None,
                    base_delay_ms: None,
                    max_delay_ms: None,
                    budget_ms: None,
                });
                $crate::config::Config {
                    api_url: config.api_url,
                    auth_url: config.auth_url,
                    customer_id: config.customer_id,
                    auth: match config.auth {
                        $c::Auth::Credentials(c) => Auth::Credentials {
                            username: c.username,
                            password: c.password,
                        },
                        $c::Auth::Token(token) => Auth::Token(token),
                    },
                    auth_scheme: match config.auth_scheme {
                        Some($c::AuthScheme::Bare) => AuthScheme::Bare,
                        Some($c::AuthScheme::Bearer) | None => AuthScheme::Bearer,
                    },
                    timeout_ms: config.timeout_ms,
                    retry: RetryPolicy {
                        max_attempts: retry.max_attempts.unwrap_or(defaults.max_attempts),
                        base_delay_ms: retry.base_delay_ms.unwrap_or(defaults.base_delay_ms),
                        max_delay_ms: retry.max_delay_ms.unwrap_or(defaults.max_delay_ms),
                        budget_ms: retry.budget_ms.unwrap_or(defaults.budget_ms),
                    },
                    max_response_bytes: config.max_response_bytes,
                    concurrency: config.concurrency,
                    call_deadline: config.call_deadline,
                    // The `client` resource reads no Graph group: `entra` takes its settings
                    // from the environment.
                    graph: Default::default(),
                }
            }
        }
    };
}

/// The conversions of the `entra` interface: the roster mapping, the extras and the group's
/// roster, given the modules the bindings generated for `types` and `entra`.
#[macro_export]
macro_rules! entra_conversions {
    (types: $t:ident, entra: $e:ident) => {
        /// The agent fields of the `agent-field` enum, by the names a mapping file uses.
        const AGENT_FIELDS: [($e::AgentField, &str); 12] = [
            ($e::AgentField::UserObjectId, "user_object_id"),
            ($e::AgentField::Upn, "upn"),
            ($e::AgentField::Name, "name"),
            ($e::AgentField::ConsistencyId, "consistency_id"),
            ($e::AgentField::Department, "department"),
            ($e::AgentField::BrandName, "brand_name"),
            ($e::AgentField::State, "state"),
            ($e::AgentField::City, "city"),
            ($e::AgentField::ZipCode, "zip_code"),
            ($e::AgentField::Region, "region"),
            ($e::AgentField::District, "district"),
            ($e::AgentField::Store, "store"),
        ];

        fn agent_field_name(field: $e::AgentField) -> String {
            AGENT_FIELDS
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, name)| name.to_string())
                .expect("every agent-field has a name")
        }

        fn agent_field(name: &str) -> Option<$e::AgentField> {
            AGENT_FIELDS.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
        }

        impl From<$e::RosterMapping> for $crate::entra::Mapping {
            fn from(m: $e::RosterMapping) -> Self {
                $crate::entra::Mapping {
                    fields: m
                        .fields
                        .into_iter()
                        .map(|s| (agent_field_name(s.field), s.property))
                        .collect(),
                    defaults: $crate::entra::Defaults {
                        roles: m.default_roles.map(|r| r.into_iter().map(Into::into).collect()),
                        shared_inboxes: m.default_shared_inboxes,
                        text: m
                            .defaults
                            .into_iter()
                            .map(|d| (agent_field_name(d.field), d.value))
                            .collect(),
                    },
                }
            }
        }

        /// A mapping's fields and defaults that name no agent field are left out: check the
        /// mapping with `Mapping::resolve` first, which names them.
        impl From<$crate::entra::Mapping> for $e::RosterMapping {
            fn from(m: $crate::entra::Mapping) -> Self {
                $e::RosterMapping {
                    fields: m
                        .fields
                        .into_iter()
                        .filter_map(|(name, property)| {
                            agent_field(&name).map(|field| $e::FieldSource { field, property })
                        })
                        .collect(),
                    defaults: m
                        .defaults
                        .text
                        .into_iter()
                        .filter_map(|(name, value)| {
                            agent_field(&name).map(|field| $e::FieldDefault { field, value })
                        })
                        .collect(),
                    default_roles: m
                        .defaults
                        .roles
                        .map(|r| r.into_iter().map(Into::into).collect()),
                    default_shared_inboxes: m.defaults.shared_inboxes,
                }
            }
        }

        $crate::convert_record! {
            $crate::entra::Extra => $e::RosterExtra {
                user_object_id => user_object_id: same,
                roles => roles: opt_vec,
                number_provisioning => number_provisioning: vec,
                enabled_services => enabled_services: opt,
                shared_inboxes => shared_inboxes: same,
            }
        }

        impl From<$crate::graph::GroupRoster> for $e::GroupRoster {
            fn from(r: $crate::graph::GroupRoster) -> Self {
                $e::GroupRoster {
                    agents: r.roster.into_iter().map(Into::into).collect(),
                    skipped: r.skipped as u32,
                    pages: r.pages as u32,
                }
            }
        }

        impl From<$e::GroupRoster> for $crate::graph::GroupRoster {
            fn from(r: $e::GroupRoster) -> Self {
                $crate::graph::GroupRoster {
                    roster: r.agents.into_iter().map(Into::into).collect(),
                    skipped: r.skipped as usize,
                    pages: r.pages as usize,
                }
            }
        }
    };
}
