//! The listener: HTTP/1.1 connections, at most `max_connections` open, each held to the
//! head's time and size limits. A failed accept (the process out of file descriptors, say) is
//! logged and paused on, so the loop neither spins nor stops.

use super::ScimServer;
use super::options::ScimLimits;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Pauses after failed accepts: from 10 ms, doubling up to the limit, back to none once a
/// connection is accepted.
struct Backoff {
    next: Duration,
    most: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);

    fn new(most: Duration) -> Self {
        Backoff {
            next: Self::FIRST,
            most,
        }
    }

    fn pause(&mut self) -> Duration {
        let pause = self.next.min(self.most);
        self.next = (self.next * 2).min(self.most);
        pause
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

fn http1(limits: &ScimLimits) -> hyper::server::conn::http1::Builder {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_headers(limits.max_headers)
        .max_buf_size(limits.read_buffer_bytes.max(8192));
    http
}

impl ScimServer {
    /// Serves `listener` until `shutdown` completes, then lets the requests in flight finish
    /// (for at most the request deadline).
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let limits = &self.options.limits;
        let http = http1(limits);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
        let mut backoff = Backoff::new(limits.accept_backoff_max);
        tokio::pin!(shutdown);
        loop {
            let slot = match open.clone().try_acquire_owned() {
                Ok(slot) => slot,
                Err(_) => {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "the connection limit is reached: new connections wait until one closes"
                    );
                    tokio::select! {
                        slot = open.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                        () = &mut shutdown => break,
                    }
                }
            };
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => {
                    backoff.reset();
                    stream
                }
                Err(error) => {
                    let pause = backoff.pause();
                    tracing::warn!(%error, pause_ms = pause.as_millis() as u64, "accepting a connection failed");
                    tokio::select! {
                        () = tokio::time::sleep(pause) => continue,
                        () = &mut shutdown => break,
                    }
                }
            };
            let server = self.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let server = server.clone();
                async move { Ok::<_, std::convert::Infallible>(server.handle(request).await) }
            });
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                let _ = connection.await;
                drop(slot);
            });
        }
        let _ = tokio::time::timeout(self.options.request_deadline, graceful.shutdown()).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_limit_and_start_over_after_an_accept() {
        let mut backoff = Backoff::new(Duration::from_millis(50));
        let pauses: Vec<u128> = (0..5).map(|_| backoff.pause().as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 50, 50]);
        backoff.reset();
        assert_eq!(backoff.pause(), Duration::from_millis(10));
    }
}
