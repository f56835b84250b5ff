//! The driver of a cluster: listens for workers, and runs a job by feeding
//! the I/O-free [job-run core](crate::exec::job_run) with what workers
//! report and turning its steps into task launches.
//!
//! - [`bookkeeping`]: per run, where every map output lives (so a reducer
//!   knows whom to fetch from and a lost worker's outputs are recomputed),
//!   running and waiting tasks, reports turned into events; no I/O;
//! - [`placement`]: which worker runs which task; no I/O;
//! - [`connections`]: the tokio side (accepting workers, heartbeats,
//!   reports), which only hands the job loop notes.

mod bookkeeping;
mod connections;
mod placement;

use crate::cluster::launch::LocalWorkers;
use crate::cluster::net::{Listener, NetConfig, Peer};
use crate::cluster::protocol::{Launch, TaskDone, ToWorker, WireTask};
use crate::error::{Error, Result};
use crate::exec::job_run::{self, JobRun, Progress, RunLimits, Step};
use crate::plan::Plan;
use bookkeeping::RunBook;
use connections::accept_workers;
use placement::{Capacity, place};
use std::any::Any;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::UnboundedSender;

/// A worker the driver knows.
struct WorkerConn {
    peer: Peer,
    blocks_at: SocketAddr,
    slots: usize,
    to_worker: UnboundedSender<ToWorker>,
    last_seen: Instant,
}

type Workers = Arc<Mutex<HashMap<u64, WorkerConn>>>;

/// What the network side tells the job loop.
enum Note {
    Joined,
    Lost(u64, String),
    Report(u64, TaskDone, Vec<u8>),
}

/// How long a cluster driver waits for its workers.
///
/// ```
/// use barks_runtime::cluster::Timeouts;
/// use std::time::Duration;
///
/// let quick = Timeouts { worker: Duration::from_millis(1500), ..Timeouts::default() };
/// assert_eq!(quick.no_worker, Duration::from_secs(120));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// A worker silent this long is dropped (workers send a heartbeat every
    /// 500 ms). Default 10 s.
    pub worker: Duration,
    /// A job with tasks to run and no worker for this long fails. Default
    /// 120 s.
    pub no_worker: Duration,
}

/// Overrides [`Timeouts::worker`], in milliseconds.
pub const WORKER_TIMEOUT_ENV: &str = "BARKS_WORKER_TIMEOUT_MS";
/// Overrides [`Timeouts::no_worker`], in milliseconds.
pub const NO_WORKER_TIMEOUT_ENV: &str = "BARKS_NO_WORKER_TIMEOUT_MS";

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            worker: Duration::from_secs(10),
            no_worker: Duration::from_secs(120),
        }
    }
}

impl Timeouts {
    /// The defaults, overridden by `BARKS_WORKER_TIMEOUT_MS` and
    /// `BARKS_NO_WORKER_TIMEOUT_MS` where they are set.
    pub fn from_env() -> Result<Timeouts> {
        let ms = |var: &str, default: Duration| match std::env::var(var) {
            Err(_) => Ok(default),
            Ok(text) => text.trim().parse().map(Duration::from_millis).map_err(|e| {
                Error::Plan(format!(
                    "{var} `{text}` is not a number of milliseconds: {e}"
                ))
            }),
        };
        let defaults = Timeouts::default();
        Ok(Timeouts {
            worker: ms(WORKER_TIMEOUT_ENV, defaults.worker)?,
            no_worker: ms(NO_WORKER_TIMEOUT_ENV, defaults.no_worker)?,
        })
    }
}

/// A running cluster: the listener, the workers that joined, and (for
/// `local-cluster`) the worker processes it started.
pub(crate) struct Cluster {
    /// Runs the network side (accepting workers, reading their reports).
    _runtime: Runtime,
    listener: Arc<Listener>,
    workers: Workers,
    notes: Mutex<mpsc::Receiver<Note>>,
    next_run: AtomicU64,
    local: Option<LocalWorkers>,
    timeouts: Timeouts,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cluster(listening on {})", self.listener.local_addr())
    }
}

impl Cluster {
    /// Listens on `addr` for workers that know `config.secret`.
    pub fn listen(addr: SocketAddr, config: Arc<NetConfig>, timeouts: Timeouts) -> Result<Cluster> {
        crate::cluster::logging::init();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("barks-driver-net")
            .enable_all()
            .build()
            .map_err(|e| Error::Start {
                what: "the driver's network runtime (tokio)".into(),
                message: e.to_string(),
            })?;
        let listener = {
            let _guard = runtime.enter();
            Arc::new(Listener::bind(addr, config)?)
        };
        let workers: Workers = Arc::default();
        let (notes_tx, notes) = mpsc::channel();
        runtime.spawn(accept_workers(listener.clone(), workers.clone(), notes_tx));
        Ok(Cluster {
            _runtime: runtime,
            listener,
            workers,
            notes: Mutex::new(notes),
            next_run: AtomicU64::new(1),
            local: None,
            timeouts,
        })
    }

    /// Where workers join.
    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    /// Adopts the worker processes started for this cluster.
    pub fn with_local_workers(mut self, local: LocalWorkers) -> Cluster {
        self.local = Some(local);
        self
    }

    /// The worker processes this cluster started (`local-cluster`).
    pub fn local_workers(&self) -> Option<&LocalWorkers> {
        self.local.as_ref()
    }

    /// Task slots of the workers connected now.
    pub fn slots(&self) -> usize {
        lock(&self.workers).values().map(|w| w.slots).sum()
    }

    /// Waits until workers with `slots` slots in all have joined.
    pub fn wait_for_slots(&self, slots: usize, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        while self.slots() < slots {
            if let Some(local) = &self.local {
                local.check_alive()?;
            }
            if start.elapsed() > timeout {
                return Err(Error::Net {
                    peer: None,
                    message: format!(
                        "only {} of {slots} worker slots joined the driver at {} within {timeout:?}",
                        self.slots(),
                        self.address()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Runs `plan` on the workers.
    pub(crate) fn run(&self, plan: &Plan, limits: RunLimits) -> Result<Box<dyn Any + Send>> {
        if crate::job::find_job(&plan.desc.job).is_err() {
            return Err(Error::Plan(format!(
                "job `{}` cannot run on a cluster: workers rebuild a job's plan from their registry, so define it with #[barks::job] (a pipeline built from a closure runs only on a local master)",
                plan.desc.job
            )));
        }
        let run = self.next_run.fetch_add(1, Ordering::Relaxed);
        let mut told = HashSet::new();
        let result = job_run::run(plan, limits, |job| {
            let mut book = RunBook::new(job, run);
            let result = self.drive(job, &mut book);
            told = std::mem::take(&mut book.told);
            result
        });
        for id in &told {
            if let Some(w) = lock(&self.workers).get(id) {
                let _ = w.to_worker.send(ToWorker::JobDone { run });
            }
        }
        result
    }

    fn drive(&self, job: &mut JobRun<'_>, book: &mut RunBook) -> Result<Box<dyn Any + Send>> {
        let notes = lock(&self.notes);
        // Notes from earlier jobs (late reports) are dropped; joins and losses still count.
        let mut progress = job.start();
        let mut idle_since: Option<Instant> = None;
        loop {
            let steps = match progress {
                Progress::Running(steps) => steps,
                Progress::Done(result) => return result,
            };
            for step in steps {
                match step {
                    Step::Launch(task) => book.pending.push_back(task),
                    Step::StageCompleted { stage, summary } => {
                        book.stage_completed(job, stage, summary)?
                    }
                }
            }
            self.assign(job, book);
            if book.pending.is_empty() || self.slots() > 0 {
                idle_since = None;
            } else {
                let since = *idle_since.get_or_insert_with(Instant::now);
                if let Some(local) = &self.local {
                    local.check_alive()?;
                }
                if since.elapsed() > self.timeouts.no_worker {
                    return Err(Error::Net {
                        peer: None,
                        message: format!(
                            "no worker has been connected for {:?}: start workers with `barks worker --join {addr}` (or a `worker` binary of your own: `cargo run --bin worker -- --join {addr}`)",
                            self.timeouts.no_worker,
                            addr = self.address()
                        ),
                    });
                }
            }
            progress = match notes.recv_timeout(Duration::from_millis(100)) {
                Ok(Note::Lost(id, reason)) => self.lose(job, book, id, &reason),
                Ok(Note::Report(id, done, payload)) if done.run == book.run => {
                    book.report(job, id, done, payload, &self.worker_name(id))
                }
                Ok(Note::Joined | Note::Report(..)) | Err(mpsc::RecvTimeoutError::Timeout) => {
                    Progress::Running(Vec::new())
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Net {
                        peer: None,
                        message: "the driver stopped listening for workers".into(),
                    });
                }
            };
            progress = progress.and_then(|| self.expire_silent(job, book, Instant::now()));
        }
    }

    fn worker_name(&self, id: u64) -> String {
        lock(&self.workers).get(&id).map_or_else(
            || format!("worker {id}"),
            |w| format!("worker {}", w.peer.remote()),
        )
    }

    /// Gives pending tasks to workers with free slots (see [`place`]).
    fn assign(&self, job: &JobRun<'_>, book: &mut RunBook) {
        let workers = lock(&self.workers);
        let mut capacity: BTreeMap<u64, Capacity> = workers
            .iter()
            .map(|(&id, w)| {
                (
                    id,
                    Capacity {
                        slots: w.slots,
                        running: 0,
                    },
                )
            })
            .collect();
        for w in book.running.values() {
            if let Some(c) = capacity.get_mut(w) {
                c.running += 1;
            }
        }
        let pending = std::mem::take(&mut book.pending);
        let (placed, mut waiting) = place(pending, &mut capacity, &book.failed_on);
        for (task, id) in placed {
            let conn = &workers[&id];
            if book.told.insert(id) {
                let _ = conn.to_worker.send(ToWorker::Job {
                    run: book.run,
                    plan: job.plan().desc.clone(),
                });
            }
            let launch = Launch {
                run: book.run,
                task: WireTask::from(task),
                inputs: book.inputs(job, task.stage, |w| workers.get(&w).map(|w| w.blocks_at)),
            };
            if conn.to_worker.send(ToWorker::Launch(launch)).is_err() {
                waiting.push_back(task);
                continue;
            }
            book.running.insert(task, id);
        }
        book.pending = waiting;
    }

    /// Forgets a worker: its running tasks failed, its map outputs are lost.
    fn lose(&self, job: &mut JobRun<'_>, book: &mut RunBook, id: u64, reason: &str) -> Progress {
        // A worker is lost once: later notes about it change nothing.
        let Some(gone) = lock(&self.workers).remove(&id) else {
            return Progress::Running(Vec::new());
        };
        gone.peer.close("dropped by the driver");
        let name = format!("worker {}", gone.peer.remote());
        log::warn!("{name} was lost: {reason}");
        book.lose(job, id, &name, reason)
    }

    /// Drops workers that sent no heartbeat for the worker timeout, as of `now`.
    fn expire_silent(&self, job: &mut JobRun<'_>, book: &mut RunBook, now: Instant) -> Progress {
        let silent: Vec<u64> = lock(&self.workers)
            .iter()
            .filter(|(_, w)| now.saturating_duration_since(w.last_seen) > self.timeouts.worker)
            .map(|(id, _)| *id)
            .collect();
        let mut progress = Progress::Running(Vec::new());
        for id in silent {
            let reason = format!("no heartbeat for {:?}", self.timeouts.worker);
            progress = progress.and_then(|| self.lose(job, book, id, &reason));
        }
        progress
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for w in lock(&self.workers).values() {
            let _ = w.to_worker.send(ToWorker::Shutdown);
        }
        // Let the writers deliver `Shutdown` before the connections close.
        std::thread::sleep(Duration::from_millis(50));
        self.listener.close();
        if let Some(local) = &self.local {
            local.stop(Duration::from_secs(2));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
