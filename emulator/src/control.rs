//! The control API under `/__emulator/`, for tests and demos: reset, state, request log,
//! latency, faults, token revocation, more numbers, and Entra groups and permissions.

use crate::faults::FaultRule;
use crate::{Body, Shared, json_response, lock};
use http::{Method, Response};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

pub(crate) fn control(
    shared: &Shared,
    method: &Method,
    command: &str,
    body: &[u8],
) -> Response<Body> {
    let ok = || json_response(200, &json!({"ok": true}));
    let bad = |message: String| json_response(400, &json!({"message": message}));
    match (method.clone(), command.trim_end_matches('/')) {
        (Method::PUT, "graph/permissions") => match serde_json::from_slice::<Vec<String>>(body) {
            Ok(permissions) => {
                lock(&shared.directory).set_permissions(&permissions);
                ok()
            }
            Err(e) => bad(format!("permissions are a list of names: {e}")),
        },
        (Method::PUT, group) if group.starts_with("graph/groups/") => {
            match serde_json::from_slice::<Vec<serde_json::Map<String, serde_json::Value>>>(body) {
                Ok(members) => {
                    lock(&shared.directory).set_group(&group["graph/groups/".len()..], members);
                    ok()
                }
                Err(e) => bad(format!("a group is a list of member objects: {e}")),
            }
        }
        (Method::POST, "reset") => {
            shared.reset();
            ok()
        }
        (Method::GET, "state") => json_response(200, &shared.state()),
        (Method::GET, "requests") => json_response(200, &json!(*lock(&shared.log))),
        (Method::DELETE, "requests") => {
            shared.clear_requests();
            ok()
        }
        (Method::GET, "peak-in-flight") => json_response(
            200,
            &json!({"peak_in_flight": shared.peak_in_flight.load(std::sync::atomic::Ordering::Relaxed)}),
        ),
        (Method::POST, "faults") => match serde_json::from_slice::<FaultRule>(body) {
            Ok(rule) => {
                shared.faults.add(rule);
                ok()
            }
            Err(e) => bad(format!(
                "a fault rule is {{\"route\", \"times\", \"action\": {{\"kind\", …}}}}: {e}"
            )),
        },
        (Method::DELETE, "faults") => {
            shared.faults.clear();
            ok()
        }
        (Method::PUT, "latency") => {
            #[derive(Deserialize)]
            struct Latency {
                route: String,
                ms: u64,
            }
            match serde_json::from_slice::<Latency>(body) {
                Ok(l) => {
                    lock(&shared.latency).insert(l.route, Duration::from_millis(l.ms));
                    ok()
                }
                Err(e) => bad(format!("latency is {{\"route\", \"ms\"}}: {e}")),
            }
        }
        (Method::POST, "revoke-tokens") => {
            shared.tokens.revoke();
            ok()
        }
        (Method::POST, "numbers") => {
            #[derive(Deserialize)]
            struct Numbers {
                customer_id: String,
                numbers: Vec<String>,
            }
            match serde_json::from_slice::<Numbers>(body) {
                Ok(n) => {
                    shared.add_numbers(&n.customer_id, &n.numbers);
                    ok()
                }
                Err(e) => bad(format!(
                    "numbers is {{\"customer_id\", \"numbers\": [..]}}: {e}"
                )),
            }
        }
        _ => json_response(
            404,
            &json!({"message": format!("no control command {method} {command}")}),
        ),
    }
}
