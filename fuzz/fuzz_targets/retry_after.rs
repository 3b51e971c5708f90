//! `Retry-After` as any server may send it, measured against any clock: never a panic, and a
//! value that reads as a date is no further ahead than the date it names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartcomm::response::retry_after_seconds;

fuzz_target!(|data: &[u8]| {
    let (now, header) = match data {
        [a, b, c, d, e, f, g, h, rest @ ..] => {
            (u64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h]), rest)
        }
        _ => (0, data),
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };
    let seconds = retry_after_seconds(Some(header), now);
    if let Ok(at) = httpdate::parse_http_date(header.trim()) {
        let at = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let expected = u32::try_from(at.saturating_sub(now)).unwrap_or(u32::MAX);
        assert_eq!(seconds, Some(expected), "{header:?} at {now}");
    }
});
