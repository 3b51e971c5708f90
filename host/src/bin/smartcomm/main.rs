//! `smartcomm`: manage SmartCommunicator users from the command line, through the component.

mod batches;
mod csv_input;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use smartcomm::model;
use smartcomm::request::Requests;
use smartcomm::validate;
use smartcomm_host::emulator::{Emulator, EmulatorOptions};
use smartcomm_host::{
    Auth, AuthScheme, CallError, ComponentSource, Config, Runtime, RuntimeOptions, Session, Steps,
    agents, convert, inboxes, numbers, types,
};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit code for invalid input or usage (clap uses it for usage errors too).
const EXIT_INVALID: u8 = 2;
const EXIT_FAILED: u8 = 1;

#[derive(Parser)]
#[command(
    name = "smartcomm",
    version,
    about = "Manage IntelePeer SmartCommunicator users through the smartcomm WebAssembly component"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// Base URL of the users API.
    #[arg(long, env = "SMARTCOMM_API_URL", global = true, default_value = smartcomm::client::DEFAULT_API_URL)]
    api_url: String,
    /// The authenticate endpoint.
    #[arg(long, env = "SMARTCOMM_AUTH_URL", global = true, default_value = smartcomm::client::DEFAULT_AUTH_URL)]
    auth_url: String,
    /// Your account id.
    #[arg(long, env = "SMARTCOMM_CUSTOMER_ID", global = true)]
    customer_id: Option<String>,
    /// Username with API access; the password comes from SMARTCOMM_PASSWORD or a prompt.
    #[arg(long, env = "SMARTCOMM_USERNAME", global = true)]
    username: Option<String>,
    /// How the token is sent in the Authorization header.
    #[arg(long, value_enum, global = true, default_value = "bearer")]
    auth_scheme: Scheme,
    /// Connect timeout of each request, in seconds.
    #[arg(long, global = true, value_name = "SECONDS")]
    timeout: Option<u32>,
    /// Attempts per request, the first included (1 turns retries off); default 3.
    #[arg(long, global = true, value_name = "N")]
    max_attempts: Option<u32>,
    /// Check the input and print the requests that would be sent (method, path, query, body);
    /// send nothing.
    #[arg(long, global = true)]
    dry_run: bool,
    /// Call the component's step functions instead of a client resource: each call on a fresh
    /// instance, configured only through its environment, as a workflow engine runs it.
    #[arg(long, global = true)]
    steps: bool,
    /// Run this component instead of the embedded one.
    #[arg(long, global = true, value_name = "PATH")]
    component: Option<PathBuf>,
    /// Log each request and response line (-vv for more); secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Clone, Copy, ValueEnum)]
enum Scheme {
    Bearer,
    Bare,
}

#[derive(Subcommand)]
enum Command {
    /// Onboard, read, update and offboard agents.
    #[command(subcommand)]
    Agents(AgentsCommand),
    /// Create inboxes and manage who is in them.
    #[command(subcommand)]
    Inboxes(InboxesCommand),
    /// List registered phone numbers.
    #[command(subcommand)]
    Numbers(NumbersCommand),
    /// Authenticate and print the token's expiry (never the token).
    Authenticate,
    /// Serve a stateful emulator of the API on loopback.
    Emulator {
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Added before every answer.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Phone numbers each new account starts with.
        #[arg(long, default_value_t = 100)]
        numbers: usize,
        #[arg(long, default_value_t = 86400)]
        token_lifetime_secs: u64,
    },
    /// Start an emulator in-process and walk through every operation with the real component.
    Demo,
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
enum GetKey {
    UserObjectId,
    ConsistencyId,
    Upn,
}

#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
enum ChangeKey {
    UserObjectId,
    ConsistencyId,
    Id,
}

#[derive(Subcommand)]
enum AgentsCommand {
    /// Onboard the agents in FILE: the POST body (a JSON array), or a CSV with a header row
    /// (columns: user_object_id, tenant_id, name, upn, consistency_id, brand_name, department,
    /// region, state, district, store, city, zip_code, roles, messaging_number,
    /// supervised_number, supervisors, supervisors_identifier, messages, supervised_inbox,
    /// calls, shared_inbox; lists separated by `;`). `-` reads stdin.
    Onboard {
        file: PathBuf,
        /// The file's format; default: by its extension (`.csv`), else JSON.
        #[arg(long, value_enum)]
        format: Option<Format>,
        #[arg(long)]
        continue_on_error: bool,
        #[arg(long)]
        reassign_inbox: bool,
    },
    /// Show one agent.
    Get {
        id: String,
        #[arg(long, value_enum)]
        key_id: Option<GetKey>,
        #[arg(long)]
        upn: Option<String>,
    },
    /// List agents matching every given filter.
    List {
        #[arg(long)]
        user_object_id: Option<String>,
        #[arg(long)]
        tenant_id: Option<String>,
        #[arg(long)]
        consistency_id: Option<String>,
        #[arg(long)]
        phone_number: Option<String>,
        #[arg(long)]
        upn: Option<String>,
    },
    /// Update one agent with the PATCH body in FILE.
    Update {
        id: String,
        file: PathBuf,
        #[arg(long, value_enum)]
        key_id: Option<ChangeKey>,
    },
    /// Update the agents targeted in FILE (the bulk PATCH body).
    UpdateMany {
        file: PathBuf,
        #[arg(long)]
        continue_on_error: bool,
    },
    /// Offboard one agent.
    Offboard {
        id: String,
        #[arg(long, value_enum)]
        key_id: Option<ChangeKey>,
        #[arg(long)]
        deprovision_supervised_inbox: bool,
    },
    /// Offboard the agents named in FILE: the bulk offboard body, or a CSV with the columns
    /// identifier and value (values separated by `;`).
    OffboardMany {
        file: PathBuf,
        #[arg(long, value_enum)]
        format: Option<Format>,
        #[arg(long)]
        continue_on_error: bool,
        #[arg(long)]
        deprovision_supervised_inbox: bool,
    },
}

#[derive(Subcommand)]
enum InboxesCommand {
    /// Create the inboxes in FILE.
    Create {
        file: PathBuf,
        #[arg(long)]
        continue_on_error: bool,
    },
    /// Apply the assignments in FILE.
    Assign { file: PathBuf },
}

#[derive(Clone, Copy, ValueEnum)]
enum Status {
    Assigned,
    Active,
}

#[derive(Subcommand)]
enum NumbersCommand {
    /// List numbers, optionally by status and matching digits.
    List {
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// 1 to 11 digits the number must contain.
        #[arg(long = "match", value_name = "DIGITS")]
        digits: Option<String>,
    },
}

/// A failure to report: the message, and the exit code.
struct Failure(String, u8);

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure(format!("{e:#}"), EXIT_FAILED)
    }
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Self {
        let code = match &e {
            CallError::Api(types::Error::InvalidInput(_)) => EXIT_INVALID,
            _ => EXIT_FAILED,
        };
        Failure(e.to_string(), code)
    }
}

fn invalid(message: String) -> Failure {
    Failure(message, EXIT_INVALID)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
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

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "smartcomm_host=debug,smartcomm=debug,warn",
        _ => "smartcomm_host=trace,smartcomm=trace,info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SMARTCOMM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn load_runtime(global: &Global) -> Result<Runtime, Failure> {
    let options = RuntimeOptions {
        component: match &global.component {
            Some(path) => ComponentSource::Path(path.clone()),
            None => ComponentSource::Embedded,
        },
        ..Default::default()
    };
    let runtime = Runtime::new(options)?;
    tracing::debug!(compilation = ?runtime.compilation(), "component loaded");
    Ok(runtime)
}

fn config(global: &Global) -> Result<Config, Failure> {
    let customer_id = global
        .customer_id
        .clone()
        .ok_or_else(|| invalid("--customer-id (or SMARTCOMM_CUSTOMER_ID) is required".into()))?;
    let auth = match std::env::var("SMARTCOMM_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        Some(token) => Auth::Token(token),
        None => {
            let username = global.username.clone().ok_or_else(|| {
                invalid(
                    "--username (or SMARTCOMM_USERNAME) is required, or set SMARTCOMM_TOKEN".into(),
                )
            })?;
            let password = match std::env::var("SMARTCOMM_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty())
            {
                Some(p) => p,
                None if std::io::stdin().is_terminal() => {
                    rpassword::prompt_password(format!("Password for {username}: "))
                        .map_err(|e| invalid(format!("could not read the password: {e}")))?
                }
                None => {
                    return Err(invalid(
                        "set SMARTCOMM_PASSWORD (the password is never taken as a flag)".into(),
                    ));
                }
            };
            Auth::Credentials { username, password }
        }
    };
    let mut config = Config::new(customer_id, auth);
    config.api_url = Some(global.api_url.clone());
    config.auth_url = Some(global.auth_url.clone());
    config.auth_scheme = match global.auth_scheme {
        Scheme::Bearer => AuthScheme::Bearer,
        Scheme::Bare => AuthScheme::Bare,
    };
    config.timeout_ms = global.timeout.map(|s| s.saturating_mul(1000));
    if let Some(attempts) = global.max_attempts {
        config.retry.max_attempts = attempts;
    }
    Ok(config)
}

fn read_input(file: &PathBuf) -> Result<String, Failure> {
    let mut text = String::new();
    let result = if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(file).map(|t| text = t)
    };
    result.map_err(|e| invalid(format!("cannot read {}: {e}", file.display())))?;
    Ok(text)
}

/// Parses FILE as `T`, naming the path of a field that does not fit (`[2].roles[0]`).
fn parse_file<T: DeserializeOwned>(file: &PathBuf) -> Result<T, Failure> {
    let text = read_input(file)?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        invalid(format!("{}: at {path}: {}", file.display(), e.inner()))
    })
}

/// Parses a batch FILE: a JSON array, or one object standing for a list of one.
fn parse_batch<T: DeserializeOwned>(file: &PathBuf) -> Result<Vec<T>, Failure> {
    let text = read_input(file)?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| invalid(format!("{}: not JSON: {e}", file.display())))?;
    let items = match value {
        Value::Array(items) => items,
        object @ Value::Object(_) => vec![object],
        _ => {
            return Err(invalid(format!(
                "{}: expected a JSON array of items",
                file.display()
            )));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_path_to_error::deserialize(item).map_err(|e| {
                invalid(format!(
                    "{}: item {i}: {}: {}",
                    file.display(),
                    e.path(),
                    e.inner()
                ))
            })
        })
        .collect()
}

fn print(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values always print")
    );
}

/// Prints every item's outcome and a summary; exit 1 when any item was not applied.
fn print_batch(items: Vec<Value>) -> u8 {
    let count = |kind: &str| items.iter().filter(|i| i["outcome"] == kind).count();
    let summary = json!({
        "succeeded": count("succeeded"),
        "rejected": count("rejected"),
        "failed": count("failed"),
        "not_attempted": count("not_attempted"),
    });
    let all_succeeded = count("succeeded") == items.len();
    print(&json!({"summary": summary, "items": items}));
    if all_succeeded { 0 } else { EXIT_FAILED }
}

fn item_outcomes(outcomes: Vec<types::ItemOutcome>) -> u8 {
    print_batch(
        outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| convert::item_outcome_json(i, o))
            .collect(),
    )
}

fn flag(on: bool) -> Option<bool> {
    on.then_some(true)
}

/// A client resource in one instance, or the step functions.
enum Backend {
    Session(Box<Session>),
    Steps(Steps),
}

macro_rules! backend_calls {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        impl Backend {$(
            async fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, CallError> {
                match self {
                    Backend::Session(s) => s.$name($($arg),*).await,
                    Backend::Steps(s) => convert::step_as_call(s.$name($($arg),*).await),
                }
            }
        )*}
    };
}

backend_calls! {
    fn onboard(agents: Vec<agents::NewAgent>, options: agents::OnboardOptions) -> Vec<types::ItemOutcome>;
    fn get_agent(id: String, key_id: Option<types::KeyId>, upn: Option<String>) -> agents::Agent;
    fn list_agents(filter: agents::AgentFilter) -> Vec<agents::Agent>;
    fn update_agent(id: String, key_id: Option<types::KeyId>, changes: agents::AgentChanges) -> agents::Agent;
    fn update_agents(updates: Vec<agents::AgentUpdate>, continue_on_error: Option<bool>) -> Vec<agents::UpdateOutcome>;
    fn offboard_agent(id: String, key_id: Option<types::KeyId>, deprovision: Option<bool>) -> String;
    fn offboard_agents(selectors: Vec<agents::AgentSelector>, options: agents::OffboardOptions) -> Vec<types::ItemOutcome>;
    fn create_inboxes(inboxes: Vec<inboxes::NewInbox>, continue_on_error: Option<bool>) -> Vec<types::ItemOutcome>;
    fn assign(assignments: Vec<inboxes::Assignment>) -> Vec<types::ItemOutcome>;
    fn list_numbers(status: Option<types::NumberStatus>, digits: Option<String>) -> Vec<numbers::NumberInfo>;
}

async fn session(global: &Global) -> Result<Backend, Failure> {
    let config = config(global)?;
    let runtime = load_runtime(global)?;
    Ok(if global.steps {
        Backend::Steps(runtime.steps(&config))
    } else {
        Backend::Session(Box::new(runtime.session(config)))
    })
}

async fn run(cli: Cli) -> Result<u8, Failure> {
    let global = &cli.global;
    match cli.command {
        Command::Emulator {
            port,
            latency_ms,
            numbers,
            token_lifetime_secs,
        } => {
            let emulator = Emulator::start(EmulatorOptions {
                port,
                latency: Duration::from_millis(latency_ms),
                numbers,
                token_lifetime: Duration::from_secs(token_lifetime_secs),
                ..Default::default()
            })
            .await
            .map_err(|e| Failure(format!("cannot listen on port {port}: {e}"), EXIT_FAILED))?;
            println!(
                "SmartCommunicator emulator on {}; every customer id is an account of its own.",
                emulator.base_url()
            );
            println!("Settings for smartcomm (paste into a shell):");
            println!("export SMARTCOMM_API_URL={}", emulator.base_url());
            println!("export SMARTCOMM_AUTH_URL={}", emulator.auth_url());
            println!("export SMARTCOMM_CUSTOMER_ID=12345678");
            println!("export SMARTCOMM_USERNAME={}", emulator.username());
            println!("export SMARTCOMM_PASSWORD={}", emulator.password());
            println!(
                "Control API: {}/__emulator/ (reset, state, requests, faults, latency, revoke-tokens, numbers)",
                emulator.base_url()
            );
            println!("Press Ctrl-C to stop.");
            tokio::signal::ctrl_c()
                .await
                .map_err(|e| Failure(e.to_string(), EXIT_FAILED))?;
            Ok(0)
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "smartcomm",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
        Command::Demo => {
            let runtime = load_runtime(global)?;
            let mut out = std::io::stdout();
            smartcomm_host::demo::run(&runtime, &mut out).await?;
            Ok(0)
        }
        Command::Authenticate => {
            let Backend::Session(mut session) = session(global).await? else {
                return Err(invalid(
                    "authenticate has no step function: drop --steps".into(),
                ));
            };
            let info = session.authenticate().await?;
            print(&json!({"authenticated": true, "expires_at": info.expires_at}));
            Ok(0)
        }
        Command::Agents(command) => agents_command(global, command).await,
        Command::Inboxes(InboxesCommand::Create {
            file,
            continue_on_error,
        }) => {
            let inboxes: Vec<model::NewInbox> = parse_batch(&file)?;
            checked(validate::create_inboxes(&inboxes))?;
            let coe = flag(continue_on_error);
            if global.dry_run {
                return dry_run(global, |r| {
                    batches::plan(&inboxes, |c| r.create_inboxes(c, coe))
                });
            }
            let mut backend = session(global).await?;
            let outcomes =
                batches::run_in_chunks(list(inboxes), continue_on_error, "create", async |chunk| {
                    backend.create_inboxes(chunk, coe).await
                })
                .await?;
            Ok(item_outcomes(outcomes))
        }
        Command::Inboxes(InboxesCommand::Assign { file }) => {
            let assignments: Vec<model::Assignment> = parse_batch(&file)?;
            checked(validate::assignments(&assignments))?;
            if global.dry_run {
                return dry_run(global, |r| {
                    batches::plan(&assignments, |c| r.assignments(c))
                });
            }
            let mut backend = session(global).await?;
            let outcomes =
                batches::run_in_chunks(list(assignments), false, "assign", async |chunk| {
                    backend.assign(chunk).await
                })
                .await?;
            Ok(item_outcomes(outcomes))
        }
        Command::Numbers(NumbersCommand::List { status, digits }) => {
            let status = status.map(|s| match s {
                Status::Assigned => types::NumberStatus::Assigned,
                Status::Active => types::NumberStatus::Active,
            });
            let numbers = session(global).await?.list_numbers(status, digits).await?;
            let numbers: Vec<model::NumberInfo> = numbers.into_iter().map(Into::into).collect();
            print(&json!(numbers));
            Ok(0)
        }
    }
}

fn get_key(k: GetKey) -> types::KeyId {
    match k {
        GetKey::UserObjectId => types::KeyId::UserObjectId,
        GetKey::ConsistencyId => types::KeyId::ConsistencyId,
        GetKey::Upn => types::KeyId::Upn,
    }
}

fn change_key(k: ChangeKey) -> types::KeyId {
    match k {
        ChangeKey::UserObjectId => types::KeyId::UserObjectId,
        ChangeKey::ConsistencyId => types::KeyId::ConsistencyId,
        ChangeKey::Id => types::KeyId::Id,
    }
}

fn list<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(Into::into).collect()
}

/// Refuses invalid input before anything is sent, with the problems the component would
/// report (the same checks, run here so that a batch sent in several calls is checked whole).
fn checked(result: Result<(), Vec<smartcomm::error::Problem>>) -> Result<(), Failure> {
    result.map_err(|problems| invalid(batches::problems_text(&problems)))
}

/// Prints what `--dry-run` would send.
fn dry_run(global: &Global, plan: impl FnOnce(&Requests) -> Value) -> Result<u8, Failure> {
    let customer_id = global
        .customer_id
        .clone()
        .ok_or_else(|| invalid("--customer-id (or SMARTCOMM_CUSTOMER_ID) is required".into()))?;
    print(&plan(&Requests::new(&customer_id)));
    Ok(0)
}

/// A batch FILE: CSV (by `--format csv` or the `.csv` extension) read by `from_csv`, else JSON.
fn read_batch<T: DeserializeOwned>(
    file: &PathBuf,
    format: Option<Format>,
    from_csv: fn(&str) -> Result<Vec<T>, String>,
) -> Result<Vec<T>, Failure> {
    let csv = format == Some(Format::Csv)
        || (format.is_none()
            && file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")));
    if !csv {
        return parse_batch(file);
    }
    from_csv(&read_input(file)?).map_err(|e| invalid(format!("{}: {e}", file.display())))
}

async fn agents_command(global: &Global, command: AgentsCommand) -> Result<u8, Failure> {
    match command {
        AgentsCommand::Onboard {
            file,
            format,
            continue_on_error,
            reassign_inbox,
        } => {
            let agents: Vec<model::NewAgent> = read_batch(&file, format, csv_input::onboard)?;
            checked(validate::onboard(&agents))?;
            let (coe, reassign) = (flag(continue_on_error), flag(reassign_inbox));
            if global.dry_run {
                return dry_run(global, |r| {
                    batches::plan(&agents, |c| r.onboard(c, coe, reassign))
                });
            }
            let mut backend = session(global).await?;
            let options = agents::OnboardOptions {
                continue_on_error: coe,
                reassign_inbox: reassign,
            };
            let outcomes =
                batches::run_in_chunks(list(agents), continue_on_error, "onboard", async |chunk| {
                    backend.onboard(chunk, options).await
                })
                .await?;
            Ok(item_outcomes(outcomes))
        }
        AgentsCommand::Get { id, key_id, upn } => {
            let agent = session(global)
                .await?
                .get_agent(id, key_id.map(get_key), upn)
                .await?;
            print(&json!(model::Agent::from(agent)));
            Ok(0)
        }
        AgentsCommand::List {
            user_object_id,
            tenant_id,
            consistency_id,
            phone_number,
            upn,
        } => {
            let filter = model::AgentFilter {
                user_object_id,
                tenant_id,
                consistency_id,
                phone_number,
                upn,
            };
            let agents = session(global).await?.list_agents(filter.into()).await?;
            let agents: Vec<model::Agent> = agents.into_iter().map(Into::into).collect();
            print(&json!(agents));
            Ok(0)
        }
        AgentsCommand::Update { id, file, key_id } => {
            let changes: model::AgentChanges = parse_file(&file)?;
            let key = key_id.map(change_key);
            let model_key = key.map(smartcomm::model::KeyId::from);
            checked(validate::update_agent(&id, model_key, &changes))?;
            if global.dry_run {
                return dry_run(global, |r| {
                    batches::request_json(&r.update_agent(&id, model_key, &changes))
                });
            }
            let agent = session(global)
                .await?
                .update_agent(id, key, changes.into())
                .await?;
            print(&json!(model::Agent::from(agent)));
            Ok(0)
        }
        AgentsCommand::UpdateMany {
            file,
            continue_on_error,
        } => {
            let updates: Vec<model::AgentUpdate> = parse_batch(&file)?;
            checked(validate::update_many(&updates))?;
            let coe = flag(continue_on_error);
            if global.dry_run {
                return dry_run(global, |r| {
                    batches::plan(&updates, |c| r.update_many(c, coe))
                });
            }
            let mut backend = session(global).await?;
            let outcomes =
                batches::run_in_chunks(list(updates), continue_on_error, "update", async |chunk| {
                    backend.update_agents(chunk, coe).await
                })
                .await?;
            Ok(print_batch(
                outcomes
                    .iter()
                    .enumerate()
                    .map(|(i, o)| convert::update_outcome_json(i, o))
                    .collect(),
            ))
        }
        AgentsCommand::Offboard {
            id,
            key_id,
            deprovision_supervised_inbox,
        } => {
            let key = key_id.map(change_key);
            let model_key = key.map(smartcomm::model::KeyId::from);
            let deprovision = flag(deprovision_supervised_inbox);
            checked(validate::offboard_agent(&id, model_key))?;
            if global.dry_run {
                return dry_run(global, |r| {
                    batches::request_json(&r.offboard_agent(&id, model_key, deprovision))
                });
            }
            let message = session(global)
                .await?
                .offboard_agent(id, key, deprovision)
                .await?;
            print(&json!({"message": message}));
            Ok(0)
        }
        AgentsCommand::OffboardMany {
            file,
            format,
            continue_on_error,
            deprovision_supervised_inbox,
        } => {
            let items: Vec<model::OffboardItem> = read_batch(&file, format, csv_input::offboard)?;
            checked(validate::offboard_many(&items))?;
            let (coe, deprovision) = (flag(continue_on_error), flag(deprovision_supervised_inbox));
            if global.dry_run {
                return dry_run(global, |r| {
                    batches::plan(&items, |c| r.offboard_many(c, coe, deprovision))
                });
            }
            let mut backend = session(global).await?;
            let options = agents::OffboardOptions {
                continue_on_error: coe,
                deprovision_supervised_inbox: deprovision,
            };
            let outcomes =
                batches::run_in_chunks(list(items), continue_on_error, "offboard", async |chunk| {
                    backend.offboard_agents(chunk, options).await
                })
                .await?;
            Ok(item_outcomes(outcomes))
        }
    }
}
