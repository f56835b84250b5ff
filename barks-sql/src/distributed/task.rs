//! Running one partition of a fragment inside a barks task.
//!
//! DataFusion's operators are async; a barks task is a thread. Each task
//! drives its fragment on a current-thread tokio runtime of its own, so the
//! operators (and anything they spawn) run on the task's thread: the task
//! uses exactly the one slot the scheduler gave it.

use super::memory::{fit_sort_reservation, spilled, task_runtime};
use super::reader::TaskInputs;
use crate::errors::from_datafusion;
use barks_io::parquet::Batch;
use barks_runtime::memory::{TaskMemory, current_task};
use barks_runtime::{Error, ErrorSink, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use futures::StreamExt;
use std::sync::Arc;

/// The batches of one fragment partition, computed as they are pulled.
pub(crate) struct FragmentRun {
    runtime: tokio::runtime::Runtime,
    stream: SendableRecordBatchStream,
    errors: ErrorSink,
    spills: SpillsSeen,
}

impl Iterator for FragmentRun {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        match self.runtime.block_on(self.stream.next()) {
            Some(Ok(batch)) => Some(Batch(batch)),
            Some(Err(e)) => {
                self.errors.fail(from_datafusion(e));
                self.spills.count();
                None
            }
            None => {
                self.spills.count();
                None
            }
        }
    }
}

impl Drop for FragmentRun {
    fn drop(&mut self) {
        self.spills.count();
    }
}

/// What the fragment's operators spilled for this partition before the task
/// started, to count what they spill during it in the task's metrics (once).
struct SpillsSeen {
    plan: Arc<dyn ExecutionPlan>,
    partition: usize,
    task: Arc<TaskMemory>,
    before: Option<(u64, u64)>,
}

impl SpillsSeen {
    fn count(&mut self) {
        if let Some((bytes, files)) = self.before.take() {
            let (now_bytes, now_files) = spilled(&self.plan, self.partition);
            self.task.count_spilled(
                now_bytes.saturating_sub(bytes),
                now_files.saturating_sub(files),
            );
        }
    }
}

/// Starts partition `partition` of `plan` with the shuffle `inputs` this task
/// received. The tasks of a stage in one process share the plan, as
/// DataFusion's partitions do: a collected build side or a scalar
/// subquery's value is computed once per process (it is the same for every
/// task, being read from the same broadcast inputs).
pub(crate) fn run(
    plan: &Arc<dyn ExecutionPlan>,
    partition: usize,
    inputs: TaskInputs,
    base: &TaskContext,
    errors: &ErrorSink,
) -> Result<FragmentRun> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Start {
            what: "a tokio runtime for a SQL task".into(),
            message: e.to_string(),
        })?;
    let memory = current_task();
    let spills = SpillsSeen {
        plan: plan.clone(),
        partition,
        task: memory.clone(),
        before: Some(spilled(plan, partition)),
    };
    let mut config = base
        .session_config()
        .clone()
        .with_extension(Arc::new(inputs));
    fit_sort_reservation(&mut config, &memory);
    let context = Arc::new(TaskContext::new(
        base.task_id(),
        base.session_id(),
        config,
        base.scalar_functions().clone(),
        base.higher_order_functions().clone(),
        base.aggregate_functions().clone(),
        base.window_functions().clone(),
        task_runtime(base, &memory)?,
    ));
    let stream = {
        let _entered = runtime.enter();
        plan.execute(partition, context).map_err(from_datafusion)?
    };
    Ok(FragmentRun {
        runtime,
        stream,
        errors: errors.clone(),
        spills,
    })
}
