//! `smartcomm demo`: a short story through the real component against an in-process emulator.

use smartcomm_emulator::{Emulator, EmulatorOptions};
use smartcomm_host::{Auth, CallError, Config, Operations, Runtime, Session, convert, types};
use std::io::Write;

const CUSTOMER: &str = "demo-customer";

fn check<T>(result: Result<T, CallError>) -> anyhow::Result<T> {
    result.map_err(|e| anyhow::anyhow!("{e}"))
}

fn step(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    writeln!(out, "\n▸ {text}")
}

fn new_agent(
    uoid: &str,
    name: &str,
    upn: &str,
    numbers: Vec<types::NumberProvisioning>,
) -> types::NewAgent {
    types::NewAgent {
        user_object_id: uoid.into(),
        tenant_id: TENANT.into(),
        name: name.into(),
        upn: Some(upn.into()),
        consistency_id: None,
        brand_name: Some("Acme Stores".into()),
        department: Some("Sales".into()),
        region: Some("US-West".into()),
        state: Some("CA".into()),
        district: None,
        store: Some("1234".into()),
        city: Some("Los Angeles".into()),
        zip_code: Some("90210".into()),
        roles: None,
        number_provisioning: numbers,
        enabled_services: None,
    }
}

fn roles_of(roles: &[types::Role]) -> String {
    let names: Vec<&str> = roles
        .iter()
        .map(|r| smartcomm::model::Role::from(*r).as_str())
        .collect();
    names.join(", ")
}

fn outcome(o: &types::ItemOutcome) -> String {
    match o {
        types::ItemOutcome::Succeeded => "succeeded".into(),
        types::ItemOutcome::AlreadyDone(found) => format!("already done ({found})"),
        types::ItemOutcome::Rejected(messages) => format!("rejected: {}", messages.join("; ")),
        types::ItemOutcome::Failed(e) => format!("failed: {}", convert::describe_error(e)),
        types::ItemOutcome::NotAttempted => "not attempted".into(),
    }
}

fn numbers_of(agent: &types::Agent) -> String {
    agent
        .phone_numbers
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p.value,
                if p.type_ == types::NumberType::Messaging {
                    "(messaging)"
                } else {
                    "(supervised)"
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const TENANT: &str = "80573892-bfe7-40c8-bd85-2b479110b2df";
const ADA: &str = "17c528d0-dcfa-49bf-bb2b-8955bf377e5a";
const GRACE: &str = "6409c0b8-cfb8-4f18-accf-f44184a299c3";

fn provision(type_: types::NumberType, number: &str) -> types::NumberProvisioning {
    types::NumberProvisioning {
        type_,
        phone_number: number.into(),
        supervisors: None,
    }
}

fn onboard_options() -> types::OnboardOptions {
    types::OnboardOptions {
        continue_on_error: None,
        reassign_inbox: None,
    }
}

/// Runs the story, printing each step to `out`.
pub async fn run(runtime: &Runtime, out: &mut impl Write) -> anyhow::Result<()> {
    let emulator = Emulator::start(EmulatorOptions::default()).await?;
    writeln!(
        out,
        "Emulator listening on {} (user {})",
        emulator.base_url(),
        emulator.username()
    )?;
    let mut session = runtime.session(demo_config(&emulator));
    let mut story = Story {
        session: &mut session,
        out,
    };
    story.authenticate().await?;
    let free = story.onboard_ada_and_grace().await?;
    story.get_and_list().await?;
    story.promote_grace().await?;
    let inbox_number = &free[3].number;
    story.share_an_inbox(inbox_number).await?;
    story.show_assigned_numbers().await?;
    story.refuse_a_bad_number().await?;
    story.offboard_both(free.len()).await?;

    let requests = emulator.requests();
    writeln!(
        out,
        "\nDone: {} HTTP requests, {} of them to authenticate.",
        requests.len(),
        requests
            .iter()
            .filter(|r| r.route.ends_with("/authenticate"))
            .count()
    )?;
    Ok(())
}

fn demo_config(emulator: &Emulator) -> Config {
    let mut config = Config::new(
        CUSTOMER,
        Auth::Credentials {
            username: emulator.username().into(),
            password: emulator.password().into(),
        },
    );
    config.api_url = Some(emulator.base_url());
    config.auth_url = Some(emulator.auth_url());
    config
}

/// The story's steps, in the order `run` tells them.
struct Story<'a, W> {
    session: &'a mut Session,
    out: &'a mut W,
}

impl<W: Write> Story<'_, W> {
    async fn authenticate(&mut self) -> anyhow::Result<()> {
        step(self.out, "Authenticate")?;
        let token = check(self.session.authenticate().await)?;
        writeln!(
            self.out,
            "  token valid until {} (Unix time); the token itself is never shown",
            token.expires_at.unwrap_or_default()
        )?;
        Ok(())
    }

    /// Onboards the two agents on the first three free numbers, and returns the numbers that
    /// were free before.
    async fn onboard_ada_and_grace(&mut self) -> anyhow::Result<Vec<types::NumberInfo>> {
        step(
            self.out,
            "Onboard two agents: Ada with a messaging and a supervised number, Grace with a messaging number",
        )?;
        let free = check(
            self.session
                .list_numbers(Some(types::NumberStatus::Active), None)
                .await,
        )?;
        let [n1, n2, n3, _, ..] = free.as_slice() else {
            anyhow::bail!("the emulator has too few numbers");
        };
        let agents = vec![
            new_agent(
                ADA,
                "Ada Lovelace",
                "ada@acme.example",
                vec![
                    provision(types::NumberType::Messaging, &n1.number),
                    provision(types::NumberType::Supervised, &n2.number),
                ],
            ),
            new_agent(
                GRACE,
                "Grace Hopper",
                "grace@acme.example",
                vec![provision(types::NumberType::Messaging, &n3.number)],
            ),
        ];
        let outcomes = check(self.session.onboard_agents(agents, onboard_options()).await)?;
        for (i, o) in outcomes.iter().enumerate() {
            writeln!(self.out, "  agent {i}: {}", outcome(o))?;
        }
        Ok(free)
    }

    async fn get_and_list(&mut self) -> anyhow::Result<()> {
        step(self.out, "Get Ada by upn")?;
        let agent = check(
            self.session
                .get_agent("ada@acme.example".into(), Some(types::KeyId::Upn), None)
                .await,
        )?;
        writeln!(
            self.out,
            "  {} — roles {} — {}",
            agent.name.clone().unwrap_or_default(),
            roles_of(&agent.roles),
            numbers_of(&agent)
        )?;

        step(self.out, "List the agents of their tenant")?;
        let filter = types::AgentFilter {
            user_object_id: None,
            tenant_id: Some(TENANT.into()),
            consistency_id: None,
            phone_number: None,
            upn: None,
        };
        for a in check(self.session.list_agents(filter).await)? {
            writeln!(
                self.out,
                "  {} <{}>",
                a.name.unwrap_or_default(),
                a.upn.unwrap_or_default()
            )?;
        }
        Ok(())
    }

    async fn promote_grace(&mut self) -> anyhow::Result<()> {
        step(self.out, "Promote Grace to manager and move her to Support")?;
        let changes = types::AgentChanges {
            department: Some("Support".into()),
            roles: Some(types::RoleChanges {
                assign: vec![types::Role::Manager],
                remove: vec![],
            }),
            ..no_changes()
        };
        let updated = check(self.session.update_agent(GRACE.into(), None, changes).await)?;
        writeln!(
            self.out,
            "  {} is now in {} with roles {}",
            updated.name.unwrap_or_default(),
            updated.department.unwrap_or_default(),
            roles_of(&updated.roles)
        )?;
        Ok(())
    }

    async fn share_an_inbox(&mut self, number: &str) -> anyhow::Result<()> {
        step(self.out, "Create a shared inbox and assign both agents")?;
        let inbox = types::NewInbox {
            name: "Store 1234 front desk".into(),
            type_: types::InboxType::Shared,
            phone_number: number.into(),
            owner: None,
            users: types::AgentSelector {
                identifier: types::IdentifierKind::UserObjectId,
                values: vec![ADA.into()],
            },
        };
        let options = types::CreateInboxesOptions {
            continue_on_error: None,
        };
        let created = check(self.session.create_inboxes(vec![inbox], options).await)?;
        writeln!(self.out, "  inbox {number}: {}", outcome(&created[0]))?;
        let assignment = types::Assignment {
            inbox: types::InboxRef {
                type_: types::InboxType::Shared,
                identifier: types::IdentifierKind::PhoneNumber,
                value: number.into(),
            },
            agents: types::AgentSelector {
                identifier: types::IdentifierKind::Upn,
                values: vec!["grace@acme.example".into()],
            },
            operation: types::AssignmentOperation::Add,
        };
        let assigned = check(self.session.assign_inboxes(vec![assignment]).await)?;
        writeln!(self.out, "  assign Grace: {}", outcome(&assigned[0]))?;
        Ok(())
    }

    async fn show_assigned_numbers(&mut self) -> anyhow::Result<()> {
        step(self.out, "Numbers now assigned")?;
        let assigned = self
            .session
            .list_numbers(Some(types::NumberStatus::Assigned), None)
            .await;
        for n in check(assigned)? {
            let who = n.assigned_to.and_then(|a| a.name).unwrap_or_default();
            writeln!(self.out, "  {} → {who}", n.number)?;
        }
        Ok(())
    }

    async fn refuse_a_bad_number(&mut self) -> anyhow::Result<()> {
        step(
            self.out,
            "A bad phone number is caught before anything is sent",
        )?;
        let typo = new_agent(
            "x-1",
            "Typo",
            "typo@acme.example",
            vec![provision(types::NumberType::Messaging, "555-0100")],
        );
        match self
            .session
            .onboard_agents(vec![typo], onboard_options())
            .await
        {
            Err(e @ CallError::Api(types::Error::InvalidInput(_))) => writeln!(self.out, "  {e}")?,
            other => anyhow::bail!("expected invalid input, got {other:?}"),
        }
        Ok(())
    }

    async fn offboard_both(&mut self, free_before: usize) -> anyhow::Result<()> {
        step(
            self.out,
            "Offboard both agents, releasing Ada's supervised inbox",
        )?;
        let both = types::AgentSelector {
            identifier: types::IdentifierKind::UserObjectId,
            values: vec![ADA.into(), GRACE.into()],
        };
        let options = types::OffboardOptions {
            continue_on_error: None,
            deprovision_supervised_inbox: Some(true),
        };
        let offboarded = check(self.session.offboard_agents(vec![both], options).await)?;
        writeln!(self.out, "  {}", outcome(&offboarded[0]))?;
        let free_after = check(
            self.session
                .list_numbers(Some(types::NumberStatus::Active), None)
                .await,
        )?;
        writeln!(
            self.out,
            "  free numbers: {free_before} before onboarding, {} now (the shared inbox keeps its number)",
            free_after.len()
        )?;
        Ok(())
    }
}

fn no_changes() -> types::AgentChanges {
    smartcomm::model::AgentChanges::default().into()
}
