//! Runs a benchmark job by name, in barks or baseline mode, and writes its
//! canonical result.

use crate::canonical::{self, Outcome};
use crate::cli::threads_of;
use crate::jobs::{self, JobResult};
use std::path::Path;
use std::time::Instant;

/// The benchmark jobs, in the order the suite runs them.
pub const JOBS: &[&str] = &[
    "empty",
    "wordcount",
    "wordcount-chain",
    "groupby",
    "join",
    "sort",
    "pagerank",
    "kmeans",
];

/// Which version of a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The `#[barks::job]` version, on the given master.
    Barks,
    /// The hand-written rayon + foldhash version, on as many threads as the
    /// master names.
    Baseline,
}

/// Runs `job` on the data in `data` and returns what it computed (or
/// [`Outcome::Written`] when the job wrote its result to `out` itself).
pub fn run(job: &str, data: &Path, out: &Path, master: &str, mode: Mode) -> JobResult<Outcome> {
    match mode {
        Mode::Barks => match job {
            "empty" => jobs::empty::barks(master),
            "wordcount" => jobs::wordcount::barks(data, master),
            "wordcount-chain" => jobs::wordcount::barks_chained(data, master),
            "groupby" => jobs::groupby::barks(data, master),
            "join" => jobs::join::barks(data, master),
            "sort" => jobs::sort::barks(data, master, out),
            "pagerank" => jobs::pagerank::barks(data, master),
            "kmeans" => jobs::kmeans::barks(data, master),
            _ => Err(unknown(job)),
        },
        Mode::Baseline => {
            if !JOBS.contains(&job) {
                return Err(unknown(job));
            }
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads_of(master)?)
                .build()?;
            pool.install(|| match job {
                "empty" => jobs::empty::baseline(),
                "wordcount" | "wordcount-chain" => jobs::wordcount::baseline(data),
                "groupby" => jobs::groupby::baseline(data),
                "join" => jobs::join::baseline(data),
                "sort" => jobs::sort::baseline(data),
                "pagerank" => jobs::pagerank::baseline(data),
                "kmeans" => jobs::kmeans::baseline(data),
                _ => Err(unknown(job)),
            })
        }
    }
}

fn unknown(job: &str) -> Box<dyn std::error::Error + Send + Sync> {
    format!("unknown job `{job}`; expected one of {}", JOBS.join(", ")).into()
}

/// Runs `job` and writes `<out>/<job>.tsv`; returns the seconds from the
/// start of the job to the result written.
pub fn run_to_file(job: &str, data: &Path, out: &Path, master: &str, mode: Mode) -> JobResult<f64> {
    std::fs::create_dir_all(out)?;
    let start = Instant::now();
    let file = out.join(format!("{job}.tsv"));
    let outcome = run(job, data, &file, master, mode)?;
    canonical::write(outcome, &file)?;
    Ok(start.elapsed().as_secs_f64())
}
