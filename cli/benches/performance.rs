//! smartcomm against a native Rust client, side by side in one run, against the emulator on
//! loopback. `cargo bench -p smartcomm-cli --bench performance` (add `-- --quick` for fewer
//! samples, no 20 ms runs of the two senders, and 2,000 agents instead of 10,000 in the
//! concurrency runs). Prints each figure as it is measured, then a Markdown table.

// The end-to-end tests' helpers: the same agents, options and customer.
#[path = "../../tests/all/common.rs"]
#[allow(dead_code)]
mod common;

use bytes::Bytes;
use common::{CUSTOMER, Operations, config, desired, new_agent, onboard_options, plan_options};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use smartcomm::model::{Agent, NewAgent};
use smartcomm::request::{ApiRequest, Method, Requests};
use smartcomm::response::{self, RawResponse};
use smartcomm_emulator::{Emulator, EmulatorOptions};
use smartcomm_host::{
    CallError, Compilation, ComponentSource, EMBEDDED_COMPONENT, Runtime, RuntimeOptions, types,
};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const AGENT: &str = "bench-agent";
/// The argument that makes this binary the native whole-process baseline.
const NATIVE_PROCESS: &str = "native-agents-get";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(NATIVE_PROCESS) {
        return native_process(&args[1]);
    }
    let quick = args.iter().any(|a| a == "--quick");
    // The same runtime shape as the `smartcomm` CLI; the measurements run on a worker, as an
    // embedder's calls do.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async { tokio::spawn(run(quick)).await? })
}

struct Row {
    measure: String,
    smartcomm: String,
    baseline: String,
    ratio: String,
    target: &'static str,
}

impl Row {
    /// smartcomm's figure against the baseline's, shown with `show`.
    fn compared(
        measure: &str,
        smartcomm: Duration,
        baseline: Duration,
        show: fn(Duration) -> String,
        target: &'static str,
    ) -> Row {
        Row {
            measure: measure.into(),
            smartcomm: show(smartcomm),
            baseline: show(baseline),
            ratio: format!("{:.2}", ratio(smartcomm, baseline)),
            target,
        }
    }
}

#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    p99: Duration,
}

fn stats(samples: &mut [Duration]) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats {
        median: at(0.5),
        p99: at(0.99),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

async fn run(quick: bool) -> anyhow::Result<()> {
    let samples = if quick { 300 } else { 2000 };
    let process_runs = if quick { 10 } else { 30 };
    println!(
        "machine: {} cores, {}; {samples} samples per in-process figure",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    );
    let mut rows = Vec::new();
    let emulator = Emulator::start(EmulatorOptions::default()).await?;
    let scratch = std::env::temp_dir().join(format!("smartcomm-bench-{}", std::process::id()));
    let warm_cache = scratch.join("warm-cache");

    // Loading: a cold cache compiles with Cranelift, a warm one only maps compiled code.
    let started = Instant::now();
    let cold = runtime(&warm_cache, true, None)?;
    let compile_time = started.elapsed();
    assert_eq!(cold.compilation(), Compilation::Compiled);
    let started = Instant::now();
    let runtime = runtime(&warm_cache, true, None)?;
    let load_time = started.elapsed();
    assert_eq!(
        runtime.compilation(),
        Compilation::Cached,
        "a warm start must not compile"
    );
    drop(cold);
    println!(
        "load: compile {} (Compilation::Compiled), from cache {} (Compilation::Cached, no Cranelift)",
        ms(compile_time),
        ms(load_time)
    );
    rows.push(Row {
        measure: "Runtime::new, warm cache vs compiling".into(),
        smartcomm: ms(load_time),
        baseline: ms(compile_time),
        ratio: format!("{:.4}", ratio(load_time, compile_time)),
        target: "no compilation when warm",
    });

    let mut session = runtime.session(config(&emulator, CUSTOMER));
    let mut agent = new_agent(AGENT);
    agent.upn = Some("bench@example.com".into());
    let outcomes = session
        .onboard_agents(vec![agent], onboard_options(None))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert!(matches!(outcomes[..], [types::ItemOutcome::Succeeded]));

    // 1 and 2: one `get-agent` per call, warm instance, against the native client.
    let mut native = NativeClient::connect(&emulator).await?;
    native.authenticate().await?;
    let mut default_sender =
        self::runtime(&warm_cache, false, None)?.session(config(&emulator, CUSTOMER));
    let pooled_runtime = self::runtime(&warm_cache, true, Some(16))?;
    let mut pooled_session = pooled_runtime.session(config(&emulator, CUSTOMER));
    let (mut n, mut c, mut d, mut p, mut v) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..11 {
        // Round 0 warms up all of them and is not counted.
        let counted = round > 0;
        let keep = |list: &mut Vec<Duration>, t: Instant| {
            if counted {
                list.push(t.elapsed());
            }
        };
        for _ in 0..samples / 10 {
            let t = Instant::now();
            let a = native.get_agent(AGENT).await?;
            keep(&mut n, t);
            assert_eq!(a.user_object_id.as_deref(), Some(AGENT));
            let t = Instant::now();
            let a = session.get_agent(AGENT.into(), None, None).await;
            keep(&mut c, t);
            assert_eq!(
                a.map(|a| a.user_object_id).ok().flatten().as_deref(),
                Some(AGENT)
            );
            let t = Instant::now();
            let a = default_sender.get_agent(AGENT.into(), None, None).await;
            keep(&mut d, t);
            assert!(a.is_ok());
            let t = Instant::now();
            let a = pooled_session.get_agent(AGENT.into(), None, None).await;
            keep(&mut p, t);
            assert!(a.is_ok());
            // The same call refused by validation: the cost of a call without any HTTP.
            let t = Instant::now();
            let a = session.get_agent(String::new(), None, None).await;
            keep(&mut v, t);
            assert!(matches!(
                a,
                Err(CallError::Api(types::Error::InvalidInput(_)))
            ));
        }
    }
    let v = stats(&mut v);
    println!(
        "a call refused by validation (no HTTP): median {} p99 {}",
        us(v.median),
        us(v.p99)
    );
    rows.push(Row {
        measure: "a call without HTTP (refused by validation), median".into(),
        smartcomm: us(v.median),
        baseline: "".into(),
        ratio: "".into(),
        target: "",
    });
    let (n, c, d, p) = (stats(&mut n), stats(&mut c), stats(&mut d), stats(&mut p));
    println!(
        "get-agent in-process with the pooling allocator: median {} p99 {} ({:.2}x)",
        us(p.median),
        us(p.p99),
        ratio(p.median, n.median)
    );
    rows.push(Row::compared(
        "`get-agent` in-process, median, pooling allocator",
        p.median,
        n.median,
        us,
        "",
    ));
    println!(
        "get-agent in-process: native median {} p99 {}; smartcomm median {} p99 {} ({:.2}x, p99 {:.2}x); \
         with the default sender median {} ({:.2}x)",
        us(n.median),
        us(n.p99),
        us(c.median),
        us(c.p99),
        ratio(c.median, n.median),
        ratio(c.p99, n.p99),
        us(d.median),
        ratio(d.median, n.median),
    );
    rows.push(Row::compared(
        "`get-agent` in-process, median",
        c.median,
        n.median,
        us,
        "≤ 1.10",
    ));
    rows.push(Row::compared(
        "`get-agent` in-process, p99",
        c.p99,
        n.p99,
        us,
        "",
    ));
    rows.push(Row::compared(
        "`get-agent` in-process, median, default sender",
        d.median,
        n.median,
        us,
        "",
    ));
    drop(default_sender);
    drop(pooled_session);
    drop(pooled_runtime);

    // 3: whole processes.
    let cli = Path::new(env!("CARGO_BIN_EXE_smartcomm"));
    let this = std::env::current_exe()?;
    let env = process_env(&emulator);
    let (mut warm, mut native_runs, mut cold) = (Vec::new(), Vec::new(), Vec::new());
    let cold_runs = if quick { 3 } else { 5 };
    for i in 0..=process_runs {
        let w = time_process(
            Command::new(cli)
                .args(["get-agent", AGENT])
                .envs(env.clone())
                .env("SMARTCOMM_CACHE_DIR", &warm_cache),
        )
        .await?;
        let n = time_process(
            Command::new(&this)
                .arg(NATIVE_PROCESS)
                .arg(AGENT)
                .envs(env.clone()),
        )
        .await?;
        // The first pair warms the file cache and is not counted.
        if i > 0 {
            warm.push(w);
            native_runs.push(n);
        }
        if i > 0 && i <= cold_runs {
            let empty = scratch.join(format!("cold-cache-{i}"));
            cold.push(
                time_process(
                    Command::new(cli)
                        .args(["get-agent", AGENT])
                        .envs(env.clone())
                        .env("SMARTCOMM_CACHE_DIR", &empty),
                )
                .await?,
            );
        }
    }
    let (w, n, k) = (
        stats(&mut warm).median,
        stats(&mut native_runs).median,
        stats(&mut cold).median,
    );
    println!(
        "whole process `get-agent`: native {}; smartcomm warm cache {} ({:.2}x), cold cache {} ({:.2}x)",
        ms(n),
        ms(w),
        ratio(w, n),
        ms(k),
        ratio(k, n)
    );
    rows.push(Row::compared(
        "`smartcomm get-agent` process, warm cache, median",
        w,
        n,
        ms,
        "≤ 1.50",
    ));
    rows.push(Row::compared(
        "`smartcomm get-agent` process, cold cache, median",
        k,
        n,
        ms,
        "",
    ));

    // 4: instantiation from the InstancePre, on demand and pooled.
    let pooled = self::runtime(&warm_cache, true, Some(16))?;
    let (mut on_demand, mut from_pool) = (Vec::new(), Vec::new());
    for round in 0..11 {
        for _ in 0..samples / 10 {
            let t = Instant::now();
            runtime.instantiate_once().await?;
            let a = t.elapsed();
            let t = Instant::now();
            pooled.instantiate_once().await?;
            let b = t.elapsed();
            if round > 0 {
                on_demand.push(a);
                from_pool.push(b);
            }
        }
    }
    let (o, p) = (stats(&mut on_demand), stats(&mut from_pool));
    println!(
        "instantiate: on demand median {} p99 {}; pooling allocator median {} p99 {} ({:.2}x)",
        us(o.median),
        us(o.p99),
        us(p.median),
        us(p.p99),
        ratio(p.median, o.median)
    );
    rows.push(Row::compared(
        "instantiate from `InstancePre`, pooling vs on-demand allocator, median",
        p.median,
        o.median,
        us,
        "",
    ));
    drop(pooled);

    // 5: bulk onboarding of 10,000 agents, 10 per request.
    let count = 10_000;
    let latencies: &[u64] = if quick { &[0] } else { &[0, 20] };
    for &latency in latencies {
        // The floor: the native client sending the same 1,000 requests one after another.
        emulator.reset();
        emulator.set_latency("*", Duration::from_millis(latency));
        let native_bulk = native_sequential_onboard(&emulator, count).await?;
        println!(
            "bulk native, {latency} ms latency: {} ({:.0} agents/s)",
            ms(native_bulk),
            count as f64 / native_bulk.as_secs_f64()
        );
        let mut by_sender = Vec::new();
        for reuse in [true, false] {
            emulator.reset();
            emulator.set_latency("*", Duration::from_millis(latency));
            let runtime = self::runtime(&warm_cache, reuse, None)?;
            let mut session = runtime.session(config(&emulator, CUSTOMER));
            let before = emulator.connections_accepted();
            session
                .authenticate()
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let took = timed_onboard(&mut session, count, "b").await?;
            let posts = emulator
                .requests()
                .iter()
                .filter(|r| r.route == "POST /agents")
                .count();
            let connections = emulator.connections_accepted() - before;
            let rate = count as f64 / took.as_secs_f64();
            println!(
                "bulk {count} agents, {latency} ms latency, {}: {} ({rate:.0} agents/s), \
                 {posts} onboard requests, {connections} connections",
                if reuse { "pooled" } else { "default sender" },
                ms(took)
            );
            by_sender.push((took, posts, connections));
        }
        let (pooled, _, _) = by_sender[0];
        let (unpooled, _, _) = by_sender[1];
        for ((took, posts, connections), sender) in by_sender.iter().zip(["pooled", "default"]) {
            let nominal = if latency == 0 {
                String::new()
            } else {
                format!(
                    "; {:.3} of 1,000 × {latency} ms",
                    ratio(*took, Duration::from_millis(latency * 1000))
                )
            };
            let (baseline, r, target) = (
                format!("native {}", ms(native_bulk)),
                format!("{:.3}{nominal}", ratio(*took, native_bulk)),
                if latency > 0 && sender == "pooled" {
                    "≤ 1.10"
                } else {
                    ""
                },
            );
            rows.push(Row {
                measure: format!(
                    "bulk onboard 10,000 agents, {latency} ms latency, {sender} sender \
                     ({posts} requests, {connections} connections, {:.0} agents/s)",
                    count as f64 / took.as_secs_f64()
                ),
                smartcomm: ms(*took),
                baseline,
                ratio: r,
                target,
            });
        }
        let speedup = ratio(unpooled, pooled);
        println!("pooled vs default sender at {latency} ms: {speedup:.2}x faster");
        rows.push(Row {
            measure: format!("bulk at {latency} ms: pooled speed-up over the default sender"),
            smartcomm: ms(pooled),
            baseline: ms(unpooled),
            ratio: format!("{speedup:.2}× faster"),
            target: if latency == 0 { "≥ 2×" } else { "" },
        });
    }

    // 6: bulk onboarding with several requests in flight, at 20 ms latency, against the native
    // client's sequential floor; then against an API that takes only 3 requests in flight.
    let count = if quick { 2_000 } else { 10_000 };
    let latency = Duration::from_millis(20);
    emulator.reset();
    emulator.set_latency("*", latency);
    let native_floor = native_sequential_onboard(&emulator, count).await?;
    println!(
        "native sequential floor, {count} agents at 20 ms: {}",
        ms(native_floor)
    );
    let limited = Emulator::start(EmulatorOptions {
        max_in_flight: Some(3),
        latency,
        ..Default::default()
    })
    .await?;
    for (concurrency, api) in [
        (1, &emulator),
        (4, &emulator),
        (8, &emulator),
        (8, &limited),
    ] {
        api.reset();
        api.set_latency("*", latency);
        let runtime = self::runtime(&warm_cache, true, None)?;
        let mut session = runtime.session(config_at(api, CUSTOMER, concurrency));
        let throttled_before = api.throttled();
        let took = timed_onboard(&mut session, count, "c").await?;
        let requests = api.requests();
        let posts = requests
            .iter()
            .filter(|r| r.route == "POST /agents")
            .count();
        let authenticates = requests
            .iter()
            .filter(|r| r.route.ends_with("/authenticate"))
            .count();
        let throttled = api.throttled() - throttled_before;
        let path: Vec<usize> = session
            .stats()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .limit_path
            .into_iter()
            .map(|l| l as usize)
            .collect();
        let api_name = if std::ptr::eq(api, &limited) {
            "an API taking 3 in flight"
        } else {
            "the emulator"
        };
        let speedup = ratio(native_floor, took);
        println!(
            "bulk {count} agents at 20 ms, concurrency {concurrency}, {api_name}: {} \
             ({:.0} agents/s, {speedup:.2}x the native floor), {posts} onboard requests \
             ({throttled} answered 429), {authenticates} authenticate, limit path {path:?}",
            ms(took),
            count as f64 / took.as_secs_f64()
        );
        rows.push(Row {
            measure: format!(
                "bulk onboard {count} agents at 20 ms, concurrency {concurrency}, {api_name} \
                 ({posts} onboard requests, {throttled} of them 429, {authenticates} \
                 authenticate, limit path {})",
                limit_path(&path)
            ),
            smartcomm: ms(took),
            baseline: format!("native sequential {}", ms(native_floor)),
            ratio: format!("{speedup:.2}× faster"),
            target: if concurrency == 8 && api_name == "the emulator" {
                "≥ 6×"
            } else {
                ""
            },
        });
    }
    drop(limited);

    // 7: roster sync. A plan of a large tenant with nothing to change, one with 1,000 changes,
    // and an apply of 1,000 onboards, 500 updates and 100 removals at 20 ms.
    let tenant_size = if quick { 2_000 } else { 10_000 };
    emulator.reset();
    emulator.set_latency("*", Duration::ZERO);
    let runtime = self::runtime(&warm_cache, true, None)?;
    let mut seeder = runtime.session(config_at(&emulator, CUSTOMER, 8));
    timed_onboard(&mut seeder, tenant_size, "t").await?;
    let roster: Vec<types::DesiredAgent> = (0..tenant_size)
        .map(|i| desired(new_agent(&format!("t{i}"))))
        .collect();
    let mut native = NativeClient::connect(&emulator).await?;
    native.authenticate().await?;
    let list = Requests::new(CUSTOMER).list_agents(&smartcomm::model::AgentFilter {
        tenant_id: Some("tenant-1".into()),
        ..Default::default()
    });
    let mut native_list = Vec::new();
    let mut plans = Vec::new();
    let mut session = runtime.session(config(&emulator, CUSTOMER));
    session
        .authenticate()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for _ in 0..if quick { 2 } else { 5 } {
        let t = Instant::now();
        let raw = native.send(&list).await?;
        let listed = response::agent_list(&raw, now()).map_err(|e| anyhow::anyhow!("{e}"))?;
        native_list.push(t.elapsed());
        anyhow::ensure!(listed.len() == tenant_size, "{} listed", listed.len());
        let before = emulator.requests().len();
        let t = Instant::now();
        let plan = session
            .sync_plan(roster.clone(), plan_options())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        plans.push(t.elapsed());
        anyhow::ensure!(plan.changes.is_empty() && plan.summary.unchanged == tenant_size as u32);
        let sent: Vec<String> = emulator.requests()[before..]
            .iter()
            .map(|r| r.route.clone())
            .collect();
        anyhow::ensure!(
            sent == ["POST /rest/v1/authenticate", "GET /agents"],
            "a plan with nothing to change sent {sent:?}"
        );
    }
    let (list_time, plan_time) = (stats(&mut native_list).median, stats(&mut plans).median);
    println!(
        "sync plan, {tenant_size}-agent tenant, nothing to change: {} (native list request {}, \
         the plan's own time beyond it {}); requests: 1 authenticate, 1 list, no write",
        ms(plan_time),
        ms(list_time),
        ms(plan_time.saturating_sub(list_time))
    );
    rows.push(Row {
        measure: format!(
            "sync plan of a {tenant_size}-agent tenant, nothing to change (1 authenticate + 1 list \
             requests, no write; own time beyond the list {})",
            ms(plan_time.saturating_sub(list_time))
        ),
        smartcomm: ms(plan_time),
        baseline: format!("native list request {}", ms(list_time)),
        ratio: format!("{:.2}", ratio(plan_time, list_time)),
        target: "",
    });
    let mut changed = roster.clone();
    for d in changed.iter_mut().take(1_000) {
        d.agent.department = Some("Moved".into());
    }
    let t = Instant::now();
    let plan = session
        .sync_plan(changed, plan_options())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let changes_time = t.elapsed();
    anyhow::ensure!(plan.summary.update == 1_000);
    println!(
        "sync plan, {tenant_size}-agent tenant, 1,000 changes: {} (nothing to change: {})",
        ms(changes_time),
        ms(plan_time)
    );
    rows.push(Row {
        measure: format!("sync plan of a {tenant_size}-agent tenant with 1,000 updates"),
        smartcomm: ms(changes_time),
        baseline: format!("nothing to change {}", ms(plan_time)),
        ratio: format!("{:.2}", ratio(changes_time, plan_time)),
        target: "",
    });

    // The apply: 1,000 live agents (500 to update, 100 absent, 400 as they are) and 1,000 new.
    emulator.reset();
    emulator.set_latency("*", Duration::ZERO);
    const NATIVE_CUSTOMER: &str = "87654321";
    let mut seeder = runtime.session(config_at(&emulator, CUSTOMER, 8));
    timed_onboard(&mut seeder, 1_000, "l").await?;
    let mut native_seeder = runtime.session(config_at(&emulator, NATIVE_CUSTOMER, 8));
    timed_onboard(&mut native_seeder, 1_000, "l").await?;
    let mut roster: Vec<types::DesiredAgent> = (0..900)
        .map(|i| desired(new_agent(&format!("l{i}"))))
        .collect();
    for d in roster.iter_mut().take(500) {
        d.agent.department = Some("Moved".into());
    }
    roster.extend((0..1_000).map(|i| desired(new_agent(&format!("new{i}")))));
    let mut session = runtime.session(config(&emulator, CUSTOMER));
    let plan = session
        .sync_plan(roster, plan_options())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let s = &plan.summary;
    anyhow::ensure!((s.onboard, s.update, s.deactivate) == (1_000, 500, 100));
    emulator.set_latency("*", latency);
    let before = emulator.requests().len();
    let t = Instant::now();
    let report = session
        .sync_apply(
            plan,
            types::ApplyOptions {
                continue_on_error: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let apply_time = t.elapsed();
    anyhow::ensure!(report.summary.succeeded == 1_600, "{:?}", report.summary);
    let sent = &emulator.requests()[before..];
    let count = |route: &str| sent.iter().filter(|r| r.route == route).count();
    let (lists, posts, patches) = (
        count("GET /agents"),
        count("POST /agents"),
        count("PATCH /agents"),
    );
    anyhow::ensure!(
        posts == 100 && patches == 60,
        "{posts} onboard, {patches} update requests"
    );

    // The floor: the native client sending the same requests one after another.
    let mut native = NativeClient::open(
        &emulator.base_url(),
        &emulator.auth_url(),
        emulator.username(),
        emulator.password(),
        NATIVE_CUSTOMER,
    )
    .await?;
    native.authenticate().await?;
    let requests = Requests::new(NATIVE_CUSTOMER);
    let onboards: Vec<NewAgent> = (0..1_000)
        .map(|i| model_agent(&format!("new{i}")))
        .collect();
    let update =
        |i: usize, changes: smartcomm::model::AgentChanges| smartcomm::model::AgentUpdate {
            target: smartcomm::model::AgentRef {
                identifier: smartcomm::model::IdentifierKind::UserObjectId,
                value: format!("l{i}"),
            },
            updates: changes,
        };
    let updates: Vec<_> = (0..500)
        .map(|i| {
            update(
                i,
                smartcomm::model::AgentChanges {
                    department: Some("Moved".into()),
                    ..Default::default()
                },
            )
        })
        .collect();
    let deactivations: Vec<_> = (900..1_000)
        .map(|i| {
            update(
                i,
                smartcomm::model::AgentChanges {
                    active: Some(false),
                    ..Default::default()
                },
            )
        })
        .collect();
    let native_list = requests.list_agents(&smartcomm::model::AgentFilter {
        tenant_id: Some("tenant-1".into()),
        ..Default::default()
    });
    let t = Instant::now();
    native.send(&native_list).await?;
    for chunk in onboards.chunks(10) {
        native
            .send(&requests.onboard_agents(chunk, Some(true), None))
            .await?;
    }
    for chunk in updates.chunks(10).chain(deactivations.chunks(10)) {
        native
            .send(&requests.update_agents(chunk, Some(true)))
            .await?;
    }
    let native_apply = t.elapsed();
    println!(
        "sync apply, 1,000 onboards + 500 updates + 100 deactivations at 20 ms: {} \
         (native sequential {}); requests: {lists} list, {posts} onboard, {patches} update",
        ms(apply_time),
        ms(native_apply)
    );
    rows.push(Row {
        measure: format!(
            "sync apply at 20 ms: 1,000 onboards, 500 updates, 100 deactivations ({lists} list, \
             {posts} onboard, {patches} update requests)"
        ),
        smartcomm: ms(apply_time),
        baseline: format!("native sequential {}", ms(native_apply)),
        ratio: format!("{:.2}", ratio(apply_time, native_apply)),
        target: "≤ 1.10",
    });
    emulator.set_latency("*", Duration::ZERO);

    // 8: size.
    let size = match component() {
        ComponentSource::Path(path) => std::fs::metadata(path)?.len() as usize,
        _ => EMBEDDED_COMPONENT.len(),
    };
    println!("component: {size} bytes ({:.1} KiB)", size as f64 / 1024.0);
    rows.push(Row {
        measure: "release component size".into(),
        smartcomm: format!("{:.1} KiB", size as f64 / 1024.0),
        baseline: "250 KiB".into(),
        ratio: format!("{:.2}", size as f64 / (250.0 * 1024.0)),
        target: "≤ 1.00",
    });

    let _ = std::fs::remove_dir_all(&scratch);
    println!("\n| measure | smartcomm | baseline | ratio | target |\n|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            row.measure, row.smartcomm, row.baseline, row.ratio, row.target
        );
    }
    Ok(())
}

/// The tests' config with `concurrency` requests in flight.
fn config_at(emulator: &Emulator, customer: &str, concurrency: u32) -> smartcomm_host::Config {
    let mut config = config(emulator, customer);
    config.concurrency = Some(concurrency);
    config
}

/// How long `session` takes to onboard `count` new agents, every one of them succeeding.
async fn timed_onboard(
    session: &mut smartcomm_host::Session,
    count: usize,
    prefix: &str,
) -> anyhow::Result<Duration> {
    let agents: Vec<_> = (0..count)
        .map(|i| new_agent(&format!("{prefix}{i}")))
        .collect();
    let t = Instant::now();
    let outcomes = session
        .onboard_agents(agents, onboard_options(None))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let took = t.elapsed();
    let onboarded = outcomes
        .iter()
        .filter(|o| matches!(o, types::ItemOutcome::Succeeded))
        .count();
    anyhow::ensure!(onboarded == count, "{onboarded} of {count} onboarded");
    Ok(took)
}

/// The floor of bulk onboarding: the native client sending `count` agents ten per request,
/// one request after another, on one connection.
async fn native_sequential_onboard(emulator: &Emulator, count: usize) -> anyhow::Result<Duration> {
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

/// A limit's path, shortened when long: its first and last values and its extremes.
fn limit_path(path: &[usize]) -> String {
    if path.len() <= 8 {
        return format!("{path:?}");
    }
    let (min, max) = (path.iter().min().unwrap(), path.iter().max().unwrap());
    format!(
        "{} → … → {} ({} changes, between {min} and {max})",
        path[0],
        path[path.len() - 1],
        path.len() - 1
    )
}

/// The embedded component, or the one `SMARTCOMM_BENCH_COMPONENT` names, to compare builds
/// (the whole-process figures always use the CLI's embedded one).
fn component() -> ComponentSource {
    match std::env::var_os("SMARTCOMM_BENCH_COMPONENT") {
        Some(path) => ComponentSource::Path(path.into()),
        None => ComponentSource::Embedded,
    }
}

fn runtime(cache: &Path, reuse_connections: bool, pooled: Option<u32>) -> anyhow::Result<Runtime> {
    Runtime::new(RuntimeOptions {
        component: component(),
        cache_dir: Some(cache.to_path_buf()),
        reuse_connections,
        pooled_instances: pooled,
        ..Default::default()
    })
}

fn process_env(emulator: &Emulator) -> Vec<(String, String)> {
    vec![
        ("SMARTCOMM_API_URL".into(), emulator.base_url()),
        ("SMARTCOMM_AUTH_URL".into(), emulator.auth_url()),
        ("SMARTCOMM_CUSTOMER_ID".into(), CUSTOMER.into()),
        ("SMARTCOMM_USERNAME".into(), emulator.username().into()),
        ("SMARTCOMM_PASSWORD".into(), emulator.password().into()),
    ]
}

async fn time_process(command: &mut Command) -> anyhow::Result<Duration> {
    let mut command = std::mem::replace(command, Command::new("true"));
    tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let output = command.output()?;
        let took = t.elapsed();
        anyhow::ensure!(
            output.status.success()
                && output
                    .stdout
                    .windows(AGENT.len())
                    .any(|w| w == AGENT.as_bytes()),
            "{:?} failed: {}",
            command.get_program(),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(took)
    })
    .await?
}

fn model_agent(uoid: &str) -> NewAgent {
    serde_json::from_value(serde_json::json!({
        "user_object_id": uoid,
        "tenant_id": "tenant-1",
        "name": format!("Agent {uoid}"),
        "upn": format!("{uoid}@example.com"),
        "consistency_id": format!("cid-{uoid}"),
    }))
    .expect("a valid agent")
}

/// The floor: a native Rust client (hyper, one keep-alive connection) making the same HTTP
/// calls and parsing the answers with the same code the component uses.
struct NativeClient {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    auth_path: String,
    username: String,
    password: String,
    token: String,
    requests: Requests,
}

impl NativeClient {
    async fn connect(emulator: &Emulator) -> anyhow::Result<NativeClient> {
        Self::open(
            &emulator.base_url(),
            &emulator.auth_url(),
            emulator.username(),
            emulator.password(),
            CUSTOMER,
        )
        .await
    }

    async fn open(
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

    async fn authenticate(&mut self) -> anyhow::Result<()> {
        let body = serde_json::json!({"username": self.username, "password": self.password});
        let path = self.auth_path.clone();
        let raw = self
            .exchange("POST", &path, Some(body.to_string()), false)
            .await?;
        self.token = response::token(&raw, now()).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }

    async fn send(&mut self, request: &ApiRequest) -> anyhow::Result<RawResponse> {
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

    async fn get_agent(&mut self, id: &str) -> anyhow::Result<Agent> {
        let request = self.requests.get_agent(id, None, None);
        let raw = self.send(&request).await?;
        response::agent(&raw, now()).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The native whole-process baseline: what `smartcomm get-agent ID` does, without wasm.
fn native_process(id: &str) -> anyhow::Result<()> {
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
