//! `barks`: the command line of barks.
//!
//! - `barks sql`: SQL on barks, like Spark's `spark-sql` — statements given
//!   with `-e` or `-f`, piped in, or typed at a prompt.
//! - `barks worker`: a cluster worker that joins a `quic://` driver, so a
//!   SQL cluster needs no binary of its own.
//!
//! A `local-cluster[N]` master starts N worker processes of this same
//! binary: the runtime turns them into workers before `main` runs.

// The modules live in `src/bin/barks/` (a crate root's `mod` looks beside
// it, in `src/bin/`).
#[path = "barks/format.rs"]
mod format;
#[path = "barks/shell.rs"]
mod shell;
#[path = "barks/split.rs"]
mod split;
#[path = "barks/sql.rs"]
mod sql;
#[path = "barks/worker.rs"]
mod worker;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// What a subcommand fails with: its message is printed after `Error: `.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "barks",
    version,
    about = "barks, a Spark-like distributed data engine: SQL on barks, and its cluster workers",
    after_help = "\
Examples:
  barks sql                                   a SQL prompt on local[*]
  barks sql -e 'SELECT 1 AS one'              run a statement and exit
  barks sql --master local-cluster[2] -f q.sql --format csv
  barks worker --join driver:7077 --secret-file secret.txt

`barks <COMMAND> --help` tells more."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    Sql(sql::SqlArgs),
    Worker(worker::WorkerArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sql(args) => sql::main(args),
        Command::Worker(args) => worker::main(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`barks sql … | head`): nothing
        // is wrong, there is just no one left to tell.
        Err(e) if is_broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `e` is a write to a closed pipe.
fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
