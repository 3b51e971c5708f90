//! `scim serve`: the SCIM component behind an HTTP listener, configured as every command is
//! (the connection flags and variables) plus the SCIM settings.

use crate::cli::{Global, ScimCommand};
use crate::connection::{EXIT_FAILED, Failure, config, invalid};
use smartcomm_host::{ComponentSource, RuntimeOptions, ScimOptions, ScimServer};
use smartcomm_scim::bridge::var;
use smartcomm_scim::group::Inboxes;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

pub async fn run(global: &Global, command: ScimCommand) -> Result<u8, Failure> {
    match command {
        ScimCommand::Serve {
            listen,
            tenant_id,
            inboxes,
            instances,
        } => serve(global, listen, tenant_id, inboxes.as_deref(), instances).await,
    }
}

/// The SCIM settings every instance gets, beside the client's.
fn scim_env(tenant_id: String, inboxes: Option<&Path>) -> Result<Vec<(String, String)>, Failure> {
    let token = std::env::var(var::TOKEN)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            invalid(format!(
                "set {}: the bearer token the identity provider sends (the provisioning app's \
                 Secret Token; never a flag)",
                var::TOKEN
            ))
        })?;
    let mut env = vec![
        (var::TENANT_ID.to_string(), tenant_id),
        (var::TOKEN.to_string(), token),
    ];
    if let Some(text) = inbox_map(inboxes)? {
        env.push((var::INBOXES.to_string(), text));
    }
    if let Ok(base) = std::env::var(var::BASE_URL) {
        env.push((var::BASE_URL.to_string(), base));
    }
    Ok(env)
}

/// The inbox map: the file `--inboxes` names, else the map itself in SMARTCOMM_SCIM_INBOXES
/// (as the component reads it under other hosts); checked whole, each problem naming where
/// the map came from.
fn inbox_map(file: Option<&Path>) -> Result<Option<String>, Failure> {
    let (text, source) = match file {
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| invalid(format!("{}: {e}", path.display())))?,
            path.display().to_string(),
        ),
        None => match std::env::var(var::INBOXES) {
            Ok(text) if !text.trim().is_empty() => (text, var::INBOXES.to_string()),
            _ => return Ok(None),
        },
    };
    Inboxes::parse(&text).map_err(|e| invalid(format!("{source}: {e}")))?;
    Ok(Some(text))
}

async fn serve(
    global: &Global,
    listen: SocketAddr,
    tenant_id: String,
    inboxes: Option<&Path>,
    instances: u16,
) -> Result<u8, Failure> {
    let env = scim_env(tenant_id, inboxes)?;
    let config = config(global)?;
    let mut options = ScimOptions {
        instances: instances.into(),
        ..ScimOptions::default()
    };
    if let Some(path) = &global.component {
        options.runtime = RuntimeOptions {
            component: ComponentSource::Path(path.clone()),
            ..options.runtime
        };
    }
    let server = ScimServer::new(options, &config, env)?;
    tracing::debug!(compilation = ?server.compilation(), "SCIM component loaded");
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Failure(format!("cannot listen on {listen}: {e}"), EXIT_FAILED))?;
    let address = listener
        .local_addr()
        .map_err(|e| Failure(e.to_string(), EXIT_FAILED))?;
    println!("SCIM endpoint: http://{address}/scim/v2");
    let _ = std::io::stdout().flush();
    server
        .serve(listener, stop_signal())
        .await
        .map_err(|e| Failure(e.to_string(), EXIT_FAILED))?;
    eprintln!("stopped");
    Ok(0)
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn stop_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}
