//! The baselines: a native Rust client making the same HTTP calls as the component (one
//! keep-alive connection, the same request building and answer parsing), in process and as a
//! whole process.

use crate::common::CUSTOMER;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use smartcomm::model::{Agent, AgentFilter, NewAgent};
use smartcomm::request::{ApiRequest, Method, Requests};
use smartcomm::response::{self, RawResponse};
use smartcomm_emulator::Emulator;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The floor of bulk onboarding: the native client sending `count` agents ten per request,
/// one request after another, on one connection.
pub async fn native_sequential_onboard(
    emulator: &Emulator,
    count: usize,
) -> anyhow::Result<Duration> {
    let mut native = NativeClient::connect(emulator).await?;
    native.authenticate().await?;
    let agents: Vec<NewAgent> = (0..count).map(|i| model_agent(&format!("n{i}"))).collect();
    let requests = Requests::new(CUSTOMER);
    let t = Instant::now();
    for chunk in agents.chunks(10) {
        let raw = native
            .send(&requests.onboard_agents(chunk, None, None))
            .await?;
        anyhow::ensure!(raw.status == 200, "native onboard: {}", raw.status);
    }
    Ok(t.elapsed())
}

pub fn model_agent(uoid: &str) -> NewAgent {
    serde_json::from_value(serde_json::json!({
        "user_object_id": uoid,
        "tenant_id": "tenant-1",
        "name": format!("Agent {uoid}"),
        "upn": format!("{uoid}@example.com"),
        "consistency_id": format!("cid-{uoid}"),
    }))
    .expect("a valid agent")
}

pub fn process_env(emulator: &Emulator) -> Vec<(String, String)> {
    vec![
        ("SMARTCOMM_API_URL".into(), emulator.base_url()),
        ("SMARTCOMM_AUTH_URL".into(), emulator.auth_url()),
        ("SMARTCOMM_CUSTOMER_ID".into(), CUSTOMER.into()),
        ("SMARTCOMM_USERNAME".into(), emulator.username().into()),
        ("SMARTCOMM_PASSWORD".into(), emulator.password().into()),
    ]
}

/// How long `command` takes as a whole process, which must succeed and print `expected`.
pub async fn time_process(command: &mut Command, expected: &str) -> anyhow::Result<Duration> {
    let mut command = std::mem::replace(command, Command::new("true"));
    let expected = expected.to_string();
    tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let output = command.output()?;
        let took = t.elapsed();
        anyhow::ensure!(
            output.status.success()
                && (expected.is_empty()
                    || output
                        .stdout
                        .windows(expected.len())
                        .any(|w| w == expected.as_bytes())),
            "{:?} failed: {}",
            command.get_program(),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(took)
    })
    .await?
}

/// How long `smartcomm ARGS` takes as a whole process against `emulator`; it must succeed and
/// print `expected`.
pub async fn cli_process(
    emulator: &Emulator,
    args: &[&str],
    expected: &str,
) -> anyhow::Result<Duration> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_smartcomm"));
    command.args(args).envs(process_env(emulator));
    time_process(&mut command, expected).await
}

/// The argument that makes this binary the native whole-process baseline.
pub const NATIVE_PROCESS: &str = "native-agents-get";

/// The floor: a native Rust client (hyper, one keep-alive connection) making the same HTTP
/// calls and parsing the answers with the same code the component uses.
pub struct NativeClient {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    auth_path: String,
    username: String,
    password: String,
    token: String,
    requests: Requests,
}

impl NativeClient {
    pub async fn connect(emulator: &Emulator) -> anyhow::Result<NativeClient> {
        Self::open(
            &emulator.base_url(),
            &emulator.auth_url(),
            emulator.username(),
            emulator.password(),
            CUSTOMER,
        )
        .await
    }

    pub async fn open(
        api_url: &str,
        auth_url: &str,
        username: &str,
        password: &str,
        customer: &str,
    ) -> anyhow::Result<NativeClient> {
        let api: http::Uri = api_url.parse()?;
        let auth: http::Uri = auth_url.parse()?;
        let host = api.authority().expect("an authority").to_string();
        let tcp = tokio::net::TcpStream::connect(&host).await?;
        tcp.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(connection);
        Ok(NativeClient {
            sender,
            host,
            auth_path: auth.path().to_string(),
            username: username.into(),
            password: password.into(),
            token: String::new(),
            requests: Requests::new(customer),
        })
    }

    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: Option<String>,
        authorized: bool,
    ) -> anyhow::Result<RawResponse> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host)
            .header("accept", "application/json");
        if authorized {
            request = request.header("authorization", format!("Bearer {}", self.token));
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (status, content_type, retry_after) = (
            response.status().as_u16(),
            header("content-type"),
            header("retry-after"),
        );
        let body = response.into_body().collect().await?.to_bytes().to_vec();
        Ok(RawResponse {
            status,
            content_type,
            retry_after,
            body,
        })
    }

    pub async fn authenticate(&mut self) -> anyhow::Result<()> {
        let body = serde_json::json!({"username": self.username, "password": self.password});
        let path = self.auth_path.clone();
        let raw = self
            .exchange("POST", &path, Some(body.to_string()), false)
            .await?;
        self.token = response::token(&raw, now()).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }

    pub async fn send(&mut self, request: &ApiRequest) -> anyhow::Result<RawResponse> {
        let method = match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        };
        self.exchange(
            method,
            &request.path_and_query(),
            request.body.clone(),
            true,
        )
        .await
    }

    /// The list request of `filter`, its answer unparsed.
    pub async fn list_agents(&mut self, filter: &AgentFilter) -> anyhow::Result<RawResponse> {
        let request = self.requests.list_agents(filter);
        self.send(&request).await
    }

    pub async fn get_agent(&mut self, id: &str) -> anyhow::Result<Agent> {
        let request = self.requests.get_agent(id, None, None);
        let raw = self.send(&request).await?;
        response::agent(&raw, now()).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The native whole-process baseline: what `smartcomm get-agent ID` does, without wasm.
pub fn native_process(id: &str) -> anyhow::Result<()> {
    let var = |name: &str| std::env::var(name).map_err(|_| anyhow::anyhow!("{name} is not set"));
    let (api, auth, customer, username, password) = (
        var("SMARTCOMM_API_URL")?,
        var("SMARTCOMM_AUTH_URL")?,
        var("SMARTCOMM_CUSTOMER_ID")?,
        var("SMARTCOMM_USERNAME")?,
        var("SMARTCOMM_PASSWORD")?,
    );
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async {
            let mut client =
                NativeClient::open(&api, &auth, &username, &password, &customer).await?;
            client.authenticate().await?;
            let agent = client.get_agent(id).await?;
            println!("{}", serde_json::to_string_pretty(&agent)?);
            Ok(())
        })
}
