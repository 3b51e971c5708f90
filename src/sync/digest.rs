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

/// A digest of everything the API shows of an agent, independent of the order of its lists.
pub fn agent_digest(agent: &Agent) -> String {
    let mut agent = agent.clone();
    agent.roles.sort_by_key(|r| r.as_str());
    agent.phone_number.sort_by(|a, b| {
        (a.number_type.as_str(), &a.value).cmp(&(b.number_type.as_str(), &b.value))
    });
    agent
        .shared_inbox
        .sort_by(|a, b| (&a.phone_number, &a.name).cmp(&(&b.phone_number, &b.name)));
    agent
        .supervisors
        .sort_by(|a, b| (&a.user_object_id, &a.upn).cmp(&(&b.user_object_id, &b.upn)));
    short_hex(&serde_json::to_vec(&agent).expect("an agent always serializes"))
}

/// A digest of a plan's whole content but its fingerprint.
pub fn plan_fingerprint(plan: &Plan) -> String {
    let mut content = plan.clone();
    content.fingerprint.clear();
    short_hex(&serde_json::to_vec(&content).expect("a plan always serializes"))
}
