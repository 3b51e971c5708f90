//! Runs a batch: its requests of ten go out with up to the client's concurrency in flight,
//! in the order `dispatch` allows, and every item's outcome comes back at its index.

use crate::batch::{Outcome, chunk_outcomes, chunks};
use crate::client::Client;
use crate::converge::{Convergent, Found, Verdict};
use crate::dispatch::Dispatch;
use crate::error::ApiError;
use crate::readback::{ReadBack, Reads, lookups_of};
use crate::request::{ApiRequest, Requests};
use crate::response::BatchAnswer;
use crate::transport::Transport;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::borrow::Cow;
use std::collections::BTreeSet;

impl<T: Transport> Client<T> {
    /// Sends a batch in requests of at most ten, up to the concurrency at once, and maps every
    /// item's outcome back to its index. `waits_for` names, per request, the earlier ones it
    /// must wait for. Without `continue_on_error`, the first request with an item not done
    /// stops the batch: the requests in flight finish, the later ones are not attempted.
    /// Only a failure before anything was sent (getting a token) fails the call as a whole.
    pub(crate) async fn run_batch<I>(
        &self,
        items: &[I],
        continue_on_error: bool,
        waits_for: Vec<BTreeSet<usize>>,
        build: impl Fn(&Requests, &[I]) -> ApiRequest,
        succeeded: impl Fn(&BatchAnswer, usize) -> I::Done,
    ) -> Result<Vec<Outcome<I::Done>>, ApiError>
    where
        I: Convergent + Clone,
        I::Done: Clone,
    {
        self.settings()?;
        self.current_token().await?;
        let chunks: Vec<&[I]> = chunks(items).map(|(_, chunk)| chunk).collect();
        let snapshot = (chunks.len() > 1).then(|| I::snapshot(items)).flatten();
        let readback = ReadBack::new(self, snapshot);
        let batch = Batch {
            continue_on_error,
            build: &build,
            succeeded: &succeeded,
            readback: &readback,
        };
        let mut dispatch = Dispatch::new(waits_for, continue_on_error);
        let mut finished: Vec<Option<Vec<Outcome<I::Done>>>> = vec![None; chunks.len()];
        let mut running = FuturesUnordered::new();
        loop {
            // At the call's deadline nothing more starts; what is in flight ends by itself.
            while running.len() < self.concurrency()
                && !self.deadline_passed()
                && let Some(chunk) = dispatch.next_ready()
            {
                let batch = &batch;
                let items = chunks[chunk];
                running.push(async move { (chunk, self.run_chunk(items, batch).await) });
            }
            let Some((chunk, outcomes)) = running.next().await else {
                break;
            };
            dispatch.finish(chunk, outcomes.iter().all(Outcome::is_success));
            finished[chunk] = Some(outcomes);
        }
        if finished.iter().any(Option::is_none) {
            self.out_of_time();
        }
        Ok(chunks
            .iter()
            .zip(finished)
            .flat_map(|(items, outcomes)| {
                outcomes.unwrap_or_else(|| items.iter().map(|_| Outcome::NotAttempted).collect())
            })
            .collect())
    }

    /// One request of ten (or fewer). An item refused as a repeat is judged by reading the
    /// state back: already done, it counts as succeeded. Items the API then skipped are judged
    /// too, and only those not already done are sent again.
    async fn run_chunk<I, B, S>(
        &self,
        chunk: &[I],
        batch: &Batch<'_, '_, T, B, S>,
    ) -> Vec<Outcome<I::Done>>
    where
        I: Convergent + Clone,
        I::Done: Clone,
        B: Fn(&Requests, &[I]) -> ApiRequest,
        S: Fn(&BatchAnswer, usize) -> I::Done,
    {
        let mut slots: Vec<Option<Outcome<I::Done>>> = vec![None; chunk.len()];
        let mut pending: Vec<usize> = (0..chunk.len()).collect();
        while !pending.is_empty() {
            // The whole chunk on the first pass (no copy); the items left to re-send after.
            let first_pass = pending.len() == chunk.len();
            let sending: Cow<[I]> = match first_pass {
                true => Cow::Borrowed(chunk),
                false => Cow::Owned(pending.iter().map(|&i| chunk[i].clone()).collect()),
            };
            let mut answer = self.execute(&(batch.build)(&self.requests, &sending)).await;
            if !first_pass {
                // Re-sent items went out with the first pass: a deadline before the re-send
                // leaves them unknown, not unsent.
                answer = answer.map_err(ApiError::after_sending);
            }
            let results = chunk_outcomes(
                sending.len(),
                answer,
                batch.continue_on_error,
                self.now(),
                batch.succeeded,
            );
            let reads = batch
                .readback
                .find_unless_stale(judged(&sending, &results), |found| {
                    contradicted(&sending, &results, found)
                })
                .await;
            let resend = settle(&sending, results, &reads, &pending, &mut slots);
            if resend.len() >= pending.len() {
                break;
            }
            pending = resend;
        }
        slots
            .into_iter()
            .map(|s| s.unwrap_or(Outcome::NotAttempted))
            .collect()
    }
}

/// What every request of one batch shares.
struct Batch<'b, 'c, T, B, S> {
    continue_on_error: bool,
    build: &'b B,
    succeeded: &'b S,
    readback: &'b ReadBack<'c, T>,
}

/// The lookups that judge a request's answer: those of the items refused as repeats, which
/// must be known, and, when one was, those of the items skipped after it, which decide
/// whether they need sending again.
fn judged<I: Convergent>(
    sent: &[I],
    results: &[Outcome<I::Done>],
) -> Vec<(crate::converge::Lookup, bool)> {
    let refused: Vec<&I> = sent
        .iter()
        .zip(results)
        .filter(|(item, result)| refused_as_repeat(*item, result))
        .map(|(item, _)| item)
        .collect();
    if refused.is_empty() {
        return Vec::new();
    }
    let skipped = sent
        .iter()
        .zip(results)
        .filter(|(_, result)| I::JUDGED_BEFORE_SENDING && matches!(result, Outcome::NotAttempted))
        .map(|(item, _)| (item, false));
    lookups_of(refused.into_iter().map(|item| (item, true)).chain(skipped))
}

/// Whether the state read says an item refused as a repeat is not done: the API's refusal
/// says it is, so the read predates it.
fn contradicted<I: Convergent>(sent: &[I], results: &[Outcome<I::Done>], found: &Found) -> bool {
    sent.iter().zip(results).any(|(item, result)| {
        refused_as_repeat(item, result) && matches!(item.verdict(found, true), Verdict::NotDone)
    })
}

/// Whether the API refused `item` with the words a repeat meets ("already exists", …).
fn refused_as_repeat<I: Convergent>(item: &I, result: &Outcome<I::Done>) -> bool {
    matches!(result, Outcome::Rejected(m) if item.repeat_refusal(m))
}

/// Records a request's outcomes in `slots` and returns the items to send again: those the
/// API skipped after items all done, that the state read back does not show done already.
/// An item refused as a repeat whose read failed is `failed` with the read's error: neither
/// done nor refused is known.
fn settle<I: Convergent>(
    sent: &[I],
    results: Vec<Outcome<I::Done>>,
    reads: &Reads,
    pending: &[usize],
    slots: &mut [Option<Outcome<I::Done>>],
) -> Vec<usize> {
    let found = &reads.found;
    let mut resend = Vec::new();
    let mut all_done_so_far = true;
    for (k, result) in results.into_iter().enumerate() {
        let item = &sent[k];
        let outcome = match result {
            Outcome::Rejected(messages) if item.repeat_refusal(&messages) => {
                if let Some(error) = reads.failure(&item.lookups()) {
                    all_done_so_far = false;
                    slots[pending[k]] = Some(Outcome::Failed(error));
                    continue;
                }
                match item.verdict(found, true) {
                    Verdict::Done(value) => Outcome::Succeeded(value),
                    Verdict::Conflict(why) => {
                        Outcome::Rejected(messages.into_iter().chain([why]).collect())
                    }
                    Verdict::NotDone => Outcome::Rejected(messages),
                }
            }
            Outcome::NotAttempted if all_done_so_far && resend.is_empty() => {
                match I::JUDGED_BEFORE_SENDING.then(|| item.verdict(found, false)) {
                    Some(Verdict::Done(value)) => Outcome::Succeeded(value),
                    // From the first item not done on, the API takes the rest in order.
                    _ => {
                        resend.push(pending[k]);
                        continue;
                    }
                }
            }
            Outcome::NotAttempted if all_done_so_far => {
                resend.push(pending[k]);
                continue;
            }
            // After an item not done the API took nothing more, but a lost earlier attempt of
            // the request may have: what its read found, or that read's failure.
            Outcome::NotAttempted if I::JUDGED_BEFORE_SENDING => {
                match reads.failure(&item.lookups()) {
                    Some(error) => Outcome::Failed(error),
                    None => match item.verdict(found, false) {
                        Verdict::Done(value) => Outcome::Succeeded(value),
                        _ => Outcome::NotAttempted,
                    },
                }
            }
            other => other,
        };
        if !outcome.is_success() {
            all_done_so_far = false;
        }
        slots[pending[k]] = Some(outcome);
    }
    resend
}
