//! The `smartcomm` binary: commands, exit codes, output, and that secrets never show.

use crate::common::*;
use smartcomm_emulator::Emulator;
use std::path::PathBuf;

pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the CLI against `emulator` with the given arguments and extra environment.
pub(crate) async fn smartcomm(
    emulator: Option<&Emulator>,
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_smartcomm"));
    command
        .args(args)
        .env_remove("SMARTCOMM_TOKEN")
        .env_remove("SMARTCOMM_LOG");
    if let Some(emulator) = emulator {
        command.envs(emulator_env(emulator, CUSTOMER));
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().await.expect("the CLI runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub(crate) fn file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smartcomm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

pub(crate) fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_runs_the_whole_story_and_exits_0() {
    let run = smartcomm(None, &["demo"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for step in [
        "Authenticate",
        "Onboard",
        "Get Ada",
        "List the agents",
        "Promote Grace",
        "shared inbox",
        "Offboard",
    ] {
        assert!(run.stdout.contains(step), "missing {step}: {}", run.stdout);
    }
    assert!(
        run.stdout.contains("1 of them to authenticate"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn onboard_from_a_reference_shaped_file_then_get_list_update_and_offboard() {
    let emulator = emulator().await;
    let onboard = file(
        "onboard.json",
        &format!(
            r#"[{{"user_object_id": "17c528d0-dcfa-49bf-bb2b-8955bf377e5a", "tenant_id": "80573892-bfe7-40c8-bd85-2b479110b2df",
                 "name": "Agent name", "upn": "agent.email@domain.com", "roles": ["member", "manager"],
                 "number_provisioning": [{{"type": "messaging", "phone_number": "{}"}}]}}]"#,
            seeded_number(0)
        ),
    );
    let run = smartcomm(
        Some(&emulator),
        &["onboard-agents", onboard.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = json(&run.stdout);
    assert_eq!(out["summary"]["succeeded"], 1);
    assert_eq!(
        out["items"][0],
        serde_json::json!({"index": 0, "outcome": "succeeded"})
    );

    let run = smartcomm(
        Some(&emulator),
        &["get-agent", "agent.email@domain.com", "--key-id", "upn"],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let agent = json(&run.stdout);
    assert_eq!(agent["name"], "Agent name");
    assert_eq!(
        agent["phone_number"][0],
        serde_json::json!({"type": "messaging", "value": seeded_number(0)})
    );

    let run = smartcomm(
        Some(&emulator),
        &[
            "list-agents",
            "--tenant-id",
            "80573892-bfe7-40c8-bd85-2b479110b2df",
        ],
        &[],
    )
    .await;
    assert_eq!(json(&run.stdout).as_array().unwrap().len(), 1);

    let patch = file(
        "patch.json",
        r#"{"department": "Sales", "roles": {"assign": ["admin"]}}"#,
    );
    let run = smartcomm(
        Some(&emulator),
        &[
            "update-agent",
            "17c528d0-dcfa-49bf-bb2b-8955bf377e5a",
            patch.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        json(&run.stdout)["roles"],
        serde_json::json!(["member", "manager", "admin"])
    );

    let run = smartcomm(
        Some(&emulator),
        &["list-numbers", "--status", "assigned"],
        &[],
    )
    .await;
    assert_eq!(
        json(&run.stdout)[0]["assignedTo"]["upn"],
        "agent.email@domain.com"
    );

    let run = smartcomm(
        Some(&emulator),
        &[
            "offboard-agent",
            "17c528d0-dcfa-49bf-bb2b-8955bf377e5a",
            "--deprovision-supervised-inbox",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        json(&run.stdout)["message"],
        "Agent successfully offboarded"
    );
    assert!(emulator.account(CUSTOMER).agents.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_does_not_fit_exits_2_naming_item_and_field_and_sends_nothing() {
    let emulator = emulator().await;
    let bad_role = file(
        "bad-role.json",
        r#"[{"user_object_id": "a", "tenant_id": "t", "name": "A"}, {"user_object_id": "b", "tenant_id": "t", "name": "B", "roles": ["owner"]}]"#,
    );
    let run = smartcomm(
        Some(&emulator),
        &["onboard-agents", bad_role.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("item 1: roles[0]"), "{}", run.stderr);

    let bad_number = file(
        "bad-number.json",
        r#"[{"user_object_id": "a", "tenant_id": "t", "name": "A", "number_provisioning": [{"type": "messaging", "phone_number": "555-0100"}]}]"#,
    );
    let run = smartcomm(
        Some(&emulator),
        &["onboard-agents", bad_number.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("item 0: number_provisioning[0].phone_number"),
        "{}",
        run.stderr
    );
    assert!(emulator.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn api_errors_exit_1_with_one_line_and_partial_batches_print_every_outcome() {
    let emulator = emulator().await;
    let run = smartcomm(Some(&emulator), &["get-agent", "nobody"], &[]).await;
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr.trim(), "error: not found: object not found");
    assert!(run.stdout.is_empty());

    let first = file(
        "first.json",
        r#"[{"user_object_id": "a", "tenant_id": "t", "name": "A"}]"#,
    );
    assert_eq!(
        smartcomm(
            Some(&emulator),
            &["onboard-agents", first.to_str().unwrap()],
            &[]
        )
        .await
        .code,
        0
    );
    // The same user_object_id with another name is a genuine conflict; b still lands.
    let clash = file(
        "clash.json",
        r#"[{"user_object_id": "b", "tenant_id": "t", "name": "B"}, {"user_object_id": "a", "tenant_id": "t", "name": "Not A"}]"#,
    );
    let run = smartcomm(
        Some(&emulator),
        &["onboard-agents", clash.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    let out = json(&run.stdout);
    assert_eq!(
        out["summary"],
        serde_json::json!({"succeeded": 1, "already_done": 0, "rejected": 1, "failed": 0, "not_attempted": 0})
    );
    assert_eq!(out["items"][1]["outcome"], "rejected");

    // A repeat of an offboard that already happened says so, and succeeds.
    let offboard = file(
        "offboard.json",
        r#"[{"identifier": "upn", "value": ["ghost@example.com"]}]"#,
    );
    let run = smartcomm(
        Some(&emulator),
        &["offboard-agents", offboard.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json(&run.stdout)["items"][0]["outcome"], "already_done");
    assert_eq!(json(&run.stdout)["items"][0]["note"], "already offboarded");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_settings_are_usage_errors() {
    let run = smartcomm(None, &["list-numbers"], &[]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--customer-id"), "{}", run.stderr);
    let run = smartcomm(
        None,
        &["list-numbers"],
        &[("SMARTCOMM_CUSTOMER_ID", "1"), ("SMARTCOMM_USERNAME", "u")],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("SMARTCOMM_PASSWORD"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_at_the_most_verbose_level_prints_no_password_or_token() {
    let emulator = emulator().await;
    let token = emulator.issue_token();
    let n = |i| seeded_number(i);
    let files = [
        file(
            "secret-onboard.json",
            &format!(
                r#"[{{"user_object_id": "s", "tenant_id": "t", "name": "S", "upn": "s@x.com",
                 "number_provisioning": [{{"type": "supervised", "phone_number": "{}"}}]}}]"#,
                n(1)
            ),
        ),
        file("secret-update.json", r#"{"department": "Sales"}"#),
        file(
            "secret-update-many.json",
            r#"[{"target": {"identifier": "upn", "value": "s@x.com"}, "updates": {"city": "Denver"}}]"#,
        ),
        file(
            "secret-inbox.json",
            &format!(
                r#"[{{"name": "D", "type": "shared", "phone_number": "{}", "users": {{"identifier": "user_object_id", "values": ["s"]}}}}]"#,
                n(2)
            ),
        ),
        file(
            "secret-assign.json",
            &format!(
                r#"[{{"inbox": {{"type": "shared", "identifier": "phone_number", "value": "{}"}}, "agents": {{"identifier": "upn", "values": ["s@x.com"]}}, "operation": "remove"}}]"#,
                n(2)
            ),
        ),
        file(
            "secret-offboard-many.json",
            r#"[{"identifier": "upn", "value": ["s@x.com"]}]"#,
        ),
    ];
    let path = |i: usize| files[i].to_str().unwrap().to_string();
    let commands: Vec<Vec<String>> = [
        vec!["authenticate".to_string()],
        vec!["onboard-agents".into(), path(0)],
        vec!["get-agent".into(), "s".into()],
        vec!["--steps".into(), "get-agent".into(), "s".into()],
        vec!["list-agents".into()],
        vec!["update-agent".into(), "s".into(), path(1)],
        vec!["update-agents".into(), path(2)],
        vec!["create-inboxes".into(), path(3)],
        vec!["assign-inboxes".into(), path(4)],
        vec!["list-numbers".into()],
        vec!["offboard-agents".into(), path(5)],
        vec!["offboard-agent".into(), "s".into()],
        vec!["demo".into()],
    ]
    .into();
    // Every token the emulator mints starts with this header, whichever run minted it.
    let any_token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    assert!(token.starts_with(any_token));
    for (i, command) in commands.iter().enumerate() {
        let mut args = vec!["-vv"];
        args.extend(command.iter().map(String::as_str));
        // Half of the runs authenticate with a ready token, at trace level for every crate.
        let env: &[(&str, &str)] = if i % 2 == 0 {
            &[("SMARTCOMM_LOG", "trace")]
        } else {
            &[("SMARTCOMM_TOKEN", token.as_str())]
        };
        let run = smartcomm(Some(&emulator), &args, env).await;
        assert!(!run.stderr.is_empty(), "{command:?} logged nothing");
        for secret in [emulator.password(), any_token] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{command:?}:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        assert!(
            run.code == 0,
            "{command:?} exited {}: {}",
            run.code,
            run.stderr
        );
    }
}

/// `smartcomm emulator`, the real command, and the settings and sync line it prints.
pub(crate) struct ServedEmulator {
    pub child: tokio::process::Child,
    pub exports: Vec<(String, String)>,
    pub sync_line: String,
}

pub(crate) async fn served_emulator() -> ServedEmulator {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_smartcomm"))
        .args(["emulator", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut exports, mut sync_line) = (Vec::new(), String::new());
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some((name, value)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            exports.push((name.to_string(), value.to_string()));
        } else if line.starts_with("smartcomm sync plan") {
            sync_line = line;
        } else if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    ServedEmulator {
        child,
        exports,
        sync_line,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_command_prints_its_settings_and_serves_them() {
    let mut served = served_emulator().await;
    let env: Vec<(&str, &str)> = served
        .exports
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert!(
        env.iter().any(|(k, _)| *k == "SMARTCOMM_API_URL"),
        "{:?}",
        served.exports
    );
    let run = smartcomm(None, &["list-numbers", "--match", "5550100099"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)[0]["number"], "+15550100099");
    served.child.kill().await.unwrap();
}

#[test]
fn the_blocking_session_serves_programs_without_an_async_runtime() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emulator = rt.block_on(crate::common::emulator());
    let mut session =
        smartcomm_host::blocking::Session::new(&runtime(), config(&emulator, CUSTOMER)).unwrap();
    let outcomes = session
        .call(async |s| {
            s.onboard_agents(vec![new_agent("a")], onboard_options(None))
                .await
        })
        .unwrap();
    assert!(succeeded(&outcomes));
    let agent = session
        .call(async |s| s.get_agent("a".into(), None, None).await)
        .unwrap();
    assert_eq!(agent.user_object_id.as_deref(), Some("a"));
    drop(rt);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_steps_every_command_runs_through_the_step_functions() {
    let emulator = emulator().await;
    let onboard = file(
        "steps-onboard.json",
        r#"[{"user_object_id": "s1", "tenant_id": "t", "name": "S1"}]"#,
    );
    let run = smartcomm(
        Some(&emulator),
        &["--steps", "onboard-agents", onboard.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = smartcomm(Some(&emulator), &["--steps", "get-agent", "s1"], &[]).await;
    assert_eq!(json(&run.stdout)["name"], "S1");
    let run = smartcomm(Some(&emulator), &["--steps", "get-agent", "nobody"], &[]).await;
    assert_eq!(
        (run.code, run.stderr.trim()),
        (1, "error: not found: object not found")
    );
    let run = smartcomm(Some(&emulator), &["--steps", "authenticate"], &[]).await;
    assert_eq!(run.code, 2);
    // Each step authenticated on its own instance.
    assert_eq!(authentications(&emulator), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_of_25_agents_onboards_in_three_calls_with_progress() {
    let emulator = emulator().await;
    let mut csv = String::from(
        "user_object_id,tenant_id,name,upn,roles,messaging_number,supervised_number,supervisors,city\n",
    );
    for i in 0..25 {
        let supervisors = if i > 0 { "u0" } else { "" };
        csv.push_str(&format!(
            "u{i},t,Agent {i},u{i}@x.com,member;manager,{},{},{supervisors},Denver\n",
            seeded_number(2 * i),
            seeded_number(2 * i + 1)
        ));
    }
    let path = file("staff.csv", &csv);
    let run = smartcomm(
        Some(&emulator),
        &["onboard-agents", path.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)["summary"]["succeeded"], 25);
    // A line per request of ten as it is answered.
    let progress: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("onboard: "))
        .collect();
    assert_eq!(
        progress,
        [
            "onboard: request 1/3 answered",
            "onboard: request 2/3 answered",
            "onboard: request 3/3 answered"
        ]
    );
    let account = emulator.account(CUSTOMER);
    assert_eq!(account.agents.len(), 25);
    assert_eq!(account.agents[3].city.as_deref(), Some("Denver"));
    assert_eq!(
        account
            .inboxes
            .iter()
            .filter(|i| i.members.contains(&"u0".to_string()))
            .count(),
        25
    );

    let offboard = file(
        "leavers.csv",
        "identifier,value\nupn,u1@x.com;u2@x.com\nuser_object_id,u3\n",
    );
    let run = smartcomm(
        Some(&emulator),
        &["offboard-agents", offboard.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(emulator.account(CUSTOMER).agents.len(), 22);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_malformed_csv_row_is_named_by_line_and_column_and_nothing_is_sent() {
    let emulator = emulator().await;
    let cases = [
        (
            "bad-role.csv",
            "user_object_id,tenant_id,name,roles\na,t,A,member\nb,t,B,owner\n",
            "line 3, column roles",
        ),
        (
            "no-name.csv",
            "user_object_id,tenant_id,name\na,t,\n",
            "line 2, column name: is required",
        ),
        (
            "bad-column.csv",
            "user_object_id,tenant_id,full_name\n",
            "line 1, column 3: unknown column",
        ),
        (
            "bad-flag.csv",
            "user_object_id,tenant_id,name,calls\na,t,A,maybe\n",
            "line 2, column calls",
        ),
        // Every row's problems in one pass, not only the first.
        (
            "two-bad-rows.csv",
            "user_object_id,tenant_id,name,roles\na,t,A,owner\nb,t,,member\n",
            "line 3, column name: is required",
        ),
        (
            "duplicate.csv",
            "user_object_id,tenant_id,name\na,t,A\na,t,B\n",
            "line 3, column user_object_id: \"a\" is also on line 2",
        ),
    ];
    for (name, content, expected) in cases {
        let path = file(name, content);
        let run = smartcomm(
            Some(&emulator),
            &["onboard-agents", path.to_str().unwrap()],
            &[],
        )
        .await;
        assert_eq!(run.code, 2, "{name}");
        assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
    }
    let csv_named_txt = file("agents.txt", "user_object_id,tenant_id,name\na,t,A\n");
    let args = [
        "--dry-run",
        "onboard-agents",
        "--format",
        "csv",
        csv_named_txt.to_str().unwrap(),
    ];
    let run = smartcomm(Some(&emulator), &args, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)[0]["body"][0]["name"], "A");
    assert!(emulator.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prints_every_request_and_sends_nothing() {
    let emulator = emulator().await;
    let mut csv = String::from("user_object_id,tenant_id,name\n");
    for i in 0..12 {
        csv.push_str(&format!("u{i},t,A{i}\n"));
    }
    let path = file("dry.csv", &csv);
    let run = smartcomm(
        Some(&emulator),
        &[
            "--dry-run",
            "onboard-agents",
            path.to_str().unwrap(),
            "--continue-on-error",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = json(&run.stdout);
    assert_eq!(plan.as_array().unwrap().len(), 2);
    assert_eq!(plan[0]["method"], "POST");
    assert_eq!(plan[0]["path"], format!("/{CUSTOMER}/agents"));
    assert_eq!(
        plan[0]["query"],
        serde_json::json!({"continueOnError": "true"})
    );
    assert_eq!(plan[1]["body"].as_array().unwrap().len(), 2);

    let run = smartcomm(
        Some(&emulator),
        &[
            "--dry-run",
            "offboard-agent",
            "a@b.c",
            "--key-id",
            "consistency_id",
        ],
        &[],
    )
    .await;
    assert_eq!(
        json(&run.stdout)["path"],
        format!("/{CUSTOMER}/agents/a%40b.c")
    );
    let patch = file(
        "dry-patch.json",
        r#"{"phone_number": [{"type": "messaging", "value": "555"}]}"#,
    );
    let run = smartcomm(
        Some(&emulator),
        &["--dry-run", "update-agent", "a", patch.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("phone_number[0].value"),
        "{}",
        run.stderr
    );
    assert!(
        emulator.requests().is_empty(),
        "a dry run sends nothing, not even authenticate"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_are_printed_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let run = smartcomm(None, &["completions", shell], &[]).await;
        assert_eq!(run.code, 0, "{shell}");
        assert!(run.stdout.contains("offboard-agents"), "{shell}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entra_export_of_two_graph_pages_onboards_its_enabled_accounts_with_a_mapping_and_a_sidecar()
 {
    let emulator = emulator().await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/entra");
    let pages = [
        std::fs::read_to_string(fixtures.join("graph-users-page1.json")).unwrap(),
        std::fs::read_to_string(fixtures.join("graph-users-page2.json")).unwrap(),
    ];
    let export = file("users.json", &pages.join("\n"));
    let mapping = file(
        "mapping.json",
        r#"{"fields": {"store": "officeLocation"}, "defaults": {"roles": ["member"]}}"#,
    );
    let sidecar = file(
        "sidecar.csv",
        &format!(
            "user_object_id,roles,messaging_number\n3f1c0001-8b2e-4d7a-9c11-000000000001,manager,{}\n",
            seeded_number(7)
        ),
    );
    let args = [
        "onboard-agents",
        "--format",
        "entra",
        "--tenant-id",
        "contoso",
        "--mapping",
        mapping.to_str().unwrap(),
        "--sidecar",
        sidecar.to_str().unwrap(),
        export.to_str().unwrap(),
    ];
    let run = smartcomm(Some(&emulator), &args, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)["summary"]["succeeded"], 4);
    assert!(
        run.stderr
            .contains("1 disabled account not onboarded: associate3@contoso-retail.example"),
        "{}",
        run.stderr
    );
    let account = emulator.account(CUSTOMER);
    assert_eq!(account.agents.len(), 4);
    let first = &account.agents[0];
    assert_eq!(first.tenant_id, "contoso");
    assert_eq!(first.store.as_deref(), Some("Store 1201"));
    assert_eq!(first.consistency_id.as_deref(), Some("E10001"));
    // From the sidecar: a number and a role Entra does not hold; the others get the default.
    assert_eq!(first.messaging_number, Some(seeded_number(7)));
    assert_eq!(first.roles, [smartcomm_emulator::Role::Manager]);
    assert_eq!(account.agents[1].roles, [smartcomm_emulator::Role::Member]);

    // Without the tenant the command is refused before anything is read or sent.
    let run = smartcomm(
        Some(&emulator),
        &[
            "onboard-agents",
            "--format",
            "entra",
            export.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--tenant-id"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_setting_is_read_from_its_variable_and_its_flag_wins() {
    use smartcomm_emulator::{FaultAction, FaultRule};
    let emulator = emulator().await;
    let unavailable = |times| {
        let answer = FaultAction::Status {
            status: 503,
            retry_after: None,
            body: None,
        };
        emulator.add_fault(FaultRule::new("GET /numbers", times, answer));
    };
    let quick = [
        ("SMARTCOMM_RETRY_BASE_DELAY_MS", "1"),
        ("SMARTCOMM_MAX_ATTEMPTS", "1"),
    ];
    // The variable alone: one attempt, and the 503 is the answer.
    unavailable(1);
    let run = smartcomm(Some(&emulator), &["list-numbers"], &quick).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("503"), "{}", run.stderr);
    // The flag overrides it: three attempts ride out two 503s.
    unavailable(2);
    let args = ["list-numbers", "--max-attempts", "3"];
    let run = smartcomm(Some(&emulator), &args, &quick).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A malformed value is named by its flag and variable, and nothing is sent.
    emulator.clear_requests();
    let run = smartcomm(
        Some(&emulator),
        &["list-numbers"],
        &[("SMARTCOMM_CONCURRENCY", "0")],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--concurrency (SMARTCOMM_CONCURRENCY)"),
        "{}",
        run.stderr
    );
    assert!(emulator.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_hold_a_upn_only_at_the_most_verbose_level() {
    let emulator = emulator().await;
    let mut session = runtime().session(config(&emulator, CUSTOMER));
    let outcomes = session
        .onboard_agents(vec![new_agent("logged")], onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
    let upn = "logged@example.com";
    let args = |verbosity: &'static str| ["get-agent", upn, "--key-id", "upn", verbosity];
    let run = smartcomm(Some(&emulator), &args("-v"), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("outbound request"), "{}", run.stderr);
    assert!(run.stderr.contains("/agents/…"), "{}", run.stderr);
    assert!(run.stderr.contains("status=Some(200)"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("logged@") && !run.stderr.contains("logged%40"),
        "{}",
        run.stderr
    );
    let run = smartcomm(Some(&emulator), &args("-vv"), &[]).await;
    assert!(
        run.stderr.contains("logged%40example.com"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(emulator.password()), "{}", run.stderr);
}
