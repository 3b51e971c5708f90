//! `list-numbers`.

use crate::cli::{Global, Status};
use crate::connection::{Failure, settle, with_operations};
use crate::input::list;
use crate::output::print;
use serde_json::json;
use smartcomm::model;
use smartcomm_host::{Operations, types};

pub async fn list_numbers(
    global: &Global,
    status: Option<Status>,
    digits: Option<String>,
) -> Result<u8, Failure> {
    let status = status.map(types::NumberStatus::from);
    let numbers = with_operations!(global, |ops| settle(
        ops.list_numbers(status, digits).await
    )?);
    let numbers: Vec<model::NumberInfo> = list(numbers);
    print(&json!(numbers));
    Ok(0)
}
