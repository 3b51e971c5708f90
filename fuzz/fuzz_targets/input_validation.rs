//! Any input either validates and builds a request the API allows, or is refused with
//! problems that each name a field: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartcomm::model::*;
use smartcomm::request::Requests;
use smartcomm::validate;

fn check(result: Result<(), Vec<smartcomm::error::Problem>>) -> bool {
    match result {
        Ok(()) => true,
        Err(problems) => {
            assert!(!problems.is_empty());
            assert!(problems.iter().all(|p| !p.field.is_empty() && !p.message.is_empty()));
            false
        }
    }
}

fn body_round_trips<T: serde::de::DeserializeOwned>(request: smartcomm::request::ApiRequest) {
    let body = request.body.clone().expect("batch requests have a body");
    serde_json::from_str::<T>(&body).expect("a body we build parses back");
    assert!(request.path.starts_with('/'));
    let line = request.path_and_query();
    assert!(line.bytes().all(|b| b.is_ascii_graphic()), "{line}");
}

fuzz_target!(|data: &[u8]| {
    let requests = Requests::new(&String::from_utf8_lossy(data.get(..8).unwrap_or(data)));
    if let Ok(agents) = serde_json::from_slice::<Vec<NewAgent>>(data) {
        if check(validate::onboard_agents(&agents)) {
            for agent in &agents {
                assert!(agent.number_provisioning.len() <= 2);
                assert!(agent.number_provisioning.iter().all(|p| validate::is_e164(&p.phone_number)));
            }
            body_round_trips::<Vec<NewAgent>>(requests.onboard_agents(&agents, Some(true), None));
        }
    }
    if let Ok(updates) = serde_json::from_slice::<Vec<AgentUpdate>>(data) {
        if check(validate::update_agents(&updates)) {
            body_round_trips::<Vec<AgentUpdate>>(requests.update_agents(&updates, None));
        }
    }
    if let Ok(changes) = serde_json::from_slice::<AgentChanges>(data) {
        let id = String::from_utf8_lossy(data.get(..16).unwrap_or(data)).into_owned();
        if check(validate::update_agent(&id, Some(KeyId::Id), &changes)) {
            body_round_trips::<AgentChanges>(requests.update_agent(&id, Some(KeyId::Id), &changes));
        }
    }
    if let Ok(items) = serde_json::from_slice::<Vec<OffboardItem>>(data) {
        if check(validate::offboard_agents(&items)) {
            body_round_trips::<Vec<OffboardItem>>(requests.offboard_agents(&items, None, Some(true)));
        }
    }
    if let Ok(inboxes) = serde_json::from_slice::<Vec<NewInbox>>(data) {
        if check(validate::create_inboxes(&inboxes)) {
            body_round_trips::<Vec<NewInbox>>(requests.create_inboxes(&inboxes, None));
        }
    }
    if let Ok(assignments) = serde_json::from_slice::<Vec<Assignment>>(data) {
        if check(validate::assign_inboxes(&assignments)) {
            body_round_trips::<Vec<Assignment>>(requests.assign_inboxes(&assignments));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if check(validate::list_numbers(Some(text))) {
            assert!(text.bytes().all(|b| b.is_ascii_digit()));
        }
        let _ = check(validate::get_agent(text, Some(KeyId::Upn), Some(text)));
        let line = requests.get_agent(text, Some(KeyId::Upn), Some(text)).path_and_query();
        assert!(line.bytes().all(|b| b.is_ascii_graphic()), "{line}");
    }
});
