//! The driver of a cluster: listens for workers, and runs a job by feeding
//! the I/O-free [`Scheduler`] with what workers report and turning its
//! commands into task launches. It tracks where every map output lives, so a
//! reducer knows whom to fetch from and a lost worker's outputs are
//! recomputed.

use super::fetch::send_reply;
use super::launch::LocalWorkers;
use super::net::FrameSender;
use super::net::{FrameReceiver, Listener, NetConfig, Peer, Role};
use super::protocol::{
    Launch, Outcome, ShuffleInput, TaskDone, ToDriver, ToWorker, Upstream, WireTask,
};
use crate::action::PartResult;
use crate::counters::{JobCounters, TaskCounters};
use crate::error::{Error, Result};
use crate::node::Shared;
use crate::plan::{Plan, StageKind};
use crate::scheduler::{Command, Event, Scheduler, TaskId};
use crate::task::panic_message;
use std::any::Any;
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

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

/// Timeouts of a cluster, from the environment (milliseconds).
struct Timeouts {
    /// A worker silent this long is dropped (`BARKS_WORKER_TIMEOUT_MS`, 10 s).
    worker: Duration,
    /// A job with tasks to run and no worker for this long fails
    /// (`BARKS_NO_WORKER_TIMEOUT_MS`, 120 s).
    no_worker: Duration,
}

impl Timeouts {
    fn from_env() -> Timeouts {
        let ms = |var: &str, default: u64| {
            Duration::from_millis(
                std::env::var(var)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default),
            )
        };
        Timeouts {
            worker: ms("BARKS_WORKER_TIMEOUT_MS", 10_000),
            no_worker: ms("BARKS_NO_WORKER_TIMEOUT_MS", 120_000),
        }
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
    pub fn listen(addr: SocketAddr, config: Arc<NetConfig>) -> Result<Cluster> {
        super::logging::init();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("barks-driver-net")
            .enable_all()
            .build()
            .map_err(|e| Error::Net {
                peer: None,
                message: format!("cannot start tokio: {e}"),
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
            timeouts: Timeouts::from_env(),
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
    pub fn run(&self, plan: &Plan, max_attempts: u32) -> Result<Box<dyn Any + Send>> {
        if crate::job::find_job(&plan.desc.job).is_err() {
            return Err(Error::Plan(format!(
                "job `{}` cannot run on a cluster: workers rebuild a job's plan from their registry, so define it with #[barks::job] (a pipeline built from a closure runs only on a local master)",
                plan.desc.job
            )));
        }
        plan.action.prepare()?;
        let run = self.next_run.fetch_add(1, Ordering::Relaxed);
        let mut job = JobRun::new(plan, run, max_attempts);
        let result = self.drive(&mut job);
        std::mem::take(&mut job.counters).publish();
        for id in &job.told {
            if let Some(w) = lock(&self.workers).get(id) {
                let _ = w.to_worker.send(ToWorker::JobDone { run });
            }
        }
        if result.is_err() {
            plan.action.abort();
        }
        result
    }

    fn drive(&self, job: &mut JobRun<'_>) -> Result<Box<dyn Any + Send>> {
        let notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        // Notes from earlier jobs (late reports) are dropped; joins and losses still count.
        let mut commands = job.scheduler.start();
        let mut idle_since: Option<Instant> = None;
        loop {
            for command in std::mem::take(&mut commands) {
                match command {
                    Command::Launch(task) => job.pending.push_back(task),
                    Command::StageCompleted(stage) => job.finalize(stage)?,
                    Command::JobSucceeded => return job.merge(),
                    Command::JobFailed {
                        stage,
                        partition,
                        attempts,
                        message,
                    } => {
                        return Err(Error::Task {
                            job: job.plan.desc.job.clone(),
                            stage,
                            partition,
                            attempts,
                            message,
                        });
                    }
                }
            }
            self.assign(job);
            if job.pending.is_empty() || self.slots() > 0 {
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
                            "no worker has been connected for {:?}: start workers with `cargo run --bin worker -- --join {}`",
                            self.timeouts.no_worker,
                            self.address()
                        ),
                    });
                }
            }
            match notes.recv_timeout(Duration::from_millis(100)) {
                Ok(Note::Joined) => {}
                Ok(Note::Lost(id, reason)) => commands = self.lose(job, id, &reason),
                Ok(Note::Report(id, done, payload)) if done.run == job.run => {
                    commands = job.report(id, done, payload, &self.worker_name(id));
                }
                Ok(Note::Report(..)) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Net {
                        peer: None,
                        message: "the driver stopped listening for workers".into(),
                    });
                }
            }
            commands.extend(self.expire_silent(job));
        }
    }

    fn worker_name(&self, id: u64) -> String {
        lock(&self.workers).get(&id).map_or_else(
            || format!("worker {id}"),
            |w| format!("worker {}", w.peer.remote()),
        )
    }

    /// Gives pending tasks to workers with free slots, preferring a worker
    /// on which the task has not failed before.
    fn assign(&self, job: &mut JobRun<'_>) {
        let workers = lock(&self.workers);
        let mut load: HashMap<u64, usize> = workers.keys().map(|&id| (id, 0)).collect();
        for w in job.running.values() {
            if let Some(n) = load.get_mut(w) {
                *n += 1;
            }
        }
        let mut waiting = VecDeque::new();
        while let Some(task) = job.pending.pop_front() {
            let failed_on = job.failed_on.get(&(task.stage, task.partition));
            let free = |id: &u64| load[id] < workers[id].slots;
            let pick = |fresh: bool| {
                load.keys()
                    .filter(|id| free(id))
                    .filter(|id| !fresh || failed_on.is_none_or(|f| !f.contains(id)))
                    .min_by_key(|id| (load[id], **id))
                    .copied()
            };
            let Some(id) = pick(true).or_else(|| pick(false)) else {
                waiting.push_back(task);
                continue;
            };
            let conn = &workers[&id];
            if job.told.insert(id) {
                let _ = conn.to_worker.send(ToWorker::Job {
                    run: job.run,
                    plan: job.plan.desc.clone(),
                });
            }
            let launch = Launch {
                run: job.run,
                task: WireTask::from(task),
                inputs: job.inputs(task.stage, &workers),
            };
            if conn.to_worker.send(ToWorker::Launch(launch)).is_err() {
                waiting.push_back(task);
                continue;
            }
            *load.get_mut(&id).expect("load has every worker") += 1;
            job.running.insert(task, id);
        }
        job.pending = waiting;
    }

    /// Forgets a worker: its running tasks failed, its map outputs are lost.
    fn lose(&self, job: &mut JobRun<'_>, id: u64, reason: &str) -> Vec<Command> {
        // A worker is lost once: later notes about it change nothing.
        let Some(gone) = lock(&self.workers).remove(&id) else {
            return Vec::new();
        };
        gone.peer.close("dropped by the driver");
        let name = format!("worker {}", gone.peer.remote());
        log::warn!("{name} was lost: {reason}");
        let mut commands = Vec::new();
        for (stage, holders) in job.locations.iter_mut().enumerate() {
            let partitions: Vec<usize> = holders
                .iter_mut()
                .enumerate()
                .filter(|(_, h)| **h == Some(id))
                .map(|(p, h)| {
                    *h = None;
                    p
                })
                .collect();
            if !partitions.is_empty() {
                commands.extend(
                    job.scheduler
                        .handle(Event::OutputsLost { stage, partitions }),
                );
            }
        }
        let orphans: Vec<TaskId> = job
            .running
            .iter()
            .filter(|(_, w)| **w == id)
            .map(|(t, _)| *t)
            .collect();
        for task in orphans {
            job.running.remove(&task);
            commands.extend(job.scheduler.handle(Event::TaskFailed {
                task,
                message: format!("{name} was lost while running it: {reason}"),
            }));
        }
        commands
    }

    /// Drops workers that stopped sending heartbeats.
    fn expire_silent(&self, job: &mut JobRun<'_>) -> Vec<Command> {
        let silent: Vec<u64> = lock(&self.workers)
            .iter()
            .filter(|(_, w)| w.last_seen.elapsed() > self.timeouts.worker)
            .map(|(id, _)| *id)
            .collect();
        let mut commands = Vec::new();
        for id in silent {
            let reason = format!("no heartbeat for {:?}", self.timeouts.worker);
            commands.extend(self.lose(job, id, &reason));
        }
        commands
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

/// The driver's state of one job run.
struct JobRun<'p> {
    plan: &'p Plan,
    run: u64,
    scheduler: Scheduler,
    pending: VecDeque<TaskId>,
    running: HashMap<TaskId, u64>,
    /// Workers that were sent this run's plan.
    told: HashSet<u64>,
    /// For every stage and map partition, the worker holding its output.
    locations: Vec<Vec<Option<u64>>>,
    summaries: Vec<Vec<Option<Box<dyn Any + Send>>>>,
    /// Every map stage's finalized summary, typed and encoded (the first
    /// finalization is kept when a stage completes again after a loss).
    finalized: Vec<Option<(Shared, Vec<u8>)>>,
    results: Vec<Option<PartResult>>,
    failed_on: HashMap<(usize, usize), HashSet<u64>>,
    /// What the successful tasks recorded.
    counters: JobCounters,
}

impl<'p> JobRun<'p> {
    fn new(plan: &'p Plan, run: u64, max_attempts: u32) -> Self {
        let stages = &plan.desc.stages;
        JobRun {
            plan,
            run,
            scheduler: Scheduler::new(stages, max_attempts),
            pending: VecDeque::new(),
            running: HashMap::new(),
            told: HashSet::new(),
            locations: stages.iter().map(|s| vec![None; s.partitions]).collect(),
            summaries: stages
                .iter()
                .map(|s| (0..s.partitions).map(|_| None).collect())
                .collect(),
            finalized: stages.iter().map(|_| None).collect(),
            results: (0..stages.last().map_or(0, |s| s.partitions))
                .map(|_| None)
                .collect(),
            failed_on: HashMap::new(),
            counters: JobCounters::default(),
        }
    }

    /// The shuffles a task of `stage` reads, with where their outputs are.
    fn inputs(&self, stage: usize, workers: &HashMap<u64, WorkerConn>) -> Vec<ShuffleInput> {
        let nowhere: SocketAddr = ([0, 0, 0, 0], 0).into();
        self.plan.desc.stages[stage]
            .parents
            .iter()
            .filter_map(|&p| match self.plan.desc.stages[p].kind {
                StageKind::ShuffleMap { shuffle } => Some(ShuffleInput {
                    shuffle,
                    summary: self.finalized[p]
                        .as_ref()
                        .map(|(_, bytes)| bytes.clone())
                        .unwrap_or_default(),
                    maps: self.locations[p]
                        .iter()
                        .map(|w| {
                            w.and_then(|w| workers.get(&w))
                                .map_or(nowhere, |w| w.blocks_at)
                        })
                        .collect(),
                }),
                StageKind::Result => None,
            })
            .collect()
    }

    /// Applies a worker's report of a task; the counters of a successful
    /// one are merged.
    fn report(
        &mut self,
        worker: u64,
        done: TaskDone,
        payload: Vec<u8>,
        name: &str,
    ) -> Vec<Command> {
        let task = TaskId::from(done.task);
        self.running.remove(&task);
        let counters = match TaskCounters::from_wire(done.counters) {
            Ok(counters) => counters,
            Err(e) => {
                return self.scheduler.handle(Event::TaskFailed {
                    task,
                    message: format!("its report from {name} is unreadable: {e}"),
                });
            }
        };
        let event = match done.outcome {
            Outcome::Map { .. } => self.map_done(worker, task, &payload),
            Outcome::Result { .. } => match self.plan.action.decode_result(&payload) {
                Ok(result) => {
                    if let Some(slot) = self.results.get_mut(task.partition) {
                        slot.get_or_insert(result);
                    }
                    Event::TaskSucceeded(task)
                }
                Err(e) => Event::TaskFailed {
                    task,
                    message: format!("its result from {name} is unreadable: {e}"),
                },
            },
            Outcome::Failed { message } => {
                self.failed_on
                    .entry((task.stage, task.partition))
                    .or_default()
                    .insert(worker);
                Event::TaskFailed {
                    task,
                    message: format!("{message} (on {name})"),
                }
            }
            Outcome::FetchFailed {
                shuffle,
                map,
                message,
            } => match self.plan.shuffle_stage(shuffle) {
                Some((map_stage, _)) => {
                    let commands = self.scheduler.handle(Event::FetchFailed {
                        task,
                        map_stage,
                        map_partition: map,
                        message,
                    });
                    // A failure about an output recomputed since the task
                    // started leaves the new output (and its location) alone.
                    if !self.scheduler.has_output(map_stage, map)
                        && let Some(holder) = self.locations[map_stage].get_mut(map)
                    {
                        *holder = None;
                    }
                    return commands;
                }
                None => Event::TaskFailed {
                    task,
                    message: format!("it read an unknown shuffle {shuffle}: {message}"),
                },
            },
        };
        if let Event::TaskSucceeded(_) = event {
            self.counters.merge(counters);
        }
        self.scheduler.handle(event)
    }

    fn map_done(&mut self, worker: u64, task: TaskId, summary: &[u8]) -> Event {
        let Some(Some(dep)) = self.plan.shuffles.get(task.stage) else {
            return Event::TaskFailed {
                task,
                message: format!("stage {} is not a map stage", task.stage),
            };
        };
        match dep.decode_summary_part(summary) {
            Ok(summary) => {
                let (Some(holder), Some(slot)) = (
                    self.locations[task.stage].get_mut(task.partition),
                    self.summaries[task.stage].get_mut(task.partition),
                ) else {
                    return Event::TaskFailed {
                        task,
                        message: "no such partition".into(),
                    };
                };
                holder.get_or_insert(worker);
                slot.get_or_insert(summary);
                Event::TaskSucceeded(task)
            }
            Err(e) => Event::TaskFailed {
                task,
                message: format!("its map summary is unreadable: {e}"),
            },
        }
    }

    /// Finalizes a map stage's shuffle the first time it completes.
    fn finalize(&mut self, stage: usize) -> Result<()> {
        let Some(Some(dep)) = self.plan.shuffles.get(stage) else {
            return Ok(());
        };
        if self.finalized[stage].is_some() {
            return Ok(());
        }
        let parts = self.summaries[stage]
            .iter_mut()
            .map(|s| s.take().unwrap_or_else(|| Box::new(())))
            .collect();
        // Finalizing may run user code (a sort key's `Ord`).
        let summary =
            catch_unwind(AssertUnwindSafe(|| dep.finalize(parts))).map_err(|payload| {
                Error::Plan(format!(
                    "job `{}` failed: finishing stage {stage} on the driver {}",
                    self.plan.desc.job,
                    panic_message(payload.as_ref())
                ))
            })?;
        let bytes = dep.encode_summary(&summary)?;
        self.finalized[stage] = Some((summary, bytes));
        Ok(())
    }

    /// Merges the partition results on the driver.
    fn merge(&mut self) -> Result<Box<dyn Any + Send>> {
        let parts = self
            .results
            .iter_mut()
            .map(|r| r.take().unwrap_or_else(|| Box::new(())))
            .collect();
        catch_unwind(AssertUnwindSafe(|| self.plan.action.merge(parts))).unwrap_or_else(|payload| {
            Err(Error::Plan(format!(
                "job `{}` failed: merging the partition results on the driver {}",
                self.plan.desc.job,
                panic_message(payload.as_ref())
            )))
        })
    }
}

/// Accepts workers until the listener closes.
async fn accept_workers(listener: Arc<Listener>, workers: Workers, notes: mpsc::Sender<Note>) {
    let mut next_id = 1u64;
    while let Some(peer) = listener.accept().await {
        if peer.role() != Role::Worker {
            log::warn!(
                "{} connected to the driver as a {}, not a worker; closing",
                peer.remote(),
                peer.role()
            );
            peer.close("this address accepts workers only");
            continue;
        }
        tokio::spawn(serve_worker(peer, next_id, workers.clone(), notes.clone()));
        next_id += 1;
    }
}

/// One worker's connection: registration, then heartbeats on the control
/// stream and one stream per task report.
async fn serve_worker(peer: Peer, id: u64, workers: Workers, notes: mpsc::Sender<Note>) {
    let remote = peer.remote();
    let control = tokio::time::timeout(Duration::from_secs(10), peer.accept_stream()).await;
    let Ok(Some((mut out, mut control))) = control else {
        log::warn!("worker {remote} opened no control stream; closing");
        peer.close("no control stream");
        return;
    };
    let (slots, blocks_at) = match control.recv::<ToDriver>().await {
        Ok(Some(ToDriver::Register { slots, blocks_at })) => (slots, blocks_at),
        other => {
            log::warn!("worker {remote} did not register ({other:?}); closing");
            peer.close("expected a registration");
            return;
        }
    };
    let (to_worker, mut queue) = unbounded_channel::<ToWorker>();
    let _ = to_worker.send(ToWorker::Welcome { worker: id });
    tokio::spawn(async move {
        while let Some(message) = queue.recv().await {
            if out.send(&message).await.is_err() {
                return;
            }
        }
    });
    lock(&workers).insert(
        id,
        WorkerConn {
            peer: peer.clone(),
            blocks_at,
            slots,
            to_worker,
            last_seen: Instant::now(),
        },
    );
    log::info!("worker {remote} joined with {slots} slot(s); its blocks are at {blocks_at}");
    let _ = notes.send(Note::Joined);
    let reports = {
        let (peer, notes) = (peer.clone(), notes.clone());
        tokio::spawn(async move {
            while let Some((out, back)) = peer.accept_stream().await {
                tokio::spawn(serve_upstream(out, back, id, notes.clone()));
            }
        })
    };
    let reason = loop {
        match control.recv::<ToDriver>().await {
            Ok(Some(ToDriver::Heartbeat)) => {
                if let Some(w) = lock(&workers).get_mut(&id) {
                    w.last_seen = Instant::now();
                }
            }
            Ok(Some(ToDriver::Register { .. })) => {}
            Ok(None) => break "it closed its control stream".to_string(),
            Err(e) => break e.to_string(),
        }
    };
    reports.abort();
    let _ = notes.send(Note::Lost(id, reason));
}

/// A stream a worker opened: a task report, or a request for a persisted
/// partition.
async fn serve_upstream(
    mut out: FrameSender,
    mut back: FrameReceiver,
    worker: u64,
    notes: mpsc::Sender<Note>,
) {
    match back.recv::<Upstream>().await {
        Ok(Some(Upstream::Report(done))) => read_report(done, back, worker, notes).await,
        Ok(Some(Upstream::Persisted { id, partition })) => {
            let block =
                tokio::task::spawn_blocking(move || crate::persist::encoded_block(id, partition))
                    .await
                    .unwrap_or_else(|e| {
                        Err(Error::Plan(format!(
                            "encoding a persisted partition failed: {e}"
                        )))
                    });
            send_reply(&mut out, block).await;
        }
        Ok(None) => {}
        Err(e) => log::warn!("bad stream from a worker: {e}"),
    }
}

/// Reads one task report's payload (after its header) and passes it on.
async fn read_report(
    done: TaskDone,
    mut back: FrameReceiver,
    worker: u64,
    notes: mpsc::Sender<Note>,
) {
    let len = match done.outcome {
        Outcome::Map { len } | Outcome::Result { len } => len,
        _ => 0,
    };
    let mut payload = Vec::with_capacity(len.min(super::protocol::CHUNK as u64) as usize);
    while (payload.len() as u64) < len {
        match back.recv_bytes().await {
            Ok(Some(chunk)) => payload.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                log::warn!("a task report was cut off: {e}");
                break;
            }
        }
    }
    if payload.len() as u64 != len {
        // The task ran, but its output did not arrive: run it again.
        let message = format!("its report carried {} of {len} bytes", payload.len());
        let failed = TaskDone {
            outcome: Outcome::Failed { message },
            ..done
        };
        let _ = notes.send(Note::Report(worker, failed, Vec::new()));
        return;
    }
    let _ = notes.send(Note::Report(worker, done, payload));
}
