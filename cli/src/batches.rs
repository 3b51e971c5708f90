//! Batches on the command line: checked before anything is sent, shown instead of sent with
//! `--dry-run`, and sent ten items per call with a progress bar.

use serde_json::{Value, json};
use smartcomm::batch::chunks;
use smartcomm::error::Problem;
use smartcomm::request::ApiRequest;
use smartcomm_host::{CallError, types};
use std::io::IsTerminal;

/// The problems, as the component would report them.
pub fn problems_text(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    format!("invalid input, nothing was sent:\n  {}", lines.join("\n  "))
}

/// A request as `--dry-run` prints it.
pub fn request_json(request: &ApiRequest) -> Value {
    let query: serde_json::Map<String, Value> = request
        .query
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({
        "method": request.method.as_str(),
        "path": request.path,
        "query": query,
        "body": request.body.as_deref().and_then(|b| serde_json::from_str::<Value>(b).ok()),
    })
}

/// The requests a batch would be sent as, ten items each.
pub fn plan<T>(items: &[T], build: impl Fn(&[T]) -> ApiRequest) -> Value {
    Value::Array(
        chunks(items)
            .map(|(_, chunk)| request_json(&build(chunk)))
            .collect(),
    )
}

/// What the batch loop needs to know of an outcome type.
pub trait Outcome: Sized {
    /// The item is in the requested state (this call applied it, or it already was).
    fn done(&self) -> bool;
    fn failed(error: types::Error) -> Self;
    fn not_attempted() -> Self;
}

impl Outcome for types::ItemOutcome {
    fn done(&self) -> bool {
        matches!(
            self,
            types::ItemOutcome::Succeeded | types::ItemOutcome::AlreadyDone(_)
        )
    }
    fn failed(error: types::Error) -> Self {
        types::ItemOutcome::Failed(error)
    }
    fn not_attempted() -> Self {
        types::ItemOutcome::NotAttempted
    }
}

impl Outcome for types::UpdateOutcome {
    fn done(&self) -> bool {
        matches!(self, types::UpdateOutcome::Updated(_))
    }
    fn failed(error: types::Error) -> Self {
        types::UpdateOutcome::Failed(error)
    }
    fn not_attempted() -> Self {
        types::UpdateOutcome::NotAttempted
    }
}

/// Progress on stderr: a bar on a terminal, a line per call otherwise; nothing for batches of
/// ten or fewer.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: usize,
    label: &'static str,
}

impl Progress {
    fn new(total: usize, label: &'static str) -> Progress {
        let bar = (total > 10 && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(label);
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
            label,
        }
    }

    fn advance(&mut self, n: usize) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.set_position(self.done as u64),
            None if self.total > 10 => eprintln!("{}: {}/{}", self.label, self.done, self.total),
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// Sends `items` ten per call (the component would split them the same way) so progress can
/// be shown, and keeps every item's outcome at its index. Without `keep_going` the first call
/// with an item not done ends the batch. A failure of a later call is kept as its items'
/// outcome; only a failure of the first call, before anything was applied, is returned.
pub async fn run_in_chunks<I: Clone, O: Outcome>(
    items: Vec<I>,
    keep_going: bool,
    label: &'static str,
    mut call: impl AsyncFnMut(Vec<I>) -> Result<Vec<O>, CallError>,
) -> Result<Vec<O>, CallError> {
    let mut progress = Progress::new(items.len(), label);
    let mut outcomes: Vec<O> = Vec::with_capacity(items.len());
    for (offset, chunk) in chunks(&items) {
        match call(chunk.to_vec()).await {
            Ok(chunk_outcomes) => outcomes.extend(chunk_outcomes),
            Err(e) if offset == 0 => {
                progress.finish();
                return Err(e);
            }
            Err(e) => {
                let error = match e {
                    CallError::Api(error) => error,
                    CallError::Host(e) => types::Error::Transport(types::Failure {
                        message: format!("the host stopped the call: {e:#}"),
                        attempts: 1,
                    }),
                };
                outcomes.extend(chunk.iter().map(|_| O::failed(error.clone())));
            }
        }
        progress.advance(chunk.len());
        if smartcomm::batch::ends_batch(keep_going, outcomes.iter().all(Outcome::done)) {
            break;
        }
    }
    progress.finish();
    outcomes.resize_with(items.len(), O::not_attempted);
    Ok(outcomes)
}
