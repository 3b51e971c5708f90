//! Requests to an account as the server routes them, without a socket.

use crate::routes::users_api;
use crate::state::{Account, Answer};
use crate::wire::percent_decode;
use http::Method;

/// `path_and_query` is what follows `/{customer_id}`, e.g. `/agents?continueOnError=true`.
pub(crate) fn call(
    account: &mut Account,
    method: Method,
    path_and_query: &str,
    body: &str,
) -> Answer {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    users_api(account, &method, &segments, query, body.as_bytes())
}

pub(crate) fn account_with(numbers: &[&str]) -> Account {
    let numbers: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
    Account::seeded(&numbers)
}
