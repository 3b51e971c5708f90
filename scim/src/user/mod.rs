//! SCIM Users as SmartCommunicator agents: which attribute holds which agent field (here),
//! an agent (to onboard) from a resource (`read`), the changes a PATCH or PUT makes
//! (`changes`), and a resource from an agent (`show`). The API cannot clear a field or take a
//! number away: a request that asks it keeps the value, and its answer shows the value kept.

mod changes;
mod leaver;
mod read;
mod show;

pub use changes::{patched, replaced};
pub use leaver::{patch_deactivates, put_deactivates};
pub use read::{Values, new_agent, values_of_resource};
pub use show::{onboarded, resource};

use crate::error::ScimError;
use crate::filter::AttrPath;
use smartcomm::model::*;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The extension for what only SmartCommunicator holds. Entra ID takes custom attributes of
/// this form (`urn:ietf:params:scim:schemas:extension:{name}:2.0:User:{attribute}`).
pub const SMARTCOMM_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:smartcommunicator:2.0:User";

/// A tab of the SmartCommunicator app an agent may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tab {
    Messages,
    SupervisedInbox,
    Calls,
    SharedInbox,
}

impl Tab {
    pub const ALL: [(Tab, &'static str); 4] = [
        (Tab::Messages, "messages"),
        (Tab::SupervisedInbox, "supervisedInbox"),
        (Tab::Calls, "calls"),
        (Tab::SharedInbox, "sharedInbox"),
    ];

    fn of(self, services: &mut EnabledServices) -> &mut Option<bool> {
        match self {
            Tab::Messages => &mut services.messages,
            Tab::SupervisedInbox => &mut services.supervised_inbox,
            Tab::Calls => &mut services.calls,
            Tab::SharedInbox => &mut services.shared_inbox,
        }
    }
}

/// An agent field, as a SCIM attribute names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// `externalId` (and `id`): the agent's user_object_id, fixed once onboarded.
    UserObjectId,
    /// A profile field: where it lives is in [`PROFILE_HOMES`].
    Text(ProfileField),
    /// `displayName`.
    Name,
    /// `name.formatted`, `name.givenName`, `name.familyName`: the name when no displayName.
    NamePart(NamePart),
    Active,
    Roles,
    Number(Number),
    Tab(Tab),
    /// A core attribute the agent has no field for (`emails`, `phoneNumbers`, `title`, …):
    /// accepted and not kept.
    Ignored,
}

/// The agent's two numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Number {
    Messaging,
    Supervised,
}

impl Number {
    fn number_type(self) -> NumberType {
        match self {
            Number::Messaging => NumberType::Messaging,
            Number::Supervised => NumberType::Supervised,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NamePart {
    Formatted,
    Given,
    Family,
}

/// Where a profile field lives in a SCIM User.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// A core attribute.
    Core(&'static str),
    /// An attribute of the enterprise extension.
    Enterprise(&'static str),
    /// A sub-attribute of the work address.
    Address(&'static str),
    /// An attribute of the SmartCommunicator extension.
    Extension(&'static str),
}

/// Each profile field's SCIM attribute, by the field's name: the table the reading, the
/// changes, the resources and the error messages all go by.
pub const PROFILE_HOMES: [(&str, Home); 10] = [
    ("upn", Home::Core("userName")),
    ("consistency_id", Home::Enterprise("employeeNumber")),
    ("brand_name", Home::Extension("brandName")),
    ("department", Home::Enterprise("department")),
    ("region", Home::Extension("region")),
    ("state", Home::Address("region")),
    ("district", Home::Extension("district")),
    ("store", Home::Extension("store")),
    ("city", Home::Address("locality")),
    ("zip_code", Home::Address("postalCode")),
];

/// Where `field` lives.
pub fn home(field: ProfileField) -> Home {
    PROFILE_HOMES
        .iter()
        .find(|(name, _)| *name == field.name())
        .map(|(_, home)| *home)
        .expect("every profile field has a SCIM attribute")
}

/// The profile field whose attribute matches `name` (in any letter case) in the place
/// `home_of` picks out.
fn field_at(name: &str, home_of: impl Fn(Home) -> Option<&'static str>) -> Option<ProfileField> {
    ProfileField::ALL
        .iter()
        .copied()
        .find(|&f| home_of(home(f)).is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

/// The profile fields that live in the place `home_of` picks out, with their attributes.
pub fn fields_in(
    home_of: impl Fn(Home) -> Option<&'static str>,
) -> impl Iterator<Item = (ProfileField, &'static str)> {
    ProfileField::ALL
        .iter()
        .filter_map(move |&f| home_of(home(f)).map(|name| (f, name)))
}

pub fn address(home: Home) -> Option<&'static str> {
    match home {
        Home::Address(name) => Some(name),
        _ => None,
    }
}

pub fn enterprise(home: Home) -> Option<&'static str> {
    match home {
        Home::Enterprise(name) => Some(name),
        _ => None,
    }
}

pub fn extension(home: Home) -> Option<&'static str> {
    match home {
        Home::Extension(name) => Some(name),
        _ => None,
    }
}

pub fn core(home: Home) -> Option<&'static str> {
    match home {
        Home::Core(name) => Some(name),
        _ => None,
    }
}

/// Core attributes of RFC 7643 the agent has no field for: accepted, not kept.
const IGNORED_CORE: [&str; 15] = [
    "emails",
    "phonenumbers",
    "ims",
    "photos",
    "nickname",
    "profileurl",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "entitlements",
    "roles",
    "x509certificates",
    // Okta's create and password sync: never stored, logged or echoed.
    "password",
];

/// The enterprise extension's attributes the agent has no field for.
const IGNORED_ENTERPRISE: [&str; 4] = ["costcenter", "organization", "division", "manager"];

/// Which agent field `path` names; an attribute outside the schemas is `invalidPath`.
pub fn slot(path: &AttrPath) -> Result<Slot, ScimError> {
    let sub = path.sub.as_deref();
    let unknown = || {
        ScimError::invalid_path(format!(
            "{path} is not an attribute of a SmartCommunicator user"
        ))
    };
    match path.urn.as_deref() {
        _ if path.in_schema(USER_SCHEMA) => core_slot(path, sub).ok_or_else(unknown),
        Some(urn) if urn.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) => {
            match field_at(&path.name, enterprise) {
                Some(field) => Ok(Slot::Text(field)),
                None if IGNORED_ENTERPRISE.contains(&path.name.as_str()) => Ok(Slot::Ignored),
                None => Err(unknown()),
            }
        }
        Some(urn) if urn.eq_ignore_ascii_case(SMARTCOMM_SCHEMA) => {
            extension_slot(path, sub).ok_or_else(unknown)
        }
        _ => Err(unknown()),
    }
}

fn core_slot(path: &AttrPath, sub: Option<&str>) -> Option<Slot> {
    if sub.is_none()
        && let Some(field) = field_at(&path.name, core)
    {
        return Some(Slot::Text(field));
    }
    match (path.name.as_str(), sub) {
        ("id" | "externalid", None) => Some(Slot::UserObjectId),
        ("displayname", None) => Some(Slot::Name),
        ("name", Some("formatted")) => Some(Slot::NamePart(NamePart::Formatted)),
        ("name", Some("givenname")) => Some(Slot::NamePart(NamePart::Given)),
        ("name", Some("familyname")) => Some(Slot::NamePart(NamePart::Family)),
        ("name", Some(_)) => Some(Slot::Ignored),
        ("active", None) => Some(Slot::Active),
        ("addresses", Some(sub)) if is_work(path) => {
            Some(field_at(sub, address).map_or(Slot::Ignored, Slot::Text))
        }
        ("addresses", _) => Some(Slot::Ignored),
        (name, _) if IGNORED_CORE.contains(&name) => Some(Slot::Ignored),
        _ => None,
    }
}

/// A path into `addresses` that selects the work address (or names no type).
pub(crate) fn is_work(path: &AttrPath) -> bool {
    path.value_filter.as_ref().is_none_or(|f| {
        f.path.name == "type"
            && f.value
                .as_text()
                .is_some_and(|t| t.eq_ignore_ascii_case("work"))
    })
}

fn extension_slot(path: &AttrPath, sub: Option<&str>) -> Option<Slot> {
    let text = field_at(&path.name, extension).map(Slot::Text);
    match (path.name.as_str(), sub) {
        (_, None) if text.is_some() => text,
        ("roles", None) => Some(Slot::Roles),
        ("messagingnumber", None) => Some(Slot::Number(Number::Messaging)),
        ("supervisednumber", None) => Some(Slot::Number(Number::Supervised)),
        ("enabledservices", Some(sub)) => Tab::ALL
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(sub))
            .map(|(tab, _)| Slot::Tab(*tab)),
        _ => None,
    }
}

/// A slot as the error messages name it.
pub fn describe(slot: Slot) -> String {
    match slot {
        Slot::UserObjectId => "externalId".into(),
        Slot::Text(field) => match home(field) {
            Home::Core(name) | Home::Enterprise(name) => name.into(),
            Home::Address(name) => format!("addresses[type eq \"work\"].{name}"),
            Home::Extension(name) => format!("{SMARTCOMM_SCHEMA}:{name}"),
        },
        Slot::Name => "displayName".into(),
        Slot::NamePart(NamePart::Formatted) => "name.formatted".into(),
        Slot::NamePart(NamePart::Given) => "name.givenName".into(),
        Slot::NamePart(NamePart::Family) => "name.familyName".into(),
        Slot::Active => "active".into(),
        Slot::Roles => format!("{SMARTCOMM_SCHEMA}:roles"),
        Slot::Number(Number::Messaging) => format!("{SMARTCOMM_SCHEMA}:messagingNumber"),
        Slot::Number(Number::Supervised) => format!("{SMARTCOMM_SCHEMA}:supervisedNumber"),
        Slot::Tab(tab) => {
            let name = Tab::ALL
                .iter()
                .find(|(t, _)| *t == tab)
                .map_or("", |(_, n)| n);
            format!("{SMARTCOMM_SCHEMA}:enabledServices.{name}")
        }
        Slot::Ignored => "an ignored attribute".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_field_has_one_scim_attribute_that_reads_back_to_it() {
        for &field in ProfileField::ALL {
            let slot = Slot::Text(field);
            let path = match home(field) {
                Home::Core(name) => name.to_string(),
                Home::Enterprise(name) => format!("{ENTERPRISE_SCHEMA}:{name}"),
                Home::Address(name) => format!("addresses[type eq \"work\"].{name}"),
                Home::Extension(name) => format!("{SMARTCOMM_SCHEMA}:{name}"),
            };
            let parsed = crate::filter::parse_path(&path).unwrap();
            assert_eq!(super::slot(&parsed).unwrap(), slot, "{path}");
        }
    }

    #[test]
    fn a_patch_of_one_name_part_keeps_the_name_and_both_parts_make_it() {
        let current = Agent {
            user_object_id: Some("u1".into()),
            name: Some("Ann Lee".into()),
            ..Agent::default()
        };
        let patch = |ops: serde_json::Value| {
            let operations = crate::patch::read(&serde_json::json!({ "Operations": ops })).unwrap();
            patched(&current, &operations).unwrap().name
        };
        let given =
            serde_json::json!([{"op": "replace", "path": "name.givenName", "value": "Anne"}]);
        assert_eq!(patch(given), None);
        let both = serde_json::json!([
            {"op": "replace", "path": "name.givenName", "value": "Anne"},
            {"op": "replace", "path": "name.familyName", "value": "Lee"},
        ]);
        assert_eq!(patch(both).as_deref(), Some("Anne Lee"));
    }
}
