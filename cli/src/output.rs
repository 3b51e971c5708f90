//! What commands print: JSON on stdout, and every batch item's outcome under its index.

use crate::connection::EXIT_FAILED;
use serde_json::{Value, json};
use smartcomm_host::{convert, types};

pub fn print(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values always print")
    );
}

/// Prints every item's outcome and a summary; exit 1 when any item was not applied.
pub fn print_batch(items: Vec<Value>) -> u8 {
    let count = |kind: &str| items.iter().filter(|i| i["outcome"] == kind).count();
    let summary = json!({
        "succeeded": count("succeeded"),
        "already_done": count("already_done"),
        "rejected": count("rejected"),
        "failed": count("failed"),
        "not_attempted": count("not_attempted"),
    });
    let all_done = count("succeeded") + count("already_done") == items.len();
    print(&json!({"summary": summary, "items": items}));
    if all_done { 0 } else { EXIT_FAILED }
}

pub fn item_outcomes(outcomes: Vec<types::ItemOutcome>) -> u8 {
    print_batch(
        outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| convert::item_outcome_json(i, o))
            .collect(),
    )
}

pub fn update_outcomes(outcomes: Vec<types::UpdateOutcome>) -> u8 {
    print_batch(
        outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| convert::update_outcome_json(i, o))
            .collect(),
    )
}

/// Prints what `--dry-run` would send.
pub fn dry_run(customer_id: &str, plan: impl FnOnce(&smartcomm::request::Requests) -> Value) -> u8 {
    print(&plan(&smartcomm::request::Requests::new(customer_id)));
    0
}
