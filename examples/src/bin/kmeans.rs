//! K-means (Lloyd's algorithm) as a driver loop: one barks job parses the
//! points and `persist()`s them; each iteration calls a job with the current
//! centres over the persisted points (see `examples::jobs::kmeans`).
//!
//! - `kmeans` clusters 20,000 generated 2-d points from 4 Gaussian clusters;
//! - `kmeans --input PATH` clusters the `x1,...,xd` rows of PATH.
//!
//! Flags: `--k K` (default 4 on generated data, 8 on a file), `--iters N`
//! (default 10), `--master M`. The initial centres are the first K points.

use examples::cli::{Args, Help};
use examples::datagen::Rng;
use examples::jobs::kmeans::run_barks;
use std::fmt::Write as _;
use std::process::ExitCode;

const HELP: Help = Help {
    usage: "kmeans [--input PATH] [--k K] [--iters N] [--master URL]",
    about: "K-means (Lloyd's algorithm) as a driver loop: one job parses and persists the \
        points, then each iteration runs a job with the current centres. Prints the centres; \
        the initial centres are the first K points.",
    flags: &[
        (
            "--input PATH",
            "the points, as `x1,...,xd` CSV rows (default: 20,000 generated 2-d points around \
             4 centres)",
        ),
        (
            "--k K",
            "how many clusters (default 4 on generated points, 8 on a file)",
        ),
        ("--iters N", "how many iterations (default 10)"),
    ],
    env: &[],
    runs_jobs: true,
};

/// Points around `k` centres on a circle of radius 10, as CSV rows.
fn generated_points(n: usize, k: usize) -> String {
    let mut rng = Rng::new(11, 0, 0);
    let mut s = String::new();
    for _ in 0..n {
        let c = rng.below(k as u64) as f64 * std::f64::consts::TAU / k as f64;
        let (x, y) = (
            10.0 * c.cos() + rng.gaussian(),
            10.0 * c.sin() + rng.gaussian(),
        );
        let _ = writeln!(s, "{x:.6},{y:.6}");
    }
    s
}

fn main() -> ExitCode {
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let args = Args::from_env(&[], &HELP)?;
        let iters: usize = args.get_or("iters", 10)?;
        let master = args.master();
        let mut temp = None;
        let (path, k) = match args.get("input") {
            Some(p) => (std::path::PathBuf::from(p), args.get_or("k", 8)?),
            None => {
                let k = args.get_or("k", 4)?;
                let p =
                    std::env::temp_dir().join(format!("barks-kmeans-{}.csv", std::process::id()));
                std::fs::write(&p, generated_points(20_000, k))?;
                temp = Some(p.clone());
                (p, k)
            }
        };
        let centres = run_barks(&path, k, iters, &master);
        if let Some(p) = temp {
            let _ = std::fs::remove_file(p);
        }
        let centres = centres.map_err(|e| e.to_string())?;
        println!("{k} centres after {iters} iterations:");
        for (i, c) in centres.iter().enumerate() {
            let coords: Vec<String> = c.iter().map(|x| format!("{x:.4}")).collect();
            println!("{i}\t{}", coords.join("\t"));
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kmeans: {e}");
            ExitCode::FAILURE
        }
    }
}
