//! A keep-alive connection pool for the guest's outbound requests.
//!
//! wasmtime-wasi-http's default sender opens (and for https, handshakes) a new connection for
//! every request. A bulk job then pays a connect per request and leaves a socket in TIME_WAIT
//! for each, which exhausts ephemeral ports at a few hundred requests per second. This sender
//! keeps HTTP/1.1 connections open per origin and reuses them, through hyper-util's pooled
//! client. It only transports: whether a request may go, and with which timeouts, is decided
//! before it gets here ([`crate::policy::OutboundPolicy`]).

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder, MaybeHttpsStream};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{HttpConnector, capture_connection};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::runtime::{Handle, RuntimeFlavor};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

/// Idle connections kept per origin: as many as one component instance may have requests in
/// flight (its `concurrency` is at most 64), so that a bulk call reuses every connection it
/// opened. More concurrent requests than this still work; their connections are closed
/// afterwards.
const MAX_IDLE_PER_ORIGIN: usize = 64;
/// Idle connections older than this are closed rather than reused: servers and middleboxes
/// drop idle connections after a while, and a request on such a one would fail.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// wasmtime-wasi-http's own default for a timeout the request leaves unset.
const UNSET_TIMEOUT: Duration = Duration::from_secs(600);

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
type BoxError = Box<dyn StdError + Send + Sync>;
type Connecting<T> = Pin<Box<dyn Future<Output = Result<T, HttpError>> + Send>>;

tokio::task_local! {
    /// The connect timeout of the request being sent. hyper-util hands its connector only the
    /// origin, and one client per timeout would split the pool; the connector is called while
    /// the request's own future is polled, so it reads the timeout from here.
    static CONNECT_TIMEOUT: Duration;
}

/// Open connections by origin, shared by every instance of a [`crate::Runtime`].
pub struct ConnectionPool {
    client: Client<Connector, WasiBody>,
    opened: Arc<AtomicU64>,
}

impl Default for ConnectionPool {
    fn default() -> Self {
        let opened = Arc::new(AtomicU64::new(0));
        let mut http = HttpConnector::new();
        // The scheme is the policy's to judge, and hyper-rustls needs https let through.
        http.enforce_http(false);
        http.set_nodelay(true);
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.into(),
            })
            .with_no_client_auth();
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(Counting {
                http,
                opened: opened.clone(),
            });
        let client = Client::builder(Executor)
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_max_idle_per_host(MAX_IDLE_PER_ORIGIN)
            .pool_timer(TokioTimer::new())
            .build(Connector { https });
        ConnectionPool { client, opened }
    }
}

impl std::fmt::Debug for ConnectionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("opened", &self.connections_opened())
            .finish_non_exhaustive()
    }
}

impl ConnectionPool {
    /// How many TCP connections this pool has opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Sends `request` on an idle connection to its origin, or on a new one.
    pub async fn send(
        self: Arc<Self>,
        mut request: http::Request<WasiBody>,
        options: RequestOptions,
    ) -> Result<(http::Response<WasiBody>, IoFuture), HttpError> {
        let connect_timeout = options.connect_timeout.unwrap_or(UNSET_TIMEOUT);
        let first_byte_timeout = options.first_byte_timeout.unwrap_or(UNSET_TIMEOUT);
        // A zero interval panics in tokio.
        let between_bytes_timeout = options
            .between_bytes_timeout
            .unwrap_or(UNSET_TIMEOUT)
            .max(Duration::from_nanos(1));
        let mut connection = capture_connection(&mut request);
        let response = CONNECT_TIMEOUT.scope(connect_timeout, self.client.request(request));
        tokio::pin!(response);
        // As in wasmtime-wasi-http's sender, the wait for the response head starts once there
        // is a connection: connecting is bounded by the connect timeout alone.
        let response = tokio::select! {
            biased;
            response = &mut response => response,
            // The guard it returns is not `Send`: let it go before awaiting on.
            () = async { drop(connection.wait_for_connection_metadata().await) } => {
                tokio::time::timeout(first_byte_timeout, response)
                    .await
                    .map_err(|_| HttpError::ConnectionReadTimeout)?
            }
        }
        .map_err(|error| client_error(&error))?;
        let mut timeout = tokio::time::interval(between_bytes_timeout);
        timeout.reset();
        let response = response.map(|incoming| TimedBody { incoming, timeout }.boxed_unsync());
        // The connection is driven by its own task, so there is no I/O left for the caller.
        Ok((response, Box::new(async { Ok(()) }) as IoFuture))
    }
}

/// Spawns the client's connection tasks where they keep running. A current-thread runtime
/// runs its tasks only while its owner waits on it, so a connection it drove would stall when
/// another runtime's caller reused it: those go to a runtime of the pool's own.
#[derive(Clone, Copy)]
struct Executor;

impl<F: Future<Output = ()> + Send + 'static> hyper::rt::Executor<F> for Executor {
    fn execute(&self, future: F) {
        driven().spawn(future);
    }
}

fn driven() -> Handle {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => handle,
        _ => background().clone(),
    }
}

fn background() -> &'static Handle {
    // Never dropped: the last pool may go away inside async code, where a blocking runtime
    // shutdown panics, and one idle thread per process costs nothing.
    static BACKGROUND: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    BACKGROUND
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("smartcomm-http")
                .enable_all()
                .build()
                .expect("starting the connection pool's runtime")
        })
        .handle()
}

/// Counts the TCP connections that `HttpConnector` opens.
#[derive(Clone)]
struct Counting {
    http: HttpConnector,
    opened: Arc<AtomicU64>,
}

impl tower_service::Service<http::Uri> for Counting {
    type Response = TokioIo<TcpStream>;
    type Error = HttpError;
    type Future = Connecting<Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), HttpError>> {
        self.http.poll_ready(cx).map_err(|e| connect_error(&e))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connecting = self.http.call(uri);
        let opened = self.opened.clone();
        Box::pin(async move {
            let stream = connecting.await.map_err(|e| connect_error(&e))?;
            opened.fetch_add(1, Ordering::Relaxed);
            Ok(stream)
        })
    }
}

/// TCP and TLS within the request's connect timeout, on a runtime that keeps driving them.
#[derive(Clone)]
struct Connector {
    https: HttpsConnector<Counting>,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = MaybeHttpsStream<TokioIo<TcpStream>>;
    type Error = HttpError;
    type Future = Connecting<Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), HttpError>> {
        self.https.poll_ready(cx).map_err(tls_error)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let Ok(timeout) = CONNECT_TIMEOUT.try_with(|timeout| *timeout) else {
            // Connecting without the request's timeout would let it wait unbounded.
            return Box::pin(async {
                Err(HttpError::InternalError(Some(
                    "the pool connected outside of a request".into(),
                )))
            });
        };
        let connecting = self.https.call(uri);
        let connecting = async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(stream) => stream.map_err(tls_error),
                Err(_) => Err(HttpError::ConnectionTimeout),
            }
        };
        // A socket belongs to the runtime it is opened on: open it where its connection task
        // will run.
        let handle = driven();
        Box::pin(async move {
            handle
                .spawn(connecting)
                .await
                .map_err(|e| HttpError::InternalError(Some(e.to_string())))?
        })
    }
}

/// `HttpConnector` fails with the I/O error of the lookup or of the connect inside its own.
fn connect_error(error: &(dyn StdError + 'static)) -> HttpError {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            // wasmtime-wasi-http tells a failed lookup by the kind and the message.
            return HttpError::Connect(std::io::Error::new(io.kind(), io.to_string()));
        }
        cause = error.source();
    }
    HttpError::Connect(std::io::Error::other(error.to_string()))
}

/// hyper-rustls passes the TCP connector's error on as it is and fails the handshake with an
/// I/O error.
fn tls_error(error: BoxError) -> HttpError {
    let error = match error.downcast::<HttpError>() {
        Ok(error) => return *error,
        Err(error) => error,
    };
    if error.is::<rustls::pki_types::InvalidDnsNameError>() {
        return HttpError::InvalidDnsNameError(rustls::pki_types::InvalidDnsNameError);
    }
    match error.downcast::<std::io::Error>() {
        Ok(io) => HttpError::Tls(*io),
        Err(error) => HttpError::InternalError(Some(error.to_string())),
    }
}

/// hyper-util's error only lends its cause, so the connector's is rebuilt from it.
fn client_error(error: &hyper_util::client::legacy::Error) -> HttpError {
    let mut cause = error.source();
    while let Some(error) = cause {
        if let Some(error) = error.downcast_ref::<HttpError>() {
            let io = |e: &std::io::Error| std::io::Error::new(e.kind(), e.to_string());
            return match error {
                HttpError::ConnectionTimeout => HttpError::ConnectionTimeout,
                HttpError::Connect(e) => HttpError::Connect(io(e)),
                HttpError::Tls(e) => HttpError::Tls(io(e)),
                HttpError::InvalidDnsNameError(_) => {
                    HttpError::InvalidDnsNameError(rustls::pki_types::InvalidDnsNameError)
                }
                other => HttpError::InternalError(Some(other.to_string())),
            };
        }
        if let Some(error) = error.downcast_ref::<hyper::Error>() {
            // What wasmtime-wasi-http makes of a hyper error while sending.
            tracing::warn!(%error, "outbound request failed");
            return HttpError::HttpProtocolError;
        }
        cause = error.source();
    }
    HttpError::InternalError(Some(error.to_string()))
}

/// A response body that enforces the between-bytes timeout.
struct TimedBody {
    incoming: hyper::body::Incoming,
    timeout: tokio::time::Interval,
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(if error.is_timeout() {
                HttpError::HttpResponseTimeout
            } else {
                HttpError::from(error)
            }))),
            Poll::Ready(Some(Ok(frame))) => {
                self.timeout.reset();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                ready!(self.timeout.poll_tick(cx));
                Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn get(uri: &str) -> http::Request<WasiBody> {
        let empty = http_body_util::Empty::new().map_err(|never| match never {});
        http::Request::get(uri).body(empty.boxed_unsync()).unwrap()
    }

    fn options(connect: u64, response: u64) -> RequestOptions {
        RequestOptions {
            connect_timeout: Some(ms(connect)),
            first_byte_timeout: Some(ms(response)),
            between_bytes_timeout: Some(ms(response)),
        }
    }

    /// A loopback server that hands each connection to `serve` on a thread of its own.
    fn server(serve: fn(std::net::TcpStream)) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream));
            }
        });
        port
    }

    /// Reads whatever comes and never answers, until the client goes away.
    fn silent(mut stream: std::net::TcpStream) {
        let mut buffer = [0; 4096];
        while matches!(stream.read(&mut buffer), Ok(n) if n > 0) {}
    }

    async fn send(
        pool: &Arc<ConnectionPool>,
        uri: &str,
        options: RequestOptions,
    ) -> Result<http::Response<WasiBody>, HttpError> {
        pool.clone().send(get(uri), options).await.map(|(r, _)| r)
    }

    #[tokio::test]
    async fn each_connect_is_bounded_by_its_own_requests_timeout() {
        // A TLS handshake that never gets an answer: TCP connects, the handshake hangs.
        let port = server(silent);
        let pool = Arc::new(ConnectionPool::default());
        for wait in [100, 600, 100] {
            let uri = format!("https://127.0.0.1:{port}/");
            let started = std::time::Instant::now();
            match send(&pool, &uri, options(wait, 5000)).await {
                Err(HttpError::ConnectionTimeout) => {}
                Err(other) => panic!("{other}"),
                Ok(_) => panic!("answered"),
            }
            // A tokio timeout never fires early: each request waited at least its own bound.
            assert!(started.elapsed() >= ms(wait), "{wait} ms");
        }
        assert_eq!(pool.connections_opened(), 3);
    }

    #[tokio::test]
    async fn the_wait_for_the_response_head_is_bounded() {
        let port = server(silent);
        let pool = Arc::new(ConnectionPool::default());
        match send(
            &pool,
            &format!("http://127.0.0.1:{port}/"),
            options(5000, 200),
        )
        .await
        {
            Err(HttpError::ConnectionReadTimeout) => {}
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("answered"),
        }
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_fails_at_the_between_bytes_timeout() {
        let port = server(|mut stream| {
            let mut buffer = [0; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab");
            silent(stream);
        });
        let pool = Arc::new(ConnectionPool::default());
        let uri = format!("http://127.0.0.1:{port}/");
        let Ok(response) = send(&pool, &uri, options(5000, 200)).await else {
            panic!("no response head");
        };
        let body = response.into_body().collect().await;
        assert!(matches!(body, Err(HttpError::ConnectionReadTimeout)));
    }
}
