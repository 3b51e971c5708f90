//! How many requests of one client may be in flight at once.
//!
//! The API publishes no rate limit, so the client finds it by itself, as TCP finds a path's
//! capacity:
//!
//! - **Slow start.** The limit starts at the default concurrency (or the configured one when
//!   lower) and grows by one per answered request, up to the configured concurrency, until
//!   the API first throttles (429 or 503).
//! - **Multiplicative decrease.** A throttle halves the limit, once per burst: a 429 for a
//!   request sent before the last decrease is an echo of the same congestion. The limit also
//!   drops below the level the API refused: the most requests in flight while the throttled
//!   one was, but no more than the limit it was sent under (answers and new sends interleave
//!   before a 429 arrives). Slow start's overshoot is not halved from a level it never held.
//! - **Additive increase.** After that, the limit grows by one after as many answers in a row
//!   as the limit, but stays below the level that was throttled for a while (30 s, doubling
//!   each time the same level is throttled again): each probe of the API's ceiling costs
//!   throttled requests and, with `Retry-After`, a pause for all.
//! - **`Retry-After`** pauses every request that has not started yet, not only the one told.

use crate::transport::Transport;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::task::{Poll, Waker};

/// Where slow start begins when the configured concurrency is higher: the default
/// concurrency, which the API has always taken.
pub const SLOW_START_FROM: usize = 4;
/// How long the limit stays below a level that was throttled, the first time.
const HOLD_BELOW_THROTTLED_MS: u64 = 30_000;
/// The longest it stays below one (a level throttled again and again).
const MAX_HOLD_BELOW_THROTTLED_MS: u64 = 300_000;
/// How many of the limit's latest values are kept for [`Limit::path`]: a client that lives
/// for days (the SCIM bridge) must not grow with every change.
pub const PATH_KEPT: usize = 256;

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
    /// Yes, under the limit of this generation (see [`Signal`]); `ticket` names the request
    /// when it is given back.
    Granted { generation: u64, ticket: u64 },
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
    /// The requests in flight, by ticket, each with the most that were in flight with it and
    /// the limit it was sent under.
    open: Vec<(u64, usize, usize)>,
    next_ticket: u64,
    /// Answers since the limit last changed.
    successes: usize,
    /// Bumped on every decrease.
    generation: u64,
    slow_start: bool,
    paused_until_ms: Option<u64>,
    ceiling: Option<Ceiling>,
    /// The values the limit took, the latest [`PATH_KEPT`].
    path: VecDeque<usize>,
    throttled: u64,
}

impl State {
    fn record(&mut self, limit: usize) {
        if self.path.len() == PATH_KEPT {
            self.path.pop_front();
        }
        self.path.push_back(limit);
    }
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
                open: Vec::new(),
                next_ticket: 0,
                successes: 0,
                generation: 0,
                slow_start: start < max,
                paused_until_ms: None,
                ceiling: None,
                path: VecDeque::from([start]),
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
        let in_flight = state.in_flight;
        state.peak_in_flight = state.peak_in_flight.max(in_flight);
        for (_, peak, _) in &mut state.open {
            *peak = (*peak).max(in_flight);
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        let limit = state.limit;
        state.open.push((ticket, in_flight, limit));
        Admission::Granted {
            generation: state.generation,
            ticket,
        }
    }

    /// Takes back a request granted in `generation` with `ticket`, and learns from its answer.
    pub fn release(&self, (generation, ticket): (u64, u64), signal: Signal, now_ms: u64) {
        let mut state = self.state.borrow_mut();
        state.in_flight = state.in_flight.saturating_sub(1);
        let refused_level = match state.open.iter().position(|(t, _, _)| *t == ticket) {
            Some(at) => {
                let (_, peak, limit_then) = state.open.swap_remove(at);
                peak.min(limit_then)
            }
            None => 1,
        };
        match signal {
            Signal::Throttled { retry_after_ms } => self.throttled(
                &mut state,
                (generation, refused_level),
                retry_after_ms,
                now_ms,
            ),
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
        (generation, refused_level): (u64, usize),
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
        // Which of a burst the API turns away depends on the order they reach it, not on the
        // order they were sent: the level is the burst's, not the request's place in it.
        let level = refused_level.clamp(1, state.limit);
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
        let limit = (state.limit / 2).min(level - 1).max(1);
        if limit != state.limit {
            state.limit = limit;
            state.record(limit);
        }
    }

    fn answered(&self, state: &mut State, now_ms: u64) {
        state.successes += 1;
        let highest = match state.ceiling {
            Some(ceiling) if now_ms < ceiling.until_ms => (ceiling.level - 1).max(1),
            _ => self.max,
        };
        let due = state.slow_start || state.successes >= state.limit;
        if due && state.limit < highest {
            state.limit += 1;
            state.successes = 0;
            let limit = state.limit;
            state.record(limit);
        }
        if state.limit >= self.max {
            state.slow_start = false;
        }
    }

    /// Waits until a request may start: under the limit, and after any pause.
    pub async fn acquire<'a, T: Transport>(&'a self, clock: &T) -> Permit<'a> {
        loop {
            match self.admit(clock.now_ms()) {
                Admission::Granted { generation, ticket } => {
                    return Permit {
                        limit: self,
                        sent: (generation, ticket),
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

    /// The values the limit took, in order: from where slow start began, or the latest
    /// [`PATH_KEPT`] of a long-lived client.
    pub fn path(&self) -> Vec<usize> {
        self.state.borrow().path.iter().copied().collect()
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
    /// The generation it was granted in, and its ticket.
    sent: (u64, u64),
    released: bool,
}

impl Permit<'_> {
    pub fn release(mut self, signal: Signal, now_ms: u64) {
        self.released = true;
        self.limit.release(self.sent, signal, now_ms);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.released {
            self.limit.release(self.sent, Signal::NoAnswer, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THROTTLED: Signal = Signal::Throttled {
        retry_after_ms: None,
    };

    fn grant(limit: &Limit, now_ms: u64) -> (u64, u64) {
        match limit.admit(now_ms) {
            Admission::Granted { generation, ticket } => (generation, ticket),
            other => panic!("not granted: {other:?}"),
        }
    }

    #[test]
    fn slow_start_grows_by_one_per_answer_from_four_up_to_the_configured_concurrency() {
        let limit = Limit::new(8, 20_000);
        let sent: Vec<_> = (0..4).map(|_| grant(&limit, 0)).collect();
        assert_eq!(limit.admit(0), Admission::Full, "four in flight at first");
        for request in sent {
            limit.release(request, Signal::Answered, 1);
        }
        assert_eq!(limit.path(), [4, 5, 6, 7, 8]);
        answer(&limit, 20, 2);
        assert_eq!(limit.path(), [4, 5, 6, 7, 8], "never above the concurrency");
    }

    #[test]
    fn a_concurrency_of_one_or_two_starts_there() {
        assert_eq!(Limit::new(1, 0).path(), [1]);
        assert_eq!(Limit::new(2, 0).path(), [2]);
        assert_eq!(Limit::new(0, 0).path(), [1], "never below one");
    }

    /// Fills the limit at `now_ms` and has the API throttle the last request sent; the others
    /// get no answer.
    fn throttle_when_full(limit: &Limit, now_ms: u64) {
        let mut sent = Vec::new();
        while let Admission::Granted { generation, ticket } = limit.admit(now_ms) {
            sent.push((generation, ticket));
        }
        let last = sent.pop().expect("one sent");
        limit.release(last, THROTTLED, now_ms);
        for other in sent {
            limit.release(other, Signal::NoAnswer, now_ms);
        }
    }

    fn answer(limit: &Limit, times: usize, now_ms: u64) {
        for _ in 0..times {
            let sent = grant(limit, now_ms);
            limit.release(sent, Signal::Answered, now_ms);
        }
    }

    #[test]
    fn a_burst_of_throttles_halves_the_limit_once() {
        let limit = Limit::new(4, 20_000);
        let sent: Vec<_> = (0..4).map(|_| grant(&limit, 0)).collect();
        for request in sent {
            limit.release(request, THROTTLED, 10);
        }
        assert_eq!(limit.path(), [4, 2]);
        assert_eq!(limit.throttled_answers(), 4);
        // A throttle of a request sent after the decrease halves again.
        let request = grant(&limit, 20);
        limit.release(request, THROTTLED, 20);
        assert_eq!(limit.path(), [4, 2, 1]);
        let request = grant(&limit, 30);
        limit.release(request, THROTTLED, 30);
        assert_eq!(limit.path(), [4, 2, 1], "never below one");
    }

    #[test]
    fn slow_start_overshoot_drops_below_what_was_in_flight_when_the_api_refused() {
        let limit = Limit::new(8, 20_000);
        let sent: Vec<_> = (0..4).map(|_| grant(&limit, 0)).collect();
        // Three answers grow the limit to 7 before the 429 of one of the four arrives (the
        // first sent, as the API saw it last): four were in flight, so the limit goes to 3,
        // not to half of 7.
        for &request in &sent[1..] {
            limit.release(request, Signal::Answered, 200);
        }
        limit.release(sent[0], THROTTLED, 200);
        assert_eq!(limit.path(), [4, 5, 6, 7, 3]);
        answer(&limit, 30, 300);
        assert_eq!(
            *limit.path().last().unwrap(),
            3,
            "below the refused level 4"
        );
    }

    #[test]
    fn answers_and_sends_between_a_burst_and_its_429_do_not_raise_the_refused_level() {
        let limit = Limit::new(8, 20_000);
        let sent: Vec<_> = (0..4).map(|_| grant(&limit, 0)).collect();
        // Two answers grow the limit and free places; four more go out before the 429 of the
        // first burst arrives, so six are in flight with it at most. It was sent under a
        // limit of 4: that is the level refused.
        limit.release(sent[1], Signal::Answered, 200);
        limit.release(sent[2], Signal::Answered, 200);
        let later: Vec<_> = (0..4).map(|_| grant(&limit, 200)).collect();
        limit.release(sent[0], THROTTLED, 201);
        assert_eq!(limit.path(), [4, 5, 6, 3]);
        limit.release(sent[3], Signal::Answered, 202);
        for request in later {
            limit.release(request, Signal::Answered, 203);
        }
        answer(&limit, 30, 300);
        assert_eq!(
            *limit.path().last().unwrap(),
            3,
            "below the refused level 4"
        );
    }

    #[test]
    fn after_a_throttle_the_limit_grows_by_one_per_run_and_stays_below_the_throttled_level() {
        let limit = Limit::new(8, 20_000);
        throttle_when_full(&limit, 0);
        assert_eq!(limit.path(), [4, 2]);
        answer(&limit, 30, 100);
        // 2 → 3 after two answers; 4 was throttled, so it stays at 3.
        assert_eq!(limit.path(), [4, 2, 3]);
        answer(&limit, 3, HOLD_BELOW_THROTTLED_MS);
        assert_eq!(
            limit.path(),
            [4, 2, 3, 4],
            "it probes the level again later"
        );
    }

    #[test]
    fn a_level_throttled_again_is_held_below_twice_as_long() {
        let limit = Limit::new(4, 20_000);
        throttle_when_full(&limit, 0); // at 4: down to 2
        answer(&limit, 10, HOLD_BELOW_THROTTLED_MS); // back up to 4
        assert_eq!(*limit.path().last().unwrap(), 4);
        throttle_when_full(&limit, HOLD_BELOW_THROTTLED_MS); // 4 again: held below for 60 s
        answer(&limit, 10, 2 * HOLD_BELOW_THROTTLED_MS);
        assert_eq!(*limit.path().last().unwrap(), 3);
        answer(&limit, 10, 3 * HOLD_BELOW_THROTTLED_MS);
        assert_eq!(*limit.path().last().unwrap(), 4);
    }

    #[test]
    fn retry_after_pauses_every_request_up_to_the_longest_wait() {
        let limit = Limit::new(4, 5_000);
        let request = grant(&limit, 0);
        limit.release(
            request,
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
    fn a_long_lived_limit_keeps_only_its_latest_values() {
        let limit = Limit::new(8, 20_000);
        for round in 0..PATH_KEPT {
            // Past the longest hold below the throttled level, the limit climbs back to 8.
            let at = round as u64 * 20 * HOLD_BELOW_THROTTLED_MS;
            throttle_when_full(&limit, at);
            answer(&limit, 40, at + 11 * HOLD_BELOW_THROTTLED_MS);
        }
        let path = limit.path();
        assert_eq!(path.len(), PATH_KEPT);
        assert_eq!(*path.last().unwrap(), 8, "the latest value is kept");
    }

    #[test]
    fn an_unknown_answer_frees_its_place_and_changes_nothing_else() {
        let limit = Limit::new(1, 0);
        let request = grant(&limit, 0);
        assert_eq!(limit.admit(0), Admission::Full);
        limit.release(request, Signal::NoAnswer, 0);
        assert!(matches!(limit.admit(0), Admission::Granted { .. }));
        assert_eq!(limit.path(), [1]);
        assert_eq!(limit.peak_in_flight(), 1);
    }
}
