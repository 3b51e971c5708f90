//! Roster sync: a plan of the changes that make an account's agents equal to a desired
//! roster, computed from the live state (`plan`), and its application (`apply`). The types
//! here are the plan file's format as well as the WIT records' model.

mod apply;
mod digest;
mod plan;

pub use apply::{ApplyReport, AssignmentResult, ChangeResult};
pub use digest::{agent_digest, plan_fingerprint};
pub use plan::{Live, check_roster, compute_plan};

use crate::error::{ApiError, Problem};
use crate::model::{AgentChanges, NewAgent, Operation};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One agent of a desired roster: an onboard item plus `active` and `shared_inboxes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredAgent {
    #[serde(flatten)]
    pub agent: NewAgent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_inboxes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsentAgents {
    #[default]
    Deactivate,
    Offboard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeField {
    BrandName,
    Department,
    Region,
    State,
    District,
    Store,
    City,
    ZipCode,
}

impl ScopeField {
    pub const ALL: [ScopeField; 8] = [
        ScopeField::BrandName,
        ScopeField::Department,
        ScopeField::Region,
        ScopeField::State,
        ScopeField::District,
        ScopeField::Store,
        ScopeField::City,
        ScopeField::ZipCode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScopeField::BrandName => "brand_name",
            ScopeField::Department => "department",
            ScopeField::Region => "region",
            ScopeField::State => "state",
            ScopeField::District => "district",
            ScopeField::Store => "store",
            ScopeField::City => "city",
            ScopeField::ZipCode => "zip_code",
        }
    }

    pub fn parse(name: &str) -> Option<ScopeField> {
        ScopeField::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The profile field a scope field matches on.
    pub fn profile_field(self) -> crate::model::ProfileField {
        crate::model::ProfileField::named(self.as_str()).expect("a scope field is a profile field")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeMatch {
    pub field: ScopeField,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<AbsentAgents>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<ScopeMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_removals: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protected: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Onboard,
    Update,
    Deactivate,
    Offboard,
}

impl ChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Onboard => "onboard",
            ChangeAction::Update => "update",
            ChangeAction::Deactivate => "deactivate",
            ChangeAction::Offboard => "offboard",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    #[serde(default)]
    pub old: Option<String>,
    #[serde(default)]
    pub new: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedChange {
    pub action: ChangeAction,
    pub user_object_id: String,
    pub tenant_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onboard: Option<NewAgent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<AgentChanges>,
    #[serde(default)]
    pub fields: Vec<FieldChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAssignment {
    pub inbox: String,
    pub operation: Operation,
    pub agents: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unconvergeable {
    pub user_object_id: String,
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub onboard: u32,
    pub update: u32,
    pub deactivate: u32,
    pub offboard: u32,
    pub unchanged: u32,
    pub assignments: u32,
    pub out_of_scope: u32,
    pub protected: u32,
    pub unconvergeable: u32,
}

impl PlanSummary {
    /// Whether applying the plan would change anything.
    pub fn has_changes(&self) -> bool {
        self.onboard + self.update + self.deactivate + self.offboard + self.assignments > 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub customer_id: String,
    pub tenants: Vec<String>,
    #[serde(default)]
    pub options: PlanOptions,
    #[serde(default)]
    pub changes: Vec<PlannedChange>,
    #[serde(default)]
    pub assignments: Vec<PlannedAssignment>,
    #[serde(default)]
    pub unconvergeable: Vec<Unconvergeable>,
    #[serde(default)]
    pub kept: Vec<String>,
    pub summary: PlanSummary,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    pub continue_on_error: Option<bool>,
    /// The removals a person read in a plan over its cap and approved: that plan is applied
    /// when its removals are exactly this many.
    pub approved_removals: Option<u32>,
}

/// A plan refused for removing more agents than allowed, with the plan itself: a person may
/// read it and, if the removals are right, apply it as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovalCap {
    pub removals: u32,
    pub max_removals: u32,
    pub in_scope: u32,
    pub plan: Box<Plan>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleAgent {
    pub user_object_id: String,
    pub reason: String,
}

/// Why a sync call did not plan or apply.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncError {
    Api(ApiError),
    TooManyRemovals(RemovalCap),
    Stale(Vec<StaleAgent>),
}

impl From<ApiError> for SyncError {
    fn from(e: ApiError) -> Self {
        SyncError::Api(e)
    }
}

impl From<Vec<Problem>> for SyncError {
    fn from(problems: Vec<Problem>) -> Self {
        SyncError::Api(ApiError::InvalidInput(problems))
    }
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncError::Api(e) => write!(f, "{e}"),
            SyncError::TooManyRemovals(cap) => write!(
                f,
                "the plan would remove {} of {} agents in scope, more than the {} allowed",
                cap.removals, cap.in_scope, cap.max_removals
            ),
            SyncError::Stale(agents) => write!(
                f,
                "{} agents changed since the plan was made; plan again",
                agents.len()
            ),
        }
    }
}
