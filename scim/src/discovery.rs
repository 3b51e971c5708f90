//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` (RFC 7643 §5–7): exactly what the
//! bridge honours. Filter and PATCH yes; bulk, sort, ETags and password changes no; one
//! bearer-token scheme; only the attributes that reach an agent field.

use crate::group::GROUP_SCHEMA;
use crate::user::{
    ENTERPRISE_SCHEMA, Home, SMARTCOMM_SCHEMA, USER_SCHEMA, address, enterprise, extension,
    fields_in,
};
use serde_json::{Value, json};

/// The most resources one list answers with.
pub const MAX_RESULTS: usize = 100;

const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

pub fn list(resources: Vec<Value>, total: usize, start_index: usize) -> Value {
    json!({
        "schemas": [LIST],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://docs.intelepeer.com/Atmosphere/Content/Atmosphere-APIs/Managing-Agents-Using-SmartCommunicator-APIs.htm",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "The provisioning app's Secret Token, sent as Authorization: Bearer <token>",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

pub fn resource_types(base: &str) -> Vec<Value> {
    vec![user_type(base), group_type(base)]
}

pub fn user_type(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A SmartCommunicator agent",
        "schema": USER_SCHEMA,
        "schemaExtensions": [
            {"schema": ENTERPRISE_SCHEMA, "required": false},
            {"schema": SMARTCOMM_SCHEMA, "required": false},
        ],
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
    })
}

pub fn group_type(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "A SmartCommunicator shared inbox, mapped by name to its number",
        "schema": GROUP_SCHEMA,
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
    })
}

/// An attribute's definition. `mutability` is `readWrite` unless given.
fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut attribute: Value, changes: Value) -> Value {
    if let (Some(a), Some(c)) = (attribute.as_object_mut(), changes.as_object()) {
        for (k, v) in c {
            a.insert(k.clone(), v.clone());
        }
    }
    attribute
}

/// The profile fields that live where `home_of` says, as string attributes.
fn profile_attributes(home_of: impl Fn(Home) -> Option<&'static str>) -> Vec<Value> {
    fields_in(home_of)
        .map(|(field, name)| attribute(name, "string", &format!("The agent's {field}")))
        .collect()
}

fn complex(name: &str, description: &str, sub: Vec<Value>) -> Value {
    with(
        attribute(name, "complex", description),
        json!({"subAttributes": sub}),
    )
}

fn schema(id: &str, name: &str, description: &str, attributes: Vec<Value>, base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    })
}

pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        user_schema(base),
        enterprise_schema(base),
        smartcomm_schema(base),
        group_schema(base),
    ]
}

fn user_schema(base: &str) -> Value {
    let text = |n: &str, d: &str| attribute(n, "string", d);
    schema(
        USER_SCHEMA,
        "User",
        "A SmartCommunicator agent",
        vec![
            with(
                text("userName", "The agent's upn"),
                json!({"required": true, "uniqueness": "server"}),
            ),
            with(
                text(
                    "externalId",
                    "The user's Entra object id, a GUID (Entra ID: objectId): the agent's user_object_id, fixed once created",
                ),
                json!({"required": true, "caseExact": true, "mutability": "immutable"}),
            ),
            with(
                text(
                    "displayName",
                    "The agent's name (or name.formatted, or given and family name)",
                ),
                json!({"required": true}),
            ),
            attribute(
                "active",
                "boolean",
                "false deactivates the agent, true reactivates it",
            ),
            with(
                complex(
                    "addresses",
                    "The work address",
                    [with(
                        text("type", "work: the one address an agent has"),
                        json!({"canonicalValues": ["work"]}),
                    )]
                    .into_iter()
                    .chain(profile_attributes(address))
                    .collect(),
                ),
                json!({"multiValued": true}),
            ),
        ],
        base,
    )
}

fn enterprise_schema(base: &str) -> Value {
    schema(
        ENTERPRISE_SCHEMA,
        "EnterpriseUser",
        "The enterprise extension's attributes an agent holds",
        profile_attributes(enterprise),
        base,
    )
}

fn smartcomm_schema(base: &str) -> Value {
    let text = |n: &str, d: &str| attribute(n, "string", d);
    let tab = |n: &str| attribute(n, "boolean", "Access to this tab of the app");
    schema(
        SMARTCOMM_SCHEMA,
        "SmartCommunicatorUser",
        "What only SmartCommunicator holds of an agent",
        profile_attributes(extension)
            .into_iter()
            .chain([
            with(
                text("roles", "member, manager or admin"),
                json!({"multiValued": true, "canonicalValues": ["member", "manager", "admin"]}),
            ),
            text(
                "messagingNumber",
                "The agent's messaging number, E.164; it can be given or moved, not taken away",
            ),
            text(
                "supervisedNumber",
                "The number of the agent's supervised inbox, E.164; it can be given or moved, not taken away",
            ),
            complex(
                "enabledServices",
                "The app tabs the agent may use",
                vec![
                    tab("messages"),
                    tab("supervisedInbox"),
                    tab("calls"),
                    tab("sharedInbox"),
                ],
            ),
        ])
        .collect(),
        base,
    )
}

fn group_schema(base: &str) -> Value {
    schema(
        GROUP_SCHEMA,
        "Group",
        "A shared inbox",
        vec![
            with(
                attribute("displayName", "string", "The group's name in the inbox map"),
                json!({"required": true, "uniqueness": "server"}),
            ),
            with(
                complex(
                    "members",
                    "The agents in the shared inbox",
                    vec![
                        with(
                            attribute("value", "string", "The member's id"),
                            json!({"mutability": "immutable"}),
                        ),
                        with(
                            attribute("display", "string", "The member's name"),
                            json!({"mutability": "readOnly"}),
                        ),
                        with(
                            attribute("$ref", "reference", "The member's URL"),
                            json!({"mutability": "immutable", "referenceTypes": ["User"]}),
                        ),
                    ],
                ),
                json!({"multiValued": true}),
            ),
        ],
        base,
    )
}
