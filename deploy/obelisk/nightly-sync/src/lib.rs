//! The nightly sync workflow: three child executions of the smartcomm activity (read the
//! group, plan, apply), with the plan's removal cap as the one decision of its own. Obelisk
//! persists each child's result, so a replay after a crash resumes where the night stopped.

wit_bindgen::generate!({
    path: ["../../../wit", "wit"],
    world: "smartcomm-deploy:entra/nightly-sync",
    generate_all,
});

use exports::smartcomm_deploy::entra::nightly::{Guest, Night, Settings};
use intelepeer::smartcommunicator::entra;
use intelepeer::smartcommunicator::steps::StepError;
use intelepeer::smartcommunicator::sync;
use intelepeer::smartcommunicator::types::{ApplyOptions, RemovalCap, SyncPlan};
use obelisk::log::log;
use obelisk::workflow::workflow_support::execution_id_current;

/// The function that applies a stopped night's plan, as an operator submits it.
const APPROVE: &str = "smartcomm-deploy:entra/nightly.approve";

struct Workflow;

export!(Workflow);

impl Guest for Workflow {
    fn sync_group(settings: Settings) -> Result<Night, String> {
        let group = entra::read_group(
            &settings.tenant_id,
            &settings.group_id,
            &settings.mapping,
            &settings.extras,
        )
        .map_err(|e| format!("entra.read-group: {e:?}"))?;
        let plan = match sync::plan(&group.agents, &settings.options) {
            Ok(plan) => plan,
            Err(StepError::PermanentTooManyRemovals(cap)) => {
                log::warn(&stop_warning(&execution_id_current().id, &cap));
                return Ok(Night::StoppedTooManyRemovals(cap));
            }
            Err(e) => return Err(format!("sync.plan: {e:?}")),
        };
        if plan.changes.is_empty() && plan.assignments.is_empty() {
            return Ok(Night::InSync(plan.summary));
        }
        apply(&plan, None)
    }

    fn approve(stopped: Result<Night, String>) -> Result<Night, String> {
        let Ok(Night::StoppedTooManyRemovals(cap)) = stopped else {
            return Err(format!(
                "{APPROVE} takes the result of a night that stopped at the removal cap, and \
                 this night did not stop there: nothing was applied"
            ));
        };
        log::info(&format!(
            "applying the approved plan {} ({} removals)",
            cap.plan.fingerprint, cap.removals
        ));
        apply(&cap.plan, Some(cap.removals))
    }
}

/// Applies `plan`; `approved_removals`, for a plan over its cap that a person approved.
fn apply(plan: &SyncPlan, approved_removals: Option<u32>) -> Result<Night, String> {
    let options = ApplyOptions {
        continue_on_error: Some(true),
        approved_removals,
    };
    sync::apply(plan, options)
        .map(Night::Applied)
        .map_err(|e| format!("sync.apply: {e:?}"))
}

/// The warning of a stopped night: where its plan is, what it would remove, and how a person
/// applies it after reading it.
fn stop_warning(night: &str, cap: &RemovalCap) -> String {
    format!(
        "nightly sync {night} stopped: its plan {plan} would deactivate or offboard {removals} \
         of the {in_scope} agents in scope, more than the {max} allowed; nothing was applied. \
         Read the plan: `obelisk execution result --json {night} > {night}.json`; \
         to apply it as it is: `obelisk execution submit --follow {APPROVE} -- @{night}.json`",
        plan = cap.plan.fingerprint,
        removals = cap.removals,
        in_scope = cap.in_scope,
        max = cap.max_removals,
    )
}
