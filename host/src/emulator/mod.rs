//! A stateful emulator of the SmartCommunicator User Management API on a loopback port, with
//! a control API under `/__emulator/` for tests: reset, state, request log, latency, faults.
//!
//! Routes: `POST /rest/v1/authenticate` and, under `/{customer_id}`, the ten users-API
//! endpoints. Every customer id is its own account, created on first use with the seeded
//! phone numbers.

mod state;

pub use state::{Account, AgentRecord, InboxRecord, seed_numbers};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use smartcomm::client::{Auth, Config};
use smartcomm::model::AgentFilter;
use state::{Accounts, Answer};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

pub const DEMO_USERNAME: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "demo-password";
pub const AUTH_PATH: &str = "/rest/v1/authenticate";
pub const CONTROL_PREFIX: &str = "/__emulator/";

#[derive(Clone, Debug)]
pub struct EmulatorOptions {
    /// 0 picks a free port.
    pub port: u16,
    /// Added before every answer (per-route settings override it).
    pub latency: Duration,
    pub token_lifetime: Duration,
    /// How many phone numbers each new account starts with.
    pub numbers: usize,
    pub username: String,
    pub password: String,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            port: 0,
            latency: Duration::ZERO,
            token_lifetime: Duration::from_secs(24 * 3600),
            numbers: 100,
            username: DEMO_USERNAME.into(),
            password: DEMO_PASSWORD.into(),
        }
    }
}

/// A received request as the log keeps it: the authorization header and any password are
/// replaced by `<redacted>`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// The route template, e.g. `GET /agents/{id}`; faults and latency are set per route.
    pub route: String,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

/// What a fault rule does to a matching request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status (and `Retry-After`, and body) without applying the request.
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<String>,
        #[serde(default)]
        body: Option<Value>,
    },
    /// Apply the request, then hold the answer back this long.
    Delay { ms: u64 },
    /// Close the connection without answering; nothing is applied.
    Drop,
    /// Apply the request, then send half of the answer and close the connection.
    Truncate,
    /// Revoke every token issued so far, then handle the request (which meets a 401).
    RevokeTokens,
    /// Answer with an HTML error page (as a proxy would); nothing is applied.
    Html { status: u16 },
    /// Answer with an empty body; nothing is applied.
    Empty { status: u16 },
    /// Answer 200 with a JSON body of about this many bytes; nothing is applied.
    Oversized { bytes: usize },
    /// Apply the request, then answer with `status`, or drop the connection when `None`: the
    /// client cannot know the request succeeded.
    LostResponse {
        #[serde(default)]
        status: Option<u16>,
    },
}

/// For the next `times` requests matching `route` (`*` for any), do `action`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FaultRule {
    pub route: String,
    pub times: u32,
    pub action: FaultAction,
}

struct Shared {
    options: EmulatorOptions,
    accounts: Mutex<Accounts>,
    log: Mutex<Vec<LoggedRequest>>,
    faults: Mutex<Vec<FaultRule>>,
    latency: Mutex<HashMap<String, Duration>>,
    /// Tokens minted before the current generation are refused (revocation).
    token_generation: AtomicU64,
    /// TCP connections accepted since start, to tell reused connections from new ones.
    connections: AtomicU64,
    secret: [u8; 32],
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running emulator; it stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl Emulator {
    /// Binds 127.0.0.1 and serves on the current tokio runtime.
    pub async fn start(options: EmulatorOptions) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
        let addr = listener.local_addr()?;
        let mut secret = [0u8; 32];
        let seed = format!("{:?}{addr}{}", SystemTime::now(), std::process::id());
        secret.copy_from_slice(&Sha256::digest(seed.as_bytes()));
        let shared = Arc::new(Shared {
            accounts: Mutex::new(Accounts::new(seed_numbers(options.numbers))),
            log: Mutex::default(),
            faults: Mutex::default(),
            latency: Mutex::default(),
            token_generation: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            secret,
            options,
        });
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let server = shared.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => accepted,
                };
                let Ok((stream, _)) = accepted else { continue };
                server.connections.fetch_add(1, Ordering::Relaxed);
                let _ = stream.set_nodelay(true);
                let shared = server.clone();
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req| handle(shared.clone(), req));
                    let connection = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    // A stopped emulator closes its open connections too, as a restarted
                    // server would.
                    tokio::select! {
                        _ = connection => {}
                        _ = stopped.changed() => {}
                    }
                });
            }
        });
        Ok(Emulator { addr, shared, stop })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The users-API base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn auth_url(&self) -> String {
        format!("http://{}{AUTH_PATH}", self.addr)
    }

    pub fn username(&self) -> &str {
        &self.shared.options.username
    }

    pub fn password(&self) -> &str {
        &self.shared.options.password
    }

    /// A client config for `customer_id` on this emulator with its credentials.
    pub fn config(&self, customer_id: &str) -> Config {
        let mut config = Config::new(
            customer_id,
            Auth::Credentials {
                username: self.username().into(),
                password: self.password().into(),
            },
        );
        config.api_url = Some(self.base_url());
        config.auth_url = Some(self.auth_url());
        config
    }

    /// Forgets every account, logged request, fault and latency setting.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// One account's state (created if new).
    pub fn account(&self, customer_id: &str) -> Account {
        lock(&self.shared.accounts).account(customer_id).clone()
    }

    /// Every account, as `GET /__emulator/state` shows it.
    pub fn state(&self) -> Value {
        self.shared.state()
    }

    /// TCP connections accepted since the emulator started.
    pub fn connections_accepted(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.shared.faults).push(rule);
    }

    /// Latency for one route (`*` for every route without its own setting).
    pub fn set_latency(&self, route: &str, latency: Duration) {
        lock(&self.shared.latency).insert(route.to_string(), latency);
    }

    /// A valid token for the emulator's user, as authenticate would return it.
    pub fn issue_token(&self) -> String {
        self.shared.mint_token(&self.shared.options.username)
    }

    /// Makes every token issued so far invalid.
    pub fn revoke_tokens(&self) {
        self.shared.revoke_tokens();
    }

    /// Registers more numbers to an account.
    pub fn add_numbers(&self, customer_id: &str, numbers: &[String]) {
        self.shared.add_numbers(customer_id, numbers);
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn json_response(status: u16, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full(body.to_string()))
        .expect("a valid response")
}

/// Sends `data`, then fails: the client sees a body shorter than its `Content-Length`.
struct Truncated(Option<Bytes>);

impl hyper::body::Body for Truncated {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(match self.0.take() {
            Some(data) => Ok(Frame::data(data)),
            None => Err(std::io::Error::other("truncated on purpose")),
        }))
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Shared {
    fn state(&self) -> Value {
        serde_json::to_value(&*lock(&self.accounts)).unwrap_or_default()
    }

    fn revoke_tokens(&self) {
        self.token_generation.fetch_add(1, Ordering::SeqCst);
    }

    fn reset(&self) {
        *lock(&self.accounts) = Accounts::new(seed_numbers(self.options.numbers));
        lock(&self.log).clear();
        lock(&self.faults).clear();
        lock(&self.latency).clear();
    }

    fn add_numbers(&self, customer_id: &str, numbers: &[String]) {
        let mut accounts = lock(&self.accounts);
        let account = accounts.account(customer_id);
        for n in numbers {
            if !account.numbers.contains(n) {
                account.numbers.push(n.clone());
            }
        }
    }

    fn sign(&self, input: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.secret);
        hasher.update(input.as_bytes());
        URL_SAFE_NO_PAD.encode(hasher.finalize())
    }

    fn mint_token(&self, username: &str) -> String {
        let now = now_unix();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(
            json!({
                "uid": username,
                "crt": now,
                "exp": now + self.options.token_lifetime.as_secs(),
                "gen": self.token_generation.load(Ordering::SeqCst),
            })
            .to_string(),
        );
        let input = format!("{header}.{payload}");
        let signature = self.sign(&input);
        format!("{input}.{signature}")
    }

    fn token_is_valid(&self, token: &str) -> bool {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        if self.sign(&format!("{header}.{payload}")) != signature {
            return false;
        }
        let Some(claims) = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        else {
            return false;
        };
        let exp = claims["exp"].as_u64().unwrap_or(0);
        let generation = claims["gen"].as_u64().unwrap_or(0);
        exp > now_unix() && generation >= self.token_generation.load(Ordering::SeqCst)
    }

    fn take_fault(&self, route: &str) -> Option<FaultAction> {
        let mut faults = lock(&self.faults);
        let i = faults
            .iter()
            .position(|f| f.times > 0 && (f.route == "*" || f.route == route))?;
        faults[i].times -= 1;
        let action = faults[i].action.clone();
        if faults[i].times == 0 {
            faults.remove(i);
        }
        Some(action)
    }

    fn latency(&self, route: &str) -> Duration {
        let latency = lock(&self.latency);
        latency
            .get(route)
            .or_else(|| latency.get("*"))
            .copied()
            .unwrap_or(self.options.latency)
    }
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_pairs(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// The route template of a users-API or authenticate request.
fn route_of(method: &Method, segments: &[String]) -> String {
    let tail = match segments {
        [a, b, c] if a == "rest" && b == "v1" && c == "authenticate" => {
            return format!("{method} {AUTH_PATH}");
        }
        [_, rest @ ..] => rest,
        [] => &[],
    };
    let template = match tail {
        [a] => format!("/{a}"),
        [a, b] if a == "agents" && b == "offboard" => "/agents/offboard".into(),
        [a, b] if a == "inboxes" && b == "assignments" => "/inboxes/assignments".into(),
        [a, _] if a == "agents" => "/agents/{id}".into(),
        _ => "/?".into(),
    };
    format!("{method} {template}")
}

fn redacted_body(route: &str, body: &[u8]) -> Value {
    let mut value = serde_json::from_slice::<Value>(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    if route.ends_with(AUTH_PATH)
        && let Some(password) = value.get_mut("password")
    {
        *password = json!("<redacted>");
    }
    if body.is_empty() {
        value = Value::Null;
    }
    value
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    if let Some(command) = path.strip_prefix(CONTROL_PREFIX) {
        return Ok(control(&shared, &parts.method, command, &body));
    }
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let route = route_of(&parts.method, &segments);
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = if name == http::header::AUTHORIZATION {
                // Keep the scheme, so tests can see which one was sent.
                match value.as_bytes().starts_with(b"Bearer ") {
                    true => "Bearer <redacted>".to_string(),
                    false => "<redacted>".to_string(),
                }
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.to_string(), value)
        })
        .collect();
    lock(&shared.log).push(LoggedRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        query: query.clone(),
        route: route.clone(),
        headers,
        body: redacted_body(&route, &body),
    });

    let latency = shared.latency(&route);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = shared.take_fault(&route);
    match &fault {
        Some(FaultAction::Status {
            status,
            retry_after,
            body,
        }) => {
            let mut response = json_response(
                *status,
                body.as_ref()
                    .unwrap_or(&json!({"message": format!("emulated status {status}")})),
            );
            if let Some(r) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", r.parse().expect("a header value"));
            }
            return Ok(response);
        }
        Some(FaultAction::Drop) => {
            return Err(std::io::Error::other("connection dropped on purpose"));
        }
        Some(FaultAction::Html { status }) => {
            return Ok(Response::builder()
                .status(*status)
                .header("content-type", "text/html")
                .body(full(format!(
                    "<html><head><title>{status} Bad Gateway</title></head><body><h1>{status} Bad Gateway</h1></body></html>"
                )))
                .expect("a valid response"));
        }
        Some(FaultAction::Empty { status }) => {
            return Ok(Response::builder()
                .status(*status)
                .body(full(Bytes::new()))
                .expect("a valid response"));
        }
        Some(FaultAction::Oversized { bytes }) => {
            let body = format!(
                r#"{{"message":"Success","filler":"{}"}}"#,
                "x".repeat(*bytes)
            );
            return Ok(Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(full(body))
                .expect("a valid response"));
        }
        _ => {}
    }

    if fault == Some(FaultAction::RevokeTokens) {
        shared.revoke_tokens();
    }
    let authorization = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (status, value) = route_request(
        &shared,
        &parts.method,
        &segments,
        &query,
        &body,
        authorization.as_deref(),
    );

    match fault {
        Some(FaultAction::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(FaultAction::Truncate) => {
            let text = value.to_string();
            let half = Bytes::from(text.as_bytes()[..text.len() / 2].to_vec());
            return Ok(Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .header("content-length", text.len())
                .body(Truncated(Some(half)).boxed())
                .expect("a valid response"));
        }
        Some(FaultAction::LostResponse { status: None }) => {
            return Err(std::io::Error::other("response lost on purpose"));
        }
        Some(FaultAction::LostResponse { status: Some(s) }) => {
            return Ok(json_response(
                s,
                &json!({"message": format!("emulated status {s}")}),
            ));
        }
        _ => {}
    }
    Ok(json_response(status, &value))
}

fn unauthorized() -> Answer {
    (401, json!({"message": "Unauthorized"}))
}

fn route_request(
    shared: &Shared,
    method: &Method,
    segments: &[String],
    query: &str,
    body: &[u8],
    authorization: Option<&str>,
) -> Answer {
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let ["rest", "v1", "authenticate"] = segs.as_slice() {
        if method != Method::POST {
            return (405, json!({"message": "Method not allowed"}));
        }
        return authenticate(shared, body);
    }
    let token = authorization.map(|a| a.strip_prefix("Bearer ").unwrap_or(a).trim());
    if !token.is_some_and(|t| shared.token_is_valid(t)) {
        return unauthorized();
    }
    let q = query_pairs(query);
    let flag = |name: &str| q.get(name).is_some_and(|v| v == "true");
    let batch = || -> Result<Vec<Value>, Answer> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(items)) => Ok(items),
            _ => Err((
                400,
                json!({"message": "Invalid request body", "errors": ["The request body must be a JSON array"]}),
            )),
        }
    };
    let mut accounts = lock(&shared.accounts);
    let Some((customer, rest)) = segs.split_first() else {
        return (404, json!({"message": "Not found"}));
    };
    let account = accounts.account(customer);
    let result = match (method.clone(), rest) {
        (Method::POST, ["agents"]) => batch()
            .map(|items| account.onboard(&items, flag("continueOnError"), flag("reassignInbox"))),
        (Method::GET, ["agents"]) => Ok(account.list_agents(&AgentFilter {
            user_object_id: q.get("user_object_id").cloned(),
            tenant_id: q.get("tenant_id").cloned(),
            consistency_id: q.get("consistency_id").cloned(),
            phone_number: q.get("phone_number").cloned(),
            upn: q.get("upn").cloned(),
        })),
        (Method::PATCH, ["agents"]) => {
            batch().map(|items| account.update_many(&items, flag("continueOnError")))
        }
        (Method::POST, ["agents", "offboard"]) => batch().map(|items| {
            account.offboard_many(
                &items,
                flag("continueOnError"),
                flag("deprovisionSupervisedInbox"),
            )
        }),
        (Method::GET, ["agents", id]) => Ok(account.get_agent(
            id,
            q.get("key_id").map(String::as_str),
            q.get("upn").map(String::as_str),
        )),
        (Method::PATCH, ["agents", id]) => match serde_json::from_slice::<Value>(body) {
            Ok(value @ Value::Object(_)) => {
                Ok(account.update_agent(id, q.get("key_id").map(String::as_str), &value))
            }
            _ => Err((
                400,
                json!({"message": "Update failed", "errors": ["The request body must be a JSON object"]}),
            )),
        },
        (Method::DELETE, ["agents", id]) => Ok(account.offboard_agent(
            id,
            q.get("key_id").map(String::as_str),
            flag("deprovisionSupervisedInbox"),
        )),
        (Method::POST, ["inboxes"]) => {
            batch().map(|items| account.create_inboxes(&items, flag("continueOnError")))
        }
        (Method::POST, ["inboxes", "assignments"]) => batch().map(|items| account.assign(&items)),
        (Method::GET, ["numbers"]) => Ok(account.list_numbers(
            q.get("status").map(String::as_str),
            q.get("match").map(String::as_str),
        )),
        (
            _,
            ["agents"] | ["agents", _] | ["inboxes"] | ["inboxes", "assignments"] | ["numbers"],
        ) => Err((405, json!({"message": "Method not allowed"}))),
        _ => Err((404, json!({"message": "Not found"}))),
    };
    result.unwrap_or_else(|answer| answer)
}

fn authenticate(shared: &Shared, body: &[u8]) -> Answer {
    #[derive(Deserialize)]
    struct Login {
        username: String,
        password: String,
    }
    match serde_json::from_slice::<Login>(body) {
        Ok(login)
            if login.username == shared.options.username
                && login.password == shared.options.password =>
        {
            (200, json!({"data": shared.mint_token(&login.username)}))
        }
        Ok(_) => (401, json!({"message": "Invalid username or password"})),
        Err(_) => (
            400,
            json!({"message": "The body must be {\"username\", \"password\"}"}),
        ),
    }
}

fn control(shared: &Shared, method: &Method, command: &str, body: &[u8]) -> Response<Body> {
    let ok = || json_response(200, &json!({"ok": true}));
    let bad = |message: String| json_response(400, &json!({"message": message}));
    match (method.clone(), command.trim_end_matches('/')) {
        (Method::POST, "reset") => {
            shared.reset();
            ok()
        }
        (Method::GET, "state") => json_response(200, &shared.state()),
        (Method::GET, "requests") => json_response(200, &json!(*lock(&shared.log))),
        (Method::DELETE, "requests") => {
            lock(&shared.log).clear();
            ok()
        }
        (Method::POST, "faults") => match serde_json::from_slice::<FaultRule>(body) {
            Ok(rule) => {
                lock(&shared.faults).push(rule);
                ok()
            }
            Err(e) => bad(format!(
                "a fault rule is {{\"route\", \"times\", \"action\": {{\"kind\", …}}}}: {e}"
            )),
        },
        (Method::DELETE, "faults") => {
            lock(&shared.faults).clear();
            ok()
        }
        (Method::PUT, "latency") => {
            #[derive(Deserialize)]
            struct Latency {
                route: String,
                ms: u64,
            }
            match serde_json::from_slice::<Latency>(body) {
                Ok(l) => {
                    lock(&shared.latency).insert(l.route, Duration::from_millis(l.ms));
                    ok()
                }
                Err(e) => bad(format!("latency is {{\"route\", \"ms\"}}: {e}")),
            }
        }
        (Method::POST, "revoke-tokens") => {
            shared.revoke_tokens();
            ok()
        }
        (Method::POST, "numbers") => {
            #[derive(Deserialize)]
            struct Numbers {
                customer_id: String,
                numbers: Vec<String>,
            }
            match serde_json::from_slice::<Numbers>(body) {
                Ok(n) => {
                    shared.add_numbers(&n.customer_id, &n.numbers);
                    ok()
                }
                Err(e) => bad(format!(
                    "numbers is {{\"customer_id\", \"numbers\": [..]}}: {e}"
                )),
            }
        }
        _ => json_response(
            404,
            &json!({"message": format!("no control command {method} {command}")}),
        ),
    }
}
