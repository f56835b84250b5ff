//! Running one task of a plan: the same code in local mode and on a
//! cluster worker. A task that panics or reports an error fails, with the
//! message the job will report; nothing unwinds past here.

use crate::counters::{self, TaskCounters};
use crate::dag::TaskId;
use crate::error::{Error, Result};
use crate::memory::task::in_task;
use crate::memory::{Memory, TaskMemory};
use crate::plan::Plan;
use crate::plan::node::PartResult;
use crate::plan::node::{ShuffleSource, TaskContext};
use crate::shuffle::store::BlockStore;
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// What a successful task leaves behind.
pub(crate) enum TaskOutput {
    /// A map task's summary for the driver; its output is in the process's
    /// [`BlockStore`].
    Map(Box<dyn Any + Send>),
    /// A result task's partition result, for the driver.
    Result(PartResult),
}

/// Why a task did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TaskFailure {
    /// It failed: this is the message (counts against its attempts).
    Failed(String),
    /// It could not read map output `map` of shuffle `shuffle`.
    FetchFailed {
        shuffle: usize,
        map: usize,
        message: String,
    },
}

impl TaskFailure {
    fn from_error(err: Error) -> TaskFailure {
        match err {
            Error::FetchFailed {
                shuffle,
                map,
                message,
            } => TaskFailure::FetchFailed {
                shuffle,
                map,
                message,
            },
            err => TaskFailure::Failed(err.to_string()),
        }
    }
}

/// Runs a map task into the store, or a result task.
fn run_body(plan: &Plan, task: TaskId, tc: &TaskContext, env: &TaskEnv) -> Result<TaskOutput> {
    let stage = plan
        .shuffles
        .get(task.stage)
        .ok_or_else(|| Error::Internal(format!("the plan has no stage {}", task.stage)))?;
    match stage {
        Some(dep) => {
            let output = dep.run_map(task.partition, tc)?;
            if tc.has_error() {
                // The output is incomplete: keep nothing.
                return Ok(TaskOutput::Map(output.summary));
            }
            let key = (env.run, dep.id(), task.partition);
            env.store.put(key, output.data, dep.clone())?;
            Ok(TaskOutput::Map(output.summary))
        }
        None => plan.action.run(task.partition, tc).map(TaskOutput::Result),
    }
}

/// The text of a panic payload: `panicked: <message>`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_string()
    }
}

/// Where a task runs: its job run, the process's memory, and the store its
/// map output goes to.
pub(crate) struct TaskEnv<'a> {
    pub run: u64,
    pub memory: &'a Arc<Memory>,
    pub store: &'a BlockStore,
}

/// Runs `task` of `plan`, reading shuffle outputs from `shuffles` and
/// keeping a map output in `env.store`. Returns how it ended and the
/// [counters](crate::counters) it recorded, its
/// [memory metrics](crate::memory::MemoryMetrics) among them: none when it
/// failed, since a failed attempt's values are discarded.
pub(crate) fn run_task(
    plan: &Plan,
    task: TaskId,
    shuffles: Arc<dyn ShuffleSource>,
    env: &TaskEnv,
) -> (Result<TaskOutput, TaskFailure>, TaskCounters) {
    let tc = TaskContext::new(task.stage, task.partition, task.attempt, shuffles);
    let memory = TaskMemory::new(
        env.memory.clone(),
        env.run,
        (task.stage, task.partition),
        tc.error_sink(),
    );
    let (outcome, counters) = counters::collect(|| {
        let outcome = in_task(memory.clone(), || {
            catch_unwind(AssertUnwindSafe(|| run_body(plan, task, &tc, env)))
        });
        let metrics = memory.metrics();
        if !metrics.is_empty() {
            log::info!(
                "task {}.{} (attempt {}): {metrics}",
                task.stage,
                task.partition,
                task.attempt
            );
            metrics.record(((task.stage as u64) << 32) | task.partition as u64);
        }
        outcome
    });
    let done = match outcome {
        Ok(Ok(out)) => match tc.take_error() {
            Some(err) => Err(TaskFailure::from_error(err)),
            None => Ok(out),
        },
        Ok(Err(err)) => Err(TaskFailure::from_error(tc.take_error().unwrap_or(err))),
        Err(payload) => Err(TaskFailure::Failed(format!(
            "task {}",
            panic_message(payload.as_ref())
        ))),
    };
    match (done, counters.too_many()) {
        (Ok(out), None) => (Ok(out), counters),
        (Ok(_), Some(why)) => (
            Err(TaskFailure::Failed(format!("task {why}"))),
            TaskCounters::default(),
        ),
        (Err(failure), _) => (Err(failure), TaskCounters::default()),
    }
}
