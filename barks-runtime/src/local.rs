//! Local mode: the scheduler's commands run on N threads of this process and
//! shuffle outputs stay in memory until their last reader completes
//! ([`Readers`]).

use crate::action::PartResult;
use crate::counters::{JobCounters, TaskCounters};
use crate::error::{Error, Result};
use crate::node::{Shared, ShuffleOutputs, ShuffleSource};
use crate::plan::{Plan, StageKind};
use crate::release::Readers;
use crate::scheduler::{Command, Event, Scheduler, TaskId};
use crate::task::{TaskFailure, TaskOutput, panic_message, run_task};
use std::any::Any;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// Map outputs of the job's shuffles, by shuffle id.
#[derive(Default)]
struct MemoryShuffles {
    shuffles: Mutex<HashMap<usize, ShuffleState>>,
}

#[derive(Default)]
struct ShuffleState {
    maps: Vec<Option<Shared>>,
    summary: Option<Shared>,
}

impl MemoryShuffles {
    /// Frees the map outputs of `ids`, which no stage will read again.
    fn release(&self, ids: impl Iterator<Item = usize>) {
        let mut shuffles = self.shuffles.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            shuffles.remove(&id);
        }
    }
}

impl ShuffleSource for MemoryShuffles {
    fn outputs(&self, shuffle: usize, _: usize) -> Result<ShuffleOutputs> {
        let shuffles = self.shuffles.lock().unwrap_or_else(|e| e.into_inner());
        let missing = || {
            Error::Plan(format!(
                "internal error: shuffle {shuffle} was read before it was complete"
            ))
        };
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

/// Runs `plan` on `threads` threads, giving each task `max_attempts` attempts,
/// and publishes the counters its successful tasks recorded.
pub(crate) fn run(plan: &Plan, threads: usize, max_attempts: u32) -> Result<Box<dyn Any + Send>> {
    plan.action.prepare()?;
    let mut counters = JobCounters::default();
    let result = execute(plan, threads.max(1), max_attempts, &mut counters);
    counters.publish();
    if result.is_err() {
        plan.action.abort();
    }
    result
}

/// What a task thread reports: the task, how it ended, what it recorded.
type Finished = (TaskId, Result<TaskOutput, TaskFailure>, TaskCounters);

fn execute(
    plan: &Plan,
    threads: usize,
    max_attempts: u32,
    counters: &mut JobCounters,
) -> Result<Box<dyn Any + Send>> {
    let stages = &plan.desc.stages;
    let shuffles = Arc::new(MemoryShuffles::default());
    let mut summaries: Vec<Vec<Option<Box<dyn Any + Send>>>> = stages
        .iter()
        .map(|s| (0..s.partitions).map(|_| None).collect())
        .collect();
    let mut results: Vec<Option<PartResult>> = (0..stages.last().map_or(0, |s| s.partitions))
        .map(|_| None)
        .collect();
    {
        let mut state = shuffles.shuffles.lock().unwrap_or_else(|e| e.into_inner());
        for s in stages {
            if let StageKind::ShuffleMap { shuffle } = s.kind {
                state.insert(
                    shuffle,
                    ShuffleState {
                        maps: vec![None; s.partitions],
                        summary: None,
                    },
                );
            }
        }
    }
    let mut scheduler = Scheduler::new(stages, max_attempts);
    let mut readers = Readers::new(stages);
    let (task_tx, task_rx) = mpsc::channel::<TaskId>();
    let task_rx = Mutex::new(task_rx);
    let (event_tx, event_rx) = mpsc::channel::<Finished>();
    // Set when the job is over, so queued tasks are skipped.
    let over = AtomicBool::new(false);

    std::thread::scope(|scope| {
        for i in 0..threads {
            let (task_rx, event_tx, shuffles, over) =
                (&task_rx, event_tx.clone(), &shuffles, &over);
            std::thread::Builder::new()
                .name(format!("barks-task-{i}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let next = task_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(task) = next else { return };
                        if over.load(Ordering::Relaxed) {
                            return;
                        }
                        let (outcome, recorded) = run_task(plan, task, shuffles.clone());
                        if event_tx.send((task, outcome, recorded)).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|e| Error::Plan(format!("cannot start a task thread: {e}")))?;
        }
        drop(event_tx);
        let mut commands = scheduler.start();
        loop {
            for command in commands.drain(..) {
                match command {
                    Command::Launch(task) => {
                        let _ = task_tx.send(task);
                    }
                    Command::StageCompleted(stage) => {
                        shuffles.release(
                            readers
                                .completed(&stages[stage])
                                .into_iter()
                                .filter_map(|parent| plan.shuffles[parent].as_ref())
                                .map(|dep| dep.id()),
                        );
                        if let Some(dep) = &plan.shuffles[stage] {
                            let parts = summaries[stage]
                                .iter_mut()
                                .map(|s| s.take().unwrap_or_else(|| Box::new(())))
                                .collect();
                            // Finalizing may run user code (a sort key's `Ord`).
                            let summary = match catch_unwind(AssertUnwindSafe(|| {
                                dep.finalize(parts)
                            })) {
                                Ok(summary) => summary,
                                Err(payload) => {
                                    over.store(true, Ordering::Relaxed);
                                    return Err(Error::Plan(format!(
                                        "job `{}` failed: finishing stage {stage} on the driver {}",
                                        plan.desc.job,
                                        panic_message(payload.as_ref())
                                    )));
                                }
                            };
                            let mut state =
                                shuffles.shuffles.lock().unwrap_or_else(|e| e.into_inner());
                            if let Some(s) = state.get_mut(&dep.id()) {
                                s.summary = Some(summary);
                            }
                        }
                    }
                    Command::JobSucceeded => {
                        over.store(true, Ordering::Relaxed);
                        drop(task_tx);
                        let parts = results
                            .iter_mut()
                            .map(|r| r.take().unwrap_or_else(|| Box::new(())))
                            .collect();
                        // Merging runs user code on the driver (e.g. `reduce`'s
                        // function): a panic there fails the job, like a task's.
                        return catch_unwind(AssertUnwindSafe(|| plan.action.merge(parts)))
                            .unwrap_or_else(|payload| {
                                Err(Error::Plan(format!(
                                    "job `{}` failed: merging the partition results on the driver {}",
                                    plan.desc.job,
                                    panic_message(payload.as_ref())
                                )))
                            });
                    }
                    Command::JobFailed {
                        stage,
                        partition,
                        attempts,
                        message,
                    } => {
                        over.store(true, Ordering::Relaxed);
                        drop(task_tx);
                        return Err(Error::Task {
                            job: plan.desc.job.clone(),
                            stage,
                            partition,
                            attempts,
                            message,
                        });
                    }
                }
            }
            let Ok((task, outcome, recorded)) = event_rx.recv() else {
                return Err(Error::Plan(
                    "internal error: every task thread stopped".into(),
                ));
            };
            let event = match outcome {
                Ok(TaskOutput::Map(out)) => {
                    if let Some(dep) = &plan.shuffles[task.stage] {
                        let mut state = shuffles.shuffles.lock().unwrap_or_else(|e| e.into_inner());
                        if let Some(s) = state.get_mut(&dep.id()) {
                            s.maps[task.partition] = Some(out.data);
                        }
                    }
                    summaries[task.stage][task.partition] = Some(out.summary);
                    counters.merge(recorded);
                    Event::TaskSucceeded(task)
                }
                Ok(TaskOutput::Result(r)) => {
                    results[task.partition] = Some(r);
                    counters.merge(recorded);
                    Event::TaskSucceeded(task)
                }
                // Memory shuffles cannot lose outputs: a fetch failure here is
                // an ordinary failure.
                Err(TaskFailure::Failed(message) | TaskFailure::FetchFailed { message, .. }) => {
                    Event::TaskFailed { task, message }
                }
            };
            commands = scheduler.handle(event);
        }
    })
}
