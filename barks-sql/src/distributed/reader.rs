//! The leaf that replaces an exchange inside a fragment: it yields the
//! batches barks' shuffle delivered to the running task.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

/// What one task's shuffle delivered: the batches of each (exchange, reader
/// partition) routed to it. Travels to the readers as an extension of the
/// task's DataFusion `SessionConfig`.
#[derive(Debug, Default)]
pub(crate) struct TaskInputs {
    /// The pairs this task was routed, delivered or not (a partition may be empty).
    pub routed: BTreeSet<(usize, usize)>,
    pub batches: HashMap<(usize, usize), Vec<RecordBatch>>,
}

impl TaskInputs {
    /// What a task reading nothing but partition `partition` of `exchange` received.
    pub fn one(exchange: usize, partition: usize, batches: Vec<RecordBatch>) -> Self {
        TaskInputs {
            routed: BTreeSet::from([(exchange, partition)]),
            batches: HashMap::from([((exchange, partition), batches)]),
        }
    }
}

/// Reads partition `r` of exchange `exchange` from the running task's
/// [`TaskInputs`].
#[derive(Debug)]
pub(crate) struct ShuffleReaderExec {
    exchange: usize,
    properties: Arc<PlanProperties>,
}

impl ShuffleReaderExec {
    /// A reader with the properties (schema, partitioning, ordering) of the
    /// plan node whose output it stands for.
    pub fn new(exchange: usize, properties: Arc<PlanProperties>) -> Self {
        ShuffleReaderExec {
            exchange,
            properties,
        }
    }

    /// The exchange it reads.
    pub fn exchange(&self) -> usize {
        self.exchange
    }
}

impl DisplayAs for ShuffleReaderExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ShuffleReaderExec: exchange={}, partitions={}",
            self.exchange,
            self.properties.output_partitioning().partition_count()
        )
    }
}

impl ExecutionPlan for ShuffleReaderExec {
    leaf_node_methods!("ShuffleReaderExec");

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let inputs = context
            .session_config()
            .get_extension::<TaskInputs>()
            .ok_or_else(|| {
                DataFusionError::Internal("a shuffle reader ran outside a barks task".into())
            })?;
        let key = (self.exchange, partition);
        if !inputs.routed.contains(&key) {
            return Err(DataFusionError::Internal(format!(
                "partition {partition} of exchange {} was not routed to this task",
                self.exchange
            )));
        }
        // Cloning shares the columns; a partition read twice yields twice.
        let batches = inputs.batches.get(&key).cloned().unwrap_or_default();
        Ok(Box::pin(MemoryStream::try_new(
            batches,
            self.properties.eq_properties.schema().clone(),
            None,
        )?))
    }
}
