//! `barks-bench JOB --data DIR --out DIR [--master M] [--baseline]`
//!
//! Runs one benchmark job of shared/BENCHMARKS.md (empty, wordcount,
//! groupby, join, sort, pagerank, kmeans; and wordcount-chain, wordcount
//! written with an owned `String` per word), writes `<out>/<JOB>.tsv`, and
//! prints `RESULT {"job_s": <seconds>}` as its last line. `--baseline` runs
//! the hand-written rayon + foldhash version instead of the barks one.
//!
//! `barks-bench tpch --data DIR [--queries 1,6,14] [--rounds R]
//! [--baseline | --compare] [--master M]` (feature `sql`) runs TPC-H
//! queries on barks' SQL, on plain DataFusion (`--baseline`) or on both,
//! interleaved (`--compare`), and prints
//! `RESULT {"total_s": <seconds>, "queries": {"q1": <seconds>, ...}}` as its
//! last line (see `examples::tpch`).

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
    /// What mimalloc's own constructor runs (`src/init.c`): ends its
    /// "preloading" state, in which it makes no arenas and maps every
    /// allocation from the OS afresh.
    fn _mi_auto_process_init();
}

/// A `local-cluster` worker runs inside barks' constructor, before `main`
/// and, as the objects are linked, before mimalloc's constructor, which
/// then never runs: without this, mimalloc stays in its preloading state in
/// workers, mapping and faulting in every allocation (measured: 380,000
/// page faults where a local run has 2,000, and 1.7x the time; see
/// BENCHMARKS.md). This
/// constructor, linked before barks', finishes mimalloc's start first, in
/// worker processes only (in the driver mimalloc's own constructor runs).
#[ctor::ctor(unsafe)]
fn start_allocator_in_workers() {
    if std::env::var_os("BARKS_WORKER_JOIN").is_some() {
        // SAFETY: runs once, on the main thread, before anything else in
        // this process allocated through mimalloc's arenas.
        unsafe { _mi_auto_process_init() };
        // SAFETY: as in `main`.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

const USAGE: &str = "usage: barks-bench JOB --data DIR --out DIR [--master M] [--baseline]\n       \
    barks-bench tpch --data DIR [--queries LIST] [--rounds R] [--baseline | --compare] \
    [--master M]";

const HELP: Help = Help {
    usage: "barks-bench JOB --data DIR --out DIR [--master URL] [--baseline]
        barks-bench tpch --data DIR [--queries LIST] [--rounds R]
          [--baseline | --compare] [--queries-dir DIR] [--master URL]",
    about: "Runs one benchmark job on the inputs barks-gen wrote, writes <out>/<JOB>.tsv and \
        prints RESULT {\"job_s\": <seconds>} as its last line.\n\nJOB is one of empty, \
        wordcount, wordcount-chain (wordcount with an owned String per word), groupby, join, \
        sort, pagerank, kmeans.\n\n`barks-bench tpch` (built with `--features sql`) runs \
        TPC-H queries over the tables scripts/tpch/setup.sh --dir DIR generated \
        (DIR/<table>.parquet), each from its SQL text to its last row on the driver, on \
        barks, on plain DataFusion (--baseline) or on both (--compare); prints each query's \
        seconds (the median of its rounds), the total and the peak RSS, then RESULT \
        {\"total_s\": <seconds>, \"queries\": {\"q1\": <seconds>, ...}} as its last line.",
    flags: &[
        (
            "--data DIR",
            "the benchmark inputs, as barks-gen wrote them; for tpch, the directory of the \
             <table>.parquet files (required)",
        ),
        (
            "--out DIR",
            "where to write <JOB>.tsv (required, not for tpch)",
        ),
        (
            "--baseline",
            "run the hand-written rayon + foldhash version instead of the barks one, on as \
             many threads as the master names; for tpch, plain DataFusion (no barks) with as \
             many target partitions and tokio worker threads",
        ),
        (
            "--compare",
            "tpch: run every query on barks and on the DataFusion baseline, alternately in \
             one process, and print the medians of both and their ratio barks/datafusion",
        ),
        (
            "--queries LIST",
            "tpch: the queries to run, as numbers and ranges (1,6,14 or 1-5,22) (default: \
             all 22)",
        ),
        (
            "--rounds R",
            "tpch: how many times each query runs on each engine; the median counts \
             (default 1, 3 with --compare)",
        ),
        (
            "--queries-dir DIR",
            "tpch: where the qN.sql files are (default: barks-sql/tests/tpch/queries of \
             this repository)",
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

/// A benchmark's outcome: the JSON object of its `RESULT` line.
type Outcome = Result<String, Box<dyn std::error::Error + Send + Sync>>;

fn main() -> ExitCode {
    // Freed memory is kept for reuse instead of being returned to the OS
    // and faulted in (and zeroed by the kernel) again: iterative jobs free
    // and rebuild their tables every iteration. A process-wide setting, so
    // barks and the baseline run with it alike (BENCHMARKS.md).
    // SAFETY: sets an integer option; mimalloc is linked as the allocator.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    match run() {
        Ok(result) => {
            println!("RESULT {result}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("barks-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Outcome {
    let args = Args::from_env(&["baseline", "compare"], &HELP)?;
    let [job] = args.positional.as_slice() else {
        return Err(format!("{USAGE}\njobs: {}, tpch", JOBS.join(", ")).into());
    };
    if job == "tpch" {
        return tpch(&args);
    }
    let data = PathBuf::from(args.get("data").ok_or(USAGE)?);
    let out = PathBuf::from(args.get("out").ok_or(USAGE)?);
    let mode = if args.has("baseline") {
        Mode::Baseline
    } else {
        Mode::Barks
    };
    let secs = bench::run_to_file(job, &data, &out, &args.master(), mode)?;
    Ok(format!("{{\"job_s\": {secs:.6}}}"))
}

/// `barks-bench tpch`: runs the queries, prints the table and the peak RSS.
#[cfg(feature = "sql")]
fn tpch(args: &Args) -> Outcome {
    use examples::tpch::{self, Options, Side};
    let compare = args.has("compare");
    let sides = match (compare, args.has("baseline")) {
        (true, _) => vec![Side::Barks, Side::DataFusion],
        (false, true) => vec![Side::DataFusion],
        (false, false) => vec![Side::Barks],
    };
    let queries_dir = args
        .get("queries-dir")
        .map_or_else(tpch::default_queries_dir, PathBuf::from);
    let numbers = tpch::parse_query_list(args.get("queries"))?;
    let options = Options {
        data: PathBuf::from(args.get("data").ok_or(USAGE)?),
        queries: tpch::load_queries(&queries_dir, &numbers)?,
        master: args.master(),
        sides,
        rounds: args.get_or("rounds", if compare { 3 } else { 1 })?,
    };
    let report = tpch::run(&options, &mut std::io::stdout())?;
    let peak = tpch::peak_rss_kib();
    match peak {
        Some(kib) => println!(
            "peak RSS: {:.1} MiB (this process{})",
            kib as f64 / 1024.0,
            if compare { ", both engines" } else { "" }
        ),
        None => println!("peak RSS: unknown (no /proc/self/status)"),
    }
    Ok(report.result_json(peak))
}

/// Without the `sql` feature there is no TPC-H mode.
#[cfg(not(feature = "sql"))]
fn tpch(_: &Args) -> Outcome {
    Err(
        "barks-bench tpch needs SQL: build it with `cargo build -p examples --features sql \
         --bin barks-bench`"
            .into(),
    )
}
