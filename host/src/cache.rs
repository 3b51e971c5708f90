//! The compiled-code cache: a component compiled once is stored on disk, keyed by the
//! component's digest, this crate's and wasmtime's versions and the engine's settings, so later
//! starts load it in a millisecond instead of compiling for a second.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// `$SMARTCOMM_CACHE_DIR`, else `$XDG_CACHE_HOME/smartcomm`, else `~/.cache/smartcomm`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SMARTCOMM_CACHE_DIR") {
        return Some(dir.into());
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("smartcomm"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/smartcomm"))
}

/// How the compiled component was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compilation {
    /// Read from the disk cache: no compilation.
    Cached,
    /// Compiled now (and written to the cache when there is one).
    Compiled,
}

pub(crate) fn load(
    engine: &Engine,
    wasm: &[u8],
    wasm_sha256: &str,
    cache_dir: Option<&Path>,
) -> anyhow::Result<(Component, Compilation)> {
    let Some(dir) = cache_dir else {
        return Ok((Component::new(engine, wasm)?, Compilation::Compiled));
    };
    let path = dir.join(format!("{}.cwasm", cache_key(engine, wasm_sha256)));
    if path.exists() {
        // SAFETY: the file is one this function wrote: wasmtime's own serialization of this
        // component, named after the component's hash, wasmtime's version and the engine's
        // compatibility hash. A file that does not match is rejected by wasmtime's header check.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok((component, Compilation::Cached)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable compiled-code cache")
            }
        }
    }
    let compiled = engine.precompile_component(wasm)?;
    if let Err(e) = write_atomically(dir, &path, &compiled) {
        tracing::warn!(path = %path.display(), error = %e, "could not write the compiled-code cache");
    }
    // SAFETY: `compiled` was produced by this engine just now.
    let component = unsafe { Component::deserialize(engine, &compiled)? };
    Ok((component, Compilation::Compiled))
}

fn cache_key(engine: &Engine, wasm_sha256: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut compat = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let mut hasher = Sha256::new();
    hasher.update(wasm_sha256.as_bytes());
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(wasmtime_version().as_bytes());
    hasher.update(compat.finish().to_le_bytes());
    hex(&hasher.finalize()[..16])
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn wasmtime_version() -> &'static str {
    // The crate's major.minor.patch, resolved from Cargo.lock at build time.
    env!("SMARTCOMM_WASMTIME_VERSION")
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), unique()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}
