//! Tools the tests install on first use into the target folder, from lockfiles in the
//! repository, so `cargo test` needs only node, npm and python3 on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Makes `dir` hold what `install` builds from `inputs`, unless it already holds what it built
/// from the same inputs (a stamp file keeps their contents).
pub fn installed(dir: &Path, inputs: &[PathBuf], install: impl FnOnce(&Path)) {
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

pub fn run_ok(command: &mut Command) {
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

/// A Python virtual environment in the target folder's `name`, with the packages of the
/// repository's `requirements` file.
pub fn python_venv(name: &str, requirements: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let requirements = repo_file(requirements);
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
}
