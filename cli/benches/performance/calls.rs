//! One call at a time: loading the component, a `get-agent` in process and as a whole
//! process, and instantiation, against the native client.

use crate::common::{CUSTOMER, Operations, config, new_agent, onboard_options};
use crate::native::{NATIVE_PROCESS, NativeClient, process_env, time_process};
use crate::report::{Bench, Row, ms, ratio, stats, us};
use smartcomm_host::{CallError, Compilation, Runtime, Session, types};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The agent every call reads.
pub const AGENT: &str = "bench-agent";

/// Loading: a cold cache compiles with Cranelift, a warm one only maps compiled code.
pub fn loading(bench: &mut Bench) -> anyhow::Result<Runtime> {
    let started = Instant::now();
    let cold = bench.runtime(true, None)?;
    let compile_time = started.elapsed();
    assert_eq!(cold.compilation(), Compilation::Compiled);
    let started = Instant::now();
    let runtime = bench.runtime(true, None)?;
    let load_time = started.elapsed();
    assert_eq!(
        runtime.compilation(),
        Compilation::Cached,
        "a warm start must not compile"
    );
    println!(
        "load: compile {} (Compilation::Compiled), from cache {} (Compilation::Cached, no Cranelift)",
        ms(compile_time),
        ms(load_time)
    );
    bench.push(Row {
        measure: "Runtime::new, warm cache vs compiling".into(),
        smartcomm: ms(load_time),
        baseline: ms(compile_time),
        ratio: format!("{:.4}", ratio(load_time, compile_time)),
        target: "no compilation when warm",
    });
    Ok(runtime)
}

/// Timings of one `get-agent` per call, each sender's samples.
#[derive(Default)]
struct GetSamples {
    native: Vec<Duration>,
    session: Vec<Duration>,
    default_sender: Vec<Duration>,
    pooling_allocator: Vec<Duration>,
    refused: Vec<Duration>,
}

/// One `get-agent` per call on a warm instance, against the native client; and a call refused
/// by validation, which sends nothing.
pub async fn get_agent(bench: &mut Bench, runtime: &Runtime) -> anyhow::Result<()> {
    let mut session = runtime.session(config(&bench.emulator, CUSTOMER));
    let mut agent = new_agent(AGENT);
    agent.upn = Some("bench@example.com".into());
    let outcomes = session
        .onboard_agents(vec![agent], onboard_options(None))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert!(matches!(outcomes[..], [types::ItemOutcome::Succeeded]));
    let samples = sample_get_agent(bench, &mut session).await?;
    let refused = stats(&mut { samples.refused });
    println!(
        "a call refused by validation (no HTTP): median {} p99 {}",
        us(refused.median),
        us(refused.p99)
    );
    bench.push(Row {
        measure: "a call without HTTP (refused by validation), median".into(),
        smartcomm: us(refused.median),
        baseline: "".into(),
        ratio: "".into(),
        target: "",
    });
    let n = stats(&mut { samples.native });
    let c = stats(&mut { samples.session });
    let d = stats(&mut { samples.default_sender });
    let p = stats(&mut { samples.pooling_allocator });
    println!(
        "get-agent in-process: native median {} p99 {}; smartcomm median {} p99 {} ({:.2}x, \
         p99 {:.2}x); with the default sender median {} ({:.2}x); with the pooling allocator \
         median {} ({:.2}x)",
        us(n.median),
        us(n.p99),
        us(c.median),
        us(c.p99),
        ratio(c.median, n.median),
        ratio(c.p99, n.p99),
        us(d.median),
        ratio(d.median, n.median),
        us(p.median),
        ratio(p.median, n.median),
    );
    for (measure, figure, target) in [
        (
            "`get-agent` in-process, median, pooling allocator",
            p.median,
            "",
        ),
        ("`get-agent` in-process, median", c.median, "≤ 1.10"),
        ("`get-agent` in-process, p99", c.p99, ""),
        (
            "`get-agent` in-process, median, default sender",
            d.median,
            "",
        ),
    ] {
        let baseline = if measure.contains("p99") {
            n.p99
        } else {
            n.median
        };
        bench.push(Row::compared(measure, figure, baseline, us, target));
    }
    Ok(())
}

/// The samples of [`get_agent`]: the senders side by side, round after round.
async fn sample_get_agent(bench: &Bench, session: &mut Session) -> anyhow::Result<GetSamples> {
    let mut native = NativeClient::connect(&bench.emulator).await?;
    native.authenticate().await?;
    let mut default_sender = bench
        .runtime(false, None)?
        .session(config(&bench.emulator, CUSTOMER));
    let pooled_runtime = bench.runtime(true, Some(16))?;
    let mut pooled_session = pooled_runtime.session(config(&bench.emulator, CUSTOMER));
    let mut samples = GetSamples::default();
    for round in 0..11 {
        // Round 0 warms up all of them and is not counted.
        let counted = round > 0;
        let keep = |list: &mut Vec<Duration>, t: Instant| {
            if counted {
                list.push(t.elapsed());
            }
        };
        for _ in 0..bench.samples / 10 {
            let t = Instant::now();
            let a = native.get_agent(AGENT).await?;
            keep(&mut samples.native, t);
            assert_eq!(a.user_object_id.as_deref(), Some(AGENT));
            let t = Instant::now();
            let a = session.get_agent(AGENT.into(), None, None).await;
            keep(&mut samples.session, t);
            assert_eq!(
                a.map(|a| a.user_object_id).ok().flatten().as_deref(),
                Some(AGENT)
            );
            let t = Instant::now();
            let a = default_sender.get_agent(AGENT.into(), None, None).await;
            keep(&mut samples.default_sender, t);
            assert!(a.is_ok());
            let t = Instant::now();
            let a = pooled_session.get_agent(AGENT.into(), None, None).await;
            keep(&mut samples.pooling_allocator, t);
            assert!(a.is_ok());
            let t = Instant::now();
            let a = session.get_agent(String::new(), None, None).await;
            keep(&mut samples.refused, t);
            assert!(matches!(
                a,
                Err(CallError::Api(types::Error::InvalidInput(_)))
            ));
        }
    }
    Ok(samples)
}

/// `smartcomm get-agent` as a whole process, with a warm and a cold cache, against the native
/// client's process.
pub async fn whole_processes(bench: &mut Bench) -> anyhow::Result<()> {
    let cli = Path::new(env!("CARGO_BIN_EXE_smartcomm"));
    let this = std::env::current_exe()?;
    let env = process_env(&bench.emulator);
    let (mut warm, mut native_runs, mut cold) = (Vec::new(), Vec::new(), Vec::new());
    let cold_runs = if bench.quick { 3 } else { 5 };
    let get = |cache: &Path| {
        let mut command = Command::new(cli);
        command
            .args(["get-agent", AGENT])
            .envs(env.clone())
            .env("SMARTCOMM_CACHE_DIR", cache);
        command
    };
    for i in 0..=bench.process_runs {
        let w = time_process(&mut get(&bench.warm_cache), AGENT).await?;
        let mut native = Command::new(&this);
        native.arg(NATIVE_PROCESS).arg(AGENT).envs(env.clone());
        let n = time_process(&mut native, AGENT).await?;
        // The first pair warms the file cache and is not counted.
        if i > 0 {
            warm.push(w);
            native_runs.push(n);
        }
        if i > 0 && i <= cold_runs {
            let empty = bench.scratch.join(format!("cold-cache-{i}"));
            cold.push(time_process(&mut get(&empty), AGENT).await?);
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
    bench.push(Row::compared(
        "`smartcomm get-agent` process, warm cache, median",
        w,
        n,
        ms,
        "≤ 1.50",
    ));
    bench.push(Row::compared(
        "`smartcomm get-agent` process, cold cache, median",
        k,
        n,
        ms,
        "",
    ));
    Ok(())
}

/// Instantiation from the `InstancePre`, on demand and with the pooling allocator.
pub async fn instantiation(bench: &mut Bench, runtime: &Runtime) -> anyhow::Result<()> {
    let pooled = bench.runtime(true, Some(16))?;
    let (mut on_demand, mut from_pool) = (Vec::new(), Vec::new());
    for round in 0..11 {
        for _ in 0..bench.samples / 10 {
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
    bench.push(Row::compared(
        "instantiate from `InstancePre`, pooling vs on-demand allocator, median",
        p.median,
        o.median,
        us,
        "",
    ));
    Ok(())
}
