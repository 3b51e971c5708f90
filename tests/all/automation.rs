//! The automation platforms' nodes (`integrations/`) in the real platforms, headless, against
//! the emulator: the n8n package run by the `n8n` command in a workflow, and the Node-RED
//! package run by Node-RED's node test helper. Each package is built and packed with npm as a
//! user would, and its tarball installed into a fresh n8n user folder or Node-RED folder. n8n
//! and Node-RED themselves are installed from the lockfiles in `tests/n8n` and
//! `tests/node-red` into the target folder on first use.

use crate::common::*;
use crate::tools::{installed, repo_file, run_ok};
use smartcomm_host::types::{self, IdentifierKind, InboxType};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// `npm ci` of a folder of the repository's into the target folder's `name`, on first use.
fn npm_installed(name: &str, from: &str) -> PathBuf {
    let dir = tmp(name);
    let manifests = [
        repo_file(&format!("{from}/package.json")),
        repo_file(&format!("{from}/package-lock.json")),
    ];
    installed(&dir, &manifests, |dir| {
        for manifest in &manifests {
            std::fs::copy(manifest, dir.join(manifest.file_name().unwrap())).unwrap();
        }
        let started = Instant::now();
        run_ok(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(dir),
        );
        println!("installed {from} in {:.0?}", started.elapsed());
    });
    dir
}

/// Copies the files of `from` into `to`, leaving out what npm and the build make.
fn copy_sources(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if ["node_modules", "dist"].contains(&name.to_str().unwrap()) {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_sources(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// Builds and packs `integrations/<name>` as its README says (`npm ci`, `npm run build --
/// smartcomm.wasm`, `npm pack`), from the component the host embeds, and returns the tarball.
fn packed(name: &str) -> PathBuf {
    // The packages share the build's code (`integrations/shared`), copied afresh here.
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _building = BUILDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let root = tmp("integrations");
    let dir = npm_installed(
        &format!("integrations/{name}"),
        &format!("integrations/{name}"),
    );
    // The sources are copied afresh each run; the installed dependencies stay.
    let _ = std::fs::remove_dir_all(root.join("shared"));
    copy_sources(&repo_file("integrations/shared"), &root.join("shared"));
    copy_sources(&repo_file(&format!("integrations/{name}")), &dir);
    let wasm = root.join("smartcomm.wasm");
    std::fs::write(&wasm, smartcomm_host::EMBEDDED_COMPONENT).unwrap();
    run_ok(
        Command::new("npm")
            .args(["run", "build", "--"])
            .arg(&wasm)
            .current_dir(&dir),
    );
    let packs = root.join("packed");
    std::fs::create_dir_all(&packs).unwrap();
    let output = Command::new("npm")
        .args(["pack", "--json", "--pack-destination"])
        .arg(&packs)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let tarball = packs.join(report[0]["filename"].as_str().unwrap());
    println!(
        "{name}: {} ({} bytes packed, {} unpacked, {} files)",
        report[0]["filename"],
        report[0]["size"],
        report[0]["unpackedSize"],
        report[0]["entryCount"]
    );
    tarball
}

/// `npm install <tarball>` into `dir`, as the README tells a user to install the package.
fn install_tarball(dir: &Path, tarball: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    run_ok(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .arg(tarball)
            .current_dir(dir),
    );
}

/// The emulator's account for `customer` with a desk lead and the shared inbox +15550100010
/// that the stories assign their new agents to.
async fn account_with_front_desk(emulator: &smartcomm_emulator::Emulator, customer: &str) {
    let mut session = runtime().session(config(emulator, customer));
    let mut lead = new_agent("lead");
    lead.tenant_id = "contoso".into();
    assert!(succeeded(
        &session
            .onboard_agents(vec![lead], onboard_options(None))
            .await
            .unwrap()
    ));
    let desk = types::NewInbox {
        name: "Front desk".into(),
        type_: InboxType::Shared,
        phone_number: FRONT_DESK.into(),
        owner: None,
        users: selector(IdentifierKind::UserObjectId, &["lead"]),
    };
    assert!(succeeded(
        &session
            .create_inboxes(vec![desk], create_options(None))
            .await
            .unwrap()
    ));
}

const FRONT_DESK: &str = "+15550100010";

/// After either story: the new agents are gone, their numbers free, the desk as it was.
fn assert_only_the_lead_is_left(emulator: &smartcomm_emulator::Emulator, customer: &str) {
    let account = emulator.account(customer);
    let agents: Vec<_> = account
        .agents
        .iter()
        .map(|a| a.user_object_id.as_str())
        .collect();
    assert_eq!(agents, ["lead"]);
    let desk = account
        .inboxes
        .iter()
        .find(|i| i.phone_number == FRONT_DESK)
        .unwrap();
    assert_eq!(desk.members, ["lead"]);
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// n8n from `tests/n8n/package-lock.json`.
fn n8n_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| npm_installed("n8n", "tests/n8n").join("node_modules/.bin/n8n"))
}

/// Runs an `n8n` command with the user folder `user`; n8n's telemetry and version checks are
/// off (they would call out of the machine).
fn n8n(user: &Path, args: &[&str]) -> Output {
    let output = Command::new(n8n_bin())
        .args(args)
        .env("N8N_USER_FOLDER", user)
        .env("N8N_DIAGNOSTICS_ENABLED", "false")
        .env("N8N_VERSION_NOTIFICATIONS_ENABLED", "false")
        .env("N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS", "true")
        .output()
        .expect("n8n runs");
    assert!(output.status.success(), "n8n {args:?}:\n{}", text(&output));
    output
}

/// The items a node of an n8n run sent on output `index` (0: success, 1: error output).
fn n8n_items(run: &serde_json::Value, node: &str, index: usize) -> Vec<serde_json::Value> {
    let runs = &run["data"]["resultData"]["runData"][node];
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "{node} ran once");
    assert_eq!(
        runs[0]["executionStatus"], "success",
        "{node}: {:#}",
        runs[0]
    );
    runs[0]["data"]["main"][index]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|item| item["json"].clone())
        .collect()
}

fn field<'a>(items: &'a [serde_json::Value], name: &str) -> Vec<&'a str> {
    items.iter().map(|i| i[name].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn n8n_runs_a_joiner_and_leaver_workflow_with_the_node_from_its_tarball() {
    let tarball = packed("n8n");
    let n8n_started = Instant::now();
    n8n_bin();
    println!("n8n ready in {:.0?}", n8n_started.elapsed());
    let emulator = emulator().await;
    let customer = "n8n-story";
    account_with_front_desk(&emulator, customer).await;
    emulator.clear_requests();

    // A fresh n8n user folder, the package installed into its nodes folder as a user would.
    let user = tmp("n8n-user");
    install_tarball(&user.join(".n8n/nodes"), &tarball);

    // The credential goes into n8n's store (encrypted with the instance's key); the file that
    // brought it in is removed, and the workflow names the credential by its id only.
    let credentials = user.join("credentials.json");
    let credential = serde_json::json!([{
        "id": "smartcommCred001",
        "name": "SmartCommunicator",
        "type": "smartCommunicatorApi",
        "data": {
            "customerId": customer,
            "username": emulator.username(),
            "password": emulator.password(),
            "apiUrl": emulator.base_url(),
            "authUrl": emulator.auth_url(),
            "concurrency": 4,
            "callDeadline": 60,
        },
    }]);
    std::fs::write(&credentials, credential.to_string()).unwrap();
    let mut printed = text(&n8n(
        &user,
        &[
            "import:credentials",
            &format!("--input={}", credentials.display()),
        ],
    ));
    std::fs::remove_file(&credentials).unwrap();
    let workflow = repo_file("tests/n8n/story.workflow.json");
    printed += &text(&n8n(
        &user,
        &[
            "import:workflow",
            &format!("--input={}", workflow.display()),
        ],
    ));

    let started = Instant::now();
    let executed = n8n(&user, &["execute", "--id=smartcommStoryWf", "--rawOutput"]);
    println!("n8n execute: {:.1?}", started.elapsed());
    let stdout = String::from_utf8_lossy(&executed.stdout).to_string();
    printed += &text(&executed);
    // n8n may print a notice before the run's JSON.
    let run: serde_json::Value =
        serde_json::from_str(&stdout[stdout.find("\n{").map_or(0, |i| i + 1)..])
            .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(run["data"]["resultData"]["error"].is_null(), "{run:#}");

    // The batch: two agents onboarded, the refused ones on the error output at their items.
    let onboarded = n8n_items(&run, "Onboard", 0);
    assert_eq!(field(&onboarded, "userObjectId"), ["ada", "grace"]);
    assert_eq!(field(&onboarded, "outcome"), ["succeeded", "succeeded"]);
    let refused = n8n_items(&run, "Onboard", 1);
    println!(
        "n8n printed, Onboard's outputs:\n{:#}\n{:#}",
        serde_json::Value::from(onboarded.clone()),
        serde_json::Value::from(refused.clone())
    );
    assert_eq!(
        field(&refused, "id"),
        ["alan", "edsger"],
        "the input items' fields come along"
    );
    assert_eq!(field(&refused, "error"), ["rejected", "invalid-input"]);
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("+15559999999 is not registered")
    );
    assert!(
        refused[1]["message"]
            .as_str()
            .unwrap()
            .contains("number_provisioning[0].phone_number")
    );
    assert_eq!(n8n_items(&run, "Refused", 0).len(), 2);

    let assigned = n8n_items(&run, "Assign to the front desk", 0);
    assert_eq!(field(&assigned, "outcome"), ["succeeded", "succeeded"]);
    let read = n8n_items(&run, "Read back", 0);
    assert_eq!(field(&read, "userObjectId"), ["ada", "grace"]);
    assert_eq!(
        read[0]["phoneNumbers"],
        serde_json::json!([{"type": "messaging", "value": "+15550100000"}])
    );
    assert_eq!(read[1]["sharedInboxes"][0]["phoneNumber"], FRONT_DESK);
    assert_eq!(read[1]["department"], "Support");
    let offboarded = n8n_items(&run, "Offboard", 0);
    assert_eq!(field(&offboarded, "outcome"), ["succeeded", "succeeded"]);

    assert_only_the_lead_is_left(&emulator, customer);
    // One instance per node execution, its client authenticating once for all its items:
    // four SmartCommunicator nodes ran, with two to four items each.
    assert_eq!(authentications(&emulator), 4);

    // The password is in n8n's credential store only, encrypted.
    let password = emulator.password();
    assert!(!printed.contains(password), "n8n printed the password");
    let database = std::fs::read(user.join(".n8n/database.sqlite")).unwrap();
    assert!(
        !database
            .windows(password.len())
            .any(|w| w == password.as_bytes()),
        "the password is stored in the clear"
    );
    assert!(
        !std::fs::read_to_string(&workflow)
            .unwrap()
            .contains(password)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn node_red_runs_the_same_story_with_the_node_from_its_tarball() {
    let tarball = packed("node-red");
    let node_red = npm_installed("node-red", "tests/node-red");
    let emulator = emulator().await;
    let customer = "node-red-story";
    account_with_front_desk(&emulator, customer).await;

    // The package installed as into a user's Node-RED folder.
    let user = tmp("node-red-user");
    install_tarball(&user, &tarball);
    std::fs::copy(
        repo_file("tests/node-red/story.test.js"),
        node_red.join("story.test.js"),
    )
    .unwrap();
    let started = Instant::now();
    let output = Command::new(node_red.join("node_modules/.bin/mocha"))
        .args(["--reporter", "spec", "story.test.js"])
        .current_dir(&node_red)
        .env(
            "SMARTCOMM_NODE",
            user.join("node_modules/node-red-contrib-smartcomm/smartcomm.js"),
        )
        .envs(emulator_env(&emulator, customer))
        .output()
        .expect("mocha runs");
    let report = text(&output);
    println!("{report}\nNode-RED story: {:.1?}", started.elapsed());
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("5 passing") && !report.contains("failing") && !report.contains("pending"),
        "{report}"
    );
    assert!(!report.contains(emulator.password()));
    assert_only_the_lead_is_left(&emulator, customer);

    // The real Node-RED runtime, started on the folder the tarball went into, loads the nodes.
    let nodes = node_red_loaded_nodes(&node_red.join("node_modules/.bin/node-red"), &user);
    let module = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|set| set["module"] == "node-red-contrib-smartcomm")
        .unwrap_or_else(|| panic!("{nodes:#}"));
    assert_eq!(
        module["types"],
        serde_json::json!(["smartcomm-connection", "smartcomm"])
    );
    assert_eq!(module["enabled"], true, "{module:#}");
    assert!(module.get("err").is_none(), "{module:#}");
}

/// Starts `node-red --userDir user` on a free loopback port, and returns its admin API's list
/// of node sets (`GET /nodes`) once it answers.
fn node_red_loaded_nodes(node_red: &Path, user: &Path) -> serde_json::Value {
    use std::io::{Read, Write};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = user.join("settings.js");
    std::fs::write(
        &settings,
        format!(
            "module.exports = {{ uiHost: '127.0.0.1', uiPort: {port}, credentialSecret: false }};\n"
        ),
    )
    .unwrap();
    let mut server = Command::new(node_red)
        .arg("--userDir")
        .arg(user)
        .arg("--settings")
        .arg(&settings)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("node-red starts");
    let started = Instant::now();
    let answer = loop {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "Node-RED did not answer on port {port}"
        );
        let asked = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
            stream.write_all(
                b"GET /nodes HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n",
            )?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok(answer)
        });
        match asked {
            Ok(answer) if answer.starts_with("HTTP/1.1 200") => break answer,
            _ => std::thread::sleep(std::time::Duration::from_millis(250)),
        }
    };
    server.kill().unwrap();
    server.wait().unwrap();
    println!("Node-RED answered in {:.1?}", started.elapsed());
    let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    serde_json::from_str(body).unwrap()
}
