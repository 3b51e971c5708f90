//! The nightly sync workflow: three child executions of the smartcomm activity (read the
//! group, plan, apply), with the plan's removal cap as the one decision of its own. Obelisk
//! persists each child's result, so a replay after a crash resumes where the night stopped.

wit_bindgen::generate!({
    path: ["../../../wit", "wit"],
    world: "smartcomm-deploy:entra/nightly-sync",
    generate_all,
});

use exports::smartcomm_deploy::entra::nightly::{Guest, Night};
use intelepeer::smartcommunicator::entra::{self, RosterMapping};
use intelepeer::smartcommunicator::steps::StepError;
use intelepeer::smartcommunicator::sync;
use intelepeer::smartcommunicator::types::{AbsentAgents, ApplyOptions, PlanOptions};

struct Workflow;

export!(Workflow);

impl Guest for Workflow {
    fn sync_group(
        tenant_id: String,
        group_id: String,
        mapping: RosterMapping,
        max_removals: Option<u32>,
    ) -> Result<Night, String> {
        let group = entra::read_group(&tenant_id, &group_id, &mapping, &[])
            .map_err(|e| format!("entra.read-group: {e:?}"))?;
        let options = PlanOptions {
            absent: Some(AbsentAgents::Deactivate),
            scope: Vec::new(),
            max_removals,
            protected: Vec::new(),
        };
        let plan = match sync::plan(&group.agents, &options) {
            Ok(plan) => plan,
            Err(StepError::PermanentTooManyRemovals(cap)) => {
                return Ok(Night::StoppedTooManyRemovals(cap));
            }
            Err(e) => return Err(format!("sync.plan: {e:?}")),
        };
        if plan.changes.is_empty() && plan.assignments.is_empty() {
            return Ok(Night::InSync(plan.summary));
        }
        let options = ApplyOptions {
            continue_on_error: Some(true),
        };
        sync::apply(&plan, options)
            .map(Night::Applied)
            .map_err(|e| format!("sync.apply: {e:?}"))
    }
}
