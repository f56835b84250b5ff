//! Running one task of a plan: the same code in local mode and on a
//! cluster worker. A task that panics or reports an error fails, with the
//! message the job will report; nothing unwinds past here.

use crate::counters::{self, TaskCounters};
use crate::dag::TaskId;
use crate::error::Error;
use crate::plan::Plan;
use crate::plan::node::PartResult;
use crate::plan::node::{MapOutput, ShuffleSource, TaskContext};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// What a successful task leaves behind.
pub(crate) enum TaskOutput {
    /// A map task's output, for the shuffle of its stage.
    Map(MapOutput),
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

/// Runs `task` of `plan`, reading shuffle outputs from `shuffles`. Returns
/// how it ended and the [counters](crate::counters) it recorded: none when
/// it failed, since a failed attempt's values are discarded.
pub(crate) fn run_task(
    plan: &Plan,
    task: TaskId,
    shuffles: Arc<dyn ShuffleSource>,
) -> (Result<TaskOutput, TaskFailure>, TaskCounters) {
    let tc = TaskContext::new(task.stage, task.partition, task.attempt, shuffles);
    let (outcome, counters) =
        counters::collect(|| {
            catch_unwind(AssertUnwindSafe(|| {
                match plan.shuffles.get(task.stage).ok_or_else(|| {
                    Error::Internal(format!("the plan has no stage {}", task.stage))
                })? {
                    Some(dep) => dep.run_map(task.partition, &tc).map(TaskOutput::Map),
                    None => plan.action.run(task.partition, &tc).map(TaskOutput::Result),
                }
            }))
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
