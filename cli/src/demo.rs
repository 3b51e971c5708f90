//! `smartcomm demo`: a short story through the real component against an in-process emulator.

use smartcomm_emulator::{Emulator, EmulatorOptions};
use smartcomm_host::{Auth, CallError, Config, Operations, Runtime, convert, types};
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
        tenant_id: "80573892-bfe7-40c8-bd85-2b479110b2df".into(),
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

/// Runs the story, printing each step to `out`.
pub async fn run(runtime: &Runtime, out: &mut impl Write) -> anyhow::Result<()> {
    let emulator = Emulator::start(EmulatorOptions::default()).await?;
    writeln!(
        out,
        "Emulator listening on {} (user {})",
        emulator.base_url(),
        emulator.username()
    )?;
    let mut config = Config::new(
        CUSTOMER,
        Auth::Credentials {
            username: emulator.username().into(),
            password: emulator.password().into(),
        },
    );
    config.api_url = Some(emulator.base_url());
    config.auth_url = Some(emulator.auth_url());
    let mut session = runtime.session(config);

    step(out, "Authenticate")?;
    let token = check(session.authenticate().await)?;
    writeln!(
        out,
        "  token valid until {} (Unix time); the token itself is never shown",
        token.expires_at.unwrap_or_default()
    )?;

    step(
        out,
        "Onboard two agents: Ada with a messaging and a supervised number, Grace with a messaging number",
    )?;
    let free = check(
        session
            .list_numbers(Some(types::NumberStatus::Active), None)
            .await,
    )?;
    let [n1, n2, n3, n4, ..] = free.as_slice() else {
        anyhow::bail!("the emulator has too few numbers");
    };
    let provision = |t, number: &str| types::NumberProvisioning {
        type_: t,
        phone_number: number.into(),
        supervisors: None,
    };
    let ada = "17c528d0-dcfa-49bf-bb2b-8955bf377e5a";
    let grace = "6409c0b8-cfb8-4f18-accf-f44184a299c3";
    let outcomes = check(
        session
            .onboard_agents(
                vec![
                    new_agent(
                        ada,
                        "Ada Lovelace",
                        "ada@acme.example",
                        vec![
                            provision(types::NumberType::Messaging, &n1.number),
                            provision(types::NumberType::Supervised, &n2.number),
                        ],
                    ),
                    new_agent(
                        grace,
                        "Grace Hopper",
                        "grace@acme.example",
                        vec![provision(types::NumberType::Messaging, &n3.number)],
                    ),
                ],
                types::OnboardOptions {
                    continue_on_error: None,
                    reassign_inbox: None,
                },
            )
            .await,
    )?;
    for (i, o) in outcomes.iter().enumerate() {
        writeln!(out, "  agent {i}: {}", outcome(o))?;
    }

    step(out, "Get Ada by upn")?;
    let agent = check(
        session
            .get_agent("ada@acme.example".into(), Some(types::KeyId::Upn), None)
            .await,
    )?;
    writeln!(
        out,
        "  {} — roles {} — {}",
        agent.name.clone().unwrap_or_default(),
        roles_of(&agent.roles),
        numbers_of(&agent)
    )?;

    step(out, "List the agents of their tenant")?;
    let all = check(
        session
            .list_agents(types::AgentFilter {
                user_object_id: None,
                tenant_id: Some("80573892-bfe7-40c8-bd85-2b479110b2df".into()),
                consistency_id: None,
                phone_number: None,
                upn: None,
            })
            .await,
    )?;
    for a in &all {
        writeln!(
            out,
            "  {} <{}>",
            a.name.clone().unwrap_or_default(),
            a.upn.clone().unwrap_or_default()
        )?;
    }

    step(out, "Promote Grace to manager and move her to Support")?;
    let updated = check(
        session
            .update_agent(
                grace.into(),
                None,
                types::AgentChanges {
                    department: Some("Support".into()),
                    roles: Some(types::RoleChanges {
                        assign: vec![types::Role::Manager],
                        remove: vec![],
                    }),
                    ..no_changes()
                },
            )
            .await,
    )?;
    writeln!(
        out,
        "  {} is now in {} with roles {}",
        updated.name.unwrap_or_default(),
        updated.department.unwrap_or_default(),
        roles_of(&updated.roles)
    )?;

    step(out, "Create a shared inbox and assign both agents")?;
    let created = check(
        session
            .create_inboxes(
                vec![types::NewInbox {
                    name: "Store 1234 front desk".into(),
                    type_: types::InboxType::Shared,
                    phone_number: n4.number.clone(),
                    owner: None,
                    users: types::AgentSelector {
                        identifier: types::IdentifierKind::UserObjectId,
                        values: vec![ada.into()],
                    },
                }],
                types::CreateInboxesOptions {
                    continue_on_error: None,
                },
            )
            .await,
    )?;
    writeln!(out, "  inbox {}: {}", n4.number, outcome(&created[0]))?;
    let assigned = check(
        session
            .assign_inboxes(vec![types::Assignment {
                inbox: types::InboxRef {
                    type_: types::InboxType::Shared,
                    identifier: types::IdentifierKind::PhoneNumber,
                    value: n4.number.clone(),
                },
                agents: types::AgentSelector {
                    identifier: types::IdentifierKind::Upn,
                    values: vec!["grace@acme.example".into()],
                },
                operation: types::AssignmentOperation::Add,
            }])
            .await,
    )?;
    writeln!(out, "  assign Grace: {}", outcome(&assigned[0]))?;

    step(out, "Numbers now assigned")?;
    for n in check(
        session
            .list_numbers(Some(types::NumberStatus::Assigned), None)
            .await,
    )? {
        let who = n.assigned_to.and_then(|a| a.name).unwrap_or_default();
        writeln!(out, "  {} → {who}", n.number)?;
    }

    step(out, "A bad phone number is caught before anything is sent")?;
    match session
        .onboard_agents(
            vec![new_agent(
                "x-1",
                "Typo",
                "typo@acme.example",
                vec![provision(types::NumberType::Messaging, "555-0100")],
            )],
            types::OnboardOptions {
                continue_on_error: None,
                reassign_inbox: None,
            },
        )
        .await
    {
        Err(e @ CallError::Api(types::Error::InvalidInput(_))) => writeln!(out, "  {e}")?,
        other => anyhow::bail!("expected invalid input, got {other:?}"),
    }

    step(
        out,
        "Offboard both agents, releasing Ada's supervised inbox",
    )?;
    let offboarded = check(
        session
            .offboard_agents(
                vec![types::AgentSelector {
                    identifier: types::IdentifierKind::UserObjectId,
                    values: vec![ada.into(), grace.into()],
                }],
                types::OffboardOptions {
                    continue_on_error: None,
                    deprovision_supervised_inbox: Some(true),
                },
            )
            .await,
    )?;
    writeln!(out, "  {}", outcome(&offboarded[0]))?;
    let free_after = check(
        session
            .list_numbers(Some(types::NumberStatus::Active), None)
            .await,
    )?;
    writeln!(
        out,
        "  free numbers: {} before onboarding, {} now (the shared inbox keeps its number)",
        free.len(),
        free_after.len()
    )?;

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

fn no_changes() -> types::AgentChanges {
    smartcomm::model::AgentChanges::default().into()
}
