//! Splits batches into requests of at most ten items and maps each request's answer back to
//! an outcome per item.

use crate::client::Client;
use crate::converge::Verdict;
use crate::error::ApiError;
use crate::request::{ApiRequest, Requests};
use crate::response::{self, BatchAnswer, RawResponse};
use crate::transport::Transport;
use crate::validate::MAX_BATCH;

/// What became of one item of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    Succeeded(T),
    Rejected(Vec<String>),
    Failed(ApiError),
    NotAttempted,
}

impl<T> Outcome<T> {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded(_))
    }
}

/// Whether a chunk ends its batch: without `continueOnError`, the first chunk with an item not
/// done stops the batch, and the items after it are not attempted.
pub fn ends_batch(continue_on_error: bool, chunk_done: bool) -> bool {
    !continue_on_error && !chunk_done
}

/// `(offset of the first item in the caller's list, the items)` for each request.
pub fn chunks<T>(items: &[T]) -> impl Iterator<Item = (usize, &[T])> {
    items
        .chunks(MAX_BATCH)
        .enumerate()
        .map(|(n, chunk)| (n * MAX_BATCH, chunk))
}

/// The outcomes of the `len` items of one request.
///
/// A 400 that names items: those items are rejected. With `continueOnError` the others were
/// applied; without it the API applied the items before the first rejected one and stopped, so
/// the ones after it are not attempted. Any other failure applies to the whole request.
pub fn chunk_outcomes<T>(
    len: usize,
    answer: Result<RawResponse, ApiError>,
    continue_on_error: bool,
    now_unix: u64,
    succeeded: impl Fn(&BatchAnswer, usize) -> T,
) -> Vec<Outcome<T>> {
    let whole = |error: ApiError| -> Vec<Outcome<T>> {
        (0..len).map(|_| Outcome::Failed(error.clone())).collect()
    };
    let resp = match answer {
        Ok(resp) => resp,
        Err(error) => return whole(error),
    };
    if resp.is_success() {
        return match response::batch(&resp, now_unix) {
            Ok(answer) => (0..len)
                .map(|i| match rejected_messages(&answer.errors.items, i) {
                    Some(messages) => Outcome::Rejected(messages),
                    None => Outcome::Succeeded(succeeded(&answer, i)),
                })
                .collect(),
            Err(error) => whole(error),
        };
    }
    let error = response::error_for(&resp, now_unix);
    let ApiError::Rejected { items, .. } = &error else {
        return whole(error);
    };
    let Some(first_rejected) = items
        .iter()
        .map(|e| e.item_index)
        .filter(|i| *i < len)
        .min()
    else {
        return whole(error);
    };
    // A 400 body may still list the items that were applied (`result`).
    let answer = response::batch_body(&resp.body);
    (0..len)
        .map(|i| match rejected_messages(items, i) {
            Some(messages) => Outcome::Rejected(messages),
            None if continue_on_error || i < first_rejected => {
                Outcome::Succeeded(succeeded(&answer, i))
            }
            None => Outcome::NotAttempted,
        })
        .collect()
}

fn rejected_messages(items: &[crate::model::ItemErrors], index: usize) -> Option<Vec<String>> {
    let mut found = false;
    let mut messages = Vec::new();
    for item in items.iter().filter(|e| e.item_index == index) {
        found = true;
        messages.extend(item.errors.iter().cloned());
    }
    found.then_some(messages)
}

impl<T: Transport> Client<T> {
    /// Sends a batch in requests of at most ten, in order, and maps every item's outcome back
    /// to its index. An item the API refuses is checked with `verify`: when the state read
    /// back shows it already done (a repeat of a call that took effect), it counts as
    /// succeeded, and items the API skipped only because of it are sent again.
    pub(crate) fn run_batch<I: Clone, O>(
        &mut self,
        items: &[I],
        continue_on_error: Option<bool>,
        build: impl Fn(&Requests, &[I]) -> ApiRequest,
        succeeded: impl Fn(&response::BatchAnswer, usize) -> O,
        mut verify: impl FnMut(&mut Self, &I, &[String]) -> Verdict<O>,
    ) -> Result<Vec<Outcome<O>>, ApiError> {
        self.settings()?;
        // A failure to get a token before anything was sent fails the call as a whole.
        self.current_token()?;
        let keep_going = continue_on_error.unwrap_or(false);
        let mut outcomes: Vec<Outcome<O>> = Vec::with_capacity(items.len());
        for (_, chunk) in chunks(items) {
            let mut slots: Vec<Option<Outcome<O>>> = (0..chunk.len()).map(|_| None).collect();
            let mut pending: Vec<usize> = (0..chunk.len()).collect();
            while !pending.is_empty() {
                let sending: Vec<I> = pending.iter().map(|&i| chunk[i].clone()).collect();
                let request = build(&self.requests, &sending);
                let answer = self.execute(&request);
                let results =
                    chunk_outcomes(sending.len(), answer, keep_going, self.now(), &succeeded);
                let mut resend = Vec::new();
                let mut all_done_so_far = true;
                for (k, result) in results.into_iter().enumerate() {
                    let local = pending[k];
                    let result = match result {
                        Outcome::Rejected(messages) => match verify(self, &chunk[local], &messages)
                        {
                            Verdict::Done(value) => Outcome::Succeeded(value),
                            Verdict::Conflict(why) => {
                                Outcome::Rejected(messages.into_iter().chain([why]).collect())
                            }
                            Verdict::Unknown => Outcome::Rejected(messages),
                        },
                        other => other,
                    };
                    match &result {
                        Outcome::NotAttempted if all_done_so_far => resend.push(local),
                        Outcome::Succeeded(_) => {}
                        _ => all_done_so_far = false,
                    }
                    slots[local] = Some(result);
                }
                if resend.len() >= pending.len() {
                    break;
                }
                pending = resend;
            }
            let failed = slots
                .iter()
                .any(|s| !matches!(s, Some(Outcome::Succeeded(_))));
            outcomes.extend(
                slots
                    .into_iter()
                    .map(|s| s.unwrap_or(Outcome::NotAttempted)),
            );
            if ends_batch(keep_going, !failed) {
                break;
            }
        }
        outcomes.resize_with(items.len(), || Outcome::NotAttempted);
        Ok(outcomes)
    }
}
