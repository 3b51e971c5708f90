//! An agent's key is the user's Entra object id (`user_object_id`): the bridge takes as a key
//! only what has that form, a GUID. Any other string would be trusted as someone's identity:
//! Entra's default mapping sends `mailNickname` as `externalId`, and Okta sends its own user
//! id unless told otherwise, so a new hire who reuses a leaver's nickname would match, and
//! reactivate, the leaver's agent.

use crate::error::ScimError;

/// An Entra object id, as an example in messages.
pub const EXAMPLE: &str = "2819c223-7f76-453a-919d-413861904646";

/// What the administrator maps to `externalId` in each identity provider.
pub const MAPPING_TO_FIX: &str = "map the user's Entra object id to externalId (Entra ID: \
    objectId → externalId; Okta: a profile attribute that holds the Entra object id → \
    externalId)";

/// Whether `text` has the form of an Entra object id: 32 hexadecimal digits in groups of 8,
/// 4, 4, 4 and 12, joined by hyphens.
pub fn is_object_id(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The key `value` names, in the lower case Entra writes object ids in; anything else is a
/// 400 that names `attribute` and the mapping to fix.
pub fn object_id(attribute: &str, value: &str) -> Result<String, ScimError> {
    if is_object_id(value) {
        return Ok(value.to_ascii_lowercase());
    }
    Err(ScimError::invalid_value(format!(
        "{attribute} {} is not an Entra object id (a GUID such as {EXAMPLE}): {MAPPING_TO_FIX}",
        shown(value)
    )))
}

/// A path's id as a key: `None` when it cannot be one, so that no agent is looked up by it.
pub fn path_id(id: &str) -> Option<String> {
    is_object_id(id).then(|| id.to_ascii_lowercase())
}

/// A value quoted for a message, cut short: a message never carries a whole body.
fn shown(value: &str) -> String {
    const MOST: usize = 80;
    let quoted = format!("{value:?}");
    match quoted.char_indices().nth(MOST) {
        Some((cut, _)) => format!("{}…", &quoted[..cut]),
        None => quoted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_guids_in_any_letter_case_kept_in_lower_case() {
        assert!(is_object_id(EXAMPLE));
        assert_eq!(
            object_id("externalId", "2819C223-7F76-453A-919D-413861904646").unwrap(),
            EXAMPLE
        );
        for not_one in [
            "",
            "jyoung",
            "00ujl29u0le5T6Aj10h7",
            "2819c223-7f76-453a-919d-41386190464",
            "2819c223-7f76-453a-919d-4138619046460",
            "2819c2237f76453a919d413861904646",
            "{2819c223-7f76-453a-919d-413861904646}",
            "2819c223-7f76-453a-919d-41386190464g",
            "2819c223-7f76-453a-919d-413861904646-",
            "2819c223--7f76-453a-919d-413861904646",
        ] {
            assert!(!is_object_id(not_one), "{not_one:?}");
        }
    }

    #[test]
    fn a_key_of_another_form_names_the_attribute_and_the_mapping_to_fix() {
        let refused = object_id("externalId", "00ujl29u0le5T6Aj10h7").unwrap_err();
        assert_eq!(refused.status, 400);
        assert!(
            refused
                .detail
                .starts_with("externalId \"00ujl29u0le5T6Aj10h7\"")
        );
        assert!(refused.detail.contains("objectId → externalId"));
        let long = "x".repeat(10_000);
        assert!(object_id("externalId", &long).unwrap_err().detail.len() < 400);
    }
}
