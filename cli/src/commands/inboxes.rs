//! `create-inboxes`, `assign-inboxes`.

use crate::batches::{plan, run_in_chunks};
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
        let outcomes = run_in_chunks(list(inboxes), continue_on_error, "create", async |chunk| {
            settle(ops.create_inboxes(chunk, options).await)
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
        let outcomes = run_in_chunks(list(assignments), false, "assign", async |chunk| {
            settle(ops.assign_inboxes(chunk).await)
        })
        .await?;
        Ok(item_outcomes(outcomes))
    })
}
