//! Batches on the command line: checked before anything is sent, shown instead of sent with
//! `--dry-run`, and sent ten items per call with a progress bar.

use serde_json::{Value, json};
use smartcomm::batch::chunks;
use smartcomm::error::Problem;
use smartcomm::request::ApiRequest;
use smartcomm::validate::MAX_BATCH;
use smartcomm_host::{ObservedRequest, RequestObserver};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, MutexGuard};

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

/// Progress on stderr, in requests of ten answered: a bar on a terminal, a line per request
/// otherwise; nothing for batches of ten or fewer. The component sends the requests; the
/// host tells each answer as it arrives (`Runtime::observe_requests`). One batch runs at a
/// time in a command, so the bar is the process's.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    requests: usize,
    answered: usize,
    label: &'static str,
}

static PROGRESS: Mutex<Option<Progress>> = Mutex::new(None);

fn progress() -> MutexGuard<'static, Option<Progress>> {
    PROGRESS.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the runtime calls as each request is answered: a write to the users API that was
/// answered for good (not a 429 or 5xx, which are sent again) advances the progress.
pub fn progress_observer() -> RequestObserver {
    Arc::new(|request: &ObservedRequest| {
        let final_answer = request.status.is_some_and(|s| s != 429 && s < 500);
        let write = request.method != "GET" && !request.path.ends_with("/authenticate");
        if final_answer
            && write
            && let Some(progress) = progress().as_mut()
        {
            progress.advance();
        }
    })
}

impl Progress {
    fn advance(&mut self) {
        self.answered += 1;
        match &self.bar {
            Some(bar) => bar.set_position(self.answered.min(self.requests) as u64),
            None if self.requests > 1 => eprintln!(
                "{}: request {}/{} answered",
                self.label, self.answered, self.requests
            ),
            None => {}
        }
    }
}

/// Runs one bulk call of `total` items with progress shown as its requests are answered.
pub async fn with_progress<T>(
    total: usize,
    label: &'static str,
    call: impl AsyncFnOnce() -> T,
) -> T {
    let requests = total.div_ceil(MAX_BATCH);
    let bar = (requests > 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(requests as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {pos}/{len} requests of ten ({elapsed})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_message(label);
        bar
    });
    *progress() = Some(Progress {
        bar,
        requests,
        answered: 0,
        label,
    });
    let result = call().await;
    if let Some(Progress { bar: Some(bar), .. }) = progress().take() {
        bar.finish();
    }
    result
}

/// One bulk command, after its items are read: they are checked (nothing is sent if one is
/// bad), then either shown as the requests of ten they would make (`--dry-run`) or sent in one
/// call of the operation, with progress, and every item's outcome printed.
macro_rules! bulk_command {
    (
        $global:expr, $items:expr, $label:literal,
        validate: $validate:path,
        dry_run: |$requests:ident, $chunk:ident| $request:expr,
        call: |$ops:ident, $batch:ident| $call:expr,
        report: $report:path $(,)?
    ) => {{
        let items = $items;
        $crate::input::checked($validate(&items))?;
        if $global.dry_run {
            let customer_id = $crate::connection::customer_id($global)?;
            return Ok($crate::output::dry_run(&customer_id, |$requests| {
                $crate::batches::plan(&items, |$chunk| $request)
            }));
        }
        $crate::connection::with_operations!($global, |$ops| {
            let total = items.len();
            let $batch = $crate::input::list(items);
            let outcomes = $crate::batches::with_progress(total, $label, async || {
                $crate::connection::settle($call.await)
            })
            .await?;
            Ok($report(outcomes))
        })
    }};
}
pub(crate) use bulk_command;
