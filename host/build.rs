//! Builds the smartcomm component for wasm32-wasip2 and leaves it in OUT_DIR, so the host
//! embeds it and `cargo run -p smartcomm-host` works from a fresh clone.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let wasm_out = out_dir.join("smartcomm.wasm");
    let embedded = wasm_out.clone();

    for path in [
        "src",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
        "tests/misbehaving-guest",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }

    // A target directory of its own: the outer build holds the lock on its own one.
    // It sits next to the outer profile directories so it survives `OUT_DIR` changes.
    let target_dir = component_target_dir(&out_dir);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        // The misbehaving guest is built alongside, for the host's confinement tests.
        .args([
            "build",
            "--package",
            "smartcomm",
            "--package",
            "smartcomm-misbehaving-guest",
            "--lib",
            "--target",
            "wasm32-wasip2",
            "--release",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's flags are for the host; the component has its own profile.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        command.env_remove(var);
    }
    let status = command
        .status()
        .expect("could not run cargo to build the component");
    if !status.success() {
        panic!(
            "building the smartcomm component failed; is the wasm32-wasip2 target installed? \
             (rustup target add wasm32-wasip2)"
        );
    }
    println!(
        "cargo:rustc-env=SMARTCOMM_WASMTIME_VERSION={}",
        locked_version(&root, "wasmtime")
    );

    for (built, copy) in [
        ("smartcomm.wasm", wasm_out),
        (
            "smartcomm_misbehaving_guest.wasm",
            out_dir.join("misbehaving.wasm"),
        ),
    ] {
        let built = target_dir.join("wasm32-wasip2/release").join(built);
        std::fs::copy(&built, &copy)
            .unwrap_or_else(|e| panic!("copying {} failed: {e}", built.display()));
    }
    // The compiled-code cache is keyed by this digest; computing it here spares every start.
    println!(
        "cargo:rustc-env=SMARTCOMM_EMBEDDED_SHA256={}",
        sha256_hex(&embedded)
    );
}

fn sha256_hex(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn component_target_dir(out_dir: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    out_dir
        .ancestors()
        .nth(4)
        .map(|target| target.join("smartcomm-component"))
        .unwrap_or_else(|| out_dir.join("component-target"))
}

/// The version of `package` that Cargo.lock resolved.
fn locked_version(root: &Path, package: &str) -> String {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"")
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = "))
        {
            return version.trim_matches('"').to_string();
        }
    }
    "unknown".into()
}
