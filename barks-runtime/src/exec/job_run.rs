//! The job-run core: what the driver keeps of one job run, the same for the
//! local engine and the cluster driver. It does no I/O.
//!
//! An engine launches tasks where it likes and tells the core how each one
//! ended; the core feeds the [`Scheduler`], keeps every partition's first
//! successful map summary and result, merges the counters of successful
//! attempts only, finalizes a map stage's shuffle the first time the stage
//! completes (a stage that completes again after lost outputs keeps that
//! first finalization, so reducers that already ran and reducers that run
//! later slice the same way), merges the partition results on the driver,
//! and turns a scheduler failure into the job's [`Error`]. A plan made to
//! deliver its results ([`Plan::deliver_results`]) gets each result
//! partition in partition order as soon as it and those before it succeeded,
//! instead of at the merge (a result task is never rerun once it succeeded,
//! so what was delivered stays valid). What is left to
//! the engine is an [`Step`]: launch a task, or make a completed stage's
//! finalized summary available to its readers.
//!
//! [`run`] brackets a run with the action's `prepare`, `abort` (on failure)
//! and the publishing of its counters.

use crate::counters::{JobCounters, TaskCounters};
use crate::dag::{Command, Event, Scheduler, TaskId};
use crate::error::{Error, Result};
use crate::exec::task::panic_message;
use crate::memory::{MemoryMetrics, bytes};
use crate::plan::Delivery;
use crate::plan::Plan;
use crate::plan::node::{PartResult, Shared};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What the engine must do next.
#[derive(Debug)]
pub(crate) enum Step {
    /// Run this task.
    Launch(TaskId),
    /// Stage `stage` is complete. For a map stage, `summary` is its
    /// shuffle's finalized summary (always the first finalization).
    StageCompleted {
        stage: usize,
        summary: Option<Shared>,
    },
}

/// Where a job run stands after the core applied the scheduler's commands.
pub(crate) enum Progress {
    /// Steps for the engine; the job goes on.
    Running(Vec<Step>),
    /// The job is over: its merged result, or why it failed.
    Done(Result<Box<dyn Any + Send>>),
}

impl Progress {
    /// This progress followed by what `next` makes; nothing is made once
    /// the job is over.
    pub(crate) fn and_then(self, next: impl FnOnce() -> Progress) -> Progress {
        match self {
            Progress::Running(mut steps) => match next() {
                Progress::Running(more) => {
                    steps.extend(more);
                    Progress::Running(steps)
                }
                done => done,
            },
            done => done,
        }
    }
}

/// What every job run of a context may use, read once when it starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunLimits {
    /// Attempts per task.
    pub(crate) max_attempts: u32,
    /// The most bytes of encoded partition results the driver holds for
    /// one job run (Spark's `spark.driver.maxResultSize`); `u64::MAX` is
    /// unlimited.
    pub(crate) max_result_size: u64,
}

#[cfg(test)]
impl RunLimits {
    /// `max_attempts` attempts and no maximum result size.
    pub(crate) fn attempts(max_attempts: u32) -> RunLimits {
        RunLimits {
            max_attempts,
            max_result_size: u64::MAX,
        }
    }
}

/// The driver's state of one job run (see the module docs).
pub(crate) struct JobRun<'p> {
    plan: &'p Plan,
    /// The most bytes of results it may hold, how many it holds, and each
    /// result partition's (counted while there is a maximum).
    max_result_size: u64,
    result_bytes: u64,
    result_sizes: Vec<u64>,
    scheduler: Scheduler,
    /// Per stage and partition, the first successful map task's summary,
    /// until the stage is finalized.
    summaries: Vec<Vec<Option<Box<dyn Any + Send>>>>,
    /// Every map stage's finalized summary (the first one).
    finalized: Vec<Option<Shared>>,
    /// The first successful result of every result partition.
    results: Vec<Option<PartResult>>,
    /// What the successful attempts recorded.
    counters: JobCounters,
    /// Where result partitions go as they complete, if not to the merge.
    delivery: Option<Delivery>,
    /// How many result partitions (a prefix) went to `delivery`.
    delivered: usize,
}

/// Runs one job: `prepare`s the plan's action, lets `drive` run it on a
/// fresh [`JobRun`], publishes what its successful tasks recorded, and
/// `abort`s the action if the job failed.
pub(crate) fn run(
    plan: &Plan,
    limits: RunLimits,
    drive: impl FnOnce(&mut JobRun<'_>) -> Result<Box<dyn Any + Send>>,
) -> Result<Box<dyn Any + Send>> {
    plan.action.prepare()?;
    let mut job = JobRun::new(plan, limits);
    let result = drive(&mut job);
    MemoryMetrics::finished_job(plan.job(), &job.counters);
    std::mem::take(&mut job.counters).publish();
    if result.is_err() {
        plan.action.abort();
    }
    result
}

impl<'p> JobRun<'p> {
    pub(crate) fn new(plan: &'p Plan, limits: RunLimits) -> Self {
        let stages = &plan.desc.stages;
        JobRun {
            plan,
            max_result_size: limits.max_result_size,
            result_bytes: 0,
            result_sizes: Vec::new(),
            scheduler: Scheduler::new(stages, limits.max_attempts),
            summaries: stages
                .iter()
                .map(|s| (0..s.partitions).map(|_| None).collect())
                .collect(),
            finalized: stages.iter().map(|_| None).collect(),
            results: (0..stages.last().map_or(0, |s| s.partitions))
                .map(|_| None)
                .collect(),
            counters: JobCounters::default(),
            delivery: plan.take_delivery(),
            delivered: 0,
        }
    }

    /// The plan this run executes.
    pub(crate) fn plan(&self) -> &'p Plan {
        self.plan
    }

    /// Starts the run: the first tasks to launch.
    pub(crate) fn start(&mut self) -> Progress {
        let commands = self.scheduler.start();
        self.apply(commands)
    }

    /// A map task succeeded with this summary; `recorded` is what it counted.
    pub(crate) fn map_succeeded(
        &mut self,
        task: TaskId,
        summary: Box<dyn Any + Send>,
        recorded: TaskCounters,
    ) -> Progress {
        let slot = self
            .summaries
            .get_mut(task.stage)
            .and_then(|s| s.get_mut(task.partition));
        let Some(slot) = slot else {
            return self.failed(task, format!("stage {} has no such map task", task.stage));
        };
        slot.get_or_insert(summary);
        self.succeeded(task, recorded)
    }

    /// A result task succeeded with this partition result, `encoded` bytes
    /// long on the wire (`None` in local mode, where it is computed when
    /// there is a maximum result size).
    pub(crate) fn result_succeeded(
        &mut self,
        task: TaskId,
        result: PartResult,
        encoded: Option<u64>,
        recorded: TaskCounters,
    ) -> Progress {
        let Some(slot) = self.results.get_mut(task.partition) else {
            return self.failed(
                task,
                format!("the job has no result partition {}", task.partition),
            );
        };
        if slot.is_some() {
            // A late duplicate: the first result stays.
            return self.succeeded(task, recorded);
        }
        if let Err(err) = self.hold_result(task.partition, &result, encoded) {
            return Progress::Done(Err(err));
        }
        self.results[task.partition] = Some(result);
        if let Err(err) = self.deliver_ready() {
            return Progress::Done(Err(err));
        }
        self.succeeded(task, recorded)
    }

    /// Counts a result the driver now holds against the maximum result
    /// size: over it, the job fails (as Spark's does) before the driver's
    /// memory runs out.
    fn hold_result(
        &mut self,
        partition: usize,
        result: &PartResult,
        encoded: Option<u64>,
    ) -> Result<()> {
        if self.max_result_size == u64::MAX {
            return Ok(());
        }
        let size = match encoded {
            Some(size) => size,
            None => self.plan.action.result_size(result)?,
        };
        self.result_bytes = self.result_bytes.saturating_add(size);
        self.result_sizes.resize(self.results.len(), 0);
        self.result_sizes[partition] = size;
        if self.result_bytes <= self.max_result_size {
            return Ok(());
        }
        let held = self.results.iter().filter(|r| r.is_some()).count() - self.delivered + 1;
        Err(Error::Job {
            job: self.plan.desc.job.clone(),
            message: format!(
                "the results of {held} of its {} partitions take {} encoded, over the driver's maximum result size of {} (Spark's spark.driver.maxResultSize: what `collect`, `persist` and other actions keep on the driver); raise it with BARKS_MAX_RESULT_SIZE or Context::builder(..).max_result_size(..), or write the output with a sink instead of collecting it on the driver",
                self.results.len(),
                bytes(self.result_bytes),
                bytes(self.max_result_size),
            ),
        })
    }

    /// Hands the result partitions that are ready, in order, to the
    /// delivery; a delivered slot keeps a `()` so that a late duplicate
    /// result is neither delivered nor merged.
    fn deliver_ready(&mut self) -> Result<()> {
        let Some(delivery) = self.delivery.as_mut() else {
            return Ok(());
        };
        while let Some(slot) = self.results.get_mut(self.delivered).filter(|s| s.is_some()) {
            let Some(part) = slot.replace(Box::new(())) else {
                break;
            };
            let partition = self.delivered;
            // The delivery is the caller's code: a panic fails the job.
            catch_unwind(AssertUnwindSafe(|| delivery(partition, part))).unwrap_or_else(
                |payload| {
                    Err(Error::Job {
                        job: self.plan.desc.job.clone(),
                        message: format!(
                            "taking result partition {partition} on the driver {}",
                            panic_message(payload.as_ref())
                        ),
                    })
                },
            )?;
            // Handed on: the driver holds it no more.
            let size = self.result_sizes.get(partition).copied().unwrap_or(0);
            self.result_bytes = self.result_bytes.saturating_sub(size);
            self.delivered += 1;
        }
        Ok(())
    }

    fn succeeded(&mut self, task: TaskId, recorded: TaskCounters) -> Progress {
        // A slot recorded again replaces its value: nothing counts twice.
        self.counters.merge(recorded);
        self.handle(Event::TaskSucceeded(task))
    }

    /// A task failed; `message` says why (it counts against its attempts).
    pub(crate) fn failed(&mut self, task: TaskId, message: String) -> Progress {
        self.handle(Event::TaskFailed { task, message })
    }

    /// Any other scheduler event: lost map outputs, fetch failures.
    pub(crate) fn handle(&mut self, event: Event) -> Progress {
        let commands = self.scheduler.handle(event);
        self.apply(commands)
    }

    /// Whether map partition `partition` of stage `stage` has its output.
    pub(crate) fn has_output(&self, stage: usize, partition: usize) -> bool {
        self.scheduler.has_output(stage, partition)
    }

    /// Turns the scheduler's commands into the engine's steps, finalizing,
    /// merging and failing on the way.
    fn apply(&mut self, commands: Vec<Command>) -> Progress {
        let mut steps = Vec::new();
        for command in commands {
            match command {
                Command::Launch(task) => steps.push(Step::Launch(task)),
                Command::StageCompleted(stage) => match self.finalize(stage) {
                    Ok(summary) => steps.push(Step::StageCompleted { stage, summary }),
                    Err(err) => return Progress::Done(Err(err)),
                },
                Command::JobSucceeded => return Progress::Done(self.merge()),
                Command::JobFailed {
                    stage,
                    partition,
                    attempts,
                    message,
                } => {
                    return Progress::Done(Err(Error::Task {
                        job: self.plan.desc.job.clone(),
                        stage,
                        partition,
                        attempts,
                        message,
                    }));
                }
            }
        }
        Progress::Running(steps)
    }

    /// A map stage's finalized summary, made the first time it completes.
    fn finalize(&mut self, stage: usize) -> Result<Option<Shared>> {
        let Some(Some(dep)) = self.plan.shuffles.get(stage) else {
            return Ok(None);
        };
        if let Some(summary) = &self.finalized[stage] {
            return Ok(Some(summary.clone()));
        }
        let parts = self.summaries[stage]
            .iter_mut()
            .map(|s| s.take().unwrap_or_else(|| Box::new(())))
            .collect();
        // Finalizing may run user code (a sort key's `Ord`).
        let summary =
            catch_unwind(AssertUnwindSafe(|| dep.finalize(parts))).map_err(|payload| {
                Error::Job {
                    job: self.plan.desc.job.clone(),
                    message: format!(
                        "finishing stage {stage} on the driver {}",
                        panic_message(payload.as_ref())
                    ),
                }
            })?;
        self.finalized[stage] = Some(summary.clone());
        Ok(Some(summary))
    }

    /// Merges the partition results on the driver, in partition order.
    fn merge(&mut self) -> Result<Box<dyn Any + Send>> {
        let parts = self
            .results
            .iter_mut()
            .map(|r| r.take().unwrap_or_else(|| Box::new(())))
            .collect();
        // Merging runs user code on the driver (e.g. `reduce`'s function): a
        // panic there fails the job, like a task's.
        catch_unwind(AssertUnwindSafe(|| self.plan.action.merge(parts))).unwrap_or_else(|payload| {
            Err(Error::Job {
                job: self.plan.desc.job.clone(),
                message: format!(
                    "merging the partition results on the driver {}",
                    panic_message(payload.as_ref())
                ),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    //! The core driven by a simulated engine through random schedules of
    //! successes, failures and lost map outputs, against a model: the
    //! merged result holds every result partition's first success, every
    //! map stage is finalized exactly once from its partitions' first
    //! successes, and a job fails exactly when a partition used up its
    //! attempts, naming that partition. With a delivery, the result
    //! partitions reach it once each, in order, and none is merged.
    use super::*;
    use crate::exec::fakes::chain;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Arc;

    /// What the simulated engine does with the oldest-but-`pick` launched task.
    #[derive(Debug, Clone)]
    enum Move {
        Succeed(usize),
        Fail(usize),
        /// Lose map output `partition` of map stage `stage` (if it exists).
        Lose {
            stage: usize,
            partition: usize,
        },
    }

    fn moves() -> impl Strategy<Value = Vec<Move>> {
        let one = prop_oneof![
            6 => any::<usize>().prop_map(Move::Succeed),
            2 => any::<usize>().prop_map(Move::Fail),
            1 => (0..2usize, 0..4usize).prop_map(|(stage, partition)| Move::Lose { stage, partition }),
        ];
        proptest::collection::vec(one, 0..200)
    }

    /// The value a task attempt produces: distinct per stage, partition and attempt.
    fn value(task: TaskId) -> u64 {
        (task.stage * 10_000 + task.partition * 100) as u64 + u64::from(task.attempt)
    }

    /// Runs the plan with the moves (then successes only) and checks the
    /// outcome against the model.
    fn check(
        parts: [usize; 3],
        max_attempts: u32,
        moves: Vec<Move>,
        deliver: bool,
    ) -> std::result::Result<(), TestCaseError> {
        let (plan, action, deps) = chain(parts, (false, false));
        let delivered = Arc::new(std::sync::Mutex::new(Vec::new()));
        let plan = match deliver {
            true => {
                let delivered = delivered.clone();
                plan.deliver_results(Box::new(move |partition, part| {
                    let value = *part.downcast::<u64>().expect("a u64 result");
                    delivered.lock().unwrap().push((partition, value));
                    Ok(())
                }))
            }
            false => plan,
        };
        let mut first_success: HashMap<(usize, usize), u64> = HashMap::new();
        let mut failures: HashMap<(usize, usize), u32> = HashMap::new();
        let mut finalized_at_completion: BTreeMap<usize, Shared> = BTreeMap::new();
        let mut lost_any = false;
        let mut moves = moves.into_iter();
        let outcome = run(&plan, RunLimits::attempts(max_attempts), |job| {
            let mut launched: Vec<TaskId> = Vec::new();
            let mut progress = job.start();
            loop {
                match progress {
                    Progress::Done(result) => return result,
                    Progress::Running(steps) => {
                        for step in steps {
                            match step {
                                Step::Launch(task) => launched.push(task),
                                Step::StageCompleted {
                                    stage,
                                    summary: Some(summary),
                                } => {
                                    // Every completion hands out the first finalization.
                                    let first = finalized_at_completion
                                        .entry(stage)
                                        .or_insert(summary.clone());
                                    assert!(
                                        Arc::ptr_eq(first, &summary),
                                        "stage {stage} was finalized again"
                                    );
                                }
                                Step::StageCompleted {
                                    stage,
                                    summary: None,
                                } => assert_eq!(stage, 2),
                            }
                        }
                    }
                }
                let next = moves.next().unwrap_or(Move::Succeed(0));
                progress = match next {
                    Move::Lose { stage, partition } if job.has_output(stage, partition) => {
                        lost_any = true;
                        job.handle(Event::OutputsLost {
                            stage,
                            partitions: vec![partition],
                        })
                    }
                    Move::Lose { .. } => Progress::Running(Vec::new()),
                    Move::Succeed(pick) | Move::Fail(pick) if !launched.is_empty() => {
                        let task = launched.remove(pick % launched.len());
                        let key = (task.stage, task.partition);
                        if matches!(next, Move::Fail(_)) {
                            *failures.entry(key).or_default() += 1;
                            job.failed(task, format!("attempt {}", task.attempt))
                        } else {
                            first_success.entry(key).or_insert(value(task));
                            if task.stage == 2 {
                                job.result_succeeded(
                                    task,
                                    Box::new(value(task)),
                                    None,
                                    TaskCounters::default(),
                                )
                            } else {
                                job.map_succeeded(
                                    task,
                                    Box::new(value(task)),
                                    TaskCounters::default(),
                                )
                            }
                        }
                    }
                    _ => panic!("the job is not over, but no task is running"),
                };
            }
        });
        prop_assert_eq!(
            action.prepared.load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        let aborted = action.aborted.load(std::sync::atomic::Ordering::Relaxed);
        match outcome {
            Ok(result) => {
                prop_assert_eq!(aborted, 0);
                let result = *result.downcast::<Vec<u64>>().unwrap();
                let expected: Vec<u64> = (0..parts[2]).map(|p| first_success[&(2, p)]).collect();
                if deliver {
                    prop_assert_eq!(result, Vec::<u64>::new());
                    let delivered = delivered.lock().unwrap();
                    prop_assert_eq!(
                        delivered.iter().map(|d| d.0).collect::<Vec<_>>(),
                        (0..parts[2]).collect::<Vec<_>>()
                    );
                    prop_assert_eq!(delivered.iter().map(|d| d.1).collect::<Vec<_>>(), expected);
                } else {
                    prop_assert_eq!(result, expected);
                }
                for (stage, dep) in deps.iter().enumerate() {
                    let finalized = dep.finalized.lock().unwrap();
                    prop_assert_eq!(
                        finalized.len(),
                        1,
                        "stage {} finalized {} times",
                        stage,
                        finalized.len()
                    );
                    let expected: Vec<u64> = (0..parts[stage])
                        .map(|p| first_success[&(stage, p)])
                        .collect();
                    prop_assert_eq!(&finalized[0], &expected);
                }
            }
            Err(Error::Task {
                job,
                stage,
                partition,
                attempts,
                message,
            }) => {
                prop_assert_eq!(aborted, 1);
                // What was delivered before the failure is a prefix, in order.
                for (i, &(partition, value)) in delivered.lock().unwrap().iter().enumerate() {
                    prop_assert_eq!(partition, i);
                    prop_assert_eq!(value, first_success[&(2, i)]);
                }
                prop_assert_eq!(job, "model");
                prop_assert!(message.starts_with("attempt") || lost_any, "{}", message);
                if !lost_any {
                    prop_assert_eq!(attempts, max_attempts);
                    prop_assert_eq!(failures[&(stage, partition)], max_attempts);
                }
            }
            Err(other) => prop_assert!(false, "unexpected error: {other}"),
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn a_run_matches_the_model(
            parts in [1..4usize, 1..4usize, 1..4usize],
            max_attempts in 1..4u32,
            moves in moves(),
            deliver in any::<bool>(),
        ) {
            check(parts, max_attempts, moves, deliver)?;
        }
    }

    /// Runs `plan` with every task succeeding at once, each result
    /// partition a `1u64`.
    fn run_all(plan: &Plan, limits: RunLimits) -> Result<Box<dyn Any + Send>> {
        run(plan, limits, |job| {
            let mut progress = job.start();
            loop {
                let steps = match progress {
                    Progress::Done(result) => return result,
                    Progress::Running(steps) => steps,
                };
                progress = Progress::Running(Vec::new());
                for step in steps {
                    if let Step::Launch(task) = step {
                        let done = if task.stage == 2 {
                            job.result_succeeded(
                                task,
                                Box::new(1u64),
                                None,
                                TaskCounters::default(),
                            )
                        } else {
                            job.map_succeeded(task, Box::new(1u64), TaskCounters::default())
                        };
                        progress = progress.and_then(|| done);
                    }
                }
            }
        })
    }

    #[test]
    fn a_panic_while_finalizing_or_merging_fails_the_job_and_aborts() {
        for (panics, says) in [
            (
                (true, false),
                "finishing stage 0 on the driver panicked: bad sort key",
            ),
            (
                (false, true),
                "merging the partition results on the driver panicked: bad reduce function",
            ),
        ] {
            let (plan, action, _) = chain([1, 1, 1], panics);
            let err = run_all(&plan, RunLimits::attempts(1)).unwrap_err();
            assert_eq!(
                err,
                Error::Job {
                    job: "model".into(),
                    message: says.into()
                }
            );
            assert_eq!(action.aborted.load(std::sync::atomic::Ordering::Relaxed), 1);
        }
    }

    #[test]
    fn results_over_the_maximum_result_size_fail_the_job_and_delivered_ones_do_not_count() {
        // Four result partitions of 8 encoded bytes each.
        let limits = |max_result_size| RunLimits {
            max_attempts: 1,
            max_result_size,
        };
        let (plan, action, _) = chain([1, 1, 4], (false, false));
        let err = run_all(&plan, limits(31)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "job `model` failed: the results of 4 of its 4 partitions take 32 B encoded, over the driver's maximum result size of 31 B (Spark's spark.driver.maxResultSize: what `collect`, `persist` and other actions keep on the driver); raise it with BARKS_MAX_RESULT_SIZE or Context::builder(..).max_result_size(..), or write the output with a sink instead of collecting it on the driver"
        );
        assert_eq!(action.aborted.load(std::sync::atomic::Ordering::Relaxed), 1);
        let merged = run_all(&plan, limits(32)).unwrap();
        assert_eq!(*merged.downcast::<Vec<u64>>().unwrap(), vec![1; 4]);
        // Delivered partitions leave the driver as they come: one at a time.
        let (plan, _, _) = chain([1, 1, 4], (false, false));
        let plan = plan.deliver_results(Box::new(|_, _| Ok(())));
        run_all(&plan, limits(8)).unwrap();
    }
}
