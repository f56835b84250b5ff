//! `barks-gen --out DIR [--scale S] [--seed N]`: writes the benchmark inputs
//! (words.txt, kv.csv, names.csv, edges.txt, points.csv) deterministically.
//! Scale 1 (the default) gives ~110 MB of text and 10M kv rows; use e.g.
//! `--scale 0.01` for tests.

use examples::cli::{Args, Help};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const HELP: Help = Help {
    usage: "barks-gen --out DIR [--scale S] [--seed N]",
    about: "Writes the benchmark inputs (words.txt, kv.csv, names.csv, edges.txt, points.csv) \
        deterministically: the same seed and scale give the same bytes on any machine.",
    flags: &[
        ("--out DIR", "where to write the files (required)"),
        (
            "--scale S",
            "the size: 1 gives ~110 MB of text and 10M kv rows; e.g. 0.01 for tests (default 1)",
        ),
        ("--seed N", "the random seed (default 42)"),
    ],
    env: &[],
    runs_jobs: false,
};

fn main() -> ExitCode {
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let args = Args::from_env(&[], &HELP)?;
        let out = PathBuf::from(
            args.get("out")
                .ok_or("usage: barks-gen --out DIR [--scale S] [--seed N]")?,
        );
        let scale: f64 = args.get_or("scale", 1.0)?;
        let seed: u64 = args.get_or("seed", 42)?;
        if scale.is_nan() || scale <= 0.0 {
            return Err("--scale must be positive".into());
        }
        let start = Instant::now();
        for (file, bytes) in examples::datagen::generate(&out, scale, seed)? {
            println!("{:>12} bytes  {}", bytes, out.join(file).display());
        }
        println!(
            "generated in {:.1} s (scale {scale}, seed {seed})",
            start.elapsed().as_secs_f64()
        );
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("barks-gen: {e}");
            ExitCode::FAILURE
        }
    }
}
