//! How many requests of one client may be in flight at once.
//!
//! The API publishes no rate limit, so the client finds it by itself, as TCP finds a path's
//! capacity:
//!
//! - **Slow start.** The limit starts at the default concurrency (or the configured one when
//!   lower) and grows by one per answered request, up to the configured concurrency, until
//!   the API first throttles (429 or 503).
//! - **Multiplicative decrease.** A throttle halves the limit, once per burst: a 429 for a
//!   request sent before the last decrease is an echo of the same congestion.
//! - **Additive increase.** After that, the limit grows by one after as many answers in a row
//!   as the limit, but stays below the level that was throttled for a while (30 s, doubling
//!   each time the same level is throttled again): each probe of the API's ceiling costs
//!   throttled requests and, with `Retry-After`, a pause for all.
//! - **`Retry-After`** pauses every request that has not started yet, not only the one told.

use crate::transport::Transport;
use std::cell::RefCell;
use std::future::poll_fn;
use std::task::{Poll, Waker};

/// Where slow start begins when the configured concurrency is higher: the default
/// concurrency, which the API has always taken.
pub const SLOW_START_FROM: usize = 4;
/// How long the limit stays below a level that was throttled, the first time.
const HOLD_BELOW_THROTTLED_MS: u64 = 30_000;
/// The longest it stays below one (a level throttled again and again).
const MAX_HOLD_BELOW_THROTTLED_MS: u64 = 300_000;

/// What the API said to a request, as far as the limit cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// 429 or 503, with the `Retry-After` it carried.
    Throttled { retry_after_ms: Option<u64> },
    /// Any other answer.
    Answered,
    /// No answer (a transport failure): says nothing about the API's capacity.
    NoAnswer,
}

/// Whether a request may start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Yes, under the limit of this generation (see [`Signal`]).
    Granted { generation: u64 },
    /// Not before this many milliseconds: the API asked for a pause.
    PausedFor(u64),
    /// Not until a request in flight ends.
    Full,
}

#[derive(Clone, Copy, Debug)]
struct Ceiling {
    level: usize,
    until_ms: u64,
    hold_ms: u64,
}

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    peak_in_flight: usize,
    /// Answers since the limit last changed.
    successes: usize,
    /// Bumped on every decrease.
    generation: u64,
    slow_start: bool,
    paused_until_ms: Option<u64>,
    ceiling: Option<Ceiling>,
    /// Every value the limit took, the first included.
    path: Vec<usize>,
    throttled: u64,
}

/// The limit of one client, shared by every request it sends.
#[derive(Debug)]
pub struct Limit {
    max: usize,
    max_pause_ms: u64,
    state: RefCell<State>,
    waiting: RefCell<Vec<Waker>>,
}

impl Limit {
    /// A limit that never exceeds `max` (at least 1); no pause lasts longer than
    /// `max_pause_ms` (the retry policy's longest wait).
    pub fn new(max: usize, max_pause_ms: u64) -> Limit {
        let max = max.max(1);
        let start = max.min(SLOW_START_FROM);
        Limit {
            max,
            max_pause_ms,
            state: RefCell::new(State {
                limit: start,
                in_flight: 0,
                peak_in_flight: 0,
                successes: 0,
                generation: 0,
                slow_start: start < max,
                paused_until_ms: None,
                ceiling: None,
                path: vec![start],
                throttled: 0,
            }),
            waiting: RefCell::new(Vec::new()),
        }
    }

    /// Whether a request may start at `now_ms`; a granted one counts as in flight until its
    /// answer is given back with [`Limit::release`].
    pub fn admit(&self, now_ms: u64) -> Admission {
        let mut state = self.state.borrow_mut();
        if let Some(until) = state.paused_until_ms.filter(|&until| until > now_ms) {
            return Admission::PausedFor(until - now_ms);
        }
        if state.in_flight >= state.limit {
            return Admission::Full;
        }
        state.in_flight += 1;
        state.peak_in_flight = state.peak_in_flight.max(state.in_flight);
        Admission::Granted {
            generation: state.generation,
        }
    }

    /// Takes back a request granted in `generation`, and learns from its answer.
    pub fn release(&self, generation: u64, signal: Signal, now_ms: u64) {
        let mut state = self.state.borrow_mut();
        state.in_flight = state.in_flight.saturating_sub(1);
        match signal {
            Signal::Throttled { retry_after_ms } => {
                self.throttled(&mut state, generation, retry_after_ms, now_ms)
            }
            Signal::Answered => self.answered(&mut state, now_ms),
            Signal::NoAnswer => {}
        }
        drop(state);
        for waker in self.waiting.take() {
            waker.wake();
        }
    }

    fn throttled(
        &self,
        state: &mut State,
        generation: u64,
        retry_after_ms: Option<u64>,
        now_ms: u64,
    ) {
        state.throttled += 1;
        if let Some(wait) = retry_after_ms {
            let until = now_ms + wait.min(self.max_pause_ms);
            state.paused_until_ms = Some(state.paused_until_ms.map_or(until, |p| p.max(until)));
        }
        if generation != state.generation {
            return;
        }
        let level = state.limit;
        let hold_ms = match state.ceiling {
            Some(ceiling) if ceiling.level == level => {
                (ceiling.hold_ms * 2).min(MAX_HOLD_BELOW_THROTTLED_MS)
            }
            _ => HOLD_BELOW_THROTTLED_MS,
        };
        state.ceiling = Some(Ceiling {
            level,
            until_ms: now_ms + hold_ms,
            hold_ms,
        });
        state.generation += 1;
        state.successes = 0;
        state.slow_start = false;
        let limit = (level / 2).max(1);
        if limit != level {
            state.limit = limit;
            state.path.push(limit);
        }
    }

    fn answered(&self, state: &mut State, now_ms: u64) {
        state.successes += 1;
        let highest = match state.ceiling {
            Some(ceiling) if now_ms < ceiling.until_ms => ceiling.level - 1,
            _ => self.max,
        };
        let due = state.slow_start || state.successes >= state.limit;
        if due && state.limit < highest {
            state.limit += 1;
            state.successes = 0;
            let limit = state.limit;
            state.path.push(limit);
        }
        if state.limit >= self.max {
            state.slow_start = false;
        }
    }

    /// Waits until a request may start: under the limit, and after any pause.
    pub async fn acquire<'a, T: Transport>(&'a self, clock: &T) -> Permit<'a> {
        loop {
            match self.admit(clock.now_ms()) {
                Admission::Granted { generation } => {
                    return Permit {
                        limit: self,
                        generation,
                        released: false,
                    };
                }
                Admission::PausedFor(ms) => clock.sleep_ms(ms).await,
                Admission::Full => self.until_a_release().await,
            }
        }
    }

    async fn until_a_release(&self) {
        let mut registered = false;
        poll_fn(|cx| {
            if registered {
                return Poll::Ready(());
            }
            registered = true;
            self.waiting.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Every value the limit took, in order, starting where slow start began.
    pub fn path(&self) -> Vec<usize> {
        self.state.borrow().path.clone()
    }

    /// Answers that were 429 or 503.
    pub fn throttled_answers(&self) -> u64 {
        self.state.borrow().throttled
    }

    /// The most requests that were in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.state.borrow().peak_in_flight
    }
}

/// One request's place under the limit. Give it back with [`Permit::release`]; dropped
/// unreleased (a cancelled request), it says nothing about the API.
#[derive(Debug)]
pub struct Permit<'a> {
    limit: &'a Limit,
    generation: u64,
    released: bool,
}

impl Permit<'_> {
    pub fn release(mut self, signal: Signal, now_ms: u64) {
        self.released = true;
        self.limit.release(self.generation, signal, now_ms);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.released {
            self.limit.release(self.generation, Signal::NoAnswer, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THROTTLED: Signal = Signal::Throttled {
        retry_after_ms: None,
    };

    fn grant(limit: &Limit, now_ms: u64) -> u64 {
        match limit.admit(now_ms) {
            Admission::Granted { generation } => generation,
            other => panic!("not granted: {other:?}"),
        }
    }

    #[test]
    fn slow_start_grows_by_one_per_answer_from_four_up_to_the_configured_concurrency() {
        let limit = Limit::new(8, 20_000);
        let generations: Vec<u64> = (0..4).map(|_| grant(&limit, 0)).collect();
        assert_eq!(limit.admit(0), Admission::Full, "four in flight at first");
        for generation in generations {
            limit.release(generation, Signal::Answered, 1);
        }
        assert_eq!(limit.path(), [4, 5, 6, 7, 8]);
        for _ in 0..20 {
            let generation = grant(&limit, 2);
            limit.release(generation, Signal::Answered, 2);
        }
        assert_eq!(limit.path(), [4, 5, 6, 7, 8], "never above the concurrency");
    }

    #[test]
    fn a_concurrency_of_one_or_two_starts_there() {
        assert_eq!(Limit::new(1, 0).path(), [1]);
        assert_eq!(Limit::new(2, 0).path(), [2]);
        assert_eq!(Limit::new(0, 0).path(), [1], "never below one");
    }

    #[test]
    fn a_burst_of_throttles_halves_the_limit_once() {
        let limit = Limit::new(4, 20_000);
        let generations: Vec<u64> = (0..4).map(|_| grant(&limit, 0)).collect();
        for generation in generations {
            limit.release(generation, THROTTLED, 10);
        }
        assert_eq!(limit.path(), [4, 2]);
        assert_eq!(limit.throttled_answers(), 4);
        // A throttle of a request sent after the decrease halves again.
        let generation = grant(&limit, 20);
        limit.release(generation, THROTTLED, 20);
        assert_eq!(limit.path(), [4, 2, 1]);
        let generation = grant(&limit, 30);
        limit.release(generation, THROTTLED, 30);
        assert_eq!(limit.path(), [4, 2, 1], "never below one");
    }

    #[test]
    fn after_a_throttle_the_limit_grows_by_one_per_run_and_stays_below_the_throttled_level() {
        let limit = Limit::new(8, 20_000);
        let generation = grant(&limit, 0);
        limit.release(generation, THROTTLED, 0);
        assert_eq!(limit.path(), [4, 2]);
        for _ in 0..30 {
            let generation = grant(&limit, 100);
            limit.release(generation, Signal::Answered, 100);
        }
        // 2 → 3 after two answers; 4 was throttled, so it stays at 3.
        assert_eq!(limit.path(), [4, 2, 3]);
        for _ in 0..3 {
            let generation = grant(&limit, HOLD_BELOW_THROTTLED_MS);
            limit.release(generation, Signal::Answered, HOLD_BELOW_THROTTLED_MS);
        }
        assert_eq!(
            limit.path(),
            [4, 2, 3, 4],
            "it probes the level again later"
        );
    }

    #[test]
    fn a_level_throttled_again_is_held_below_twice_as_long() {
        let limit = Limit::new(4, 20_000);
        let throttle_at = |now: u64| {
            let generation = grant(&limit, now);
            limit.release(generation, THROTTLED, now);
        };
        let answer_until_grown = |now: u64| {
            for _ in 0..10 {
                let generation = grant(&limit, now);
                limit.release(generation, Signal::Answered, now);
            }
        };
        throttle_at(0); // at 4: down to 2
        answer_until_grown(HOLD_BELOW_THROTTLED_MS); // back up to 4
        assert_eq!(*limit.path().last().unwrap(), 4);
        throttle_at(HOLD_BELOW_THROTTLED_MS); // 4 again: held below it for 60 s
        answer_until_grown(2 * HOLD_BELOW_THROTTLED_MS);
        assert_eq!(*limit.path().last().unwrap(), 3);
        answer_until_grown(3 * HOLD_BELOW_THROTTLED_MS);
        assert_eq!(*limit.path().last().unwrap(), 4);
    }

    #[test]
    fn retry_after_pauses_every_request_up_to_the_longest_wait() {
        let limit = Limit::new(4, 5_000);
        let generation = grant(&limit, 0);
        limit.release(
            generation,
            Signal::Throttled {
                retry_after_ms: Some(60_000),
            },
            1_000,
        );
        assert_eq!(limit.admit(1_000), Admission::PausedFor(5_000));
        assert_eq!(limit.admit(5_999), Admission::PausedFor(1));
        assert!(matches!(limit.admit(6_000), Admission::Granted { .. }));
    }

    #[test]
    fn an_unknown_answer_frees_its_place_and_changes_nothing_else() {
        let limit = Limit::new(1, 0);
        let generation = grant(&limit, 0);
        assert_eq!(limit.admit(0), Admission::Full);
        limit.release(generation, Signal::NoAnswer, 0);
        assert!(matches!(limit.admit(0), Admission::Granted { .. }));
        assert_eq!(limit.path(), [1]);
        assert_eq!(limit.peak_in_flight(), 1);
    }
}
