//! Microsoft Entra ID users as a roster: which user property fills which agent field (the
//! mapping), what a sidecar adds to each user's agent, and the roster of enabled and disabled
//! accounts. One reader for an export saved to files (Graph `GET /users` pages, or `az ad
//! user list`) and for a group's members read through Graph (`graph`).
//!
//! Entra user objects carry no tenant id: the caller gives it, as the directory's.

use crate::error::Problem;
use crate::model::{EnabledServices, NewAgent, NumberProvisioning, ProfileField, Role};
use crate::sync::DesiredAgent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The agent fields an Entra property can fill, and the property that fills each by default.
pub const DEFAULT_MAPPING: &[(&str, Option<&str>)] = &[
    ("user_object_id", Some("id")),
    ("upn", Some("userPrincipalName")),
    ("name", Some("displayName")),
    ("consistency_id", Some("employeeId")),
    ("department", Some("department")),
    ("brand_name", Some("companyName")),
    ("state", Some("state")),
    ("city", Some("city")),
    ("zip_code", Some("postalCode")),
    ("region", None),
    ("district", None),
    ("store", None),
];

/// The property that says whether the account is enabled.
pub const ENABLED: &str = "accountEnabled";

/// A user, as Graph or `az` gives it: its properties by name.
pub type User = Map<String, Value>;

/// A mapping file: `{"fields": {"store": "officeLocation", "consistency_id": null},
/// "defaults": {"region": "Midwest", "roles": ["member"]}}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Agent field → the property that fills it, or `null` to leave it unset.
    #[serde(default)]
    pub fields: BTreeMap<String, Option<String>>,
    /// Values for fields that no property fills, or that are null for a user.
    #[serde(default)]
    pub defaults: Defaults,
}

/// Every key but `roles` and `shared_inboxes` is a text field's default; which keys are fields
/// is checked when the mapping is used, so that the problem names the key.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Defaults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<Role>>,
    /// The shared inboxes (their numbers) of every user, for a sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_inboxes: Option<Vec<String>>,
    #[serde(flatten)]
    pub text: BTreeMap<String, String>,
}

/// What a sidecar row adds to one user's agent: what Entra does not hold.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Extra {
    pub user_object_id: String,
    pub roles: Option<Vec<Role>>,
    pub number_provisioning: Vec<NumberProvisioning>,
    pub enabled_services: Option<EnabledServices>,
    /// `None`: the sidecar does not manage the user's shared inboxes.
    pub shared_inboxes: Option<Vec<String>>,
}

/// A mapping checked against the agent fields: agent field → the property that fills it.
#[derive(Debug, Clone)]
pub struct Resolved<'m> {
    fields: BTreeMap<&'static str, Option<&'m str>>,
    mapping: &'m Mapping,
}

impl Mapping {
    /// The mapping's table of fields, every problem naming its key (`mapping.fields.X`).
    pub fn resolve(&self) -> Result<Resolved<'_>, Vec<Problem>> {
        let mut fields: BTreeMap<&'static str, Option<&str>> =
            DEFAULT_MAPPING.iter().copied().collect();
        let mut problems = Vec::new();
        for (field, property) in &self.fields {
            match fields.get_mut(field.as_str()) {
                Some(slot) => *slot = property.as_deref(),
                None => problems.push(mapping_problem(
                    format!("fields.{field}"),
                    "not an agent field",
                )),
            }
        }
        for field in self.defaults.text.keys() {
            if !fields.contains_key(field.as_str()) || field == "user_object_id" {
                problems.push(mapping_problem(
                    format!("defaults.{field}"),
                    "not a field a default can fill",
                ));
            }
        }
        match problems.is_empty() {
            true => Ok(Resolved {
                fields,
                mapping: self,
            }),
            false => Err(problems),
        }
    }
}

fn mapping_problem(key: String, message: &str) -> Problem {
    Problem {
        index: None,
        field: format!("mapping.{key}"),
        message: message.into(),
    }
}

impl Resolved<'_> {
    /// Every property the mapping reads, the account's state and principal name included:
    /// what a Graph request must `$select`, since Graph returns only a default set otherwise.
    pub fn properties(&self) -> Vec<&str> {
        let mut properties: Vec<&str> = self.fields.values().flatten().copied().collect();
        properties.extend(["id", "userPrincipalName", ENABLED]);
        properties.sort_unstable();
        properties.dedup();
        properties
    }

    fn property(&self, field: &str) -> Option<&str> {
        self.fields.get(field).copied().flatten()
    }

    /// A field's value for `user`: its property's, else the mapping's default.
    fn value(&self, user: &User, field: &str) -> Option<String> {
        let mapped = self.property(field).and_then(|p| match user.get(p) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        });
        mapped.or_else(|| self.mapping.defaults.text.get(field).cloned())
    }
}

/// The Graph request that lists the directory's users with `properties`, a page of 999:
/// an export that holds what a roster needs.
pub fn users_url(properties: &[&str]) -> String {
    format!(
        "https://graph.microsoft.com/v1.0/users?$select={}&$top=999",
        properties.join(",")
    )
}

/// The users of an export's text: one or more Graph pages (objects with a `value` array) or
/// `az` arrays, one after another.
pub fn users_of_export(text: &str) -> Result<Vec<User>, String> {
    let mut users = Vec::new();
    for (n, value) in serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .enumerate()
    {
        let page = match value.map_err(|e| format!("not JSON: {e}"))? {
            Value::Object(mut page) => match page.remove("value") {
                Some(Value::Array(items)) => items,
                _ => {
                    return Err(format!(
                        "JSON value {}: an object without a `value` array is not a Graph page",
                        n + 1
                    ));
                }
            },
            Value::Array(items) => items,
            _ => {
                return Err(format!(
                    "JSON value {}: not a page or an array of users",
                    n + 1
                ));
            }
        };
        for user in page {
            match user {
                Value::Object(user) => users.push(user),
                other => return Err(format!("user {}: not an object: {other}", users.len())),
            }
        }
    }
    Ok(users)
}

/// The roster of `users` as agents of `tenant_id`, with what `extras` add. Every problem is
/// reported: a user's carries its position and the agent field; an extra whose user is not
/// among `users` carries the extra's position and the field `extras.user_object_id`.
pub fn roster(
    users: &[User],
    tenant_id: &str,
    mapping: &Resolved<'_>,
    extras: &[Extra],
) -> Result<Vec<DesiredAgent>, Vec<Problem>> {
    let by_user: HashMap<&str, &Extra> = extras
        .iter()
        .map(|e| (e.user_object_id.as_str(), e))
        .collect();
    let mut problems = Vec::new();
    let mut seen: HashMap<(&str, String), usize> = HashMap::new();
    let mut roster = Vec::with_capacity(users.len());
    for (i, user) in users.iter().enumerate() {
        let mut problem = |field: &str, message: String| {
            problems.push(Problem {
                index: Some(i),
                field: field.into(),
                message,
            });
        };
        let desired = desired_agent(user, tenant_id, mapping, &by_user, &mut problem);
        for (field, key) in [
            ("user_object_id", Some(desired.agent.user_object_id.clone())),
            ("consistency_id", desired.agent.consistency_id.clone()),
        ] {
            let Some(key) = key.filter(|k| !k.is_empty()) else {
                continue;
            };
            if let Some(first) = seen.insert((field, key.clone()), i) {
                problem(field, format!("{key:?} is also user {first}'s"));
            }
        }
        roster.push(desired);
    }
    let listed: HashSet<&str> = roster
        .iter()
        .map(|d| d.agent.user_object_id.as_str())
        .collect();
    for (j, extra) in extras.iter().enumerate() {
        if !listed.contains(extra.user_object_id.as_str()) {
            problems.push(Problem {
                index: Some(j),
                field: "extras.user_object_id".into(),
                message: format!("{:?} is not a user of the roster", extra.user_object_id),
            });
        }
    }
    match problems.is_empty() {
        true => Ok(roster),
        false => Err(problems),
    }
}

/// One user's desired agent; `problem` hears of each field it cannot fill.
fn desired_agent(
    user: &User,
    tenant_id: &str,
    mapping: &Resolved<'_>,
    extras: &HashMap<&str, &Extra>,
    problem: &mut dyn FnMut(&str, String),
) -> DesiredAgent {
    let value = |field: &str| mapping.value(user, field);
    let mut required = |field: &str| {
        value(field).unwrap_or_else(|| {
            let source = mapping.property(field).unwrap_or("(unmapped)");
            problem(
                field,
                format!("is required; its property {source} is not set"),
            );
            String::new()
        })
    };
    let mut agent = NewAgent {
        user_object_id: required("user_object_id"),
        tenant_id: tenant_id.to_string(),
        name: required("name"),
        roles: mapping.mapping.defaults.roles.clone(),
        ..NewAgent::default()
    };
    for &field in ProfileField::ALL {
        *agent.profile_mut(field) = value(field.name());
    }
    let mut shared_inboxes = mapping.mapping.defaults.shared_inboxes.clone();
    if let Some(extra) = extras.get(agent.user_object_id.as_str()) {
        agent.roles = extra.roles.clone().or(agent.roles);
        agent.number_provisioning = extra.number_provisioning.clone();
        agent.enabled_services = extra.enabled_services.clone();
        shared_inboxes = extra.shared_inboxes.clone().or(shared_inboxes);
    }
    let active = match user.get(ENABLED) {
        Some(Value::Bool(enabled)) => Some(*enabled),
        None | Some(Value::Null) => None,
        Some(other) => {
            problem("active", format!("{ENABLED} is {other}, not a boolean"));
            None
        }
    };
    DesiredAgent {
        agent,
        active,
        shared_inboxes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_1: &str = include_str!("../tests/fixtures/entra/graph-users-page1.json");
    const PAGE_2: &str = include_str!("../tests/fixtures/entra/graph-users-page2.json");
    const AZ: &str = include_str!("../tests/fixtures/entra/az-ad-user-list.json");

    fn read(
        text: &str,
        mapping: &Mapping,
        extras: &[Extra],
    ) -> Result<Vec<DesiredAgent>, Vec<Problem>> {
        let users = users_of_export(text).unwrap();
        roster(&users, "tenant-1", &mapping.resolve()?, extras)
    }

    #[test]
    fn the_default_mapping_names_every_profile_field_and_nothing_else() {
        let mut mapped: Vec<&str> = DEFAULT_MAPPING
            .iter()
            .map(|(field, _)| *field)
            .filter(|f| !["user_object_id", "name"].contains(f))
            .collect();
        let mut profile: Vec<&str> = ProfileField::ALL.iter().map(|f| f.name()).collect();
        mapped.sort_unstable();
        profile.sort_unstable();
        assert_eq!(mapped, profile);
    }

    fn problems(list: Vec<Problem>) -> Vec<String> {
        list.iter()
            .map(|p| format!("{:?} {}: {}", p.index, p.field, p.message))
            .collect()
    }

    #[test]
    fn two_graph_pages_in_one_text_map_by_default_and_mark_the_disabled_account() {
        let roster = read(&format!("{PAGE_1}\n{PAGE_2}"), &Mapping::default(), &[]).unwrap();
        assert_eq!(roster.len(), 5);
        let disabled: Vec<_> = roster.iter().filter(|d| d.active == Some(false)).collect();
        assert_eq!(
            disabled[0].agent.upn.as_deref(),
            Some("associate3@contoso-retail.example")
        );
        let first = &roster[0].agent;
        assert_eq!(first.user_object_id, "3f1c0001-8b2e-4d7a-9c11-000000000001");
        assert_eq!(first.tenant_id, "tenant-1");
        assert_eq!(first.name, "Store Associate 1");
        assert_eq!(first.consistency_id.as_deref(), Some("E10001"));
        assert_eq!(first.brand_name.as_deref(), Some("Contoso Retail"));
        assert_eq!(first.zip_code.as_deref(), Some("43215"));
        // User 4 has no employeeId: no consistency_id, and no problem.
        let fourth = roster
            .iter()
            .find(|d| d.agent.user_object_id.ends_with("04"))
            .unwrap();
        assert_eq!(fourth.agent.consistency_id, None);
    }

    #[test]
    fn the_az_array_reads_the_same_way_with_only_what_it_holds() {
        let roster = read(AZ, &Mapping::default(), &[]).unwrap();
        assert_eq!(roster.len(), 2);
        assert!(roster[0].agent.user_object_id.ends_with("06"));
        // Graph's default properties: no account state, no department.
        assert_eq!(
            (roster[0].active, &roster[0].agent.department),
            (None, &None)
        );
    }

    #[test]
    fn a_mapping_moves_and_unmaps_fields_sets_defaults_and_names_what_graph_must_select() {
        let mapping: Mapping = serde_json::from_str(
            r#"{"fields": {"store": "officeLocation", "consistency_id": null},
                "defaults": {"region": "Midwest", "roles": ["member", "manager"]}}"#,
        )
        .unwrap();
        let roster = read(PAGE_1, &mapping, &[]).unwrap();
        let first = &roster[0].agent;
        assert_eq!(first.store.as_deref(), Some("Store 1201"));
        assert_eq!(first.consistency_id, None);
        assert_eq!(first.region.as_deref(), Some("Midwest"));
        assert_eq!(first.roles, Some(vec![Role::Member, Role::Manager]));
        let resolved = mapping.resolve().unwrap();
        assert_eq!(
            resolved.properties(),
            [
                "accountEnabled",
                "city",
                "companyName",
                "department",
                "displayName",
                "id",
                "officeLocation",
                "postalCode",
                "state",
                "userPrincipalName"
            ]
        );
    }

    #[test]
    fn every_problem_of_every_user_is_reported_with_its_position_and_field() {
        let text = r#"[
            {"id": "a", "displayName": null, "userPrincipalName": "a@x", "employeeId": "E1"},
            {"id": "a", "displayName": "B", "userPrincipalName": "b@x", "employeeId": "E1", "accountEnabled": "yes"}
        ]"#;
        let error = read(text, &Mapping::default(), &[]).unwrap_err();
        assert_eq!(
            problems(error),
            [
                "Some(0) name: is required; its property displayName is not set",
                "Some(1) active: accountEnabled is \"yes\", not a boolean",
                "Some(1) user_object_id: \"a\" is also user 0's",
                "Some(1) consistency_id: \"E1\" is also user 0's",
            ]
        );
    }

    #[test]
    fn extras_give_users_their_numbers_and_roles_and_may_name_only_users_of_the_roster() {
        let extra = Extra {
            user_object_id: "3f1c0001-8b2e-4d7a-9c11-000000000001".into(),
            roles: Some(vec![Role::Manager]),
            number_provisioning: vec![NumberProvisioning {
                number_type: crate::model::NumberType::Messaging,
                phone_number: "+15550100007".into(),
                supervisors: None,
            }],
            ..Extra::default()
        };
        let roster = read(PAGE_1, &Mapping::default(), &[extra]).unwrap();
        assert_eq!(roster[0].agent.roles, Some(vec![Role::Manager]));
        assert_eq!(
            roster[0].agent.number_provisioning[0].phone_number,
            "+15550100007"
        );
        assert!(roster[1].agent.number_provisioning.is_empty());

        let stranger = Extra {
            user_object_id: "nobody".into(),
            ..Extra::default()
        };
        let error = read(PAGE_1, &Mapping::default(), &[stranger]).unwrap_err();
        assert_eq!(
            problems(error),
            ["Some(0) extras.user_object_id: \"nobody\" is not a user of the roster"]
        );
    }

    #[test]
    fn a_mapping_naming_an_unknown_field_or_default_is_refused_by_its_key() {
        let mapping: Mapping = serde_json::from_str(
            r#"{"fields": {"nickname": "givenName"}, "defaults": {"user_object_id": "x"}}"#,
        )
        .unwrap();
        assert_eq!(
            problems(mapping.resolve().unwrap_err()),
            [
                "None mapping.fields.nickname: not an agent field",
                "None mapping.defaults.user_object_id: not a field a default can fill",
            ]
        );
    }
}
