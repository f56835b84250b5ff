//! `barks-bench JOB --data DIR --out DIR [--master M] [--baseline]`
//!
//! Runs one benchmark job of shared/BENCHMARKS.md (empty, wordcount,
//! groupby, join, sort, pagerank, kmeans; and wordcount-chain, wordcount
//! written with an owned `String` per word), writes `<out>/<JOB>.tsv`, and
//! prints `RESULT {"job_s": <seconds>}` as its last line. `--baseline` runs
//! the hand-written rayon + foldhash version instead of the barks one.

use examples::bench::{self, JOBS, Mode};
use examples::cli::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Both modes run on the same allocator, chosen for the whole process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: barks-bench JOB --data DIR --out DIR [--master M] [--baseline]";

fn main() -> ExitCode {
    match run() {
        Ok(secs) => {
            println!("RESULT {{\"job_s\": {secs:.6}}}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("barks-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<f64, Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::from_env(&["baseline"])?;
    let [job] = args.positional.as_slice() else {
        return Err(format!("{USAGE}\njobs: {}", JOBS.join(", ")).into());
    };
    let data = PathBuf::from(args.get("data").ok_or(USAGE)?);
    let out = PathBuf::from(args.get("out").ok_or(USAGE)?);
    let mode = if args.has("baseline") {
        Mode::Baseline
    } else {
        Mode::Barks
    };
    bench::run_to_file(job, &data, &out, &args.master(), mode)
}
