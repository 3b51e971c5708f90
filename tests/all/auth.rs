//! Authentication end to end: token reuse, renewal, re-authentication after a 401, schemes.

use crate::common::*;
use smartcomm_emulator::{Emulator, EmulatorOptions};
use smartcomm_host::{Auth, AuthScheme, CallError, types};
use std::time::Duration;

#[tokio::test]
async fn one_token_serves_every_call_of_a_session() {
    let (emulator, mut session) = setup().await;
    for _ in 0..5 {
        session.list_numbers(None, None).await.unwrap();
    }
    assert_eq!(authentications(&emulator), 1);
    assert_eq!(api_requests(&emulator).len(), 5);
    let auth = &emulator.requests()[0];
    assert_eq!(auth.body["username"], emulator.username());
    assert_eq!(auth.body["password"], "<redacted>");
    assert!(
        api_requests(&emulator)
            .iter()
            .all(|r| r.headers["authorization"] == "Bearer <redacted>")
    );
}

#[tokio::test]
async fn explicit_authenticate_reports_the_expiry_and_is_reused() {
    let (emulator, mut session) = setup().await;
    let info = session.authenticate().await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires = info.expires_at.expect("the emulator's token has exp");
    assert!(
        (now + 86_000..=now + 86_500).contains(&expires),
        "{expires} vs {now}"
    );
    session.list_numbers(None, None).await.unwrap();
    assert_eq!(authentications(&emulator), 1);
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once_and_the_request_repeated() {
    let (emulator, mut session) = setup().await;
    session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await
        .unwrap();
    emulator.revoke_tokens();
    let agent = session.get_agent("a".into(), None, None).await.unwrap();
    assert_eq!(agent.user_object_id.as_deref(), Some("a"));
    let routes: Vec<String> = emulator.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(
        routes,
        [
            "POST /rest/v1/authenticate",
            "POST /agents",
            "GET /agents/{id}",
            "POST /rest/v1/authenticate",
            "GET /agents/{id}",
        ]
    );
}

#[tokio::test]
async fn a_revoked_token_mid_batch_re_authenticates_and_the_batch_continues() {
    use smartcomm_emulator::{FaultAction, FaultRule};
    let (emulator, mut session) = setup().await;
    // The first request of the batch goes through; the token is revoked before the second.
    for action in [FaultAction::Delay { ms: 0 }, FaultAction::RevokeTokens] {
        emulator.add_fault(FaultRule::new("POST /agents", 1, action));
    }
    let batch: Vec<_> = (0..15).map(|i| new_agent(&format!("u{i}"))).collect();
    let outcomes = session
        .onboard_agents(batch, onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes), "{outcomes:?}");
    assert_eq!(emulator.account(CUSTOMER).agents.len(), 15);
    let routes: Vec<String> = emulator.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(
        routes,
        [
            "POST /rest/v1/authenticate",
            "POST /agents",
            "POST /agents",
            "POST /rest/v1/authenticate",
            "POST /agents",
        ]
    );
}

#[tokio::test]
async fn a_short_lived_token_is_renewed_before_it_expires() {
    let emulator = Emulator::start(EmulatorOptions {
        token_lifetime: Duration::from_secs(30),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut session = runtime().session(config(&emulator, CUSTOMER));
    for _ in 0..3 {
        session.list_numbers(None, None).await.unwrap();
    }
    // Each token is within the renewal margin (60 s) of its exp, so each call renews it.
    assert_eq!(authentications(&emulator), 3);
}

#[tokio::test]
async fn a_wrong_password_fails_fast_with_unauthorized() {
    let emulator = emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.auth = Auth::Credentials {
        username: emulator.username().into(),
        password: "not-the-password".into(),
    };
    let mut session = runtime().session(config);
    match session.get_agent("a".into(), None, None).await {
        Err(CallError::Api(types::Error::Unauthorized(message))) => {
            assert!(!message.contains("not-the-password"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        emulator.requests().len(),
        1,
        "only the authenticate request"
    );
}

#[tokio::test]
async fn a_ready_token_skips_authenticate_and_the_bare_scheme_sends_it_alone() {
    let emulator = emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.auth = Auth::Token(emulator.issue_token());
    config.auth_scheme = AuthScheme::Bare;
    let mut session = runtime().session(config);
    session.list_numbers(None, None).await.unwrap();
    let requests = emulator.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].headers["authorization"], "<redacted>");

    // A ready token cannot be renewed: its 401 is final.
    emulator.revoke_tokens();
    assert!(matches!(
        session.list_numbers(None, None).await,
        Err(CallError::Api(types::Error::Unauthorized(_)))
    ));
    assert_eq!(emulator.requests().len(), 2);
}

#[tokio::test]
async fn a_password_changed_mid_run_costs_one_refused_sign_in_whatever_the_concurrency() {
    use smartcomm_emulator::{FaultAction, FaultRule};
    let emulator = crate::common::emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.concurrency = Some(8);
    let mut session = runtime().session(config);
    // Three requests get through; the fourth finds the password changed and its token revoked.
    let changed = FaultAction::ChangePassword {
        password: "changed-by-an-administrator".into(),
    };
    emulator.add_fault(FaultRule::new("POST /agents", 1, changed).after(3));
    let batch: Vec<_> = (0..500).map(|i| new_agent(&format!("p{i:03}"))).collect();
    let outcomes = session
        .onboard_agents(batch, onboard_options(Some(true)))
        .await
        .unwrap();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, types::ItemOutcome::Failed(types::Error::Unauthorized(_))))
        .count();
    assert_eq!(
        refused + 30,
        500,
        "every other item is refused: {outcomes:?}"
    );
    let routes: Vec<String> = emulator.requests().into_iter().map(|r| r.route).collect();
    let sign_ins = routes
        .iter()
        .filter(|r| r.ends_with("/authenticate"))
        .count();
    println!(
        "{sign_ins} authenticates; {} of the 50 requests sent",
        routes.len() - sign_ins
    );
    assert_eq!(sign_ins, 2, "one sign-in, one refused: {routes:?}");
}
