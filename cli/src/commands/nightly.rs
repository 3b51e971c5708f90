//! `sync nightly-settings`: the settings of the shipped Obelisk nightly sync (`deploy/obelisk`),
//! from the flags and files `sync plan --graph-group` takes, read and checked by the same
//! code. Written as the parameters of `nightly.sync-group` in the JSON Obelisk reads (every
//! record field present, `null` for an empty option, enum cases in snake_case), or as the
//! `[[cron]]` section that submits them on a schedule.

use serde_json::{Value, json};
use smartcomm::entra::{Extra, Mapping};
use smartcomm::model::{EnabledServices, NumberProvisioning};
use smartcomm::sync::PlanOptions;

/// The workflow function the settings are the parameters of.
pub const SYNC_GROUP: &str = "smartcomm-deploy:entra/nightly.sync-group";

/// The parameters of `nightly.sync-group`: one `settings` record.
pub fn params(
    tenant_id: &str,
    group_id: &str,
    mapping: &Mapping,
    extras: &[Extra],
    options: &PlanOptions,
) -> Value {
    json!([{
        "tenant_id": tenant_id,
        "group_id": group_id,
        "mapping": roster_mapping(mapping),
        "extras": extras.iter().map(roster_extra).collect::<Vec<_>>(),
        "options": plan_options(options),
    }])
}

/// The `[[cron]]` section that submits `params` on `schedule` (a cron expression, UTC).
pub fn cron_section(params: &Value, schedule: &str) -> String {
    // A TOML literal string takes the JSON as it is, provided it holds no `'''`; a `'` can
    // only be inside a JSON string, where `\u0027` means the same.
    let params = serde_json::to_string_pretty(params)
        .expect("JSON values always serialize")
        .replace('\'', "\\u0027");
    format!(
        "\n# The nightly sync's schedule and settings, written by `smartcomm sync nightly-settings`\n\
         # from the flags and files of `smartcomm sync plan --graph-group`: change those and write\n\
         # this section again.\n\
         [[cron]]\n\
         name = \"nightly-entra-sync\"\n\
         ffqn = \"{SYNC_GROUP}\"\n\
         schedule = {schedule}\n\
         params = '''{params}'''\n",
        schedule = serde_json::to_string(schedule).expect("a string always serializes"),
    )
}

/// The mapping file as the WIT `roster-mapping`: its field names are the `agent-field` cases.
fn roster_mapping(mapping: &Mapping) -> Value {
    let fields: Vec<Value> = mapping
        .fields
        .iter()
        .map(|(field, property)| json!({"field": field, "property": property}))
        .collect();
    let defaults: Vec<Value> = mapping
        .defaults
        .text
        .iter()
        .map(|(field, value)| json!({"field": field, "value": value}))
        .collect();
    json!({
        "fields": fields,
        "defaults": defaults,
        "default_roles": mapping.defaults.roles.as_ref().map(|roles| names(roles, |r| r.as_str())),
        "default_shared_inboxes": mapping.defaults.shared_inboxes,
    })
}

/// A sidecar row as the WIT `roster-extra`.
fn roster_extra(extra: &Extra) -> Value {
    json!({
        "user_object_id": extra.user_object_id,
        "roles": extra.roles.as_ref().map(|roles| names(roles, |r| r.as_str())),
        "number_provisioning": extra.number_provisioning.iter().map(number_provisioning).collect::<Vec<_>>(),
        "enabled_services": extra.enabled_services.as_ref().map(enabled_services),
        "shared_inboxes": extra.shared_inboxes,
    })
}

fn number_provisioning(n: &NumberProvisioning) -> Value {
    json!({
        "type": n.number_type.as_str(),
        "phone_number": n.phone_number,
        "supervisors": n.supervisors.as_ref().map(|s| json!({
            "identifier": s.identifier.as_str(),
            "values": s.values,
        })),
    })
}

fn enabled_services(s: &EnabledServices) -> Value {
    json!({
        "messages": s.messages,
        "supervised_inbox": s.supervised_inbox,
        "calls": s.calls,
        "shared_inbox": s.shared_inbox,
    })
}

fn plan_options(options: &PlanOptions) -> Value {
    json!({
        "absent": options.absent,
        "scope": options.scope.iter().map(|m| json!({"field": m.field.as_str(), "value": m.value})).collect::<Vec<_>>(),
        "max_removals": options.max_removals,
        "protected": options.protected,
    })
}

fn names<T: Copy>(values: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    values.iter().map(|&v| name(v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartcomm::model::{IdentifierKind, NumberType, Role, Selector};
    use smartcomm::sync::{AbsentAgents, ScopeField, ScopeMatch};

    #[test]
    fn every_record_field_is_present_and_every_enum_case_in_snake_case() {
        let mapping: Mapping = serde_json::from_str(
            r#"{"fields": {"zip_code": "postalCode", "consistency_id": null},
                "defaults": {"brand_name": "Contoso's", "roles": ["member"]}}"#,
        )
        .unwrap();
        let extra = Extra {
            user_object_id: "u1".into(),
            roles: Some(vec![Role::Manager]),
            number_provisioning: vec![NumberProvisioning {
                number_type: NumberType::Supervised,
                phone_number: "+15550100001".into(),
                supervisors: Some(Selector {
                    identifier: IdentifierKind::UserObjectId,
                    values: vec!["u2".into()],
                }),
            }],
            enabled_services: Some(EnabledServices {
                calls: Some(false),
                ..EnabledServices::default()
            }),
            shared_inboxes: None,
        };
        let options = PlanOptions {
            absent: Some(AbsentAgents::Offboard),
            scope: vec![ScopeMatch {
                field: ScopeField::ZipCode,
                value: "60601".into(),
            }],
            max_removals: Some(3),
            protected: vec!["u9".into()],
        };
        let params = params("t", "g", &mapping, &[extra], &options);
        assert_eq!(
            params,
            json!([{
                "tenant_id": "t",
                "group_id": "g",
                "mapping": {
                    "fields": [{"field": "consistency_id", "property": null},
                               {"field": "zip_code", "property": "postalCode"}],
                    "defaults": [{"field": "brand_name", "value": "Contoso's"}],
                    "default_roles": ["member"],
                    "default_shared_inboxes": null,
                },
                "extras": [{
                    "user_object_id": "u1",
                    "roles": ["manager"],
                    "number_provisioning": [{
                        "type": "supervised",
                        "phone_number": "+15550100001",
                        "supervisors": {"identifier": "user_object_id", "values": ["u2"]},
                    }],
                    "enabled_services": {"messages": null, "supervised_inbox": null,
                                         "calls": false, "shared_inbox": null},
                    "shared_inboxes": null,
                }],
                "options": {
                    "absent": "offboard",
                    "scope": [{"field": "zip_code", "value": "60601"}],
                    "max_removals": 3,
                    "protected": ["u9"],
                },
            }])
        );
        // The section's params read back as the same JSON, the apostrophe escaped.
        let section = cron_section(&params, "0 2 * * *");
        assert!(section.contains("schedule = \"0 2 * * *\""));
        let (_, literal) = section.split_once("params = '''").unwrap();
        let literal = literal.strip_suffix("'''\n").unwrap();
        assert!(!literal.contains('\''));
        assert_eq!(serde_json::from_str::<Value>(literal).unwrap(), params);
    }
}
