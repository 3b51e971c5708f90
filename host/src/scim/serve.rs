//! The listener: HTTP/1.1 connections, over TLS when the server has a certificate, at most
//! `max_connections` open, each held to the head's size limits and to its time limits
//! (`connection`). A failed accept (the process out of file descriptors, say) is logged and
//! paused on, so the loop neither spins nor stops. A shutdown closes the listener at once and
//! gives the requests in flight a bounded grace.

use super::ScimServer;
use super::connection::{Activity, Answered, InFlight, Watched};
use super::options::ScimLimits;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

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
    // hyper's header timeout also runs while a kept-alive connection waits for its next
    // request; `connection` keeps the two limits apart instead.
    http.timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_header_size(limits.max_header_bytes)
        .max_headers(limits.max_headers)
        .max_buf_size(limits.read_buffer_bytes.max(8192));
    http
}

/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// The requests still in flight when the shutdown grace ended, cut; 0 when every one
    /// finished.
    pub cut: usize,
}

impl ScimServer {
    /// Serves `listener` until `shutdown` completes; then stops accepting at once (the
    /// listener is closed, so new connections are refused), lets the requests in flight
    /// finish within the shutdown grace, and says how many it had to cut. While it serves, the
    /// token file and the certificate are followed.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<Stopped> {
        let limits = &self.options.limits;
        let http = http1(limits);
        let acceptor = match &self.certificate {
            Some(certificate) => Some(certificate.acceptor().map_err(std::io::Error::other)?),
            None => None,
        };
        let graceful = GracefulShutdown::new();
        let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
        let mut backoff = Backoff::new(limits.accept_backoff_max);
        let following = self.clone().follow_files();
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
            let connection =
                self.clone()
                    .connection(stream, acceptor.clone(), http.clone(), graceful.watcher());
            tokio::spawn(async move {
                connection.await;
                drop(slot);
            });
        }
        drop(listener);
        if let Some(following) = following {
            following.abort();
        }
        Ok(self.drain(graceful).await)
    }

    /// One connection, from its TLS handshake (within the header timeout of its opening) to
    /// its end, under its watchdog.
    async fn connection(
        self: Arc<Self>,
        stream: TcpStream,
        acceptor: Option<TlsAcceptor>,
        http: hyper::server::conn::http1::Builder,
        watcher: Watcher,
    ) {
        let limits = &self.options.limits;
        let opened = tokio::time::Instant::now();
        let activity = Activity::opened(opened);
        match acceptor {
            None => self.http(stream, &activity, http, watcher).await,
            Some(acceptor) => {
                let handshake = acceptor.accept(stream);
                match tokio::time::timeout_at(opened + limits.header_timeout, handshake).await {
                    Ok(Ok(stream)) => self.http(stream, &activity, http, watcher).await,
                    Ok(Err(error)) => tracing::debug!(%error, "a TLS handshake failed"),
                    Err(_) => tracing::debug!("a TLS handshake did not finish in time"),
                }
            }
        }
    }

    /// HTTP/1.1 on `stream`: each request counted in flight until its answer is written.
    async fn http<S>(
        self: &Arc<Self>,
        stream: S,
        activity: &Arc<Activity>,
        http: hyper::server::conn::http1::Builder,
        watcher: Watcher,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let server = self.clone();
        let requests = activity.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = InFlight::begin(requests.clone(), server.in_flight.clone());
            let server = server.clone();
            async move {
                let response = server.handle(request).await;
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| Answered::new(body, in_flight)),
                )
            }
        });
        let io = TokioIo::new(Watched::new(stream, activity.clone()));
        let serving = watcher.watch(http.serve_connection(io, service));
        activity.watch(serving, &self.options.limits).await;
    }

    /// After the listener is closed: the requests in flight get the shutdown grace to finish.
    async fn drain(&self, graceful: GracefulShutdown) -> Stopped {
        let grace = self.options.shutdown_grace;
        tracing::info!(
            in_flight = self.requests_in_flight(),
            grace_s = grace.as_secs_f32(),
            "stopping: new connections are refused; the requests in flight finish"
        );
        match tokio::time::timeout(grace, graceful.shutdown()).await {
            Ok(()) => Stopped { cut: 0 },
            Err(_) => {
                let cut = self.requests_in_flight();
                tracing::warn!(
                    cut,
                    "the shutdown grace ended before every request in flight finished: they are cut"
                );
                Stopped { cut }
            }
        }
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
