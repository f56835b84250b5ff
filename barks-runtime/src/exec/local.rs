//! Local mode: the job-run core's steps run on N threads of this process
//! ([`TaskPool`]), and shuffle outputs stay in the run's [`BlockStore`]
//! (in memory as far as the budget allows, else spilled) until their last
//! reader completes ([`Readers`]).

use crate::counters::TaskCounters;
use crate::dag::readers::Readers;
use crate::dag::{StageKind, TaskId};
use crate::error::{Error, Result};
use crate::exec::job_run::{self, JobRun, Progress, RunLimits, Step};
use crate::exec::task::{TaskEnv, TaskFailure, TaskOutput, run_task};
use crate::memory::Memory;
use crate::plan::Plan;
use crate::plan::node::{Shared, ShuffleOutputs, ShuffleSource};
use crate::shuffle::store::BlockStore;
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread::Scope;

/// Runs `plan` on `threads` threads within `memory`'s budget and `limits`,
/// and publishes the counters its successful
/// tasks recorded. Whatever the run spilled is removed when it ends.
pub(crate) fn run(
    plan: &Plan,
    threads: usize,
    limits: RunLimits,
    memory: &Arc<Memory>,
) -> Result<Box<dyn Any + Send>> {
    let run = memory.next_run();
    let shuffles = Arc::new(LocalShuffles::new(plan, run, memory.clone()));
    let result = job_run::run(plan, limits, |job| {
        std::thread::scope(|scope| drive(job, scope, threads.max(1), &shuffles))
    });
    shuffles.store.drop_run(run);
    result
}

/// Feeds the job-run core with what the task threads report until the job
/// is over.
fn drive<'scope, 'env>(
    job: &mut JobRun<'env>,
    scope: &'scope Scope<'scope, 'env>,
    threads: usize,
    shuffles: &Arc<LocalShuffles>,
) -> Result<Box<dyn Any + Send>> {
    let plan = job.plan();
    let mut readers = Readers::new(&plan.desc.stages);
    let pool = TaskPool::start(scope, plan, shuffles, threads)?;
    let mut progress = job.start();
    loop {
        let steps = match progress {
            Progress::Running(steps) => steps,
            Progress::Done(result) => return result,
        };
        for step in steps {
            match step {
                Step::Launch(task) => pool.launch(task),
                Step::StageCompleted { stage, summary } => {
                    let stages = &plan.desc.stages;
                    shuffles.release(
                        readers
                            .completed(&stages[stage])
                            .into_iter()
                            .filter_map(|parent| shuffle_of(plan, parent)),
                    );
                    if let (Some(shuffle), Some(summary)) = (shuffle_of(plan, stage), summary) {
                        shuffles.finalized(shuffle, summary);
                    }
                }
            }
        }
        let (task, outcome, recorded) = pool.next()?;
        progress = match outcome {
            Ok(TaskOutput::Map(summary)) => job.map_succeeded(task, summary, recorded),
            Ok(TaskOutput::Result(result)) => job.result_succeeded(task, result, None, recorded),
            // Local outputs are not lost with a worker: a fetch failure
            // here (a damaged spill file) is an ordinary failure.
            Err(TaskFailure::Failed(message) | TaskFailure::FetchFailed { message, .. }) => {
                job.failed(task, message)
            }
        };
    }
}

/// The shuffle that map stage `stage` writes.
fn shuffle_of(plan: &Plan, stage: usize) -> Option<usize> {
    match plan.desc.stages.get(stage)?.kind {
        StageKind::ShuffleMap { shuffle } => Some(shuffle),
        StageKind::Result => None,
    }
}

/// What a task thread reports: the task, how it ended, what it recorded.
type Finished = (TaskId, Result<TaskOutput, TaskFailure>, TaskCounters);

/// N threads that run the tasks they are given, in launch order. Dropping
/// the pool tells them to stop: queued tasks are skipped.
struct TaskPool {
    tasks: mpsc::Sender<TaskId>,
    finished: mpsc::Receiver<Finished>,
    /// Set when the job is over, so queued tasks are skipped.
    over: Arc<AtomicBool>,
}

impl TaskPool {
    fn start<'scope, 'env>(
        scope: &'scope Scope<'scope, 'env>,
        plan: &'env Plan,
        shuffles: &Arc<LocalShuffles>,
        threads: usize,
    ) -> Result<TaskPool> {
        let (tasks, task_rx) = mpsc::channel::<TaskId>();
        let task_rx = Arc::new(Mutex::new(task_rx));
        let (report, finished) = mpsc::channel::<Finished>();
        let over = Arc::new(AtomicBool::new(false));
        for i in 0..threads {
            let (task_rx, report, over) = (task_rx.clone(), report.clone(), over.clone());
            let shuffles = shuffles.clone();
            let source: Arc<dyn ShuffleSource> = shuffles.clone();
            std::thread::Builder::new()
                .name(format!("barks-task-{i}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let next = lock(&task_rx).recv();
                        let Ok(task) = next else { return };
                        if over.load(Ordering::Relaxed) {
                            return;
                        }
                        let env = TaskEnv {
                            run: shuffles.run,
                            memory: &shuffles.memory,
                            store: &shuffles.store,
                        };
                        let (outcome, recorded) = run_task(plan, task, source.clone(), &env);
                        if report.send((task, outcome, recorded)).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|e| Error::Start {
                    what: "a task thread".into(),
                    message: e.to_string(),
                })?;
        }
        Ok(TaskPool {
            tasks,
            finished,
            over,
        })
    }

    fn launch(&self, task: TaskId) {
        // The threads outlive the pool's sender: this cannot fail.
        let _ = self.tasks.send(task);
    }

    /// The next task that finished.
    fn next(&self) -> Result<Finished> {
        self.finished
            .recv()
            .map_err(|_| Error::Internal("every task thread stopped".into()))
    }
}

impl Drop for TaskPool {
    fn drop(&mut self) {
        // Threads still queued skip their tasks; dropping `tasks` ends them.
        self.over.store(true, Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The job run's shuffles: their map outputs in the run's store, and their
/// finalized summaries.
struct LocalShuffles {
    run: u64,
    memory: Arc<Memory>,
    store: BlockStore,
    /// Map partitions and finalized summary of each shuffle, by shuffle id.
    shuffles: Mutex<HashMap<usize, (usize, Option<Shared>)>>,
}

impl LocalShuffles {
    /// No outputs yet for the shuffles `plan` writes.
    fn new(plan: &Plan, run: u64, memory: Arc<Memory>) -> LocalShuffles {
        let shuffles = plan
            .desc
            .stages
            .iter()
            .filter_map(|s| match s.kind {
                StageKind::ShuffleMap { shuffle } => Some((shuffle, (s.partitions, None))),
                StageKind::Result => None,
            })
            .collect();
        LocalShuffles {
            run,
            store: BlockStore::new(memory.clone()),
            memory,
            shuffles: Mutex::new(shuffles),
        }
    }

    /// Keeps `shuffle`'s finalized summary: its reducers may now run.
    fn finalized(&self, shuffle: usize, summary: Shared) {
        if let Some(s) = lock(&self.shuffles).get_mut(&shuffle) {
            s.1 = Some(summary);
        }
    }

    /// Frees the map outputs of `ids`, which no stage will read again.
    fn release(&self, ids: impl Iterator<Item = usize>) {
        for id in ids {
            lock(&self.shuffles).remove(&id);
            self.store.drop_shuffle(self.run, id);
        }
    }
}

impl ShuffleSource for LocalShuffles {
    fn outputs(&self, shuffle: usize, partition: usize) -> Result<ShuffleOutputs> {
        let missing =
            || Error::Internal(format!("shuffle {shuffle} was read before it was complete"));
        let (maps, summary) = lock(&self.shuffles)
            .get(&shuffle)
            .cloned()
            .ok_or_else(missing)?;
        let summary = summary.ok_or_else(missing)?;
        let maps = (0..maps)
            .map(|map| {
                self.store
                    .local((self.run, shuffle, map), partition, &summary)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ShuffleOutputs { maps, summary })
    }
}
