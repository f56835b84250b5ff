//! The DAG scheduler as a state machine: it takes [`Event`]s and returns
//! [`Command`]s and does no I/O, so local mode and cluster mode drive the
//! same logic and tests can feed it any schedule of events.
//!
//! # States
//! A stage runs one task per partition. Each partition is in exactly one of
//! three states:
//! - *waiting*: not finished and no attempt outstanding; it is launched as
//!   soon as every parent stage is complete;
//! - *running*: exactly one attempt is outstanding (launched, not reported);
//! - *finished*: its output exists (map output on a worker for a ShuffleMap
//!   stage, a result on the driver for the Result stage).
//!
//! A stage is *complete* once it was submitted and every partition is
//! finished. Stages are submitted, all partitions at once, when their parents
//! first are all complete.
//!
//! # Invariants
//! - A task is launched only while every parent stage of its stage is
//!   complete (and after that parent's [`Command::StageCompleted`]).
//! - At most one attempt of a partition is outstanding, and the attempts of a
//!   partition are numbered 1, 2, 3, ... in launch order, so a [`TaskId`] names
//!   one run. Each outstanding attempt reports exactly once; any other report
//!   (a repeated one, one for an attempt that already reported or was never
//!   launched, one after the job is over) is ignored. Because the scheduler
//!   never relaunches a partition while an attempt of it is outstanding, there
//!   are no duplicate runs whose late results would need reconciling: the first
//!   success of a partition is the only one.
//!
//! # Lost map outputs
//! Finished partitions of a ShuffleMap stage can be lost ([`Event::OutputsLost`],
//! [`Event::FetchFailed`]); they become waiting again, which makes the stage
//! incomplete. They are relaunched as soon as the stage's own parents are
//! complete (a parent that lost outputs too is recomputed first). Meanwhile the
//! stage's children launch nothing; their running tasks keep running and may
//! still succeed (they may have fetched everything already) or fail. When the
//! stage completes again, [`Command::StageCompleted`] is emitted again and the
//! children launch exactly their partitions that are neither finished nor
//! running. Results of the Result stage live on the driver and are never lost.
//!
//! # Failure budgets
//! - A task's own failures ([`Event::TaskFailed`]) count against its
//!   partition: the job fails when one partition has failed `max_attempts`
//!   times.
//! - Lost outputs are nobody's fault and use up no task attempt (attempt
//!   numbers keep growing, failure counts do not). They are bounded per stage
//!   instead: the job fails when lost outputs make one complete stage
//!   incomplete more than `max_stage_attempts` times
//!   ([`Scheduler::with_max_stage_attempts`]).

use super::desc::{StageDesc, StageKind};
use std::collections::BTreeSet;

/// How many times lost outputs may make a stage incomplete unless
/// [`Scheduler::with_max_stage_attempts`] says otherwise.
pub const DEFAULT_MAX_STAGE_ATTEMPTS: u32 = 4;

/// One attempt of one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskId {
    pub stage: usize,
    pub partition: usize,
    /// 1 for the first attempt.
    pub attempt: u32,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    TaskSucceeded(TaskId),
    /// The task failed by itself (an error, a panic, its worker died while it
    /// ran): counts against the task's attempts.
    TaskFailed {
        task: TaskId,
        message: String,
    },
    /// A task could not read map output `map_partition` of the parent stage
    /// `map_stage` (its worker is gone or lost the block). Not the task's
    /// fault: it does NOT use up an attempt. The map output is treated as lost
    /// (like [`Event::OutputsLost`] for that one partition), and the task is
    /// relaunched once that parent stage is complete again.
    ///
    /// If that map output was recomputed after the task was launched, the
    /// task failed on the old copy: the new one is kept and the task is
    /// relaunched at once ([`Scheduler::has_output`] tells which happened). A `map_stage` the task's stage does not read, or a
    /// `map_partition` out of range, makes this an ordinary task failure.
    FetchFailed {
        task: TaskId,
        map_stage: usize,
        map_partition: usize,
        message: String,
    },
    /// Map outputs of a ShuffleMap stage are gone (the worker that held them
    /// was lost). Partitions that are not finished are ignored (report a task
    /// that was running on a lost worker with [`Event::TaskFailed`]), and so
    /// is this event for the Result stage.
    OutputsLost {
        stage: usize,
        partitions: Vec<usize>,
    },
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run this task.
    Launch(TaskId),
    /// Every task of this stage succeeded (finalize its shuffle before the
    /// launches that follow in the same batch).
    ///
    /// A stage whose map outputs were lost completes again once they are
    /// recomputed, and this is emitted again. The driver must keep the FIRST
    /// finalization of the stage's shuffle: summaries (such as a sort's range
    /// bounds) are not recomputed, because the recomputed map tasks already
    /// partitioned their output with them.
    StageCompleted(usize),
    /// The result stage is complete: merge the results. Emitted at most once,
    /// as the last command of the job.
    JobSucceeded,
    /// The job fails; the last command of the job. Either partition
    /// `partition` of `stage` failed `attempts` times (the `max_attempts` of
    /// [`Scheduler::new`]) and `message` is its last error, or lost outputs
    /// made `stage` incomplete `attempts` times, more than
    /// [`Scheduler::with_max_stage_attempts`] allows: then `partition` is the
    /// last lost one and `message` says the stage's outputs kept getting lost
    /// and quotes the last fetch failure.
    JobFailed {
        stage: usize,
        partition: usize,
        attempts: u32,
        message: String,
    },
}

/// Where one partition of a stage is; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Waiting,
    /// `attempt` is outstanding; it was launched while handling event number
    /// `since`.
    Running {
        attempt: u32,
        since: u64,
    },
    /// The output exists; it was produced while handling event number `since`.
    Finished {
        since: u64,
    },
}

struct Partition {
    slot: Slot,
    /// Attempts launched so far: the last attempt number.
    attempts: u32,
    /// Attempts that failed by the task's own fault.
    failures: u32,
}

struct StageState {
    desc: StageDesc,
    parts: Vec<Partition>,
    /// Exactly the partitions in `Slot::Waiting`.
    waiting: BTreeSet<usize>,
    /// Partitions not finished.
    remaining: usize,
    submitted: bool,
    /// How many times lost outputs made this stage incomplete after it had
    /// completed.
    losses: u32,
    /// The last fetch failure that named an output of this stage.
    last_fetch_failure: Option<String>,
}

impl StageState {
    fn new(desc: &StageDesc) -> Self {
        let parts = (0..desc.partitions)
            .map(|_| Partition {
                slot: Slot::Waiting,
                attempts: 0,
                failures: 0,
            })
            .collect();
        StageState {
            desc: desc.clone(),
            parts,
            waiting: (0..desc.partitions).collect(),
            remaining: desc.partitions,
            submitted: false,
            losses: 0,
            last_fetch_failure: None,
        }
    }

    fn is_complete(&self) -> bool {
        self.submitted && self.remaining == 0
    }

    /// When `task` is this stage's outstanding attempt: the event number it
    /// was launched at.
    fn outstanding(&self, task: TaskId) -> Option<u64> {
        match self.parts.get(task.partition)?.slot {
            Slot::Running { attempt, since } if attempt == task.attempt => Some(since),
            _ => None,
        }
    }

    /// Puts a partition that is not finished back in line for a launch.
    fn wait(&mut self, partition: usize) {
        self.parts[partition].slot = Slot::Waiting;
        self.waiting.insert(partition);
    }

    /// Forgets the output of `partition` if it is finished; returns whether it
    /// was.
    fn lose(&mut self, partition: usize) -> bool {
        let finished = matches!(
            self.parts.get(partition).map(|p| p.slot),
            Some(Slot::Finished { .. })
        );
        if finished {
            self.remaining += 1;
            self.wait(partition);
        }
        finished
    }
}

/// Tracks stages and task attempts of one job.
pub struct Scheduler {
    stages: Vec<StageState>,
    max_attempts: u32,
    max_stage_attempts: u32,
    /// The number of events handled so far ([`Scheduler::start`] is event 0):
    /// orders launches and map outputs to recognize stale fetch failures.
    clock: u64,
    over: bool,
}

impl Scheduler {
    /// A scheduler for `stages` (topologically ordered, result stage last)
    /// that gives each task up to `max_attempts` attempts (at least 1) and
    /// lets lost outputs make a stage incomplete up to
    /// [`DEFAULT_MAX_STAGE_ATTEMPTS`] times.
    pub fn new(stages: &[StageDesc], max_attempts: u32) -> Self {
        Scheduler {
            stages: stages.iter().map(StageState::new).collect(),
            max_attempts: max_attempts.max(1),
            max_stage_attempts: DEFAULT_MAX_STAGE_ATTEMPTS,
            clock: 0,
            over: false,
        }
    }

    /// Lets lost outputs (or fetch failures) make one stage incomplete up to
    /// `n` times; the next time fails the job. With 0, any lost output of a
    /// complete stage fails the job.
    pub fn with_max_stage_attempts(mut self, n: u32) -> Self {
        self.max_stage_attempts = n;
        self
    }

    /// Launches every stage that has no parents.
    pub fn start(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        self.launch_ready(&mut out);
        out
    }

    /// Whether the job has succeeded or failed.
    pub fn is_over(&self) -> bool {
        self.over
    }

    /// Whether the output of `partition` of `stage` exists as far as the
    /// scheduler knows: the partition finished and its output was not lost
    /// since. After a [`Event::FetchFailed`] the driver should forget where
    /// that map output lives only if this turned false (a failure on an old
    /// copy keeps the recomputed one).
    pub fn has_output(&self, stage: usize, partition: usize) -> bool {
        self.stages
            .get(stage)
            .and_then(|s| s.parts.get(partition))
            .is_some_and(|p| matches!(p.slot, Slot::Finished { .. }))
    }

    /// Applies one event.
    pub fn handle(&mut self, event: Event) -> Vec<Command> {
        let mut out = Vec::new();
        if self.over {
            return out;
        }
        self.clock += 1;
        match event {
            Event::TaskSucceeded(task) => self.task_succeeded(task, &mut out),
            Event::TaskFailed { task, message } => self.task_failed(task, message, &mut out),
            Event::FetchFailed {
                task,
                map_stage,
                map_partition,
                message,
            } => self.fetch_failed(task, map_stage, map_partition, message, &mut out),
            Event::OutputsLost { stage, partitions } => {
                self.outputs_lost(stage, &partitions, &mut out)
            }
        }
        self.launch_ready(&mut out);
        out
    }

    fn task_succeeded(&mut self, task: TaskId, out: &mut Vec<Command>) {
        let clock = self.clock;
        let Some(stage) = self.stages.get_mut(task.stage) else {
            return;
        };
        if stage.outstanding(task).is_none() {
            return;
        }
        stage.parts[task.partition].slot = Slot::Finished { since: clock };
        stage.remaining -= 1;
        if stage.remaining == 0 {
            self.complete(task.stage, out);
        }
    }

    fn task_failed(&mut self, task: TaskId, message: String, out: &mut Vec<Command>) {
        let max_attempts = self.max_attempts;
        let Some(stage) = self.stages.get_mut(task.stage) else {
            return;
        };
        if stage.outstanding(task).is_none() {
            return;
        }
        let part = &mut stage.parts[task.partition];
        part.failures += 1;
        if part.failures >= max_attempts {
            let attempts = part.failures;
            self.fail(task.stage, task.partition, attempts, message, out);
        } else {
            stage.wait(task.partition);
        }
    }

    fn fetch_failed(
        &mut self,
        task: TaskId,
        map_stage: usize,
        map_partition: usize,
        message: String,
        out: &mut Vec<Command>,
    ) {
        let Some(launched) = self
            .stages
            .get(task.stage)
            .and_then(|s| s.outstanding(task))
        else {
            return;
        };
        let reads_it = self.stages[task.stage].desc.parents.contains(&map_stage)
            && map_partition < self.stages[map_stage].parts.len();
        if !reads_it {
            let message = format!(
                "a fetch failure names map output {map_partition} of stage {map_stage}, which stage {} does not read: {message}",
                task.stage
            );
            return self.task_failed(task, message, out);
        }
        self.stages[task.stage].wait(task.partition);
        let map = &mut self.stages[map_stage];
        map.last_fetch_failure = Some(message);
        let recomputed_since_launch = matches!(
            map.parts[map_partition].slot,
            Slot::Finished { since } if since > launched
        );
        if !recomputed_since_launch {
            self.lose_outputs(map_stage, &[map_partition], out);
        }
    }

    fn outputs_lost(&mut self, stage: usize, partitions: &[usize], out: &mut Vec<Command>) {
        let is_map = self
            .stages
            .get(stage)
            .is_some_and(|s| s.desc.kind != StageKind::Result);
        if is_map {
            self.lose_outputs(stage, partitions, out);
        }
    }

    /// Forgets the finished `partitions` of a ShuffleMap stage and counts it
    /// against the stage's budget if that made a complete stage incomplete.
    fn lose_outputs(&mut self, stage: usize, partitions: &[usize], out: &mut Vec<Command>) {
        let state = &mut self.stages[stage];
        let was_complete = state.is_complete();
        let mut last_lost = None;
        for &p in partitions {
            if state.lose(p) {
                last_lost = Some(p);
            }
        }
        let Some(partition) = last_lost.filter(|_| was_complete) else {
            return;
        };
        state.losses += 1;
        if state.losses > self.max_stage_attempts {
            let message = format!(
                "the map outputs of stage {stage} kept getting lost: it had to be recomputed {} times, more than the limit of {}; last fetch failure: {}",
                state.losses,
                self.max_stage_attempts,
                state
                    .last_fetch_failure
                    .as_deref()
                    .unwrap_or("none (the outputs were reported lost)")
            );
            let attempts = state.losses;
            self.fail(stage, partition, attempts, message, out);
        }
    }

    fn fail(
        &mut self,
        stage: usize,
        partition: usize,
        attempts: u32,
        message: String,
        out: &mut Vec<Command>,
    ) {
        self.over = true;
        out.push(Command::JobFailed {
            stage,
            partition,
            attempts,
            message,
        });
    }

    fn complete(&mut self, stage: usize, out: &mut Vec<Command>) {
        out.push(Command::StageCompleted(stage));
        if self.stages[stage].desc.kind == StageKind::Result {
            self.over = true;
            out.push(Command::JobSucceeded);
        }
    }

    fn parents_complete(&self, stage: usize) -> bool {
        self.stages[stage]
            .desc
            .parents
            .iter()
            .all(|&p| self.stages[p].is_complete())
    }

    /// Submits every stage whose parents are complete and launches the
    /// waiting partitions of every stage that may run. Stages are in
    /// topological order, so one pass sees the stages completed on the way
    /// (a stage without partitions completes when it is submitted).
    fn launch_ready(&mut self, out: &mut Vec<Command>) {
        for i in 0..self.stages.len() {
            if self.over {
                return;
            }
            if !self.parents_complete(i) {
                continue;
            }
            let stage = &mut self.stages[i];
            if !stage.submitted {
                stage.submitted = true;
                if stage.remaining == 0 {
                    self.complete(i, out);
                    continue;
                }
            }
            self.launch_waiting(i, out);
        }
    }

    fn launch_waiting(&mut self, stage: usize, out: &mut Vec<Command>) {
        let since = self.clock;
        let state = &mut self.stages[stage];
        for partition in std::mem::take(&mut state.waiting) {
            let part = &mut state.parts[partition];
            part.attempts += 1;
            part.slot = Slot::Running {
                attempt: part.attempts,
                since,
            };
            out.push(Command::Launch(TaskId {
                stage,
                partition,
                attempt: part.attempts,
            }));
        }
    }
}
