//! A blocking face of [`Session`](crate::Session) for programs without an async runtime.
//! Do not use it from inside a tokio runtime: it runs one of its own.

use crate::{Config, Runtime};

/// A [`crate::Session`] on a runtime of its own: each [`Session::call`] blocks until the
/// session's call is done.
///
/// ```no_run
/// # fn demo(runtime: &smartcomm_host::Runtime, config: smartcomm_host::Config) -> anyhow::Result<()> {
/// use smartcomm_host::Operations;
/// let mut session = smartcomm_host::blocking::Session::new(runtime, config)?;
/// let numbers = session.call(async |s| s.list_numbers(None, None).await)?;
/// # Ok(()) }
/// ```
pub struct Session {
    runtime: tokio::runtime::Runtime,
    session: crate::Session,
}

impl Session {
    pub fn new(runtime: &Runtime, config: Config) -> std::io::Result<Session> {
        Ok(Session {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            session: runtime.session(config),
        })
    }

    /// Runs `call` on the session and waits for its result: any method of the session, or
    /// several in a row.
    pub fn call<T>(&mut self, call: impl AsyncFnOnce(&mut crate::Session) -> T) -> T {
        self.runtime.block_on(call(&mut self.session))
    }
}
