//! Digests that tie a plan to the live state it was computed from.

use super::Plan;
use crate::model::Agent;
use sha2::{Digest, Sha256};

/// 128 bits of SHA-256, in hex: enough to tell states apart, short enough to read.
fn short_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A digest of what the API shows of an agent itself, independent of the order of its lists.
/// Its shared inboxes and supervisors are left out: the plan's own assignments change the
/// first, the deactivation of a supervisor the second, and apply checks memberships live.
pub fn agent_digest(agent: &Agent) -> String {
    let mut agent = agent.clone();
    agent.shared_inbox.clear();
    agent.supervisors.clear();
    agent.roles.sort_by_key(|r| r.as_str());
    agent.phone_number.sort_by(|a, b| {
        (a.number_type.as_str(), &a.value).cmp(&(b.number_type.as_str(), &b.value))
    });
    short_hex(&serde_json::to_vec(&agent).expect("an agent always serializes"))
}

/// A digest of a plan's whole content but its fingerprint.
pub fn plan_fingerprint(plan: &Plan) -> String {
    let mut content = plan.clone();
    content.fingerprint.clear();
    short_hex(&serde_json::to_vec(&content).expect("a plan always serializes"))
}
