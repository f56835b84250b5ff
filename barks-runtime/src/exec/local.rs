//! Local mode: the job-run core's steps run on N threads of this process
//! ([`TaskPool`]), and shuffle outputs stay in memory ([`MemoryShuffles`])
//! until their last reader completes ([`Readers`]).

use crate::counters::TaskCounters;
use crate::dag::readers::Readers;
use crate::dag::{StageKind, TaskId};
use crate::error::{Error, Result};
use crate::exec::job_run::{self, JobRun, Progress, Step};
use crate::exec::task::{TaskFailure, TaskOutput, run_task};
use crate::plan::Plan;
use crate::plan::node::{Shared, ShuffleOutputs, ShuffleSource};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread::Scope;

/// Runs `plan` on `threads` threads, giving each task `max_attempts` attempts,
/// and publishes the counters its successful tasks recorded.
pub(crate) fn run(plan: &Plan, threads: usize, max_attempts: u32) -> Result<Box<dyn Any + Send>> {
    job_run::run(plan, max_attempts, |job| {
        std::thread::scope(|scope| drive(job, scope, threads.max(1)))
    })
}

/// Feeds the job-run core with what the task threads report until the job
/// is over.
fn drive<'scope, 'env>(
    job: &mut JobRun<'env>,
    scope: &'scope Scope<'scope, 'env>,
    threads: usize,
) -> Result<Box<dyn Any + Send>> {
    let plan = job.plan();
    let shuffles = Arc::new(MemoryShuffles::new(plan));
    let mut readers = Readers::new(&plan.desc.stages);
    let pool = TaskPool::start(scope, plan, &shuffles, threads)?;
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
            Ok(TaskOutput::Map(out)) => {
                if let Some(shuffle) = shuffle_of(plan, task.stage) {
                    shuffles.put(shuffle, task.partition, out.data);
                }
                job.map_succeeded(task, out.summary, recorded)
            }
            Ok(TaskOutput::Result(result)) => job.result_succeeded(task, result, recorded),
            // Memory shuffles cannot lose outputs: a fetch failure here is
            // an ordinary failure.
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
        shuffles: &Arc<MemoryShuffles>,
        threads: usize,
    ) -> Result<TaskPool> {
        let (tasks, task_rx) = mpsc::channel::<TaskId>();
        let task_rx = Arc::new(Mutex::new(task_rx));
        let (report, finished) = mpsc::channel::<Finished>();
        let over = Arc::new(AtomicBool::new(false));
        for i in 0..threads {
            let (task_rx, report, over) = (task_rx.clone(), report.clone(), over.clone());
            let shuffles: Arc<dyn ShuffleSource> = shuffles.clone();
            std::thread::Builder::new()
                .name(format!("barks-task-{i}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let next = lock(&task_rx).recv();
                        let Ok(task) = next else { return };
                        if over.load(Ordering::Relaxed) {
                            return;
                        }
                        let (outcome, recorded) = run_task(plan, task, shuffles.clone());
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

/// Map outputs of the job's shuffles, by shuffle id.
struct MemoryShuffles {
    shuffles: Mutex<HashMap<usize, ShuffleState>>,
}

struct ShuffleState {
    maps: Vec<Option<Shared>>,
    summary: Option<Shared>,
}

impl MemoryShuffles {
    /// Empty outputs for every shuffle `plan` writes.
    fn new(plan: &Plan) -> MemoryShuffles {
        let shuffles = plan
            .desc
            .stages
            .iter()
            .filter_map(|s| match s.kind {
                StageKind::ShuffleMap { shuffle } => Some((
                    shuffle,
                    ShuffleState {
                        maps: vec![None; s.partitions],
                        summary: None,
                    },
                )),
                StageKind::Result => None,
            })
            .collect();
        MemoryShuffles {
            shuffles: Mutex::new(shuffles),
        }
    }

    /// Keeps map output `map` of `shuffle`.
    fn put(&self, shuffle: usize, map: usize, data: Shared) {
        if let Some(slot) = lock(&self.shuffles)
            .get_mut(&shuffle)
            .and_then(|s| s.maps.get_mut(map))
        {
            *slot = Some(data);
        }
    }

    /// Keeps `shuffle`'s finalized summary: its reducers may now run.
    fn finalized(&self, shuffle: usize, summary: Shared) {
        if let Some(s) = lock(&self.shuffles).get_mut(&shuffle) {
            s.summary = Some(summary);
        }
    }

    /// Frees the map outputs of `ids`, which no stage will read again.
    fn release(&self, ids: impl Iterator<Item = usize>) {
        let mut shuffles = lock(&self.shuffles);
        for id in ids {
            shuffles.remove(&id);
        }
    }
}

impl ShuffleSource for MemoryShuffles {
    fn outputs(&self, shuffle: usize, _: usize) -> Result<ShuffleOutputs> {
        let shuffles = lock(&self.shuffles);
        let missing =
            || Error::Internal(format!("shuffle {shuffle} was read before it was complete"));
        let state = shuffles.get(&shuffle).ok_or_else(missing)?;
        let maps = state
            .maps
            .iter()
            .map(|m| m.clone().ok_or_else(missing))
            .collect::<Result<Vec<_>>>()?;
        Ok(ShuffleOutputs {
            maps,
            summary: state.summary.clone().ok_or_else(missing)?,
        })
    }
}
