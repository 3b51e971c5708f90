//! The component from other languages' hosts: JavaScript (jco), Python (wasmtime-py), and
//! the wasm-tools checks. Their packages are installed from the lockfiles in `tests/js` and
//! `tests/python` into the target folder on first use, so `cargo test` needs only node, npm
//! and python3 on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Makes `dir` hold what `install` builds from `inputs`, unless it already holds what it built
/// from the same inputs (a stamp file keeps their contents).
fn installed(dir: &Path, inputs: &[PathBuf], install: impl FnOnce(&Path)) {
    let stamp_path = dir.join(".installed-from");
    let stamp: Vec<u8> = inputs
        .iter()
        .flat_map(|input| std::fs::read(input).expect("a lockfile of the repository"))
        .collect();
    if std::fs::read(&stamp_path).ok().as_ref() == Some(&stamp) {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    install(dir);
    std::fs::write(&stamp_path, stamp).unwrap();
}

fn run_ok(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} did not start: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

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
        std::fs::copy(
            repo_file("tests/js/story.test.mjs"),
            dir.join("story.test.mjs"),
        )
        .unwrap();
        dir
    })
}

/// A Python virtual environment with wasmtime-py and wasm-tools from
/// `tests/python/requirements.txt`.
fn python_env() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python");
        let requirements = repo_file("tests/python/requirements.txt");
        installed(&dir, std::slice::from_ref(&requirements), |dir| {
            run_ok(Command::new("python3").args(["-m", "venv"]).arg(dir));
            run_ok(
                Command::new(dir.join("bin/python"))
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .arg("-r")
                    .arg(&requirements),
            );
        });
        dir
    })
}

fn component_file() -> PathBuf {
    let path = std::env::temp_dir().join(format!("smartcomm-polyglot-{}.wasm", std::process::id()));
    std::fs::write(&path, smartcomm_host::EMBEDDED_COMPONENT).unwrap();
    path
}

#[test]
fn javascript_drives_the_component_through_jco() {
    let dir = js_dir();
    let wasm = component_file();
    let output = Command::new("node")
        .args(["--test", "--test-reporter=spec", "story.test.mjs"])
        .current_dir(dir)
        .env("SMARTCOMM_BIN", env!("CARGO_BIN_EXE_smartcomm"))
        .env("SMARTCOMM_WASM", &wasm)
        .output()
        .expect("node runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    // The runner's own summary: every test passed, none failed, skipped or cancelled.
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
    println!("{}", in_flight_line(&report, "jco:"));
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
        "types", "client", "agents", "inboxes", "numbers", "steps", "sync",
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
