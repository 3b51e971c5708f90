//! smartcomm against a native Rust client, side by side in one run, against the emulator on
//! loopback. `cargo bench -p smartcomm-cli --bench performance` (add `-- --quick` for fewer
//! samples, no 20 ms runs of the senders, and fewer agents in the bulk runs, and
//! `-- --only GROUP,…` for some groups of rows). Prints each figure as it is measured, then a
//! Markdown table. One module per group of rows.

// The end-to-end tests' helpers: the same agents, options and customer.
#[path = "../../../tests/all/common.rs"]
#[allow(dead_code)]
mod common;

mod bulk;
mod calls;
mod graph;
mod native;
mod report;
mod scim;
mod sync;

use report::Bench;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(native::NATIVE_PROCESS) {
        return native::native_process(&args[1]);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|groups| groups.split(',').map(str::to_string).collect());
    // The same runtime shape as the `smartcomm` CLI; the measurements run on a worker, as an
    // embedder's calls do.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async { tokio::spawn(run(quick, only)).await? })
}

/// The groups of rows, by the name `--only` takes.
const GROUPS: [&str; 13] = [
    "calls",
    "processes",
    "instantiation",
    "senders",
    "in-flight",
    "throttled",
    "repeats",
    "memory",
    "sync-plan",
    "sync-apply",
    "scim",
    "graph",
    "500-ms",
];

async fn run(quick: bool, only: Option<Vec<String>>) -> anyhow::Result<()> {
    if let Some(unknown) = only
        .iter()
        .flatten()
        .find(|g| !GROUPS.contains(&g.as_str()))
    {
        anyhow::bail!("no group {unknown}: the groups are {}", GROUPS.join(", "));
    }
    let wanted = |group: &str| only.as_ref().is_none_or(|o| o.iter().any(|g| g == group));
    let mut bench = Bench::start(quick).await?;
    let runtime = calls::loading(&mut bench)?;
    if wanted("calls") {
        calls::get_agent(&mut bench, &runtime).await?;
    }
    if wanted("processes") {
        calls::whole_processes(&mut bench).await?;
    }
    if wanted("instantiation") {
        calls::instantiation(&mut bench, &runtime).await?;
    }
    if wanted("senders") {
        bulk::senders(&mut bench).await?;
    }
    if wanted("in-flight") {
        bulk::in_flight(&mut bench).await?;
    }
    if wanted("throttled") {
        bulk::throttled(&mut bench).await?;
    }
    if wanted("repeats") {
        bulk::repeats(&mut bench).await?;
    }
    if wanted("memory") {
        bulk::memory(&mut bench).await?;
    }
    if wanted("sync-plan") {
        sync::plans(&mut bench).await?;
    }
    if wanted("sync-apply") {
        sync::applies(&mut bench).await?;
    }
    if wanted("scim") {
        scim::scim(&mut bench).await?;
    }
    if wanted("graph") {
        graph::graph(&mut bench).await?;
    }
    // Four runs of about ten seconds each: not in a quick run, unless asked for.
    if wanted("500-ms") && (!quick || only.is_some()) {
        bulk::at_500_ms(&mut bench).await?;
    }
    bench.size()?;
    bench.finish();
    Ok(())
}
