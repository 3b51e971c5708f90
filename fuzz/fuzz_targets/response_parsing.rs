//! Any answer, whatever its status and body, is read into a value or an error: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartcomm::response::{self, RawResponse};

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]) % 600, rest),
        _ => (200, data),
    };
    let resp = RawResponse {
        status,
        content_type: Some("application/json".into()),
        retry_after: std::str::from_utf8(body).ok().map(str::to_string),
        body: body.to_vec(),
    };
    let now = 1_800_000_000;
    let _ = response::agent(&resp, now);
    let _ = response::agent_list(&resp, now);
    let _ = response::numbers(&resp, now);
    let _ = response::batch(&resp, now);
    let _ = response::batch_body(body);
    let _ = response::token(&resp, now);
    let _ = response::message(&resp, now);
    let error = response::error_for(&resp, now);
    let _ = error.to_string();
    let _ = response::retry_after_seconds(resp.retry_after.as_deref(), now);
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = response::jwt_expiry(text);
    }
    for keep_going in [false, true] {
        let _ = smartcomm::batch::chunk_outcomes(10, Ok(resp.clone()), keep_going, now, |_, _| ());
    }
});
