use crate::batch::Outcome;
use crate::client::*;
use crate::config::*;
use crate::error::ApiError;
use crate::model::*;
use crate::request::Method;
use crate::response::RawResponse;
use crate::transport::*;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

/// Answers from a script and records what was sent. An answer may take time on the scripted
/// clock (`then_late`).
struct Scripted {
    answers: RefCell<VecDeque<(u64, Result<RawResponse, ApiError>)>>,
    sent: RefCell<Vec<HttpRequest>>,
    now: u64,
    clock_ms: Cell<u64>,
    sleeps: RefCell<Vec<u64>>,
}

fn run<F: Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

impl Scripted {
    fn new(answers: Vec<(u16, &str)>) -> Self {
        Scripted {
            answers: RefCell::new(
                answers
                    .into_iter()
                    .map(|(status, body)| (0, Ok(RawResponse::json_answer(status, body))))
                    .collect(),
            ),
            sent: RefCell::default(),
            now: 1_000,
            clock_ms: Cell::new(0),
            sleeps: RefCell::default(),
        }
    }

    fn then(self, answer: Result<RawResponse, ApiError>) -> Self {
        self.then_late(0, answer)
    }

    /// An answer that comes `ms` after its request was sent.
    fn then_late(self, ms: u64, answer: Result<RawResponse, ApiError>) -> Self {
        self.answers.borrow_mut().push_back((ms, answer));
        self
    }

    fn with_retry_after(self, index: usize, value: &str) -> Self {
        if let Some((_, Ok(r))) = self.answers.borrow_mut().get_mut(index) {
            r.retry_after = Some(value.into());
        }
        self
    }

    fn sent(&self) -> Vec<HttpRequest> {
        self.sent.borrow().clone()
    }

    fn sleeps(&self) -> Vec<u64> {
        self.sleeps.borrow().clone()
    }
}

impl Transport for Scripted {
    async fn send(&self, request: &HttpRequest) -> Result<RawResponse, ApiError> {
        self.sent.borrow_mut().push(request.clone());
        let (late, answer) = self
            .answers
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| (0, Err(ApiError::transport("script exhausted"))));
        self.clock_ms.set(self.clock_ms.get() + late);
        answer
    }

    fn now_unix(&self) -> u64 {
        self.now
    }

    fn now_ms(&self) -> u64 {
        self.clock_ms.get()
    }

    async fn sleep_ms(&self, ms: u64) {
        self.sleeps.borrow_mut().push(ms);
        self.clock_ms.set(self.clock_ms.get() + ms);
    }

    /// On the scripted clock, a deadline passes when sleeps move the clock past it.
    fn deadline(&self, at_ms: u64) -> impl Future<Output = ()> {
        std::future::poll_fn(move |_| match self.clock_ms.get() >= at_ms {
            true => std::task::Poll::Ready(()),
            false => std::task::Poll::Pending,
        })
    }

    fn random_up_to(&self, max: u64) -> u64 {
        max
    }
}

/// A JWT whose payload is `{"exp": exp}` (the signature is not read).
fn jwt(exp: u64) -> String {
    fn b64(input: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in input.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |acc, b| (acc << 8) | *b as u32) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
    format!(
        "{}.{}.sig",
        b64(br#"{"alg":"none"}"#),
        b64(format!(r#"{{"exp":{exp}}}"#).as_bytes())
    )
}

fn token_body(exp: u64) -> String {
    format!(r#"{{"data":"{}"}}"#, jwt(exp))
}

fn config(auth: Auth) -> Config {
    Config {
        api_url: Some("http://127.0.0.1:9/".into()),
        auth_url: Some("http://127.0.0.1:9/rest/v1/authenticate".into()),
        customer_id: "cust 1".into(),
        auth,
        auth_scheme: AuthScheme::Bearer,
        timeout_ms: None,
        retry: RetryPolicy::default(),
        max_response_bytes: None,
        concurrency: None,
        call_deadline: None,
        graph: Default::default(),
    }
}

fn credentials() -> Auth {
    Auth::Credentials {
        username: "user".into(),
        password: "s3cret-pass".into(),
    }
}

const AGENT: &str = r#"{"user_object_id":"u1","name":"A"}"#;

#[test]
fn one_token_serves_many_calls() {
    let token = token_body(100_000);
    let client = Client::new(
        config(credentials()),
        Scripted::new(vec![
            (200, &token),
            (200, AGENT),
            (200, AGENT),
            (200, AGENT),
        ]),
    );
    for _ in 0..3 {
        run(client.get_agent("u1", None, None)).unwrap();
    }
    let sent = &client.transport().sent();
    assert_eq!(sent.len(), 4);
    assert!(sent[0].url.ends_with("/rest/v1/authenticate"));
    assert_eq!(
        sent[0].body.as_deref(),
        Some(r#"{"username":"user","password":"s3cret-pass"}"#)
    );
    let expected_auth = format!("Bearer {}", jwt(100_000));
    for request in &sent[1..] {
        assert_eq!(request.url, "http://127.0.0.1:9/cust%201/agents/u1");
        assert!(
            request
                .headers
                .contains(&("authorization", expected_auth.clone()))
        );
        assert!(
            request
                .headers
                .contains(&("accept", "application/json".into()))
        );
        assert!(!request.headers.iter().any(|(k, _)| *k == "content-type"));
    }
}

#[test]
fn a_token_near_its_exp_is_renewed_before_use() {
    let soon = token_body(1_000 + RENEW_BEFORE_EXPIRY_SECS - 1);
    let later = token_body(100_000);
    let client = Client::new(
        config(credentials()),
        Scripted::new(vec![(200, &soon), (200, &later), (200, AGENT)]),
    );
    run(client.authenticate()).unwrap();
    run(client.get_agent("u1", None, None)).unwrap();
    let sent = &client.transport().sent();
    assert_eq!(sent.len(), 3);
    assert!(sent[1].url.ends_with("/authenticate"));
}

#[test]
fn a_401_authenticates_again_once_and_repeats_the_request_once() {
    let token = token_body(100_000);
    let client = Client::new(
        config(credentials()),
        Scripted::new(vec![
            (200, &token),
            (401, "{}"),
            (200, &token),
            (200, AGENT),
        ]),
    );
    assert_eq!(
        run(client.get_agent("u1", None, None))
            .unwrap()
            .name
            .as_deref(),
        Some("A")
    );
    let urls: Vec<_> = client
        .transport()
        .sent()
        .iter()
        .map(|r| r.url.clone())
        .collect();
    assert!(urls[0].ends_with("/authenticate") && urls[2].ends_with("/authenticate"));
    assert!(urls[1].ends_with("/agents/u1") && urls[3].ends_with("/agents/u1"));

    let client = Client::new(
        config(credentials()),
        Scripted::new(vec![(200, &token), (401, "{}"), (200, &token), (401, "{}")]),
    );
    assert!(matches!(
        run(client.get_agent("u1", None, None)),
        Err(ApiError::Unauthorized(_))
    ));
    assert_eq!(client.transport().sent().len(), 4);
}

#[test]
fn wrong_credentials_fail_fast_without_calling_the_users_api() {
    let client = Client::new(
        config(credentials()),
        Scripted::new(vec![(401, r#"{"message":"Invalid username or password"}"#)]),
    );
    assert!(matches!(
        run(client.list_agents(&AgentFilter::default())),
        Err(ApiError::Unauthorized(_))
    ));
    assert_eq!(client.transport().sent().len(), 1);
}

#[test]
fn a_ready_token_is_used_as_is_with_the_bare_scheme() {
    let mut cfg = config(Auth::Token("tok".into()));
    cfg.auth_scheme = AuthScheme::Bare;
    let client = Client::new(cfg, Scripted::new(vec![(200, "[]"), (401, "{}")]));
    assert_eq!(run(client.list_numbers(None, None)).unwrap(), vec![]);
    assert!(matches!(
        run(client.list_numbers(None, None)),
        Err(ApiError::Unauthorized(_))
    ));
    let sent = &client.transport().sent();
    assert_eq!(sent.len(), 2, "a ready token is never renewed");
    assert!(sent[0].headers.contains(&("authorization", "tok".into())));
}

#[test]
fn invalid_input_sends_nothing_not_even_authenticate() {
    let client = Client::new(config(credentials()), Scripted::new(vec![]));
    let error = run(client.list_numbers(None, Some("12ab"))).unwrap_err();
    assert!(matches!(error, ApiError::InvalidInput(ref p) if p[0].field == "match"));
    let bad = NewAgent {
        user_object_id: "u".into(),
        ..Default::default()
    };
    assert!(matches!(
        run(client.onboard_agents(&[bad], OnboardOptions::default())),
        Err(ApiError::InvalidInput(ref p)) if p.len() == 2
    ));
    assert!(client.transport().sent().is_empty());
}

#[test]
fn an_invalid_config_is_reported_on_every_call_and_sends_nothing() {
    let mut cfg = config(credentials());
    cfg.api_url = Some("ftp://x".into());
    cfg.customer_id = String::new();
    let client = Client::new(cfg, Scripted::new(vec![]));
    match run(client.authenticate()) {
        Err(ApiError::InvalidInput(problems)) => {
            let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
            assert_eq!(fields, ["api_url", "customer_id"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(client.transport().sent().is_empty());
}

fn agents(n: usize) -> Vec<NewAgent> {
    (0..n)
        .map(|i| NewAgent {
            user_object_id: format!("u{i}"),
            tenant_id: "t".into(),
            name: format!("Agent {i}"),
            ..Default::default()
        })
        .collect()
}

#[test]
fn onboarding_25_sends_10_10_5_and_reports_each_item_at_its_index() {
    let token = token_body(100_000);
    let ok = r#"{"message":"Onboarded successfully","errors":[]}"#;
    let client = Client::new(
        config(credentials()),
        Scripted::new(vec![(200, &token), (200, ok), (200, ok), (200, ok)]),
    );
    let outcomes = run(client.onboard_agents(&agents(25), OnboardOptions::default())).unwrap();
    assert_eq!(outcomes, vec![Outcome::Succeeded(None); 25]);
    let bodies: Vec<usize> = client.transport().sent()[1..]
        .iter()
        .map(|r| {
            serde_json::from_str::<Vec<serde_json::Value>>(r.body.as_deref().unwrap())
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(bodies, vec![10, 10, 5]);
    let second: Vec<NewAgent> =
        serde_json::from_str(client.transport().sent()[2].body.as_deref().unwrap()).unwrap();
    assert_eq!(second[0].user_object_id, "u10");
}

#[test]
fn without_continue_on_error_the_batch_stops_after_the_failing_request() {
    let token = token_body(100_000);
    let ok = r#"{"message":"Onboarded successfully","errors":[]}"#;
    let failed = r#"{"message":"Onboarding failed","errors":[{"itemIndex":3,"errors":["dup"]}]}"#;
    // One request at a time: the third is never sent.
    let mut cfg = config(credentials());
    cfg.concurrency = Some(1);
    let client = Client::new(
        cfg,
        Scripted::new(vec![(200, &token), (200, ok), (400, failed)]),
    );
    let outcomes = run(client.onboard_agents(&agents(25), OnboardOptions::default())).unwrap();
    assert_eq!(client.transport().sent().len(), 3);
    assert!(outcomes[..13].iter().all(Outcome::is_success));
    assert_eq!(outcomes[13], Outcome::Rejected(vec!["dup".into()]));
    assert!(outcomes[14..].iter().all(|o| *o == Outcome::NotAttempted));
    assert!(!client.transport().sent()[1].url.contains("continueOnError"));
}

#[test]
fn with_continue_on_error_every_request_is_sent_and_the_flag_too() {
    let token = token_body(100_000);
    let ok = r#"{"message":"ok","errors":[]}"#;
    let client = Client::new(
        config(credentials()),
        Scripted::new(vec![
            (200, &token),
            (503, r#"{"message":"busy"}"#),
            (503, r#"{"message":"busy"}"#),
            (503, r#"{"message":"busy"}"#),
            (200, ok),
            (200, ok),
        ]),
    );
    let options = OnboardOptions {
        continue_on_error: Some(true),
        reassign_inbox: Some(false),
    };
    let outcomes = run(client.onboard_agents(&agents(25), options)).unwrap();
    assert!(outcomes[..10].iter().all(|o| matches!(
        o,
        Outcome::Failed(ApiError::ServerError {
            status: 503,
            attempts: 3,
            ..
        })
    )));
    assert_eq!(client.transport().sleeps(), vec![500, 1000]);
    assert!(outcomes[10..].iter().all(Outcome::is_success));
    assert!(
        client.transport().sent()[1]
            .url
            .ends_with("/agents?continueOnError=true&reassignInbox=false")
    );
}

#[test]
fn requests_carry_method_path_query_and_json_content_type() {
    let token = token_body(100_000);
    let client = Client::new(
        config(credentials()),
        Scripted::new(vec![
            (200, &token),
            (200, r#"{"message":"Agent successfully offboarded"}"#),
        ]),
    );
    run(client.offboard_agent("a@b.c", Some(KeyId::ConsistencyId), Some(true))).unwrap();
    let sent = &client.transport().sent()[1];
    assert_eq!(sent.method, Method::Delete);
    assert_eq!(
        sent.url,
        "http://127.0.0.1:9/cust%201/agents/a%40b.c?key_id=consistency_id&deprovisionSupervisedInbox=true"
    );
    assert!(
        client.transport().sent()[0]
            .headers
            .contains(&("content-type", "application/json".into()))
    );
}

#[test]
fn debug_output_never_shows_the_password_or_token() {
    let cfg = config(credentials());
    let token = jwt(100_000);
    let client = Client::new(
        cfg.clone(),
        Scripted::new(vec![(200, &format!(r#"{{"data":"{token}"}}"#))]),
    );
    run(client.authenticate()).unwrap();
    for text in [
        format!("{cfg:?}"),
        format!("{client:?}"),
        format!("{:?}", client.transport().sent()[0]),
        format!("{:?}", Auth::Token(token.clone())),
        format!(
            "{:?}",
            Credentials {
                username: "u".into(),
                password: "s3cret-pass".into()
            }
        ),
    ] {
        assert!(!text.contains("s3cret-pass"), "{text}");
        assert!(!text.contains(&token), "{text}");
    }
}

fn retrying(transport: Scripted) -> Client<Scripted> {
    Client::new(config(credentials()), transport)
}

#[test]
fn a_503_is_retried_with_growing_backoff_and_then_succeeds() {
    let token = token_body(100_000);
    let client = retrying(Scripted::new(vec![
        (200, &token),
        (503, "{}"),
        (503, "{}"),
        (200, AGENT),
    ]));
    assert!(run(client.get_agent("u1", None, None)).is_ok());
    assert_eq!(client.transport().sleeps(), vec![500, 1000]);
}

#[test]
fn retry_after_is_honoured_up_to_the_cap_and_beyond_it_reported() {
    let token = token_body(100_000);
    let client = retrying(
        Scripted::new(vec![(200, &token), (429, "{}"), (200, "[]")]).with_retry_after(1, "4"),
    );
    run(client.list_numbers(None, None)).unwrap();
    assert_eq!(client.transport().sleeps(), vec![4000]);

    let client =
        retrying(Scripted::new(vec![(200, &token), (429, "{}")]).with_retry_after(1, "120"));
    assert_eq!(
        run(client.list_numbers(None, None)),
        Err(ApiError::RateLimited {
            retry_after: Some(120),
            attempts: 1
        })
    );
    assert!(client.transport().sleeps().is_empty());
}

#[test]
fn the_budget_stops_retries_that_would_end_too_late() {
    let token = token_body(100_000);
    let mut cfg = config(credentials());
    cfg.retry = RetryPolicy {
        max_attempts: 10,
        base_delay_ms: 1000,
        max_delay_ms: 20_000,
        budget_ms: 3_500,
    };
    let mut transport = Scripted::new(vec![(200, &token)]);
    for _ in 0..10 {
        transport = transport.then(Err(ApiError::timeout("slow")));
    }
    let client = Client::new(cfg, transport);
    assert_eq!(
        run(client.list_numbers(None, None)),
        Err(ApiError::Timeout {
            message: "slow".into(),
            attempts: 3
        })
    );
    assert_eq!(client.transport().sleeps(), vec![1000, 2000]);
}

#[test]
fn a_denied_request_and_a_400_are_never_retried() {
    let token = token_body(100_000);
    let client =
        retrying(Scripted::new(vec![(200, &token)]).then(Err(ApiError::Denied("no".into()))));
    assert_eq!(
        run(client.list_numbers(None, None)),
        Err(ApiError::Denied("no".into()))
    );
    let client = retrying(Scripted::new(vec![
        (200, &token),
        (400, r#"{"message":"Invalid match"}"#),
    ]));
    assert!(matches!(
        run(client.list_numbers(None, None)),
        Err(ApiError::Rejected { .. })
    ));
    assert_eq!(client.transport().sent().len(), 2);
}

#[test]
fn a_wrong_password_is_not_retried_but_an_unavailable_authenticate_is() {
    let client = retrying(Scripted::new(vec![(401, "{}")]));
    assert!(matches!(
        run(client.authenticate()),
        Err(ApiError::Unauthorized(_))
    ));
    assert_eq!(client.transport().sent().len(), 1);
    let token = token_body(100_000);
    let client = retrying(Scripted::new(vec![(503, "{}"), (200, &token)]));
    assert!(run(client.authenticate()).is_ok());
    assert_eq!(client.transport().sent().len(), 2);
}

#[test]
fn a_lost_onboard_answer_is_retried_and_the_already_existing_agents_verified() {
    let token = token_body(100_000);
    let exists = r#"{"message":"Onboarding failed","errors":[{"itemIndex":0,"errors":["An agent with the same user_object_id already exists"]}]}"#;
    let u0 = r#"{"user_object_id":"u0","tenant_id":"t","name":"Agent 0"}"#;
    let u1 = r#"{"user_object_id":"u1","tenant_id":"t","name":"Agent 1"}"#;
    let answer = |status: u16, body: &str| {
        Ok(RawResponse {
            status,
            content_type: None,
            retry_after: None,
            body: body.into(),
        })
    };
    let client = retrying(
        Scripted::new(vec![(200, &token)])
            .then(Err(ApiError::transport("connection dropped")))
            .then(answer(400, exists))
            .then(answer(200, u0))
            .then(answer(200, u1)),
    );
    let outcomes = run(client.onboard_agents(&agents(2), OnboardOptions::default())).unwrap();
    let note = Some("already onboarded with these values".to_string());
    assert_eq!(
        outcomes,
        vec![Outcome::Succeeded(note.clone()), Outcome::Succeeded(note)]
    );
    // The API stopped at u0; u1, which it skipped, is read with u0 and not sent again.
    let routes: Vec<String> = client
        .transport()
        .sent()
        .iter()
        .map(|r| format!("{:?} {}", r.method, r.url))
        .collect();
    assert_eq!(
        routes,
        [
            "Post http://127.0.0.1:9/rest/v1/authenticate",
            "Post http://127.0.0.1:9/cust%201/agents",
            "Post http://127.0.0.1:9/cust%201/agents",
            "Get http://127.0.0.1:9/cust%201/agents?user_object_id=u0",
            "Get http://127.0.0.1:9/cust%201/agents?user_object_id=u1",
        ]
    );
}

#[test]
fn an_existing_agent_with_other_values_is_a_genuine_conflict() {
    let token = token_body(100_000);
    let exists = r#"{"message":"Onboarding failed","errors":[{"itemIndex":0,"errors":["An agent with the same user_object_id already exists"]}]}"#;
    let other = r#"{"user_object_id":"u0","tenant_id":"t","name":"Someone else"}"#;
    let client = retrying(Scripted::new(vec![
        (200, &token),
        (400, exists),
        (200, other),
    ]));
    let outcomes = run(client.onboard_agents(&agents(1), OnboardOptions::default())).unwrap();
    match &outcomes[0] {
        Outcome::Rejected(messages) => {
            assert_eq!(
                messages[0],
                "An agent with the same user_object_id already exists"
            );
            assert!(messages[1].contains("other values: name"), "{messages:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn offboarding_an_agent_that_is_gone_succeeds_once_a_read_confirms_it() {
    let token = token_body(100_000);
    let not_found = r#"{"message":"Unsuccessful offboarding","errors":["Agent not found"]}"#;
    let client = retrying(Scripted::new(vec![
        (200, &token),
        (400, not_found),
        (404, r#"{"status":"error","message":"object not found"}"#),
    ]));
    let message = run(client.offboard_agent("u9", None, None)).unwrap();
    assert!(message.starts_with("already offboarded"), "{message}");
}

#[test]
fn a_repeated_onboard_of_many_requests_reads_its_tenant_once_and_sends_each_request_once() {
    let token = token_body(100_000);
    let exists = r#"{"message":"Onboarding failed","errors":[{"itemIndex":0,"errors":["An agent with the same user_object_id already exists"]}]}"#;
    let tenant: Vec<serde_json::Value> = agents(25)
        .iter()
        .map(|a| serde_json::json!({"user_object_id": a.user_object_id, "tenant_id": "t", "name": a.name}))
        .collect();
    let tenant = serde_json::to_string(&tenant).unwrap();
    let mut cfg = config(credentials());
    cfg.concurrency = Some(1);
    let client = Client::new(
        cfg,
        Scripted::new(vec![
            (200, &token),
            (400, exists),
            (200, &tenant),
            (400, exists),
            (400, exists),
        ]),
    );
    let outcomes = run(client.onboard_agents(&agents(25), OnboardOptions::default())).unwrap();
    let note = Some("already onboarded with these values".to_string());
    assert_eq!(outcomes, vec![Outcome::Succeeded(note); 25]);
    let routes: Vec<String> = client
        .transport()
        .sent()
        .iter()
        .map(|r| format!("{:?} {}", r.method, r.url))
        .collect();
    assert_eq!(
        routes,
        [
            "Post http://127.0.0.1:9/rest/v1/authenticate",
            "Post http://127.0.0.1:9/cust%201/agents",
            "Get http://127.0.0.1:9/cust%201/agents?tenant_id=t",
            "Post http://127.0.0.1:9/cust%201/agents",
            "Post http://127.0.0.1:9/cust%201/agents",
        ]
    );
}

#[test]
fn an_agent_the_snapshot_lacks_is_sent_again_and_a_refused_one_is_read_on_its_own() {
    let token = token_body(100_000);
    let exists = |i: usize| {
        format!(
            r#"{{"message":"Onboarding failed","errors":[{{"itemIndex":{i},"errors":["An agent with the same user_object_id already exists"]}}]}}"#
        )
    };
    // The tenant shows u0 only: u1..u9 are sent again, and u1 is refused, yet it is not in
    // the snapshot: it is read on its own and found with other values.
    let tenant = r#"[{"user_object_id":"u0","tenant_id":"t","name":"Agent 0"}]"#;
    let u1_elsewhere = r#"[{"user_object_id":"u1","tenant_id":"other","name":"Agent 1"}]"#;
    let ok = r#"{"message":"Onboarded successfully","errors":[]}"#;
    let mut cfg = config(credentials());
    cfg.concurrency = Some(1);
    let client = Client::new(
        cfg,
        Scripted::new(vec![
            (200, &token),
            (400, &exists(0)),
            (200, tenant),
            (400, &exists(0)),
            (200, u1_elsewhere),
            (200, ok),
        ]),
    );
    let outcomes = run(client.onboard_agents(&agents(11), OnboardOptions::default())).unwrap();
    assert_eq!(
        outcomes[0],
        Outcome::Succeeded(Some("already onboarded with these values".into()))
    );
    match &outcomes[1] {
        Outcome::Rejected(messages) => {
            assert!(
                messages[1].contains("other values: tenant_id"),
                "{messages:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(outcomes[2..10].iter().all(|o| *o == Outcome::NotAttempted));
    assert_eq!(outcomes[10], Outcome::NotAttempted, "the batch ended");
    let sent = client.transport().sent();
    assert_eq!(sent.len(), 5, "the second request of ten is never sent");
    assert!(sent[4].url.ends_with("/agents?user_object_id=u1"));
}

#[test]
fn a_429_without_retry_after_is_sent_again_after_a_pause_within_max_attempts() {
    let token = token_body(100_000);
    let client = retrying(Scripted::new(vec![
        (200, &token),
        (429, "{}"),
        (429, "{}"),
        (429, "{}"),
        (200, "[]"),
    ]));
    assert_eq!(
        run(client.list_numbers(None, None)),
        Err(ApiError::RateLimited {
            retry_after: None,
            attempts: 3
        })
    );
    assert_eq!(
        client.transport().sent().len(),
        4,
        "three sends and the token"
    );
    assert_eq!(client.transport().sleeps(), vec![500, 1000]);
    assert_eq!(client.stats().throttled, 3);
    // Refused with nothing else in flight: the limit drops to one at once.
    assert_eq!(client.stats().limit_path, vec![4, 1]);
}

/// The routes a client sent, as `METHOD path`.
fn sent_routes(client: &Client<Scripted>) -> Vec<String> {
    client
        .transport()
        .sent()
        .iter()
        .map(|r| {
            let path = r.url.trim_start_matches("http://127.0.0.1:9");
            format!("{} {path}", r.method.as_str())
        })
        .collect()
}

#[test]
fn max_attempts_counts_the_send_after_a_new_token_too() {
    let token = token_body(100_000);
    let mut cfg = config(credentials());
    cfg.retry.max_attempts = 2;
    let client = Client::new(
        cfg,
        Scripted::new(vec![(200, &token), (401, "{}"), (200, &token), (503, "{}")]),
    );
    assert!(matches!(
        run(client.get_agent("u1", None, None)),
        Err(ApiError::ServerError { attempts: 2, .. })
    ));
    assert_eq!(
        sent_routes(&client),
        [
            "POST /rest/v1/authenticate",
            "GET /cust%201/agents/u1",
            "POST /rest/v1/authenticate",
            "GET /cust%201/agents/u1",
        ]
    );
}

#[test]
fn with_one_attempt_a_refused_token_is_final_and_the_next_call_signs_in_again() {
    let token = token_body(100_000);
    let mut cfg = config(credentials());
    cfg.retry.max_attempts = 1;
    let client = Client::new(
        cfg,
        Scripted::new(vec![
            (200, &token),
            (401, "{}"),
            (200, &token),
            (200, AGENT),
        ]),
    );
    assert!(matches!(
        run(client.get_agent("u1", None, None)),
        Err(ApiError::Unauthorized(_))
    ));
    assert!(run(client.get_agent("u1", None, None)).is_ok());
    assert_eq!(
        sent_routes(&client),
        [
            "POST /rest/v1/authenticate",
            "GET /cust%201/agents/u1",
            "POST /rest/v1/authenticate",
            "GET /cust%201/agents/u1",
        ]
    );
}

#[test]
fn a_sign_in_refused_in_a_call_is_not_tried_again_by_its_other_requests() {
    let token = token_body(100_000);
    let refused = r#"{"message":"Invalid username or password"}"#;
    let mut cfg = config(credentials());
    cfg.concurrency = Some(1);
    let client = Client::new(
        cfg,
        Scripted::new(vec![
            (200, &token),
            (200, r#"{"message":"ok"}"#),
            (401, "{}"),
            (401, refused),
        ]),
    );
    let options = OnboardOptions {
        continue_on_error: Some(true),
        reassign_inbox: None,
    };
    let outcomes = run(client.onboard_agents(&agents(50), options)).unwrap();
    assert!(outcomes[..10].iter().all(Outcome::is_success));
    assert!(
        outcomes[10..]
            .iter()
            .all(|o| matches!(o, Outcome::Failed(ApiError::Unauthorized(_)))),
        "{:?}",
        &outcomes[10..]
    );
    assert_eq!(
        client.stats().authentications,
        2,
        "one sign-in, one refused"
    );
    assert_eq!(
        sent_routes(&client).len(),
        4,
        "nothing sent after the refusal"
    );
    // The next call tries again: the password may have been put right.
    let retried = Client::new(
        config(credentials()),
        Scripted::new(vec![(401, refused), (401, refused)]),
    );
    assert!(run(retried.authenticate()).is_err());
    assert!(run(retried.authenticate()).is_err());
    assert_eq!(retried.stats().authentications, 2);
}

#[test]
fn a_retry_after_beyond_the_cap_is_rate_limited_with_its_value_for_a_503_too() {
    let token = token_body(100_000);
    for status in [429, 503] {
        let client = retrying(
            Scripted::new(vec![(200, &token), (status, "{}")]).with_retry_after(1, "3600"),
        );
        assert_eq!(
            run(client.list_numbers(None, None)),
            Err(ApiError::RateLimited {
                retry_after: Some(3600),
                attempts: 1
            }),
            "{status}"
        );
    }
}

#[test]
fn the_retry_budget_counts_from_the_first_send_not_from_the_wait_for_a_pause() {
    let token = token_body(100_000);
    let mut cfg = config(credentials());
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base_delay_ms: 100,
        max_delay_ms: 3_000,
        budget_ms: 2_000,
    };
    // A 429 asks for an hour: reported at once, and every request of the client pauses for
    // the longest wait (3 s), longer than the budget.
    let client = Client::new(
        cfg,
        Scripted::new(vec![(200, &token), (429, "{}"), (503, "{}"), (200, AGENT)])
            .with_retry_after(1, "3600"),
    );
    assert!(matches!(
        run(client.get_agent("u0", None, None)),
        Err(ApiError::RateLimited { .. })
    ));
    // Its 3 s in the queue are not part of its budget: the 503 is retried.
    assert!(run(client.get_agent("u1", None, None)).is_ok());
    assert_eq!(client.transport().sleeps(), vec![3_000, 100]);
}

#[test]
fn an_onboard_refused_as_a_repeat_whose_read_fails_is_failed_not_rejected() {
    let token = token_body(100_000);
    let exists = r#"{"message":"Onboarding failed","errors":[{"itemIndex":0,"errors":["An agent with the same user_object_id already exists"]}]}"#;
    let client = retrying(Scripted::new(vec![
        (200, &token),
        (502, "{}"),
        (400, exists),
        (503, "{}"),
        (503, "{}"),
        (503, "{}"),
    ]));
    let outcomes = run(client.onboard_agents(&agents(1), OnboardOptions::default())).unwrap();
    assert!(
        matches!(
            &outcomes[..],
            [Outcome::Failed(ApiError::ServerError {
                status: 503,
                attempts: 3,
                ..
            })]
        ),
        "{outcomes:?}"
    );
}

#[test]
fn an_offboard_refused_as_not_found_whose_read_fails_is_that_failure() {
    let token = token_body(100_000);
    let not_found = r#"{"message":"Unsuccessful offboarding","errors":["Agent not found"]}"#;
    let mut transport = Scripted::new(vec![(200, &token), (400, not_found)]);
    for _ in 0..3 {
        transport = transport.then(Err(ApiError::timeout("slow")));
    }
    let client = retrying(transport);
    assert!(matches!(
        run(client.offboard_agent("u9", None, None)),
        Err(ApiError::Timeout { attempts: 3, .. })
    ));
}

#[test]
fn the_call_deadline_ends_retries_whose_wait_it_would_not_outlast() {
    let token = token_body(100_000);
    let mut cfg = config(credentials());
    cfg.call_deadline = Some(1);
    let client = Client::new(
        cfg,
        Scripted::new(vec![(200, &token), (503, "{}"), (503, "{}"), (200, AGENT)]),
    );
    // 500 ms, then 1000 ms: the second wait would end past the deadline of 1 s.
    assert!(matches!(
        run(client.get_agent("u1", None, None)),
        Err(ApiError::ServerError { attempts: 2, .. })
    ));
    assert_eq!(client.transport().sleeps(), vec![500]);
    assert!(client.deadline_cut());
    // Each call has a deadline of its own.
    let client = Client::new(
        Config {
            call_deadline: Some(1),
            ..config(credentials())
        },
        Scripted::new(vec![(200, &token), (503, "{}"), (200, AGENT), (200, AGENT)]),
    );
    assert!(run(client.get_agent("u1", None, None)).is_ok());
    assert!(run(client.get_agent("u1", None, None)).is_ok());
    assert!(!client.deadline_cut());
}

#[test]
fn a_retry_after_that_outlasts_the_call_is_reported_rate_limited_at_once() {
    let token = token_body(100_000);
    let client = Client::new(
        Config {
            call_deadline: Some(2),
            ..config(credentials())
        },
        Scripted::new(vec![(200, &token), (429, "{}")]).with_retry_after(1, "5"),
    );
    assert_eq!(
        run(client.list_numbers(None, None)),
        Err(ApiError::RateLimited {
            retry_after: Some(5),
            attempts: 1
        })
    );
    assert!(client.transport().sleeps().is_empty());
}

mod graph_reads {
    use super::*;
    use crate::config::GraphSettings;
    use crate::entra::Mapping;
    use crate::graph::MAX_PAGES;

    fn graph() -> GraphSettings {
        GraphSettings {
            client_id: "app".into(),
            client_secret: "s3cret".into(),
            graph_url: "http://graph.test".into(),
            login_url: "http://login.test".into(),
        }
    }

    fn token(expires_in: u64) -> String {
        format!(r#"{{"access_token":"t","expires_in":{expires_in}}}"#)
    }

    /// A page of one user, and a next link to `next` when given.
    fn page(user: &str, next: Option<&str>) -> String {
        let link = next.map_or(String::new(), |n| {
            format!(r#""@odata.nextLink": "http://graph.test/v1.0/{n}","#)
        });
        format!(
            r##"{{{link} "value": [{{"@odata.type": "#microsoft.graph.user", "id": "{user}",
                "userPrincipalName": "{user}@example.com", "displayName": "{user}",
                "accountEnabled": true}}]}}"##
        )
    }

    fn read(client: &Client<Scripted>) -> Result<crate::graph::GroupRoster, ApiError> {
        run(client.read_group(&graph(), "tenant", "group", &Mapping::default(), &[]))
    }

    fn sent_to_login(client: &Client<Scripted>) -> usize {
        client
            .transport()
            .sent()
            .iter()
            .filter(|r| r.url.starts_with("http://login.test"))
            .count()
    }

    #[test]
    fn a_next_link_back_to_a_page_already_read_ends_the_read() {
        let client = retrying(Scripted::new(vec![
            (200, &token(3600)),
            (200, &page("u1", Some("p2"))),
            (200, &page("u2", Some("p2"))),
        ]));
        match read(&client) {
            Err(ApiError::UnexpectedResponse { body_excerpt, .. }) => {
                assert!(body_excerpt.contains("already read"), "{body_excerpt}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(client.transport().sent().len(), 3);
    }

    #[test]
    fn a_read_stops_after_the_most_pages_it_follows() {
        let mut answers = vec![(200, token(3600))];
        answers.extend(
            (0..=MAX_PAGES).map(|i| (200, page(&format!("u{i}"), Some(&format!("p{}", i + 1))))),
        );
        let answers: Vec<(u16, &str)> = answers.iter().map(|(s, b)| (*s, b.as_str())).collect();
        let client = retrying(Scripted::new(answers));
        assert!(matches!(
            read(&client),
            Err(ApiError::UnexpectedResponse { .. })
        ));
        assert_eq!(client.transport().sent().len(), 1 + MAX_PAGES);
    }

    #[test]
    fn a_token_refused_in_mid_read_is_fetched_again_once() {
        let refused = r#"{"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}"#;
        let client = retrying(Scripted::new(vec![
            (200, &token(3600)),
            (200, &page("u1", Some("p2"))),
            (401, refused),
            (200, &token(3600)),
            (200, &page("u2", None)),
        ]));
        let roster = read(&client).unwrap();
        assert_eq!((roster.roster.len(), roster.pages), (2, 2));
        assert_eq!(sent_to_login(&client), 2);
        // Refused again with the new token: the permissions, not the token, are wrong.
        let client = retrying(Scripted::new(vec![
            (200, &token(3600)),
            (401, refused),
            (200, &token(3600)),
            (401, refused),
        ]));
        assert!(matches!(read(&client), Err(ApiError::Unauthorized(_))));
        assert_eq!(sent_to_login(&client), 2);
    }

    #[test]
    fn a_token_that_lives_under_two_minutes_is_used_for_its_life() {
        let client = retrying(Scripted::new(vec![
            (200, &token(90)),
            (200, &page("u1", Some("p2"))),
            (200, &page("u2", Some("p3"))),
            (200, &page("u3", None)),
        ]));
        assert_eq!(read(&client).unwrap().pages, 3);
        assert_eq!(sent_to_login(&client), 1);
    }
}

#[test]
fn the_lists_of_several_tenants_share_one_size_limit() {
    let token = token_body(100_000);
    let mut cfg = config(credentials());
    cfg.max_response_bytes = Some(1_000);
    let first = format!("[{AGENT}]");
    let client = Client::new(
        cfg,
        Scripted::new(vec![(200, &token), (200, &first), (200, "[]")]),
    );
    let filters = ["t1", "t2"].map(|t| AgentFilter::matching(IdentifierKind::TenantId, t));
    assert_eq!(run(client.lists_within_limit(&filters)).unwrap().len(), 1);
    let limits: Vec<u32> = client
        .transport()
        .sent()
        .iter()
        .filter(|r| r.url.contains("tenant_id="))
        .map(|r| r.max_response_bytes)
        .collect();
    assert_eq!(limits, [1_000, 1_000 - first.len() as u32]);
}

mod apply_guards {
    use super::*;
    use crate::sync::{
        ApplyOptions, ChangeAction, DesiredAgent, Live, Plan, PlanOptions, SyncError, compute_plan,
        plan_fingerprint,
    };

    fn live(uoid: &str) -> Agent {
        Agent {
            user_object_id: Some(uoid.into()),
            tenant_id: Some("t".into()),
            name: Some(uoid.into()),
            active: Some(true),
            ..Agent::default()
        }
    }

    fn desired(uoid: &str) -> DesiredAgent {
        DesiredAgent {
            agent: NewAgent {
                user_object_id: uoid.into(),
                tenant_id: "t".into(),
                name: uoid.into(),
                ..NewAgent::default()
            },
            active: None,
            shared_inboxes: None,
        }
    }

    /// A plan over 30 live agents that keeps `kept` of them (the rest are deactivated),
    /// made under `options`, and the plan over the cap that its refusal carries.
    fn plan_keeping(kept: usize, options: &PlanOptions) -> Result<Plan, SyncError> {
        let agents: Vec<Agent> = (0..30).map(|i| live(&format!("a{i}"))).collect();
        let roster: Vec<DesiredAgent> = (0..kept).map(|i| desired(&format!("a{i}"))).collect();
        let live = Live {
            agents: &agents,
            numbers: Some(&[]),
        };
        compute_plan("cust 1", &roster, live, options).map(|p| p.expect("numbers given"))
    }

    fn apply(plan: &Plan, approved_removals: Option<u32>) -> (Result<usize, SyncError>, usize) {
        // No answers: a guard that holds refuses before anything is sent.
        let client = Client::new(config(credentials()), Scripted::new(vec![]));
        let options = ApplyOptions {
            continue_on_error: None,
            approved_removals,
        };
        let result = run(client.sync_apply(plan, options)).map(|r| r.changes.len());
        (result, client.transport().sent().len())
    }

    #[test]
    fn a_plan_edited_past_its_cap_or_onto_a_protected_agent_is_refused_though_its_fingerprint_matches()
     {
        let options = PlanOptions {
            protected: vec!["a29".into()],
            ..PlanOptions::default()
        };
        let mut plan = plan_keeping(28, &options).unwrap();
        assert_eq!(
            plan.options.max_removals,
            Some(3),
            "the plan records its cap"
        );
        assert_eq!(plan.summary.deactivate, 1);
        // Two more deactivations, the protected agent's among them, and a fingerprint anyone
        // can compute.
        let mut extra = plan.changes[0].clone();
        extra.user_object_id = "a29".into();
        plan.changes.push(extra.clone());
        plan.fingerprint = plan_fingerprint(&plan);
        let (result, sent) = apply(&plan, None);
        assert!(
            matches!(&result, Err(SyncError::Api(ApiError::InvalidInput(p))) if p[0].message.contains("protect")),
            "{result:?}"
        );
        assert_eq!(sent, 0);
        // Raising the removals past the cap.
        plan.changes.pop();
        for uoid in ["a1", "a2", "a3"] {
            extra.user_object_id = uoid.into();
            plan.changes.push(extra.clone());
        }
        plan.fingerprint = plan_fingerprint(&plan);
        let (result, sent) = apply(&plan, None);
        assert!(
            matches!(&result, Err(SyncError::TooManyRemovals(cap)) if cap.removals == 4 && cap.max_removals == 3),
            "{result:?}"
        );
        assert_eq!(sent, 0);
    }

    #[test]
    fn an_update_that_deactivates_counts_as_a_removal_whatever_its_action_is_called() {
        let options = PlanOptions {
            protected: vec!["a29".into()],
            ..PlanOptions::default()
        };
        let mut plan = plan_keeping(28, &options).unwrap();
        let mut disguised = plan.changes[0].clone();
        disguised.action = ChangeAction::Update;
        disguised.user_object_id = "a29".into();
        plan.changes.push(disguised);
        plan.fingerprint = plan_fingerprint(&plan);
        let (result, sent) = apply(&plan, None);
        assert!(
            matches!(&result, Err(SyncError::Api(ApiError::InvalidInput(p))) if p[0].message.contains("protect")),
            "{result:?}"
        );
        assert_eq!(sent, 0);
    }

    #[test]
    fn a_plan_over_its_cap_is_applied_only_with_its_number_of_removals_approved() {
        let Err(SyncError::TooManyRemovals(cap)) = plan_keeping(20, &PlanOptions::default()) else {
            panic!("over the cap");
        };
        let plan = *cap.plan;
        assert_eq!(cap.removals, 10);
        assert!(
            plan.changes
                .iter()
                .all(|c| c.action == ChangeAction::Deactivate)
        );
        for approved in [None, Some(9)] {
            let (result, sent) = apply(&plan, approved);
            assert!(result.is_err() && sent == 0, "{approved:?}: {result:?}");
        }
        // Approved: it goes ahead (and here meets a script with no answers).
        let (_, sent) = apply(&plan, Some(10));
        assert!(sent > 0, "approved, the plan is sent");
    }
}

#[test]
fn items_after_a_repeat_whose_read_fails_are_failed_when_a_lost_attempt_may_have_sent_them() {
    let token = token_body(100_000);
    let exists = r#"{"message":"Onboarding failed","errors":[{"itemIndex":0,"errors":["An agent with the same user_object_id already exists"]}]}"#;
    // The first attempt's answer is lost (the API applied all three); the second is refused
    // at item 0, the API skipping 1 and 2; every read back answers 503.
    let mut transport = Scripted::new(vec![(200, &token)])
        .then(Err(ApiError::timeout("no answer")))
        .then(Ok(RawResponse::json_answer(400, exists)));
    for _ in 0..9 {
        transport = transport.then(Ok(RawResponse::json_answer(503, "{}")));
    }
    let client = retrying(transport);
    let outcomes = run(client.onboard_agents(&agents(3), OnboardOptions::default())).unwrap();
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            Outcome::Failed(ApiError::ServerError { status: 503, .. })
        )),
        "{outcomes:?}"
    );
}

#[test]
fn a_deadline_that_cuts_the_send_after_a_new_token_leaves_the_earlier_unknown_answer() {
    let token = token_body(100_000);
    let client = Client::new(
        Config {
            call_deadline: Some(1),
            ..config(credentials())
        },
        // A 500 (applied or not), 500 ms of backoff, a 401, and a sign-in that takes 600 ms:
        // the deadline passes before the request goes out again.
        Scripted::new(vec![(200, &token), (500, "{}"), (401, "{}")])
            .then_late(600, Ok(RawResponse::json_answer(200, &token))),
    );
    let outcomes = run(client.onboard_agents(&agents(1), OnboardOptions::default())).unwrap();
    assert!(
        matches!(
            &outcomes[..],
            [Outcome::Failed(ApiError::ServerError { status: 500, .. })]
        ),
        "{outcomes:?}"
    );
    assert_eq!(client.stats().requests, 2, "nothing sent past the deadline");
}

#[test]
fn a_read_that_judges_a_sent_request_and_meets_the_deadline_leaves_it_unknown() {
    let token = token_body(100_000);
    let not_found = r#"{"message":"Unsuccessful offboarding","errors":["Agent not found"]}"#;
    let client = Client::new(
        Config {
            call_deadline: Some(1),
            ..config(credentials())
        },
        Scripted::new(vec![(200, &token)])
            .then_late(1_100, Ok(RawResponse::json_answer(400, not_found))),
    );
    assert!(matches!(
        run(client.offboard_agent("u9", None, None)),
        Err(ApiError::Deadline { sent: true, .. })
    ));
}
