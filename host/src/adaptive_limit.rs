//! How many requests of one session may be in flight: at most the configured concurrency,
//! halved when the API throttles (429, 503), raised by one after a run of successes, as TCP's
//! AIMD does. The API publishes no rate limit, so the client finds it by itself.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
// Tokio's clock, so that tests with a paused clock see pauses pass.
use tokio::time::Instant;

/// The longest pause a `Retry-After` may impose on every request of the session.
const MAX_PAUSE: Duration = Duration::from_secs(60);
/// After a throttle at some limit, the limit stays below it this long before it probes it
/// again: every probe that meets the API's ceiling costs a `Retry-After` pause for all.
const PROBE_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    /// Successes since the limit last changed.
    successes: usize,
    /// Bumped on every decrease: a 429 for a request sent before the last decrease is an echo
    /// of the same congestion, and does not halve the limit again.
    generation: u64,
    /// No request starts before this (the API's `Retry-After`).
    paused_until: Option<Instant>,
    /// Every value the limit took, the first included.
    path: Vec<usize>,
    throttled: u64,
    /// The limit at which the API last throttled, and until when the limit stays below it.
    ceiling: Option<(usize, Instant)>,
}

/// A limit shared by the instances of one session.
#[derive(Debug)]
pub struct AdaptiveLimit {
    max: usize,
    state: Mutex<State>,
    changed: Notify,
}

/// One request's place under the limit, given back with [`Permit::release`], or as an
/// answer that says nothing when the request is dropped (cancelled) before it.
#[derive(Debug)]
pub struct Permit<'a> {
    limit: &'a AdaptiveLimit,
    generation: u64,
    released: bool,
}

impl Permit<'_> {
    pub fn release(mut self, verdict: Verdict) {
        self.released = true;
        self.limit.give_back(self.generation, verdict);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.released {
            self.limit.give_back(self.generation, Verdict::Unknown);
        }
    }
}

/// What the API said to a request, as far as the limit cares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// 429 or 503, with the `Retry-After` it carried.
    Throttled(Option<Duration>),
    /// Any other answer.
    Answered,
    /// No answer (a transport failure): says nothing about the API's capacity.
    Unknown,
}

impl AdaptiveLimit {
    pub fn new(max: usize) -> Arc<AdaptiveLimit> {
        let max = max.max(1);
        Arc::new(AdaptiveLimit {
            max,
            state: Mutex::new(State {
                limit: max,
                in_flight: 0,
                successes: 0,
                generation: 0,
                paused_until: None,
                path: vec![max],
                throttled: 0,
                ceiling: None,
            }),
            changed: Notify::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until a request may start: fewer than `limit` in flight and no pause.
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            // Registered before the check, so a release between the check and the wait is
            // not missed.
            let changed = self.changed.notified();
            let wait = {
                let mut state = self.state();
                let now = Instant::now();
                match state.paused_until {
                    Some(until) if until > now => Some(until - now),
                    _ if state.in_flight < state.limit => {
                        state.in_flight += 1;
                        return Permit {
                            limit: self,
                            generation: state.generation,
                            released: false,
                        };
                    }
                    _ => None,
                }
            };
            match wait {
                Some(pause) => tokio::time::sleep(pause).await,
                None => changed.await,
            }
        }
    }

    fn give_back(&self, generation: u64, verdict: Verdict) {
        let mut state = self.state();
        state.in_flight -= 1;
        match verdict {
            Verdict::Throttled(retry_after) => {
                state.throttled += 1;
                if let Some(wait) = retry_after {
                    let until = Instant::now() + wait.min(MAX_PAUSE);
                    state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
                }
                if generation == state.generation {
                    state.generation += 1;
                    state.successes = 0;
                    state.ceiling = Some((state.limit, Instant::now() + PROBE_AFTER));
                    let limit = (state.limit / 2).max(1);
                    if limit != state.limit {
                        state.limit = limit;
                        state.path.push(limit);
                    }
                    tracing::info!(limit, "throttled by the API: fewer requests in flight");
                }
            }
            Verdict::Answered => {
                state.successes += 1;
                let highest = match state.ceiling {
                    Some((ceiling, until)) if Instant::now() < until => ceiling - 1,
                    _ => self.max,
                };
                if state.successes >= state.limit && state.limit < highest {
                    state.limit += 1;
                    state.successes = 0;
                    let limit = state.limit;
                    state.path.push(limit);
                    tracing::debug!(limit, "more requests in flight");
                }
            }
            Verdict::Unknown => {}
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// The configured concurrency: the highest the limit goes.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Every value the limit took, in order, starting at the configured concurrency.
    pub fn path(&self) -> Vec<usize> {
        self.state().path.clone()
    }

    /// Answers that were 429 or 503.
    pub fn throttled(&self) -> u64 {
        self.state().throttled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_throttle_halves_the_limit_once_per_episode_and_successes_raise_it_by_one() {
        let limit = AdaptiveLimit::new(8);
        let mut permits = acquire_all(&limit, 8).await.into_iter();
        // Two 429s for requests sent at the same limit: one decrease.
        permits.next().unwrap().release(Verdict::Throttled(None));
        permits.next().unwrap().release(Verdict::Throttled(None));
        assert_eq!(limit.path(), [8, 4]);
        for permit in permits {
            permit.release(Verdict::Answered);
        }
        // Six successes at limit 4: up to 5 after the fourth.
        assert_eq!(limit.path(), [8, 4, 5]);
        assert_eq!(limit.throttled(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_limit_never_drops_below_one_nor_rises_above_the_configured_concurrency() {
        let limit = AdaptiveLimit::new(2);
        for _ in 0..3 {
            limit.acquire().await.release(Verdict::Throttled(None));
        }
        assert_eq!(limit.path(), [2, 1]);
        tokio::time::advance(PROBE_AFTER).await;
        for _ in 0..10 {
            limit.acquire().await.release(Verdict::Answered);
        }
        assert_eq!(limit.path(), [2, 1, 2]);
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_throttle_the_limit_stays_below_it_for_a_while_before_probing_again() {
        let limit = AdaptiveLimit::new(4);
        limit.acquire().await.release(Verdict::Throttled(None));
        for _ in 0..20 {
            limit.acquire().await.release(Verdict::Answered);
        }
        // Throttled at 4: back up to 3, not to 4.
        assert_eq!(limit.path(), [4, 2, 3]);
        tokio::time::advance(PROBE_AFTER).await;
        for _ in 0..3 {
            limit.acquire().await.release(Verdict::Answered);
        }
        assert_eq!(limit.path(), [4, 2, 3, 4]);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_every_request_of_the_session() {
        let limit = AdaptiveLimit::new(4);
        let permit = limit.acquire().await;
        let started = Instant::now();
        permit.release(Verdict::Throttled(Some(Duration::from_secs(2))));
        let _next = limit.acquire().await;
        assert!(started.elapsed() >= Duration::from_secs(2));
    }

    #[tokio::test]
    async fn no_more_than_the_limit_are_in_flight() {
        let limit = AdaptiveLimit::new(2);
        let first = limit.acquire().await;
        let _second = limit.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(50), limit.acquire()).await;
        assert!(third.is_err(), "a third permit while two are out");
        first.release(Verdict::Answered);
        tokio::time::timeout(Duration::from_secs(5), limit.acquire())
            .await
            .expect("a permit once one came back");
    }

    #[tokio::test]
    async fn a_request_cancelled_under_the_limit_gives_its_place_back() {
        let limit = AdaptiveLimit::new(1);
        drop(limit.acquire().await);
        tokio::time::timeout(Duration::from_secs(5), limit.acquire())
            .await
            .expect("the place came back");
    }

    async fn acquire_all(limit: &AdaptiveLimit, n: usize) -> Vec<Permit<'_>> {
        let mut permits = Vec::new();
        for _ in 0..n {
            permits.push(limit.acquire().await);
        }
        permits
    }
}
