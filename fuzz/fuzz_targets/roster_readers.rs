//! Every roster reader, on any bytes: a CSV roster, onboard file or sidecar, a JSON roster,
//! an Entra export, a mapping file and a Graph members page either read or are refused with
//! problems that say where: never a panic, and a roster holds one agent per user read.
#![no_main]

#[path = "../../cli/src/csv_input.rs"]
#[allow(dead_code)]
mod csv_input;

use libfuzzer_sys::fuzz_target;
use smartcomm::entra::{self, Mapping};
use smartcomm::response::RawResponse;
use smartcomm::sync::{DesiredAgent, check_roster};

fn entra_export(text: &str) {
    let Ok(users) = entra::users_of_export(text) else {
        return;
    };
    let mapping = Mapping::default();
    let resolved = mapping.resolve().expect("the default mapping resolves");
    match entra::roster(&users, "tenant", &resolved, &[]) {
        Ok(roster) => assert_eq!(roster.len(), users.len()),
        Err(problems) => assert!(problems
            .iter()
            .all(|p| p.index.is_some_and(|i| i < users.len()) && !p.message.is_empty())),
    }
}

fn mapping_file(text: &str) {
    if let Ok(mapping) = serde_json::from_str::<Mapping>(text) {
        match mapping.resolve() {
            Ok(resolved) => assert!(resolved.properties().contains(&"userPrincipalName")),
            Err(problems) => assert!(problems.iter().all(|p| p.field.starts_with("mapping."))),
        }
    }
}

fn graph_page(data: &[u8]) {
    let raw = RawResponse {
        status: 200,
        content_type: Some("application/json".into()),
        retry_after: None,
        body: data.to_vec(),
    };
    if let Ok((users, _, _)) = smartcomm::graph::members_page(&raw, "group", 0) {
        assert!(users.iter().all(|u| u.contains_key("userPrincipalName")));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match which % 7 {
        0 => {
            if let Err(problems) = csv_input::roster(&text) {
                assert!(!problems.is_empty());
            }
        }
        1 => {
            if let Ok(rows) = csv_input::sidecar(&text) {
                assert!(rows.iter().all(|(line, extra)| *line >= 2 && !extra.user_object_id.is_empty()));
            }
        }
        2 => {
            let _ = csv_input::onboard(&text);
        }
        3 => {
            if let Ok(roster) = serde_json::from_slice::<Vec<DesiredAgent>>(rest) {
                if let Err(problems) = check_roster(&roster) {
                    assert!(problems.iter().all(|p| p.index.is_none_or(|i| i < roster.len())));
                }
            }
        }
        4 => entra_export(&text),
        5 => mapping_file(&text),
        _ => graph_page(rest),
    }
});
