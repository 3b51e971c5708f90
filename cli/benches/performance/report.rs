//! What every group of rows shares: the emulator, the compiled-code cache, the rows measured
//! so far, and how figures are shown.

use smartcomm_emulator::{Emulator, EmulatorOptions};
use smartcomm_host::{ComponentSource, EMBEDDED_COMPONENT, Runtime, RuntimeOptions};
use std::path::PathBuf;
use std::time::Duration;

pub struct Row {
    pub measure: String,
    pub smartcomm: String,
    pub baseline: String,
    pub ratio: String,
    pub target: &'static str,
}

impl Row {
    /// smartcomm's figure against the baseline's, shown with `show`.
    pub fn compared(
        measure: &str,
        smartcomm: Duration,
        baseline: Duration,
        show: fn(Duration) -> String,
        target: &'static str,
    ) -> Row {
        Row {
            measure: measure.into(),
            smartcomm: show(smartcomm),
            baseline: show(baseline),
            ratio: format!("{:.2}", ratio(smartcomm, baseline)),
            target,
        }
    }
}

#[derive(Clone, Copy)]
pub struct Stats {
    pub median: Duration,
    pub p99: Duration,
}

pub fn stats(samples: &mut [Duration]) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats {
        median: at(0.5),
        p99: at(0.99),
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

pub fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

pub fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// A limit's path, shortened when long: its first and last values and its extremes.
pub fn limit_path(path: &[u32]) -> String {
    if path.len() <= 8 {
        return format!("{path:?}");
    }
    let (min, max) = (path.iter().min().unwrap(), path.iter().max().unwrap());
    format!(
        "{} → … → {} ({} changes, between {min} and {max})",
        path[0],
        path[path.len() - 1],
        path.len() - 1
    )
}

/// The embedded component, or the one `SMARTCOMM_BENCH_COMPONENT` names, to compare builds
/// (the whole-process figures always use the CLI's embedded one).
pub fn component() -> ComponentSource {
    match std::env::var_os("SMARTCOMM_BENCH_COMPONENT") {
        Some(path) => ComponentSource::Path(path.into()),
        None => ComponentSource::Embedded,
    }
}

/// One run of the benchmark.
pub struct Bench {
    pub quick: bool,
    /// Samples per in-process figure.
    pub samples: usize,
    pub process_runs: usize,
    pub emulator: Emulator,
    /// Holds the warm cache and the scratch files; removed at the end.
    pub scratch: PathBuf,
    pub warm_cache: PathBuf,
    rows: std::sync::Mutex<Vec<Row>>,
}

impl Bench {
    pub async fn start(quick: bool) -> anyhow::Result<Bench> {
        let samples = if quick { 300 } else { 2000 };
        println!(
            "machine: {} cores, {}; {samples} samples per in-process figure",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            std::env::consts::ARCH
        );
        let scratch = std::env::temp_dir().join(format!("smartcomm-bench-{}", std::process::id()));
        Ok(Bench {
            quick,
            samples,
            process_runs: if quick { 10 } else { 30 },
            emulator: Emulator::start(EmulatorOptions::default()).await?,
            warm_cache: scratch.join("warm-cache"),
            scratch,
            rows: Default::default(),
        })
    }

    /// A runtime on the warm cache: with pooled connections or the default sender, and with
    /// the pooling allocator for `pooled` instances.
    pub fn runtime(&self, reuse_connections: bool, pooled: Option<u32>) -> anyhow::Result<Runtime> {
        Runtime::new(RuntimeOptions {
            component: component(),
            cache_dir: Some(self.warm_cache.clone()),
            reuse_connections,
            pooled_instances: pooled,
            ..Default::default()
        })
    }

    pub fn push(&self, row: Row) {
        self.rows.lock().expect("rows").push(row);
    }

    /// A file in the scratch folder with `content`.
    pub fn file(&self, name: &str, content: &str) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(&self.scratch)?;
        let path = self.scratch.join(name);
        std::fs::write(&path, content)?;
        Ok(path)
    }

    /// The component's size, as the last row.
    pub fn size(&self) -> anyhow::Result<()> {
        let size = match component() {
            ComponentSource::Path(path) => std::fs::metadata(path)?.len() as usize,
            _ => EMBEDDED_COMPONENT.len(),
        };
        println!("component: {size} bytes ({:.1} KiB)", size as f64 / 1024.0);
        self.push(Row {
            measure: "release component size".into(),
            smartcomm: format!("{:.1} KiB", size as f64 / 1024.0),
            baseline: "250 KiB".into(),
            ratio: format!("{:.2}", size as f64 / (250.0 * 1024.0)),
            target: "≤ 1.00",
        });
        Ok(())
    }

    /// Prints every row as a Markdown table and removes the scratch folder.
    pub fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
        println!("\n| measure | smartcomm | baseline | ratio | target |\n|---|---|---|---|---|");
        for row in self.rows.into_inner().expect("rows") {
            println!(
                "| {} | {} | {} | {} | {} |",
                row.measure, row.smartcomm, row.baseline, row.ratio, row.target
            );
        }
    }
}
