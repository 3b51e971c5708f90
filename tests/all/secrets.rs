//! No password or token in the logs, with every log level on.

use crate::common::*;
use smartcomm_host::Auth;

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_password_or_token_reaches_the_logs_at_trace_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The only test in this binary: the subscriber sees every callsite from the start.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let (emulator, mut session) = setup().await;
    let token = emulator.issue_token();
    session.authenticate().await.unwrap();
    session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await
        .unwrap();
    emulator.revoke_tokens();
    session.get_agent("a".into(), None, None).await.unwrap();
    let mut with_token_config = config(&emulator, CUSTOMER);
    with_token_config.auth = Auth::Token(token.clone());
    let mut with_token = runtime().session(with_token_config);
    let _ = with_token.list_numbers(None, None).await;
    let mut bad = config(&emulator, CUSTOMER);
    bad.auth = Auth::Credentials {
        username: emulator.username().into(),
        password: "wrong-password-123".into(),
    };
    let _ = runtime().session(bad).list_numbers(None, None).await;
    // The SCIM endpoint: its bearer token, and the password of Okta's create, which it drops.
    let scim = crate::scim::bridge().await;
    let mut okta_create: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/okta/create-user.json"
        ))
        .unwrap(),
    )
    .unwrap();
    okta_create["externalId"] = crate::scim::uid(1).into();
    let created = scim.send("POST", "/Users", Some(okta_create)).await;
    assert_eq!(created.status, 201, "{}", created.body);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("outbound request") && logs.contains("scim request"),
        "trace logging was on: {logs}"
    );
    // Every token the emulator mints starts with the same header.
    for secret in [
        emulator.password(),
        "wrong-password-123",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        crate::scim::TOKEN,
        "1mz050nq",
    ] {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
}
