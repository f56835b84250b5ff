//! `barks worker`: a cluster worker, the runtime's own (what
//! `barks::worker_main` runs), started with flags parsed here.

use crate::Result;
use barks::runtime::cluster::net::Secret;
use barks::runtime::cluster::{WorkerOptions, run_worker_with};
use barks::runtime::memory::MemoryOptions;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// `barks worker`'s flags.
#[derive(Debug, clap::Args)]
#[command(
    about = "Join a barks driver as a worker and run its tasks",
    long_about = "\
Join the barks driver at HOST:PORT (`barks sql --master quic://HOST:PORT`) \
and run its tasks until the driver exits. Driver and workers must be the \
same build of barks.",
    after_help = "\
Environment:
  BARKS_SECRET, BARKS_SECRET_FILE    the cluster secret when no flag gives one
  BARKS_MEMORY                       the execution memory budget when --memory is not given
  BARKS_SPILL_DIR                    the spill directory's parent when --spill-dir is not given
  BARKS_LOG                          what is logged to stderr: error, warn, info, debug or
                                     trace (default warn)"
)]
pub struct WorkerArgs {
    /// The driver's address
    #[arg(long, value_name = "HOST:PORT")]
    join: String,

    /// How many tasks run at once [default: the machine's cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    slots: Option<u32>,

    /// The cluster secret, the driver's [default: BARKS_SECRET, else
    /// BARKS_SECRET_FILE]
    #[arg(long, value_name = "S", conflicts_with = "secret_file")]
    secret: Option<String>,

    /// A file holding the cluster secret
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,

    /// Where other workers fetch this one's shuffle blocks [default: this
    /// machine's address towards the driver, any port]
    #[arg(long, value_name = "IP:PORT")]
    bind: Option<SocketAddr>,

    /// The execution memory budget the worker's tasks share, e.g. 512m, 2g
    /// or unlimited; operators and shuffle outputs spill what does not fit
    /// [default: BARKS_MEMORY, else 60% of the machine's memory or of the
    /// cgroup's limit]
    #[arg(long, value_name = "BYTES")]
    memory: Option<String>,

    /// Where the worker makes its spill directory, removed when it exits
    /// [default: BARKS_SPILL_DIR, else the system temp directory]
    #[arg(long, value_name = "DIR")]
    spill_dir: Option<String>,
}

/// Runs the worker until its driver goes away.
pub fn main(args: WorkerArgs) -> Result<()> {
    let secret = Secret::from_sources(args.secret.as_deref(), args.secret_file.as_deref())?.ok_or(
        "no cluster secret: pass --secret or --secret-file, or set BARKS_SECRET or \
             BARKS_SECRET_FILE (the driver's)",
    )?;
    let memory = MemoryOptions::parse(args.memory.as_deref(), args.spill_dir.as_deref())?;
    let slots = match args.slots {
        Some(n) => n as usize,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let options = WorkerOptions {
        join: resolve(&args.join)?,
        slots,
        secret,
        bind: args.bind,
    };
    Ok(run_worker_with(options, memory)?)
}

/// The first address `address` resolves to.
fn resolve(address: &str) -> Result<SocketAddr> {
    let bad = |why: String| format!("driver address `{address}`: {why}");
    let mut addresses = address.to_socket_addrs().map_err(|e| bad(e.to_string()))?;
    Ok(addresses
        .next()
        .ok_or_else(|| bad("it resolves to no address".into()))?)
}
