//! Global sorts as range-partitioned barks sorts.
//!
//! DataFusion sorts a query's result globally by sorting each partition and
//! merging them all in one task (`SortPreservingMergeExec` over a
//! partition-preserving `SortExec`). For a result sort with no `LIMIT`,
//! barks instead runs the rows through its own range-partitioned sort
//! shuffle (the one `sort_by_key` uses): map tasks sort their partition and
//! sample its keys, the driver picks range bounds from the samples, and
//! reduce task `r` merges the `r`-th key range of every run. Every task
//! sorts a share of the rows, no task merges them all, and the result is the
//! reduce partitions in order.
//!
//! Rows cross the shuffle in Arrow's row format: the sort keys, encoded with
//! the query's directions and null orders, followed by every column. Byte
//! order of such a row is the query's order (ties broken by the other
//! columns), so the shuffle sorts plain byte strings.
//!
//! A sort with a `LIMIT` keeps DataFusion's plan: each partition keeps its
//! top rows and the merge sees few.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::Result;
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use std::fmt;
use std::sync::Arc;

/// How the rows of a range-partitioned sort are encoded: the sort keys,
/// then every column of `schema`.
pub(crate) struct SortRows {
    ordering: LexOrdering,
    schema: SchemaRef,
    converter: RowConverter,
}

impl fmt::Debug for SortRows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SortRows({})", self.ordering)
    }
}

impl SortRows {
    /// The encoding for sorting rows of `schema` by `ordering`, if Arrow's
    /// row format can carry every key and column.
    fn new(ordering: LexOrdering, schema: SchemaRef) -> Option<SortRows> {
        let mut fields = Vec::new();
        for key in ordering.iter() {
            let data_type = key.expr.data_type(&schema).ok()?;
            fields.push(SortField::new_with_options(data_type, key.options));
        }
        for field in schema.fields() {
            // Dictionaries come back from the row format as their values.
            if matches!(field.data_type(), DataType::Dictionary(..)) {
                return None;
            }
            fields.push(SortField::new(field.data_type().clone()));
        }
        if !RowConverter::supports_fields(&fields) {
            return None;
        }
        let converter = RowConverter::new(fields).ok()?;
        Some(SortRows {
            ordering,
            schema,
            converter,
        })
    }

    /// The order it sorts by.
    pub fn ordering(&self) -> &LexOrdering {
        &self.ordering
    }

    /// `batch`'s rows, each as bytes whose order is the sort's.
    pub fn encode(&self, batch: &RecordBatch) -> Result<Vec<Vec<u8>>> {
        let mut columns: Vec<ArrayRef> =
            Vec::with_capacity(self.ordering.len() + batch.num_columns());
        for key in self.ordering.iter() {
            columns.push(key.expr.evaluate(batch)?.into_array(batch.num_rows())?);
        }
        columns.extend(batch.columns().iter().cloned());
        let rows = self.converter.convert_columns(&columns)?;
        Ok(rows.iter().map(|row| row.as_ref().to_vec()).collect())
    }

    /// The batch of `rows` made by [`encode`](Self::encode), in their order.
    /// The bytes must come from `encode` (shuffle blocks are checksummed).
    pub fn decode(&self, rows: &[Vec<u8>]) -> Result<RecordBatch> {
        let parser = self.converter.parser();
        let mut columns = self
            .converter
            .convert_rows(rows.iter().map(|row| parser.parse(row)))?;
        let values = columns.split_off(self.ordering.len());
        Ok(RecordBatch::try_new(self.schema.clone(), values)?)
    }
}

/// If `plan` is a global sort of a query's result that barks runs as a
/// range-partitioned sort: the sort's input and how to encode its rows.
pub(crate) fn result_sort(
    plan: &Arc<dyn ExecutionPlan>,
) -> Option<(Arc<dyn ExecutionPlan>, Arc<SortRows>)> {
    let merge = plan.downcast_ref::<SortPreservingMergeExec>()?;
    let sort = merge.input().downcast_ref::<SortExec>()?;
    if merge.fetch().is_some() || sort.fetch().is_some() || !sort.preserve_partitioning() {
        return None;
    }
    let input = sort.input();
    if input.output_partitioning().partition_count() < 2 {
        return None;
    }
    let rows = SortRows::new(sort.expr().clone(), input.schema())?;
    Some((input.clone(), Arc::new(rows)))
}
