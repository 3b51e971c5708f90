//! Any text is a PATCH path, and any JSON a PATCH body, or a refusal (a SCIM 400 naming what
//! is wrong): never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartcomm_scim::{filter, patch};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(path) = filter::parse_path(&text) {
        // A path prints as a path that parses back to itself.
        assert_eq!(filter::parse_path(&path.to_string()).ok(), Some(path));
    }
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        match patch::read(&body) {
            Ok(changes) => assert!(changes.iter().all(|c| !c.path.name.is_empty() || c.path.urn.is_some())),
            Err(error) => assert!(error.status == 400 && !error.detail.is_empty()),
        }
    }
});
