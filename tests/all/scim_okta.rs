//! Okta's provisioning, replayed from the requests Okta's SCIM 2.0 reference prints
//! (`tests/fixtures/okta`), against the SCIM endpoint in front of the emulator: the match
//! and the create (whose `password` is dropped), an import, a custom app's profile update
//! and deactivation as a PUT of the whole user, an OIN app's deactivation and activation as
//! PATCH, and group push.

use crate::common::*;
use crate::scim::{Answer, Bridge, TENANT, bridge_serving, member_ids};
use bytes::Bytes;
use serde_json::{Value, json};
use smartcomm_host::ScimOptions;
use std::path::PathBuf;

/// Okta's example users, as the ids an Okta app mapped to the Entra object id sends.
const USER: &str = "23a35c27-23d3-4c03-b4c5-6443c09e7173";
const OTHER_USER: &str = "89bb1940-b905-4575-9e7f-6f887cfb368e";
/// Okta's example group id: Okta sends the id the bridge answered with in its place.
const OKTA_GROUP_ID: &str = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b";
const GROUP: &str = "Test SCIMv2";
/// The password of Okta's create.
const PASSWORD: &str = "1mz050nq";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/okta")
}

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The documented request line that starts with `method` and contains `part`.
fn request_line(method: &str, part: &str) -> String {
    let lines = std::fs::read_to_string(fixtures().join("requests.txt")).unwrap();
    lines
        .lines()
        .filter_map(|line| line.split_once(' '))
        .find(|(m, path)| *m == method && path.contains(part))
        .map(|(_, path)| path.to_string())
        .unwrap_or_else(|| panic!("no {method} …{part}… in requests.txt"))
}

/// The documented create, with `externalId` as an Okta app mapped to the Entra object id
/// sends it.
fn mapped_create(external_id: &str) -> Value {
    let mut body = fixture("create-user.json");
    body["externalId"] = json!(external_id);
    body["userName"] = json!(format!("{external_id}@okta.local"));
    body
}

/// Sends a request as Okta does (its User-Agent), its path from the server's root.
async fn okta(bridge: &Bridge, method: &str, path: &str, body: Option<Value>) -> Answer {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("user-agent", "Okta SCIM Client 1.0.0")
        .header("authorization", format!("Bearer {}", crate::scim::TOKEN))
        .header("content-type", "application/scim+json");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    bridge.exchange(request, Bytes::from(body)).await
}

async fn okta_bridge() -> Bridge {
    bridge_serving(ScimOptions::default(), json!({ GROUP: seeded_number(60) })).await
}

fn writes(bridge: &Bridge) -> Vec<String> {
    bridge
        .api_routes()
        .into_iter()
        .filter(|r| !r.starts_with("GET "))
        .collect()
}

#[tokio::test]
async fn okta_matches_then_creates_and_the_password_is_never_kept_or_echoed() {
    let bridge = okta_bridge().await;
    let lookup = request_line("GET", "filter=userName");
    let none = okta(&bridge, "GET", &lookup, None).await;
    assert_eq!(none.status, 200, "{}", none.body);
    for field in ["totalResults", "startIndex", "itemsPerPage"] {
        assert!(
            none.body[field].is_u64(),
            "{field} is an integer: {}",
            none.body
        );
    }
    assert_eq!(none.body["totalResults"], 0);

    // Okta's own user id as externalId, as Okta sends unless mapped, and no externalId at all:
    // each refused, naming the mapping, with nothing sent.
    bridge.emulator.clear_requests();
    for body in [
        fixture("create-user.json"),
        fixture("create-user-custom-attributes.json"),
    ] {
        let refused = okta(&bridge, "POST", "/scim/v2/Users", Some(body)).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        let detail = refused.body["detail"].as_str().unwrap();
        assert!(detail.contains("externalId"), "{detail}");
        assert!(detail.contains("Okta: a profile attribute"), "{detail}");
        assert!(!refused.body.to_string().contains(PASSWORD));
    }
    assert!(bridge.emulator.requests().is_empty(), "nothing was sent");

    let mut created_body = fixture("create-user.json");
    created_body["externalId"] = json!(USER);
    let created = okta(&bridge, "POST", "/scim/v2/Users", Some(created_body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["id"], USER);
    assert_eq!(created.body["userName"], "test.user@okta.local");
    assert!(
        !created.body.to_string().contains(PASSWORD),
        "{}",
        created.body
    );
    assert_eq!(writes(&bridge), ["POST /agents"]);
    let sent = bridge.emulator.requests();
    assert!(
        sent.iter().all(|r| !r.body.to_string().contains(PASSWORD)),
        "the password was sent: {sent:?}"
    );
    let agent = bridge
        .emulator
        .account(CUSTOMER)
        .agents
        .into_iter()
        .find(|a| a.user_object_id == USER)
        .expect("onboarded");
    assert_eq!(
        (agent.name.as_str(), agent.tenant_id.as_str()),
        ("Test User", TENANT)
    );

    let found = okta(&bridge, "GET", &lookup, None).await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    let import = okta(
        &bridge,
        "GET",
        &request_line("GET", "Users?startIndex"),
        None,
    )
    .await;
    assert_eq!(
        (import.status, &import.body["totalResults"]),
        (200, &json!(1))
    );
    let read = okta(&bridge, "GET", &request_line("GET", USER), None).await;
    assert_eq!((read.status, &read.body["id"]), (200, &json!(USER)));
    let again = okta(&bridge, "POST", "/scim/v2/Users", Some(mapped_create(USER))).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(
        again.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
}

/// A custom app (made with the App Integration Wizard) sends every update as a GET and then a
/// PUT of the whole user as Okta knows it, deactivation included; Okta leaves out what it does
/// not hold, here the department the agent has.
#[tokio::test]
async fn a_custom_app_updates_and_deactivates_with_a_put_that_leaves_out_the_department() {
    let bridge = okta_bridge().await;
    let mut created = fixture("create-user.json");
    created["externalId"] = json!(USER);
    created[ENTERPRISE] = json!({"department": "Front End"});
    let answer = okta(&bridge, "POST", "/scim/v2/Users", Some(created)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let path = request_line("GET", USER);

    bridge.emulator.clear_requests();
    assert_eq!(okta(&bridge, "GET", &path, None).await.status, 200);
    let updated = okta(&bridge, "PUT", &path, Some(fixture("put-user.json"))).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["displayName"], "Another User");
    assert_eq!(updated.body[ENTERPRISE]["department"], "Front End");
    assert_eq!(
        bridge.api_routes(),
        ["GET /agents/{id}", "GET /agents/{id}", "PATCH /agents/{id}"]
    );

    let mut deactivation = fixture("put-user.json");
    deactivation["active"] = json!(false);
    let deactivated = okta(&bridge, "PUT", &path, Some(deactivation.clone())).await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.body);
    assert_eq!(deactivated.body["active"], false);
    assert_eq!(
        deactivated.body[ENTERPRISE]["department"], "Front End",
        "the answer shows the department kept"
    );
    let agent = |bridge: &Bridge| {
        bridge
            .emulator
            .account(CUSTOMER)
            .agents
            .into_iter()
            .find(|a| a.user_object_id == USER)
            .unwrap()
    };
    assert!(!agent(&bridge).active);
    assert_eq!(agent(&bridge).department.as_deref(), Some("Front End"));

    deactivation["active"] = json!(true);
    let reactivated = okta(&bridge, "PUT", &path, Some(deactivation)).await;
    assert_eq!(
        (reactivated.status, &reactivated.body["active"]),
        (200, &json!(true))
    );
    assert!(agent(&bridge).active);
}

/// An OIN app sends profile changes as PUT, and activation and deactivation as PATCH.
#[tokio::test]
async fn an_oin_app_deactivates_and_activates_with_patch() {
    let bridge = okta_bridge().await;
    let created = okta(&bridge, "POST", "/scim/v2/Users", Some(mapped_create(USER))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let path = request_line("GET", USER);
    let deactivate = fixture("patch-user-deactivate.json");
    let deactivated = okta(&bridge, "PATCH", &path, Some(deactivate.clone())).await;
    assert_eq!(
        (deactivated.status, &deactivated.body["active"]),
        (200, &json!(false)),
        "{}",
        deactivated.body
    );
    let mut activate = deactivate;
    activate["Operations"][0]["value"]["active"] = json!(true);
    let activated = okta(&bridge, "PATCH", &path, Some(activate)).await;
    assert_eq!(
        (activated.status, &activated.body["active"]),
        (200, &json!(true))
    );
}

/// `Test SCIMv2` pushed: created, found by name, its members pushed whole, changed with the
/// OIN app's `replace` of its `id` and `displayName` beside a remove and an add, replaced
/// whole by a custom app's PUT, listed, and deleted.
#[tokio::test]
async fn group_push_as_okta_documents_it() {
    let bridge = okta_bridge().await;
    for id in [USER, OTHER_USER] {
        let created = okta(&bridge, "POST", "/scim/v2/Users", Some(mapped_create(id))).await;
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let created = okta(
        &bridge,
        "POST",
        "/scim/v2/Groups",
        Some(fixture("create-group.json")),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["members"], json!([]));
    let id = created.body["id"].as_str().unwrap().to_string();
    // Okta sends the bridge's id wherever its reference prints its example's.
    let ours = |text: &str| text.replace(OKTA_GROUP_ID, &id);
    let ours_json =
        |name: &str| -> Value { serde_json::from_str(&ours(&fixture(name).to_string())).unwrap() };
    let group_path = ours(&request_line("GET", OKTA_GROUP_ID));

    let found = okta(
        &bridge,
        "GET",
        &request_line("GET", "filter=displayName"),
        None,
    )
    .await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());

    let pushed = okta(
        &bridge,
        "PATCH",
        &group_path,
        Some(fixture("patch-group-replace-members.json")),
    )
    .await;
    assert!(matches!(pushed.status, 200 | 204), "{}", pushed.body);
    let read = okta(&bridge, "GET", &group_path, None).await;
    assert_eq!(member_ids(&read), [USER, OTHER_USER]);

    for name in ["patch-group-name.json", "patch-group-members.json"] {
        let answer = okta(&bridge, "PATCH", &group_path, Some(ours_json(name))).await;
        assert!(
            matches!(answer.status, 200 | 204),
            "{name}: {}",
            answer.body
        );
    }
    let read = okta(&bridge, "GET", &group_path, None).await;
    assert_eq!(member_ids(&read), [USER]);

    let replaced = okta(&bridge, "PUT", &group_path, Some(fixture("put-group.json"))).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(member_ids(&replaced), [USER]);
    let listed = okta(
        &bridge,
        "GET",
        &request_line("GET", "Groups?startIndex"),
        None,
    )
    .await;
    assert_eq!(listed.body["totalResults"], 1);

    let deleted = okta(
        &bridge,
        "DELETE",
        &ours(&request_line("DELETE", "Groups")),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert!(member_ids(&okta(&bridge, "GET", &group_path, None).await).is_empty());
}

#[tokio::test]
async fn a_username_filter_finds_its_user_in_any_letter_case() {
    let bridge = okta_bridge().await;
    let created = okta(&bridge, "POST", "/scim/v2/Users", Some(mapped_create(USER))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    // userName is not case-exact: Okta checks that a match in other letters finds the user.
    let shouted = format!("{USER}@OKTA.LOCAL").to_uppercase();
    let lookup = format!("/scim/v2/Users?filter=userName%20eq%20%22{shouted}%22");
    let found = okta(&bridge, "GET", &lookup, None).await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    assert_eq!(found.body["Resources"][0]["id"], USER);
}
