//! Roster sync: a plan of a large tenant with nothing to change and with 1,000 changes, and
//! an apply of 1,000 onboards, 500 updates and 100 deactivations at 20 ms, at concurrency 1,
//! 4 and 8, against the native client sending the same requests one after another.

use crate::bulk::{config_at, timed_onboard};
use crate::common::{CUSTOMER, Operations, desired, new_agent, plan_options};
use crate::native::{NativeClient, model_agent, now};
use crate::report::{Bench, Row, ms, ratio, stats};
use smartcomm::model::{
    AgentChanges, AgentFilter, AgentRef, AgentUpdate, IdentifierKind, NewAgent,
};
use smartcomm::request::Requests;
use smartcomm::response;
use smartcomm_host::{Runtime, types};
use std::time::{Duration, Instant};

const NATIVE_CUSTOMER: &str = "87654321";

fn roster(prefix: &str, count: usize) -> Vec<types::DesiredAgent> {
    (0..count)
        .map(|i| desired(new_agent(&format!("{prefix}{i}"))))
        .collect()
}

/// Plans of a tenant of 10,000 agents: with nothing to change (one list, no write), against
/// the native client's list request; and with 1,000 updates.
pub async fn plans(bench: &mut Bench) -> anyhow::Result<()> {
    let tenant_size = if bench.quick { 2_000 } else { 10_000 };
    let emulator = &bench.emulator;
    emulator.reset();
    emulator.set_latency("*", Duration::ZERO);
    let runtime = bench.runtime(true, None)?;
    timed_onboard(
        &mut runtime.session(config_at(emulator, CUSTOMER, 8)),
        tenant_size,
        "t",
    )
    .await?;
    let roster = roster("t", tenant_size);
    let mut native = NativeClient::connect(emulator).await?;
    native.authenticate().await?;
    let list = Requests::new(CUSTOMER).list_agents(&AgentFilter {
        tenant_id: Some("tenant-1".into()),
        ..Default::default()
    });
    let mut session = runtime.session(config_at(emulator, CUSTOMER, 8));
    session.authenticate().await?;
    let (mut native_lists, mut plans) = (Vec::new(), Vec::new());
    for _ in 0..if bench.quick { 2 } else { 5 } {
        let t = Instant::now();
        let raw = native.send(&list).await?;
        let listed = response::agent_list(&raw, now()).map_err(|e| anyhow::anyhow!("{e}"))?;
        native_lists.push(t.elapsed());
        anyhow::ensure!(listed.len() == tenant_size, "{} listed", listed.len());
        let before = emulator.requests().len();
        let t = Instant::now();
        let plan = session.sync_plan(roster.clone(), plan_options()).await?;
        plans.push(t.elapsed());
        anyhow::ensure!(plan.changes.is_empty() && plan.summary.unchanged == tenant_size as u32);
        let sent: Vec<String> = emulator.requests()[before..]
            .iter()
            .map(|r| r.route.clone())
            .collect();
        // A sync call builds its client from the settings, as a step does: it authenticates.
        anyhow::ensure!(
            sent == ["POST /rest/v1/authenticate", "GET /agents"],
            "a plan with nothing to change sent {sent:?}"
        );
    }
    let (list_time, plan_time) = (stats(&mut native_lists).median, stats(&mut plans).median);
    let own = plan_time.saturating_sub(list_time);
    println!(
        "sync plan, {tenant_size}-agent tenant, nothing to change: {} (native list request {}, \
         the plan's own time beyond it {}); requests: 1 authenticate, 1 list, no write",
        ms(plan_time),
        ms(list_time),
        ms(own)
    );
    bench.push(Row {
        measure: format!(
            "sync plan of a {tenant_size}-agent tenant, nothing to change (1 authenticate + 1 \
             list requests, no write; own time beyond the list {})",
            ms(own)
        ),
        smartcomm: ms(plan_time),
        baseline: format!("native list request {}", ms(list_time)),
        ratio: format!("{:.2}", ratio(plan_time, list_time)),
        target: "",
    });
    let mut changed = roster;
    for d in changed.iter_mut().take(1_000) {
        d.agent.department = Some("Moved".into());
    }
    let t = Instant::now();
    let plan = session.sync_plan(changed, plan_options()).await?;
    let changes_time = t.elapsed();
    anyhow::ensure!(plan.summary.update == 1_000);
    println!(
        "sync plan, {tenant_size}-agent tenant, 1,000 changes: {} (nothing to change: {})",
        ms(changes_time),
        ms(plan_time)
    );
    bench.push(Row {
        measure: format!("sync plan of a {tenant_size}-agent tenant with 1,000 updates"),
        smartcomm: ms(changes_time),
        baseline: format!("nothing to change {}", ms(plan_time)),
        ratio: format!("{:.2}", ratio(changes_time, plan_time)),
        target: "",
    });
    Ok(())
}

/// Applies of the same plan (1,000 live agents: 500 to update, 100 absent, 400 as they are;
/// 1,000 new) at 20 ms, at concurrency 1, 4 and 8, against the native sequential floor.
pub async fn applies(bench: &mut Bench) -> anyhow::Result<()> {
    let latency = Duration::from_millis(20);
    let runtime = bench.runtime(true, None)?;
    let floor = native_apply_floor(bench, &runtime, latency).await?;
    for concurrency in [1, 4, 8] {
        let emulator = &bench.emulator;
        emulator.reset();
        emulator.set_latency("*", Duration::ZERO);
        timed_onboard(
            &mut runtime.session(config_at(emulator, CUSTOMER, 8)),
            1_000,
            "l",
        )
        .await?;
        let mut session = runtime.session(config_at(emulator, CUSTOMER, concurrency));
        let plan = session.sync_plan(apply_roster(), plan_options()).await?;
        let s = &plan.summary;
        anyhow::ensure!((s.onboard, s.update, s.deactivate) == (1_000, 500, 100));
        emulator.set_latency("*", latency);
        emulator.clear_requests();
        let t = Instant::now();
        let options = types::ApplyOptions {
            continue_on_error: None,
            approved_removals: None,
        };
        let report = session.sync_apply(plan, options).await?;
        let apply_time = t.elapsed();
        anyhow::ensure!(report.summary.succeeded == 1_600, "{:?}", report.summary);
        let count = |route: &str| {
            emulator
                .requests()
                .iter()
                .filter(|r| r.route == route)
                .count()
        };
        let (lists, posts, patches) = (
            count("GET /agents"),
            count("POST /agents"),
            count("PATCH /agents"),
        );
        anyhow::ensure!(
            posts == 100 && patches == 60,
            "{posts} onboard, {patches} update requests"
        );
        let speedup = ratio(floor, apply_time);
        println!(
            "sync apply, 1,000 onboards + 500 updates + 100 deactivations at 20 ms, concurrency \
             {concurrency}: {} ({speedup:.2}x the native sequential {}); requests: {lists} \
             list, {posts} onboard, {patches} update; peak {} in flight",
            ms(apply_time),
            ms(floor),
            emulator.peak_in_flight()
        );
        bench.push(Row {
            measure: format!(
                "sync apply at 20 ms, concurrency {concurrency}: 1,000 onboards, 500 updates, 100 \
                 deactivations ({lists} list, {posts} onboard, {patches} update requests; peak \
                 {} in flight)",
                emulator.peak_in_flight()
            ),
            smartcomm: ms(apply_time),
            baseline: format!("native sequential {}", ms(floor)),
            ratio: format!("{speedup:.2}× faster"),
            target: if concurrency == 8 { "≥ 5×" } else { "" },
        });
    }
    bench.emulator.set_latency("*", Duration::ZERO);
    Ok(())
}

/// The roster of the apply: 900 of the 1,000 live agents (500 of them moved to another
/// department) and 1,000 new ones.
fn apply_roster() -> Vec<types::DesiredAgent> {
    let mut roster = roster("l", 900);
    for d in roster.iter_mut().take(500) {
        d.agent.department = Some("Moved".into());
    }
    roster.extend(self::roster("new", 1_000));
    roster
}

/// The floor of the apply: the native client sending its requests one after another (a list,
/// 100 onboards, 50 updates and 10 deactivations), on an account seeded as the apply's is.
async fn native_apply_floor(
    bench: &Bench,
    runtime: &Runtime,
    latency: Duration,
) -> anyhow::Result<Duration> {
    let emulator = &bench.emulator;
    emulator.reset();
    emulator.set_latency("*", Duration::ZERO);
    timed_onboard(
        &mut runtime.session(config_at(emulator, NATIVE_CUSTOMER, 8)),
        1_000,
        "l",
    )
    .await?;
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
    let update = |i: usize, changes: AgentChanges| AgentUpdate {
        target: AgentRef {
            identifier: IdentifierKind::UserObjectId,
            value: format!("l{i}"),
        },
        updates: changes,
    };
    let moved = |i| {
        let changes = AgentChanges {
            department: Some("Moved".into()),
            ..Default::default()
        };
        update(i, changes)
    };
    let deactivated = |i| {
        let changes = AgentChanges {
            active: Some(false),
            ..Default::default()
        };
        update(i, changes)
    };
    let updates: Vec<_> = (0..500)
        .map(moved)
        .chain((900..1_000).map(deactivated))
        .collect();
    let list = requests.list_agents(&AgentFilter {
        tenant_id: Some("tenant-1".into()),
        ..Default::default()
    });
    emulator.set_latency("*", latency);
    let t = Instant::now();
    native.send(&list).await?;
    for chunk in onboards.chunks(10) {
        native
            .send(&requests.onboard_agents(chunk, Some(true), None))
            .await?;
    }
    for chunk in updates.chunks(10) {
        native
            .send(&requests.update_agents(chunk, Some(true)))
            .await?;
    }
    let floor = t.elapsed();
    emulator.set_latency("*", Duration::ZERO);
    Ok(floor)
}
