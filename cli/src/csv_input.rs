//! CSV files for `agents onboard` and `agents offboard-many`, as an HR export would have them.
//! The header row names the columns; a cell that does not fit is reported by line and column.

use smartcomm::model::{
    EnabledServices, IdentifierKind, NewAgent, NumberProvisioning, NumberType, OffboardItem, Role,
    Selector,
};
use std::collections::HashMap;

/// The columns an onboarding CSV may have, in the reference's names.
pub const ONBOARD_COLUMNS: &[&str] = &[
    "user_object_id",
    "tenant_id",
    "name",
    "upn",
    "consistency_id",
    "brand_name",
    "department",
    "region",
    "state",
    "district",
    "store",
    "city",
    "zip_code",
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

pub const OFFBOARD_COLUMNS: &[&str] = &["identifier", "value"];

/// Lists inside a cell (roles, supervisors, values) are separated by this.
const LIST_SEPARATOR: char = ';';

/// One row, by column name; empty cells are absent.
struct Row<'a> {
    line: u64,
    cells: HashMap<&'a str, String>,
}

impl Row<'_> {
    fn text(&self, column: &str) -> Option<String> {
        self.cells.get(column).cloned()
    }

    fn error(&self, column: &str, message: impl std::fmt::Display) -> String {
        format!("line {}, column {column}: {message}", self.line)
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

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        column: &str,
        value: &str,
    ) -> Result<T, String> {
        serde_json::from_value(serde_json::Value::String(value.to_string()))
            .map_err(|_| self.error(column, format!("{value:?} is not a valid {column}")))
    }

    fn flag(&self, column: &str) -> Result<Option<bool>, String> {
        match self.text(column).map(|v| v.to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) if v == "true" || v == "yes" || v == "1" => Ok(Some(true)),
            Some(v) if v == "false" || v == "no" || v == "0" => Ok(Some(false)),
            Some(v) => Err(self.error(column, format!("{v:?} is not true or false"))),
        }
    }
}

/// Reads the rows of `text`, checking the header against `columns`.
fn rows<'a>(text: &str, columns: &'a [&'a str]) -> Result<Vec<Row<'a>>, String> {
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
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.position() {
            Some(p) => format!("line {}: {e}", p.line()),
            None => e.to_string(),
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or_default();
        let cells = names
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        rows.push(Row { line, cells });
    }
    Ok(rows)
}

pub fn onboard(text: &str) -> Result<Vec<NewAgent>, String> {
    rows(text, ONBOARD_COLUMNS)?
        .into_iter()
        .map(|row| {
            let required = |column: &str| {
                row.text(column)
                    .ok_or_else(|| row.error(column, "is required"))
            };
            let roles = row
                .list("roles")
                .iter()
                .map(|r| row.parse::<Role>("roles", r))
                .collect::<Result<Vec<_>, _>>()?;
            let supervisors_identifier = match row.text("supervisors_identifier") {
                Some(v) => row.parse::<IdentifierKind>("supervisors_identifier", &v)?,
                None => IdentifierKind::UserObjectId,
            };
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
                return Err(row.error("supervisors", "needs a supervised_number"));
            }
            if let Some(number) = row.text("messaging_number") {
                numbers.push(NumberProvisioning {
                    number_type: NumberType::Messaging,
                    phone_number: number,
                    supervisors: None,
                });
            }
            let services = EnabledServices {
                messages: row.flag("messages")?,
                supervised_inbox: row.flag("supervised_inbox")?,
                calls: row.flag("calls")?,
                shared_inbox: row.flag("shared_inbox")?,
            };
            Ok(NewAgent {
                user_object_id: required("user_object_id")?,
                tenant_id: required("tenant_id")?,
                name: required("name")?,
                upn: row.text("upn"),
                consistency_id: row.text("consistency_id"),
                brand_name: row.text("brand_name"),
                department: row.text("department"),
                region: row.text("region"),
                state: row.text("state"),
                district: row.text("district"),
                store: row.text("store"),
                city: row.text("city"),
                zip_code: row.text("zip_code"),
                roles: (!roles.is_empty()).then_some(roles),
                number_provisioning: numbers,
                enabled_services: (services != EnabledServices::default()).then_some(services),
            })
        })
        .collect()
}

pub fn offboard(text: &str) -> Result<Vec<OffboardItem>, String> {
    rows(text, OFFBOARD_COLUMNS)?
        .into_iter()
        .map(|row| {
            let identifier = row
                .text("identifier")
                .ok_or_else(|| row.error("identifier", "is required"))?;
            let value = row.list("value");
            if value.is_empty() {
                return Err(row.error("value", "is required"));
            }
            Ok(OffboardItem {
                identifier: row.parse("identifier", &identifier)?,
                value,
            })
        })
        .collect()
}
