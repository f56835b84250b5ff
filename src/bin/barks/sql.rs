//! `barks sql`: runs SQL statements on a barks session and prints their
//! rows, as Spark's `spark-sql` does.

use crate::Result;
use crate::format::{self, Format};
use crate::shell;
use crate::split::Pending;
use barks::runtime::cluster::net::Secret;
use barks::runtime::context::master_url;
use barks::runtime::memory::MemoryOptions;
use barks::sql::{DataFrame, Session};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

/// `barks sql`'s flags.
#[derive(Debug, clap::Args)]
#[command(
    about = "Run SQL statements: given with -e or -f, piped in, or typed at a prompt",
    long_about = "\
Run SQL statements on barks, like Spark's `spark-sql`.

With -e or -f, runs the statements (separated by `;`) and exits; the first \
that fails stops the run, with exit status 1. Without them, reads statements \
from standard input: at a terminal, a prompt (`\\q`, `quit;`, `exit;` or \
Ctrl-D quits, Ctrl-C drops the statement being typed; history in \
~/.barks_history), a failed statement prints its error and the prompt \
goes on; from a pipe or a file, as a script (the first failure stops it).

Each query's rows are printed to standard output (with csv, tsv and json \
as they reach the driver, a result partition at a time; a table once all \
have arrived); after each statement, the time it took (and the rows a \
query fetched) to standard error.",
    after_help = "\
Examples:
  barks sql -e \"CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION 't/'; SELECT * FROM t\"
  barks sql --master local-cluster[2] -f report.sql --format csv > report.csv
  echo 'SELECT 1 AS one;' | barks sql --format json

Environment:
  BARKS_MASTER                       the master when --master is not given
  BARKS_SECRET, BARKS_SECRET_FILE    a quic:// master's secret when no flag gives one
  BARKS_MEMORY, BARKS_SPILL_DIR      the budget and spill directory when no flag gives them
  BARKS_LOG                          in cluster mode, what is logged to stderr: error, warn,
                                     info, debug or trace (default warn)"
)]
pub struct SqlArgs {
    /// Where queries run: local[N], local[*], local-cluster[N] (N worker
    /// processes) or quic://HOST:PORT (a driver that `barks worker`s join)
    /// [default: BARKS_MASTER, else local[*]]
    #[arg(long, value_name = "URL")]
    master: Option<String>,

    /// Run these statements (separated by `;`) and exit
    // (`allow_hyphen_values`: the text may start with a `--` comment.)
    #[arg(
        short = 'e',
        long = "execute",
        value_name = "SQL",
        allow_hyphen_values = true
    )]
    execute: Option<String>,

    /// Run the statements in this file and exit
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "execute"
    )]
    file: Option<PathBuf>,

    /// How rows are printed
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// How many partitions a query's shuffles (joins, aggregations) use:
    /// Spark's spark.sql.shuffle.partitions [default: the master's
    /// parallelism]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    shuffle_partitions: Option<u32>,

    /// The cluster secret of a quic:// master; its workers need the same one
    /// [default: BARKS_SECRET, else BARKS_SECRET_FILE]
    #[arg(long, value_name = "S", conflicts_with = "secret_file")]
    secret: Option<String>,

    /// A file holding the cluster secret of a quic:// master
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,

    /// The execution memory budget of the queries' tasks (a local-cluster's
    /// workers get it too), e.g. 512m, 2g or unlimited; sorts,
    /// aggregations, joins and shuffles spill what does not fit [default:
    /// BARKS_MEMORY, else 60% of the machine's memory or of the cgroup's
    /// limit]
    #[arg(long, value_name = "BYTES")]
    memory: Option<String>,

    /// Where spill files go [default: BARKS_SPILL_DIR, else the system
    /// temp directory]
    #[arg(long, value_name = "DIR")]
    spill_dir: Option<String>,
}

/// Runs `barks sql`.
pub fn main(args: SqlArgs) -> Result<()> {
    // Read the script first: a missing file is reported before a cluster
    // starts.
    let script = match (&args.execute, &args.file) {
        (Some(text), _) => Some(text.clone()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        ),
        (None, None) => None,
    };
    let master = master_url(args.master.as_deref());
    let mut builder = Session::builder(&master);
    if let Some(n) = args.shuffle_partitions {
        builder = builder.shuffle_partitions(n as usize);
    }
    // Without a flag, a quic:// master reads BARKS_SECRET(_FILE) itself.
    let (secret, secret_file) = (args.secret.as_deref(), args.secret_file.as_deref());
    if (secret.is_some() || secret_file.is_some())
        && let Some(secret) = Secret::from_sources(secret, secret_file)?
    {
        builder = builder.context(|context| context.secret(secret));
    }
    if args.memory.is_some() || args.spill_dir.is_some() {
        let options = MemoryOptions::parse(args.memory.as_deref(), args.spill_dir.as_deref())?;
        builder =
            builder.context(|context| context.memory(options.memory).spill_dir(options.spill_dir));
    }
    let runner = Runner {
        session: builder.build()?,
        format: args.format,
    };
    match script {
        Some(text) => runner.run_script(&text),
        None if std::io::stdin().is_terminal() => shell::interactive(&runner, &master),
        None => shell::piped(&runner, std::io::stdin().lock()),
    }
}

/// What comes after a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// The next statement.
    Continue,
    /// Nothing: the statement was `quit` or `exit`.
    Quit,
}

/// Runs statements on a session, printing what they return.
pub struct Runner {
    session: Session,
    format: Format,
}

impl Runner {
    /// Runs the statements of `text` in order; the first that fails stops
    /// the run with its error.
    pub fn run_script(&self, text: &str) -> Result<()> {
        let mut pending = Pending::default();
        let mut statements = pending.push(text);
        statements.extend(pending.finish());
        for statement in statements {
            if self.run(&statement)? == Flow::Quit {
                break;
            }
        }
        Ok(())
    }

    /// Runs one statement (without its `;`). A query's rows go to stdout,
    /// then to stderr, as `spark-sql` prints it, `Time taken: 0.123 seconds,
    /// Fetched 4 row(s)`; a statement that returns no columns (DDL, `SET`)
    /// prints only its time. `quit` and `exit` run nothing.
    pub fn run(&self, statement: &str) -> Result<Flow> {
        if ["quit", "exit"]
            .iter()
            .any(|q| statement.eq_ignore_ascii_case(q))
        {
            return Ok(Flow::Quit);
        }
        let started = Instant::now();
        let df = self.session.sql(statement)?;
        let schema = df.schema();
        if schema.fields().is_empty() {
            eprintln!("Time taken: {:.3} seconds", started.elapsed().as_secs_f64());
            return Ok(Flow::Continue);
        }
        let rows = if format::streams(self.format) {
            self.print_as_they_arrive(&df)?
        } else {
            let batches = df.collect()?;
            let mut text = Vec::new();
            format::write_rows(&mut text, self.format, &schema, &batches)?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&text)?;
            stdout.flush()?;
            batches.iter().map(|b| b.num_rows()).sum()
        };
        let taken = started.elapsed().as_secs_f64();
        eprintln!("Time taken: {taken:.3} seconds, Fetched {rows} row(s)");
        Ok(Flow::Continue)
    }

    /// Prints a query's rows a result partition at a time, as they reach
    /// the driver; returns how many there were. A query that fails part-way
    /// has printed the rows before the failure.
    fn print_as_they_arrive(&self, df: &DataFrame) -> Result<usize> {
        let schema = df.schema();
        let mut stdout = std::io::stdout().lock();
        format::write_header(&mut stdout, self.format, &schema)?;
        let mut rows = 0;
        for batch in df.to_local_iterator()? {
            let batch = batch?;
            rows += batch.num_rows();
            format::write_body(&mut stdout, self.format, &schema, &[batch])?;
            stdout.flush()?;
        }
        Ok(rows)
    }
}
