//! The component's settings on the command line: a flag for every setting of
//! `smartcomm::config::SETTINGS` but the secrets, each overriding its `SMARTCOMM_*` variable,
//! read by the component's own `Config::from_env`. The same list writes the settings table of
//! `docs/cli.md`.

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use smartcomm::config::{SETTINGS, Setting};
use std::collections::BTreeMap;

/// The settings given as flags or variables, by variable.
#[derive(Debug, Clone, Default)]
pub struct SettingFlags(BTreeMap<&'static str, String>);

impl SettingFlags {
    /// The value of `variable`: its flag, else its variable; a secret from its variable only
    /// (unless set here). An empty value counts as unset.
    pub fn get(&self, variable: &str) -> Option<String> {
        let given = self.0.get(variable).cloned();
        let value = match setting(variable).and_then(|s| s.flag) {
            Some(_) => given,
            None => given.or_else(|| std::env::var(variable).ok()),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// Sets a value that came from elsewhere (a password typed at a prompt).
    pub fn set(&mut self, variable: &'static str, value: String) {
        self.0.insert(variable, value);
    }
}

fn setting(variable: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.variable == variable)
}

/// How a problem's variable reads to a person at the command line: `--flag (VARIABLE)`.
pub fn named(variable: &str) -> String {
    match setting(variable).and_then(|s| s.flag) {
        Some(flag) => format!("--{flag} ({variable})"),
        None => variable.to_string(),
    }
}

impl Args for SettingFlags {
    fn augment_args(command: Command) -> Command {
        SETTINGS.iter().fold(command, |command, s| match s.flag {
            Some(flag) => command.arg(
                Arg::new(s.variable)
                    .long(flag)
                    .env(s.variable)
                    .value_name(s.value_name)
                    .help(s.meaning)
                    .global(true)
                    .help_heading("Settings"),
            ),
            None => command,
        })
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

impl FromArgMatches for SettingFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let values = SETTINGS
            .iter()
            .filter(|s| s.flag.is_some())
            .filter_map(|s| {
                let value = matches.get_one::<String>(s.variable)?;
                Some((s.variable, value.clone()))
            })
            .collect();
        Ok(SettingFlags(values))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// Settings of the command itself, not of the component.
#[cfg(test)]
const COMMAND_SETTINGS: [(&str, &str, &str); 3] = [
    (
        "`--component PATH`",
        "—",
        "run this component (.wasm) instead of the one built in",
    ),
    (
        "—",
        "`SMARTCOMM_CACHE_DIR`",
        "where the compiled component is kept; default `$XDG_CACHE_HOME/smartcomm`, else `~/.cache/smartcomm`; none without either (a service account without a home compiles at every start)",
    ),
    (
        "`-v`, `-vv`",
        "`SMARTCOMM_LOG` (a tracing filter, instead)",
        "what is logged, on stderr: warnings only by default (`scim serve`: a line per request); `-v` adds each request's method, origin and first two path segments and its answer's status; `-vv` adds whole URLs, which may hold a UPN (personal data). Passwords, tokens and bodies are never logged",
    ),
];

/// The settings table of `docs/cli.md`, written from the list.
#[cfg(test)]
fn docs_table() -> String {
    let mut table = String::from("| flag | variable | what it is |\n|---|---|---|\n");
    for s in SETTINGS {
        let flag = match s.flag {
            Some(flag) => format!("`--{flag} {}`", s.value_name.replace('|', "\\|")),
            None => "— (a secret: never a flag)".to_string(),
        };
        let meaning = s.meaning.replace('|', "\\|");
        table.push_str(&format!("| {flag} | `{}` | {meaning} |\n", s.variable));
    }
    for (flag, variable, meaning) in COMMAND_SETTINGS {
        table.push_str(&format!("| {flag} | {variable} | {meaning} |\n"));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With `SMARTCOMM_WRITE_DOCS=1`, writes the table into the docs instead of comparing.
    #[test]
    fn the_settings_table_of_the_docs_is_the_list_of_settings() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cli.md");
        let docs = std::fs::read_to_string(path).unwrap();
        let (start, end) = ("<!-- settings -->\n", "<!-- /settings -->");
        let (before, rest) = docs.split_once(start).expect("the table's start marker");
        let (table, after) = rest.split_once(end).expect("the table's end marker");
        if std::env::var_os("SMARTCOMM_WRITE_DOCS").is_some() {
            let written = format!("{before}{start}{}{end}{after}", docs_table());
            std::fs::write(path, written).unwrap();
            return;
        }
        assert_eq!(
            table,
            docs_table(),
            "docs/cli.md's settings table differs from the list (SMARTCOMM_WRITE_DOCS=1 rewrites it)"
        );
    }
}
