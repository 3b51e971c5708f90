//! Any text is a filter of `eq` comparisons joined by `and`, or a refusal that says why:
//! never a panic, and never more comparisons than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartcomm_scim::filter::{MAX_TERMS, parse_filter};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_filter(&text) {
        Ok(comparisons) => {
            assert!(!comparisons.is_empty() && comparisons.len() <= MAX_TERMS);
            for c in comparisons {
                assert!(!c.path.name.is_empty());
                assert_eq!(c.path.name, c.path.name.to_ascii_lowercase());
            }
        }
        Err(refused) => assert!(!refused.0.is_empty()),
    }
});
