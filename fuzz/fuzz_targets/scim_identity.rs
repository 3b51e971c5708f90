//! What decides who a request is for and whether it deactivates: the bearer token of an
//! `Authorization` header, an object-id key, the leaver's `active: false` found in a raw
//! body, and a group's member operations applied in order. Never a panic, and each agrees
//! with the reader it stands beside.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartcomm::model::Agent;
use smartcomm_scim::exchange::bearer_token;
use smartcomm_scim::group::{self, Group};
use smartcomm_scim::{key, patch, user};
use std::collections::BTreeSet;

const MEMBER: &str = "00000000-0000-4000-8000-000000000001";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(token) = bearer_token(&text) {
        assert!(!token.is_empty() && token == token.trim() && text.contains(token));
    }
    match key::object_id("externalId", &text) {
        Ok(id) => assert!(key::is_object_id(&id) && id == text.to_ascii_lowercase()),
        Err(refused) => assert!(refused.status == 400 && refused.detail.len() < 700),
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = user::put_deactivates(&body);
    let Ok(operations) = patch::read(&body) else {
        return;
    };
    let active = Agent {
        user_object_id: Some(MEMBER.into()),
        active: Some(true),
        ..Agent::default()
    };
    if let Ok(changes) = user::patched(&active, &operations) {
        // The leaver is found in the raw body exactly when reading the PATCH deactivates.
        assert_eq!(
            user::patch_deactivates(&body),
            changes.active == Some(false),
            "{body}"
        );
    }
    let inbox = Group {
        name: "Store 1".into(),
        number: "+15550100050".into(),
    };
    let current: BTreeSet<String> = [MEMBER.to_string()].into();
    if let Ok(changes) = group::member_changes(&inbox, &operations, &current) {
        assert!(changes.add.is_disjoint(&current) && changes.remove.is_subset(&current));
        assert!(changes.add.iter().all(|id| key::is_object_id(id)));
    }
});
