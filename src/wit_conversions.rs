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

/// Every conversion between the model and a set of WIT bindings, given the modules the
/// bindings generated for the `types`, `agents`, `inboxes` and `numbers` interfaces.
#[macro_export]
macro_rules! model_conversions {
    (types: $t:ident, agents: $a:ident, inboxes: $i:ident, numbers: $n:ident) => {
        $crate::same_enum! {
            $t::Role => $crate::model::Role { Member, Manager, Admin }
            $t::NumberType => $crate::model::NumberType { Supervised, Messaging }
            $t::KeyId => $crate::model::KeyId { UserObjectId, ConsistencyId, Upn, Id }
            $t::IdentifierKind => $crate::model::IdentifierKind { UserObjectId, ConsistencyId, Upn, TenantId, PhoneNumber }
            $t::InboxType => $crate::model::InboxType { Shared, Supervised }
            $t::NumberStatus => $crate::model::NumberStatus { Assigned, Active }
            $t::AssignmentOperation => $crate::model::Operation { Add, Remove }
        }

        $crate::convert_record! {
            $crate::model::Selector => $a::AgentSelector { identifier => identifier: into, values => values: same }
            $crate::model::OffboardItem => $a::AgentSelector { identifier => identifier: into, value => values: same }
            $crate::model::AgentRef => $a::AgentRef { identifier => identifier: into, value => value: same }
            $crate::model::EnabledServices => $a::EnabledServices {
                messages => messages: same,
                supervised_inbox => supervised_inbox: same,
                calls => calls: same,
                shared_inbox => shared_inbox: same,
            }
            $crate::model::PhoneNumber => $a::PhoneNumber { number_type => type_: into, value => value: same }
            $crate::model::NumberProvisioning => $a::NumberProvisioning {
                number_type => type_: into,
                phone_number => phone_number: same,
                supervisors => supervisors: opt,
            }
            $crate::model::NewAgent => $a::NewAgent {
                user_object_id => user_object_id: same,
                tenant_id => tenant_id: same,
                name => name: same,
                upn => upn: same,
                consistency_id => consistency_id: same,
                brand_name => brand_name: same,
                department => department: same,
                region => region: same,
                state => state: same,
                district => district: same,
                store => store: same,
                city => city: same,
                zip_code => zip_code: same,
                roles => roles: opt_vec,
                number_provisioning => number_provisioning: vec,
                enabled_services => enabled_services: opt,
            }
            $crate::model::Supervisor => $a::Supervisor {
                user_object_id => user_object_id: same,
                name => name: same,
                upn => upn: same,
                status => status: same,
            }
            $crate::model::SharedInboxRef => $a::SharedInbox { name => name: same, phone_number => phone_number: same }
            $crate::model::Agent => $a::Agent {
                user_object_id => user_object_id: same,
                tenant_id => tenant_id: same,
                name => name: same,
                upn => upn: same,
                consistency_id => consistency_id: same,
                brand_name => brand_name: same,
                department => department: same,
                region => region: same,
                state => state: same,
                district => district: same,
                store => store: same,
                city => city: same,
                zip_code => zip_code: same,
                phone_number => phone_numbers: vec,
                roles => roles: vec,
                enabled_services => enabled_services: opt,
                supervisors => supervisors: vec,
                shared_inbox => shared_inboxes: vec,
                status => status: same,
                active => active: same,
            }
            $crate::model::RoleChanges => $a::RoleChanges { assign => assign: vec, remove => remove: vec }
            $crate::model::AgentChanges => $a::AgentChanges {
                user_object_id => user_object_id: same,
                tenant_id => tenant_id: same,
                name => name: same,
                upn => upn: same,
                consistency_id => consistency_id: same,
                brand_name => brand_name: same,
                department => department: same,
                region => region: same,
                state => state: same,
                district => district: same,
                store => store: same,
                city => city: same,
                zip_code => zip_code: same,
                roles => roles: opt,
                phone_number => phone_numbers: opt_vec,
                enabled_services => enabled_services: opt,
                active => active: same,
            }
            $crate::model::AgentUpdate => $a::AgentUpdate { target => target: into, updates => updates: into }
            $crate::model::AgentFilter => $a::AgentFilter {
                user_object_id => user_object_id: same,
                tenant_id => tenant_id: same,
                consistency_id => consistency_id: same,
                phone_number => phone_number: same,
                upn => upn: same,
            }
            $crate::model::NewInbox => $i::NewInbox {
                name => name: same,
                inbox_type => type_: into,
                phone_number => phone_number: same,
                owner => owner: opt,
                users => users: into,
            }
            $crate::model::InboxRef => $i::InboxRef {
                inbox_type => type_: into,
                identifier => identifier: into,
                value => value: same,
            }
            $crate::model::Assignment => $i::Assignment {
                inbox => inbox: into,
                agents => agents: into,
                operation => operation: into,
            }
            $crate::model::Assignee => $n::Assignee {
                name => name: same,
                user_object_id => user_object_id: same,
                upn => upn: same,
                consistency_id => consistency_id: same,
            }
            $crate::model::NumberInfo => $n::NumberInfo {
                number => number: same,
                status => status: opt,
                assigned_to => assigned_to: opt,
            }
        }
    };
}
