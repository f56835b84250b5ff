//! `barks-bench JOB --data DIR --out DIR [--master M] [--baseline]`
//!
//! Runs one benchmark job of shared/BENCHMARKS.md (empty, wordcount,
//! groupby, join, sort, pagerank, kmeans; and wordcount-chain, wordcount
//! written with an owned `String` per word), writes `<out>/<JOB>.tsv`, and
//! prints `RESULT {"job_s": <seconds>}` as its last line. `--baseline` runs
//! the hand-written rayon + foldhash version instead of the barks one.

use examples::bench::{self, JOBS, Mode};
use examples::cli::{Args, Help};
use std::path::PathBuf;
use std::process::ExitCode;

/// Both modes run on the same allocator, chosen for the whole process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its `mimalloc.h`, v3, which
/// `libmimalloc-sys` builds by default): how many milliseconds freed memory
/// stays with the process before it goes back to the OS; -1 is never.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

const USAGE: &str = "usage: barks-bench JOB --data DIR --out DIR [--master M] [--baseline]";

const HELP: Help = Help {
    usage: "barks-bench JOB --data DIR --out DIR [--master URL] [--baseline]",
    about: "Runs one benchmark job on the inputs barks-gen wrote, writes <out>/<JOB>.tsv and \
        prints RESULT {\"job_s\": <seconds>} as its last line.\n\nJOB is one of empty, \
        wordcount, wordcount-chain (wordcount with an owned String per word), groupby, join, \
        sort, pagerank, kmeans.",
    flags: &[
        (
            "--data DIR",
            "the benchmark inputs, as barks-gen wrote them (required)",
        ),
        ("--out DIR", "where to write <JOB>.tsv (required)"),
        (
            "--baseline",
            "run the hand-written rayon + foldhash version instead of the barks one, on as \
             many threads as the master names",
        ),
    ],
    env: &[
        ("PR_ITERS", "pagerank's iterations (default 10)"),
        (
            "KM_K, KM_ITERS",
            "kmeans' cluster count and iterations (defaults 8 and 10)",
        ),
    ],
    runs_jobs: true,
};

fn main() -> ExitCode {
    // Freed memory is kept for reuse instead of being returned to the OS
    // and faulted in (and zeroed by the kernel) again: iterative jobs free
    // and rebuild their tables every iteration. A process-wide setting, so
    // barks and the baseline run with it alike (BENCHMARKS.md).
    // SAFETY: sets an integer option; mimalloc is linked as the allocator.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
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
    let args = Args::from_env(&["baseline"], &HELP)?;
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
