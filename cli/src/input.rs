//! Reading FILE arguments: the request bodies of the API reference, as JSON, or CSV where a
//! command takes it. A file that does not fit is reported with the path of the field.

use crate::cli::Format;
use crate::connection::{Failure, invalid};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::io::Read;
use std::path::Path;

pub fn read_input(file: &Path) -> Result<String, Failure> {
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
pub fn parse_file<T: DeserializeOwned>(file: &Path) -> Result<T, Failure> {
    let text = read_input(file)?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        invalid(format!("{}: at {path}: {}", file.display(), e.inner()))
    })
}

/// Parses a batch FILE: a JSON array, or one object standing for a list of one.
pub fn parse_batch<T: DeserializeOwned>(file: &Path) -> Result<Vec<T>, Failure> {
    items_as(file, batch_items(file)?)
}

/// The items of a batch FILE as JSON values, before they are read as anything.
pub fn batch_items(file: &Path) -> Result<Vec<Value>, Failure> {
    let text = read_input(file)?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| invalid(format!("{}: not JSON: {e}", file.display())))?;
    match value {
        Value::Array(items) => Ok(items),
        object @ Value::Object(_) => Ok(vec![object]),
        _ => Err(invalid(format!(
            "{}: expected a JSON array of items",
            file.display()
        ))),
    }
}

/// Reads each item of FILE as `T`, naming the item and the path of a field that does not fit.
pub fn items_as<T: DeserializeOwned>(file: &Path, items: Vec<Value>) -> Result<Vec<T>, Failure> {
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

/// A batch FILE: CSV (by `--format csv` or the `.csv` extension) read by `from_csv`, else JSON.
pub fn read_batch<T: DeserializeOwned>(
    file: &Path,
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

/// Refuses invalid input before anything is sent, with the problems the component would
/// report (the same checks, run here so that a batch sent in several calls is checked whole).
pub fn checked(result: Result<(), Vec<smartcomm::error::Problem>>) -> Result<(), Failure> {
    result.map_err(|problems| invalid(crate::batches::problems_text(&problems)))
}

/// A flag as the API's optional boolean: sent only when set.
pub fn flag(on: bool) -> Option<bool> {
    on.then_some(true)
}

pub fn list<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(Into::into).collect()
}
