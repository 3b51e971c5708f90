//! Any request body and query, read as the bridge reads them (the body as JSON within its
//! limits, the page, the filter, a User resource, a PATCH applied to an agent): an answer or a
//! SCIM error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartcomm::model::Agent;
use smartcomm_scim::exchange::ScimRequest;
use smartcomm_scim::{patch, user};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (query, body) = data.split_at(split);
    let query = String::from_utf8_lossy(query);
    let request = ScimRequest {
        method: "POST".into(),
        path: "/scim/v2/Users".into(),
        query: query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.get(1..).unwrap_or_default().to_vec(),
        ..Default::default()
    };
    let _ = request.page(100);
    let _ = request.filter();
    let _ = request.split_path();
    if let Ok(json) = request.json() {
        if let Ok(values) = user::values_of_resource(&json) {
            let _ = user::new_agent(&values, "tenant");
            let _ = user::replaced(&Agent::default(), &values);
        }
        if let Ok(changes) = patch::read(&json) {
            let _ = user::patched(&Agent::default(), &changes);
        }
    }
});
