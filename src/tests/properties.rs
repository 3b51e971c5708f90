//! Property tests: any input either validates and yields requests the API allows, or is
//! refused with problems naming an item and a field. Never a panic.

use crate::batch::chunks;
use crate::model::*;
use crate::request::{Requests, percent_encode};
use crate::validate::{self, MAX_BATCH, is_e164};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9@.-]{1,12}",
        Just(String::new()),
        Just("  ".to_string()),
        ".{0,8}",
    ]
}

fn phone() -> impl Strategy<Value = String> {
    prop_oneof!["\\+[1-9][0-9]{1,14}", "\\+?[0-9 -]{0,17}", ".{0,6}"]
}

fn number_type() -> impl Strategy<Value = NumberType> {
    prop_oneof![Just(NumberType::Messaging), Just(NumberType::Supervised)]
}

fn identifier() -> impl Strategy<Value = IdentifierKind> {
    prop_oneof![
        Just(IdentifierKind::UserObjectId),
        Just(IdentifierKind::ConsistencyId),
        Just(IdentifierKind::Upn),
        Just(IdentifierKind::TenantId),
        Just(IdentifierKind::PhoneNumber),
    ]
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Member), Just(Role::Manager), Just(Role::Admin)]
}

fn selector() -> impl Strategy<Value = Selector> {
    (identifier(), prop::collection::vec(text(), 0..3))
        .prop_map(|(identifier, values)| Selector { identifier, values })
}

fn new_agent() -> impl Strategy<Value = NewAgent> {
    let provisioning = (number_type(), phone(), prop::option::of(selector())).prop_map(
        |(number_type, phone_number, supervisors)| NumberProvisioning {
            number_type,
            phone_number,
            supervisors,
        },
    );
    (
        text(),
        text(),
        text(),
        prop::option::of(text()),
        prop::option::of(prop::collection::vec(role(), 0..3)),
        prop::collection::vec(provisioning, 0..4),
    )
        .prop_map(
            |(user_object_id, tenant_id, name, upn, roles, number_provisioning)| NewAgent {
                user_object_id,
                tenant_id,
                name,
                upn,
                roles,
                number_provisioning,
                ..Default::default()
            },
        )
}

fn new_inbox() -> impl Strategy<Value = NewInbox> {
    (
        text(),
        prop_oneof![Just(InboxType::Shared), Just(InboxType::Supervised)],
        phone(),
        prop::option::of(
            (identifier(), text()).prop_map(|(identifier, value)| AgentRef { identifier, value }),
        ),
        selector(),
    )
        .prop_map(|(name, inbox_type, phone_number, owner, users)| NewInbox {
            name,
            inbox_type,
            phone_number,
            owner,
            users,
        })
}

fn assert_problems_name_items(problems: &[crate::error::Problem], len: usize) {
    assert!(!problems.is_empty());
    for p in problems {
        assert!(!p.field.is_empty() && !p.message.is_empty(), "{p:?}");
        assert!(p.index.is_none_or(|i| i < len), "{p:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn onboard_input_is_either_sendable_or_refused_with_named_problems(
        agents in prop::collection::vec(new_agent(), 0..25)
    ) {
        match validate::onboard_agents(&agents) {
            Ok(()) => {
                let requests = Requests::new("c");
                for (offset, chunk) in chunks(&agents) {
                    prop_assert!(chunk.len() <= MAX_BATCH);
                    let body = requests.onboard_agents(chunk, None, None).body.unwrap();
                    let sent: Vec<NewAgent> = serde_json::from_str(&body).unwrap();
                    prop_assert_eq!(&sent[..], &agents[offset..offset + chunk.len()]);
                }
                for agent in &agents {
                    prop_assert!(!agent.user_object_id.trim().is_empty() && !agent.name.trim().is_empty());
                    prop_assert!(agent.number_provisioning.len() <= 2);
                    for p in &agent.number_provisioning {
                        prop_assert!(is_e164(&p.phone_number));
                        prop_assert!(p.supervisors.is_none() || p.number_type == NumberType::Supervised);
                    }
                    let types: Vec<_> = agent.number_provisioning.iter().map(|p| p.number_type).collect();
                    prop_assert!(types.len() < 2 || types[0] != types[1]);
                }
            }
            Err(problems) => assert_problems_name_items(&problems, agents.len()),
        }
    }

    #[test]
    fn inbox_input_is_either_sendable_or_refused_with_named_problems(
        inboxes in prop::collection::vec(new_inbox(), 0..12)
    ) {
        match validate::create_inboxes(&inboxes) {
            Ok(()) => {
                for inbox in &inboxes {
                    prop_assert!(is_e164(&inbox.phone_number));
                    prop_assert_eq!(inbox.owner.is_some(), inbox.inbox_type == InboxType::Supervised);
                    prop_assert!(!inbox.users.values.is_empty());
                    prop_assert!(inbox.users.identifier != IdentifierKind::TenantId);
                }
            }
            Err(problems) => assert_problems_name_items(&problems, inboxes.len()),
        }
    }

    #[test]
    fn offboard_input_is_either_sendable_or_refused(
        items in prop::collection::vec((identifier(), prop::collection::vec(text(), 0..3)), 0..12)
    ) {
        let items: Vec<OffboardItem> = items.into_iter().map(|(identifier, value)| OffboardItem { identifier, value }).collect();
        match validate::offboard_agents(&items) {
            Ok(()) => {
                for item in &items {
                    prop_assert!(item.identifier != IdentifierKind::PhoneNumber);
                    prop_assert!(!item.value.is_empty() && item.value.iter().all(|v| !v.trim().is_empty()));
                }
            }
            Err(problems) => assert_problems_name_items(&problems, items.len()),
        }
    }

    #[test]
    fn match_validates_exactly_when_it_is_1_to_11_digits(digits in ".{0,14}") {
        let valid = (1..=11).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        prop_assert_eq!(validate::list_numbers(Some(&digits)).is_ok(), valid);
    }

    #[test]
    fn path_segments_are_encoded_and_decode_back(id in ".{0,20}") {
        let encoded = percent_encode(&id);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        let request = Requests::new("c").get_agent(&id, Some(KeyId::Upn), Some(&id));
        prop_assert!(request.path_and_query().bytes().all(|b| b.is_ascii_graphic()));
        let mut decoded = Vec::new();
        let bytes = encoded.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                decoded.push(u8::from_str_radix(&encoded[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
        prop_assert_eq!(String::from_utf8(decoded).unwrap(), id);
    }
}

proptest! {
    /// `Retry-After` as servers send it, and as they should not: never a panic, and a date
    /// written from a time gives back the seconds to it.
    #[test]
    fn retry_after_is_read_whatever_it_holds(
        header in prop_oneof![
            ".{0,40}",
            "[0-9]{1,30}",
            "(Mon|Sun|Xyz), [0-9]{1,3} (Jan|Feb|Nov|Foo) [0-9]{1,5} [0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3} (GMT|UTC)",
        ],
        now in any::<u64>(),
    ) {
        let _ = crate::response::retry_after_seconds(Some(&header), now);
    }

    #[test]
    fn an_http_date_gives_the_seconds_until_it(at in 0u64..253_402_300_799, now in 0u64..253_402_300_799) {
        let date = httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at));
        let expected = u32::try_from(at.saturating_sub(now)).unwrap_or(u32::MAX);
        prop_assert_eq!(crate::response::retry_after_seconds(Some(&date), now), Some(expected));
    }
}
