//! Entra ID rosters for the CLI: the mapping file and the sidecar CSV, and the roster of an
//! export's files (Graph `GET /users` pages, or `az ad user list`). The mapping itself is the
//! `smartcomm::entra` module's, the same the component uses for a group read through Graph.
//! Problems name the user, the sidecar line or the mapping key.

use crate::connection::{Failure, invalid};
use crate::csv_input;
use crate::input::{parse_file, read_input};
use smartcomm::entra::{self, Extra, Mapping};
use smartcomm::error::Problem;
use smartcomm::sync::DesiredAgent;
use std::path::{Path, PathBuf};

/// A mapping and a sidecar, read and checked: what an Entra roster is read with.
pub struct Sources {
    pub tenant_id: String,
    pub mapping: Mapping,
    pub extras: Vec<Extra>,
    /// The sidecar line of each extra.
    lines: Vec<u64>,
}

impl Sources {
    pub fn read(
        tenant_id: &str,
        mapping: Option<&Path>,
        sidecar: Option<&Path>,
    ) -> Result<Sources, Failure> {
        let mapping = match mapping {
            Some(path) => parse_file::<Mapping>(path)?,
            None => Mapping::default(),
        };
        // Named by key before anything else is read or sent.
        if let Err(problems) = mapping.resolve() {
            return Err(invalid(described(&problems, |_| String::new(), &[])));
        }
        let rows = match sidecar {
            Some(path) => csv_input::sidecar(&read_input(path)?)
                .map_err(|e| invalid(format!("{}: {e}", path.display())))?,
            None => Vec::new(),
        };
        let (lines, extras) = rows.into_iter().unzip();
        Ok(Sources {
            tenant_id: tenant_id.to_string(),
            mapping,
            extras,
            lines,
        })
    }

    /// The roster of an export's `files` (Graph pages may come one file each), and what to
    /// call each user in a problem.
    pub fn export_roster(
        &self,
        files: &[PathBuf],
    ) -> Result<(Vec<DesiredAgent>, Vec<String>), Failure> {
        let mut text = Vec::new();
        for file in files {
            text.push(read_input(file)?);
        }
        let users = entra::users_of_export(&text.join("\n"))
            .map_err(|e| invalid(format!("{}: {e}", files[0].display())))?;
        let resolved = self.mapping.resolve().expect("checked when read");
        self.refuse_partial_export(&users, &resolved.properties(), files)?;
        let labels: Vec<String> = users
            .iter()
            .enumerate()
            .map(
                |(i, user)| match user.get("userPrincipalName").and_then(|v| v.as_str()) {
                    Some(upn) => format!("user {i} ({upn})"),
                    None => format!("user {i}"),
                },
            )
            .collect();
        let roster = entra::roster(&users, &self.tenant_id, &resolved, &self.extras)
            .map_err(|problems| invalid(self.described(&problems, &labels)))?;
        Ok((roster, labels))
    }

    /// Refuses an export whose users lack `accountEnabled`: Graph and `az ad user list` give
    /// it only when asked for, and without it a disabled account would be taken as unmanaged
    /// and never deactivated. The message gives the export that has every property the
    /// mapping reads.
    fn refuse_partial_export(
        &self,
        users: &[entra::User],
        properties: &[&str],
        files: &[PathBuf],
    ) -> Result<(), Failure> {
        let lacking: Vec<String> = users
            .iter()
            .enumerate()
            .filter(|(_, user)| !user.contains_key(entra::ENABLED))
            .map(
                |(i, user)| match user.get("userPrincipalName").and_then(|v| v.as_str()) {
                    Some(upn) => format!("user {i} ({upn})"),
                    None => format!("user {i}"),
                },
            )
            .collect();
        if lacking.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = lacking.iter().take(3).map(String::as_str).collect();
        Err(invalid(format!(
            "{}: {} of the {} users have no {} ({}{}): without it a disabled account is never \
             deactivated. `az ad user list` leaves it out; export the users with every property \
             the mapping reads, a page of 999 at a time, following each page's \
             @odata.nextLink:\n  az rest --method get --url '{}'",
            files[0].display(),
            lacking.len(),
            users.len(),
            entra::ENABLED,
            shown.join(", "),
            if lacking.len() > shown.len() {
                ", …"
            } else {
                ""
            },
            entra::users_url(properties),
        )))
    }

    /// `problems` of a roster, each named by its user's label, its sidecar line or its
    /// mapping key.
    pub fn described(&self, problems: &[Problem], labels: &[String]) -> String {
        let label = |i: usize| labels.get(i).cloned().unwrap_or(format!("user {i}"));
        described(problems, label, &self.lines)
    }
}

fn described(problems: &[Problem], label: impl Fn(usize) -> String, lines: &[u64]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| match (p.index, p.field.as_str()) {
            (Some(j), "extras.user_object_id") => format!(
                "sidecar line {}, column user_object_id: {}",
                lines.get(j).copied().unwrap_or_default(),
                p.message
            ),
            (Some(i), field) => format!("{}, field {field}: {}", label(i), p.message),
            (None, field) => format!("{}: {}", field.replacen('.', ": ", 1), p.message),
        })
        .collect();
    format!(
        "{} problem{}:\n  {}",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        lines.join("\n  ")
    )
}

/// An export's agents to onboard: the enabled accounts; the disabled ones are named on stderr.
pub fn onboard_items(roster: Vec<DesiredAgent>) -> Vec<smartcomm::model::NewAgent> {
    let (disabled, enabled): (Vec<_>, Vec<_>) =
        roster.into_iter().partition(|d| d.active == Some(false));
    if !disabled.is_empty() {
        let names: Vec<String> = disabled
            .iter()
            .map(|d| {
                d.agent
                    .upn
                    .clone()
                    .unwrap_or(d.agent.user_object_id.clone())
            })
            .collect();
        eprintln!(
            "{} disabled account{} not onboarded: {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        );
    }
    enabled.into_iter().map(|d| d.agent).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_named_by_user_sidecar_line_and_mapping_key() {
        let problems = [
            Problem {
                index: Some(1),
                field: "name".into(),
                message: "is required".into(),
            },
            Problem {
                index: Some(0),
                field: "extras.user_object_id".into(),
                message: "\"nobody\" is not a user of the roster".into(),
            },
            Problem {
                index: None,
                field: "mapping.fields.nickname".into(),
                message: "not an agent field".into(),
            },
        ];
        let labels = ["user 0 (a@x)".to_string(), "user 1 (b@x)".to_string()];
        let text = described(&problems, |i| labels[i].clone(), &[7]);
        assert_eq!(
            text,
            "3 problems:\n  \
             user 1 (b@x), field name: is required\n  \
             sidecar line 7, column user_object_id: \"nobody\" is not a user of the roster\n  \
             mapping: fields.nickname: not an agent field"
        );
    }
}
