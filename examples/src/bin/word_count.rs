//! Word count.
//!
//! - `word_count` counts the words of an embedded public-domain text and
//!   prints the ten most frequent with their counts;
//! - `word_count --input PATH` does the same for a file, directory or glob;
//! - `word_count --input PATH --output DIR` writes every `word<TAB>count`
//!   into `DIR/part-*` files, committed with `DIR/_SUCCESS`.
//!
//! Words are runs of letters, digits and apostrophes, lower-cased.
//! `--master local[N]` (or `BARKS_MASTER`) picks where the jobs run.

use barks::prelude::*;
use examples::cli::{Args, Help};
use examples::top_words::{save_word_counts, top_words_of_file, top_words_of_lines};
use std::process::ExitCode;

const DEFAULT_TEXT: &str = include_str!("../../data/declaration.txt");

const HELP: Help = Help {
    usage: "word_count [--input PATH [--output DIR]] [--top N] [--master URL]",
    about: "Counts words (runs of letters, digits and apostrophes, lower-cased) and prints the \
        most frequent with their counts, or writes every count to files.",
    flags: &[
        (
            "--input PATH",
            "a file, directory or glob to count (default: an embedded public-domain text)",
        ),
        (
            "--output DIR",
            "write every word<TAB>count into DIR/part-* files, committed with DIR/_SUCCESS, \
             instead of printing the top words (needs --input)",
        ),
        (
            "--top N",
            "how many of the most frequent words to print (default 10)",
        ),
    ],
    env: &[],
    runs_jobs: true,
};

fn main() -> ExitCode {
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let args = Args::from_env(&[], &HELP)?;
        let top: usize = args.get_or("top", 10)?;
        let ctx = Context::new(&args.master())?;
        match (args.get("input"), args.get("output")) {
            (Some(input), Some(output)) => {
                ctx.run_job(save_word_counts(input.to_string(), output.to_string()))?;
                println!("wrote word counts to {output}");
            }
            (None, Some(_)) => return Err("--output needs --input".into()),
            (input, None) => {
                let top = match input {
                    Some(path) => ctx.run_job(top_words_of_file(path.to_string(), top))?,
                    None => {
                        let lines = DEFAULT_TEXT.lines().map(str::to_string).collect();
                        ctx.run_job(top_words_of_lines(lines, top))?
                    }
                };
                for (count, word) in top {
                    println!("{word}\t{count}");
                }
            }
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("word_count: {e}");
            ExitCode::FAILURE
        }
    }
}
