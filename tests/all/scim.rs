//! The SCIM endpoint: the SCIM component in the host's server, over HTTP on loopback, in
//! front of the emulator. Entra ID's own sequence (Test Connection, match then create, both
//! PATCH forms, soft and hard delete, groups), the API's limits, bad input and faults.

use crate::common::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use smartcomm_emulator::{Emulator, FaultAction, FaultRule};
use smartcomm_host::{ScimOptions, ScimServer, types};
use std::sync::Arc;
use std::time::Duration;

pub const TOKEN: &str = "entra-secret-token-0123456789";
pub const TENANT: &str = "contoso-tenant";
pub const INBOX: &str = "Store 1234 Team";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const SMARTCOMM: &str = "urn:ietf:params:scim:schemas:extension:smartcommunicator:2.0:User";

/// An emulator, and a SCIM server in front of it on a free loopback port.
pub struct Bridge {
    pub emulator: Emulator,
    pub server: Arc<ScimServer>,
    pub base: String,
    /// The client's TLS, when the server speaks HTTPS.
    pub tls: Option<tokio_rustls::TlsConnector>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

/// Compiles the component into the disk cache once, before the tests' servers load it: in
/// a debug build, a compile per test takes seconds each.
fn warm_cache() {
    static WARM: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    WARM.get_or_init(|| {
        let config =
            smartcomm_host::Config::new("warm", smartcomm_host::Auth::Token("warm".into()));
        ScimServer::new(ScimOptions::default(), &config, Vec::new()).expect("it loads");
    });
}

pub async fn bridge_with(options: ScimOptions) -> Bridge {
    bridge_serving(options, json!({ INBOX: seeded_number(50) })).await
}

/// A bridge whose inbox map is `inboxes`.
pub async fn bridge_serving(options: ScimOptions, inboxes: Value) -> Bridge {
    bridge_speaking(options, inboxes, None).await
}

/// A bridge whose clients use `tls` (the server's certificate is in `options.tls`), or plain
/// HTTP. Its token is `TOKEN`, unless `options.token_file` names a file that holds it.
pub async fn bridge_speaking(
    options: ScimOptions,
    inboxes: Value,
    tls: Option<tokio_rustls::TlsConnector>,
) -> Bridge {
    tokio::task::spawn_blocking(warm_cache).await.unwrap();
    let emulator = emulator().await;
    let mut env = vec![
        ("SMARTCOMM_SCIM_TENANT_ID".to_string(), TENANT.to_string()),
        ("SMARTCOMM_SCIM_INBOXES".to_string(), inboxes.to_string()),
    ];
    if options.token_file.is_none() {
        env.push(("SMARTCOMM_SCIM_TOKEN".to_string(), TOKEN.to_string()));
    }
    let server = ScimServer::new(options, &config(&emulator, CUSTOMER), env).expect("it loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base = format!("{scheme}://{}/scim/v2", listener.local_addr().unwrap());
    let task = tokio::spawn({
        let server = server.clone();
        async move {
            let _ = server.serve(listener, std::future::pending()).await;
        }
    });
    Bridge {
        emulator,
        server,
        base,
        tls,
        task,
    }
}

pub async fn bridge() -> Bridge {
    bridge_with(ScimOptions::default()).await
}

impl Bridge {
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.send_as(method, path, body, Some(TOKEN)).await
    }

    pub async fn send_as(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Answer {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.send_raw(method, path, Bytes::from(body), token).await
    }

    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        body: Bytes,
        token: Option<&str>,
    ) -> Answer {
        let url: http::Uri = format!("{}{path}", self.base).parse().unwrap();
        let mut request = http::Request::builder()
            .method(method)
            .uri(url.path_and_query().unwrap().as_str())
            .header("content-type", "application/scim+json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.exchange(request, body).await
    }

    /// The server's `host:port`.
    pub fn authority(&self) -> String {
        let url: http::Uri = self.base.parse().unwrap();
        url.authority().unwrap().to_string()
    }

    /// Sends `request` (its path from the server's root) on a connection of its own.
    pub async fn exchange(&self, request: http::request::Builder, body: Bytes) -> Answer {
        let authority = self.authority();
        match &self.tls {
            None => exchange_at(&authority, request, body).await,
            Some(tls) => {
                let stream = crate::certificates::connect(tls, &authority).await;
                exchange_on(stream, &authority, request, body).await
            }
        }
    }

    /// The users-API requests the bridge sent (authenticate excluded).
    pub fn api_routes(&self) -> Vec<String> {
        api_requests(&self.emulator)
            .into_iter()
            .map(|r| r.route)
            .collect()
    }
}

/// Sends `request` (its path from the server's root) to the server at `authority`, on a
/// connection of its own.
pub async fn exchange_at(authority: &str, request: http::request::Builder, body: Bytes) -> Answer {
    let tcp = tokio::net::TcpStream::connect(authority).await.unwrap();
    exchange_on(tcp, authority, request, body).await
}

/// Sends `request` on `stream`, a connection to `authority`.
pub async fn exchange_on<S>(
    stream: S,
    authority: &str,
    request: http::request::Builder,
    body: Bytes,
) -> Answer
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = request.header("host", authority);
    let response = sender
        .send_request(request.body(Full::new(body)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = match bytes.is_empty() {
        true => Value::Null,
        false => serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes))),
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// A user id of the tests: an Entra object id, as every agent key of the bridge is.
pub fn uid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A create as Entra ID sends it, with the object id mapped to externalId.
pub fn entra_user(object_id: &str, upn: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": object_id,
        "userName": upn,
        "active": true,
        "displayName": "Ann Lee",
        "emails": [{"primary": true, "type": "work", "value": upn}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Ann Lee", "familyName": "Lee", "givenName": "Ann"},
        "addresses": null,
        "phoneNumbers": null,
        "roles": [],
        ENTERPRISE: {"department": "Front End"},
    })
}

fn filter(query: &str) -> String {
    format!(
        "/Users?filter={}",
        smartcomm::request::percent_encode(query)
    )
}

fn agent(bridge: &Bridge, id: &str) -> Option<smartcomm_emulator::AgentRecord> {
    bridge
        .emulator
        .account(CUSTOMER)
        .agents
        .into_iter()
        .find(|a| a.user_object_id == id)
}

#[tokio::test]
async fn test_connection_a_filter_on_a_random_id_is_an_empty_list() {
    let bridge = bridge().await;
    let answer = bridge
        .send(
            "GET",
            &filter(r#"userName eq "0e7b7f4c-5b6a-4f4e-9d5e-6f2c3e1a9b8d""#),
            None,
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["totalResults"], 0);
    assert_eq!(answer.body["Resources"], json!([]));
    assert_eq!(
        answer.headers["content-type"], "application/scim+json",
        "SCIM's media type"
    );
}

#[tokio::test]
async fn entra_matches_then_creates_a_user_that_becomes_an_agent_of_the_tenant() {
    let bridge = bridge().await;
    let object_id = "2819c223-7f76-453a-919d-413861904646";
    let lookup = bridge
        .send("GET", &filter(r#"userName eq "ann@contoso.example""#), None)
        .await;
    assert_eq!(lookup.body["totalResults"], 0);
    let created = bridge
        .send(
            "POST",
            "/Users",
            Some(entra_user(object_id, "ann@contoso.example")),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["id"], object_id);
    assert_eq!(
        created.headers["location"],
        format!("{}/Users/{object_id}", bridge.base).as_str()
    );
    let agent = agent(&bridge, object_id).expect("onboarded");
    assert_eq!(agent.tenant_id, TENANT);
    assert_eq!(agent.upn.as_deref(), Some("ann@contoso.example"));
    assert_eq!(agent.name, "Ann Lee");
    assert_eq!(agent.department.as_deref(), Some("Front End"));
    // Matched again by each of the attributes Entra may match on.
    for query in [
        r#"userName eq "ann@contoso.example""#.to_string(),
        format!("externalId eq {object_id}"),
        format!(r#"ID eq "{object_id}""#),
        r#"emails[type eq "work"].value eq "ann@contoso.example""#.to_string(),
        format!(r#"externalId eq "{object_id}" and userName eq "ann@contoso.example""#),
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ann@contoso.example""#
            .to_string(),
    ] {
        let found = bridge.send("GET", &filter(&query), None).await;
        assert_eq!(found.body["totalResults"], 1, "{query}: {}", found.body);
        assert_eq!(found.body["Resources"][0]["id"], object_id);
    }
    let both = format!(r#"externalId eq "{object_id}" and userName eq "other@x.example""#);
    assert_eq!(
        bridge.send("GET", &filter(&both), None).await.body["totalResults"],
        0
    );
}

#[tokio::test]
async fn both_patch_forms_update_the_agent_with_one_read_and_one_write() {
    let bridge = bridge().await;
    let id = &uid(1);
    assert_eq!(
        bridge
            .send("POST", "/Users", Some(entra_user(id, "p@x.example")))
            .await
            .status,
        201
    );
    bridge.emulator.clear_requests();
    let by_path = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "displayName", "value": "Pat Lee"},
            {"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Pharmacy"},
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "p@x.example"},
            {"op": "Add", "path": format!("{SMARTCOMM}:roles"), "value": ["manager"]},
        ]
    });
    let patched = bridge
        .send("PATCH", &format!("/Users/{id}"), Some(by_path))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["displayName"], "Pat Lee");
    assert_eq!(
        bridge.api_routes(),
        ["GET /agents/{id}", "PATCH /agents/{id}"]
    );
    let pathless = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {
            "name.givenName": "Patricia",
            "name.familyName": "Lee",
            format!("{ENTERPRISE}:employeeNumber"): "E-77",
            "addresses[type eq \"work\"].locality": "Denver",
            "active": "True",
        }}]
    });
    let patched = bridge
        .send("PATCH", &format!("/Users/{id}"), Some(pathless))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let agent = agent(&bridge, id).unwrap();
    assert_eq!(agent.name, "Patricia Lee");
    assert_eq!(agent.department.as_deref(), Some("Pharmacy"));
    assert_eq!(agent.consistency_id.as_deref(), Some("E-77"));
    assert_eq!(agent.city.as_deref(), Some("Denver"));
    assert!(
        agent.roles.contains(&smartcomm_emulator::Role::Manager),
        "{:?}",
        agent.roles
    );
}

#[tokio::test]
async fn a_soft_delete_deactivates_reads_back_disabled_and_reactivates() {
    let bridge = bridge().await;
    let id = &uid(2);
    bridge
        .send("POST", "/Users", Some(entra_user(id, "s@x.example")))
        .await;
    let disable = json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let answer = bridge
        .send("PATCH", &format!("/Users/{id}"), Some(disable))
        .await;
    assert_eq!(
        (answer.status, &answer.body["active"]),
        (200, &json!(false))
    );
    assert!(!agent(&bridge, id).unwrap().active);
    let read = bridge.send("GET", &format!("/Users/{id}"), None).await;
    assert_eq!((read.status, &read.body["active"]), (200, &json!(false)));
    let enable = json!({"Operations": [{"op": "replace", "value": {"active": true}}]});
    let answer = bridge
        .send("PATCH", &format!("/Users/{id}"), Some(enable))
        .await;
    assert_eq!(answer.body["active"], true);
    assert!(agent(&bridge, id).unwrap().active);
}

#[tokio::test]
async fn a_hard_delete_reads_then_offboards_then_the_user_is_gone() {
    let bridge = bridge().await;
    let id = &uid(3);
    bridge
        .send("POST", "/Users", Some(entra_user(id, "h@x.example")))
        .await;
    bridge.emulator.clear_requests();
    let deleted = bridge.send("DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        bridge.api_routes(),
        ["GET /agents/{id}", "DELETE /agents/{id}"]
    );
    assert!(agent(&bridge, id).is_none());
    let read = bridge.send("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(read.status, 404);
    assert_eq!(
        read.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(
        bridge
            .send("DELETE", &format!("/Users/{id}"), None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn an_agent_of_another_tenant_is_not_found_and_a_delete_leaves_it() {
    let bridge = bridge().await;
    let other = &uid(4);
    let mut session = runtime().session(config(&bridge.emulator, CUSTOMER));
    session
        .onboard_agents(vec![new_agent(other)], onboard_options(None))
        .await
        .unwrap();
    assert_ne!(agent(&bridge, other).unwrap().tenant_id, TENANT);
    bridge.emulator.clear_requests();
    for method in ["GET", "DELETE"] {
        let answer = bridge.send(method, &format!("/Users/{other}"), None).await;
        assert_eq!(answer.status, 404, "{method}: {:#}", answer.body);
    }
    assert_eq!(
        bridge.api_routes(),
        ["GET /agents/{id}", "GET /agents/{id}"]
    );
    assert!(agent(&bridge, other).is_some(), "still onboarded");
}

#[tokio::test]
async fn group_members_are_added_and_removed_both_ways_as_inbox_assignments() {
    let bridge = bridge().await;
    let [g1, g2, g3] = [uid(11), uid(12), uid(13)];
    for (id, upn) in [
        (&g1, "g1@x.example"),
        (&g2, "g2@x.example"),
        (&g3, "g3@x.example"),
    ] {
        assert_eq!(
            bridge
                .send("POST", "/Users", Some(entra_user(id, upn)))
                .await
                .status,
            201
        );
    }
    bridge.emulator.clear_requests();
    let query = format!(
        "/Groups?filter={}&excludedAttributes=members",
        smartcomm::request::percent_encode(&format!(r#"displayName eq "{INBOX}""#))
    );
    let found = bridge.send("GET", &query, None).await;
    assert_eq!(found.body["totalResults"], 1);
    assert!(found.body["Resources"][0].get("members").is_none());
    assert!(
        bridge.api_routes().is_empty(),
        "no API request for a group without members"
    );
    let id = found.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Entra re-sends the group's own displayName beside its member changes.
    let add = json!({"Operations": [
        {"op": "Replace", "path": "displayName", "value": INBOX.to_uppercase()},
        {"op": "Add", "path": "members", "value": [{"value": g1}, {"Value": g2}, {"value": g3}]},
    ]});
    let added = bridge
        .send("PATCH", &format!("/Groups/{id}"), Some(add))
        .await;
    assert_eq!(added.status, 204, "{:#}", added.body);
    let read = bridge.send("GET", &format!("/Groups/{id}"), None).await;
    assert_eq!(member_ids(&read), [g1.clone(), g2.clone(), g3.clone()]);
    let by_filter =
        json!({"Operations": [{"op": "remove", "path": format!("members[value eq \"{g1}\"]")}]});
    assert_eq!(
        bridge
            .send("PATCH", &format!("/Groups/{id}"), Some(by_filter))
            .await
            .status,
        204
    );
    let by_value =
        json!({"Operations": [{"op": "Remove", "path": "members", "value": [{"value": g2}]}]});
    assert_eq!(
        bridge
            .send("PATCH", &format!("/Groups/{id}"), Some(by_value))
            .await
            .status,
        204
    );
    assert_eq!(
        member_ids(&bridge.send("GET", &format!("/Groups/{id}"), None).await),
        [g3]
    );
    assert_eq!(
        bridge
            .send("DELETE", &format!("/Groups/{id}"), None)
            .await
            .status,
        204
    );
    let after = bridge.send("GET", &format!("/Groups/{id}"), None).await;
    assert_eq!(
        (after.status, member_ids(&after).len()),
        (200, 0),
        "the inbox stays, empty"
    );
    let unknown = bridge
        .send(
            "POST",
            "/Groups",
            Some(json!({"displayName": "Not mapped", "members": []})),
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.body["detail"]
            .as_str()
            .unwrap()
            .contains("Not mapped")
    );
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_one_agent_and_201() {
    let bridge = bridge().await;
    bridge.emulator.add_fault(FaultRule::new(
        "POST /agents",
        1,
        FaultAction::LostResponse { status: None },
    ));
    let created = bridge
        .send("POST", "/Users", Some(entra_user(&uid(5), "l@x.example")))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let agents = bridge.emulator.account(CUSTOMER).agents;
    assert_eq!(
        agents.iter().filter(|a| a.user_object_id == uid(5)).count(),
        1
    );
}

#[tokio::test]
async fn a_duplicate_create_is_a_409_and_nothing_is_duplicated() {
    let bridge = bridge().await;
    let body = entra_user(&uid(6), "d@x.example");
    assert_eq!(
        bridge
            .send("POST", "/Users", Some(body.clone()))
            .await
            .status,
        201
    );
    let again = bridge.send("POST", "/Users", Some(body)).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["scimType"], "uniqueness");
    assert_eq!(bridge.emulator.account(CUSTOMER).agents.len(), 1);
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_attribute_and_nothing_is_sent() {
    let bridge = bridge().await;
    let mut no_id = entra_user("x", "x@x.example");
    no_id.as_object_mut().unwrap().remove("externalId");
    let mut bad_number = entra_user(&uid(7), "y@x.example");
    bad_number[SMARTCOMM] = json!({"messagingNumber": "555-0100"});
    for (body, names) in [
        (no_id, "externalId"),
        (bad_number, "phone_number"),
        (
            json!({"externalId": uid(8), "userName": "z@x.example"}),
            "displayName",
        ),
    ] {
        let answer = bridge.send("POST", "/Users", Some(body)).await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert!(
            answer.body["detail"].as_str().unwrap().contains(names),
            "{}",
            answer.body
        );
    }
    let bad_filter = bridge.send("GET", &filter(r#"title co "x""#), None).await;
    assert_eq!(
        (bad_filter.status, &bad_filter.body["scimType"]),
        (400, &json!("invalidFilter"))
    );
    let many =
        json!({"Operations": vec![json!({"op": "add", "path": "displayName", "value": "a"}); 101]});
    let answer = bridge
        .send("PATCH", &format!("/Users/{}", uid(7)), Some(many))
        .await;
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("100 allowed"),
        "{}",
        answer.body
    );
    let huge = Bytes::from(vec![b' '; (1 << 20) + 10]);
    assert_eq!(
        bridge
            .send_raw("POST", "/Users", huge, Some(TOKEN))
            .await
            .status,
        413
    );
    assert!(
        bridge.emulator.requests().is_empty(),
        "nothing reached the API"
    );
}

#[tokio::test]
async fn without_the_right_token_every_request_is_a_401_and_nothing_is_sent() {
    let bridge = bridge().await;
    for token in [None, Some("wrong"), Some("entra-secret-token-012345678")] {
        let answer = bridge.send_as("GET", "/Users", None, token).await;
        assert_eq!(answer.status, 401, "{token:?}");
        assert_eq!(answer.body["status"], "401");
        assert_eq!(answer.headers["www-authenticate"], "Bearer", "RFC 6750");
    }
    let basic = http::Request::builder()
        .method("GET")
        .uri("/scim/v2/Users")
        .header("authorization", format!("Basic {TOKEN}"));
    assert_eq!(bridge.exchange(basic, Bytes::new()).await.status, 401);
    assert!(bridge.emulator.requests().is_empty());
}

#[tokio::test]
async fn many_scim_requests_share_one_authenticate() {
    let bridge = bridge().await;
    for i in 0..20 {
        let answer = bridge
            .send(
                "POST",
                "/Users",
                Some(entra_user(&uid(100 + i), &format!("a{i}@x.example"))),
            )
            .await;
        assert_eq!(answer.status, 201);
        bridge
            .send("GET", &format!("/Users/{}", uid(100 + i)), None)
            .await;
    }
    assert_eq!(authentications(&bridge.emulator), 1);
    assert_eq!(
        bridge.server.instances_made(),
        1,
        "one instance served them one after another"
    );
}

#[tokio::test]
async fn the_apis_throttling_is_a_429_with_retry_after() {
    let bridge = bridge().await;
    bridge.emulator.add_fault(FaultRule::new(
        "GET /agents",
        10,
        FaultAction::Status {
            status: 429,
            retry_after: Some("120".into()),
            body: None,
        },
    ));
    let answer = bridge.send("GET", "/Users", None).await;
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert_eq!(answer.headers["retry-after"], "120");
}

/// A SCIM request is one call of the client: at the request deadline the component stops
/// waiting for the API and answers itself, before the host's backstop.
#[tokio::test]
async fn a_request_past_its_deadline_is_a_503_with_retry_after_and_the_server_goes_on() {
    let bridge = bridge_with(ScimOptions {
        request_deadline: Duration::from_secs(1),
        ..ScimOptions::default()
    })
    .await;
    bridge
        .emulator
        .set_latency("GET /agents", Duration::from_secs(3));
    let slow = bridge.send("GET", "/Users", None).await;
    assert_eq!(slow.status, 503, "{}", slow.body);
    assert!(slow.headers.contains_key("retry-after"));
    assert!(
        slow.body["detail"]
            .as_str()
            .unwrap()
            .contains("ran out of time"),
        "{}",
        slow.body
    );
    bridge.emulator.set_latency("GET /agents", Duration::ZERO);
    let answer = bridge.send("GET", "/ServiceProviderConfig", None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["patch"]["supported"], true);
}

#[tokio::test]
async fn discovery_advertises_what_the_bridge_honours() {
    let bridge = bridge().await;
    let config = bridge
        .send("GET", "/ServiceProviderConfig", None)
        .await
        .body;
    assert_eq!(
        config["filter"],
        json!({"supported": true, "maxResults": 100})
    );
    for feature in ["bulk", "sort", "etag", "changePassword"] {
        assert_eq!(config[feature]["supported"], false, "{feature}");
    }
    assert_eq!(
        config["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
    let types = bridge.send("GET", "/ResourceTypes", None).await.body;
    assert_eq!(types["totalResults"], 2);
    let schemas = bridge.send("GET", "/Schemas", None).await.body;
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&SMARTCOMM), "{ids:?}");
}

/// The member ids a group answer lists, sorted.
pub fn member_ids(answer: &Answer) -> Vec<String> {
    let mut ids: Vec<String> = answer.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// The members of the mapped group's inbox, as the emulator holds them.
fn inbox_members(bridge: &Bridge) -> Vec<String> {
    let number = seeded_number(50);
    let mut ids: Vec<String> = bridge
        .emulator
        .account(CUSTOMER)
        .inboxes
        .into_iter()
        .find(|i| i.phone_number == number)
        .map(|i| i.members)
        .unwrap_or_default();
    ids.sort();
    ids
}

fn group_id() -> String {
    seeded_number(50).trim_start_matches('+').to_string()
}

/// A leaver's `active: false` is applied whatever else the request carries: beside clears of
/// what the API cannot clear (kept, and shown), beside an attribute the bridge refuses (a 400
/// that says the user was deactivated), and beside a change the API refuses.
#[tokio::test]
async fn a_leaver_never_stays_active() {
    let bridge = bridge().await;
    let ids = [uid(21), uid(22), uid(23)];
    for (i, id) in ids.iter().enumerate() {
        let created = bridge
            .send(
                "POST",
                "/Users",
                Some(entra_user(id, &format!("l{i}@x.example"))),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let path = |id: &str| format!("/Users/{id}");
    let deactivate = json!({"op": "Replace", "path": "active", "value": "False"});

    bridge.emulator.clear_requests();
    let clears = json!({"Operations": [
        {"op": "Remove", "path": format!("{ENTERPRISE}:department")},
        {"op": "Remove", "path": "name.familyName"},
        {"op": "Remove", "path": format!("{SMARTCOMM}:roles")},
        deactivate,
    ]});
    let answer = bridge.send("PATCH", &path(&ids[0]), Some(clears)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["active"], false);
    assert_eq!(
        answer.body[ENTERPRISE]["department"], "Front End",
        "kept, and shown"
    );
    assert_eq!(answer.body["displayName"], "Ann Lee");
    let leaver = agent(&bridge, &ids[0]).unwrap();
    assert!(!leaver.active);
    assert_eq!(leaver.department.as_deref(), Some("Front End"));
    assert_eq!(
        bridge.api_routes(),
        ["GET /agents/{id}", "PATCH /agents/{id}"]
    );

    let refused_beside = json!({"Operations": [
        {"op": "replace", "path": "nickNameX", "value": "Al"},
        deactivate,
    ]});
    let answer = bridge
        .send("PATCH", &path(&ids[1]), Some(refused_beside))
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let detail = answer.body["detail"].as_str().unwrap();
    assert!(detail.contains("nicknamex"), "{detail}");
    assert!(detail.contains("deactivated all the same"), "{detail}");
    assert!(!agent(&bridge, &ids[1]).unwrap().active);

    bridge.emulator.clear_requests();
    let unheld_number = json!({"Operations": [
        {"op": "replace", "path": format!("{SMARTCOMM}:messagingNumber"), "value": "+15559990000"},
        deactivate,
    ]});
    let answer = bridge
        .send("PATCH", &path(&ids[2]), Some(unheld_number))
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(!agent(&bridge, &ids[2]).unwrap().active);
    assert_eq!(
        bridge.api_routes(),
        [
            "GET /agents/{id}",
            "PATCH /agents/{id}",
            "PATCH /agents/{id}"
        ],
        "the refused update, then the deactivation alone"
    );

    // Without a deactivation, a refused request changes nothing.
    let still = uid(24);
    bridge
        .send("POST", "/Users", Some(entra_user(&still, "l4@x.example")))
        .await;
    bridge.emulator.clear_requests();
    let refused = json!({"Operations": [{"op": "replace", "path": "nickNameX", "value": "Al"}]});
    assert_eq!(
        bridge
            .send("PATCH", &path(&still), Some(refused))
            .await
            .status,
        400
    );
    assert!(
        bridge.emulator.requests().is_empty(),
        "nothing was read or sent"
    );
    assert!(agent(&bridge, &still).unwrap().active);
}

/// Entra's default mapping sends mailNickname as externalId: no agent is keyed by it, and the
/// answer names the mapping to fix.
#[tokio::test]
async fn an_external_id_that_is_not_an_entra_object_id_is_refused_naming_the_mapping() {
    let bridge = bridge().await;
    let created = bridge
        .send(
            "POST",
            "/Users",
            Some(entra_user("jyoung", "jyoung@x.example")),
        )
        .await;
    assert_eq!(created.status, 400, "{}", created.body);
    let detail = created.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("externalId \"jyoung\" is not an Entra object id"),
        "{detail}"
    );
    assert!(detail.contains("objectId → externalId"), "{detail}");
    for query in [r#"externalId eq "jyoung""#, "id eq jyoung"] {
        let listed = bridge.send("GET", &filter(query), None).await;
        assert_eq!(
            (listed.status, &listed.body["scimType"]),
            (400, &json!("invalidFilter")),
            "{query}: {}",
            listed.body
        );
        assert!(
            listed.body["detail"]
                .as_str()
                .unwrap()
                .contains("objectId → externalId")
        );
    }
    assert_eq!(bridge.send("GET", "/Users/jyoung", None).await.status, 404);
    assert!(bridge.emulator.requests().is_empty(), "nothing was sent");
    // An object id in capitals is the same key.
    let id = uid(31);
    let upper = bridge
        .send(
            "POST",
            "/Users",
            Some(entra_user(&id.to_uppercase(), "u@x.example")),
        )
        .await;
    assert_eq!((upper.status, &upper.body["id"]), (201, &json!(id)));
    let read = bridge
        .send("GET", &format!("/Users/{}", id.to_uppercase()), None)
        .await;
    assert_eq!(read.status, 200);
}

/// A group request names only agents of the bridge's tenant: another tenant's agent is
/// refused before anything is sent, and a replace leaves another tenant's member alone.
#[tokio::test]
async fn group_members_must_be_agents_of_the_tenant() {
    let bridge = bridge().await;
    let ours = uid(41);
    bridge
        .send("POST", "/Users", Some(entra_user(&ours, "ours@x.example")))
        .await;
    let theirs = uid(42);
    let mut session = runtime().session(config(&bridge.emulator, CUSTOMER));
    session
        .onboard_agents(vec![new_agent(&theirs)], onboard_options(None))
        .await
        .unwrap();
    let group = format!("/Groups/{}", group_id());
    bridge.emulator.clear_requests();
    for body in [
        json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": ours}, {"value": theirs}]}]}),
        json!({"Operations": [{"op": "replace", "path": "members", "value": [{"value": theirs}]}]}),
    ] {
        let refused = bridge.send("PATCH", &group, Some(body)).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(
            refused.body["detail"].as_str().unwrap().contains(&theirs),
            "{}",
            refused.body
        );
    }
    let put = json!({"displayName": INBOX, "members": [{"value": theirs}]});
    assert_eq!(bridge.send("PUT", &group, Some(put)).await.status, 400);
    assert_eq!(
        bridge.api_routes(),
        ["GET /agents", "GET /agents", "GET /agents"],
        "only the tenant's reads: nothing was sent"
    );
    // Another tenant's agent in the inbox (put there by other means) is neither shown nor
    // removed.
    let add = json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": ours}]}]});
    assert_eq!(bridge.send("PATCH", &group, Some(add)).await.status, 204);
    session
        .assign_inboxes(vec![types::Assignment {
            inbox: types::InboxRef {
                type_: types::InboxType::Shared,
                identifier: types::IdentifierKind::PhoneNumber,
                value: seeded_number(50),
            },
            agents: selector(types::IdentifierKind::UserObjectId, &[&theirs]),
            operation: types::AssignmentOperation::Add,
        }])
        .await
        .unwrap();
    let read = bridge.send("GET", &group, None).await;
    assert_eq!(
        read.body["members"].as_array().unwrap().len(),
        1,
        "{}",
        read.body
    );
    let emptied = bridge
        .send(
            "PUT",
            &group,
            Some(json!({"displayName": INBOX, "members": []})),
        )
        .await;
    assert_eq!(emptied.status, 200, "{}", emptied.body);
    assert_eq!(inbox_members(&bridge), [theirs]);
}

/// Two instances, each of which once read the tenant: a member added through one is removed
/// by a replace sent through the other, which computes it from a read of its own.
#[tokio::test]
async fn a_replace_through_another_instance_removes_a_member_added_through_the_first() {
    let bridge = bridge_with(ScimOptions {
        instances: 2,
        ..ScimOptions::default()
    })
    .await;
    let member = uid(51);
    bridge
        .send("POST", "/Users", Some(entra_user(&member, "m@x.example")))
        .await;
    let group = format!("/Groups/{}", group_id());
    // Both instances read the tenant's agents at once, for a group and for a page of users:
    // whatever either keeps of those reads, it keeps from before the member was added.
    bridge
        .emulator
        .set_latency("GET /agents", Duration::from_secs(2));
    for path in [group.as_str(), "/Users"] {
        let (a, b) = tokio::join!(
            bridge.send("GET", path, None),
            bridge.send("GET", path, None)
        );
        assert_eq!((a.status, b.status), (200, 200));
    }
    assert_eq!(bridge.server.instances_made(), 2);
    bridge.emulator.set_latency("GET /agents", Duration::ZERO);
    let add =
        json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": member}]}]});
    assert_eq!(bridge.send("PATCH", &group, Some(add)).await.status, 204);
    assert_eq!(inbox_members(&bridge), std::slice::from_ref(&member));
    assert_eq!(
        authentications(&bridge.emulator),
        2,
        "each instance fetched a token of its own"
    );
    // The instance that added the member is kept busy; the replace goes to the other one.
    bridge
        .emulator
        .set_latency("GET /agents/{id}", Duration::from_secs(2));
    bridge.emulator.clear_requests();
    let read = format!("/Users/{member}");
    let (busy, replaced) = tokio::join!(bridge.send("GET", &read, None), async {
        while bridge.emulator.requests().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bridge
            .send(
                "PUT",
                &group,
                Some(json!({"displayName": INBOX, "members": []})),
            )
            .await
    });
    assert_eq!(
        (busy.status, replaced.status),
        (200, 200),
        "{}",
        replaced.body
    );
    assert_eq!(bridge.server.instances_made(), 2);
    assert!(
        inbox_members(&bridge).is_empty(),
        "{:?}",
        inbox_members(&bridge)
    );
    assert_eq!(replaced.body["members"], json!([]));
}

/// The API requests of each SCIM operation, as docs/scim.md's table gives them.
#[tokio::test]
async fn each_scim_operation_sends_the_requests_the_docs_give() {
    let bridge = bridge().await;
    let (id, other) = (uid(61), uid(62));
    bridge.send("GET", &format!("/Users/{other}"), None).await; // the token first
    let group = format!("/Groups/{}", group_id());
    let members = |ids: &[&str]| -> Value { ids.iter().map(|id| json!({"value": id})).collect() };
    let department = json!({"Operations": [{"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Ops"}]});
    let mut replace = entra_user(&id, "c@x.example");
    replace["displayName"] = json!("Cy Lee");
    let cases: Vec<(&str, String, Option<Value>, &[&str])> = vec![
        (
            "GET",
            filter(r#"userName eq "c@x.example""#),
            None,
            // Nobody by the upn as written: the tenant, matched in any letter case.
            &["GET /agents", "GET /agents"],
        ),
        (
            "POST",
            "/Users".into(),
            Some(entra_user(&id, "c@x.example")),
            &["POST /agents"],
        ),
        (
            "POST",
            "/Users".into(),
            Some(entra_user(&other, "o@x.example")),
            &["POST /agents"],
        ),
        ("GET", format!("/Users/{id}"), None, &["GET /agents/{id}"]),
        ("GET", "/Users".into(), None, &["GET /agents"]),
        (
            "PATCH",
            format!("/Users/{id}"),
            Some(department),
            &["GET /agents/{id}", "PATCH /agents/{id}"],
        ),
        (
            "PUT",
            format!("/Users/{id}"),
            Some(replace),
            &["GET /agents/{id}", "PATCH /agents/{id}"],
        ),
        (
            "GET",
            "/Groups?excludedAttributes=members".into(),
            None,
            &[],
        ),
        ("GET", group.clone(), None, &["GET /agents"]),
        (
            "PATCH",
            group.clone(),
            Some(
                json!({"Operations": [{"op": "add", "path": "members", "value": members(&[&id])}]}),
            ),
            &["GET /agents", "POST /inboxes/assignments", "POST /inboxes"],
        ),
        (
            "PATCH",
            group.clone(),
            Some(
                json!({"Operations": [{"op": "replace", "value": {"id": group_id(), "displayName": INBOX}}]}),
            ),
            &[],
        ),
        (
            "PUT",
            group.clone(),
            Some(json!({"displayName": INBOX, "members": members(&[&other])})),
            &[
                "GET /agents",
                "POST /inboxes/assignments",
                "POST /inboxes/assignments",
            ],
        ),
        (
            "DELETE",
            group.clone(),
            None,
            &["GET /agents", "POST /inboxes/assignments"],
        ),
        (
            "DELETE",
            format!("/Users/{id}"),
            None,
            &["GET /agents/{id}", "DELETE /agents/{id}"],
        ),
    ];
    for (method, path, body, expected) in cases {
        bridge.emulator.clear_requests();
        let answer = bridge.send(method, &path, body).await;
        assert!(
            answer.status < 300,
            "{method} {path}: {} {}",
            answer.status,
            answer.body
        );
        println!(
            "scim: {method} {path} → {}: {:?}",
            answer.status,
            bridge.api_routes()
        );
        assert_eq!(bridge.api_routes(), expected, "{method} {path}");
    }
}

/// The API is asked for the tenant's agents only, and what it answers is checked: an agent of
/// another tenant in its answer is neither a user found nor a group's member.
#[tokio::test]
async fn an_agent_of_another_tenant_in_an_answer_is_left_out() {
    let bridge = bridge().await;
    let stranger = json!([{
        "user_object_id": uid(71),
        "tenant_id": "another-tenant",
        "name": "Stranger",
        "upn": "stranger@x.example",
        "shared_inbox": [{"phone_number": seeded_number(50)}],
    }]);
    bridge.emulator.add_fault(FaultRule::new(
        "GET /agents",
        3,
        FaultAction::Status {
            status: 200,
            retry_after: None,
            body: Some(stranger),
        },
    ));
    for path in [
        filter(r#"userName eq "stranger@x.example""#),
        "/Users".to_string(),
    ] {
        let listed = bridge.send("GET", &path, None).await;
        assert_eq!(
            (listed.status, &listed.body["totalResults"]),
            (200, &json!(0)),
            "{path}: {}",
            listed.body
        );
    }
    let group = bridge
        .send("GET", &format!("/Groups/{}", group_id()), None)
        .await;
    assert_eq!(group.body["members"], json!([]), "{}", group.body);
    assert_eq!(
        bridge.api_routes(),
        ["GET /agents", "GET /agents", "GET /agents"]
    );
}
