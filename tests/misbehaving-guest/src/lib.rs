//! Exports the smartcomm world, badly: `authenticate` never returns, `agents.get-agent` allocates
//! until something stops it, `agents.list-agents` tries the network around wasi:http (a TCP
//! connection to the port its filter's `user-object-id` names, a UDP socket, a name lookup),
//! and everything else traps. The host's tests load it to prove
//! that a guest cannot hang or exhaust the host.

wit_bindgen::generate!({
    path: "../../wit",
    world: "smartcomm",
});

use exports::intelepeer::smartcommunicator::{
    agents, client, entra, inboxes, numbers, steps, sync, types,
};

struct Guest;

export!(Guest);

struct Client;

impl client::Guest for Guest {
    type Client = Client;
}

impl client::GuestClient for Client {
    fn new(_: client::ClientConfig) -> Self {
        Client
    }

    fn authenticate(&self) -> Result<client::TokenInfo, types::Error> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    fn stats(&self) -> client::ClientStats {
        unimplemented!()
    }
}

impl agents::Guest for Guest {
    fn onboard_agents(
        _: client::ClientBorrow<'_>,
        _: Vec<types::NewAgent>,
        _: types::OnboardOptions,
    ) -> Result<Vec<types::ItemOutcome>, types::Error> {
        unimplemented!()
    }

    fn get_agent(
        _: client::ClientBorrow<'_>,
        _: String,
        _: Option<types::KeyId>,
        _: Option<String>,
    ) -> Result<types::Agent, types::Error> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
        }
    }

    fn list_agents(
        _: client::ClientBorrow<'_>,
        filter: types::AgentFilter,
    ) -> Result<Vec<types::Agent>, types::Error> {
        let port: u16 = filter
            .user_object_id
            .and_then(|p| p.parse().ok())
            .unwrap_or(9);
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).map(drop);
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").map(drop);
        let lookup = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", port)).map(drop);
        Err(types::Error::Transport(types::Failure {
            message: format!("tcp: {tcp:?}; udp: {udp:?}; lookup: {lookup:?}"),
            attempts: 1,
        }))
    }

    fn update_agent(
        _: client::ClientBorrow<'_>,
        _: String,
        _: Option<types::KeyId>,
        _: types::AgentChanges,
    ) -> Result<types::Agent, types::Error> {
        unimplemented!()
    }

    fn update_agents(
        _: client::ClientBorrow<'_>,
        _: Vec<types::AgentUpdate>,
        _: types::UpdateOptions,
    ) -> Result<Vec<types::UpdateOutcome>, types::Error> {
        unimplemented!()
    }

    fn offboard_agent(
        _: client::ClientBorrow<'_>,
        _: String,
        _: Option<types::KeyId>,
        _: Option<bool>,
    ) -> Result<String, types::Error> {
        unimplemented!()
    }

    fn offboard_agents(
        _: client::ClientBorrow<'_>,
        _: Vec<types::AgentSelector>,
        _: types::OffboardOptions,
    ) -> Result<Vec<types::ItemOutcome>, types::Error> {
        unimplemented!()
    }
}

impl inboxes::Guest for Guest {
    fn create_inboxes(
        _: client::ClientBorrow<'_>,
        _: Vec<types::NewInbox>,
        _: types::CreateInboxesOptions,
    ) -> Result<Vec<types::ItemOutcome>, types::Error> {
        unimplemented!()
    }

    fn assign_inboxes(
        _: client::ClientBorrow<'_>,
        _: Vec<types::Assignment>,
    ) -> Result<Vec<types::ItemOutcome>, types::Error> {
        unimplemented!()
    }
}

impl numbers::Guest for Guest {
    fn list_numbers(
        _: client::ClientBorrow<'_>,
        _: Option<types::NumberStatus>,
        _: Option<String>,
    ) -> Result<Vec<types::NumberInfo>, types::Error> {
        unimplemented!()
    }
}

impl steps::Guest for Guest {
    fn onboard_agents(
        _: Vec<types::NewAgent>,
        _: types::OnboardOptions,
    ) -> Result<Vec<types::ItemOutcome>, steps::StepError> {
        unimplemented!()
    }

    fn get_agent(
        _: String,
        _: Option<types::KeyId>,
        _: Option<String>,
    ) -> Result<types::Agent, steps::StepError> {
        unimplemented!()
    }

    fn list_agents(_: types::AgentFilter) -> Result<Vec<types::Agent>, steps::StepError> {
        unimplemented!()
    }

    fn update_agent(
        _: String,
        _: Option<types::KeyId>,
        _: types::AgentChanges,
    ) -> Result<types::Agent, steps::StepError> {
        unimplemented!()
    }

    fn update_agents(
        _: Vec<types::AgentUpdate>,
        _: types::UpdateOptions,
    ) -> Result<Vec<types::UpdateOutcome>, steps::StepError> {
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
        _: Vec<types::AgentSelector>,
        _: types::OffboardOptions,
    ) -> Result<Vec<types::ItemOutcome>, steps::StepError> {
        unimplemented!()
    }

    fn create_inboxes(
        _: Vec<types::NewInbox>,
        _: types::CreateInboxesOptions,
    ) -> Result<Vec<types::ItemOutcome>, steps::StepError> {
        unimplemented!()
    }

    fn assign_inboxes(
        _: Vec<types::Assignment>,
    ) -> Result<Vec<types::ItemOutcome>, steps::StepError> {
        unimplemented!()
    }

    fn list_numbers(
        _: Option<types::NumberStatus>,
        _: Option<String>,
    ) -> Result<Vec<types::NumberInfo>, steps::StepError> {
        unimplemented!()
    }
}

impl sync::Guest for Guest {
    fn plan(
        _: Vec<types::DesiredAgent>,
        _: types::PlanOptions,
    ) -> Result<types::SyncPlan, steps::StepError> {
        unimplemented!()
    }

    fn apply(
        _: types::SyncPlan,
        _: types::ApplyOptions,
    ) -> Result<types::ApplyReport, steps::StepError> {
        unimplemented!()
    }
}

impl entra::Guest for Guest {
    fn read_group(
        _: String,
        _: String,
        _: entra::RosterMapping,
        _: Vec<entra::RosterExtra>,
    ) -> Result<entra::GroupRoster, steps::StepError> {
        unimplemented!()
    }
}
