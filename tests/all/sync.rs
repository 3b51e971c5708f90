//! Roster sync end to end: a plan that says exactly what will change, an apply of exactly
//! that plan, the guards (removal cap, stale plans), and convergence after faults.

use crate::cli::{Run, file, json, served_emulator, smartcomm};
use crate::common::*;
use smartcomm_emulator::{Emulator, FaultAction, FaultRule, Role};
use smartcomm_host::{CallError, steps, types};

const STORE: &str = "1234";

fn store_agent(uoid: &str) -> types::NewAgent {
    types::NewAgent {
        store: Some(STORE.into()),
        roles: Some(vec![types::Role::Member]),
        ..new_agent(uoid)
    }
}

fn shared_inbox(number: &str, members: &[&str]) -> types::NewInbox {
    types::NewInbox {
        name: format!("Inbox {number}"),
        type_: types::InboxType::Shared,
        phone_number: number.into(),
        owner: None,
        users: selector(types::IdentifierKind::UserObjectId, members),
    }
}

/// A store of 20 agents `s00`..`s19`, five of them in each of two shared inboxes.
async fn seed_store(emulator: &Emulator) {
    let mut session = runtime().session(config(emulator, CUSTOMER));
    let agents: Vec<types::NewAgent> = (0..20).map(|i| store_agent(&format!("s{i:02}"))).collect();
    let outcomes = session
        .onboard_agents(agents, onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
    let inboxes = vec![
        shared_inbox(&seeded_number(50), &["s00", "s01", "s02", "s03", "s04"]),
        shared_inbox(&seeded_number(51), &["s05", "s06", "s07", "s08", "s09"]),
    ];
    let outcomes = session
        .create_inboxes(inboxes, create_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
}

fn writes(emulator: &Emulator) -> Vec<String> {
    api_requests(emulator)
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.route)
        .collect()
}

/// One roster row: `(user_object_id, roles, messaging number, shared inboxes)`.
fn roster_csv(rows: &[(String, &str, String, String)]) -> String {
    let mut csv = String::from(
        "user_object_id,tenant_id,name,upn,consistency_id,store,roles,messaging_number,shared_inboxes\n",
    );
    for (uoid, roles, number, inboxes) in rows {
        csv.push_str(&format!(
            "{uoid},tenant-1,Agent {uoid},{uoid}@example.com,cid-{uoid},{STORE},{roles},{number},{inboxes}\n"
        ));
    }
    csv
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_roster_from_csv_plans_exactly_its_changes_and_apply_makes_the_account_equal_to_it()
{
    let emulator = emulator().await;
    seed_store(&emulator).await;
    let (inbox_a, inbox_b) = (seeded_number(50), seeded_number(51));
    let mut rows: Vec<(String, &str, String, String)> = (0..18)
        .map(|i| {
            let inbox = match i {
                0..5 => inbox_a.clone(),
                5..10 => inbox_b.clone(),
                _ => String::new(),
            };
            (format!("s{i:02}"), "member", String::new(), inbox)
        })
        .collect();
    // Two move between the inboxes; three change roles or numbers; s18 and s19 are gone.
    rows[0].3 = inbox_b.clone();
    rows[5].3 = inbox_a.clone();
    rows[10].1 = "member;manager";
    rows[11].1 = "admin";
    rows[12].2 = seeded_number(10);
    for i in 0..5 {
        let inbox = if i == 1 {
            inbox_a.clone()
        } else {
            String::new()
        };
        let number = if i == 0 {
            seeded_number(11)
        } else {
            String::new()
        };
        rows.push((format!("n{i}"), "member", number, inbox));
    }
    let roster = file("store-roster.csv", &roster_csv(&rows));
    let plan_file =
        std::env::temp_dir().join(format!("smartcomm-store-plan-{}.json", std::process::id()));
    let roster_arg = roster.to_str().unwrap();
    let plan_arg = plan_file.to_str().unwrap();

    let run = smartcomm(
        Some(&emulator),
        &[
            "sync",
            "plan",
            roster_arg,
            "--out",
            plan_arg,
            "--detailed-exitcode",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 3, "changes are pending: {}", run.stderr);
    assert!(writes(&emulator).len() == 3, "planning writes nothing");
    let readable = &run.stdout;
    for line in [
        "+ onboard Agent n0 (n0)",
        "~ update Agent s10 (s10)",
        "roles: assign manager",
        "roles: assign admin",
        "roles: remove member",
        &format!("phone_number.messaging: (none) → {}", seeded_number(10)),
        "- deactivate Agent s18 (s18)",
        &format!("+ add to shared inbox {inbox_b}: s00"),
        &format!("- remove from shared inbox {inbox_a}: s00"),
        "Plan: 5 to onboard, 3 to update, 2 to deactivate, 0 to offboard, 5 inbox membership changes; 13 unchanged.",
    ] {
        assert!(readable.contains(line), "missing {line:?} in:\n{readable}");
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&plan_file).unwrap().permissions(),
    );
    assert_eq!(
        mode & 0o777,
        0o600,
        "a plan holds names and numbers: its owner's only"
    );
    let plan = json(&std::fs::read_to_string(&plan_file).unwrap());
    assert_eq!(plan["summary"]["onboard"], 5);
    assert_eq!(plan["summary"]["update"], 3);
    assert_eq!(plan["summary"]["deactivate"], 2);
    assert_eq!(plan["summary"]["offboard"], 0);
    assert_eq!(plan["summary"]["unchanged"], 13);

    let run = smartcomm(Some(&emulator), &["sync", "apply", plan_arg], &[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = json(&run.stdout);
    assert_eq!(report["summary"]["succeeded"], 5 + 3 + 2 + 4);

    // The live roster is the desired one.
    let account = emulator.account(CUSTOMER);
    for (uoid, roles, number, inbox) in &rows {
        let agent = account
            .agents
            .iter()
            .find(|a| &a.user_object_id == uoid)
            .unwrap_or_else(|| panic!("{uoid} is onboarded"));
        assert!(agent.active, "{uoid}");
        let want: Vec<Role> = roles
            .split(';')
            .map(|r| serde_json::from_value(serde_json::json!(r)).unwrap())
            .collect();
        assert_eq!(agent.roles.len(), want.len(), "{uoid}");
        assert!(want.iter().all(|r| agent.roles.contains(r)), "{uoid}");
        if !number.is_empty() {
            assert_eq!(agent.messaging_number.as_ref(), Some(number), "{uoid}");
        }
        let member_of: Vec<&str> = account
            .inboxes
            .iter()
            .filter(|i| i.members.contains(uoid))
            .map(|i| i.phone_number.as_str())
            .collect();
        let want_inboxes: Vec<&str> = Some(inbox.as_str())
            .filter(|i| !i.is_empty())
            .into_iter()
            .collect();
        assert_eq!(member_of, want_inboxes, "{uoid}");
    }
    for gone in ["s18", "s19"] {
        let agent = account
            .agents
            .iter()
            .find(|a| a.user_object_id == gone)
            .unwrap();
        assert!(!agent.active, "{gone} is deactivated, not offboarded");
    }

    // In sync now: a second plan is empty and sends no write (through the step functions,
    // as an engine would call them).
    let writes_before = writes(&emulator).len();
    let run = smartcomm(
        Some(&emulator),
        &[
            "--steps",
            "sync",
            "plan",
            roster_arg,
            "--json",
            "--detailed-exitcode",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let second = json(&run.stdout);
    assert_eq!(second["summary"]["onboard"], 0);
    assert_eq!(second["summary"]["update"], 0);
    assert_eq!(second["summary"]["deactivate"], 0);
    assert_eq!(second["summary"]["assignments"], 0);
    assert_eq!(second["summary"]["unchanged"], 25);
    assert_eq!(writes(&emulator).len(), writes_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_roster_missing_half_the_store_is_refused_naming_the_count_and_nothing_is_written() {
    let emulator = emulator().await;
    seed_store(&emulator).await;
    let rows: Vec<(String, &str, String, String)> = (0..10)
        .map(|i| (format!("s{i:02}"), "member", String::new(), String::new()))
        .collect();
    let roster = file("half-store.csv", &roster_csv(&rows));
    let writes_before = writes(&emulator).len();
    let run = smartcomm(
        Some(&emulator),
        &["sync", "plan", roster.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("would remove 10 of the 20 agents in scope, more than the 2 allowed"),
        "{}",
        run.stderr
    );
    // `--dry-run` is refused rather than taken for a rehearsal of an apply.
    let run = smartcomm(
        Some(&emulator),
        &[
            "--dry-run",
            "sync",
            "apply",
            "--desired",
            roster.to_str().unwrap(),
            "--max-removals",
            "10",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("drop --dry-run"), "{}", run.stderr);
    // `apply --desired` has the same guard.
    let run = smartcomm(
        Some(&emulator),
        &["sync", "apply", "--desired", roster.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    assert_eq!(writes(&emulator).len(), writes_before);
    // An explicit cap lets it through: the cap is a guard, not a wall.
    let run = smartcomm(
        Some(&emulator),
        &[
            "sync",
            "plan",
            roster.to_str().unwrap(),
            "--max-removals",
            "10",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)["summary"]["deactivate"], 10);
    // Protected agents are kept: with s10..s17 protected, two removals remain, within the cap,
    // and `apply --desired` plans and applies them in one run.
    let protect = file(
        "protected.txt",
        "# never removed\ns10\ns11\ns12\ns13\ns14\ns15\ns16\ns17\n",
    );
    let run = smartcomm(
        Some(&emulator),
        &[
            "sync",
            "apply",
            "--desired",
            roster.to_str().unwrap(),
            "--protect",
            protect.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("Protected, kept although the roster would remove them: s10, s11"),
        "{}",
        run.stderr
    );
    // The two deactivations, and the roster's empty shared_inboxes take s00..s09 out of the
    // two inboxes (one assignment each).
    let report = json(&run.stdout);
    assert_eq!(report["summary"]["succeeded"], 4, "{report}");
    assert_eq!(
        report["assignments"].as_array().unwrap().len(),
        2,
        "{report}"
    );
    let inactive: Vec<String> = emulator
        .account(CUSTOMER)
        .agents
        .iter()
        .filter(|a| !a.active)
        .map(|a| a.user_object_id.clone())
        .collect();
    assert_eq!(inactive, ["s18", "s19"]);
}

#[tokio::test]
async fn apply_refuses_a_plan_whose_agent_changed_since_and_sends_nothing() {
    let emulator = emulator().await;
    seed_store(&emulator).await;
    let mut session = runtime().session(config(&emulator, CUSTOMER));
    let mut roster: Vec<types::DesiredAgent> = (0..20)
        .map(|i| desired(store_agent(&format!("s{i:02}"))))
        .collect();
    roster[3].agent.department = Some("Pharmacy".into());
    roster[4].agent.department = Some("Deli".into());
    let plan = session.sync_plan(roster, plan_options()).await.unwrap();
    assert_eq!(plan.summary.update, 2);

    // Someone changes s04 by hand between plan and apply.
    let changes = types::AgentChanges {
        city: Some("Springfield".into()),
        ..empty_changes()
    };
    session
        .update_agent("s04".into(), None, changes)
        .await
        .unwrap();
    let writes_before = writes(&emulator).len();
    match session.sync_apply(plan, apply_options()).await {
        Err(CallError::Step(steps::StepError::PermanentStalePlan(stale))) => {
            assert_eq!(stale.len(), 1);
            assert_eq!(stale[0].user_object_id, "s04");
            assert!(
                stale[0].reason.contains("changed since the plan"),
                "{}",
                stale[0].reason
            );
        }
        other => panic!("expected a stale plan, got {other:?}"),
    }
    assert_eq!(writes(&emulator).len(), writes_before, "nothing was sent");
    let account = emulator.account(CUSTOMER);
    let s03 = account
        .agents
        .iter()
        .find(|a| a.user_object_id == "s03")
        .unwrap();
    assert_eq!(
        s03.department, None,
        "not even the unchanged agent's update"
    );
}

#[tokio::test]
async fn an_edited_plan_is_refused_by_its_fingerprint() {
    let (_emulator, mut session) = setup().await;
    let plan = session
        .sync_plan(vec![desired(new_agent("a1"))], plan_options())
        .await
        .unwrap();
    let mut edited = plan.clone();
    edited.changes[0].name = "Someone else".into();
    match session.sync_apply(edited, apply_options()).await {
        Err(CallError::Api(types::Error::InvalidInput(problems))) => {
            assert_eq!(problems[0].field, "fingerprint");
        }
        other => panic!("expected the fingerprint to refuse it, got {other:?}"),
    }
}

/// How many onboard requests carried each agent.
fn onboard_requests_of(emulator: &Emulator, uoid: &str) -> usize {
    api_requests(emulator)
        .iter()
        .filter(|r| r.route == "POST /agents")
        .filter(|r| {
            r.body
                .as_array()
                .is_some_and(|items| items.iter().any(|i| i["user_object_id"] == uoid))
        })
        .count()
}

#[tokio::test]
async fn after_a_lost_answer_and_a_dropped_chunk_a_new_plan_shows_the_rest_and_applying_it_converges()
 {
    let emulator = emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.retry.max_attempts = 1;
    // The faults hit the first two requests to arrive: one at a time, those are the first two chunks.
    config.concurrency = Some(1);
    let mut session = runtime().session(config);
    let roster: Vec<types::DesiredAgent> = (0..25)
        .map(|i| desired(new_agent(&format!("a{i:02}"))))
        .collect();
    let plan = session
        .sync_plan(roster.clone(), plan_options())
        .await
        .unwrap();
    assert_eq!(plan.summary.onboard, 25);
    // The first chunk is applied but its answer lost; the second is dropped unapplied.
    emulator.add_fault(FaultRule::new(
        "POST /agents",
        1,
        FaultAction::LostResponse { status: None },
    ));
    emulator.add_fault(FaultRule::new("POST /agents", 1, FaultAction::Drop));
    let report = match session.sync_apply(plan, apply_options()).await {
        Err(CallError::Step(steps::StepError::IncompleteSync(report))) => report,
        other => panic!("expected an incomplete apply, got {other:?}"),
    };
    assert_eq!(report.summary.failed, 20);
    assert_eq!(report.summary.succeeded, 5);
    assert_eq!(emulator.account(CUSTOMER).agents.len(), 15);

    let again = session.sync_plan(roster, plan_options()).await.unwrap();
    assert_eq!(
        again.summary.onboard, 10,
        "exactly the dropped chunk remains"
    );
    assert!(
        again
            .changes
            .iter()
            .all(|c| c.user_object_id.as_str() >= "a10" && c.user_object_id.as_str() < "a20")
    );
    let report = session.sync_apply(again, apply_options()).await.unwrap();
    assert_eq!(report.summary.succeeded, 10);
    assert_eq!(emulator.account(CUSTOMER).agents.len(), 25);
    for i in 0..25 {
        let uoid = format!("a{i:02}");
        // The dropped chunk was sent twice (once unapplied); no agent was applied twice.
        let expected = if (10..20).contains(&i) { 2 } else { 1 };
        assert_eq!(onboard_requests_of(&emulator, &uoid), expected, "{uoid}");
    }
}

#[tokio::test]
async fn applying_the_same_plan_again_after_a_fault_finishes_it_and_does_nothing_twice() {
    let emulator = emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.retry.max_attempts = 1;
    let mut session = runtime().session(config);
    let roster: Vec<types::DesiredAgent> = (0..20)
        .map(|i| desired(new_agent(&format!("b{i:02}"))))
        .collect();
    let plan = session.sync_plan(roster, plan_options()).await.unwrap();
    emulator.add_fault(FaultRule::new(
        "POST /agents",
        1,
        FaultAction::LostResponse { status: None },
    ));
    assert!(matches!(
        session.sync_apply(plan.clone(), apply_options()).await,
        Err(CallError::Step(steps::StepError::IncompleteSync(_)))
    ));
    // An engine retries the step with the same plan: what is done is verified, not redone.
    let report = session.sync_apply(plan, apply_options()).await.unwrap();
    assert_eq!(report.summary.already_done, 20);
    assert_eq!(report.summary.succeeded, 0);
    for i in 0..20 {
        assert_eq!(onboard_requests_of(&emulator, &format!("b{i:02}")), 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entra_export_in_graphs_shape_with_a_mapping_plans_and_applies_and_deactivates_the_disabled_account()
 {
    let emulator = emulator().await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/entra");
    // The two Graph pages as two files, as `GET /users` and its `@odata.nextLink` gave them.
    let pages = [
        fixtures.join("graph-users-page1.json"),
        fixtures.join("graph-users-page2.json"),
    ];
    let mapping = file(
        "sync-mapping.json",
        r#"{"fields": {"store": "officeLocation"}, "defaults": {"roles": ["member"]}}"#,
    );
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "sync",
            "plan",
            "--format",
            "entra",
            "--tenant-id",
            "contoso",
            "--mapping",
        ]
        .map(String::from)
        .to_vec();
        args.push(mapping.to_str().unwrap().into());
        args.extend(pages.iter().map(|p| p.to_str().unwrap().to_string()));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    // The disabled account (user 2 of page 1) is live and active; user 1 moved department.
    let mut session = runtime().session(config(&emulator, CUSTOMER));
    let live = |uoid: &str, department: &str, store: &str| types::NewAgent {
        tenant_id: "contoso".into(),
        department: Some(department.into()),
        store: Some(store.into()),
        ..new_agent(uoid)
    };
    let seeded = vec![
        live(
            "3f1c0002-8b2e-4d7a-9c11-000000000002",
            "Front End",
            "Store 1202",
        ),
        live(
            "3f1c0003-8b2e-4d7a-9c11-000000000003",
            "Front End",
            "Store 1200",
        ),
    ];
    assert!(succeeded(
        &session
            .onboard_agents(seeded, onboard_options(None))
            .await
            .unwrap()
    ));

    let plan_args = args(&["--json"]);
    let plan_args: Vec<&str> = plan_args.iter().map(String::as_str).collect();
    let run = smartcomm(Some(&emulator), &plan_args, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = json(&run.stdout);
    assert_eq!(plan["summary"]["onboard"], 3, "{plan}");
    assert_eq!(plan["summary"]["update"], 1, "{plan}");
    assert_eq!(plan["summary"]["deactivate"], 1, "{plan}");
    let deactivated = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "deactivate")
        .unwrap();
    assert!(
        deactivated["user_object_id"]
            .as_str()
            .unwrap()
            .ends_with("0003")
    );

    let plan_path = file("sync-entra-plan.json", &run.stdout);
    let run = smartcomm(
        Some(&emulator),
        &["sync", "apply", plan_path.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let account = emulator.account(CUSTOMER);
    assert_eq!(account.agents.len(), 5);
    let disabled = account
        .agents
        .iter()
        .find(|a| a.user_object_id.ends_with("0003"))
        .unwrap();
    assert!(!disabled.active);
    let moved = account
        .agents
        .iter()
        .find(|a| a.user_object_id.ends_with("0002"))
        .unwrap();
    assert_eq!(moved.department.as_deref(), Some("Pharmacy"));

    let check_args = args(&["--detailed-exitcode"]);
    let check_args: Vec<&str> = check_args.iter().map(String::as_str).collect();
    let run = smartcomm(Some(&emulator), &check_args, &[]).await;
    assert_eq!(run.code, 0, "in sync after apply: {}", run.stdout);
}

#[tokio::test]
async fn a_new_agent_takes_the_number_an_update_frees_in_a_later_request_than_that_update() {
    let (emulator, mut session) = setup().await;
    let (old, new) = (seeded_number(0), seeded_number(1));
    let holder = types::NewAgent {
        number_provisioning: vec![provision(types::NumberType::Messaging, &old)],
        ..new_agent("holder")
    };
    assert!(succeeded(
        &session
            .onboard_agents(vec![holder.clone()], onboard_options(None))
            .await
            .unwrap()
    ));
    let moved = types::NewAgent {
        number_provisioning: vec![provision(types::NumberType::Messaging, &new)],
        ..holder
    };
    let taker = types::NewAgent {
        number_provisioning: vec![provision(types::NumberType::Messaging, &old)],
        ..new_agent("taker")
    };
    let plan = session
        .sync_plan(vec![desired(moved), desired(taker)], plan_options())
        .await
        .unwrap();
    assert_eq!((plan.summary.onboard, plan.summary.update), (1, 1));
    let before = api_requests(&emulator).len();
    let report = session.sync_apply(plan, apply_options()).await.unwrap();
    assert_eq!(report.summary.succeeded, 2, "{report:?}");
    let writes: Vec<String> = api_requests(&emulator)[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.route.clone())
        .collect();
    assert_eq!(writes, ["PATCH /agents", "POST /agents"]);
    let account = emulator.account(CUSTOMER);
    let number_of = |uoid: &str| {
        account
            .agents
            .iter()
            .find(|a| a.user_object_id == uoid)
            .and_then(|a| a.messaging_number.clone())
    };
    assert_eq!(number_of("taker"), Some(old));
    assert_eq!(number_of("holder"), Some(new));
}

#[tokio::test]
async fn a_plan_whose_assignments_ran_while_its_update_failed_is_finished_by_applying_it_again() {
    let emulator = emulator().await;
    seed_store(&emulator).await;
    let mut config = config(&emulator, CUSTOMER);
    config.retry.max_attempts = 1;
    let mut session = runtime().session(config);
    let inbox = seeded_number(50);
    let mut roster: Vec<types::DesiredAgent> = (0..20)
        .map(|i| desired(store_agent(&format!("s{i:02}"))))
        .collect();
    // s15 changes department and joins the inbox.
    roster[15].agent.department = Some("Deli".into());
    roster[15].shared_inboxes = Some(vec![inbox.clone()]);
    let plan = session.sync_plan(roster, plan_options()).await.unwrap();
    assert_eq!((plan.summary.update, plan.summary.assignments), (1, 1));
    emulator.add_fault(FaultRule::new(
        "PATCH /agents",
        1,
        FaultAction::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
    ));
    let report = match session.sync_apply(plan.clone(), apply_options()).await {
        Err(CallError::Step(steps::StepError::IncompleteSync(report))) => report,
        other => panic!("expected an incomplete apply, got {other:?}"),
    };
    assert_eq!((report.summary.failed, report.summary.succeeded), (1, 1));
    // The assignment changed s15's memberships; that is the plan's own doing, not a stale plan.
    let report = session.sync_apply(plan, apply_options()).await.unwrap();
    assert_eq!(
        (report.summary.succeeded, report.summary.already_done),
        (1, 1)
    );
    let account = emulator.account(CUSTOMER);
    let s15 = account
        .agents
        .iter()
        .find(|a| a.user_object_id == "s15")
        .unwrap();
    assert_eq!(s15.department.as_deref(), Some("Deli"));
}

#[tokio::test]
async fn an_agent_to_offboard_that_moved_to_another_tenant_since_the_plan_makes_it_stale() {
    let emulator = emulator().await;
    seed_store(&emulator).await;
    let mut session = runtime().session(config(&emulator, CUSTOMER));
    let roster: Vec<types::DesiredAgent> = (0..19)
        .map(|i| desired(store_agent(&format!("s{i:02}"))))
        .collect();
    let options = types::PlanOptions {
        absent: Some(types::AbsentAgents::Offboard),
        ..plan_options()
    };
    let plan = session.sync_plan(roster, options).await.unwrap();
    assert_eq!(plan.summary.offboard, 1);
    let moved = types::AgentChanges {
        tenant_id: Some("tenant-2".into()),
        ..empty_changes()
    };
    session
        .update_agent("s19".into(), None, moved)
        .await
        .unwrap();
    match session.sync_apply(plan, apply_options()).await {
        Err(CallError::Step(steps::StepError::PermanentStalePlan(stale))) => {
            assert_eq!(stale[0].user_object_id, "s19");
            assert!(
                stale[0].reason.contains("moved to tenant tenant-2"),
                "{}",
                stale[0].reason
            );
        }
        other => panic!("expected a stale plan, got {other:?}"),
    }
    assert!(
        emulator
            .account(CUSTOMER)
            .agents
            .iter()
            .any(|a| a.user_object_id == "s19")
    );
}

#[tokio::test]
async fn an_assignment_naming_an_agent_whose_onboarding_failed_is_sent_for_the_others_and_not_reported_done()
 {
    let emulator = emulator().await;
    seed_store(&emulator).await;
    let mut session = runtime().session(config(&emulator, CUSTOMER));
    let inbox = seeded_number(50);
    let mut roster: Vec<types::DesiredAgent> = (0..19)
        .map(|i| desired(store_agent(&format!("s{i:02}"))))
        .collect();
    // s15 joins the inbox; the new agent would too, but its upn is still s19's (deactivated
    // after the onboards), which the API refuses.
    roster[15].shared_inboxes = Some(vec![inbox.clone()]);
    let mut clash = desired(store_agent("new"));
    clash.agent.upn = Some("s19@example.com".into());
    clash.shared_inboxes = Some(vec![inbox.clone()]);
    roster.push(clash);
    let plan = session.sync_plan(roster, plan_options()).await.unwrap();
    assert_eq!(plan.assignments.len(), 1);
    assert_eq!(plan.assignments[0].agents, ["s15", "new"]);
    let report = match session.sync_apply(plan, apply_options()).await {
        Ok(report) => report,
        Err(e) => panic!("the apply runs to its end: {e:?}"),
    };
    assert!(
        matches!(report.changes[0].outcome, types::ItemOutcome::Rejected(_)),
        "{report:?}"
    );
    match &report.assignments[0].outcome {
        types::ItemOutcome::Rejected(messages) => {
            assert!(messages[0].contains("not sent for new"), "{messages:?}");
        }
        other => panic!("expected the assignment not reported done, got {other:?}"),
    }
    let account = emulator.account(CUSTOMER);
    let members = &account
        .inboxes
        .iter()
        .find(|i| i.phone_number == inbox)
        .unwrap()
        .members;
    assert!(
        members.contains(&"s15".to_string()),
        "sent for s15: {members:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_json_roster_plans_and_a_misspelt_field_is_refused_naming_its_item() {
    let emulator = emulator().await;
    let roster = file(
        "roster.json",
        r#"[{"user_object_id": "j1", "tenant_id": "tenant-1", "name": "J One", "active": true},
            {"user_object_id": "j2", "tenant_id": "tenant-1", "name": "J Two", "shared_inboxes": []}]"#,
    );
    let run = smartcomm(
        Some(&emulator),
        &["sync", "plan", roster.to_str().unwrap(), "--json"],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)["summary"]["onboard"], 2);

    let typo = file(
        "typo-roster.json",
        r#"[{"user_object_id": "j1", "tenant_id": "tenant-1", "name": "J One"},
            {"user_object_id": "j2", "tenant_id": "tenant-1", "name": "J Two", "shared_inbox": []}]"#,
    );
    let read_before = api_requests(&emulator).len();
    let run = smartcomm(
        Some(&emulator),
        &["sync", "plan", typo.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("item 1, field shared_inbox: not a field of a roster agent"),
        "{}",
        run.stderr
    );
    assert_eq!(
        api_requests(&emulator).len(),
        read_before,
        "nothing was read from the API"
    );
}

fn entra_fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/entra")
        .join(name)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entra_export_without_account_states_is_refused_with_the_export_that_has_them() {
    let emulator = emulator().await;
    let az = entra_fixture("az-ad-user-list.json");
    let args = [
        "sync",
        "plan",
        az.to_str().unwrap(),
        "--format",
        "entra",
        "--tenant-id",
        "contoso",
    ];
    let run = smartcomm(Some(&emulator), &args, &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    for words in [
        "2 of the 2 users have no accountEnabled",
        "user 0 (associate6@contoso-retail.example)",
        "az rest --method get --url 'https://graph.microsoft.com/v1.0/users?$select=accountEnabled,",
    ] {
        assert!(run.stderr.contains(words), "{words:?} in {}", run.stderr);
    }
    assert!(emulator.requests().is_empty(), "nothing sent");
}

/// The export the docs give, run as written, with a stand-in `az` on the path that answers
/// the Graph requests with the two fixture pages (no Azure tenant is reachable from here).
#[tokio::test(flavor = "multi_thread")]
async fn the_documented_entra_export_pages_through_graph_and_plans_from_its_files() {
    let docs = include_str!("../../docs/sync.md");
    let script = docs
        .split_once("<!-- entra-export -->\n```sh\n")
        .and_then(|(_, rest)| rest.split_once("```\n<!-- /entra-export -->"))
        .map(|(script, _)| script)
        .expect("docs/sync.md's marked export");
    let dir = std::env::temp_dir().join(format!("smartcomm-entra-export-{}", std::process::id()));
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let az = bin.join("az");
    std::fs::write(
        &az,
        format!(
            "#!/bin/sh\n# az rest --method get --url URL\necho \"$@\" >> '{log}'\n\
             case \"$5\" in *skiptoken*) cat '{page2}';; *) cat '{page1}';; esac\n",
            log = dir.join("az.log").display(),
            page1 = entra_fixture("graph-users-page1.json").display(),
            page2 = entra_fixture("graph-users-page2.json").display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&az, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let emulator = emulator().await;
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        std::path::Path::new(env!("CARGO_BIN_EXE_smartcomm"))
            .parent()
            .unwrap()
            .display(),
        std::env::var("PATH").unwrap()
    );
    let output = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(&dir)
        .env("PATH", path)
        .env("TENANT", "contoso")
        .envs(emulator_env(&emulator, CUSTOMER))
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let calls = std::fs::read_to_string(dir.join("az.log")).unwrap();
    assert_eq!(calls.lines().count(), 2, "one request a page: {calls}");
    assert!(calls.contains("$select=accountEnabled,"), "{calls}");
    let plan = json(&std::fs::read_to_string(dir.join("plan.json")).unwrap());
    assert_eq!(
        plan["summary"]["onboard"], 4,
        "the enabled accounts: {plan}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Runs `script` in bash in `dir`, with the `smartcomm` binary on the path and `exports` set,
/// as a shell in which the emulator's settings were pasted.
async fn in_shell(script: &str, dir: &std::path::Path, exports: &[(String, String)]) -> Run {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_smartcomm"))
        .parent()
        .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let output = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("SMARTCOMM_TOKEN")
        .envs(exports.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .await
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulators_printed_sync_line_and_the_documented_tries_work_as_written() {
    let mut served = served_emulator().await;
    assert!(
        served.sync_line.contains("--graph-group"),
        "{}",
        served.sync_line
    );
    let dir = std::env::temp_dir().join(format!("smartcomm-try-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = in_shell(&served.sync_line, &dir, &served.exports).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Plan: 4 to onboard"), "{}", run.stdout);

    let docs = include_str!("../../docs/sync.md");
    let script = docs
        .split_once("<!-- try-sync -->\n```sh\n")
        .and_then(|(_, rest)| rest.split_once("```\n<!-- /try-sync -->"))
        .map(|(script, _)| script)
        .expect("docs/sync.md's marked try");
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    std::os::unix::fs::symlink(examples, dir.join("examples")).unwrap();
    let run = in_shell(script, &dir, &served.exports).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let plan = json(&std::fs::read_to_string(dir.join("entra-plan.json")).unwrap());
    assert_eq!(plan["summary"]["onboard"], 4, "{plan}");
    let sidecar_number = "+15550100021";
    assert!(
        plan.to_string().contains(sidecar_number),
        "the sidecar's number: {plan}"
    );
    served.child.kill().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}
