//! A keep-alive connection pool for the guest's outbound requests.
//!
//! wasmtime-wasi-http's default sender opens (and for https, handshakes) a new connection for
//! every request. A bulk job then pays a connect per request and leaves a socket in TIME_WAIT
//! for each, which exhausts ephemeral ports at a few hundred requests per second. This sender
//! keeps HTTP/1.1 connections open per origin and reuses them. It only transports: whether a
//! request may go, and with which timeouts, is decided before it gets here
//! ([`crate::policy::OutboundPolicy`]).

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::runtime::RuntimeFlavor;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

/// Idle connections kept per origin; more concurrent requests than this still work, their
/// connections are just closed afterwards.
const MAX_IDLE_PER_ORIGIN: usize = 16;
/// Idle connections older than this are closed rather than reused: servers and middleboxes
/// drop idle connections after a while, and a request on such a one would fail.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PoolKey {
    https: bool,
    host: String,
    port: u16,
}

struct Idle {
    sender: SendRequest<WasiBody>,
    since: Instant,
}

/// Open connections by origin, shared by every instance of a [`crate::Runtime`].
#[derive(Default)]
pub struct ConnectionPool {
    idle: Mutex<HashMap<PoolKey, Vec<Idle>>>,
    tls: OnceLock<Arc<rustls::ClientConfig>>,
    background: OnceLock<Background>,
    opened: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for ConnectionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("opened", &self.connections_opened())
            .finish_non_exhaustive()
    }
}

/// A runtime of the pool's own that drives connections opened from a current-thread runtime:
/// such a runtime runs its tasks only while its owner waits on it, so a connection it drove
/// would stall when another runtime's caller reused it.
struct Background(Option<tokio::runtime::Runtime>);

impl Drop for Background {
    fn drop(&mut self) {
        // The last `Runtime` may be dropped inside async code, where a blocking shutdown panics.
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl ConnectionPool {
    /// How many connections this pool has opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.opened.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sends `request` on an idle connection to its origin, or on a new one, and gives the
    /// connection back to the pool once the response body has been read to its end.
    pub async fn send(
        self: Arc<Self>,
        mut request: http::Request<WasiBody>,
        options: RequestOptions,
    ) -> Result<(http::Response<WasiBody>, IoFuture), HttpError> {
        let key = key_of(request.uri())?;
        let first_byte_timeout = options
            .first_byte_timeout
            .unwrap_or(Duration::from_secs(600));
        let between_bytes_timeout = options
            .between_bytes_timeout
            .unwrap_or(Duration::from_secs(600))
            .max(Duration::from_nanos(1));
        // The request line carries only the path: the authority is in the Host header.
        *request.uri_mut() = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()
            .map_err(|_| HttpError::HttpRequestUriInvalid)?;

        loop {
            let (mut sender, reused) = match self.take_idle(&key) {
                Some(sender) => (sender, true),
                None => (self.connect(&key, &options).await?, false),
            };
            if reused && sender.ready().await.is_err() {
                continue;
            }
            let response =
                match tokio::time::timeout(first_byte_timeout, sender.try_send_request(request))
                    .await
                {
                    Err(_) => return Err(HttpError::ConnectionReadTimeout),
                    Ok(Ok(response)) => response,
                    Ok(Err(mut failed)) => match failed.take_message() {
                        // The connection closed before the request was written (the server
                        // dropped an idle connection): nothing was sent, so send it afresh.
                        Some(unsent) if reused => {
                            request = unsent;
                            continue;
                        }
                        _ => return Err(HttpError::from(failed.into_error())),
                    },
                };
            let pool = self.clone();
            let key = key.clone();
            let mut timeout = tokio::time::interval(between_bytes_timeout);
            timeout.reset();
            let response = response.map(|incoming| {
                PooledBody {
                    incoming,
                    timeout,
                    release: Some(Box::new(move || pool.put_idle(key, sender))),
                }
                .boxed_unsync()
            });
            // The connection is driven by its own task, so there is no I/O left for the caller.
            return Ok((response, Box::new(async { Ok(()) }) as IoFuture));
        }
    }

    fn take_idle(&self, key: &PoolKey) -> Option<SendRequest<WasiBody>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(key)?;
        while let Some(entry) = list.pop() {
            if entry.since.elapsed() < IDLE_TIMEOUT && !entry.sender.is_closed() {
                return Some(entry.sender);
            }
        }
        None
    }

    fn put_idle(&self, key: PoolKey, sender: SendRequest<WasiBody>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.entry(key).or_default();
        list.retain(|entry| entry.since.elapsed() < IDLE_TIMEOUT && !entry.sender.is_closed());
        if list.len() < MAX_IDLE_PER_ORIGIN {
            list.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    async fn connect(
        self: &Arc<Self>,
        key: &PoolKey,
        options: &RequestOptions,
    ) -> Result<SendRequest<WasiBody>, HttpError> {
        let connect_timeout = options.connect_timeout.unwrap_or(Duration::from_secs(600));
        let tls = key.https.then(|| self.tls_config());
        let key = key.clone();
        let open = async move {
            let (sender, connection) = open_connection(&key, tls, connect_timeout).await?;
            tokio::spawn(connection);
            Ok::<_, HttpError>(sender)
        };
        let sender = match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => open.await,
            _ => self
                .background_runtime()
                .spawn(open)
                .await
                .map_err(|e| HttpError::InternalError(Some(e.to_string())))?,
        }?;
        self.opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(sender)
    }

    fn background_runtime(&self) -> &tokio::runtime::Runtime {
        let background = self.background.get_or_init(|| {
            Background(Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("smartcomm-http")
                    .enable_all()
                    .build()
                    .expect("starting the connection pool's runtime"),
            ))
        });
        background.0.as_ref().expect("present until dropped")
    }

    fn tls_config(&self) -> Arc<rustls::ClientConfig> {
        self.tls
            .get_or_init(|| {
                let roots = rustls::RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.into(),
                };
                Arc::new(
                    rustls::ClientConfig::builder()
                        .with_root_certificates(roots)
                        .with_no_client_auth(),
                )
            })
            .clone()
    }
}

fn key_of(uri: &http::Uri) -> Result<PoolKey, HttpError> {
    let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let host = uri.host().ok_or(HttpError::HttpRequestUriInvalid)?;
    Ok(PoolKey {
        https,
        host: host.to_ascii_lowercase(),
        port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
    })
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

async fn open_connection(
    key: &PoolKey,
    tls: Option<Arc<rustls::ClientConfig>>,
    connect_timeout: Duration,
) -> Result<
    (
        SendRequest<WasiBody>,
        impl Future<Output = ()> + Send + 'static,
    ),
    HttpError,
> {
    let host = key.host.trim_start_matches('[').trim_end_matches(']');
    let tcp =
        match tokio::time::timeout(connect_timeout, TcpStream::connect((host, key.port))).await {
            Ok(stream) => stream.map_err(HttpError::Connect)?,
            Err(_) => return Err(HttpError::ConnectionTimeout),
        };
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Stream> = match tls {
        None => Box::new(tcp),
        Some(config) => {
            let name = match host.parse::<std::net::IpAddr>() {
                Ok(ip) => rustls::pki_types::ServerName::from(ip),
                Err(_) => rustls::pki_types::ServerName::try_from(host.to_owned())?,
            };
            let connecting = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
            match tokio::time::timeout(connect_timeout, connecting).await {
                Ok(stream) => Box::new(stream.map_err(HttpError::Tls)?),
                Err(_) => return Err(HttpError::ConnectionTimeout),
            }
        }
    };
    let (sender, connection) = tokio::time::timeout(
        connect_timeout,
        hyper::client::conn::http1::handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| HttpError::ConnectionTimeout)??;
    Ok((sender, async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "pooled connection ended");
        }
    }))
}

/// A response body that enforces the between-bytes timeout and, once read to its end, hands
/// its connection back to the pool.
struct PooledBody {
    incoming: hyper::body::Incoming,
    timeout: tokio::time::Interval,
    release: Option<Box<dyn FnOnce() + Send>>,
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(None) => {
                if let Some(release) = self.release.take() {
                    release();
                }
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => {
                // A connection that failed mid-body is not reused.
                self.release = None;
                Poll::Ready(Some(Err(if error.is_timeout() {
                    HttpError::HttpResponseTimeout
                } else {
                    HttpError::from(error)
                })))
            }
            Poll::Ready(Some(Ok(frame))) => {
                self.timeout.reset();
                // A reader may stop at `is_end_stream` without polling for the end.
                if self.incoming.is_end_stream()
                    && let Some(release) = self.release.take()
                {
                    release();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                ready!(self.timeout.poll_tick(cx));
                self.release = None;
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
