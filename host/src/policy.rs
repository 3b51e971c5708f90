//! Outbound HTTP policy: the single place that decides where the guest may connect and how
//! long a request may take.

use crate::pool::ConnectionPool;
use http::uri::Scheme;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// A scheme, host and port the guest may reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// The origin of a URL; `None` when it has no host or an unsupported scheme.
    pub fn of(url: &str) -> Option<Origin> {
        let uri: http::Uri = url.parse().ok()?;
        let https = match uri.scheme_str()? {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
        Some(Origin {
            https,
            host: host.to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        })
    }
}

pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[derive(Clone)]
pub struct OutboundPolicy {
    pub allowed: Vec<Origin>,
    pub connect_timeout: Duration,
    /// Caps the wait for the response head and between body chunks.
    pub response_timeout: Duration,
    /// Keep-alive connections to reuse; `None` opens a connection per request.
    pub pool: Option<Arc<ConnectionPool>>,
    /// Told of every request the policy let through, once its answer's head has arrived.
    pub observer: Option<RequestObserver>,
    /// The places for one store's requests in flight (until each answer's head): the host's
    /// own bound, whatever the guest asks for.
    pub in_flight: Arc<Semaphore>,
}

impl std::fmt::Debug for OutboundPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundPolicy")
            .field("allowed", &self.allowed)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("pool", &self.pool)
            .field("observed", &self.observer.is_some())
            .field("in_flight_places", &self.in_flight.available_permits())
            .finish()
    }
}

/// What a [`RequestObserver`] is told of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedRequest {
    pub method: String,
    pub path: String,
    /// The answer's status; `None` when no answer came (refused connection, timeout).
    pub status: Option<u16>,
}

/// Called for each request a guest sends through the policy, for a progress display or a
/// log. It sees the method, path and status only: never headers or bodies.
pub type RequestObserver = Arc<dyn Fn(&ObservedRequest) + Send + Sync>;

impl OutboundPolicy {
    pub fn new(
        allowed: Vec<Origin>,
        connect_timeout: Duration,
        response_timeout: Duration,
        pool: Option<Arc<ConnectionPool>>,
        max_in_flight: usize,
    ) -> OutboundPolicy {
        OutboundPolicy {
            allowed,
            connect_timeout,
            response_timeout,
            pool,
            observer: None,
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
        }
    }

    /// Why a request to `uri` is refused, or `None` when it may go.
    pub fn refusal(&self, uri: &http::Uri) -> Option<String> {
        let Some(origin) = Origin::of(&uri.to_string()) else {
            return Some(format!("{uri} has no http(s) origin"));
        };
        if !origin.https && !is_loopback(&origin.host) {
            return Some(format!(
                "plain http is only allowed to loopback, not to {}",
                origin.host
            ));
        }
        if !self.allowed.contains(&origin) {
            return Some(format!(
                "{}:{} is not one of the configured API hosts",
                origin.host, origin.port
            ));
        }
        None
    }

    fn capped(&self, options: Option<RequestOptions>) -> RequestOptions {
        let options = options.unwrap_or_default();
        let cap =
            |asked: Option<Duration>, limit: Duration| Some(asked.map_or(limit, |a| a.min(limit)));
        RequestOptions {
            connect_timeout: cap(options.connect_timeout, self.connect_timeout),
            first_byte_timeout: cap(options.first_byte_timeout, self.response_timeout),
            between_bytes_timeout: cap(options.between_bytes_timeout, self.response_timeout),
        }
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
type Sent = Result<(http::Response<WasiBody>, IoFuture), HttpError>;

/// Sends a request that the policy let through: on a pooled connection, or on one of its own.
async fn transmit(
    pool: Option<Arc<ConnectionPool>>,
    request: http::Request<WasiBody>,
    options: RequestOptions,
) -> Sent {
    if let Some(pool) = pool {
        return pool.send(request, options).await;
    }
    use http_body_util::BodyExt;
    let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
    Ok((
        response.map(BodyExt::boxed_unsync),
        Box::new(io) as IoFuture,
    ))
}

impl WasiHttpHooks for OutboundPolicy {
    fn is_supported_scheme(&mut self, scheme: &Scheme) -> bool {
        *scheme == Scheme::HTTP || *scheme == Scheme::HTTPS
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: IoFuture,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), HttpError>> + Send>
    {
        _ = fut;
        let target = without_personal_data(request.uri());
        if let Some(reason) = self.refusal(request.uri()) {
            tracing::warn!(method = %request.method(), %target, %reason, "outbound request denied");
            // Take the body the guest is writing before refusing: refusing at once would
            // close its body stream, and the guest would see a closed stream, not the denial.
            return Box::new(async move {
                use http_body_util::BodyExt;
                let _ = http_body_util::Limited::new(request.into_body(), 1 << 20)
                    .collect()
                    .await;
                Err(HttpError::HttpRequestDenied)
            });
        }
        tracing::debug!(method = %request.method(), %target, "outbound request");
        tracing::trace!(method = %request.method(), uri = %request.uri(), "outbound request");
        let options = self.capped(options);
        let pool = self.pool.clone();
        let places = self.in_flight.clone();
        let observer = self.observer.clone();
        let (method, path) = (
            request.method().to_string(),
            request.uri().path().to_string(),
        );
        Box::new(async move {
            let _place = places
                .acquire_owned()
                .await
                .map_err(|_| HttpError::InternalError(None))?;
            let sent = transmit(pool, request, options).await;
            let status = sent.as_ref().ok().map(|(r, _)| r.status().as_u16());
            tracing::debug!(%method, %target, ?status, "answer");
            if let Some(observer) = observer {
                observer(&ObservedRequest {
                    method,
                    path,
                    status,
                });
            }
            sent
        })
    }
}

/// A request's origin and the first two segments of its path (the customer, the resource):
/// what the logs below the most verbose level show, since later segments and the query may
/// hold a user's name or address.
pub(crate) fn without_personal_data(uri: &http::Uri) -> String {
    let origin = match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
        _ => String::new(),
    };
    let mut path = String::new();
    for (i, segment) in uri.path().split('/').skip(1).enumerate() {
        path.push('/');
        path.push_str(if i < 2 { segment } else { "…" });
    }
    let query = if uri.query().is_some() { "?…" } else { "" };
    format!("{origin}{path}{query}")
}
