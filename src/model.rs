//! The API's JSON, as the reference shows it. Shared by the component (request bodies and
//! responses), the host's CLI (input files, output) and the emulator.

use serde::{Deserialize, Deserializer, Serialize};

/// The agent's profile: the text fields that an onboard item, a live agent and an update all
/// carry, named as the API names them. The three records below, their WIT conversions,
/// [`ProfileField`], and through it the CSV columns, the sync's diff and scope, convergence
/// checks and the SCIM mapping, are derived from this list. Two tables pair each name with
/// something else and spell it again: the Entra mapping's defaults (a Graph property each,
/// checked against this list by a test) and the WIT `agent-field` enum's names. Calls
/// `$callback!` with `$args` and then the list, `[upn consistency_id …]`.
#[doc(hidden)]
#[macro_export]
macro_rules! profile_fields {
    ($callback:path, $($args:tt)*) => {
        $callback! { $($args)* [upn consistency_id brand_name department region state district store city zip_code] }
    };
}

/// A record of the API's with the profile fields between its own first and last fields, each
/// `Option<String>` and left out of JSON when `None`; and access to them by [`ProfileField`].
/// (A `#[serde(flatten)]` profile would read every agent of a 10,000-agent list through
/// serde's buffered maps; this keeps the records flat.)
#[doc(hidden)]
#[macro_export]
macro_rules! agent_record {
    (
        $(#[$meta:meta])* pub struct $name:ident { $($head:tt)* } { $($tail:tt)* }
        [$($field:ident)*]
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($head)*
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<String>,
            )*
            $($tail)*
        }

        impl $name {
            /// The value of one profile field.
            pub fn profile(&self, field: $crate::model::ProfileField) -> Option<&str> {
                match field.name() {
                    $(stringify!($field) => self.$field.as_deref(),)*
                    _ => None,
                }
            }

            /// One profile field, to set.
            pub fn profile_mut(&mut self, field: $crate::model::ProfileField) -> &mut Option<String> {
                match field.name() {
                    $(stringify!($field) => &mut self.$field,)*
                    other => unreachable!("{other} is not a profile field"),
                }
            }
        }
    };
}
pub use agent_record;

/// One field of the agent's profile, by its API name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileField(&'static str);

macro_rules! every_profile_field {
    ([$($field:ident)*]) => {
        impl ProfileField {
            /// Every profile field, in the API's order.
            pub const ALL: &'static [ProfileField] = &[$(ProfileField(stringify!($field))),*];
        }
    };
}
profile_fields!(every_profile_field,);

impl ProfileField {
    /// The field's name in the API's JSON, the CSV columns and the mapping files.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// The profile field of this name, if it is one.
    pub fn named(name: &str) -> Option<ProfileField> {
        Self::ALL.iter().copied().find(|f| f.0 == name)
    }
}

impl std::fmt::Display for ProfileField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Manager,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberType {
    Supervised,
    Messaging,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyId {
    UserObjectId,
    ConsistencyId,
    Upn,
    Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    UserObjectId,
    ConsistencyId,
    Upn,
    TenantId,
    PhoneNumber,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxType {
    Shared,
    Supervised,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberStatus {
    Assigned,
    Active,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Add,
    Remove,
}

/// Converts between two enums with the same cases, both ways: the WIT bindings' enums and
/// these (in the component and in the host).
#[macro_export]
macro_rules! same_enum {
    ($($a:ty => $b:ty { $($case:ident),+ $(,)? })+) => {$(
        impl From<$a> for $b {
            fn from(v: $a) -> Self { match v { $(<$a>::$case => <$b>::$case),+ } }
        }
        impl From<$b> for $a {
            fn from(v: $b) -> Self { match v { $(<$b>::$case => <$a>::$case),+ } }
        }
    )+};
}

macro_rules! wire_names {
    ($($ty:ty { $($variant:ident => $name:literal),+ $(,)? })+) => {$(
        impl $ty {
            /// The name the API uses for this value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )+};
}

wire_names! {
    Role { Member => "member", Manager => "manager", Admin => "admin" }
    NumberType { Supervised => "supervised", Messaging => "messaging" }
    KeyId { UserObjectId => "user_object_id", ConsistencyId => "consistency_id", Upn => "upn", Id => "id" }
    IdentifierKind {
        UserObjectId => "user_object_id",
        ConsistencyId => "consistency_id",
        Upn => "upn",
        TenantId => "tenant_id",
        PhoneNumber => "phone_number",
    }
    InboxType { Shared => "shared", Supervised => "supervised" }
    NumberStatus { Assigned => "assigned", Active => "active" }
    Operation { Add => "add", Remove => "remove" }
}

/// `{"identifier", "values": [..]}`: supervisors, inbox users, assignment agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    pub identifier: IdentifierKind,
    pub values: Vec<String>,
}

/// `{"identifier", "value"}`: a bulk-update target, an inbox owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRef {
    pub identifier: IdentifierKind,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnabledServices {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<bool>,
    #[serde(
        default,
        rename = "supervisedInbox",
        skip_serializing_if = "Option::is_none"
    )]
    pub supervised_inbox: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<bool>,
    #[serde(
        default,
        rename = "sharedInbox",
        skip_serializing_if = "Option::is_none"
    )]
    pub shared_inbox: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberProvisioning {
    #[serde(rename = "type")]
    pub number_type: NumberType,
    pub phone_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisors: Option<Selector>,
}

crate::profile_fields! {
    crate::model::agent_record,
    /// One item of `POST /{customer_id}/agents`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct NewAgent {
        pub user_object_id: String,
        pub tenant_id: String,
        pub name: String,
    } {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub roles: Option<Vec<Role>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub number_provisioning: Vec<NumberProvisioning>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub enabled_services: Option<EnabledServices>,
    }
}

/// `{"type", "value"}`: a number attached to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumber {
    #[serde(rename = "type")]
    pub number_type: NumberType,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervisor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_object_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedInboxRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

crate::profile_fields! {
    crate::model::agent_record,
    /// An agent as get, list and update return it. Reading is tolerant: every field may be
    /// missing, unknown fields are ignored, unknown roles and number types are skipped, and
    /// `active` may be a boolean or the string `"true"`/`"false"`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Agent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user_object_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tenant_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
    } {
        #[serde(default, deserialize_with = "known_only")]
        pub phone_number: Vec<PhoneNumber>,
        #[serde(default, deserialize_with = "known_only")]
        pub roles: Vec<Role>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub enabled_services: Option<EnabledServices>,
        #[serde(default, deserialize_with = "known_only")]
        pub supervisors: Vec<Supervisor>,
        #[serde(default, deserialize_with = "known_only")]
        pub shared_inbox: Vec<SharedInboxRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status: Option<String>,
        #[serde(
            default,
            deserialize_with = "lenient_bool",
            skip_serializing_if = "Option::is_none"
        )]
        pub active: Option<bool>,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChanges {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assign: Vec<Role>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<Role>,
}

crate::profile_fields! {
    crate::model::agent_record,
    /// The body of `PATCH /agents/{id}` and the `updates` of a bulk-update item.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct AgentChanges {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user_object_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tenant_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
    } {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub roles: Option<RoleChanges>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub phone_number: Option<Vec<PhoneNumber>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub enabled_services: Option<EnabledServices>,
        #[serde(
            default,
            deserialize_with = "lenient_bool",
            skip_serializing_if = "Option::is_none"
        )]
        pub active: Option<bool>,
    }
}

/// One item of `PATCH /{customer_id}/agents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentUpdate {
    pub target: AgentRef,
    pub updates: AgentChanges,
}

/// One item of `POST /{customer_id}/agents/offboard`: `value` is a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffboardItem {
    pub identifier: IdentifierKind,
    pub value: Vec<String>,
}

/// One item of `POST /{customer_id}/inboxes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInbox {
    pub name: String,
    #[serde(rename = "type")]
    pub inbox_type: InboxType,
    pub phone_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<AgentRef>,
    pub users: Selector,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxRef {
    #[serde(rename = "type")]
    pub inbox_type: InboxType,
    pub identifier: IdentifierKind,
    pub value: String,
}

/// One item of `POST /{customer_id}/inboxes/assignments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub inbox: InboxRef,
    pub agents: Selector,
    pub operation: Operation,
}

/// The query of `GET /{customer_id}/agents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_object_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_object_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency_id: Option<String>,
}

/// One entry of `GET /{customer_id}/numbers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberInfo {
    pub number: String,
    #[serde(
        default,
        deserialize_with = "known_or_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<NumberStatus>,
    #[serde(
        default,
        rename = "assignedTo",
        skip_serializing_if = "Option::is_none"
    )]
    pub assigned_to: Option<Assignee>,
}

/// `{"itemIndex", "errors": [..]}` inside an error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemErrors {
    #[serde(rename = "itemIndex")]
    pub item_index: usize,
    pub errors: Vec<String>,
}

/// The token request body.
#[derive(Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Keeps the entries of a list that parse, skipping values this client does not know
/// (a role added to the API later must not make a whole agent unreadable).
fn known_only<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let values = Option::<Vec<serde_json::Value>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(values
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

fn known_or_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

/// The reference shows `"active": "true"` in one example: accept booleans and those strings.
fn lenient_bool<'de, D>(deserializer: D) -> Result<Option<bool>, D::Error>
where
    D: Deserializer<'de>,
{
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Bool(b)) => Ok(Some(b)),
        Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(D::Error::custom(format!(
            "expected a boolean or \"true\"/\"false\", found {other}"
        ))),
    }
}

/// The query flags of `POST /{customer_id}/agents`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OnboardOptions {
    /// `continueOnError`: go on past a refused agent (the API's default: stop).
    pub continue_on_error: Option<bool>,
    /// `reassignInbox`: take over the supervised inbox of an offboarded or deactivated owner.
    pub reassign_inbox: Option<bool>,
}

/// The query flags of `POST /{customer_id}/agents/offboard`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OffboardOptions {
    /// `continueOnError`: go on past a refused item (the API's default: stop).
    pub continue_on_error: Option<bool>,
    /// `deprovisionSupervisedInbox`: delete the agents' supervised inboxes too.
    pub deprovision_supervised_inbox: Option<bool>,
}

impl AgentFilter {
    /// The filter that lists the agents whose `kind` field is `value`.
    pub fn matching(kind: IdentifierKind, value: &str) -> AgentFilter {
        let mut filter = AgentFilter::default();
        let slot = match kind {
            IdentifierKind::UserObjectId => &mut filter.user_object_id,
            IdentifierKind::TenantId => &mut filter.tenant_id,
            IdentifierKind::ConsistencyId => &mut filter.consistency_id,
            IdentifierKind::Upn => &mut filter.upn,
            IdentifierKind::PhoneNumber => &mut filter.phone_number,
        };
        *slot = Some(value.to_string());
        filter
    }
}
