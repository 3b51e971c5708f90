//! `smartcomm`: manage SmartCommunicator users from the command line, through the component.
//! This file only dispatches: each command lives in `commands/`.

// The step error (`steps::StepError`) is large since `sync.plan`'s refusal at the removal cap
// carries the refused plan, for a person to read and apply; every error type that holds it is
// large too. It is the rare path, and boxing it would change every match on the public errors.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

mod batches;
mod cli;
mod commands;
mod connection;
mod csv_input;
mod demo;
mod entra_input;
mod input;
mod output;
mod settings;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command};
use commands::{agents, emulator, inboxes, numbers, scim, sync};
use connection::{EXIT_FAILED, Failure};
use serde_json::json;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server logs each request it answers; the other commands, only warnings.
    let serving = matches!(cli.command, Command::Scim { .. });
    init_logging(cli.global.verbose, serving);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(Failure(message, code)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

fn init_logging(verbose: u8, serving: bool) {
    let level = match verbose {
        0 if serving => "smartcomm_host::scim=info,warn",
        0 => "warn",
        1 => "smartcomm_host=debug,smartcomm=debug,warn",
        _ => "smartcomm_host=trace,smartcomm=trace,info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SMARTCOMM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file or a CI log gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

async fn run(cli: Cli) -> Result<u8, Failure> {
    let global = &cli.global;
    match cli.command {
        Command::OnboardAgents {
            file,
            format,
            tenant_id,
            mapping,
            sidecar,
            continue_on_error,
            reassign_inbox,
        } => {
            let roster = agents::Roster {
                file: &file,
                format,
                tenant_id: tenant_id.as_deref(),
                mapping: mapping.as_deref(),
                sidecar: sidecar.as_deref(),
            };
            agents::onboard_agents(global, roster, continue_on_error, reassign_inbox).await
        }
        Command::GetAgent { id, key_id, upn } => agents::get_agent(global, id, key_id, upn).await,
        Command::ListAgents {
            user_object_id,
            tenant_id,
            consistency_id,
            phone_number,
            upn,
        } => {
            let filter = smartcomm::model::AgentFilter {
                user_object_id,
                tenant_id,
                consistency_id,
                phone_number,
                upn,
            };
            agents::list_agents(global, filter).await
        }
        Command::UpdateAgent { id, file, key_id } => {
            agents::update_agent(global, id, &file, key_id).await
        }
        Command::UpdateAgents {
            file,
            continue_on_error,
        } => agents::update_agents(global, &file, continue_on_error).await,
        Command::OffboardAgent {
            id,
            key_id,
            deprovision_supervised_inbox,
        } => agents::offboard_agent(global, id, key_id, deprovision_supervised_inbox).await,
        Command::OffboardAgents {
            file,
            format,
            continue_on_error,
            deprovision_supervised_inbox,
        } => {
            agents::offboard_agents(
                global,
                &file,
                format,
                continue_on_error,
                deprovision_supervised_inbox,
            )
            .await
        }
        Command::CreateInboxes {
            file,
            continue_on_error,
        } => inboxes::create_inboxes(global, &file, continue_on_error).await,
        Command::AssignInboxes { file } => inboxes::assign_inboxes(global, &file).await,
        Command::ListNumbers { status, digits } => {
            numbers::list_numbers(global, status, digits).await
        }
        Command::Authenticate => {
            if global.steps {
                return Err(connection::invalid(
                    "authenticate has no step function: drop --steps".into(),
                ));
            }
            let runtime = connection::load_runtime(global)?;
            let mut session = runtime.session(connection::config(global)?);
            let info = session.authenticate().await?;
            output::print(&json!({"authenticated": true, "expires_at": info.expires_at}));
            Ok(0)
        }
        Command::Emulator(args) => emulator::serve(emulator::options(&args)).await,
        Command::Scim { command } => scim::run(global, command).await,
        Command::Demo => {
            let runtime = connection::load_runtime(global)?;
            demo::run(&runtime, &mut std::io::stdout()).await?;
            Ok(0)
        }
        Command::Sync { command } => sync::run(global, command).await,
        Command::Exports => {
            let exports = smartcomm_host::Runtime::exports_of(connection::runtime_options(global))?;
            output::print(&json!(exports));
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "smartcomm", &mut std::io::stdout());
            Ok(0)
        }
    }
}
