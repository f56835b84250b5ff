//! Cluster-mode costs that the job benchmarks do not show:
//!
//! - per-task overhead: an empty job of 1,000 tasks, on `local[2]` and on
//!   `local-cluster[2,1]` (driver → worker → driver round trips);
//! - shuffle throughput over loopback: `repartition` of `--mb` MB of
//!   1 KiB records between the workers of `local-cluster[2,1]` (records are
//!   encoded, sent over QUIC, decoded).
//!
//! `cargo run --release -p examples --bin cluster-bench [-- --mb 512]`
//! prints a markdown table.

use barks::prelude::*;
use examples::cli::{self, Args, Help};
use std::process::ExitCode;
use std::time::Instant;

#[barks::job]
fn empty_tasks(tasks: usize) -> u64 {
    pipeline! {
        let nothing = parallelize(Vec::<u8>::new(), tasks);
        nothing.count()
    }
}

#[barks::job]
fn shuffle_bytes(records: u64, record_bytes: usize, partitions: usize) -> u64 {
    pipeline! {
        let ids = range(0, records as i64, 1, partitions);
        let payloads = ids.map(move |i: i64| vec![(i % 251) as u8; record_bytes]);
        payloads.repartition(partitions).map(|v: Vec<u8>| v.len() as u64).fold(0, |a, b| a + b)
    }
}

const HELP: Help = Help {
    usage: "cluster-bench [--mb N] [--tasks N]",
    about: "Measures cluster-mode costs on local[2] and local-cluster[2,1] (best of 3 runs) and \
        prints a markdown table: per-task overhead (an empty job of --tasks tasks) and shuffle \
        throughput over loopback (repartition of --mb MB of 1 KiB records).",
    flags: &[
        ("--mb N", "megabytes to repartition (default 256)"),
        ("--tasks N", "tasks of the empty job (default 1000)"),
    ],
    env: &[cli::ENV_SPILL, cli::ENV_TIMEOUTS, cli::ENV_LOG],
    runs_jobs: false,
};

/// Seconds of the fastest of `runs` runs of `f`.
fn best_of(runs: usize, mut f: impl FnMut() -> barks::Result<u64>) -> barks::Result<f64> {
    let mut best = f64::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn main() -> ExitCode {
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let args = Args::from_env(&[], &HELP)?;
        let mb: u64 = args.get_or("mb", 256)?;
        let tasks: usize = args.get_or("tasks", 1000)?;
        let local = Context::new("local[2]")?;
        let cluster = Context::new("local-cluster[2,1]")?;
        println!("| measure | local[2] | local-cluster[2,1] |");
        println!("| --- | --- | --- |");
        let l = best_of(3, || local.run_job(empty_tasks(tasks)))?;
        let c = best_of(3, || cluster.run_job(empty_tasks(tasks)))?;
        println!(
            "| empty job of {tasks} tasks | {:.4} s ({:.1} µs/task) | {:.4} s ({:.1} µs/task) |",
            l,
            l * 1e6 / tasks as f64,
            c,
            c * 1e6 / tasks as f64
        );
        let record_bytes = 1024;
        let records = mb * 1024 * 1024 / record_bytes as u64;
        let l = best_of(3, || local.run_job(shuffle_bytes(records, record_bytes, 8)))?;
        let c = best_of(3, || {
            cluster.run_job(shuffle_bytes(records, record_bytes, 8))
        })?;
        println!(
            "| repartition of {mb} MB (1 KiB records, 8 partitions) | {:.2} s ({:.0} MB/s) | {:.2} s ({:.0} MB/s) |",
            l,
            mb as f64 / l,
            c,
            mb as f64 / c
        );
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cluster-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
