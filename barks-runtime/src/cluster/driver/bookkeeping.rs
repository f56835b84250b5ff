//! What the cluster driver keeps of one job run beyond the job-run core:
//! tasks waiting for a slot and running on a worker, where every map output
//! lives, which workers a task failed on, which workers know the run's plan,
//! and every finalized shuffle summary, encoded for the workers. Reports
//! from workers are decoded here and turned into the core's events. No I/O:
//! the driver's connections hand it plain data.

use crate::cluster::protocol::{Outcome, ShuffleInput, TaskDone};
use crate::counters::TaskCounters;
use crate::dag::{Event, StageKind, TaskId};
use crate::error::Result;
use crate::exec::job_run::{JobRun, Progress};
use crate::plan::node::Shared;
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;

/// The cluster driver's bookkeeping of one job run (see the module docs).
pub(super) struct RunBook {
    /// The run's number: reports of other runs are ignored.
    pub run: u64,
    /// Tasks waiting for a slot, in launch order.
    pub pending: VecDeque<TaskId>,
    /// Tasks running, and the worker running each.
    pub running: HashMap<TaskId, u64>,
    /// Workers that were sent this run's plan.
    pub told: HashSet<u64>,
    /// For every stage and map partition, the worker holding its output.
    locations: Vec<Vec<Option<u64>>>,
    /// Every map stage's finalized summary, encoded for the workers.
    summaries: Vec<Option<Vec<u8>>>,
    /// The workers each `(stage, partition)` failed on.
    pub failed_on: HashMap<(usize, usize), HashSet<u64>>,
}

impl RunBook {
    pub(super) fn new(job: &JobRun<'_>, run: u64) -> RunBook {
        let stages = &job.plan().desc.stages;
        RunBook {
            run,
            pending: VecDeque::new(),
            running: HashMap::new(),
            told: HashSet::new(),
            locations: stages.iter().map(|s| vec![None; s.partitions]).collect(),
            summaries: stages.iter().map(|_| None).collect(),
            failed_on: HashMap::new(),
        }
    }

    /// Map stage `stage` completed with this finalized summary: it is
    /// encoded once, for every task that reads the stage's shuffle.
    pub(super) fn stage_completed(
        &mut self,
        job: &JobRun<'_>,
        stage: usize,
        summary: Option<Shared>,
    ) -> Result<()> {
        let (Some(Some(dep)), Some(summary)) = (job.plan().shuffles.get(stage), summary) else {
            return Ok(());
        };
        if self.summaries[stage].is_none() {
            self.summaries[stage] = Some(dep.encode_summary(&summary)?);
        }
        Ok(())
    }

    /// The shuffles a task of `stage` reads, with where their map outputs
    /// are (`blocks_at` gives a worker's block address, if it is connected).
    pub(super) fn inputs(
        &self,
        job: &JobRun<'_>,
        stage: usize,
        blocks_at: impl Fn(u64) -> Option<SocketAddr>,
    ) -> Vec<ShuffleInput> {
        let nowhere: SocketAddr = ([0, 0, 0, 0], 0).into();
        let stages = &job.plan().desc.stages;
        stages[stage]
            .parents
            .iter()
            .filter_map(|&p| match stages[p].kind {
                StageKind::ShuffleMap { shuffle } => Some(ShuffleInput {
                    shuffle,
                    summary: self.summaries[p].clone().unwrap_or_default(),
                    maps: self.locations[p]
                        .iter()
                        .map(|w| w.and_then(&blocks_at).unwrap_or(nowhere))
                        .collect(),
                }),
                StageKind::Result => None,
            })
            .collect()
    }

    /// Applies `worker`'s report of a task (`name` names the worker in
    /// messages); the counters of a successful one are merged.
    pub(super) fn report(
        &mut self,
        job: &mut JobRun<'_>,
        worker: u64,
        done: TaskDone,
        payload: Vec<u8>,
        name: &str,
    ) -> Progress {
        let task = TaskId::from(done.task);
        self.running.remove(&task);
        let counters = match TaskCounters::from_wire(done.counters) {
            Ok(counters) => counters,
            Err(e) => {
                return job.failed(task, format!("its report from {name} is unreadable: {e}"));
            }
        };
        match done.outcome {
            Outcome::Map { .. } => self.map_done(job, worker, task, &payload, counters),
            Outcome::Result { .. } => match job.plan().action.decode_result(&payload) {
                Ok(result) => job.result_succeeded(task, result, counters),
                Err(e) => job.failed(task, format!("its result from {name} is unreadable: {e}")),
            },
            Outcome::Failed { message } => {
                self.failed_on
                    .entry((task.stage, task.partition))
                    .or_default()
                    .insert(worker);
                job.failed(task, format!("{message} (on {name})"))
            }
            Outcome::FetchFailed {
                shuffle,
                map,
                message,
            } => match job.plan().shuffle_stage(shuffle) {
                Some((map_stage, _)) => {
                    let progress = job.handle(Event::FetchFailed {
                        task,
                        map_stage,
                        map_partition: map,
                        message,
                    });
                    // A failure about an output recomputed since the task
                    // started leaves the new output (and its location) alone.
                    if !job.has_output(map_stage, map)
                        && let Some(holder) = self.locations[map_stage].get_mut(map)
                    {
                        *holder = None;
                    }
                    progress
                }
                None => job.failed(
                    task,
                    format!("it read an unknown shuffle {shuffle}: {message}"),
                ),
            },
        }
    }

    fn map_done(
        &mut self,
        job: &mut JobRun<'_>,
        worker: u64,
        task: TaskId,
        summary: &[u8],
        counters: TaskCounters,
    ) -> Progress {
        let Some(Some(dep)) = job.plan().shuffles.get(task.stage) else {
            return job.failed(task, format!("stage {} is not a map stage", task.stage));
        };
        match dep.decode_summary_part(summary) {
            Ok(summary) => {
                let Some(holder) = self.locations[task.stage].get_mut(task.partition) else {
                    return job.failed(task, "no such partition".into());
                };
                holder.get_or_insert(worker);
                job.map_succeeded(task, summary, counters)
            }
            Err(e) => job.failed(task, format!("its map summary is unreadable: {e}")),
        }
    }

    /// Forgets worker `id` (named `name`): the map outputs it held are lost
    /// and the tasks it was running failed.
    pub(super) fn lose(
        &mut self,
        job: &mut JobRun<'_>,
        id: u64,
        name: &str,
        reason: &str,
    ) -> Progress {
        let mut progress = Progress::Running(Vec::new());
        for (stage, holders) in self.locations.iter_mut().enumerate() {
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
                progress =
                    progress.and_then(|| job.handle(Event::OutputsLost { stage, partitions }));
            }
        }
        let orphans: Vec<TaskId> = self
            .running
            .iter()
            .filter(|(_, w)| **w == id)
            .map(|(t, _)| *t)
            .collect();
        for task in orphans {
            self.running.remove(&task);
            progress = progress.and_then(|| {
                job.failed(task, format!("{name} was lost while running it: {reason}"))
            });
        }
        progress
    }
}
