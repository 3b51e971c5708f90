//! `scim serve`: the SCIM component behind an HTTP or HTTPS listener, configured as every
//! command is (the connection flags and variables) plus the SCIM settings, and driven by the
//! process's signals.

use crate::cli::{Global, ScimCommand};
use crate::connection::{EXIT_FAILED, EXIT_INVALID, Failure, config, invalid};
use smartcomm_host::{
    ComponentSource, RuntimeOptions, ScimOptions, ScimServer, ScimSettingError, TlsFiles,
};
use smartcomm_scim::bridge::var;
use smartcomm_scim::group::Inboxes;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// The command's own flags.
struct Serve {
    listen: SocketAddr,
    tenant_id: String,
    inboxes: Option<PathBuf>,
    token_file: Option<PathBuf>,
    tls: Option<TlsFiles>,
    idle_timeout: Duration,
    shutdown_grace: Duration,
    instances: usize,
}

pub async fn run(global: &Global, command: ScimCommand) -> Result<u8, Failure> {
    match command {
        ScimCommand::Serve {
            listen,
            tenant_id,
            inboxes,
            token_file,
            tls_cert,
            tls_key,
            idle_timeout,
            shutdown_grace,
            instances,
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
                _ => None,
            };
            let serve = Serve {
                listen,
                tenant_id,
                inboxes,
                token_file,
                tls,
                idle_timeout: Duration::from_secs(idle_timeout.into()),
                shutdown_grace: Duration::from_secs(shutdown_grace.into()),
                instances: instances.into(),
            };
            serve.run(global).await
        }
    }
}

impl Serve {
    /// The SCIM settings every instance gets, beside the client's. The token is here unless
    /// it comes from a file, which the server reads itself.
    fn scim_env(&self) -> Result<Vec<(String, String)>, Failure> {
        let token = std::env::var(var::TOKEN)
            .ok()
            .filter(|t| !t.trim().is_empty());
        let mut env = vec![(var::TENANT_ID.to_string(), self.tenant_id.clone())];
        match (token, &self.token_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(format!(
                    "set {} or --token-file (SMARTCOMM_SCIM_TOKEN_FILE), not both",
                    var::TOKEN
                )));
            }
            (Some(token), None) => env.push((var::TOKEN.to_string(), token)),
            (None, Some(_)) => {}
            (None, None) => {
                return Err(invalid(format!(
                    "set {} or --token-file (SMARTCOMM_SCIM_TOKEN_FILE): the bearer token the \
                     identity provider sends (the provisioning app's Secret Token; never a flag)",
                    var::TOKEN
                )));
            }
        }
        if let Some(text) = inbox_map(self.inboxes.as_deref())? {
            env.push((var::INBOXES.to_string(), text));
        }
        if let Ok(base) = std::env::var(var::BASE_URL) {
            env.push((var::BASE_URL.to_string(), base));
        }
        Ok(env)
    }

    /// The server's options: this command's flags, and the request deadline from
    /// `--call-deadline` when it is given.
    fn options(&self, global: &Global, call_deadline: Option<u32>) -> ScimOptions {
        let defaults = ScimOptions::default();
        let mut options = ScimOptions {
            instances: self.instances,
            tls: self.tls.clone(),
            token_file: self.token_file.clone(),
            shutdown_grace: self.shutdown_grace,
            request_deadline: call_deadline
                .map_or(defaults.request_deadline, |s| Duration::from_secs(s.into())),
            ..defaults
        };
        options.limits.idle_timeout = self.idle_timeout;
        if let Some(path) = &global.component {
            options.runtime = RuntimeOptions {
                component: ComponentSource::Path(path.clone()),
                ..options.runtime
            };
        }
        options
    }

    async fn run(self, global: &Global) -> Result<u8, Failure> {
        let env = self.scim_env()?;
        let config = config(global)?;
        let options = self.options(global, config.call_deadline);
        let server = ScimServer::new(options, &config, env).map_err(|e| {
            let code = match e.is::<ScimSettingError>() {
                true => EXIT_INVALID,
                false => EXIT_FAILED,
            };
            Failure(format!("{e:#}"), code)
        })?;
        tracing::debug!(compilation = ?server.compilation(), "SCIM component loaded");
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|e| {
                Failure(
                    format!("cannot listen on {}: {e}", self.listen),
                    EXIT_FAILED,
                )
            })?;
        let address = listener
            .local_addr()
            .map_err(|e| Failure(e.to_string(), EXIT_FAILED))?;
        // Before the first line: a signal sent once the address is known is handled, never
        // the default action (SIGHUP's ends the process).
        let signals = Signals::register().map_err(|e| Failure(e.to_string(), EXIT_FAILED))?;
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        println!("SCIM endpoint: {scheme}://{address}/scim/v2");
        let _ = std::io::stdout().flush();
        serve_until_stopped(server, listener, signals).await
    }
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

/// Serves until a SIGINT or SIGTERM, then until the requests in flight finish (within the
/// shutdown grace) or a second one comes. SIGHUP re-reads the token file and the certificate.
/// Exits 0 when every request in flight finished, 1 when some were cut.
async fn serve_until_stopped(
    server: Arc<ScimServer>,
    listener: tokio::net::TcpListener,
    mut signals: Signals,
) -> Result<u8, Failure> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = server.clone().serve(listener, async {
        let _ = stopped.await;
    });
    tokio::pin!(serving);
    let mut stop = Some(stop);
    loop {
        tokio::select! {
            outcome = &mut serving => {
                let outcome = outcome.map_err(|e| Failure(e.to_string(), EXIT_FAILED))?;
                return Ok(match outcome.cut {
                    0 => {
                        eprintln!("stopped");
                        0
                    }
                    cut => {
                        eprintln!("stopped: {cut} request(s) in flight were cut at the end of the shutdown grace");
                        EXIT_FAILED
                    }
                });
            }
            received = signals.next() => match received {
                Received::Reload => {
                    let server = server.clone();
                    let _ = tokio::task::spawn_blocking(move || server.reload()).await;
                }
                Received::Stop => match stop.take() {
                    Some(stop) => {
                        let _ = stop.send(());
                    }
                    None => {
                        let cut = server.requests_in_flight();
                        eprintln!("stopped at once: {cut} request(s) in flight were cut");
                        return Ok(EXIT_FAILED);
                    }
                },
            },
        }
    }
}

enum Received {
    Stop,
    Reload,
}

/// SIGINT and SIGTERM (stop), SIGHUP (reload).
struct Signals {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
}

impl Signals {
    fn register() -> std::io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    async fn next(&mut self) -> Received {
        tokio::select! {
            _ = self.interrupt.recv() => Received::Stop,
            _ = self.terminate.recv() => Received::Stop,
            _ = self.hangup.recv() => Received::Reload,
        }
    }
}
