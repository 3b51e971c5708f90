//! CSV files for `onboard-agents`, `offboard-agents` and `sync`, as an HR export would have them.
//! The header row names the columns; a cell that does not fit is reported by line and column.

use smartcomm::entra::Extra;
use smartcomm::model::{
    EnabledServices, IdentifierKind, NewAgent, NumberProvisioning, NumberType, OffboardItem,
    ProfileField, Role, Selector,
};
use smartcomm::sync::DesiredAgent;
use std::cell::RefCell;
use std::collections::HashMap;

/// The profile columns of an onboarding CSV, in the reference's names: the agent's identity,
/// then its profile fields.
pub fn profile_columns() -> Vec<&'static str> {
    let mut columns = vec!["user_object_id", "tenant_id", "name"];
    columns.extend(ProfileField::ALL.iter().map(|f| f.name()));
    columns
}

/// What a row says of an agent beyond its profile: shared by onboarding CSVs and the sidecar
/// of an Entra export.
const PROVISIONING_COLUMNS: &[&str] = &[
    "roles",
    "messaging_number",
    "supervised_number",
    "supervisors",
    "supervisors_identifier",
    "messages",
    "supervised_inbox",
    "calls",
    "shared_inbox",
];

fn onboard_columns() -> Vec<&'static str> {
    [&profile_columns()[..], PROVISIONING_COLUMNS].concat()
}

/// What only a sync manages: whether the account is enabled, and its shared inboxes.
pub const SYNC_COLUMNS: &[&str] = &["active", "shared_inboxes"];

/// A desired roster for `sync plan`: an onboarding CSV plus the sync's columns.
fn roster_columns() -> Vec<&'static str> {
    [&onboard_columns()[..], SYNC_COLUMNS].concat()
}

/// An Entra export's sidecar: the user, what Entra does not hold, and (for a sync) the
/// shared inboxes.
fn sidecar_columns() -> Vec<&'static str> {
    [
        &["user_object_id"],
        PROVISIONING_COLUMNS,
        &["shared_inboxes"],
    ]
    .concat()
}

const OFFBOARD_COLUMNS: &[&str] = &["identifier", "value"];

/// Lists inside a cell (roles, supervisors, values) are separated by this.
const LIST_SEPARATOR: char = ';';

/// One row, by column name; empty cells are absent. Problems found in it go to `problems`,
/// so that one pass over a file reports all of them.
struct Row<'a, 'p> {
    line: u64,
    cells: HashMap<&'a str, String>,
    /// The columns the file has, empty cells or not.
    header: &'p [&'a str],
    problems: &'p RefCell<Vec<String>>,
}

impl Row<'_, '_> {
    /// A list column: `None` when the file has no such column (unmanaged), else the cell's
    /// values (an empty cell: none).
    fn managed_list(&self, column: &str) -> Option<Vec<String>> {
        self.header.contains(&column).then(|| self.list(column))
    }

    fn text(&self, column: &str) -> Option<String> {
        self.cells.get(column).cloned()
    }

    fn problem(&self, column: &str, message: impl std::fmt::Display) {
        self.problems
            .borrow_mut()
            .push(format!("line {}, column {column}: {message}", self.line));
    }

    fn required(&self, column: &str) -> String {
        self.text(column).unwrap_or_else(|| {
            self.problem(column, "is required");
            String::new()
        })
    }

    fn list(&self, column: &str) -> Vec<String> {
        self.text(column)
            .map(|v| {
                v.split(LIST_SEPARATOR)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, column: &str, value: &str) -> Option<T> {
        let parsed = serde_json::from_value(serde_json::Value::String(value.to_string())).ok();
        if parsed.is_none() {
            self.problem(column, format!("{value:?} is not a valid {column}"));
        }
        parsed
    }

    fn flag(&self, column: &str) -> Option<bool> {
        match self.text(column).map(|v| v.to_ascii_lowercase()) {
            None => None,
            Some(v) if v == "true" || v == "yes" || v == "1" => Some(true),
            Some(v) if v == "false" || v == "no" || v == "0" => Some(false),
            Some(v) => {
                self.problem(column, format!("{v:?} is not true or false"));
                None
            }
        }
    }
}

/// Reads the rows of `text`, checking the header against `columns`; `read` turns each row into
/// an item. Returns the items with every problem of every row, each named by line and column;
/// only a header that does not fit stops the reading.
fn read<'a, T>(
    text: &str,
    columns: &[&'static str],
    read: impl Fn(&Row<'a, '_>) -> T,
) -> Result<(Vec<T>, Vec<String>), String> {
    let problems = RefCell::new(Vec::new());
    let items = rows(text, columns, &problems, read)?;
    Ok((items, problems.into_inner()))
}

/// What was read, or all the problems, one per line.
fn refused_if_any<T>(read: T, problems: Vec<String>) -> Result<T, String> {
    match problems.is_empty() {
        true => Ok(read),
        false => Err(format!(
            "{} problem{}:\n  {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  ")
        )),
    }
}

fn rows<'a, T>(
    text: &str,
    columns: &[&'static str],
    problems: &RefCell<Vec<String>>,
    read: impl Fn(&Row<'a, '_>) -> T,
) -> Result<Vec<T>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| format!("line 1: {e}"))?
        .clone();
    let mut names = Vec::new();
    for (i, name) in header.iter().enumerate() {
        match columns.iter().find(|c| **c == name) {
            Some(c) => names.push(*c),
            None => {
                return Err(format!(
                    "line 1, column {}: unknown column {name:?}; the columns are {}",
                    i + 1,
                    columns.join(", ")
                ));
            }
        }
    }
    let mut items = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.borrow_mut().push(match e.position() {
                    Some(p) => format!("line {}: {e}", p.line()),
                    None => e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or_default();
        let cells = names
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        items.push(read(&Row {
            line,
            cells,
            header: &names,
            problems,
        }));
    }
    Ok(items)
}

/// Values of `column` that more than one row holds, reported on every row after the first.
fn unique(rows: &[(u64, Option<String>)], column: &str, problems: &mut Vec<String>) {
    let mut first: HashMap<&str, u64> = HashMap::new();
    for (line, value) in rows {
        let Some(value) = value else { continue };
        match first.get(value.as_str()) {
            Some(earlier) => problems.push(format!(
                "line {line}, column {column}: {value:?} is also on line {earlier}"
            )),
            None => {
                first.insert(value, *line);
            }
        }
    }
}

/// What a row says of an agent beyond its profile: roles, numbers and services. Shared by
/// onboarding files and the sidecar of an Entra export.
#[derive(Debug, Default, Clone, PartialEq)]
struct Provisioning {
    roles: Option<Vec<Role>>,
    number_provisioning: Vec<NumberProvisioning>,
    enabled_services: Option<EnabledServices>,
}

fn provisioning(row: &Row<'_, '_>) -> Provisioning {
    let roles: Vec<Role> = row
        .list("roles")
        .iter()
        .filter_map(|r| row.parse::<Role>("roles", r))
        .collect();
    let supervisors_identifier = row
        .text("supervisors_identifier")
        .and_then(|v| row.parse::<IdentifierKind>("supervisors_identifier", &v))
        .unwrap_or(IdentifierKind::UserObjectId);
    let supervisors = row.list("supervisors");
    let mut numbers = Vec::new();
    if let Some(number) = row.text("supervised_number") {
        numbers.push(NumberProvisioning {
            number_type: NumberType::Supervised,
            phone_number: number,
            supervisors: (!supervisors.is_empty()).then(|| Selector {
                identifier: supervisors_identifier,
                values: supervisors.clone(),
            }),
        });
    } else if !supervisors.is_empty() {
        row.problem("supervisors", "needs a supervised_number");
    }
    if let Some(number) = row.text("messaging_number") {
        numbers.push(NumberProvisioning {
            number_type: NumberType::Messaging,
            phone_number: number,
            supervisors: None,
        });
    }
    let services = EnabledServices {
        messages: row.flag("messages"),
        supervised_inbox: row.flag("supervised_inbox"),
        calls: row.flag("calls"),
        shared_inbox: row.flag("shared_inbox"),
    };
    Provisioning {
        roles: (!roles.is_empty()).then_some(roles),
        number_provisioning: numbers,
        enabled_services: (services != EnabledServices::default()).then_some(services),
    }
}

/// A sidecar CSV: per `user_object_id`, the roles, numbers, services and shared inboxes
/// that Entra does not hold, each with the line it came from.
pub fn sidecar(text: &str) -> Result<Vec<(u64, Extra)>, String> {
    let (rows, mut problems) = read(text, &sidecar_columns(), |row| {
        let provisioning = provisioning(row);
        let extra = Extra {
            user_object_id: row.required("user_object_id"),
            roles: provisioning.roles,
            number_provisioning: provisioning.number_provisioning,
            enabled_services: provisioning.enabled_services,
            shared_inboxes: row.managed_list("shared_inboxes"),
        };
        (row.line, extra)
    })?;
    let keys: Vec<(u64, Option<String>)> = rows
        .iter()
        .map(|(line, extra)| {
            let id = Some(extra.user_object_id.clone()).filter(|v| !v.is_empty());
            (*line, id)
        })
        .collect();
    unique(&keys, "user_object_id", &mut problems);
    refused_if_any(rows, problems)
}

pub fn onboard(text: &str) -> Result<Vec<NewAgent>, String> {
    let agents = agents(text, &onboard_columns(), |_| ())?;
    Ok(agents.into_iter().map(|(agent, ())| agent).collect())
}

/// A desired roster: the onboarding columns, `active` (empty: unmanaged) and
/// `shared_inboxes` (the inboxes' numbers; an empty cell: none, no column: unmanaged).
/// Each agent comes with the line it was read from.
pub fn roster(text: &str) -> Result<Vec<(u64, DesiredAgent)>, String> {
    let agents = agents(text, &roster_columns(), |row| {
        (
            row.line,
            row.flag("active"),
            row.managed_list("shared_inboxes"),
        )
    })?;
    Ok(agents
        .into_iter()
        .map(|(agent, (line, active, shared_inboxes))| {
            let desired = DesiredAgent {
                agent,
                active,
                shared_inboxes,
            };
            (line, desired)
        })
        .collect())
}

/// Agents with what `extra` reads of each row, or every problem of every row.
fn agents<'a, E>(
    text: &str,
    columns: &[&'static str],
    extra: impl Fn(&Row<'a, '_>) -> E,
) -> Result<Vec<(NewAgent, E)>, String> {
    let (rows, mut problems) = read(text, columns, |row| {
        let Provisioning {
            roles,
            number_provisioning,
            enabled_services,
        } = provisioning(row);
        let mut agent = NewAgent {
            user_object_id: row.required("user_object_id"),
            tenant_id: row.required("tenant_id"),
            name: row.required("name"),
            roles,
            number_provisioning,
            enabled_services,
            ..NewAgent::default()
        };
        for &field in ProfileField::ALL {
            *agent.profile_mut(field) = row.text(field.name());
        }
        (row.line, agent, extra(row))
    })?;
    // Duplicates are problems too, reported with the rest.
    let keyed = |key: fn(&NewAgent) -> Option<String>| -> Vec<(u64, Option<String>)> {
        rows.iter().map(|(line, a, _)| (*line, key(a))).collect()
    };
    let user_object_id = |a: &NewAgent| Some(a.user_object_id.clone()).filter(|v| !v.is_empty());
    unique(&keyed(user_object_id), "user_object_id", &mut problems);
    unique(
        &keyed(|a| a.consistency_id.clone()),
        "consistency_id",
        &mut problems,
    );
    problems.sort_by_key(|p| line_of(p));
    refused_if_any(
        rows.into_iter().map(|(_, agent, e)| (agent, e)).collect(),
        problems,
    )
}

/// The line a problem names, to list problems in the file's order.
fn line_of(problem: &str) -> u64 {
    problem
        .strip_prefix("line ")
        .and_then(|rest| rest.split([',', ':']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub fn offboard(text: &str) -> Result<Vec<OffboardItem>, String> {
    let (items, problems) = read(text, OFFBOARD_COLUMNS, |row| {
        let identifier = row.required("identifier");
        let value = row.list("value");
        if value.is_empty() {
            row.problem("value", "is required");
        }
        let identifier = match identifier.is_empty() {
            true => IdentifierKind::UserObjectId,
            false => row
                .parse("identifier", &identifier)
                .unwrap_or(IdentifierKind::UserObjectId),
        };
        OffboardItem { identifier, value }
    })?;
    refused_if_any(items, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_cell_of_every_row_is_reported_in_one_pass() {
        let csv = "user_object_id,tenant_id,name,roles,calls\n\
                   a,t,A,owner,yes\n\
                   b,t,,member,maybe\n\
                   c,t,C,member;chief,no\n";
        let error = onboard(csv).unwrap_err();
        assert_eq!(
            error,
            "4 problems:\n  \
             line 2, column roles: \"owner\" is not a valid roles\n  \
             line 3, column calls: \"maybe\" is not true or false\n  \
             line 3, column name: is required\n  \
             line 4, column roles: \"chief\" is not a valid roles"
        );
    }

    #[test]
    fn duplicate_user_object_ids_and_consistency_ids_are_problems_naming_both_lines() {
        let csv = "user_object_id,tenant_id,name,consistency_id\n\
                   a,t,A,E1\n\
                   b,t,B,E2\n\
                   a,t,A again,E3\n\
                   d,t,D,E2\n";
        let error = onboard(csv).unwrap_err();
        assert!(
            error.contains("line 4, column user_object_id: \"a\" is also on line 2"),
            "{error}"
        );
        assert!(
            error.contains("line 5, column consistency_id: \"E2\" is also on line 3"),
            "{error}"
        );
        assert!(error.starts_with("2 problems:"), "{error}");
    }

    #[test]
    fn a_good_file_reads_every_row() {
        let csv = "user_object_id,tenant_id,name,roles,messaging_number\n\
                   a,t,A,member;manager,+15550100000\n\
                   b,t,B,,\n";
        let agents = onboard(csv).unwrap();
        assert_eq!(agents.len(), 2);
        assert_eq!(agents[0].roles, Some(vec![Role::Member, Role::Manager]));
        assert_eq!(agents[0].number_provisioning.len(), 1);
        assert_eq!(agents[1].roles, None);
    }

    #[test]
    fn a_roster_manages_shared_inboxes_only_when_it_has_the_column_and_an_empty_cell_means_none() {
        let csv = "user_object_id,tenant_id,name,active,shared_inboxes\n\
                   a,t,A,false,+15550100050;+15550100051\n\
                   b,t,B,,\n";
        let rows = roster(csv).unwrap();
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.active, Some(false));
        assert_eq!(rows[0].1.shared_inboxes.as_ref().unwrap().len(), 2);
        assert_eq!(rows[1].1.active, None, "an empty cell leaves it as it is");
        assert_eq!(rows[1].1.shared_inboxes, Some(vec![]), "in no shared inbox");
        let without = roster("user_object_id,tenant_id,name\na,t,A\n").unwrap();
        assert_eq!(without[0].1.shared_inboxes, None, "no column: unmanaged");
    }

    #[test]
    fn a_roster_reports_every_bad_cell_with_its_line() {
        let error =
            roster("user_object_id,tenant_id,name,active\na,t,A,maybe\na,t,,true\n").unwrap_err();
        assert!(error.starts_with("3 problems:"), "{error}");
        assert!(error.contains("line 2, column active"), "{error}");
        assert!(
            error.contains("line 3, column name: is required"),
            "{error}"
        );
        assert!(error.contains("line 3, column user_object_id"), "{error}");
    }

    #[test]
    fn offboarding_rows_report_all_their_problems() {
        let csv = "identifier,value\nupn,\nnickname,x\nuser_object_id,a;b\n";
        let error = offboard(csv).unwrap_err();
        assert_eq!(
            error,
            "2 problems:\n  \
             line 2, column value: is required\n  \
             line 3, column identifier: \"nickname\" is not a valid identifier"
        );
    }
}
