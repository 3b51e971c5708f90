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
    if let Err(why) = private_dir(dir) {
        tracing::warn!(dir = %dir.display(), %why, "not using the compiled-code cache");
        return Ok((Component::new(engine, wasm)?, Compilation::Compiled));
    }
    let path = dir.join(format!("{}.cwasm", cache_key(engine, wasm_sha256)));
    match open_private_file(&path) {
        Ok(Some(file)) => {
            // SAFETY: the file is one this function wrote, in a folder only this user can
            // write, opened without following links and checked to be writable by this user
            // alone: wasmtime's own serialization of this component, named after the
            // component's hash, wasmtime's version and the engine's compatibility hash. A
            // file that does not match is rejected by wasmtime's header check.
            match unsafe { deserialize_opened(engine, &file) } {
                Ok(component) => return Ok((component, Compilation::Cached)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable compiled-code cache")
                }
            }
        }
        Ok(None) => {}
        Err(why) => {
            tracing::warn!(path = %path.display(), %why, "ignoring the compiled-code cache file")
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

/// Compiled code from the cache runs as native code in a process that holds the password
/// and tokens, so the cache is trusted only where no one else can have written: the folder
/// (made `0700` when missing) and each file are this user's own, writable by no one else,
/// and not links.
#[cfg(unix)]
fn private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create it: {e}"))?;
    }
    let metadata = std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    if !metadata.is_dir() {
        return Err("it is not a folder (a link is not followed)".into());
    }
    private(&metadata)
}

#[cfg(unix)]
fn private(metadata: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if metadata.uid() != me {
        return Err(format!(
            "it belongs to user {}, not to this one",
            metadata.uid()
        ));
    }
    if metadata.mode() & 0o022 != 0 {
        return Err(format!(
            "others can write it (mode {:o})",
            metadata.mode() & 0o777
        ));
    }
    Ok(())
}

/// The file, opened without following a link, if it is there and private.
#[cfg(unix)]
fn open_private_file(path: &Path) -> Result<Option<std::fs::File>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot open it without following a link: {e}")),
    };
    // The file opened, not the name: nothing can be swapped in between.
    let metadata = file.metadata().map_err(|e| e.to_string())?;
    if !metadata.is_file() {
        return Err("it is not a file".into());
    }
    private(&metadata)?;
    Ok(Some(file))
}

/// The component in `file`, mapped from the file that was opened and checked (through its
/// descriptor, so nothing swapped in under its name since is read).
///
/// # Safety
/// As `Component::deserialize_file`: the file must hold wasmtime's serialization.
#[cfg(target_os = "linux")]
unsafe fn deserialize_opened(engine: &Engine, file: &std::fs::File) -> anyhow::Result<Component> {
    use std::os::fd::AsRawFd;
    let opened = format!("/proc/self/fd/{}", file.as_raw_fd());
    // SAFETY: as the caller promised.
    unsafe { Component::deserialize_file(engine, opened) }.map_err(Into::into)
}

#[cfg(all(unix, not(target_os = "linux")))]
unsafe fn deserialize_opened(engine: &Engine, file: &std::fs::File) -> anyhow::Result<Component> {
    use std::io::Read;
    let mut bytes = Vec::new();
    (&*file).read_to_end(&mut bytes)?;
    // SAFETY: as the caller promised.
    unsafe { Component::deserialize(engine, &bytes) }.map_err(Into::into)
}

#[cfg(not(unix))]
fn private_dir(_: &Path) -> Result<(), String> {
    Err("the cache is only kept where file owners and modes can be checked".into())
}

#[cfg(not(unix))]
fn open_private_file(_: &Path) -> Result<Option<std::fs::File>, String> {
    Ok(None)
}

#[cfg(not(unix))]
unsafe fn deserialize_opened(_: &Engine, _: &std::fs::File) -> anyhow::Result<Component> {
    anyhow::bail!("the cache is not read here")
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

/// Writes the file under a name of its own, readable and writable by this user only, then
/// renames it into place (a link at `path` is replaced, never followed).
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), unique()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&tmp)?.write_all(bytes)?;
    std::fs::rename(&tmp, path)
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}
