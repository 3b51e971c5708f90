//! Outbound HTTP policy: the single place that decides where the guest may connect and how
//! long a request may take.

use crate::adaptive_limit::{AdaptiveLimit, Verdict};
use crate::pool::ConnectionPool;
use crate::shared_token::{Seen, SharedToken};
use http::uri::Scheme;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
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

#[derive(Clone, Debug)]
pub struct OutboundPolicy {
    pub allowed: Vec<Origin>,
    pub connect_timeout: Duration,
    /// Caps the wait for the response head and between body chunks.
    pub response_timeout: Duration,
    /// Keep-alive connections to reuse; `None` opens a connection per request.
    pub pool: Option<Arc<ConnectionPool>>,
    /// What this instance shares with the other instances of its session; `None` for an
    /// instance on its own (a step).
    pub(crate) coordination: Option<Coordination>,
}

/// The session-wide part of one instance's policy: the token that all its instances share,
/// and the limit on their requests in flight.
#[derive(Clone, Debug)]
pub(crate) struct Coordination {
    pub token: Arc<SharedToken>,
    /// The newest token answer this instance has received.
    pub seen: Seen,
    pub limit: Arc<AdaptiveLimit>,
}

impl OutboundPolicy {
    /// A policy for an instance on its own, sharing nothing with other instances.
    pub fn new(
        allowed: Vec<Origin>,
        connect_timeout: Duration,
        response_timeout: Duration,
        pool: Option<Arc<ConnectionPool>>,
    ) -> OutboundPolicy {
        OutboundPolicy {
            allowed,
            connect_timeout,
            response_timeout,
            pool,
            coordination: None,
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
    tracing::debug!(status = response.status().as_u16(), "response");
    Ok((
        response.map(BodyExt::boxed_unsync),
        Box::new(io) as IoFuture,
    ))
}

/// How often the host itself sends again a request that a session running several at once
/// got a 429 for, before the component sees the 429 (and retries under its own policy).
const THROTTLED_RESENDS: usize = 10;

/// `transmit` under the session's limit, which learns from the answer. With several requests
/// in flight, a 429 (the API processed nothing) is absorbed here: the request waits out the
/// pause the limit imposes and goes again, so that throttling costs time, not attempts of the
/// component's retry policy.
async fn limited(
    limit: &AdaptiveLimit,
    pool: Option<Arc<ConnectionPool>>,
    request: http::Request<WasiBody>,
    options: RequestOptions,
) -> Sent {
    if limit.max() == 1 {
        let permit = limit.acquire().await;
        let sent = transmit(pool, request, options).await;
        permit.release(verdict(&sent));
        return sent;
    }
    use http_body_util::{BodyExt, Full, Limited};
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_RESENT_BODY)
        .collect()
        .await
        .map_err(|_| HttpError::HttpRequestBodySize(None))?
        .to_bytes();
    let copy = || {
        let mut request = http::Request::new(
            Full::new(body.clone())
                .map_err(|never| match never {})
                .boxed_unsync(),
        );
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = parts.uri.clone();
        *request.version_mut() = parts.version;
        *request.headers_mut() = parts.headers.clone();
        request
    };
    let mut resends = 0;
    loop {
        let permit = limit.acquire().await;
        let sent = transmit(pool.clone(), copy(), options).await;
        let verdict = verdict(&sent);
        permit.release(verdict);
        let throttled = matches!(&sent, Ok((response, _)) if response.status() == 429);
        if !throttled || resends == THROTTLED_RESENDS {
            return sent;
        }
        if let Ok((response, io)) = sent {
            // Read to its end, a pooled connection goes back to the pool for the next request;
            // a connection of its own must be driven while it is read.
            tokio::spawn(Box::into_pin(io));
            let _ = Limited::new(response.into_body(), MAX_RESENT_BODY)
                .collect()
                .await;
        }
        resends += 1;
        tracing::debug!(resends, "429: sending again after the pause");
    }
}

/// The largest request body the host keeps to send again: the API's batches are far smaller.
const MAX_RESENT_BODY: usize = 4 << 20;

fn verdict(sent: &Sent) -> Verdict {
    match sent {
        Ok((response, _)) => match response.status().as_u16() {
            429 | 503 => Verdict::Throttled(
                response
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs),
            ),
            _ => Verdict::Answered,
        },
        Err(_) => Verdict::Unknown,
    }
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
        if let Some(reason) = self.refusal(request.uri()) {
            tracing::warn!(method = %request.method(), uri = %request.uri(), %reason, "outbound request denied");
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
        tracing::debug!(method = %request.method(), uri = %request.uri(), "outbound request");
        let options = self.capped(options);
        let pool = self.pool.clone();
        let Some(shared) = self.coordination.clone() else {
            return Box::new(transmit(pool, request, options));
        };
        Box::new(async move {
            if !shared.token.is_authenticate(&request) {
                return limited(&shared.limit, pool, request, options).await;
            }
            let send = |request| async {
                let (response, io) = limited(&shared.limit, pool, request, options).await?;
                // The answer is read whole here, so its connection must be driven meanwhile.
                tokio::spawn(Box::into_pin(io));
                Ok(response)
            };
            let response = shared
                .token
                .authenticate(&shared.seen, request, send)
                .await?;
            Ok((response, Box::new(async { Ok(()) }) as IoFuture))
        })
    }
}
