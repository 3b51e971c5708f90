//! Builds the smartcomm component for wasm32-wasip2 and leaves it in OUT_DIR, so the host
//! embeds it and `cargo run -p smartcomm-host` works from a fresh clone.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());

    for path in [
        "src",
        "wit",
        "scim",
        "Cargo.toml",
        "Cargo.lock",
        "tests/misbehaving-guest",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }

    ensure_wasm_target(&root);

    // A target directory of its own: the outer build holds the lock on its own one.
    // It sits next to the outer profile directories so it survives `OUT_DIR` changes.
    let target_dir = component_target_dir(&out_dir);
    // Two builds: the SCIM component uses the smartcomm crate without its WIT exports, and
    // one build would unify that crate's features. The second build writes smartcomm.wasm
    // again, without the exports, so each build's components are copied before the next.
    build_components(
        &root,
        &target_dir,
        &["smartcomm", "smartcomm-misbehaving-guest"],
    );
    embed(&target_dir, &out_dir, "smartcomm.wasm", "smartcomm.wasm");
    println!(
        "cargo:rustc-env=SMARTCOMM_EMBEDDED_SHA256={}",
        sha256_hex(&out_dir.join("smartcomm.wasm"))
    );
    embed(
        &target_dir,
        &out_dir,
        "smartcomm_misbehaving_guest.wasm",
        "misbehaving.wasm",
    );
    build_components(&root, &target_dir, &["smartcomm-scim"]);
    embed(&target_dir, &out_dir, "smartcomm_scim.wasm", "scim.wasm");
    // The compiled-code cache is keyed by these digests; computing them here spares every start.
    println!(
        "cargo:rustc-env=SMARTCOMM_EMBEDDED_SCIM_SHA256={}",
        sha256_hex(&out_dir.join("scim.wasm"))
    );
    println!(
        "cargo:rustc-env=SMARTCOMM_WASMTIME_VERSION={}",
        locked_version(&root, "wasmtime")
    );
}

/// Copies a built component into OUT_DIR, where the host embeds it.
fn embed(target_dir: &Path, out_dir: &Path, built: &str, copy: &str) {
    let built = target_dir.join("wasm32-wasip2/component").join(built);
    std::fs::copy(&built, out_dir.join(copy))
        .unwrap_or_else(|e| panic!("copying {} failed: {e}", built.display()));
}

/// Builds `packages` for wasm32-wasip2 with the component profile into `target_dir`.
fn build_components(root: &Path, target_dir: &Path, packages: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root).arg("build");
    for package in packages {
        command.args(["--package", package]);
    }
    command
        .args([
            "--lib",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "component",
        ])
        .arg("--target-dir")
        .arg(target_dir);
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
            "building {packages:?} failed; is the wasm32-wasip2 target installed? \
             (rustup target add wasm32-wasip2)"
        );
    }
}

/// Adds the wasm32-wasip2 standard library when the toolchain lacks it and rustup is there to
/// add it: `rust-toolchain.toml` lists the target, but rustup installs listed targets only
/// where it may install on its own (not with `RUSTUP_AUTO_INSTALL=0`, nor for a toolchain that
/// was already installed without it).
fn ensure_wasm_target(root: &Path) {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let has_target = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", "wasm32-wasip2"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        .is_some_and(|libdir| has_std(&libdir));
    if has_target {
        return;
    }
    let mut rustup = Command::new("rustup");
    rustup
        .current_dir(root)
        .args(["target", "add", "wasm32-wasip2"]);
    if let Some(toolchain) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        rustup.arg("--toolchain").arg(toolchain);
    }
    match rustup.status() {
        Ok(status) if status.success() => {}
        _ => println!(
            "cargo:warning=the wasm32-wasip2 target is missing and `rustup target add \
             wasm32-wasip2` did not add it; install it to build the component"
        ),
    }
}

fn has_std(libdir: &Path) -> bool {
    std::fs::read_dir(libdir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
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
