//! How a process becomes a worker: `worker_main()` for a `worker` binary
//! (`cargo run --bin worker -- --join HOST:PORT`), and, for the processes a
//! `local-cluster` starts, a constructor that runs before `main` when
//! `BARKS_WORKER_JOIN` is set — so the same binary, even a test harness, is
//! its own worker without any code in its `main`.

use super::net::Secret;
use super::worker::{WorkerOptions, run_worker, run_worker_with};
use crate::error::{Error, Result};
use crate::memory::MemoryOptions;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Set on a `local-cluster` child: the driver's address.
pub(crate) const JOIN_ENV: &str = "BARKS_WORKER_JOIN";
/// Set on a `local-cluster` child: its slot count.
pub(crate) const SLOTS_ENV: &str = "BARKS_WORKER_SLOTS";

#[ctor::ctor(unsafe)]
fn become_local_cluster_worker() {
    let Ok(join) = std::env::var(JOIN_ENV) else {
        return;
    };
    let slots = std::env::var(SLOTS_ENV).ok().and_then(|s| s.parse().ok());
    let code = match start(&join, slots, Secret::from_sources(None, None)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("barks worker: {e}");
            1
        }
    };
    std::process::exit(code);
}

/// Makes sure the constructor above is linked into every binary that can
/// start a `local-cluster` (an unreferenced object file may be dropped).
pub(crate) fn keep_constructor() {
    std::hint::black_box(become_local_cluster_worker as fn());
}

fn start(
    join: &str,
    slots: Option<usize>,
    secret: std::result::Result<Option<Secret>, super::net::NetError>,
) -> Result<()> {
    let secret = secret?.ok_or_else(|| Error::Net {
        peer: None,
        message: "no cluster secret: pass --secret or --secret-file, or set BARKS_SECRET or BARKS_SECRET_FILE (the driver prints or is given the same one)".into(),
    })?;
    let join = resolve(join)?;
    run_worker(WorkerOptions {
        join,
        slots: slots.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        secret,
        bind: None,
    })
}

fn resolve(addr: &str) -> Result<SocketAddr> {
    let bad = |why: String| Error::Net {
        peer: None,
        message: format!("driver address `{addr}`: {why}"),
    };
    addr.to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("it resolves to no address".into()))
}

const USAGE: &str = "\
usage: worker --join HOST:PORT [--slots N] [--secret S | --secret-file PATH] [--bind IP:PORT]
              [--memory BYTES] [--spill-dir DIR]

Joins the barks driver at HOST:PORT (a driver started with --master quic://HOST:PORT)
and runs its tasks until the driver exits. A worker runs only the jobs compiled into
it: driver and worker must be the same build.

flags:
  --join HOST:PORT         the driver's address (required)
  --slots N                how many tasks run at once (default: the machine's cores)
  --secret S               the cluster secret, the driver's (default: BARKS_SECRET)
  --secret-file PATH       a file holding the cluster secret (default: BARKS_SECRET_FILE)
  --bind IP:PORT           where other workers fetch this one's shuffle blocks (default:
                           this machine's address towards the driver, any port)
  --memory BYTES           the execution memory budget the worker's tasks share, e.g.
                           512m, 2g or unlimited (default: BARKS_MEMORY, else 60% of
                           the machine's memory or of the cgroup's limit); operators
                           and shuffle outputs spill what does not fit
  --spill-dir DIR          where the worker makes its spill directory, removed when it
                           exits (default: BARKS_SPILL_DIR, else the system temp directory)
  -h, --help               print this help and exit

environment:
  BARKS_SECRET, BARKS_SECRET_FILE
                           the cluster secret, or the file holding it, when neither
                           --secret nor --secret-file is given
  BARKS_MEMORY             the execution memory budget when --memory is not given
  BARKS_SPILL_DIR          the spill directory's parent when --spill-dir is not given
  BARKS_LOG                what is logged to stderr: error, warn, info, debug or trace
                           (default warn)";

/// The usage lines of `USAGE` (up to its first blank line).
fn short_usage() -> &'static str {
    USAGE.split("\n\n").next().unwrap_or(USAGE)
}

/// The `main` of a worker binary: parses the command line and runs a worker.
/// A crate's `src/bin/worker.rs` is one line: `fn main() { barks::worker_main() }`
/// (plus `use my_jobs as _;` if its jobs live in another crate).
pub fn worker_main() -> ! {
    let code = match parse_and_run(std::env::args().skip(1).collect()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("barks worker: {e}");
            2
        }
    };
    std::process::exit(code)
}

fn parse_and_run(args: Vec<String>) -> Result<()> {
    // Help wins wherever it is, also where a flag's value would be
    // (`--join --help`).
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    let usage = |why: String| Error::Net {
        peer: None,
        message: format!("{why}\n{}\n(--help lists every flag)", short_usage()),
    };
    let mut join = None;
    let mut slots = None;
    let mut secret = None;
    let mut secret_file = None;
    let mut bind = None;
    let mut memory = None;
    let mut spill_dir = None;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| usage(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--join" => join = Some(value()?),
            "--slots" => {
                let v = value()?;
                slots = Some(
                    v.parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| usage(format!("--slots `{v}` is not a positive number")))?,
                )
            }
            "--secret" => secret = Some(value()?),
            "--secret-file" => secret_file = Some(PathBuf::from(value()?)),
            "--bind" => {
                let v = value()?;
                bind = Some(
                    v.parse::<SocketAddr>()
                        .map_err(|e| usage(format!("--bind `{v}`: {e}")))?,
                )
            }
            "--memory" => memory = Some(value()?),
            "--spill-dir" => spill_dir = Some(value()?),
            other => return Err(usage(format!("unknown argument `{other}`"))),
        }
    }
    let join = join.ok_or_else(|| usage("--join is required".into()))?;
    let secret = Secret::from_sources(secret.as_deref(), secret_file.as_deref())?
        .ok_or_else(|| usage("no cluster secret given".into()))?;
    let memory = MemoryOptions::parse(memory.as_deref(), spill_dir.as_deref())?;
    run_worker_with(
        WorkerOptions {
            join: resolve(&join)?,
            slots: slots
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            secret,
            bind,
        },
        memory,
    )
}
