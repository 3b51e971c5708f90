//! Exports the smartcomm world, badly: `authenticate` never returns, `agents.get` allocates
//! until something stops it, and everything else traps. The host's tests load it to prove
//! that a guest cannot hang or exhaust the host.

wit_bindgen::generate!({
    path: "../../wit",
    world: "smartcomm",
});

use exports::intelepeer::smartcommunicator::{agents, inboxes, numbers, steps, types};

struct Guest;

export!(Guest);

struct Client;

impl types::Guest for Guest {
    type Client = Client;
}

impl types::GuestClient for Client {
    fn new(_: types::ClientConfig) -> Self {
        Client
    }

    fn authenticate(&self) -> Result<types::TokenInfo, types::Error> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

impl agents::Guest for Guest {
    fn onboard(
        _: types::ClientBorrow<'_>,
        _: Vec<agents::NewAgent>,
        _: agents::OnboardOptions,
    ) -> Result<Vec<types::ItemOutcome>, types::Error> {
        unimplemented!()
    }

    fn get(
        _: types::ClientBorrow<'_>,
        _: String,
        _: Option<types::KeyId>,
        _: Option<String>,
    ) -> Result<agents::Agent, types::Error> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
        }
    }

    fn list(
        _: types::ClientBorrow<'_>,
        _: agents::AgentFilter,
    ) -> Result<Vec<agents::Agent>, types::Error> {
        unimplemented!()
    }

    fn update(
        _: types::ClientBorrow<'_>,
        _: String,
        _: Option<types::KeyId>,
        _: agents::AgentChanges,
    ) -> Result<agents::Agent, types::Error> {
        unimplemented!()
    }

    fn update_many(
        _: types::ClientBorrow<'_>,
        _: Vec<agents::AgentUpdate>,
        _: Option<bool>,
    ) -> Result<Vec<agents::UpdateOutcome>, types::Error> {
        unimplemented!()
    }

    fn offboard(
        _: types::ClientBorrow<'_>,
        _: String,
        _: Option<types::KeyId>,
        _: Option<bool>,
    ) -> Result<String, types::Error> {
        unimplemented!()
    }

    fn offboard_many(
        _: types::ClientBorrow<'_>,
        _: Vec<agents::AgentSelector>,
        _: agents::OffboardOptions,
    ) -> Result<Vec<types::ItemOutcome>, types::Error> {
        unimplemented!()
    }
}

impl inboxes::Guest for Guest {
    fn create(
        _: types::ClientBorrow<'_>,
        _: Vec<inboxes::NewInbox>,
        _: Option<bool>,
    ) -> Result<Vec<types::ItemOutcome>, types::Error> {
        unimplemented!()
    }

    fn assign(
        _: types::ClientBorrow<'_>,
        _: Vec<inboxes::Assignment>,
    ) -> Result<Vec<types::ItemOutcome>, types::Error> {
        unimplemented!()
    }
}

impl numbers::Guest for Guest {
    fn list(
        _: types::ClientBorrow<'_>,
        _: Option<types::NumberStatus>,
        _: Option<String>,
    ) -> Result<Vec<numbers::NumberInfo>, types::Error> {
        unimplemented!()
    }
}

impl steps::Guest for Guest {
    fn onboard_agents(
        _: Vec<agents::NewAgent>,
        _: agents::OnboardOptions,
    ) -> Result<Vec<types::ItemOutcome>, steps::StepError> {
        unimplemented!()
    }

    fn get_agent(
        _: String,
        _: Option<types::KeyId>,
        _: Option<String>,
    ) -> Result<agents::Agent, steps::StepError> {
        unimplemented!()
    }

    fn list_agents(_: agents::AgentFilter) -> Result<Vec<agents::Agent>, steps::StepError> {
        unimplemented!()
    }

    fn update_agent(
        _: String,
        _: Option<types::KeyId>,
        _: agents::AgentChanges,
    ) -> Result<agents::Agent, steps::StepError> {
        unimplemented!()
    }

    fn update_agents(
        _: Vec<agents::AgentUpdate>,
        _: Option<bool>,
    ) -> Result<Vec<agents::UpdateOutcome>, steps::StepError> {
        unimplemented!()
    }

    fn offboard_agent(
        _: String,
        _: Option<types::KeyId>,
        _: Option<bool>,
    ) -> Result<String, steps::StepError> {
        unimplemented!()
    }

    fn offboard_agents(
        _: Vec<agents::AgentSelector>,
        _: agents::OffboardOptions,
    ) -> Result<Vec<types::ItemOutcome>, steps::StepError> {
        unimplemented!()
    }

    fn create_inboxes(
        _: Vec<inboxes::NewInbox>,
        _: Option<bool>,
    ) -> Result<Vec<types::ItemOutcome>, steps::StepError> {
        unimplemented!()
    }

    fn assign_inboxes(
        _: Vec<inboxes::Assignment>,
    ) -> Result<Vec<types::ItemOutcome>, steps::StepError> {
        unimplemented!()
    }

    fn list_numbers(
        _: Option<types::NumberStatus>,
        _: Option<String>,
    ) -> Result<Vec<numbers::NumberInfo>, steps::StepError> {
        unimplemented!()
    }
}
