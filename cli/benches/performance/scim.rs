//! The SCIM endpoint in the project's host: what a SCIM request costs beyond the API request it
//! causes, the API requests per SCIM operation, authenticates per 1,000 SCIM requests, and an
//! unfiltered page over a 10,000-agent tenant.

use crate::common::{CUSTOMER, Operations, config, new_agent, onboard_options, succeeded};
use crate::native::NativeClient;
use crate::report::{Bench, Row, mib, ms, ratio, stats};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use smartcomm::model::AgentFilter;
use smartcomm_host::{ScimOptions, ScimServer};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-scim-token";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A SCIM server for `tenant` on a free loopback port, and one keep-alive connection to it.
struct Endpoint {
    server: Arc<ScimServer>,
    sender: SendRequest<Full<Bytes>>,
    host: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Endpoint {
    async fn start(bench: &Bench, tenant: &str) -> anyhow::Result<Endpoint> {
        let mut options = ScimOptions::default();
        options.runtime.cache_dir = Some(bench.warm_cache.clone());
        let env = vec![
            ("SMARTCOMM_SCIM_TENANT_ID".to_string(), tenant.to_string()),
            ("SMARTCOMM_SCIM_TOKEN".to_string(), TOKEN.to_string()),
        ];
        let server = ScimServer::new(options, &config(&bench.emulator, CUSTOMER), env)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let host = listener.local_addr()?.to_string();
        let task = tokio::spawn({
            let server = server.clone();
            async move {
                let _ = server.serve(listener, std::future::pending()).await;
            }
        });
        let tcp = tokio::net::TcpStream::connect(&host).await?;
        tcp.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(connection);
        Ok(Endpoint {
            server,
            sender,
            host,
            task,
        })
    }

    /// One SCIM request; its status, body and size.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value, usize)> {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("/scim/v2{path}"))
            .header("host", &self.host)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/scim+json")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value, bytes.len()))
    }
}

/// A user id of the bench: an Entra object id, as the bridge keys every agent.
fn uid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn user(id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": id, "userName": format!("{id}@example.com"),
        "displayName": format!("Agent {id}"), "active": true,
        ENTERPRISE: {"department": "Sales"},
    })
}

fn patch_department(value: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": value}],
    })
}

/// The SCIM group of rows.
pub async fn scim(bench: &mut Bench) -> anyhow::Result<()> {
    overhead(bench).await?;
    requests_per_operation(bench).await?;
    authenticates(bench).await?;
    unfiltered_page(bench).await
}

/// A SCIM `GET /Users/{id}` against the one `GET /agents/{id}` it causes, sent by the native
/// client on a keep-alive connection: the difference is what the host and the component add.
async fn overhead(bench: &mut Bench) -> anyhow::Result<()> {
    let mut endpoint = Endpoint::start(bench, "bench-scim").await?;
    let id = uid(1);
    let (status, _, _) = endpoint.send("POST", "/Users", Some(user(&id))).await?;
    anyhow::ensure!(status == 201 || status == 409, "create: {status}");
    let mut native = NativeClient::connect(&bench.emulator).await?;
    native.authenticate().await?;
    let (mut through_scim, mut direct) = (Vec::new(), Vec::new());
    for _ in 0..bench.samples {
        let started = Instant::now();
        let (status, _, _) = endpoint.send("GET", &format!("/Users/{id}"), None).await?;
        through_scim.push(started.elapsed());
        anyhow::ensure!(status == 200, "GET /Users/{id}: {status}");
        let started = Instant::now();
        native.get_agent(&id).await?;
        direct.push(started.elapsed());
    }
    let (s, d) = (stats(&mut through_scim), stats(&mut direct));
    let beyond = |a: Duration, b: Duration| a.saturating_sub(b);
    println!(
        "scim: GET /Users/{{id}} median {} p99 {}; its API request alone median {} p99 {}; \
         beyond the round trip: median {} p99 {}",
        ms(s.median),
        ms(s.p99),
        ms(d.median),
        ms(d.p99),
        ms(beyond(s.median, d.median)),
        ms(beyond(s.p99, d.p99))
    );
    for (measure, scim, api) in [
        (
            "SCIM GET /Users/{id} vs its API request, median",
            s.median,
            d.median,
        ),
        ("SCIM GET /Users/{id} vs its API request, p99", s.p99, d.p99),
    ] {
        bench.push(Row {
            measure: measure.into(),
            smartcomm: ms(scim),
            baseline: ms(api),
            ratio: format!("{:.2} (+{})", ratio(scim, api), ms(beyond(scim, api))),
            target: "+≤ 2 ms",
        });
    }
    Ok(())
}

/// The API requests each SCIM operation sends, from the emulator's log.
async fn requests_per_operation(bench: &mut Bench) -> anyhow::Result<()> {
    let mut endpoint = Endpoint::start(bench, "bench-scim-ops").await?;
    // The token, before counting.
    endpoint
        .send("GET", &format!("/Users/{}", uid(9)), None)
        .await?;
    let id = uid(2);
    let mut counted = Vec::new();
    let mut other_values = user(&id);
    other_values["displayName"] = json!("Someone Else");
    let operations: [(&str, &str, &str, Option<Value>); 6] = [
        (
            "GET by filter",
            "GET",
            &format!("/Users?filter=userName%20eq%20%22{id}%40example.com%22"),
            None,
        ),
        ("POST", "POST", "/Users", Some(user(&id))),
        (
            "POST of a user that exists (409)",
            "POST",
            "/Users",
            Some(other_values),
        ),
        (
            "PATCH",
            "PATCH",
            &format!("/Users/{id}"),
            Some(patch_department("Support")),
        ),
        ("GET by id", "GET", &format!("/Users/{id}"), None),
        ("DELETE", "DELETE", &format!("/Users/{id}"), None),
    ];
    for (name, method, path, body) in operations {
        bench.emulator.clear_requests();
        let (status, _, _) = endpoint.send(method, path, body).await?;
        let routes: Vec<String> = bench
            .emulator
            .requests()
            .into_iter()
            .map(|r| r.route)
            .collect();
        println!("scim: {name} → {status}, API requests: {routes:?}");
        counted.push(format!("{name} {}", routes.len()));
    }
    bench.push(Row {
        measure: "API requests per SCIM operation".into(),
        smartcomm: counted.join(", "),
        baseline: "".into(),
        ratio: "".into(),
        target: "GET 1, POST 1, PATCH 2, DELETE 2 (its read keeps it to the tenant)",
    });
    Ok(())
}

/// 1,000 SCIM requests on a fresh server: its instances share one SmartCommunicator token.
async fn authenticates(bench: &mut Bench) -> anyhow::Result<()> {
    let mut endpoint = Endpoint::start(bench, "bench-scim-auth").await?;
    bench.emulator.clear_requests();
    for i in 0..1000 {
        let path = format!("/Users?filter=externalId%20eq%20%22{}%22", uid(1000 + i));
        endpoint.send("GET", &path, None).await?;
    }
    let authenticates = bench
        .emulator
        .requests()
        .iter()
        .filter(|r| r.route.ends_with("/authenticate"))
        .count();
    println!(
        "scim: 1,000 SCIM requests, {authenticates} authenticate(s), {} instance(s)",
        endpoint.server.instances_made()
    );
    bench.push(Row {
        measure: "authenticates per 1,000 SCIM requests".into(),
        smartcomm: authenticates.to_string(),
        baseline: "".into(),
        ratio: "".into(),
        target: "1",
    });
    Ok(())
}

/// `GET /Users?startIndex=…&count=100` over a tenant of 10,000 agents. The API has no paging:
/// the first page reads the whole tenant, and the pages after it, for 30 s, reuse that read.
async fn unfiltered_page(bench: &mut Bench) -> anyhow::Result<()> {
    let tenant = "bench-scim-big";
    let agents = if bench.quick { 2_000 } else { 10_000 };
    let mut config = config(&bench.emulator, CUSTOMER);
    config.concurrency = Some(8);
    let mut session = bench.runtime(true, None)?.session(config);
    let roster: Vec<_> = (0..agents)
        .map(|i| {
            let mut agent = new_agent(&format!("big-{i:05}"));
            agent.tenant_id = tenant.into();
            agent.department = Some("Front End".into());
            agent.store = Some(format!("Store {}", i % 100));
            agent
        })
        .collect();
    let outcomes = session
        .onboard_agents(roster, onboard_options(None))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    anyhow::ensure!(succeeded(&outcomes), "onboarding the tenant");
    let mut native = NativeClient::connect(&bench.emulator).await?;
    native.authenticate().await?;
    let filter = AgentFilter {
        tenant_id: Some(tenant.into()),
        ..AgentFilter::default()
    };
    let started = Instant::now();
    let whole = native.list_agents(&filter).await?;
    let native_read = started.elapsed();

    let mut endpoint = Endpoint::start(bench, tenant).await?;
    endpoint.send("GET", "/Users/nobody", None).await?; // the token and the instance
    bench.emulator.clear_requests();
    let mut pages = Vec::new();
    for start in [1, 101, 201] {
        let started = Instant::now();
        let (status, page, bytes) = endpoint
            .send("GET", &format!("/Users?startIndex={start}&count=100"), None)
            .await?;
        pages.push(started.elapsed());
        anyhow::ensure!(status == 200 && page["Resources"].as_array().map(Vec::len) == Some(100));
        anyhow::ensure!(page["totalResults"] == json!(agents));
        if start == 1 {
            println!("scim: a page of 100 is {bytes} bytes of SCIM");
        }
    }
    let requests = bench.emulator.requests().len();
    let memory = endpoint.server.largest_instance_memory();
    println!(
        "scim: pages of 100 over {agents} agents: first {} (reads {} bytes of the API's list, \
         which alone takes {} natively), then {} and {}; {requests} API request(s) for 3 pages; \
         the instance's memory {}",
        ms(pages[0]),
        whole.body.len(),
        ms(native_read),
        ms(pages[1]),
        ms(pages[2]),
        mib(memory)
    );
    bench.push(Row {
        measure: format!("SCIM page of 100 over {agents} agents: first page vs the API's list"),
        smartcomm: ms(pages[0]),
        baseline: ms(native_read),
        ratio: format!("{:.2}", ratio(pages[0], native_read)),
        target: "",
    });
    bench.push(Row {
        measure: "SCIM pages 2 and 3; API requests for 3 pages; the instance's memory".into(),
        smartcomm: format!(
            "{} / {}; {requests}; {}",
            ms(pages[1]),
            ms(pages[2]),
            mib(memory)
        ),
        baseline: "".into(),
        ratio: "".into(),
        target: "one read of the tenant",
    });
    Ok(())
}
