//! The command line: every command, flag and argument, with its help.

use crate::settings::SettingFlags;
use clap::{Args, Parser, Subcommand, ValueEnum};
use smartcomm_host::types;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "smartcomm",
    version,
    about = "Manage IntelePeer SmartCommunicator users through the smartcomm WebAssembly component",
    long_about = "Manage IntelePeer SmartCommunicator users through the smartcomm WebAssembly \
                  component. Each API operation is a command of the same name as its WIT \
                  function. Output is JSON on stdout; problems go to stderr."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args)]
pub struct Global {
    /// Every setting of the component: `--customer-id`, `--username`, `--api-url`, … (each
    /// flag overrides its `SMARTCOMM_*` variable; the password and tokens are variables only).
    #[command(flatten)]
    pub settings: SettingFlags,
    /// Check the input and print the requests that would be sent (method, path, query, body);
    /// send nothing, not even authenticate.
    #[arg(long, global = true, help_heading = "Running")]
    pub dry_run: bool,
    /// Call the component's step functions instead of a client resource: each call on a fresh
    /// instance, configured only through its environment, as a workflow engine runs it.
    #[arg(long, global = true, help_heading = "Running")]
    pub steps: bool,
    /// Run this component (.wasm) instead of the embedded one.
    #[arg(long, global = true, value_name = "PATH", help_heading = "Running")]
    pub component: Option<PathBuf>,
    /// Log each request and response line (-vv for more); secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Running")]
    pub verbose: u8,
}

/// How `smartcomm emulator` serves.
#[derive(Args)]
pub struct EmulatorArgs {
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Added before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Phone numbers each new account starts with.
    #[arg(long, default_value_t = 100)]
    pub numbers: usize,
    /// How long an issued token is valid, in seconds.
    #[arg(long, default_value_t = 86400)]
    pub token_lifetime_secs: u64,
    /// Answer 429 (Retry-After: 1) to a request that finds this many of its customer's
    /// requests in flight.
    #[arg(long, value_name = "K")]
    pub max_in_flight: Option<usize>,
    /// Leave Retry-After out of those 429s.
    #[arg(long, requires = "max_in_flight")]
    pub no_retry_after: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Onboard the agents in FILE (POST /agents, ten per request).
    #[command(
        long_about = "Onboard the agents in FILE (POST /agents, ten per request). FILE \
        is the POST body (a JSON array, or one object), or a CSV with a header row: \
        user_object_id, tenant_id, name (required); upn, consistency_id, brand_name, \
        department, region, state, district, store, city, zip_code; roles (member;manager); \
        messaging_number; supervised_number with supervisors and supervisors_identifier; \
        messages, supervised_inbox, calls, shared_inbox (true/false). Lists inside a cell are \
        separated by `;`."
    )]
    OnboardAgents {
        /// The agents: a JSON or CSV file, an Entra ID users export, or `-` for stdin.
        file: PathBuf,
        /// The file's format; default: by its extension (`.csv`), else JSON. `entra` reads a
        /// Microsoft Graph `GET /users` export (one or more pages) or `az ad user list`'s
        /// array, and onboards its enabled accounts.
        #[arg(long, value_enum)]
        format: Option<OnboardFormat>,
        /// The tenant of every agent of an Entra export (Entra user objects carry none).
        #[arg(long, required_if_eq("format", "entra"))]
        tenant_id: Option<String>,
        /// For an Entra export: a JSON file `{"fields": {AGENT_FIELD: PROPERTY or null},
        /// "defaults": {AGENT_FIELD: VALUE, "roles": [ROLE]}}` that changes the default mapping.
        #[arg(long, value_name = "FILE", requires = "tenant_id")]
        mapping: Option<PathBuf>,
        /// For an Entra export: a CSV keyed by user_object_id with what Entra does not hold:
        /// roles, messaging_number, supervised_number, supervisors, supervisors_identifier,
        /// messages, supervised_inbox, calls, shared_inbox.
        #[arg(long, value_name = "FILE", requires = "tenant_id")]
        sidecar: Option<PathBuf>,
        /// Keep going past agents the API rejects (continueOnError=true); otherwise the first
        /// request with a rejected agent ends the batch.
        #[arg(long)]
        continue_on_error: bool,
        /// Let a new agent take over the supervised inbox of an offboarded or deactivated
        /// agent that holds its number (reassignInbox=true).
        #[arg(long)]
        reassign_inbox: bool,
    },
    /// Show one agent (GET /agents/{id}).
    GetAgent {
        /// The agent's user_object_id, or the field --key-id names.
        id: String,
        /// Which field ID is.
        #[arg(long, value_enum)]
        key_id: Option<GetKey>,
        /// Also require the agent's upn to be this.
        #[arg(long)]
        upn: Option<String>,
    },
    /// List the agents matching every given filter (GET /agents).
    ListAgents {
        /// Only the agent with this Entra ID object id.
        #[arg(long)]
        user_object_id: Option<String>,
        /// Only agents of this Entra ID tenant.
        #[arg(long)]
        tenant_id: Option<String>,
        /// Only the agent with this consistency id.
        #[arg(long)]
        consistency_id: Option<String>,
        /// Only the agent holding this messaging or supervised-inbox number (E.164).
        #[arg(long)]
        phone_number: Option<String>,
        /// Only the agent with this user principal name.
        #[arg(long)]
        upn: Option<String>,
    },
    /// Update one agent with the PATCH body in FILE (PATCH /agents/{id}).
    UpdateAgent {
        /// The agent's user_object_id, or the field --key-id names.
        id: String,
        /// The changes: the PATCH body as JSON, or `-` for stdin.
        file: PathBuf,
        /// Which field ID is.
        #[arg(long, value_enum)]
        key_id: Option<ChangeKey>,
    },
    /// Update the agents targeted in FILE, the bulk PATCH body (PATCH /agents).
    UpdateAgents {
        /// The updates: a JSON array of {identifier, value, updates}, or `-` for stdin.
        file: PathBuf,
        /// Keep going past updates the API rejects (continueOnError=true).
        #[arg(long)]
        continue_on_error: bool,
    },
    /// Offboard one agent (DELETE /agents/{id}).
    OffboardAgent {
        /// The agent's user_object_id, or the field --key-id names.
        id: String,
        /// Which field ID is.
        #[arg(long, value_enum)]
        key_id: Option<ChangeKey>,
        /// Also deprovision the agent's supervised inbox and release its number.
        #[arg(long)]
        deprovision_supervised_inbox: bool,
    },
    /// Offboard the agents named in FILE (POST /agents/offboard, ten per request).
    #[command(
        long_about = "Offboard the agents named in FILE (POST /agents/offboard, ten per \
        request). FILE is the bulk offboard body, or a CSV with the columns identifier \
        (user_object_id, tenant_id, consistency_id, upn) and value (values separated by `;`)."
    )]
    OffboardAgents {
        /// The selectors: a JSON or CSV file, or `-` for stdin.
        file: PathBuf,
        /// The file's format; default: by its extension (`.csv`), else JSON.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Keep going past selectors the API rejects (continueOnError=true).
        #[arg(long)]
        continue_on_error: bool,
        /// Also deprovision each agent's supervised inbox and release its number.
        #[arg(long)]
        deprovision_supervised_inbox: bool,
    },
    /// Create the inboxes in FILE (POST /inboxes, ten per request).
    CreateInboxes {
        /// The inboxes: the POST body as JSON, or `-` for stdin.
        file: PathBuf,
        /// Keep going past inboxes the API rejects (continueOnError=true).
        #[arg(long)]
        continue_on_error: bool,
    },
    /// Add agents to or remove them from inboxes, as FILE says (POST /inboxes/assignments).
    AssignInboxes {
        /// The assignments: the POST body as JSON, or `-` for stdin.
        file: PathBuf,
    },
    /// List registered phone numbers (GET /numbers).
    ListNumbers {
        /// Only assigned numbers, or only free (active) ones.
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// 1 to 11 digits the number must contain.
        #[arg(long = "match", value_name = "DIGITS")]
        digits: Option<String>,
    },
    /// Authenticate and print the token's expiry (never the token).
    Authenticate,
    /// Serve a stateful emulator of the API on loopback.
    Emulator(EmulatorArgs),
    /// Start an emulator in-process and walk through every operation with the real component.
    Demo,
    /// Keep the account's agents equal to a roster: `plan` shows what would change, `apply`
    /// makes exactly those changes.
    Sync {
        #[command(subcommand)]
        command: SyncCommand,
    },
    /// A SCIM 2.0 endpoint, so that Microsoft Entra ID or Okta provision the agents.
    Scim {
        #[command(subcommand)]
        command: ScimCommand,
    },
    /// Print the functions the component (embedded, or --component) exports, by interface:
    /// what a workflow engine offers of this build. Any component is listed, of whatever
    /// world (the engine build, the SCIM component).
    Exports,
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
pub enum ScimCommand {
    /// Serve the SCIM endpoint (`/scim/v2/Users`, `/Groups`, discovery, and `/health`) until
    /// SIGINT or SIGTERM; SIGHUP re-reads the token file and the certificate. The identity
    /// provider's bearer token comes from SMARTCOMM_SCIM_TOKEN or from --token-file (never a
    /// flag itself). HTTPS with --tls-cert and --tls-key; plain HTTP without them, for a
    /// reverse proxy that terminates TLS in front of it.
    #[command(
        long_about = "Serve the SCIM endpoint (`/scim/v2/Users`, `/Groups`, discovery) until \
        SIGINT or SIGTERM, running the SCIM component for each request with the same \
        confinement as every call. The identity provider's bearer token comes from \
        SMARTCOMM_SCIM_TOKEN, or from the file --token-file names (SMARTCOMM_SCIM_TOKEN_FILE), \
        which is followed: a new token there replaces the old one without a restart. The \
        command refuses to start without a token. The first line printed is the SCIM base \
        URL. With --tls-cert and --tls-key it speaks HTTPS only, and a renewed certificate in \
        those files is taken without a restart; without them, plain HTTP, for a reverse proxy \
        that terminates TLS in front of it (set SMARTCOMM_SCIM_BASE_URL to the public base \
        URL when the proxy does not send X-Forwarded-Host and X-Forwarded-Proto). SIGHUP \
        re-reads the token file and the certificate at once. `GET /health` answers 200 without \
        a token. On SIGINT or SIGTERM it stops accepting at once and lets the requests in \
        flight finish within --shutdown-grace; a second signal stops it at once. Each request \
        is one call of the component, bounded by --call-deadline (default here: 60)."
    )]
    Serve {
        /// The address to listen on; port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR")]
        listen: std::net::SocketAddr,
        /// The Entra ID tenant every provisioned agent belongs to.
        #[arg(long, env = "SMARTCOMM_SCIM_TENANT_ID", value_name = "T")]
        tenant_id: String,
        /// A JSON file mapping each group's displayName to its shared inbox's phone number:
        /// `{"Store 1234 Team": "+15550100050"}`. Without it, the map itself is read from
        /// SMARTCOMM_SCIM_INBOXES; without either, no group is served.
        #[arg(long, value_name = "FILE")]
        inboxes: Option<PathBuf>,
        /// A file that holds the bearer token, instead of SMARTCOMM_SCIM_TOKEN; a new token
        /// written there is taken without a restart.
        #[arg(long, env = "SMARTCOMM_SCIM_TOKEN_FILE", value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Serve HTTPS with this certificate chain (PEM, the server's certificate first).
        #[arg(
            long,
            env = "SMARTCOMM_SCIM_TLS_CERT",
            value_name = "FILE",
            requires = "tls_key"
        )]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
        #[arg(
            long,
            env = "SMARTCOMM_SCIM_TLS_KEY",
            value_name = "FILE",
            requires = "tls_cert"
        )]
        tls_key: Option<PathBuf>,
        /// How long a kept-alive connection may wait for its next request, in seconds: keep
        /// it above the idle timeout of a proxy in front (nginx and AWS ALB: 60).
        #[arg(long, env = "SMARTCOMM_SCIM_IDLE_TIMEOUT", value_name = "SECONDS", default_value_t = 620,
              value_parser = clap::value_parser!(u32).range(1..=86_400))]
        idle_timeout: u32,
        /// On SIGTERM or SIGINT, how long the requests in flight may take to finish, in
        /// seconds; keep it below the service manager's grace period (Kubernetes: 30).
        #[arg(long, env = "SMARTCOMM_SCIM_SHUTDOWN_GRACE", value_name = "SECONDS", default_value_t = 25,
              value_parser = clap::value_parser!(u32).range(0..=3600))]
        shutdown_grace: u32,
        /// The most requests served at once, each on a component instance of its own.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
        instances: u16,
    },
}

#[derive(Subcommand)]
pub enum SyncCommand {
    /// Plan a sync: read the live agents of the roster's tenants and print what applying
    /// would change (`+` onboard, `~` update, `-` deactivate or offboard). Sends no write.
    Plan {
        /// The desired roster: CSV (the onboarding columns plus `active` and
        /// `shared_inboxes`), JSON (onboard items plus the same two fields), or an Entra ID
        /// users export (`--format entra`; its Graph pages may come as several files); `-` for
        /// stdin.
        #[arg(required_unless_present = "graph_group", conflicts_with = "graph_group", num_args = 1..)]
        desired: Vec<PathBuf>,
        #[command(flatten)]
        roster: RosterArgs,
        /// Save the plan (JSON) for `sync apply`.
        #[arg(long, value_name = "PLAN")]
        out: Option<PathBuf>,
        /// Print the plan as JSON instead of the readable form.
        #[arg(long)]
        json: bool,
        /// Exit 0 when already in sync and 3 when changes are pending (1 and 2 keep their
        /// meaning).
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Apply a saved plan exactly, or plan and apply in one run with `--desired`. Refuses a
    /// plan the live agents have moved away from, sending nothing.
    Apply {
        /// The plan `sync plan --out` saved.
        #[arg(required_unless_present_any = ["desired", "graph_group"], conflicts_with_all = ["desired", "graph_group"])]
        plan: Option<PathBuf>,
        /// Plan from this roster and apply at once, with the same guards (several files: the
        /// pages of an Entra export).
        #[arg(long, value_name = "DESIRED", num_args = 1.., conflicts_with = "graph_group")]
        desired: Option<Vec<PathBuf>>,
        #[command(flatten)]
        roster: RosterArgs,
        /// Stop at the first change the API refuses; the rest are not attempted.
        #[arg(long)]
        stop_on_error: bool,
        /// Apply a plan over its removal cap (the one a refused `sync plan` or a stopped
        /// nightly sync holds) after reading it: N is the number of its deactivations and
        /// offboards, which must match.
        #[arg(long, value_name = "N")]
        approve_removals: Option<u32>,
    },
    /// Print the settings of the Obelisk nightly sync (deploy/obelisk) for an Entra group:
    /// the parameters of `nightly.sync-group`, from the flags and files `sync plan
    /// --graph-group` takes, checked as it checks them. Reads and sends nothing else.
    NightlySettings {
        #[command(flatten)]
        roster: RosterArgs,
        /// Print the deployment's `[[cron]]` section that submits them on this schedule (a
        /// cron expression, UTC, such as "0 2 * * *"), instead of the parameters alone.
        #[arg(long, value_name = "SCHEDULE")]
        cron: Option<String>,
    },
}

/// How a roster is read and planned.
#[derive(Args)]
#[command(next_help_heading = "Roster")]
pub struct RosterArgs {
    /// The roster's format; default: by its extension (`.csv`), else JSON.
    #[arg(long, value_enum)]
    pub format: Option<OnboardFormat>,
    /// Read the roster from this Entra group's members through Microsoft Graph (nested
    /// groups' users included), instead of files: the app registration's id and secret in
    /// SMARTCOMM_GRAPH_CLIENT_ID and SMARTCOMM_GRAPH_CLIENT_SECRET, with the application
    /// permissions GroupMember.Read.All and User.Read.All.
    #[arg(
        long,
        value_name = "GROUP_ID",
        requires = "tenant_id",
        conflicts_with = "format"
    )]
    pub graph_group: Option<String>,
    /// The tenant of every agent of an Entra export or group (the Entra directory's id).
    #[arg(long, required_if_eq("format", "entra"))]
    pub tenant_id: Option<String>,
    /// For an Entra export or group: a mapping file (see `onboard-agents --help`); its
    /// `defaults` may also give `shared_inboxes`.
    #[arg(long, value_name = "FILE", requires = "tenant_id")]
    pub mapping: Option<PathBuf>,
    /// For an Entra export or group: a CSV keyed by user_object_id with roles, numbers,
    /// services and `shared_inboxes`.
    #[arg(long, value_name = "FILE", requires = "tenant_id")]
    pub sidecar: Option<PathBuf>,
    /// Only agents whose FIELD is VALUE (brand_name, department, region, state, district,
    /// store, city, zip_code); repeat to narrow further.
    #[arg(long, value_name = "FIELD=VALUE")]
    pub scope: Vec<String>,
    /// What to do with live agents in scope that the roster leaves out.
    #[arg(long, value_enum, default_value = "deactivate")]
    pub absent: Absent,
    /// Refuse a plan that deactivates or offboards more agents than this; default: 10% of
    /// the live agents in scope, rounded up.
    #[arg(long, value_name = "N")]
    pub max_removals: Option<u32>,
    /// A file of user_object_ids (one per line, `#` comments) never deactivated or offboarded.
    #[arg(long, value_name = "FILE")]
    pub protect: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Absent {
    /// `active: false`: reversible.
    Deactivate,
    /// Offboard them.
    Offboard,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

/// The formats `onboard-agents` reads.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum OnboardFormat {
    Json,
    Csv,
    /// A Microsoft Entra ID users export.
    Entra,
}

#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum GetKey {
    UserObjectId,
    ConsistencyId,
    Upn,
}

impl From<GetKey> for types::KeyId {
    fn from(key: GetKey) -> Self {
        match key {
            GetKey::UserObjectId => types::KeyId::UserObjectId,
            GetKey::ConsistencyId => types::KeyId::ConsistencyId,
            GetKey::Upn => types::KeyId::Upn,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ChangeKey {
    UserObjectId,
    ConsistencyId,
    Id,
}

impl From<ChangeKey> for types::KeyId {
    fn from(key: ChangeKey) -> Self {
        match key {
            ChangeKey::UserObjectId => types::KeyId::UserObjectId,
            ChangeKey::ConsistencyId => types::KeyId::ConsistencyId,
            ChangeKey::Id => types::KeyId::Id,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Status {
    /// Assigned to an agent or an inbox.
    Assigned,
    /// Free.
    Active,
}

impl From<Status> for types::NumberStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Assigned => types::NumberStatus::Assigned,
            Status::Active => types::NumberStatus::Active,
        }
    }
}
