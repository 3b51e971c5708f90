//! A blocking face of [`Session`](crate::Session) for programs without an async runtime.
//! Do not use it from inside a tokio runtime: it runs one of its own.

use crate::{Config, Runtime};

/// A [`crate::Session`] that blocks on each call. It has the same methods.
pub struct Session {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) session: crate::Session,
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
}
