//! `create-inboxes`, `assign-inboxes`.

use crate::batches::bulk_command;
use crate::cli::Global;
use crate::connection::Failure;
use crate::input::{flag, parse_batch};
use crate::output::item_outcomes;
use smartcomm::{model, validate};
use smartcomm_host::{Operations, types};
use std::path::Path;

pub async fn create_inboxes(
    global: &Global,
    file: &Path,
    continue_on_error: bool,
) -> Result<u8, Failure> {
    let inboxes: Vec<model::NewInbox> = parse_batch(file)?;
    let options = types::CreateInboxesOptions {
        continue_on_error: flag(continue_on_error),
    };
    bulk_command!(global, inboxes, "create",
        validate: validate::create_inboxes,
        dry_run: |r, chunk| r.create_inboxes(chunk, options.continue_on_error),
        call: |ops, inboxes| ops.create_inboxes(inboxes, options),
        report: item_outcomes,
    )
}

pub async fn assign_inboxes(global: &Global, file: &Path) -> Result<u8, Failure> {
    let assignments: Vec<model::Assignment> = parse_batch(file)?;
    bulk_command!(global, assignments, "assign",
        validate: validate::assign_inboxes,
        dry_run: |r, chunk| r.assign_inboxes(chunk),
        call: |ops, assignments| ops.assign_inboxes(assignments),
        report: item_outcomes,
    )
}
