//! Splits batches into requests of at most ten items and maps each request's answer back to
//! an outcome per item.

use crate::error::ApiError;
use crate::response::{self, BatchAnswer, RawResponse};
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
        // The call's deadline came before the request was sent.
        Err(ApiError::Deadline { sent: false, .. }) => {
            return (0..len).map(|_| Outcome::NotAttempted).collect();
        }
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
