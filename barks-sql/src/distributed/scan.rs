//! Barks datasets as SQL tables, for SQL inside `pipeline!`: the table a
//! query names is a [`DatasetTable`], whose scan is a [`DatasetScanExec`]
//! leaf that holds no data, only which input it stands for. Cutting the plan
//! turns each such leaf into an exchange fed by that input dataset
//! ([`Feed::Input`](super::fragments::Feed)), so the rows come from the
//! barks lineage the pipeline built, partition `j` of the dataset being
//! partition `j` of the scan.

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use std::fmt;
use std::sync::Arc;

/// Input dataset `input` of a pipeline's `sql(...)` as a table.
#[derive(Debug)]
pub(crate) struct DatasetTable {
    input: usize,
    schema: SchemaRef,
    partitions: usize,
}

impl DatasetTable {
    /// The table of input `input`, whose rows have `schema` and come in
    /// `partitions` partitions.
    pub fn new(input: usize, schema: SchemaRef, partitions: usize) -> Self {
        DatasetTable {
            input,
            schema,
            partitions,
        }
    }
}

#[async_trait]
impl TableProvider for DatasetTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _: &dyn Session,
        projection: Option<&Vec<usize>>,
        _: &[Expr],
        _: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(DatasetScanExec::try_new(
            self.input,
            &self.schema,
            projection.cloned(),
            self.partitions,
        )?))
    }
}

/// The scan of a [`DatasetTable`]: a placeholder that plan cutting replaces
/// with a reader of the input dataset; it never runs itself.
#[derive(Debug)]
pub(crate) struct DatasetScanExec {
    input: usize,
    projection: Option<Vec<usize>>,
    properties: Arc<PlanProperties>,
}

impl DatasetScanExec {
    fn try_new(
        input: usize,
        schema: &SchemaRef,
        projection: Option<Vec<usize>>,
        partitions: usize,
    ) -> Result<Self> {
        let schema = match &projection {
            Some(columns) => Arc::new(schema.project(columns)?),
            None => schema.clone(),
        };
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(partitions.max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(DatasetScanExec {
            input,
            projection,
            properties: Arc::new(properties),
        })
    }

    /// Which input dataset it reads.
    pub fn input(&self) -> usize {
        self.input
    }

    /// The columns it keeps, by position in the table (all if `None`).
    pub fn projection(&self) -> Option<&Vec<usize>> {
        self.projection.as_ref()
    }
}

impl DisplayAs for DatasetScanExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DatasetScanExec: input={}, partitions={}",
            self.input,
            self.properties.output_partitioning().partition_count()
        )?;
        if let Some(columns) = &self.projection {
            write!(f, ", projection={columns:?}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for DatasetScanExec {
    leaf_node_methods!("DatasetScanExec");

    fn execute(&self, _: usize, _: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        Err(DataFusionError::Internal(
            "a pipeline's SQL table was scanned outside barks: its rows come from the \
             pipeline's dataset, through the plan barks cut"
                .into(),
        ))
    }
}
