//! Microsoft Entra ID (Azure AD) users exports as agents: the JSON of Graph `GET /users` (an
//! object whose `value` is the users; several pages may follow one another in one file) or
//! of `az ad user list` (a bare array). Entra user objects carry no tenant id, so the caller
//! gives it. A mapping file can change which user property fills which agent field, and set
//! defaults for what Entra does not hold.

use crate::csv_input::Provisioning;
use serde::Deserialize;
use serde_json::{Map, Value};
use smartcomm::model::{NewAgent, Role};
use smartcomm::sync::DesiredAgent;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A sidecar CSV as `csv_input::sidecar` reads it: per user_object_id, its line and what it
/// adds to the user's agent.
pub type Sidecar = HashMap<String, (u64, Provisioning)>;

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

/// The Entra property that says whether the account is enabled.
const ENABLED: &str = "accountEnabled";

/// A mapping file: `{"fields": {"store": "officeLocation", "consistency_id": null},
/// "defaults": {"region": "Midwest", "roles": ["member"]}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Agent field → the Entra property that fills it, or `null` to leave it unset.
    #[serde(default)]
    pub fields: BTreeMap<String, Option<String>>,
    /// Values for fields that no property fills, or that are null for a user.
    #[serde(default)]
    pub defaults: Defaults,
}

/// Every key but `roles` is a text field's default; which keys are fields is checked when the
/// mapping is used, so that the error names the key.
#[derive(Debug, Default, Deserialize)]
pub struct Defaults {
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
    /// The shared inboxes (their numbers) of every user, for a sync.
    #[serde(default)]
    pub shared_inboxes: Option<Vec<String>>,
    #[serde(flatten)]
    pub text: BTreeMap<String, String>,
}

/// What an export turned into: the agents of the enabled accounts, and the user principal
/// names (or ids) of the disabled ones, which are not onboarded.
#[derive(Debug)]
pub struct Export {
    pub agents: Vec<NewAgent>,
    pub disabled: Vec<String>,
    /// Every user, enabled or not, as a sync's desired agent: `active` from
    /// `accountEnabled`, the shared inboxes from the sidecar or the mapping's defaults.
    pub roster: Vec<DesiredAgent>,
}

/// The users of `text`: one or more Graph pages, or one `az` array, one after another.
fn users(text: &str) -> Result<Vec<Map<String, Value>>, String> {
    let mut users = Vec::new();
    for (n, value) in serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .enumerate()
    {
        let value = value.map_err(|e| format!("not JSON: {e}"))?;
        let page = match value {
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

/// Reads `text` as agents of `tenant_id`, with the roles, numbers and services `sidecar` gives
/// them. Every problem of every user is reported, each naming the user's position in the
/// export and the agent field, and every sidecar row whose user is not in the export.
pub fn onboard(
    text: &str,
    tenant_id: &str,
    mapping: &Mapping,
    sidecar: &Sidecar,
) -> Result<Export, String> {
    let mut fields: BTreeMap<&str, Option<&str>> = DEFAULT_MAPPING.iter().copied().collect();
    let mut problems = Vec::new();
    for (field, property) in &mapping.fields {
        match fields.get_mut(field.as_str()) {
            Some(slot) => *slot = property.as_deref(),
            None => problems.push(format!("mapping: fields.{field}: not an agent field")),
        }
    }
    for field in mapping.defaults.text.keys() {
        if !fields.contains_key(field.as_str()) || field == "user_object_id" {
            problems.push(format!(
                "mapping: defaults.{field}: not a field a default can fill"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n  "));
    }
    let users = users(text)?;
    let mut agents = Vec::new();
    let mut disabled = Vec::new();
    let mut roster = Vec::new();
    let mut seen: HashMap<(&str, String), usize> = HashMap::new();
    for (i, user) in users.iter().enumerate() {
        let value = |field: &str| -> Option<String> {
            let property = fields.get(field).copied().flatten();
            let mapped = property.and_then(|p| match user.get(p) {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            });
            mapped.or_else(|| mapping.defaults.text.get(field).cloned())
        };
        let mut problem = |field: &str, message: String| {
            let who = user
                .get("userPrincipalName")
                .and_then(Value::as_str)
                .map(|upn| format!(" ({upn})"))
                .unwrap_or_default();
            problems.push(format!("user {i}{who}, field {field}: {message}"));
        };
        let required = |field: &str, problem: &mut dyn FnMut(&str, String)| {
            value(field).unwrap_or_else(|| {
                let source = fields.get(field).copied().flatten().unwrap_or("(unmapped)");
                problem(
                    field,
                    format!("is required; its property {source} is not set"),
                );
                String::new()
            })
        };
        let mut agent = NewAgent {
            user_object_id: required("user_object_id", &mut problem),
            tenant_id: tenant_id.to_string(),
            name: required("name", &mut problem),
            upn: value("upn"),
            consistency_id: value("consistency_id"),
            brand_name: value("brand_name"),
            department: value("department"),
            region: value("region"),
            state: value("state"),
            district: value("district"),
            store: value("store"),
            city: value("city"),
            zip_code: value("zip_code"),
            roles: mapping.defaults.roles.clone(),
            number_provisioning: Vec::new(),
            enabled_services: None,
        };
        let mut shared_inboxes = mapping.defaults.shared_inboxes.clone();
        if let Some((_, extra)) = sidecar.get(&agent.user_object_id) {
            agent.roles = extra.roles.clone().or(agent.roles);
            agent.number_provisioning = extra.number_provisioning.clone();
            agent.enabled_services = extra.enabled_services.clone();
            shared_inboxes = extra.shared_inboxes.clone().or(shared_inboxes);
        }
        for (field, key) in [
            ("user_object_id", Some(agent.user_object_id.clone())),
            ("consistency_id", agent.consistency_id.clone()),
        ] {
            let Some(key) = key.filter(|k| !k.is_empty()) else {
                continue;
            };
            if let Some(first) = seen.insert((field, key.clone()), i) {
                problem(field, format!("{key:?} is also user {first}'s"));
            }
        }
        let active = match user.get(ENABLED) {
            Some(Value::Bool(false)) => {
                disabled.push(agent.upn.clone().unwrap_or(agent.user_object_id.clone()));
                Some(false)
            }
            None | Some(Value::Null) => None,
            Some(Value::Bool(true)) => Some(true),
            Some(other) => {
                problem("active", format!("{ENABLED} is {other}, not a boolean"));
                None
            }
        };
        if active != Some(false) {
            agents.push(agent.clone());
        }
        roster.push(DesiredAgent {
            agent,
            active,
            shared_inboxes,
        });
    }
    let in_export: HashSet<&str> = users
        .iter()
        .filter_map(|u| u.get(fields.get("user_object_id").copied().flatten()?))
        .filter_map(Value::as_str)
        .collect();
    let mut strangers: Vec<(u64, &String)> = sidecar
        .iter()
        .filter(|(id, _)| !in_export.contains(id.as_str()))
        .map(|(id, (line, _))| (*line, id))
        .collect();
    strangers.sort();
    for (line, id) in strangers {
        problems.push(format!(
            "sidecar line {line}, column user_object_id: {id:?} is not a user of the export"
        ));
    }
    match problems.is_empty() {
        true => Ok(Export {
            agents,
            disabled,
            roster,
        }),
        false => Err(format!(
            "{} problem{}:\n  {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_1: &str = include_str!("../../tests/fixtures/entra/graph-users-page1.json");
    const PAGE_2: &str = include_str!("../../tests/fixtures/entra/graph-users-page2.json");
    const AZ: &str = include_str!("../../tests/fixtures/entra/az-ad-user-list.json");

    #[test]
    fn two_graph_pages_in_one_file_map_by_default_and_leave_out_the_disabled_account() {
        let text = format!("{PAGE_1}\n{PAGE_2}");
        let export = onboard(&text, "tenant-1", &Mapping::default(), &Sidecar::new()).unwrap();
        assert_eq!(export.agents.len(), 4);
        assert_eq!(export.disabled, ["associate3@contoso-retail.example"]);
        let first = &export.agents[0];
        assert_eq!(first.user_object_id, "3f1c0001-8b2e-4d7a-9c11-000000000001");
        assert_eq!(first.tenant_id, "tenant-1");
        assert_eq!(first.name, "Store Associate 1");
        assert_eq!(
            first.upn.as_deref(),
            Some("associate1@contoso-retail.example")
        );
        assert_eq!(first.consistency_id.as_deref(), Some("E10001"));
        assert_eq!(first.department.as_deref(), Some("Front End"));
        assert_eq!(first.brand_name.as_deref(), Some("Contoso Retail"));
        assert_eq!(first.zip_code.as_deref(), Some("43215"));
        // User 4 has no employeeId: no consistency_id, and no problem.
        let fourth = export
            .agents
            .iter()
            .find(|a| a.user_object_id.ends_with("04"))
            .unwrap();
        assert_eq!(fourth.consistency_id, None);
    }

    #[test]
    fn the_az_array_reads_the_same_way() {
        let export = onboard(AZ, "tenant-1", &Mapping::default(), &Sidecar::new()).unwrap();
        assert_eq!(export.agents.len(), 2);
        assert!(export.agents[0].user_object_id.ends_with("06"));
    }

    #[test]
    fn a_mapping_file_moves_and_unmaps_fields_and_sets_defaults() {
        let mapping: Mapping = serde_json::from_str(
            r#"{"fields": {"store": "officeLocation", "consistency_id": null},
                "defaults": {"region": "Midwest", "roles": ["member", "manager"]}}"#,
        )
        .unwrap();
        let export = onboard(PAGE_1, "tenant-1", &mapping, &Sidecar::new()).unwrap();
        let first = &export.agents[0];
        assert_eq!(first.store.as_deref(), Some("Store 1201"));
        assert_eq!(first.consistency_id, None);
        assert_eq!(first.region.as_deref(), Some("Midwest"));
        assert_eq!(first.roles, Some(vec![Role::Member, Role::Manager]));
    }

    #[test]
    fn every_problem_of_every_user_is_reported_with_its_position_and_field() {
        let text = r#"[
            {"id": "a", "displayName": null, "userPrincipalName": "a@x", "employeeId": "E1"},
            {"id": "a", "displayName": "B", "userPrincipalName": "b@x", "employeeId": "E1", "accountEnabled": "yes"}
        ]"#;
        let error = onboard(text, "t", &Mapping::default(), &Sidecar::new()).unwrap_err();
        assert_eq!(
            error,
            "4 problems:\n  \
             user 0 (a@x), field name: is required; its property displayName is not set\n  \
             user 1 (b@x), field user_object_id: \"a\" is also user 0's\n  \
             user 1 (b@x), field consistency_id: \"E1\" is also user 0's\n  \
             user 1 (b@x), field active: accountEnabled is \"yes\", not a boolean"
        );
    }

    #[test]
    fn a_sidecar_gives_users_their_numbers_and_roles_and_may_name_only_users_of_the_export() {
        let sidecar = crate::csv_input::sidecar(
            "user_object_id,roles,messaging_number\n\
             3f1c0001-8b2e-4d7a-9c11-000000000001,manager,+15550100007\n",
        )
        .unwrap();
        let export = onboard(PAGE_1, "t", &Mapping::default(), &sidecar).unwrap();
        let first = &export.agents[0];
        assert_eq!(first.roles, Some(vec![Role::Manager]));
        assert_eq!(first.number_provisioning[0].phone_number, "+15550100007");
        assert!(export.agents[1].number_provisioning.is_empty());

        let stranger = crate::csv_input::sidecar("user_object_id,roles\nnobody,member\n").unwrap();
        let error = onboard(PAGE_1, "t", &Mapping::default(), &stranger).unwrap_err();
        assert_eq!(
            error,
            "1 problem:\n  sidecar line 2, column user_object_id: \"nobody\" is not a user of the export"
        );
    }

    #[test]
    fn a_mapping_naming_an_unknown_field_is_refused() {
        let mapping: Mapping =
            serde_json::from_str(r#"{"fields": {"nickname": "givenName"}}"#).unwrap();
        let error = onboard(PAGE_1, "t", &mapping, &Sidecar::new()).unwrap_err();
        assert_eq!(error, "mapping: fields.nickname: not an agent field");
    }
}
