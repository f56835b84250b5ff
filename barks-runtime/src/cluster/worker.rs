//! A worker: joins a driver, rebuilds each job's typed plan from its own
//! compiled-in registry, runs the tasks it is given on `slots` threads,
//! keeps map outputs and serves their blocks to other workers.

use super::fetch::{Fetcher, RemoteShuffles, read_reply, serve_blocks};
use super::fingerprint::build_fingerprint;
use super::net::{NetConfig, Peer, Role, Secret, connect};
use super::protocol::{CHUNK, Launch, Outcome, TaskDone, ToDriver, ToWorker, Upstream};
use crate::dag::PlanDesc;
use crate::error::{Error, Result};
use crate::exec::task::{TaskEnv, TaskFailure, TaskOutput, run_task};
use crate::job::find_job;
use crate::memory::{Memory, MemoryOptions, bytes};
use crate::plan::Plan;
use crate::shuffle::store::BlockStore;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::runtime::{Handle, Runtime};

/// How often a worker tells the driver it is alive.
pub(crate) const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);

/// How a worker is started.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The driver's address.
    pub join: SocketAddr,
    /// Tasks run at once (default: the machine's cores).
    pub slots: usize,
    /// The cluster secret.
    pub secret: Secret,
    /// The address other workers reach this one's shuffle blocks at; by
    /// default the local address of the route to the driver, any port.
    pub bind: Option<SocketAddr>,
}

/// A job run's plan, rebuilt on first use by whichever task needs it.
type PlanSlot = Arc<OnceLock<std::result::Result<Arc<Plan>, String>>>;

struct Worker {
    handle: Handle,
    driver: Peer,
    memory: Arc<Memory>,
    store: Arc<BlockStore>,
    fetcher: Arc<Fetcher>,
    descs: Mutex<HashMap<u64, (PlanDesc, PlanSlot)>>,
}

/// Runs a worker until its driver goes away or sends `Shutdown`, with the
/// execution memory budget and spill directory of `BARKS_MEMORY` and
/// `BARKS_SPILL_DIR` (see [`MemoryOptions`]).
pub fn run_worker(options: WorkerOptions) -> Result<()> {
    run_worker_with(options, MemoryOptions::from_env()?)
}

/// Runs a worker whose tasks share the memory budget `memory` gives and
/// spill where it says.
pub fn run_worker_with(options: WorkerOptions, memory: MemoryOptions) -> Result<()> {
    super::logging::init();
    let runtime =
        Runtime::new().map_err(|e| net_error(None, format!("cannot start tokio: {e}")))?;
    let config = Arc::new(NetConfig::new(options.secret.clone(), build_fingerprint()));
    log::info!(
        "execution memory budget {}; spilling under {}",
        bytes(memory.memory),
        memory.spill_dir.display()
    );
    let memory = Memory::new(&memory);
    let store = Arc::new(BlockStore::new(memory.clone()));
    let _remove_spills = store.remove_spills_on_drop();
    let bind = match options.bind {
        Some(bind) => bind,
        None => SocketAddr::new(route_to(options.join), 0),
    };
    let blocks_at = {
        let _guard = runtime.enter();
        let listener = super::net::Listener::bind(bind, config.clone())?;
        let at = listener.local_addr();
        runtime.spawn(serve_blocks(listener, store.clone()));
        at
    };
    let driver = runtime.block_on(connect(options.join, config.clone(), Role::Worker))?;
    let (mut to_driver, mut from_driver) = runtime.block_on(driver.open())?;
    let slots = options.slots.max(1);
    runtime.block_on(to_driver.send(&ToDriver::Register { slots, blocks_at }))?;
    match runtime.block_on(from_driver.recv::<ToWorker>())? {
        Some(ToWorker::Welcome { worker }) => {
            log::info!(
                "worker {worker} joined the driver at {} with {slots} slot(s); blocks at {blocks_at}",
                options.join
            );
        }
        other => {
            return Err(net_error(
                Some(options.join),
                format!(
                    "the driver at {} did not welcome this worker: {other:?}",
                    options.join
                ),
            ));
        }
    }
    runtime.spawn(async move {
        loop {
            tokio::time::sleep(HEARTBEAT_EVERY).await;
            if to_driver.send(&ToDriver::Heartbeat).await.is_err() {
                return;
            }
        }
    });
    let (handle, from) = (runtime.handle().clone(), driver.clone());
    crate::ops::persist::fetch_missing_blocks_with(Box::new(move |id, partition| {
        let driver = from.clone();
        handle.block_on(async move {
            let (mut out, mut back) = driver.open().await?;
            out.send(&Upstream::Persisted { id, partition }).await?;
            out.finish().await?;
            read_reply(&mut back, driver.remote()).await
        })
    }));
    let worker = Arc::new(Worker {
        handle: runtime.handle().clone(),
        driver: driver.clone(),
        fetcher: Arc::new(Fetcher::new(
            config,
            runtime.handle().clone(),
            blocks_at,
            store.clone(),
        )),
        memory,
        store,
        descs: Mutex::default(),
    });
    let (task_tx, task_rx) = mpsc::channel::<Launch>();
    let task_rx = Arc::new(Mutex::new(task_rx));
    for i in 0..slots {
        let (worker, task_rx) = (worker.clone(), task_rx.clone());
        std::thread::Builder::new()
            .name(format!("barks-task-{i}"))
            .spawn(move || {
                loop {
                    let next = task_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(launch) = next else { return };
                    worker.run(launch);
                }
            })
            .map_err(|e| net_error(None, format!("cannot start a task thread: {e}")))?;
    }
    loop {
        match runtime.block_on(from_driver.recv::<ToWorker>()) {
            Ok(Some(ToWorker::Job { run, plan })) => {
                worker.lock_descs().insert(run, (plan, PlanSlot::default()));
            }
            Ok(Some(ToWorker::Launch(launch))) => {
                let _ = task_tx.send(launch);
            }
            Ok(Some(ToWorker::JobDone { run })) => {
                worker.lock_descs().remove(&run);
                worker.store.drop_run(run);
            }
            Ok(Some(ToWorker::Shutdown)) => {
                log::info!("the driver asked this worker to stop");
                return Ok(());
            }
            Ok(Some(ToWorker::Welcome { .. })) => {}
            Ok(None) => {
                log::info!(
                    "the driver at {} closed the connection; stopping",
                    options.join
                );
                return Ok(());
            }
            Err(e) => {
                log::warn!("lost the driver at {}: {e}; stopping", options.join);
                return Ok(());
            }
        }
    }
}

/// The local address this machine uses to reach `peer` (no packet is sent).
fn route_to(peer: SocketAddr) -> IpAddr {
    let unspecified: SocketAddr = if peer.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    UdpSocket::bind(unspecified)
        .and_then(|s| s.connect(peer).and_then(|()| s.local_addr()))
        .map(|a| a.ip())
        .unwrap_or(unspecified.ip())
}

fn net_error(peer: Option<SocketAddr>, message: String) -> Error {
    Error::Net { peer, message }
}

impl Worker {
    fn lock_descs(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (PlanDesc, PlanSlot)>> {
        self.descs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The typed plan of job run `run`, rebuilt from the registry once.
    fn plan(&self, run: u64) -> std::result::Result<Arc<Plan>, String> {
        let (desc, slot) = self
            .lock_descs()
            .get(&run)
            .cloned()
            .ok_or_else(|| format!("this worker was not told about job run {run}"))?;
        slot.get_or_init(|| rebuild(&desc).map(Arc::new).map_err(|e| e.to_string()))
            .clone()
    }

    /// Runs one task and reports how it went.
    fn run(&self, launch: Launch) {
        let (run, task) = (launch.run, launch.task);
        let (outcome, payload, counters) = match self.plan(run) {
            Err(message) => (Outcome::Failed { message }, Vec::new(), Vec::new()),
            Ok(plan) => {
                let shuffles = Arc::new(RemoteShuffles::new(
                    run,
                    plan.clone(),
                    launch.inputs,
                    self.fetcher.clone(),
                ));
                let env = TaskEnv {
                    run,
                    memory: &self.memory,
                    store: &self.store,
                };
                let (done, counters) = run_task(&plan, task.into(), shuffles, &env);
                let (outcome, payload) = self.finish(&plan, task.stage, done);
                (outcome, payload, counters.into_wire())
            }
        };
        let done = TaskDone {
            run,
            task,
            outcome,
            counters,
        };
        let driver = self.driver.clone();
        let reported = self.handle.block_on(async move {
            let (mut out, _) = driver.open().await?;
            out.send(&Upstream::Report(done)).await?;
            for chunk in payload.chunks(CHUNK) {
                out.send_bytes(chunk).await?;
            }
            out.finish().await
        });
        if let Err(e) = reported {
            log::warn!("cannot report task {task:?} of run {run} to the driver: {e}");
        }
    }

    /// Encodes what the driver gets of a task.
    fn finish(
        &self,
        plan: &Plan,
        stage: usize,
        done: std::result::Result<TaskOutput, TaskFailure>,
    ) -> (Outcome, Vec<u8>) {
        let encoded = match done {
            Ok(TaskOutput::Map(summary)) => {
                let Some(Some(dep)) = plan.shuffles.get(stage) else {
                    return failed(format!("stage {stage} of the plan is not a map stage"));
                };
                let summary = dep.encode_summary_part(summary.as_ref());
                summary.map(|bytes| {
                    (
                        Outcome::Map {
                            len: bytes.len() as u64,
                        },
                        bytes,
                    )
                })
            }
            Ok(TaskOutput::Result(result)) => plan.action.encode_result(&result).map(|bytes| {
                (
                    Outcome::Result {
                        len: bytes.len() as u64,
                    },
                    bytes,
                )
            }),
            Err(TaskFailure::Failed(message)) => Ok((Outcome::Failed { message }, Vec::new())),
            Err(TaskFailure::FetchFailed {
                shuffle,
                map,
                message,
            }) => Ok((
                Outcome::FetchFailed {
                    shuffle,
                    map,
                    message,
                },
                Vec::new(),
            )),
        };
        encoded.unwrap_or_else(|e| failed(e.to_string()))
    }
}

fn failed(message: String) -> (Outcome, Vec<u8>) {
    (Outcome::Failed { message }, Vec::new())
}

/// Rebuilds the typed plan a driver described, from this binary's registry,
/// and checks that it is the same DAG.
fn rebuild(desc: &PlanDesc) -> Result<Plan> {
    let def = find_job(&desc.job)?;
    let plan = (def.build)(&desc.args, desc.default_parallelism)?;
    if plan.desc != *desc {
        return Err(Error::Plan(format!(
            "job `{}` builds a different plan on this worker than on the driver (its stages depend on something other than the job's arguments, such as the files present on each machine)",
            desc.job
        )));
    }
    Ok(plan)
}
