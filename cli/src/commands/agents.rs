//! `onboard-agents`, `get-agent`, `list-agents`, `update-agent`, `update-agents`,
//! `offboard-agent`, `offboard-agents`.

use crate::batches::{bulk_command, request_json};
use crate::cli::{ChangeKey, Format, GetKey, Global, OnboardFormat};
use crate::connection::{Failure, customer_id, invalid, settle, with_operations};
use crate::input::{checked, flag, list, parse_batch, parse_file, read_batch};
use crate::output::{dry_run, item_outcomes, print, update_outcomes};
use crate::{csv_input, entra_input};
use serde_json::json;
use smartcomm::{model, validate};
use smartcomm_host::{Operations, types};
use std::path::Path;

/// Where `onboard-agents` reads its agents.
pub struct Roster<'a> {
    pub file: &'a Path,
    pub format: Option<OnboardFormat>,
    pub tenant_id: Option<&'a str>,
    pub mapping: Option<&'a Path>,
    pub sidecar: Option<&'a Path>,
}

impl Roster<'_> {
    fn agents(&self) -> Result<Vec<model::NewAgent>, Failure> {
        let format = match self.format {
            None => None,
            Some(OnboardFormat::Json) => Some(Format::Json),
            Some(OnboardFormat::Csv) => Some(Format::Csv),
            Some(OnboardFormat::Entra) => return self.entra(),
        };
        read_batch(self.file, format, csv_input::onboard)
    }

    fn entra(&self) -> Result<Vec<model::NewAgent>, Failure> {
        let tenant_id = self
            .tenant_id
            .ok_or_else(|| invalid("--format entra needs --tenant-id".into()))?;
        let sources = entra_input::Sources::read(tenant_id, self.mapping, self.sidecar)?;
        let (roster, _) = sources.export_roster(&[self.file.to_path_buf()])?;
        Ok(entra_input::onboard_items(roster))
    }
}

pub async fn onboard_agents(
    global: &Global,
    roster: Roster<'_>,
    continue_on_error: bool,
    reassign_inbox: bool,
) -> Result<u8, Failure> {
    let options = types::OnboardOptions {
        continue_on_error: flag(continue_on_error),
        reassign_inbox: flag(reassign_inbox),
    };
    bulk_command!(global, roster.agents()?, "onboard",
        validate: validate::onboard_agents,
        dry_run: |r, chunk| r.onboard_agents(chunk, options.continue_on_error, options.reassign_inbox),
        call: |ops, agents| ops.onboard_agents(agents, options),
        report: item_outcomes,
    )
}

pub async fn get_agent(
    global: &Global,
    id: String,
    key_id: Option<GetKey>,
    upn: Option<String>,
) -> Result<u8, Failure> {
    let key_id = key_id.map(types::KeyId::from);
    let agent = with_operations!(global, |ops| settle(ops.get_agent(id, key_id, upn).await)?);
    print(&json!(model::Agent::from(agent)));
    Ok(0)
}

pub async fn list_agents(global: &Global, filter: model::AgentFilter) -> Result<u8, Failure> {
    let agents = with_operations!(global, |ops| settle(ops.list_agents(filter.into()).await)?);
    let agents: Vec<model::Agent> = list(agents);
    print(&json!(agents));
    Ok(0)
}

pub async fn update_agent(
    global: &Global,
    id: String,
    file: &Path,
    key_id: Option<ChangeKey>,
) -> Result<u8, Failure> {
    let changes: model::AgentChanges = parse_file(file)?;
    let key_id = key_id.map(types::KeyId::from);
    let model_key = key_id.map(model::KeyId::from);
    checked(validate::update_agent(&id, model_key, &changes))?;
    if global.dry_run {
        return Ok(dry_run(&customer_id(global)?, |r| {
            request_json(&r.update_agent(&id, model_key, &changes))
        }));
    }
    let agent = with_operations!(global, |ops| settle(
        ops.update_agent(id, key_id, changes.into()).await
    )?);
    print(&json!(model::Agent::from(agent)));
    Ok(0)
}

pub async fn update_agents(
    global: &Global,
    file: &Path,
    continue_on_error: bool,
) -> Result<u8, Failure> {
    let updates: Vec<model::AgentUpdate> = parse_batch(file)?;
    let options = types::UpdateOptions {
        continue_on_error: flag(continue_on_error),
    };
    bulk_command!(global, updates, "update",
        validate: validate::update_agents,
        dry_run: |r, chunk| r.update_agents(chunk, options.continue_on_error),
        call: |ops, updates| ops.update_agents(updates, options),
        report: update_outcomes,
    )
}

pub async fn offboard_agent(
    global: &Global,
    id: String,
    key_id: Option<ChangeKey>,
    deprovision_supervised_inbox: bool,
) -> Result<u8, Failure> {
    let key_id = key_id.map(types::KeyId::from);
    let model_key = key_id.map(model::KeyId::from);
    let deprovision = flag(deprovision_supervised_inbox);
    checked(validate::offboard_agent(&id, model_key))?;
    if global.dry_run {
        return Ok(dry_run(&customer_id(global)?, |r| {
            request_json(&r.offboard_agent(&id, model_key, deprovision))
        }));
    }
    let message = with_operations!(global, |ops| settle(
        ops.offboard_agent(id, key_id, deprovision).await
    )?);
    print(&json!({"message": message}));
    Ok(0)
}

pub async fn offboard_agents(
    global: &Global,
    file: &Path,
    format: Option<Format>,
    continue_on_error: bool,
    deprovision_supervised_inbox: bool,
) -> Result<u8, Failure> {
    let items: Vec<model::OffboardItem> = read_batch(file, format, csv_input::offboard)?;
    let options = types::OffboardOptions {
        continue_on_error: flag(continue_on_error),
        deprovision_supervised_inbox: flag(deprovision_supervised_inbox),
    };
    bulk_command!(global, items, "offboard",
        validate: validate::offboard_agents,
        dry_run: |r, chunk| r.offboard_agents(
            chunk,
            options.continue_on_error,
            options.deprovision_supervised_inbox,
        ),
        call: |ops, items| ops.offboard_agents(items, options),
        report: item_outcomes,
    )
}
