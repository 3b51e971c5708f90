//! An Obelisk workflow of two smartcomm steps. Each imported step function is a child
//! execution: Obelisk runs it as an activity of the smartcomm component, retries it under that
//! activity's settings, and hands the workflow its final result.

wit_bindgen::generate!({
    path: ["../../../wit", "wit"],
    world: "smartcomm-example:roster/onboard-into-inbox",
    generate_all,
});

use exports::smartcomm_example::roster::workflow::Guest;
use intelepeer::smartcommunicator::steps;
use intelepeer::smartcommunicator::types::{
    AgentSelector, Assignment, AssignmentOperation, IdentifierKind, InboxRef, InboxType,
    ItemOutcome, NewAgent, NumberProvisioning, NumberType, OnboardOptions,
};

struct Workflow;

export!(Workflow);

impl Guest for Workflow {
    fn onboard_into_inbox(
        user_object_id: String,
        tenant_id: String,
        name: String,
        messaging_number: String,
        inbox_number: String,
    ) -> Result<String, String> {
        let agent = NewAgent {
            user_object_id: user_object_id.clone(),
            tenant_id,
            name,
            upn: None,
            consistency_id: None,
            brand_name: None,
            department: None,
            region: None,
            state: None,
            district: None,
            store: None,
            city: None,
            zip_code: None,
            roles: None,
            number_provisioning: vec![NumberProvisioning {
                type_: NumberType::Messaging,
                phone_number: messaging_number,
                supervisors: None,
            }],
            enabled_services: None,
        };
        let options = OnboardOptions {
            continue_on_error: None,
            reassign_inbox: None,
        };
        let onboarded = steps::onboard_agents(&[agent], options)
            .map_err(|e| format!("onboard-agents: {e:?}"))?;
        let onboarded = single(onboarded, "onboard-agents")?;

        let assignment = Assignment {
            inbox: InboxRef {
                type_: InboxType::Shared,
                identifier: IdentifierKind::PhoneNumber,
                value: inbox_number,
            },
            agents: AgentSelector {
                identifier: IdentifierKind::UserObjectId,
                values: vec![user_object_id],
            },
            operation: AssignmentOperation::Add,
        };
        let assigned =
            steps::assign_inboxes(&[assignment]).map_err(|e| format!("assign-inboxes: {e:?}"))?;
        let assigned = single(assigned, "assign-inboxes")?;
        Ok(format!(
            "onboard-agents: {onboarded}; assign-inboxes: {assigned}"
        ))
    }
}

/// The one item's outcome, as text; an outcome other than done is the workflow's error.
fn single(outcomes: Vec<ItemOutcome>, step: &str) -> Result<String, String> {
    match outcomes.as_slice() {
        [ItemOutcome::Succeeded] => Ok("succeeded".into()),
        [ItemOutcome::AlreadyDone(why)] => Ok(format!("already done ({why})")),
        other => Err(format!("{step}: {other:?}")),
    }
}
