//! The emulator's control API over HTTP, and each fault it injects as the component sees it.

use crate::common::*;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{Value, json};
use smartcomm_emulator::{Emulator, FaultAction, FaultRule};
use smartcomm_host::{CallError, Runtime, RuntimeOptions, types};
use std::time::Duration;

/// One plain HTTP/1 exchange with the emulator.
async fn http(emulator: &Emulator, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    http_with_token(emulator, None, method, path, body).await
}

/// The same, with `Authorization: Bearer <token>` when given.
async fn http_with_token(
    emulator: &Emulator,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let stream = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", emulator.addr().to_string())
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_control_api_sets_faults_latency_and_numbers_and_shows_state_and_requests() {
    let emulator = crate::common::emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.retry.max_attempts = 1;
    let mut session = runtime().session(config);
    let (status, _) = http(
        &emulator,
        "POST",
        "/__emulator/faults",
        Some(json!({"route": "GET /numbers", "times": 1, "action": {"kind": "status", "status": 503, "retry_after": "2"}})),
    )
    .await;
    assert_eq!(status, 200);
    match session.list_numbers(None, None).await {
        Err(CallError::Api(types::Error::ServerError(e))) => assert_eq!(e.status, 503),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        session.list_numbers(None, None).await.unwrap().len(),
        100,
        "the fault was used up"
    );

    let (status, _) = http(
        &emulator,
        "POST",
        "/__emulator/numbers",
        Some(json!({"customer_id": CUSTOMER, "numbers": ["+19995550000"]})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        session
            .list_numbers(None, Some("9995550000".into()))
            .await
            .unwrap()
            .len(),
        1
    );

    let (_, requests) = http(&emulator, "GET", "/__emulator/requests", None).await;
    let routes: Vec<&str> = requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["route"].as_str().unwrap())
        .collect();
    assert_eq!(
        routes,
        [
            "POST /rest/v1/authenticate",
            "GET /numbers",
            "GET /numbers",
            "GET /numbers"
        ]
    );
    assert_eq!(requests[0]["body"]["password"], "<redacted>");

    session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await
        .unwrap();
    let (_, state) = http(&emulator, "GET", "/__emulator/state", None).await;
    assert_eq!(
        state["customers"][CUSTOMER]["agents"][0]["user_object_id"],
        "a"
    );

    let (status, _) = http(
        &emulator,
        "PUT",
        "/__emulator/latency",
        Some(json!({"route": "*", "ms": 150})),
    )
    .await;
    assert_eq!(status, 200);
    let started = std::time::Instant::now();
    session.list_numbers(None, None).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));

    http(&emulator, "POST", "/__emulator/revoke-tokens", None).await;
    let (status, _) = http(&emulator, "POST", "/__emulator/reset", None).await;
    assert_eq!(status, 200);
    assert!(emulator.requests().is_empty());
    assert!(emulator.account(CUSTOMER).agents.is_empty());
    let (status, _) = http(
        &emulator,
        "POST",
        "/__emulator/faults",
        Some(json!({"route": "*"})),
    )
    .await;
    assert_eq!(status, 400, "a malformed rule is refused");
}

#[tokio::test]
async fn users_api_requests_without_a_valid_token_get_401() {
    let emulator = emulator().await;
    let (status, body) = http(&emulator, "GET", &format!("/{CUSTOMER}/numbers"), None).await;
    assert_eq!((status, body), (401, json!({"message": "Unauthorized"})));
    let (status, _) = http(
        &emulator,
        "POST",
        "/rest/v1/authenticate",
        Some(json!({"username": emulator.username(), "password": "wrong"})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = http(
        &emulator,
        "POST",
        "/rest/v1/authenticate",
        Some(json!({"username": emulator.username(), "password": emulator.password()})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["data"].as_str().unwrap().split('.').count() == 3);
}

/// Onboards one agent through `action`, with retries off so each fault shows as it arrives.
async fn with_fault(action: FaultAction) -> (Emulator, Result<Vec<types::ItemOutcome>, CallError>) {
    let emulator = crate::common::emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.retry.max_attempts = 1;
    let mut session = runtime().session(config);
    session.authenticate().await.unwrap();
    emulator.add_fault(FaultRule::new("POST /agents", 1, action));
    let result = session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await;
    (emulator, result)
}

fn failed_with(result: &Result<Vec<types::ItemOutcome>, CallError>) -> types::Error {
    match result {
        Ok(outcomes) => match &outcomes[0] {
            types::ItemOutcome::Failed(e) => e.clone(),
            other => panic!("{other:?}"),
        },
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn without_retries_faults_reach_the_caller_as_typed_failures_with_or_without_the_change_applied()
 {
    let (emulator, result) = with_fault(FaultAction::Drop).await;
    assert!(matches!(failed_with(&result), types::Error::Transport(_)));
    assert!(emulator.account(CUSTOMER).agents.is_empty());

    let (emulator, result) = with_fault(FaultAction::Html { status: 502 }).await;
    assert!(
        matches!(failed_with(&result), types::Error::ServerError(e) if e.status == 502 && e.message.contains("Bad Gateway"))
    );
    assert!(emulator.account(CUSTOMER).agents.is_empty());

    let (_, result) = with_fault(FaultAction::Empty { status: 400 }).await;
    assert!(
        matches!(failed_with(&result), types::Error::UnexpectedResponse(u) if u.status == 400 && u.body_excerpt.is_empty())
    );

    let over_the_default_limit = smartcomm::config::DEFAULT_MAX_RESPONSE_BYTES as usize + (1 << 20);
    let (_, result) = with_fault(FaultAction::Oversized {
        bytes: over_the_default_limit,
    })
    .await;
    assert!(
        matches!(failed_with(&result), types::Error::UnexpectedResponse(u) if u.body_excerpt.contains("exceeds"))
    );

    let (emulator, result) = with_fault(FaultAction::Truncate).await;
    assert!(
        matches!(failed_with(&result), types::Error::Transport(_)),
        "{result:?}"
    );
    assert_eq!(
        emulator.account(CUSTOMER).agents.len(),
        1,
        "applied before the answer broke"
    );

    let (emulator, result) = with_fault(FaultAction::LostResponse { status: Some(504) }).await;
    assert!(matches!(failed_with(&result), types::Error::ServerError(e) if e.status == 504));
    assert_eq!(emulator.account(CUSTOMER).agents.len(), 1);

    let (emulator, result) = with_fault(FaultAction::LostResponse { status: None }).await;
    assert!(matches!(failed_with(&result), types::Error::Transport(_)));
    assert_eq!(emulator.account(CUSTOMER).agents.len(), 1);

    let (_, result) = with_fault(FaultAction::Status {
        status: 429,
        retry_after: Some("7".into()),
        body: None,
    })
    .await;
    assert_eq!(
        failed_with(&result),
        types::Error::RateLimited(types::RateLimit {
            retry_after: Some(7),
            attempts: 1
        })
    );
}

#[tokio::test]
async fn a_first_byte_slower_than_the_response_timeout_is_a_timeout() {
    let runtime = Runtime::new(RuntimeOptions {
        response_timeout: Duration::from_millis(200),
        ..Default::default()
    })
    .unwrap();
    let emulator = crate::common::emulator().await;
    let mut session = runtime.session(config(&emulator, CUSTOMER));
    session.authenticate().await.unwrap();
    emulator.add_fault(FaultRule::new(
        "GET /agents/{id}",
        3,
        FaultAction::Delay { ms: 2000 },
    ));
    // A read is safe to repeat: all three attempts time out.
    match session.get_agent("a".into(), None, None).await {
        Err(CallError::Api(types::Error::Timeout(failure))) => assert_eq!(failure.attempts, 3),
        other => panic!("{other:?}"),
    }
}

/// The reference's request examples, sent as printed, get the answers the reference prints.
#[tokio::test]
async fn reference_examples_get_the_documented_answers() {
    let emulator = crate::common::emulator().await;
    emulator.add_numbers(CUSTOMER, &["+1234567890".into(), "+1234567891".into()]);
    let token = emulator.issue_token();
    let call = async |method: &str, path: String, body: Option<Value>| {
        http_with_token(&emulator, Some(&token), method, &path, body).await
    };
    let onboard = json!([{
        "user_object_id": "17c528d0-dcfa-49bf-bb2b-8955bf377e5a",
        "tenant_id": "80573892-bfe7-40c8-bd85-2b479110b2df",
        "name": "Agent name",
        "upn": "agent.email@domain.com",
        "consistency_id": "customer-defined-id-123",
        "brand_name": "Company name",
        "department": "Sales",
        "region": "US-East",
        "state": "CA",
        "district": "90210",
        "store": "1234",
        "city": "Los Angeles",
        "zip_code": "90210",
        "roles": ["member", "manager"],
        "number_provisioning": [
            {"type": "supervised", "phone_number": "+1234567890",
             "supervisors": {"identifier": "user_object_id", "values": ["17c528d0-dcfa-49bf-bb2b-8955bf377e5a"]}},
            {"type": "messaging", "phone_number": "+1234567891"}
        ],
        "enabled_services": {"messages": true, "supervisedInbox": true, "calls": true, "sharedInbox": true}
    }]);
    let agents = format!("/{CUSTOMER}/agents");
    assert_eq!(
        call("POST", agents.clone(), Some(onboard.clone())).await,
        (
            200,
            json!({"message": "Onboarded successfully", "errors": []})
        )
    );
    assert_eq!(
        call("POST", agents.clone(), Some(onboard)).await,
        (
            400,
            json!({"message": "Onboarding failed", "errors": [
                {"itemIndex": 0, "errors": ["An agent with the same user_object_id already exists"]}
            ]})
        )
    );
    let (status, agent) = call(
        "GET",
        format!("{agents}/17c528d0-dcfa-49bf-bb2b-8955bf377e5a"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(agent["zip_code"], "90210");
    assert_eq!(agent["roles"], json!(["member", "manager"]));
    assert_eq!(
        agent["phone_number"],
        json!([{"type": "messaging", "value": "+1234567891"}, {"type": "supervised", "value": "+1234567890"}])
    );
    assert_eq!(agent["status"], "active");
    assert_eq!(agent["active"], true);
    assert_eq!(
        call(
            "GET",
            format!("{agents}/64b50f0f-aea3-4251-9e58-6e56b234ddf1"),
            None
        )
        .await,
        (
            404,
            json!({"status": "error", "message": "object not found"})
        )
    );

    let bulk = json!([{
        "target": {"identifier": "user_object_id", "value": "17c528d0-dcfa-49bf-bb2b-8955bf377e5a"},
        "updates": {
            "user_object_id": "6409c0b8-cfb8-4f18-accf-f44184a299c3",
            "upn": "agent.email@domain.com",
            "department": "Sales",
            "roles": {"assign": ["admin"], "remove": ["manager"]},
            "active": "true",
            "phone_number": [{"type": "messaging", "value": "+1234567891"}],
            "enabled_services": {"messages": true, "supervisedInbox": true, "calls": true, "sharedInbox": true}
        }
    }]);
    let (status, updated) = call("PATCH", agents.clone(), Some(bulk)).await;
    assert_eq!(
        (status, &updated["message"]),
        (200, &json!("Updated successfully"))
    );
    assert_eq!(updated["result"][0]["itemIndex"], 0);
    assert_eq!(
        updated["result"][0]["user_object_id"],
        "6409c0b8-cfb8-4f18-accf-f44184a299c3"
    );
    assert_eq!(updated["result"][0]["roles"], json!(["member", "admin"]));

    assert_eq!(
        call(
            "DELETE",
            format!("{agents}/5f7ca4beb854df0ac6b8bee1?key_id=id"),
            None
        )
        .await,
        (
            400,
            json!({"message": "Unsuccessful offboarding", "errors": ["Agent not found"]})
        )
    );
    let offboard = json!([{"identifier": "user_object_id",
        "value": ["17c528d0-dcfa-49bf-bb2b-8955bf377e5a", "17c528d0-dcfa-49bf-bb2b-8955bf377e5b"]}]);
    assert_eq!(
        call("POST", format!("{agents}/offboard"), Some(offboard)).await,
        (
            400,
            json!({"message": "Offboarding failed", "errors": [
                {"itemIndex": 0, "errors": [
                    "Azure Object ID is not registered with SmartCommunicator",
                    "Azure Object ID is not registered with SmartCommunicator"
                ]}
            ]})
        )
    );
    let assignment = json!([{"inbox": {"type": "shared", "identifier": "phone_number", "value": "+1234567899"},
        "agents": {"identifier": "user_object_id", "values": ["6409c0b8-cfb8-4f18-accf-f44184a299c3"]},
        "operation": "add"}]);
    assert_eq!(
        call(
            "POST",
            format!("/{CUSTOMER}/inboxes/assignments"),
            Some(assignment)
        )
        .await,
        (
            400,
            json!({"message": "Assignment failed", "errors": [{"itemIndex": 0, "errors": ["Target inbox not found"]}]})
        )
    );
    let (status, numbers) = call("GET", format!("/{CUSTOMER}/numbers?status=assigned"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        numbers[0],
        json!({"number": "+1234567890", "status": "assigned", "assignedTo": {
            "name": "Agent name", "user_object_id": "6409c0b8-cfb8-4f18-accf-f44184a299c3",
            "upn": "agent.email@domain.com", "consistency_id": "customer-defined-id-123"}})
    );
    let (status, batch_error) = call("POST", agents, Some(json!(vec![json!({}); 11]))).await;
    assert_eq!(status, 400);
    assert_eq!(
        batch_error["errors"],
        json!(["Batch operations are limited to 10 items per request"])
    );
}
