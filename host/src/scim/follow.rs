//! Files the server follows while it runs: the bearer token's and the certificate's. Each is
//! read at start; after that, new content is taken once two looks in a row read it alike, so
//! that a file being written is never taken half-way, or at once when a reload is asked for.
//! Content is taken once: what does not serve (an empty token, a key that is not the
//! certificate's) is reported once by the caller, and looked at again only when it changes.

use super::{ScimServer, admit};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The content of a set of files, in the order they were named.
pub(super) type Content = Vec<Vec<u8>>;

pub(super) struct Followed {
    /// What the files hold, for messages: "the token file", "the certificate".
    pub(super) what: &'static str,
    paths: Vec<PathBuf>,
    /// The content last taken, whether it served or not.
    taken: Content,
    /// New content seen once, waiting for a second look.
    seen: Option<Content>,
    /// The last failure to read, reported once.
    unreadable: Option<String>,
}

impl Followed {
    /// Reads `paths` for the first time.
    pub(super) fn start(
        what: &'static str,
        paths: Vec<PathBuf>,
    ) -> Result<(Self, Content), String> {
        let content = read_all(&paths)?;
        let followed = Followed {
            what,
            paths,
            taken: content.clone(),
            seen: None,
            unreadable: None,
        };
        Ok((followed, content))
    }

    /// New content to take: seen twice in a row, or at once with `at_once`. A file that
    /// cannot be read is logged once and waited out.
    pub(super) fn look(&mut self, at_once: bool) -> Option<Content> {
        let content = match read_all(&self.paths) {
            Ok(content) => content,
            Err(problem) => {
                if self.unreadable.as_ref() != Some(&problem) {
                    tracing::warn!("{}: {problem}; the one in use stays", self.what);
                    self.unreadable = Some(problem);
                }
                return None;
            }
        };
        self.unreadable = None;
        if content == self.taken {
            self.seen = None;
            return None;
        }
        if at_once || self.seen.as_ref() == Some(&content) {
            self.seen = None;
            self.taken = content.clone();
            return Some(content);
        }
        self.seen = Some(content);
        None
    }
}

/// "FILE" or "FILE and FILE", for messages.
pub(super) fn pair(followed: &Followed) -> String {
    let names: Vec<String> = followed
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    names.join(" and ")
}

impl ScimServer {
    /// Reads the token file and the certificate files again now (on SIGHUP, say) and takes
    /// what changed; says so in the log either way.
    pub fn reload(&self) {
        if !self.look(true) {
            tracing::info!("reload: the token and the certificate are as they were");
        }
    }

    /// Looks at the followed files every `watch_interval` until the task is aborted; none
    /// without any.
    pub(super) fn follow_files(self: Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        if followed.token.is_none() && followed.certificate.is_none() {
            return None;
        }
        drop(followed);
        let mut every = tokio::time::interval(self.options.watch_interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Some(tokio::spawn(async move {
            loop {
                every.tick().await;
                let server = self.clone();
                let _ = tokio::task::spawn_blocking(move || server.look(false)).await;
            }
        }))
    }

    /// Takes what changed in the followed files; whether anything did.
    fn look(&self, at_once: bool) -> bool {
        let mut followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        let mut changed = false;
        if let Some(file) = followed.token.as_mut()
            && let Some(content) = file.look(at_once)
        {
            changed = true;
            self.take_token(file, &content);
        }
        if let Some(files) = followed.certificate.as_mut()
            && let Some(content) = files.look(at_once)
        {
            changed = true;
            self.take_certificate(files, &content);
        }
        changed
    }

    fn take_token(&self, file: &Followed, content: &Content) {
        match admit::token_in_file(&content[0]) {
            Ok(token) => {
                self.set_token(token);
                tracing::info!(
                    file = %pair(file),
                    "the bearer token was replaced: requests that carry the previous one are refused"
                );
            }
            Err(problem) => {
                tracing::warn!("{}: {problem}; the token in use stays", pair(file))
            }
        }
    }

    fn take_certificate(&self, files: &Followed, content: &Content) {
        let Some(certificate) = &self.certificate else {
            return;
        };
        match certificate.replace(&content[0], &content[1]) {
            Ok(()) => tracing::info!(
                files = %pair(files),
                "the certificate was replaced: new connections get it"
            ),
            Err(problem) => {
                tracing::warn!("{}: {problem}; the certificate in use stays", pair(files))
            }
        }
    }
}

/// Each file's bytes; a problem names the file, never its content.
fn read_all(paths: &[PathBuf]) -> Result<Content, String> {
    paths.iter().map(|path| read(path)).collect()
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_content_is_taken_on_the_second_look_alike_or_at_once() {
        let dir = std::env::temp_dir().join(format!("smartcomm-follow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "one").unwrap();
        let (mut followed, first) = Followed::start("the token file", vec![path.clone()]).unwrap();
        assert_eq!(first, [b"one".to_vec()]);
        assert_eq!(followed.look(false), None, "nothing new");
        std::fs::write(&path, "tw").unwrap();
        assert_eq!(
            followed.look(false),
            None,
            "seen once: perhaps half-written"
        );
        std::fs::write(&path, "two").unwrap();
        assert_eq!(followed.look(false), None, "it changed again");
        assert_eq!(followed.look(false), Some(vec![b"two".to_vec()]));
        assert_eq!(followed.look(false), None, "taken once");
        std::fs::write(&path, "three").unwrap();
        assert_eq!(followed.look(true), Some(vec![b"three".to_vec()]));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(followed.look(true), None, "a missing file is waited out");
        std::fs::write(&path, "three").unwrap();
        assert_eq!(followed.look(true), None, "back as it was: nothing new");
    }
}
