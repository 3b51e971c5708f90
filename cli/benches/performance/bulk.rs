//! Bulk calls: 10,000 agents ten per request, by sender; several requests in flight, through a
//! session and through the steps; an API that throttles; repeats of work already done; an
//! instance's memory with many requests in flight.

use crate::common::{CUSTOMER, Operations, config, new_agent, onboard_options, selector};
use crate::native::{cli_process, native_sequential_onboard};
use crate::report::{Bench, Row, limit_path, mib, ms, ratio};
use smartcomm_emulator::{Emulator, EmulatorOptions};
use smartcomm_host::{Config, types};
use std::time::{Duration, Instant};

/// The tests' config with `concurrency` requests in flight.
pub fn config_at(emulator: &Emulator, customer: &str, concurrency: u32) -> Config {
    let mut config = config(emulator, customer);
    config.concurrency = Some(concurrency);
    config
}

fn agents(prefix: &str, count: usize) -> Vec<types::NewAgent> {
    (0..count)
        .map(|i| new_agent(&format!("{prefix}{i}")))
        .collect()
}

/// How long `ops` takes to onboard `count` new agents, every one of them succeeding.
pub async fn timed_onboard(
    ops: &mut impl Operations,
    count: usize,
    prefix: &str,
) -> anyhow::Result<Duration> {
    let t = Instant::now();
    let outcomes = ops
        .onboard_agents(agents(prefix, count), onboard_options(None))
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

fn count_route(emulator: &Emulator, route: &str) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.route == route)
        .count()
}

/// 10,000 agents, one request at a time, on pooled connections and on the default sender,
/// against the native client sending the same requests one after another.
pub async fn senders(bench: &mut Bench) -> anyhow::Result<()> {
    let count = 10_000;
    let latencies: &[u64] = if bench.quick { &[0] } else { &[0, 20] };
    for &latency in latencies {
        let emulator = &bench.emulator;
        emulator.reset();
        emulator.set_latency("*", Duration::from_millis(latency));
        let native_bulk = native_sequential_onboard(emulator, count).await?;
        println!(
            "bulk native, {latency} ms latency: {} ({:.0} agents/s)",
            ms(native_bulk),
            count as f64 / native_bulk.as_secs_f64()
        );
        let mut by_sender = Vec::new();
        for reuse in [true, false] {
            emulator.reset();
            emulator.set_latency("*", Duration::from_millis(latency));
            let mut session = bench
                .runtime(reuse, None)?
                .session(config_at(emulator, CUSTOMER, 1));
            let before = emulator.connections_accepted();
            session.authenticate().await?;
            let took = timed_onboard(&mut session, count, "b").await?;
            let posts = count_route(emulator, "POST /agents");
            let connections = emulator.connections_accepted() - before;
            println!(
                "bulk {count} agents one request at a time, {latency} ms latency, {}: {} \
                 ({:.0} agents/s), {posts} onboard requests, {connections} connections",
                if reuse { "pooled" } else { "default sender" },
                ms(took),
                count as f64 / took.as_secs_f64()
            );
            by_sender.push((took, posts, connections));
        }
        for ((took, posts, connections), sender) in by_sender.iter().zip(["pooled", "default"]) {
            let nominal = match latency {
                0 => String::new(),
                _ => format!(
                    "; {:.3} of 1,000 × {latency} ms",
                    ratio(*took, Duration::from_millis(latency * 1000))
                ),
            };
            bench.push(Row {
                measure: format!(
                    "bulk onboard 10,000 agents one request at a time, {latency} ms latency, \
                     {sender} sender ({posts} requests, {connections} connections, {:.0} agents/s)",
                    count as f64 / took.as_secs_f64()
                ),
                smartcomm: ms(*took),
                baseline: format!("native {}", ms(native_bulk)),
                ratio: format!("{:.3}{nominal}", ratio(*took, native_bulk)),
                target: if latency > 0 && sender == "pooled" {
                    "≤ 1.10"
                } else {
                    ""
                },
            });
        }
        let (pooled, unpooled) = (by_sender[0].0, by_sender[1].0);
        let speedup = ratio(unpooled, pooled);
        println!("pooled vs default sender at {latency} ms: {speedup:.2}x faster");
        bench.push(Row {
            measure: format!("bulk at {latency} ms: pooled speed-up over the default sender"),
            smartcomm: ms(pooled),
            baseline: ms(unpooled),
            ratio: format!("{speedup:.2}× faster"),
            target: if latency == 0 { "≥ 2×" } else { "" },
        });
    }
    Ok(())
}

/// What one bulk run sent, as the API saw it.
struct Sent {
    posts: usize,
    throttled: u64,
    authenticates: usize,
    peak_in_flight: usize,
}

impl Sent {
    fn of(api: &Emulator, throttled_before: u64) -> Sent {
        let requests = api.requests();
        Sent {
            posts: requests
                .iter()
                .filter(|r| r.route == "POST /agents")
                .count(),
            throttled: api.throttled() - throttled_before,
            authenticates: requests
                .iter()
                .filter(|r| r.route.ends_with("/authenticate"))
                .count(),
            peak_in_flight: api.peak_in_flight(),
        }
    }
}

/// Several requests in flight at 20 ms, through a session at 1, 4 and 8 and through the steps
/// at 8, against the native client's sequential floor.
pub async fn in_flight(bench: &mut Bench) -> anyhow::Result<()> {
    let count = if bench.quick { 2_000 } else { 10_000 };
    let latency = Duration::from_millis(20);
    let emulator = &bench.emulator;
    emulator.reset();
    emulator.set_latency("*", latency);
    let floor = native_sequential_onboard(emulator, count).await?;
    println!(
        "native sequential floor, {count} agents at 20 ms: {}",
        ms(floor)
    );
    let runtime = bench.runtime(true, None)?;
    for (concurrency, steps) in [(1, false), (4, false), (8, false), (8, true)] {
        emulator.reset();
        emulator.set_latency("*", latency);
        let config = config_at(emulator, CUSTOMER, concurrency);
        let (took, path) = if steps {
            let took = timed_onboard(&mut runtime.steps(&config), count, "c").await?;
            (took, None)
        } else {
            let mut session = runtime.session(config);
            let took = timed_onboard(&mut session, count, "c").await?;
            (took, Some(session.stats().await?.limit_path))
        };
        let sent = Sent::of(emulator, 0);
        let face = if steps { "steps" } else { "session" };
        let speedup = ratio(floor, took);
        println!(
            "bulk {count} agents at 20 ms, {face}, concurrency {concurrency}: {} ({:.0} agents/s, \
             {speedup:.2}x the native floor), {} onboard requests, peak {} in flight, {} \
             authenticate, limit path {path:?}",
            ms(took),
            count as f64 / took.as_secs_f64(),
            sent.posts,
            sent.peak_in_flight,
            sent.authenticates
        );
        bench.push(Row {
            measure: format!(
                "bulk onboard {count} agents at 20 ms through the {face}, concurrency \
                 {concurrency} ({} onboard requests, peak {} in flight, {} authenticate{})",
                sent.posts,
                sent.peak_in_flight,
                sent.authenticates,
                path.map_or(String::new(), |p| format!(
                    ", limit path {}",
                    limit_path(&p)
                ))
            ),
            smartcomm: ms(took),
            baseline: format!("native sequential {}", ms(floor)),
            ratio: format!("{speedup:.2}× faster"),
            target: if concurrency == 8 { "≥ 6×" } else { "" },
        });
    }
    Ok(())
}

/// Against an API that takes 3 requests in flight (429 beyond), at 200 ms, with and without
/// `Retry-After`: the throughput against the ceiling of 3 requests per round trip, and the
/// share of requests answered 429.
pub async fn throttled(bench: &mut Bench) -> anyhow::Result<()> {
    let count = if bench.quick { 600 } else { 2_000 };
    let latency = Duration::from_millis(200);
    let runtime = bench.runtime(true, None)?;
    for retry_after in [Some(1), None] {
        let api = Emulator::start(EmulatorOptions {
            max_in_flight: Some(3),
            throttle_retry_after: retry_after,
            latency,
            ..Default::default()
        })
        .await?;
        let mut session = runtime.session(config_at(&api, CUSTOMER, 8));
        session.authenticate().await?;
        let took = timed_onboard(&mut session, count, "h").await?;
        let sent = Sent::of(&api, 0);
        let stats = session.stats().await?;
        let requests = count / 10;
        // The ceiling: 3 requests per round trip, every one applied on its first send.
        let ceiling = latency * (requests as u32).div_ceil(3);
        let efficiency = ratio(ceiling, took);
        let share = sent.throttled as f64 / sent.posts as f64;
        let header = match retry_after {
            Some(s) => format!("Retry-After: {s}"),
            None => "no Retry-After".into(),
        };
        println!(
            "throttled API (3 in flight, 200 ms, {header}), {count} agents at concurrency 8: {} \
             ({:.1}% of the ceiling {}), {} sends of {requests} requests, {} answered 429 \
             ({:.1}%), limit path {:?}",
            ms(took),
            efficiency * 100.0,
            ms(ceiling),
            sent.posts,
            sent.throttled,
            share * 100.0,
            stats.limit_path
        );
        bench.push(Row {
            measure: format!(
                "onboard {count} agents at concurrency 8 against an API taking 3 in flight, \
                 200 ms, {header}: {} sends, {} answered 429 ({:.1}%), limit path {}",
                sent.posts,
                sent.throttled,
                share * 100.0,
                limit_path(&stats.limit_path)
            ),
            smartcomm: ms(took),
            baseline: format!("ceiling {}", ms(ceiling)),
            ratio: format!("{:.1}% of the ceiling", efficiency * 100.0),
            target: "≥ 85%, ≤ 5% answered 429",
        });
    }
    Ok(())
}

/// Repeating 10,000 onboards and then 10,000 offboards that are all done: the requests and
/// the time, against the first run.
pub async fn repeats(bench: &mut Bench) -> anyhow::Result<()> {
    let count = if bench.quick { 2_000 } else { 10_000 };
    let emulator = &bench.emulator;
    emulator.reset();
    emulator.set_latency("*", Duration::ZERO);
    let mut session = bench
        .runtime(true, None)?
        .session(config_at(emulator, CUSTOMER, 8));
    let batch = agents("r", count);
    let selectors: Vec<_> = batch
        .iter()
        .map(|a| selector(types::IdentifierKind::UserObjectId, &[&a.user_object_id]))
        .collect();
    let offboard = types::OffboardOptions {
        continue_on_error: None,
        deprovision_supervised_inbox: None,
    };
    let mut runs = Vec::new();
    for (kind, repeat) in [
        ("onboard", false),
        ("onboard", true),
        ("offboard", false),
        ("offboard", true),
    ] {
        emulator.clear_requests();
        let t = Instant::now();
        let outcomes = match kind {
            "onboard" => {
                session
                    .onboard_agents(batch.clone(), onboard_options(None))
                    .await?
            }
            _ => session.offboard_agents(selectors.clone(), offboard).await?,
        };
        let took = t.elapsed();
        let done = outcomes
            .iter()
            .filter(|o| match o {
                types::ItemOutcome::AlreadyDone(_) => repeat,
                types::ItemOutcome::Succeeded => !repeat,
                _ => false,
            })
            .count();
        anyhow::ensure!(done == count, "{kind}, repeat {repeat}: {done} of {count}");
        let requests: Vec<_> = emulator
            .requests()
            .into_iter()
            .filter(|r| !r.route.ends_with("/authenticate"))
            .collect();
        let reads = requests.iter().filter(|r| r.method == "GET").count();
        let writes = requests.len() - reads;
        println!(
            "{kind} {count} agents{}: {} ({writes} writes, {reads} reads)",
            if repeat { ", all done already" } else { "" },
            ms(took)
        );
        runs.push((took, writes, reads));
        if repeat {
            let (first, again) = (runs[runs.len() - 2], runs[runs.len() - 1]);
            bench.push(Row {
                measure: format!(
                    "repeat {count} {kind}s that are all done, concurrency 8: {} writes, {} \
                     reads (the first run: {} writes)",
                    again.1, again.2, first.1
                ),
                smartcomm: ms(again.0),
                baseline: format!("first run {}", ms(first.0)),
                ratio: format!("{:.2}", ratio(again.0, first.0)),
                target: "≤ 1.1 writes per 10 agents, ≤ 10 reads",
            });
        }
    }
    Ok(())
}

/// The size of an instance's memory after bulk calls at 8 and at 64 in flight, and after a
/// repeat whose read of a 13,500-agent tenant arrives while other requests are in flight.
pub async fn memory(bench: &mut Bench) -> anyhow::Result<()> {
    let emulator = &bench.emulator;
    let runtime = bench.runtime(true, None)?;
    let mut sizes = Vec::new();
    for concurrency in [8, 64] {
        emulator.reset();
        emulator.set_latency("*", Duration::from_millis(20));
        let mut session = runtime.session(config_at(emulator, CUSTOMER, concurrency));
        timed_onboard(&mut session, 5_000, "m").await?;
        let peak = emulator.peak_in_flight();
        let size = session.memory_size().unwrap_or_default();
        println!(
            "memory after onboarding 5,000 agents at concurrency {concurrency} (peak {peak} \
             in flight): {}",
            mib(size)
        );
        sizes.push((concurrency, peak, size));
    }
    // A tenant of 13,500 agents (an 8 MB list: the largest answer the defaults take), then a
    // repeat of 640 of them at 64 in flight: its snapshot of the tenant arrives while the
    // other requests are in flight.
    emulator.reset();
    emulator.set_latency("*", Duration::ZERO);
    let tenant = agents("big", 13_500);
    let mut seeder = runtime.session(config_at(emulator, CUSTOMER, 8));
    seeder
        .onboard_agents(tenant.clone(), onboard_options(Some(true)))
        .await?;
    emulator.set_latency("*", Duration::from_millis(20));
    let mut session = runtime.session(config_at(emulator, CUSTOMER, 64));
    let outcomes = session
        .onboard_agents(tenant[..640].to_vec(), onboard_options(None))
        .await?;
    anyhow::ensure!(
        outcomes
            .iter()
            .all(|o| matches!(o, types::ItemOutcome::AlreadyDone(_))),
        "the repeat converged"
    );
    let size = session.memory_size().unwrap_or_default();
    println!(
        "memory after a repeat at 64 in flight that read a 13,500-agent tenant: {} (peak {} in \
         flight)",
        mib(size),
        emulator.peak_in_flight()
    );
    let limit = 64 << 20;
    for (concurrency, peak, size) in sizes {
        bench.push(Row {
            measure: format!(
                "instance memory after onboarding 5,000 agents at concurrency {concurrency} \
                 (peak {peak} in flight)"
            ),
            smartcomm: mib(size),
            baseline: mib(limit),
            ratio: format!("{:.2}", size as f64 / limit as f64),
            target: "< 1",
        });
    }
    bench.push(Row {
        measure: "instance memory after a repeat at 64 in flight that read a 13,500-agent tenant \
                  (an 8 MB answer)"
            .into(),
        smartcomm: mib(size),
        baseline: mib(limit),
        ratio: format!("{:.2}", size as f64 / limit as f64),
        target: "< 1",
    });
    emulator.set_latency("*", Duration::ZERO);
    Ok(())
}

/// `smartcomm --steps onboard-agents` of 200 agents and `smartcomm sync apply` of a plan of 200
/// onboards, as whole processes against an API answering in 500 ms, at concurrency 1 and 8.
pub async fn at_500_ms(bench: &mut Bench) -> anyhow::Result<()> {
    let emulator = &bench.emulator;
    let roster: Vec<_> = (0..200)
        .map(|i| {
            serde_json::json!({"user_object_id": format!("h{i}"), "tenant_id": "tenant-1",
                               "name": format!("Agent h{i}")})
        })
        .collect();
    let roster = bench.file("roster-200.json", &serde_json::to_string(&roster)?)?;
    let mut times = Vec::new();
    for command in ["steps onboard", "sync apply"] {
        for concurrency in [1, 8] {
            emulator.reset();
            let plan = bench.scratch.join(format!("plan-{concurrency}.json"));
            if command == "sync apply" {
                cli_process(
                    emulator,
                    &[
                        "sync",
                        "plan",
                        roster.to_str().unwrap(),
                        "--out",
                        plan.to_str().unwrap(),
                    ],
                    "",
                )
                .await?;
            }
            emulator.set_latency("*", Duration::from_millis(500));
            let n = concurrency.to_string();
            let args: Vec<&str> = match command {
                "steps onboard" => vec![
                    "--steps",
                    "--concurrency",
                    &n,
                    "onboard-agents",
                    roster.to_str().unwrap(),
                ],
                _ => vec!["--concurrency", &n, "sync", "apply", plan.to_str().unwrap()],
            };
            let took = cli_process(emulator, &args, "\"succeeded\": 200").await?;
            println!(
                "`smartcomm {}` of 200 agents at 500 ms, concurrency {concurrency}: {}",
                args.join(" "),
                ms(took)
            );
            emulator.set_latency("*", Duration::ZERO);
            times.push(took);
        }
        let (one, eight) = (times[times.len() - 2], times[times.len() - 1]);
        bench.push(Row {
            measure: format!(
                "`smartcomm {command}` of 200 agents at 500 ms latency, concurrency 8"
            ),
            smartcomm: ms(eight),
            baseline: format!("concurrency 1 {}", ms(one)),
            ratio: format!("{:.2}× faster", ratio(one, eight)),
            target: "≥ 4×",
        });
    }
    Ok(())
}
