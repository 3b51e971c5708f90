//! The component from other languages' hosts: JavaScript (jco), Python (wasmtime-py), the
//! embedding guides' programs as `docs/embedding.md` prints them, and the wasm-tools checks. Their packages are installed from the lockfiles in `tests/js` and
//! `tests/python` into the target folder on first use, so `cargo test` needs only node, npm
//! and python3 on the machine.

use crate::common::emulator_env;
use crate::tools::{installed, python_venv, repo_file, run_ok};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A folder with jco and the preview2 shim from `tests/js/package-lock.json`, and the story.
fn js_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("js");
        let manifests = [
            repo_file("tests/js/package.json"),
            repo_file("tests/js/package-lock.json"),
        ];
        installed(&dir, &manifests, |dir| {
            for manifest in &manifests {
                std::fs::copy(manifest, dir.join(manifest.file_name().unwrap())).unwrap();
            }
            run_ok(
                Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund", "--prefix"])
                    .arg(dir),
            );
        });
        // Next to node_modules, so the transpiled module finds the shim.
        for story in ["story.test.mjs", "scim.test.mjs"] {
            std::fs::copy(repo_file(&format!("tests/js/{story}")), dir.join(story)).unwrap();
        }
        dir
    })
}

/// A Python virtual environment with wasmtime-py and wasm-tools from
/// `tests/python/requirements.txt`.
fn python_env() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| python_venv("python", "tests/python/requirements.txt"))
}

fn component_file() -> PathBuf {
    wasm_file("polyglot", smartcomm_host::EMBEDDED_COMPONENT)
}

fn wasm_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("smartcomm-{name}-{}.wasm", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs a `node --test` file of the JS folder, and checks the runner's own summary: every test
/// passed, none failed, skipped or cancelled. Returns the report.
fn node_test(file: &str, env: &[(&str, &Path)]) -> String {
    let mut command = Command::new("node");
    command
        .args(["--test", "--test-reporter=spec", file])
        .current_dir(js_dir())
        .env("SMARTCOMM_BIN", env!("CARGO_BIN_EXE_smartcomm"));
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("node runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    let summary = |name: &str| {
        report
            .lines()
            .find_map(|line| line.trim_start_matches(['ℹ', ' ']).strip_prefix(name))
            .and_then(|n| n.trim().parse::<u32>().ok())
    };
    assert_eq!(summary("fail"), Some(0), "{report}");
    assert_eq!(summary("cancelled"), Some(0), "{report}");
    assert_eq!(summary("tests"), summary("pass"), "{report}");
    assert!(summary("pass").is_some_and(|n| n > 0), "{report}");
    report
}

#[test]
fn javascript_drives_the_component_through_jco() {
    let wasm = component_file();
    let report = node_test("story.test.mjs", &[("SMARTCOMM_WASM", &wasm)]);
    println!("{}", in_flight_line(&report, "jco:"));
}

#[test]
fn jco_serve_runs_the_scim_component_through_entras_lifecycle() {
    let wasm = wasm_file("scim", smartcomm_host::EMBEDDED_SCIM_COMPONENT);
    let report = node_test("scim.test.mjs", &[("SMARTCOMM_SCIM_WASM", &wasm)]);
    for line in report
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("jco:"))
    {
        println!("{line}");
    }
}

/// The line a story prints about the requests its host kept in flight.
fn in_flight_line<'a>(report: &'a str, host: &str) -> &'a str {
    report
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with(host) && line.contains("peak in flight"))
        .unwrap_or("no in-flight line")
}

#[test]
fn wasm_tools_validates_the_component_and_shows_its_exports() {
    let wasm = component_file();
    let wasm_tools = python_env().join("bin/wasm-tools");
    let validate = Command::new(&wasm_tools)
        .args(["validate", "--features", "all"])
        .arg(&wasm)
        .output()
        .expect("wasm-tools runs");
    assert!(
        validate.status.success(),
        "{}",
        String::from_utf8_lossy(&validate.stderr)
    );
    let wit = Command::new(&wasm_tools)
        .args(["component", "wit"])
        .arg(&wasm)
        .output()
        .unwrap();
    let wit = String::from_utf8_lossy(&wit.stdout);
    for export in [
        "types", "client", "agents", "inboxes", "numbers", "steps", "sync", "entra",
    ] {
        assert!(
            wit.contains(&format!(
                "export intelepeer:smartcommunicator/{export}@0.3.0;"
            )),
            "{wit}"
        );
    }
    assert!(
        !wit.contains("wasi:filesystem") && !wit.contains("wasi:sockets"),
        "{wit}"
    );
}

#[test]
fn python_drives_the_component_through_wasmtime_py() {
    let script = repo_file("tests/python/story.py");
    let wasm = component_file();
    let output = Command::new(python_env().join("bin/python"))
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_smartcomm"))
        .arg(&wasm)
        .output()
        .expect("python runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.contains("python story: ok"),
        "{report}"
    );
    println!("{}", in_flight_line(&report, "wasmtime-py:"));
}

/// The fenced blocks of `language` in the section of `docs/embedding.md` whose heading is
/// `heading`, as the guide prints them.
fn guide_blocks(heading: &str, language: &str) -> Vec<String> {
    let guide = std::fs::read_to_string(repo_file("docs/embedding.md")).unwrap();
    let section = guide
        .split("\n## ")
        .find(|section| section.starts_with(heading))
        .unwrap_or_else(|| panic!("docs/embedding.md has a section {heading}"));
    let fence = format!("```{language}\n");
    section
        .split(&fence)
        .skip(1)
        .map(|block| block.split("\n```").next().unwrap().to_string() + "\n")
        .collect()
}

/// The output a guide's program says it prints, with the emulator's settings in its
/// environment for `customer`.
fn run_guide(command: &mut Command, emulator: &smartcomm_emulator::Emulator, customer: &str) {
    let output = command
        .envs(emulator_env(emulator, customer))
        .output()
        .expect("the guide's program runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        printed.lines().collect::<Vec<_>>(),
        [
            "onboard: succeeded",
            "get: not-found",
            "plan: 1 to onboard, 1 unchanged",
            "apply: 1 succeeded"
        ]
    );
    let account = emulator.account(customer);
    let mut agents: Vec<_> = account
        .agents
        .iter()
        .map(|a| a.user_object_id.as_str())
        .collect();
    agents.sort();
    assert_eq!(agents, ["ada", "grace"]);
}

/// The guide's JavaScript, in a folder of the JS tools with the component as
/// `smartcomm.wasm`: its `npx` commands as printed (its `npm install` names the versions
/// `tests/js/package-lock.json` installed; the `cargo build` of the component is the one
/// `host/build.rs` runs), then its program as `guide.mjs`.
#[tokio::test(flavor = "multi_thread")]
async fn the_javascript_embedding_guide_runs_as_written() {
    let emulator = crate::common::emulator().await;
    let dir = js_dir().join(format!("guide-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("smartcomm.wasm"),
        smartcomm_host::EMBEDDED_COMPONENT,
    )
    .unwrap();
    let commands = guide_blocks("JavaScript", "sh").concat();
    assert!(commands.contains(
        "npm install @bytecodealliance/jco@1.35.0 @bytecodealliance/preview2-shim@0.26.1"
    ));
    let manifest = std::fs::read_to_string(repo_file("tests/js/package.json")).unwrap();
    assert!(manifest.contains(r#""@bytecodealliance/jco": "1.35.0""#));
    assert!(manifest.contains(r#""@bytecodealliance/preview2-shim": "0.26.1""#));
    let npx: Vec<_> = commands.lines().filter(|l| l.starts_with("npx ")).collect();
    assert!(!npx.is_empty(), "{commands}");
    for line in npx {
        run_ok(Command::new("sh").args(["-c", line]).current_dir(&dir));
    }
    let [program] = guide_blocks("JavaScript", "js").try_into().unwrap();
    std::fs::write(dir.join("guide.mjs"), program).unwrap();
    run_guide(
        Command::new("node").arg("guide.mjs").current_dir(&dir),
        &emulator,
        "js-guide",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The guide's Python program as `guide.py`, in a folder with the component as
/// `smartcomm.wasm`, run by the virtual environment of `tests/python/requirements.txt` (its
/// wasmtime is the version the guide names).
#[tokio::test(flavor = "multi_thread")]
async fn the_python_embedding_guide_runs_as_written() {
    let emulator = crate::common::emulator().await;
    let requirements = std::fs::read_to_string(repo_file("tests/python/requirements.txt")).unwrap();
    assert!(requirements.lines().any(|l| l == "wasmtime==50.0.1"));
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("python-guide-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("smartcomm.wasm"),
        smartcomm_host::EMBEDDED_COMPONENT,
    )
    .unwrap();
    let [program] = guide_blocks("Python", "python").try_into().unwrap();
    std::fs::write(dir.join("guide.py"), program).unwrap();
    run_guide(
        Command::new(python_env().join("bin/python"))
            .arg("guide.py")
            .current_dir(&dir),
        &emulator,
        "python-guide",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
