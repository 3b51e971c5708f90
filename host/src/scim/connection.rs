//! One connection's time limits, which hyper's own header timeout cannot tell apart (it also
//! runs while a kept-alive connection waits for its next request): a request's head must
//! arrive within `header_timeout` of its first byte (a new connection's, of the connection),
//! while a connection between requests may stay open for `idle_timeout`. The connection's
//! reads and its requests tell which it is doing; its watchdog closes it at the limit.

use super::options::ScimLimits;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Between requests, since then.
    Idle(Instant),
    /// A request's head is arriving, since its first byte (or since the connection opened).
    Head(Instant),
    /// A request is being served, until its answer is written.
    Busy,
}

/// What a connection is doing, as its reads and requests tell.
pub(super) struct Activity {
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Activity {
    /// A new connection: its first head is due within the header timeout of `opened`.
    pub(super) fn opened(opened: Instant) -> Arc<Activity> {
        Arc::new(Activity {
            phase: Mutex::new(Phase::Head(opened)),
            changed: Notify::new(),
        })
    }

    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner()) = phase;
        self.changed.notify_one();
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bytes_read(&self) {
        if let Phase::Idle(_) = self.phase() {
            self.set(Phase::Head(Instant::now()));
        }
    }

    /// When the connection must be closed if nothing changes; none while a request is served.
    fn deadline(&self, limits: &ScimLimits) -> Option<Instant> {
        match self.phase() {
            Phase::Idle(since) => Some(since + limits.idle_timeout),
            Phase::Head(since) => Some(since + limits.header_timeout),
            Phase::Busy => None,
        }
    }

    /// Serves the connection `serving` until it ends, or until it stays idle or in a head
    /// past its limit: then it is dropped, which closes it.
    pub(super) async fn watch<F: Future>(&self, serving: F, limits: &ScimLimits) {
        tokio::pin!(serving);
        loop {
            let deadline = self.deadline(limits);
            let expired = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut serving => return,
                () = self.changed.notified() => {}
                () = expired => {
                    if self.deadline(limits).is_some_and(|d| d <= Instant::now()) {
                        tracing::debug!(phase = ?self.phase(), "closing a connection at its time limit");
                        return;
                    }
                }
            }
        }
    }
}

/// A connection's stream, telling its activity when bytes arrive.
pub(super) struct Watched<S> {
    stream: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    pub(super) fn new(stream: S, activity: Arc<Activity>) -> Self {
        Watched { stream, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// One request being served, from its head to the end of its answer: its connection is busy,
/// and it counts among the server's requests in flight.
pub(super) struct InFlight {
    activity: Arc<Activity>,
    count: Arc<AtomicUsize>,
}

impl InFlight {
    pub(super) fn begin(activity: Arc<Activity>, count: Arc<AtomicUsize>) -> Self {
        activity.set(Phase::Busy);
        count.fetch_add(1, Ordering::SeqCst);
        InFlight { activity, count }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
        self.activity.set(Phase::Idle(Instant::now()));
    }
}

/// An answer's body that ends its request when hyper is done with it: written whole, or the
/// connection gone.
pub(super) struct Answered<B> {
    body: B,
    _request: InFlight,
}

impl<B> Answered<B> {
    pub(super) fn new(body: B, request: InFlight) -> Self {
        Answered {
            body,
            _request: request,
        }
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for Answered<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits() -> ScimLimits {
        ScimLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(600),
            ..ScimLimits::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_has_the_header_timeout_and_a_wait_between_requests_the_idle_timeout() {
        let opened = Instant::now();
        let activity = Activity::opened(opened);
        let count = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            activity.deadline(&limits()),
            Some(opened + Duration::from_secs(10))
        );
        let request = InFlight::begin(activity.clone(), count.clone());
        assert_eq!(activity.deadline(&limits()), None, "no limit while served");
        activity.bytes_read();
        assert_eq!(
            activity.phase(),
            Phase::Busy,
            "a body's bytes change nothing"
        );
        assert_eq!(count.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(request);
        let answered = Instant::now();
        assert_eq!(count.load(Ordering::SeqCst), 0);
        assert_eq!(
            activity.deadline(&limits()),
            Some(answered + Duration::from_secs(600))
        );
        tokio::time::advance(Duration::from_secs(100)).await;
        activity.bytes_read();
        assert_eq!(
            activity.deadline(&limits()),
            Some(answered + Duration::from_secs(110)),
            "the next head has the header timeout from its first byte"
        );
    }
}
