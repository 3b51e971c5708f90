//! `create-inboxes`, `assign-inboxes`.

use crate::batches::{plan, with_progress};
use crate::cli::Global;
use crate::connection::{Failure, customer_id, settle, with_operations};
use crate::input::{checked, flag, list, parse_batch};
use crate::output::{dry_run, item_outcomes};
use smartcomm::{model, validate};
use smartcomm_host::{Operations, types};
use std::path::Path;

pub async fn create_inboxes(
    global: &Global,
    file: &Path,
    continue_on_error: bool,
) -> Result<u8, Failure> {
    let inboxes: Vec<model::NewInbox> = parse_batch(file)?;
    checked(validate::create_inboxes(&inboxes))?;
    let options = types::CreateInboxesOptions {
        continue_on_error: flag(continue_on_error),
    };
    if global.dry_run {
        return Ok(dry_run(&customer_id(global)?, |r| {
            plan(&inboxes, |chunk| {
                r.create_inboxes(chunk, options.continue_on_error)
            })
        }));
    }
    with_operations!(global, |ops| {
        let total = inboxes.len();
        let outcomes = with_progress(total, "create", async || {
            settle(ops.create_inboxes(list(inboxes), options).await)
        })
        .await?;
        Ok(item_outcomes(outcomes))
    })
}

pub async fn assign_inboxes(global: &Global, file: &Path) -> Result<u8, Failure> {
    let assignments: Vec<model::Assignment> = parse_batch(file)?;
    checked(validate::assign_inboxes(&assignments))?;
    if global.dry_run {
        return Ok(dry_run(&customer_id(global)?, |r| {
            plan(&assignments, |chunk| r.assign_inboxes(chunk))
        }));
    }
    with_operations!(global, |ops| {
        let total = assignments.len();
        let outcomes = with_progress(total, "assign", async || {
            settle(ops.assign_inboxes(list(assignments)).await)
        })
        .await?;
        Ok(item_outcomes(outcomes))
    })
}
