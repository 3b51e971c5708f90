//! A stateful emulator of the SmartCommunicator User Management API on a loopback port, with
//! a control API under `/__emulator/` for tests: reset, state, request log, latency, faults.
//!
//! Routes: `POST /rest/v1/authenticate` and, under `/{customer_id}`, the ten users-API
//! endpoints. Every customer id is its own account, created on first use with the seeded
//! phone numbers.
//!
//! It reads every request with its own code, from the JSON, by the API reference
//! (`smartcommunicator-user-management-api.txt`, as `NOTES.md` reads its gaps): it shares no
//! types with the client it tests, so a mistake in the client's wire format cannot cancel out.

mod auth;
mod control;
mod faults;
mod graph;
mod routes;
mod state;
mod wire;

#[cfg(test)]
mod reference_examples;
#[cfg(test)]
mod testing;

pub use faults::{FaultAction, FaultRule};
pub use graph::{CLIENT_ID as GRAPH_CLIENT_ID, CLIENT_SECRET as GRAPH_CLIENT_SECRET};

/// The Entra tenant of the sample group `smartcomm emulator` serves.
pub const SAMPLE_TENANT_ID: &str = "0f2e4c6a-1b3d-4e5f-8a9b-00000000c0de";
/// The sample group: a store's team, five users (one disabled) and a device.
pub const SAMPLE_GROUP_ID: &str = "4e0c7d52-6f1a-4b8e-9a3d-5a1f00001234";

/// The sample group's members, as Graph lists them.
pub fn sample_group_members() -> Vec<Value> {
    serde_json::from_str(include_str!("sample/entra-group.json")).expect("the sample is JSON")
}
pub use state::{Account, AgentRecord, InboxRecord, seed_numbers};
pub use wire::{EnabledServices, InboxType, Role, percent_decode};

use auth::Tokens;
use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use state::Accounts;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
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
    /// Answer `429 Too Many Requests`, applying nothing, to a users-API request that finds
    /// this many requests of its customer already in flight; `None` takes any number. The
    /// reference publishes no limit; this lets a client's backing off be tested and
    /// measured. The 429 comes after the route's latency, as any answer does.
    pub max_in_flight: Option<usize>,
    /// The `Retry-After` of those 429s, in seconds; `None` leaves the header out.
    pub throttle_retry_after: Option<u32>,
    /// Faults that strike users-API requests at random, for soak tests.
    pub random_faults: Option<RandomFaults>,
}

/// Each users-API request meets one of `actions` (chosen uniformly) with a chance of
/// `per_mille` in 1000, from a generator seeded with `seed`: the same seed draws the same
/// faults for the same order of requests.
#[derive(Clone, Debug)]
pub struct RandomFaults {
    pub seed: u64,
    pub per_mille: u32,
    pub actions: Vec<FaultAction>,
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
            max_in_flight: None,
            throttle_retry_after: Some(1),
            random_faults: None,
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
    /// When it arrived, in milliseconds since the emulator started.
    #[serde(default)]
    pub at_ms: u64,
}

struct Shared {
    options: EmulatorOptions,
    accounts: Mutex<Accounts>,
    log: Mutex<Vec<LoggedRequest>>,
    faults: faults::Faults,
    latency: Mutex<HashMap<String, Duration>>,
    tokens: Tokens,
    /// TCP connections accepted since start, to tell reused connections from new ones.
    connections: AtomicU64,
    /// Users-API requests being answered, by customer id.
    in_flight: Mutex<HashMap<String, usize>>,
    /// The most users-API requests of one customer that were being answered at once, since
    /// the start or the log was last cleared.
    peak_in_flight: AtomicUsize,
    started: std::time::Instant,
    /// Requests answered 429 because of `max_in_flight`.
    throttled: AtomicU64,
    /// The generator of `options.random_faults`, and how many faults it drew.
    random: Mutex<fastrand::Rng>,
    random_faults_drawn: AtomicU64,
    /// Entra and Graph: the app registration, its permissions, groups and tokens.
    directory: Mutex<graph::Directory>,
    /// The password once a `ChangePassword` fault changed it.
    changed_password: Mutex<Option<String>>,
}

/// One request counted in its customer's `in_flight` until it is answered.
struct InFlight<'a> {
    shared: &'a Shared,
    customer: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(n) = lock(&self.shared.in_flight).get_mut(&self.customer) {
            *n -= 1;
        }
    }
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
        let seed = format!("{:?}{addr}{}", SystemTime::now(), std::process::id());
        let shared = Arc::new(Shared {
            accounts: Mutex::new(Accounts::new(seed_numbers(options.numbers))),
            log: Mutex::default(),
            faults: faults::Faults::default(),
            latency: Mutex::default(),
            tokens: Tokens::new(&seed, options.token_lifetime),
            connections: AtomicU64::new(0),
            in_flight: Mutex::default(),
            peak_in_flight: AtomicUsize::new(0),
            started: std::time::Instant::now(),
            throttled: AtomicU64::new(0),
            random: Mutex::new(fastrand::Rng::with_seed(
                options.random_faults.as_ref().map_or(0, |r| r.seed),
            )),
            random_faults_drawn: AtomicU64::new(0),
            directory: Mutex::default(),
            changed_password: Mutex::default(),
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

    /// The password the emulator started with (a `ChangePassword` fault replaces it).
    pub fn password(&self) -> &str {
        &self.shared.options.password
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

    /// Faults that `random_faults` drew so far.
    pub fn random_faults_drawn(&self) -> u64 {
        self.shared.random_faults_drawn.load(Ordering::Relaxed)
    }

    /// Requests answered 429 because more than `max_in_flight` were in flight.
    pub fn throttled(&self) -> u64 {
        self.shared.throttled.load(Ordering::Relaxed)
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    /// Forgets the logged requests, and the peak of requests in flight.
    pub fn clear_requests(&self) {
        self.shared.clear_requests();
    }

    /// The most users-API requests of one customer that were being answered at once, since
    /// the start or the last `clear_requests`.
    pub fn peak_in_flight(&self) -> usize {
        self.shared.peak_in_flight.load(Ordering::Relaxed)
    }

    pub fn add_fault(&self, rule: FaultRule) {
        self.shared.faults.add(rule);
    }

    /// Latency for one route (`*` for every route without its own setting).
    pub fn set_latency(&self, route: &str, latency: Duration) {
        lock(&self.shared.latency).insert(route.to_string(), latency);
    }

    /// A valid token for the emulator's user, as authenticate would return it.
    pub fn issue_token(&self) -> String {
        self.shared.tokens.mint(&self.shared.options.username)
    }

    /// Makes every token issued so far invalid.
    pub fn revoke_tokens(&self) {
        self.shared.tokens.revoke();
    }

    /// Microsoft Graph's base URL here (the same server).
    pub fn graph_url(&self) -> String {
        self.base_url()
    }

    /// Microsoft Entra's login URL here (the same server).
    pub fn login_url(&self) -> String {
        self.base_url()
    }

    /// Makes Entra group `id` hold `members`, in this order: objects with `@odata.type`
    /// (`#microsoft.graph.user`, `…device`, `…group`, `…servicePrincipal`), `id`, and for
    /// users their properties.
    pub fn set_graph_group(&self, id: &str, members: Vec<Value>) {
        let members = members
            .into_iter()
            .filter_map(|m| match m {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect();
        lock(&self.shared.directory).set_group(id, members);
    }

    /// The application permissions the app holds (by default `GroupMember.Read.All` and
    /// `User.Read.All`).
    pub fn set_graph_permissions(&self, permissions: &[&str]) {
        let permissions: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
        lock(&self.shared.directory).set_permissions(&permissions);
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

impl Shared {
    fn state(&self) -> Value {
        serde_json::to_value(&*lock(&self.accounts)).unwrap_or_default()
    }

    fn reset(&self) {
        *lock(&self.accounts) = Accounts::new(seed_numbers(self.options.numbers));
        self.clear_requests();
        self.faults.clear();
        lock(&self.latency).clear();
        *lock(&self.directory) = graph::Directory::default();
    }

    /// Counts a request of `customer` in flight, or refuses it (counted as throttled) when
    /// `max_in_flight` of them already are.
    fn admit(&self, customer: &str) -> Option<InFlight<'_>> {
        let mut in_flight = lock(&self.in_flight);
        let n = in_flight.entry(customer.to_string()).or_default();
        if self.options.max_in_flight.is_some_and(|max| *n >= max) {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *n += 1;
        self.peak_in_flight.fetch_max(*n, Ordering::Relaxed);
        Some(InFlight {
            shared: self,
            customer: customer.to_string(),
        })
    }

    fn clear_requests(&self) {
        lock(&self.log).clear();
        self.peak_in_flight.store(0, Ordering::Relaxed);
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

    fn random_fault(&self) -> Option<FaultAction> {
        let random = self.options.random_faults.as_ref()?;
        let mut rng = lock(&self.random);
        if random.actions.is_empty() || rng.u32(0..1000) >= random.per_mille {
            return None;
        }
        self.random_faults_drawn.fetch_add(1, Ordering::Relaxed);
        Some(random.actions[rng.usize(0..random.actions.len())].clone())
    }

    fn latency(&self, route: &str) -> Duration {
        let latency = lock(&self.latency);
        latency
            .get(route)
            .or_else(|| latency.get("*"))
            .copied()
            .unwrap_or(self.options.latency)
    }

    /// The status and body for a request that no fault answers instead.
    fn answer(
        &self,
        method: &Method,
        segments: &[String],
        query: &str,
        body: &[u8],
        authorization: Option<&str>,
    ) -> state::Answer {
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        if let ["rest", "v1", "authenticate"] = segments.as_slice() {
            if method != Method::POST {
                return (405, json!({"message": "Method not allowed"}));
            }
            let password = lock(&self.changed_password)
                .clone()
                .unwrap_or_else(|| self.options.password.clone());
            return auth::authenticate(&self.tokens, &self.options.username, &password, body);
        }
        if !self.tokens.admits(authorization) {
            return auth::unauthorized();
        }
        let Some((customer, path)) = segments.split_first() else {
            return routes::no_customer();
        };
        let mut accounts = lock(&self.accounts);
        routes::users_api(accounts.account(customer), method, path, query, body)
    }
}

fn throttled(retry_after: Option<u32>) -> Response<Body> {
    let mut response = json_response(429, &json!({"message": "Too many requests"}));
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
    }
    response
}

fn redacted_body(route: &str, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    let mut value = serde_json::from_slice::<Value>(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    if route.ends_with(AUTH_PATH)
        && let Some(password) = value.get_mut("password")
    {
        *password = json!("<redacted>");
    }
    value
}

fn redacted_headers(headers: &http::HeaderMap) -> BTreeMap<String, String> {
    headers
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
        .collect()
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
        return Ok(control::control(&shared, &parts.method, command, &body));
    }
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let graph_route = graph::route_of(&parts.method, &segments);
    let route = graph_route
        .clone()
        .unwrap_or_else(|| routes::route_of(&parts.method, &segments));
    lock(&shared.log).push(LoggedRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        query: query.clone(),
        route: route.clone(),
        headers: redacted_headers(&parts.headers),
        body: match route.ends_with("/oauth2/v2.0/token") {
            true => graph::redacted_form(&body),
            false => redacted_body(&route, &body),
        },
        at_ms: shared.started.elapsed().as_millis() as u64,
    });
    if graph_route.is_some() {
        return graph_answer(&shared, &parts, &segments, &query, &body, &route).await;
    }

    let latency = shared.latency(&route);
    let _in_flight = match segments.first() {
        Some(customer) if !route.ends_with(AUTH_PATH) => match shared.admit(customer) {
            Some(in_flight) => Some(in_flight),
            None => {
                tokio::time::sleep(latency).await;
                return Ok(throttled(shared.options.throttle_retry_after));
            }
        },
        _ => None,
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = shared.faults.take(&route, &body).or_else(|| {
        (_in_flight.is_some())
            .then(|| shared.random_fault())
            .flatten()
    });
    if let Some(answer) = fault.as_ref().and_then(faults::answer_instead) {
        return answer;
    }
    match &fault {
        Some(FaultAction::RevokeTokens) => shared.tokens.revoke(),
        Some(FaultAction::ChangePassword { password }) => {
            *lock(&shared.changed_password) = Some(password.clone());
            shared.tokens.revoke();
        }
        _ => {}
    }
    let authorization = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(FaultAction::ApplyLate { ms }) = fault {
        // On a task of its own, so that it lands whether or not the client still waits.
        let late = shared.clone();
        let landed = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            late.answer(
                &parts.method,
                &segments,
                &query,
                &body,
                authorization.as_deref(),
            )
        });
        let (status, value) = landed.await.map_err(std::io::Error::other)?;
        return Ok(json_response(status, &value));
    }
    let (status, value) = shared.answer(
        &parts.method,
        &segments,
        &query,
        &body,
        authorization.as_deref(),
    );
    faults::answer_after(fault, status, value).await
}

/// An Entra or Graph request: its route's latency and faults, then the directory's answer.
/// Not counted in a customer's requests in flight.
async fn graph_answer(
    shared: &Shared,
    parts: &http::request::Parts,
    segments: &[String],
    query: &str,
    body: &[u8],
    route: &str,
) -> Result<Response<Body>, std::io::Error> {
    let latency = shared.latency(route);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = shared.faults.take(route, body);
    if let Some(answer) = fault.as_ref().and_then(faults::answer_instead) {
        return answer;
    }
    let (status, value) = lock(&shared.directory).answer(parts, segments, query, body);
    faults::answer_after(fault, status, value).await
}
