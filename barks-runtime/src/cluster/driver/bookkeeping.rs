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
                Ok(result) => {
                    job.result_succeeded(task, result, Some(payload.len() as u64), counters)
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::protocol::WireTask;
    use crate::exec::fakes::chain;
    use crate::exec::job_run::{self, RunLimits, Step};
    use crate::records::codec::encode;

    /// Applies `progress` as the driver does; the tasks it launches.
    fn launched(book: &mut RunBook, job: &JobRun<'_>, progress: Progress) -> Vec<TaskId> {
        let Progress::Running(steps) = progress else {
            panic!("the job ended")
        };
        let mut tasks = Vec::new();
        for step in steps {
            match step {
                Step::Launch(task) => tasks.push(task),
                Step::StageCompleted { stage, summary } => {
                    book.stage_completed(job, stage, summary).unwrap()
                }
            }
        }
        tasks
    }

    fn shuffle_of(job: &JobRun<'_>, stage: usize) -> usize {
        match job.plan().desc.stages[stage].kind {
            StageKind::ShuffleMap { shuffle } => shuffle,
            StageKind::Result => panic!("stage {stage} is no map stage"),
        }
    }

    fn done(run: u64, task: TaskId, outcome: Outcome) -> TaskDone {
        TaskDone {
            run,
            task: WireTask::from(task),
            outcome,
            counters: Vec::new(),
        }
    }

    /// `worker` reports that map task `task` succeeded with summary `value`.
    fn map_report(
        book: &mut RunBook,
        job: &mut JobRun<'_>,
        worker: u64,
        task: TaskId,
        value: u64,
    ) -> Vec<TaskId> {
        book.running.insert(task, worker);
        let payload = encode(&value, "map summary").unwrap();
        let outcome = Outcome::Map {
            len: payload.len() as u64,
        };
        let progress = book.report(job, worker, done(1, task, outcome), payload, "worker");
        launched(book, job, progress)
    }

    fn addr(worker: u64) -> Option<SocketAddr> {
        Some(([10, 0, 0, worker as u8], 7000).into())
    }

    #[test]
    fn a_lost_worker_loses_its_map_outputs_and_fails_its_running_tasks() {
        let (plan, _, _) = chain([2, 2, 1], (false, false));
        let outcome = job_run::run(&plan, RunLimits::attempts(4), |job| {
            let mut book = RunBook::new(job, 1);
            let start = job.start();
            let first = launched(&mut book, job, start);
            assert_eq!(first.len(), 2);
            assert!(map_report(&mut book, job, 1, first[0], 7).is_empty());
            let second = map_report(&mut book, job, 2, first[1], 8);
            // Stage 0 is complete: its readers see where its outputs live,
            // and its summary, encoded.
            assert_eq!(second.len(), 2);
            assert!(second.iter().all(|t| t.stage == 1));
            let summary: Vec<u64> = vec![7, 8];
            let inputs = book.inputs(job, 1, addr);
            assert_eq!(inputs.len(), 1);
            assert_eq!(inputs[0].maps, vec![addr(1).unwrap(), addr(2).unwrap()]);
            assert_eq!(inputs[0].summary, encode(&summary, "summary").unwrap());

            // Worker 1 holds map 0 and runs one reducer; it is lost.
            book.running.insert(second[0], 1);
            book.running.insert(second[1], 2);
            let lost = book.lose(job, 1, "worker 1", "killed");
            let again = launched(&mut book, job, lost);
            // Map 0 runs again; the orphaned reducer waits for it.
            assert_eq!(
                again,
                vec![TaskId {
                    stage: 0,
                    partition: 0,
                    attempt: 2
                }]
            );
            assert!(!book.running.contains_key(&second[0]));
            assert!(book.running.contains_key(&second[1]));
            let nowhere: SocketAddr = ([0, 0, 0, 0], 0).into();
            assert_eq!(book.inputs(job, 1, addr)[0].maps[0], nowhere);
            // Losing the same worker again changes nothing.
            let lost = book.lose(job, 1, "worker 1", "killed");
            assert!(launched(&mut book, job, lost).is_empty());
            Err(crate::error::Error::Internal("stop here".into()))
        });
        assert!(outcome.is_err());
    }

    #[test]
    fn failures_remember_the_worker_and_fetch_failures_forget_the_output() {
        let (plan, _, _) = chain([1, 1, 1], (false, false));
        let _ = job_run::run(&plan, RunLimits::attempts(4), |job| {
            let mut book = RunBook::new(job, 1);
            let start = job.start();
            let first = launched(&mut book, job, start)[0];
            book.running.insert(first, 3);
            let failed = Outcome::Failed {
                message: "boom".into(),
            };
            let failed = book.report(job, 3, done(1, first, failed), vec![], "worker 3");
            let retry = launched(&mut book, job, failed);
            assert_eq!(retry[0].attempt, 2);
            assert!(book.failed_on[&(0, 0)].contains(&3));

            let reducer = map_report(&mut book, job, 4, retry[0], 1)[0];
            book.running.insert(reducer, 5);
            let fetch = Outcome::FetchFailed {
                shuffle: shuffle_of(job, 0),
                map: 0,
                message: "gone".into(),
            };
            let fetched = book.report(job, 5, done(1, reducer, fetch), vec![], "worker 5");
            let rerun = launched(&mut book, job, fetched);
            // The map output is recomputed and its old holder forgotten; the
            // reducer used up no attempt.
            assert_eq!((rerun[0].stage, rerun[0].attempt), (0, 3));
            assert!(book.locations[0][0].is_none());
            Err(crate::error::Error::Internal("stop here".into()))
        });
    }

    #[test]
    fn unreadable_reports_fail_the_task_naming_the_worker() {
        let (plan, _, _) = chain([1, 1, 1], (false, false));
        let outcome = job_run::run(&plan, RunLimits::attempts(1), |job| {
            let mut book = RunBook::new(job, 1);
            let start = job.start();
            let first = launched(&mut book, job, start)[0];
            let outcome = Outcome::Map { len: 3 };
            match book.report(
                job,
                9,
                done(1, first, outcome),
                vec![0xff; 3],
                "worker 10.0.0.9",
            ) {
                Progress::Done(result) => result,
                Progress::Running(_) => panic!("one attempt only: the job must fail"),
            }
        });
        let err = outcome.unwrap_err().to_string();
        assert!(err.contains("its map summary is unreadable"), "{err}");
    }
}
