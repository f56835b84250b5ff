//! Running one partition of a fragment inside a barks task.
//!
//! DataFusion's operators are async; a barks task is a thread. Each task
//! drives its fragment on a current-thread tokio runtime of its own, so the
//! operators (and anything they spawn) run on the task's thread: the task
//! uses exactly the one slot the scheduler gave it.

use super::reader::TaskInputs;
use crate::errors::from_datafusion;
use barks_io::parquet::Batch;
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
}

impl Iterator for FragmentRun {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        match self.runtime.block_on(self.stream.next()) {
            Some(Ok(batch)) => Some(Batch(batch)),
            Some(Err(e)) => {
                self.errors.fail(from_datafusion(e));
                None
            }
            None => None,
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
    let config = base
        .session_config()
        .clone()
        .with_extension(Arc::new(inputs));
    let context = Arc::new(TaskContext::new(
        base.task_id(),
        base.session_id(),
        config,
        base.scalar_functions().clone(),
        base.higher_order_functions().clone(),
        base.aggregate_functions().clone(),
        base.window_functions().clone(),
        base.runtime_env(),
    ));
    let stream = {
        let _entered = runtime.enter();
        plan.execute(partition, context).map_err(from_datafusion)?
    };
    Ok(FragmentRun {
        runtime,
        stream,
        errors: errors.clone(),
    })
}
