//! The DAG scheduler as a state machine: it takes [`Event`]s and returns
//! [`Command`]s and does no I/O, so local mode and cluster mode drive the
//! same logic and tests can feed it any schedule of events.

use crate::plan::{StageDesc, StageKind};

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
    TaskFailed { task: TaskId, message: String },
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run this task.
    Launch(TaskId),
    /// Every task of this stage succeeded (finalize its shuffle before the
    /// launches that follow in the same batch).
    StageCompleted(usize),
    /// The result stage is complete: merge the results.
    JobSucceeded,
    /// A task used up its attempts: the job fails with its last error.
    JobFailed {
        stage: usize,
        partition: usize,
        attempts: u32,
        message: String,
    },
}

struct StageState {
    desc: StageDesc,
    finished: Vec<bool>,
    remaining: usize,
    attempts: Vec<u32>,
    submitted: bool,
}

/// Tracks stages and task attempts of one job.
pub struct Scheduler {
    stages: Vec<StageState>,
    max_attempts: u32,
    over: bool,
}

impl Scheduler {
    /// A scheduler for `stages` (topologically ordered, result stage last)
    /// that gives each task up to `max_attempts` attempts.
    pub fn new(stages: &[StageDesc], max_attempts: u32) -> Self {
        let stages = stages
            .iter()
            .map(|d| StageState {
                desc: d.clone(),
                finished: vec![false; d.partitions],
                remaining: d.partitions,
                attempts: vec![0; d.partitions],
                submitted: false,
            })
            .collect();
        Scheduler {
            stages,
            max_attempts: max_attempts.max(1),
            over: false,
        }
    }

    /// Launches every stage that has no parents.
    pub fn start(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        self.submit_ready(&mut out);
        out
    }

    /// Whether the job has succeeded or failed.
    pub fn is_over(&self) -> bool {
        self.over
    }

    /// Applies one event.
    pub fn handle(&mut self, event: Event) -> Vec<Command> {
        let mut out = Vec::new();
        if self.over {
            return out;
        }
        match event {
            Event::TaskSucceeded(t) => {
                let Some(stage) = self.stages.get_mut(t.stage) else {
                    return out;
                };
                if t.partition >= stage.finished.len() || stage.finished[t.partition] {
                    return out;
                }
                stage.finished[t.partition] = true;
                stage.remaining -= 1;
                if stage.remaining == 0 {
                    self.complete(t.stage, &mut out);
                    self.submit_ready(&mut out);
                }
            }
            Event::TaskFailed { task: t, message } => {
                let Some(stage) = self.stages.get_mut(t.stage) else {
                    return out;
                };
                if t.partition >= stage.finished.len() || stage.finished[t.partition] {
                    return out;
                }
                if stage.attempts[t.partition] >= self.max_attempts {
                    self.over = true;
                    out.push(Command::JobFailed {
                        stage: t.stage,
                        partition: t.partition,
                        attempts: stage.attempts[t.partition],
                        message,
                    });
                } else {
                    stage.attempts[t.partition] += 1;
                    out.push(Command::Launch(TaskId {
                        attempt: stage.attempts[t.partition],
                        ..t
                    }));
                }
            }
        }
        out
    }

    fn complete(&mut self, stage: usize, out: &mut Vec<Command>) {
        out.push(Command::StageCompleted(stage));
        if self.stages[stage].desc.kind == StageKind::Result {
            self.over = true;
            out.push(Command::JobSucceeded);
        }
    }

    fn is_complete(&self, stage: usize) -> bool {
        let s = &self.stages[stage];
        s.submitted && s.remaining == 0
    }

    /// Submits every stage whose parents are complete; a stage without
    /// partitions completes at once, which may make more stages ready.
    fn submit_ready(&mut self, out: &mut Vec<Command>) {
        loop {
            let ready = (0..self.stages.len()).find(|&i| {
                !self.stages[i].submitted
                    && self.stages[i]
                        .desc
                        .parents
                        .iter()
                        .all(|&p| self.is_complete(p))
            });
            let Some(i) = ready else { return };
            if self.over {
                return;
            }
            let stage = &mut self.stages[i];
            stage.submitted = true;
            if stage.remaining == 0 {
                self.complete(i, out);
                continue;
            }
            for p in 0..stage.desc.partitions {
                stage.attempts[p] = 1;
                out.push(Command::Launch(TaskId {
                    stage: i,
                    partition: p,
                    attempt: 1,
                }));
            }
        }
    }
}
