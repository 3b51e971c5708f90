//! `sync plan` and `sync apply`: read the roster or the plan, call `sync.plan` and
//! `sync.apply`, print. The component computes and applies the plan.

use crate::cli::{Absent, Global, OnboardFormat, RosterArgs, SyncCommand};
use crate::commands::nightly;
use crate::connection::{EXIT_FAILED, Failure, invalid, settle, with_operations};
use crate::input::{batch_items, items_as, parse_file, read_input};
use crate::output::print;
use crate::{csv_input, entra_input};
use serde_json::{Value, json};
use smartcomm::error::Problem;
use smartcomm::sync::{
    AbsentAgents, ChangeAction, DesiredAgent, Plan, PlanOptions, ScopeField, ScopeMatch,
};
use smartcomm_host::convert::{OperationError, item_outcome_json};
use smartcomm_host::{CallError, Operations, steps, types};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Exit code of `sync plan --detailed-exitcode` when applying would change something.
const EXIT_CHANGES_PENDING: u8 = 3;

pub async fn run(global: &Global, command: SyncCommand) -> Result<u8, Failure> {
    if global.dry_run {
        // Sending nothing is what `sync plan` already does; an apply must never be mistaken
        // for a rehearsal.
        return Err(invalid(
            "`sync plan` is the dry run of `sync apply`: it writes nothing; drop --dry-run".into(),
        ));
    }
    match command {
        SyncCommand::Plan {
            desired,
            roster,
            out,
            json,
            detailed_exitcode,
        } => {
            let plan = make_plan(global, &desired, &roster).await?;
            if let Some(out) = out {
                let text = serde_json::to_string_pretty(&plan).expect("a plan always serializes");
                write_private(&out, &(text + "\n"))
                    .map_err(|e| invalid(format!("cannot write {}: {e}", out.display())))?;
            }
            if json {
                print(&json!(plan));
            } else {
                print!("{}", readable(&plan));
            }
            Ok(match detailed_exitcode && plan.summary.has_changes() {
                true => EXIT_CHANGES_PENDING,
                false => 0,
            })
        }
        SyncCommand::Apply {
            plan,
            desired,
            roster,
            stop_on_error,
            approve_removals,
        } => {
            let plan: Plan = match (plan, desired) {
                (Some(file), _) => parse_file(&file)?,
                // clap asks for one of PLAN, --desired and --graph-group.
                (None, desired) => {
                    let plan = make_plan(global, &desired.unwrap_or_default(), &roster).await?;
                    eprint!("{}", readable(&plan));
                    plan
                }
            };
            apply(global, plan, stop_on_error, approve_removals).await
        }
        SyncCommand::NightlySettings { roster, cron } => {
            let group = roster.graph_group.as_deref().ok_or_else(|| {
                invalid("the nightly sync reads an Entra group: give --graph-group".into())
            })?;
            let read = GroupRead::new(group, &roster)?;
            let options = plan_options(&roster)?;
            let params = nightly::params(
                read.tenant_id,
                group,
                &read.sources.mapping,
                &read.sources.extras,
                &options,
            );
            match cron {
                Some(schedule) => print!("{}", nightly::cron_section(&params, &schedule)),
                None => print(&params),
            }
            Ok(0)
        }
    }
}

/// The roster's agents, with what to call each in a problem (its line, item or user).
struct Roster {
    agents: Vec<DesiredAgent>,
    labels: Vec<String>,
}

fn read_roster(files: &[PathBuf], args: &RosterArgs) -> Result<Roster, Failure> {
    let entra = args.format == Some(OnboardFormat::Entra);
    let file: &Path = match files {
        [file] => file,
        _ if entra => &files[0],
        _ => {
            return Err(invalid(
                "one roster file, or several only for the pages of an Entra export (--format entra)"
                    .into(),
            ));
        }
    };
    let csv = args.format == Some(OnboardFormat::Csv)
        || (args.format.is_none()
            && file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")));
    let refused = |e: String| invalid(format!("{}: {e}", file.display()));
    if entra {
        let (_, sources) = entra_sources(args, "--format entra")?;
        let (agents, labels) = sources.export_roster(files)?;
        return Ok(Roster { agents, labels });
    }
    if csv {
        let rows = csv_input::roster(&read_input(file)?).map_err(refused)?;
        let labels = rows
            .iter()
            .map(|(line, _)| format!("line {line}"))
            .collect();
        let agents = rows.into_iter().map(|(_, agent)| agent).collect();
        return Ok(Roster { agents, labels });
    }
    let items = batch_items(file)?;
    // A misspelt field would otherwise pass as unmanaged and silently change nothing.
    let fields = roster_fields();
    let unknown: Vec<String> = items
        .iter()
        .enumerate()
        .flat_map(|(i, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|object| object.keys())
                .filter(|key| !fields.contains(&key.as_str()))
                .map(move |key| format!("item {i}, field {key}: not a field of a roster agent"))
        })
        .collect();
    if !unknown.is_empty() {
        return Err(invalid(format!(
            "{}: {}; the fields are {}",
            file.display(),
            unknown.join("; "),
            fields.join(", ")
        )));
    }
    let agents: Vec<DesiredAgent> = items_as(file, items)?;
    let labels = (0..agents.len()).map(|i| format!("item {i}")).collect();
    Ok(Roster { agents, labels })
}

/// The fields of a JSON roster's agent: an onboard item's (the CSV's profile columns, then
/// roles, numbers and services as the reference nests them) and the sync's own.
fn roster_fields() -> Vec<&'static str> {
    let provisioning = ["roles", "number_provisioning", "enabled_services"];
    [
        &csv_input::profile_columns()[..],
        &provisioning,
        csv_input::SYNC_COLUMNS,
    ]
    .concat()
}

fn plan_options(args: &RosterArgs) -> Result<PlanOptions, Failure> {
    let mut scope = Vec::new();
    for given in &args.scope {
        let (field, value) = given
            .split_once('=')
            .ok_or_else(|| invalid(format!("--scope {given:?}: expected FIELD=VALUE")))?;
        let field = ScopeField::parse(field.trim()).ok_or_else(|| {
            let names: Vec<&str> = ScopeField::ALL.iter().map(|f| f.as_str()).collect();
            invalid(format!(
                "--scope {given:?}: {field:?} is not a field a scope can match; use one of {}",
                names.join(", ")
            ))
        })?;
        scope.push(ScopeMatch {
            field,
            value: value.trim().to_string(),
        });
    }
    let protected = match &args.protect {
        Some(path) => read_input(path)?
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
        None => Vec::new(),
    };
    Ok(PlanOptions {
        absent: Some(match args.absent {
            Absent::Deactivate => AbsentAgents::Deactivate,
            Absent::Offboard => AbsentAgents::Offboard,
        }),
        scope,
        max_removals: args.max_removals,
        protected,
    })
}

/// Problems named by the roster's own terms: `line 7, field roles: …`.
fn roster_problems(problems: &[Problem], labels: &[String]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| match p.index.and_then(|i| labels.get(i)) {
            Some(label) => format!("{label}, field {}: {}", p.field, p.message),
            None => format!("{}: {}", p.field, p.message),
        })
        .collect();
    format!(
        "the roster has {} problem{}, nothing was read from the API:\n  {}",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        lines.join("\n  ")
    )
}

/// The Entra tenant and mapping sources that `flag` needs, read and checked.
fn entra_sources<'a>(
    args: &'a RosterArgs,
    flag: &str,
) -> Result<(&'a str, entra_input::Sources), Failure> {
    let tenant_id = args
        .tenant_id
        .as_deref()
        .ok_or_else(|| invalid(format!("{flag} needs --tenant-id")))?;
    let sources =
        entra_input::Sources::read(tenant_id, args.mapping.as_deref(), args.sidecar.as_deref())?;
    Ok((tenant_id, sources))
}

/// What reading an Entra group needs, checked before anything connects.
struct GroupRead<'a> {
    group: &'a str,
    tenant_id: &'a str,
    sources: entra_input::Sources,
}

impl<'a> GroupRead<'a> {
    fn new(group: &'a str, args: &'a RosterArgs) -> Result<Self, Failure> {
        let (tenant_id, sources) = entra_sources(args, "--graph-group")?;
        Ok(GroupRead {
            group,
            tenant_id,
            sources,
        })
    }

    /// The members of the group, read through Graph by the component: nothing is sent to
    /// the users API.
    async fn roster<O: Operations>(&self, ops: &mut O) -> Result<Roster, Failure>
    where
        O::Error: OperationError,
    {
        let mapping = self.sources.mapping.clone().into();
        let extras = self
            .sources
            .extras
            .iter()
            .cloned()
            .map(Into::into)
            .collect();
        let read = settle(
            ops.read_group(self.tenant_id.into(), self.group.into(), mapping, extras)
                .await,
        );
        let read: smartcomm::graph::GroupRoster = match read {
            Ok(read) => read.into(),
            Err(CallError::Api(types::Error::InvalidInput(problems))) => {
                let problems: Vec<Problem> = problems.into_iter().map(problem_of).collect();
                return Err(invalid(self.sources.described(&problems, &[])));
            }
            Err(e) => return Err(e.into()),
        };
        eprintln!(
            "Entra group {}: {} users in {} page{}{}",
            self.group,
            read.roster.len(),
            read.pages,
            if read.pages == 1 { "" } else { "s" },
            match read.skipped {
                0 => String::new(),
                n => format!("; {n} members that are not users left out"),
            }
        );
        let labels = read
            .roster
            .iter()
            .enumerate()
            .map(|(i, d)| match &d.agent.upn {
                Some(upn) => format!("member {i} ({upn})"),
                None => format!("member {i}"),
            })
            .collect();
        Ok(Roster {
            agents: read.roster,
            labels,
        })
    }
}

fn problem_of(p: types::InputProblem) -> Problem {
    Problem {
        index: p.index.map(|i| i as usize),
        field: p.field,
        message: p.message,
    }
}

/// The plan of the roster the flags name: files, or an Entra group read on the same
/// connection as the plan (one runtime, one sign-in).
async fn make_plan(global: &Global, files: &[PathBuf], args: &RosterArgs) -> Result<Plan, Failure> {
    match &args.graph_group {
        Some(group) => {
            let read = GroupRead::new(group, args)?;
            let options = plan_options(args)?;
            with_operations!(global, |ops| {
                let roster = checked(read.roster(&mut *ops).await?)?;
                plan_on(&mut *ops, roster, options).await
            })
        }
        None => {
            let roster = read_roster(files, args)?;
            let options = plan_options(args)?;
            let roster = checked(roster)?;
            with_operations!(global, |ops| plan_on(&mut *ops, roster, options).await)
        }
    }
}

/// The roster, checked here too (before the component does), so that the problems carry
/// the roster's lines.
fn checked(roster: Roster) -> Result<Roster, Failure> {
    match smartcomm::sync::check_roster(&roster.agents) {
        Ok(()) => Ok(roster),
        Err(problems) => Err(invalid(roster_problems(&problems, &roster.labels))),
    }
}

async fn plan_on<O: Operations>(
    ops: &mut O,
    roster: Roster,
    options: PlanOptions,
) -> Result<Plan, Failure>
where
    O::Error: OperationError,
{
    let desired: Vec<types::DesiredAgent> = roster.agents.into_iter().map(Into::into).collect();
    match settle(ops.sync_plan(desired, options.into()).await) {
        Ok(plan) => Ok(plan.into()),
        Err(CallError::Api(types::Error::InvalidInput(problems))) => {
            let problems: Vec<Problem> = problems.into_iter().map(problem_of).collect();
            Err(invalid(roster_problems(&problems, &roster.labels)))
        }
        Err(e) => Err(e.into()),
    }
}

async fn apply(
    global: &Global,
    plan: Plan,
    stop_on_error: bool,
    approved_removals: Option<u32>,
) -> Result<u8, Failure> {
    let options = types::ApplyOptions {
        continue_on_error: Some(!stop_on_error),
        approved_removals,
    };
    let changes = plan.changes.clone();
    let needed = deadline_for(&plan);
    let applied = with_operations!(global, Some(needed), |ops| settle(
        ops.sync_apply(plan.into(), options).await
    ));
    let report = match applied {
        Ok(report) => report,
        Err(CallError::Step(steps::StepError::IncompleteSync(report))) => report,
        Err(e) => return Err(e.into()),
    };
    let change_items: Vec<Value> = report
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut item = item_outcome_json(i, &c.outcome);
            item["action"] = json!(ChangeAction::from(c.action).as_str());
            item["user_object_id"] = json!(c.user_object_id);
            if let Some(planned) = changes.get(i) {
                item["name"] = json!(planned.name);
            }
            item
        })
        .collect();
    let assignment_items: Vec<Value> = report
        .assignments
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut item = item_outcome_json(i, &a.outcome);
            item["inbox"] = json!(a.inbox);
            item["operation"] = json!(smartcomm::model::Operation::from(a.operation).as_str());
            item["agents"] = json!(a.agents);
            item
        })
        .collect();
    let s = &report.summary;
    print(&json!({
        "summary": {
            "succeeded": s.succeeded,
            "already_done": s.already_done,
            "rejected": s.rejected,
            "failed": s.failed,
            "not_attempted": s.not_attempted,
        },
        "changes": change_items,
        "assignments": assignment_items,
    }));
    Ok(match s.rejected + s.failed + s.not_attempted {
        0 => 0,
        _ => EXIT_FAILED,
    })
}

/// Writes a file only its owner can read: a plan holds names, UPNs and numbers. An existing
/// file is made private before it is overwritten.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}

/// How long applying `plan` may take if every request it sends uses its whole retry budget:
/// a re-read per tenant, ten items per request of each kind (offboards in two phases), and
/// as many again for the reads that verify what a repeat finds done.
fn deadline_for(plan: &Plan) -> Duration {
    // The CLI keeps the retry policy's budget per request.
    let budget = smartcomm::config::RetryPolicy::default().budget_ms;
    let of = |action| plan.changes.iter().filter(|c| c.action == action).count();
    let requests = plan.tenants.len()
        + [
            ChangeAction::Onboard,
            ChangeAction::Update,
            ChangeAction::Deactivate,
            ChangeAction::Offboard,
        ]
        .map(|action| of(action).div_ceil(10))
        .iter()
        .sum::<usize>()
        + 1
        + plan.assignments.len().div_ceil(10);
    Duration::from_millis(u64::from(budget) * 2 * requests as u64)
}

/// A field's value as the plan shows it: text quoted, numbers and flags as they are.
fn shown(field: &str, value: &Option<String>) -> String {
    let bare = field == "active"
        || field.starts_with("enabled_services.")
        || field.starts_with("phone_number.");
    match value {
        Some(v) if bare => v.clone(),
        Some(v) => format!("{v:?}"),
        None => "(none)".into(),
    }
}

/// The plan as a person reads it before approving it, in the manner of `terraform plan`.
pub fn readable(plan: &Plan) -> String {
    let mut out = String::new();
    let s = &plan.summary;
    out.push_str(&format!(
        "Tenants read: {}. Live agents outside the scope: {}.\n",
        plan.tenants.join(", "),
        s.out_of_scope
    ));
    if !plan.changes.is_empty() || !plan.assignments.is_empty() {
        out.push('\n');
    }
    for change in &plan.changes {
        let (sign, verb) = match change.action {
            ChangeAction::Onboard => ('+', "onboard"),
            ChangeAction::Update => ('~', "update"),
            ChangeAction::Deactivate => ('-', "deactivate"),
            ChangeAction::Offboard => ('-', "offboard"),
        };
        out.push_str(&format!(
            "  {sign} {verb} {} ({})\n",
            change.name, change.user_object_id
        ));
        for field in &change.fields {
            let line = match (field.field.as_str(), change.action) {
                ("roles", _) => match (&field.old, &field.new) {
                    (None, Some(role)) => format!("roles: assign {role}"),
                    (Some(role), None) => format!("roles: remove {role}"),
                    _ => "roles".into(),
                },
                (name, ChangeAction::Onboard) => format!("{name}: {}", shown(name, &field.new)),
                (name, _) => format!(
                    "{name}: {} → {}",
                    shown(name, &field.old),
                    shown(name, &field.new)
                ),
            };
            out.push_str(&format!("        {line}\n"));
        }
    }
    for assignment in &plan.assignments {
        let (sign, verb) = match assignment.operation {
            smartcomm::model::Operation::Add => ('+', "add to"),
            smartcomm::model::Operation::Remove => ('-', "remove from"),
        };
        out.push_str(&format!(
            "  {sign} {verb} shared inbox {}: {}\n",
            assignment.inbox,
            assignment.agents.join(", ")
        ));
    }
    if !plan.unconvergeable.is_empty() {
        out.push_str("\nThe API cannot converge these; they stay as they are:\n");
        for u in &plan.unconvergeable {
            out.push_str(&format!(
                "  ! {} {}: {}\n",
                u.user_object_id, u.field, u.reason
            ));
        }
    }
    if !plan.kept.is_empty() {
        out.push_str(&format!(
            "\nProtected, kept although the roster would remove them: {}\n",
            plan.kept.join(", ")
        ));
    }
    if !plan.changes.is_empty() || !plan.assignments.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!(
        "Plan: {} to onboard, {} to update, {} to deactivate, {} to offboard, {} inbox membership changes; {} unchanged.\n",
        s.onboard, s.update, s.deactivate, s.offboard, s.assignments, s.unchanged
    ));
    if !s.has_changes() {
        out.push_str("No changes: the account is in sync with the roster.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_roster_fields_are_exactly_what_a_desired_agent_serializes() {
        let mut every: Value = json!(DesiredAgent {
            active: Some(true),
            shared_inboxes: Some(vec![]),
            ..DesiredAgent::default()
        });
        let agent: Value = json!({"upn": "", "consistency_id": "", "brand_name": "",
            "department": "", "region": "", "state": "", "district": "", "store": "", "city": "",
            "zip_code": "", "roles": [], "enabled_services": {},
            "number_provisioning": [{"type": "messaging", "phone_number": "+15550100000"}]});
        for (k, v) in agent.as_object().unwrap() {
            every[k] = v.clone();
        }
        let parsed: DesiredAgent = serde_json::from_value(every).unwrap();
        let serialized = json!(parsed);
        let mut keys: Vec<&str> = serialized
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut fields = roster_fields();
        keys.sort();
        fields.sort();
        assert_eq!(keys, fields);
    }
    use smartcomm::model::Operation;
    use smartcomm::sync::{FieldChange, PlanSummary, PlannedAssignment, PlannedChange};

    #[test]
    fn a_readable_plan_marks_each_change_and_shows_every_field_old_to_new() {
        let field = |field: &str, old: Option<&str>, new: Option<&str>| FieldChange {
            field: field.into(),
            old: old.map(Into::into),
            new: new.map(Into::into),
        };
        let change = |action, fields| PlannedChange {
            action,
            user_object_id: "u1".into(),
            tenant_id: "t".into(),
            name: "Ann".into(),
            onboard: None,
            update: None,
            fields,
            observed: None,
        };
        let plan = Plan {
            customer_id: "c".into(),
            tenants: vec!["t".into()],
            options: PlanOptions::default(),
            changes: vec![
                change(
                    ChangeAction::Update,
                    vec![
                        field("department", Some("Deli"), Some("Bakery")),
                        field("roles", None, Some("manager")),
                        field("roles", Some("member"), None),
                        field("phone_number.messaging", None, Some("+15550100001")),
                    ],
                ),
                change(
                    ChangeAction::Deactivate,
                    vec![field("active", Some("true"), Some("false"))],
                ),
            ],
            assignments: vec![PlannedAssignment {
                inbox: "+15550100050".into(),
                operation: Operation::Add,
                agents: vec!["u1".into(), "u2".into()],
            }],
            unconvergeable: vec![],
            kept: vec!["u9".into()],
            summary: PlanSummary {
                update: 1,
                deactivate: 1,
                assignments: 2,
                unchanged: 4,
                ..PlanSummary::default()
            },
            fingerprint: String::new(),
        };
        let text = readable(&plan);
        for line in [
            "  ~ update Ann (u1)\n",
            "        department: \"Deli\" → \"Bakery\"\n",
            "        roles: assign manager\n",
            "        roles: remove member\n",
            "        phone_number.messaging: (none) → +15550100001\n",
            "  - deactivate Ann (u1)\n",
            "        active: true → false\n",
            "  + add to shared inbox +15550100050: u1, u2\n",
            "Protected, kept although the roster would remove them: u9\n",
            "Plan: 0 to onboard, 1 to update, 1 to deactivate, 0 to offboard, 2 inbox membership changes; 4 unchanged.\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        assert!(!text.contains("No changes"));
    }
}
