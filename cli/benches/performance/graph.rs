//! Reading an Entra group of 10,000 members through Graph (pages of 999), against a native
//! client fetching the same pages one after another; and a whole nightly run (read, plan)
//! on a tenant where nothing changed.

use crate::bulk::{config_at, timed_onboard};
use crate::common::{CUSTOMER, Operations, plan_options};
use crate::report::{Bench, Row, mib, ms, ratio, stats};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use smartcomm_emulator::{Emulator, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET};
use smartcomm_host::{CallError, Config, Runtime, Session, entra};
use std::time::{Duration, Instant};

const TENANT: &str = "tenant-1";
const GROUP: &str = "bench-group";

fn members(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| {
            json!({
                "@odata.type": "#microsoft.graph.user",
                // The same ids `timed_onboard` gives its agents, so a plan finds them.
                "id": format!("t{i}"),
                "displayName": format!("Agent t{i}"),
                "userPrincipalName": format!("t{i}@example.com"),
                "employeeId": format!("cid-t{i}"),
                "accountEnabled": true,
            })
        })
        .collect()
}

fn graph_config(emulator: &Emulator) -> Config {
    let mut config = config_at(emulator, CUSTOMER, 8);
    config.graph.client_id = Some(GRAPH_CLIENT_ID.into());
    config.graph.client_secret = Some(GRAPH_CLIENT_SECRET.into());
    config.graph.graph_url = Some(emulator.graph_url());
    config.graph.login_url = Some(emulator.login_url());
    config
}

fn no_mapping() -> entra::RosterMapping {
    entra::RosterMapping {
        fields: Vec::new(),
        defaults: Vec::new(),
        default_roles: None,
        default_shared_inboxes: None,
    }
}

/// The floor: a token, then every page, on one keep-alive connection, bodies read whole.
async fn native_pages(emulator: &Emulator, select: &str) -> anyhow::Result<(usize, usize)> {
    let host = emulator.addr().to_string();
    let tcp = tokio::net::TcpStream::connect(&host).await?;
    tcp.set_nodelay(true)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(connection);
    let form = format!(
        "client_id={GRAPH_CLIENT_ID}&client_secret={GRAPH_CLIENT_SECRET}&grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
    );
    let token_request = http::Request::post(format!("/{TENANT}/oauth2/v2.0/token"))
        .header("host", &host)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)))?;
    let answer = sender.send_request(token_request).await?;
    let token: Value = serde_json::from_slice(&answer.into_body().collect().await?.to_bytes())?;
    let bearer = format!(
        "Bearer {}",
        token["access_token"].as_str().unwrap_or_default()
    );
    let mut next = Some(format!(
        "/v1.0/groups/{GROUP}/transitiveMembers?$select={select}&$top=999"
    ));
    let (mut users, mut pages) = (0, 0);
    while let Some(path) = next.take() {
        let request = http::Request::get(path)
            .header("host", &host)
            .header("authorization", &bearer)
            .body(Full::new(Bytes::new()))?;
        sender.ready().await?;
        let answer = sender.send_request(request).await?;
        let page: Value = serde_json::from_slice(&answer.into_body().collect().await?.to_bytes())?;
        users += page["value"].as_array().map_or(0, Vec::len);
        pages += 1;
        next = page["@odata.nextLink"].as_str().map(|link| {
            link.trim_start_matches(&format!("http://{host}"))
                .to_string()
        });
    }
    Ok((users, pages))
}

/// A 10,000-member group read by the component, against the native pages; then a night with
/// nothing to change: the read and a plan.
pub async fn graph(bench: &mut Bench) -> anyhow::Result<()> {
    let size = if bench.quick { 2_000 } else { 10_000 };
    let emulator = &bench.emulator;
    emulator.reset();
    emulator.set_graph_group(GROUP, members(size));
    let runtime = bench.runtime(true, None)?;
    let select = "accountEnabled,city,companyName,department,displayName,employeeId,id,postalCode,state,userPrincipalName";
    let (mut native, mut component, mut memory, mut requests) = (Vec::new(), Vec::new(), 0, 0);
    for _ in 0..if bench.quick { 2 } else { 5 } {
        let started = Instant::now();
        let (users, pages) = native_pages(emulator, select).await?;
        native.push(started.elapsed());
        anyhow::ensure!(users == size && pages == size.div_ceil(999));
        emulator.clear_requests();
        let mut session = runtime.session(graph_config(emulator));
        let started = Instant::now();
        let read = read_the_group(&mut session).await?;
        component.push(started.elapsed());
        anyhow::ensure!(read.agents.len() == size);
        memory = memory.max(session.memory_size().unwrap_or_default());
        requests = emulator.requests().len();
    }
    let (n, c) = (stats(&mut native).median, stats(&mut component).median);
    println!(
        "graph: a {size}-member group: {} ({requests} requests: a token and {} pages), native \
         pages {} ({:.2}x; {} beyond the round trips); the instance's memory {}",
        ms(c),
        size.div_ceil(999),
        ms(n),
        ratio(c, n),
        ms(c.saturating_sub(n)),
        mib(memory)
    );
    bench.push(Row {
        measure: format!(
            "read a {size}-member Entra group ({requests} requests; memory {})",
            mib(memory)
        ),
        smartcomm: ms(c),
        baseline: format!("native pages {}", ms(n)),
        ratio: format!("{:.2} (+{})", ratio(c, n), ms(c.saturating_sub(n))),
        target: "",
    });
    night_with_nothing_to_change(bench, &runtime, size, n).await
}

/// The bench group's members, through the component, with the default mapping.
async fn read_the_group(session: &mut Session) -> Result<entra::GroupRoster, CallError> {
    session
        .read_group(TENANT.into(), GROUP.into(), no_mapping(), Vec::new())
        .await
}

async fn night_with_nothing_to_change(
    bench: &mut Bench,
    runtime: &Runtime,
    size: usize,
    native_pages: Duration,
) -> anyhow::Result<()> {
    let emulator = &bench.emulator;
    timed_onboard(
        &mut runtime.session(config_at(emulator, CUSTOMER, 8)),
        size,
        "t",
    )
    .await?;
    emulator.clear_requests();
    let mut session = runtime.session(graph_config(emulator));
    let started = Instant::now();
    let read = read_the_group(&mut session).await?;
    let plan = session.sync_plan(read.agents, plan_options()).await?;
    let night = started.elapsed();
    anyhow::ensure!(plan.changes.is_empty(), "{} changes", plan.changes.len());
    let routes: Vec<String> = emulator.requests().into_iter().map(|r| r.route).collect();
    println!(
        "graph: a night with nothing to change over {size} agents: {} ({} requests: {routes:?})",
        ms(night),
        routes.len()
    );
    bench.push(Row {
        measure: format!(
            "a night with nothing to change, {size} agents: read + plan ({} requests)",
            routes.len()
        ),
        smartcomm: ms(night),
        baseline: format!("native pages alone {}", ms(native_pages)),
        ratio: format!("{:.2}", ratio(night, native_pages)),
        target: "",
    });
    Ok(())
}
