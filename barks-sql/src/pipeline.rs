//! SQL inside `pipeline!`: a query over a pipeline's typed datasets whose
//! result is a typed dataset again, so RDD operators and SQL mix in one job.
//!
//! ```text
//! let totals = sql::<RegionTotal>(
//!     "SELECT region, sum(cents) AS total FROM sales GROUP BY region",
//!     sales = sales,
//! );
//! ```
//!
//! `pipeline!` expands that to [`sql_source`] with one [`Table`] per
//! `name = stage`. Everything happens while the job's plan is built, on the
//! driver and again on every worker (each rebuilds the plan from the job's
//! arguments): each stage becomes a table whose columns are its element
//! type's fields (its Arrow schema derived through serde), DataFusion plans
//! the query as the `Session` API does, and the physical plan is cut into
//! barks stages whose scans read the stages' partitions. The data never
//! goes through DataFusion's own scans: partition `j` of a stage is
//! partition `j` of its table. Planning is deterministic, so every process
//! builds the same lineage.
//!
//! A query that cannot be planned (an unknown table or column, a type
//! error) fails the job when its plan is built, before any task runs,
//! through [`barks_runtime::plan::scope::fail`].

use crate::distributed::{DatasetTable, Stages, lineage};
use crate::errors::from_datafusion;
use crate::session::{barks_config, block_on, datafusion_context};
use barks_io::parquet::{Batch, RowBatcher, fields_of};
use barks_runtime::plan::scope;
use barks_runtime::{BoxIter, Data, Dataset, Error, ErrorSink, Result, parallelize};
use datafusion::arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::TableReference;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::scalar_subquery::ScalarSubqueryExec;
use datafusion::prelude::SQLOptions;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Rows per Arrow batch when a stage's rows become a table.
const BATCH_ROWS: usize = 8192;

/// A pipeline stage as a SQL table: its rows as Arrow batches, and their
/// schema (the element type's fields, in order).
pub struct Table {
    batches: Dataset<Batch>,
    schema: Result<SchemaRef>,
}

impl Table {
    /// The table of `rows`: one column per field of `S` (a struct that
    /// derives `Serialize` and `Deserialize`), named as serde names it. The
    /// conversion is a narrow step over each partition, in batches of up to
    /// 8192 rows; nothing is shuffled.
    ///
    /// ```
    /// use barks_runtime::{in_scope, parallelize};
    /// use barks_sql::pipeline::Table;
    ///
    /// #[derive(Clone, serde::Serialize, serde::Deserialize)]
    /// struct Sale { region: String, cents: i64 }
    ///
    /// let columns = in_scope(2, || {
    ///     let sales = parallelize(vec![Sale { region: "north".into(), cents: 120 }], None);
    ///     Table::of(&sales).columns().unwrap()
    /// });
    /// assert_eq!(columns, vec!["region".to_string(), "cents".to_string()]);
    /// ```
    pub fn of<S: Data>(rows: &Dataset<S>) -> Table {
        let schema = schema_of::<S>().map(|fields| Arc::new(Schema::new(fields)));
        let table_schema = schema.clone().unwrap_or_else(|_| Arc::new(Schema::empty()));
        let batches = rows.try_map_partitions_with_index(move |_, rows, errors| {
            let batcher = RowBatcher::new(table_schema.fields().to_vec(), BATCH_ROWS)
                .map_err(cannot_convert::<S>)?;
            Ok(ToBatches {
                rows,
                batcher,
                errors: errors.clone(),
            })
        });
        Table { batches, schema }
    }

    /// The table's column names, in order; an error if `S` has no Arrow
    /// schema (it is not a struct of fields serde_arrow knows).
    pub fn columns(&self) -> Result<Vec<String>> {
        let schema = self.schema.as_ref().map_err(Clone::clone)?;
        Ok(schema.fields().iter().map(|f| f.name().clone()).collect())
    }
}

/// A stage's rows turned into batches (of exactly the table's schema, which
/// the batcher was made with) as they are pulled.
struct ToBatches<S> {
    rows: BoxIter<S>,
    batcher: RowBatcher,
    errors: ErrorSink,
}

impl<S: Data> Iterator for ToBatches<S> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        for row in self.rows.by_ref() {
            if let Err(e) = self.batcher.push(&row) {
                self.errors.fail(cannot_convert::<S>(e));
                return None;
            }
            if self.batcher.len() == BATCH_ROWS {
                break;
            }
        }
        if self.batcher.is_empty() {
            return None;
        }
        match self.batcher.take_batch() {
            Ok(batch) => Some(Batch(batch)),
            Err(e) => {
                self.errors.fail(cannot_convert::<S>(e));
                None
            }
        }
    }
}

fn cannot_convert<S>(message: String) -> Error {
    Error::Sql(format!(
        "rows of type `{}` cannot be converted to Arrow for SQL: {message}",
        std::any::type_name::<S>()
    ))
}

/// The Arrow fields of `T`'s columns (barks-io's [`fields_of`]: strings as
/// `Utf8`, as the rest of barks reads and writes them); an [`Error::Sql`]
/// naming `T` if it has none.
fn schema_of<T: DeserializeOwned>() -> Result<Vec<FieldRef>> {
    fields_of::<T>().map_err(|e| {
        Error::Sql(format!(
            "{e} (use a struct with named fields that derives `Serialize` and `Deserialize`)"
        ))
    })
}

/// The rows of `query` over `tables` (each a name the query uses and a
/// pipeline stage), as `T`s whose fields are matched to the result's
/// columns by name. What `sql::<T>(query, name = stage, ...)` in a
/// `pipeline!` expands to; it runs while the job's plan is built.
///
/// If the query cannot be planned (a syntax error, an unknown table or
/// column, a type error), or the result has no column for a field of `T`,
/// the error is recorded with [`scope::fail`] and the job fails with it
/// before any task runs; the dataset returned then is an empty placeholder.
///
/// The query runs on barks like any `Session` query: its joins,
/// aggregations and sorts are barks stages and shuffles. Uncorrelated
/// scalar subqueries (`WHERE x > (SELECT avg(x) FROM t)`) are planned as
/// joins with the subquery's one row.
///
/// ```
/// use barks_runtime::{Context, parallelize};
/// use barks_sql::pipeline::{Table, sql_source};
///
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Sale { region: String, cents: i64 }
///
/// #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct RegionTotal { region: String, total: i64 }
///
/// let sales = vec![
///     Sale { region: "north".into(), cents: 120 },
///     Sale { region: "south".into(), cents: 80 },
///     Sale { region: "north".into(), cents: 30 },
/// ];
/// let ctx = Context::new("local[2]").unwrap();
/// let totals = ctx
///     .run(move || {
///         let sales = parallelize(sales, Some(2));
///         let totals: barks_runtime::Dataset<RegionTotal> = sql_source(
///             "SELECT region, sum(cents) AS total FROM sales GROUP BY region ORDER BY region",
///             vec![("sales", Table::of(&sales))],
///         );
///         totals.collect()
///     })
///     .unwrap();
/// assert_eq!(totals, vec![
///     RegionTotal { region: "north".into(), total: 150 },
///     RegionTotal { region: "south".into(), total: 80 },
/// ]);
///
/// // An unknown column fails the job before any task runs, naming the nearest.
/// let err = ctx
///     .run(|| {
///         let sales = parallelize(Vec::<Sale>::new(), Some(1));
///         let rows: barks_runtime::Dataset<RegionTotal> =
///             sql_source("SELECT region, centz AS total FROM sales", vec![("sales", Table::of(&sales))]);
///         rows.collect()
///     })
///     .unwrap_err();
/// assert!(err.to_string().contains("centz"), "{err}");
/// ```
pub fn sql_source<T: Data>(query: &str, tables: Vec<(&str, Table)>) -> Dataset<T> {
    match plan::<T>(query, tables) {
        Ok(rows) => rows,
        Err(e) => {
            scope::fail(e);
            parallelize(Vec::new(), Some(1))
        }
    }
}

fn plan<T: Data>(query: &str, tables: Vec<(&str, Table)>) -> Result<Dataset<T>> {
    let mut config = barks_config(scope::default_parallelism());
    // Run uncorrelated scalar subqueries as joins with their one row: a
    // pipeline cannot run them as queries of their own first, as the
    // `Session` API does, and DataFusion's physical subquery would compute
    // the value in whichever task needs it, unseen by the others.
    config
        .options_mut()
        .optimizer
        .enable_physical_uncorrelated_scalar_subquery = false;
    let context = datafusion_context(config);
    let mut inputs = Vec::with_capacity(tables.len());
    for (i, (name, table)) in tables.into_iter().enumerate() {
        let schema = table
            .schema
            .map_err(|e| Error::Sql(format!("table `{name}` of `sql(...)`: {e}")))?;
        let provider = DatasetTable::new(i, schema, table.batches.num_partitions());
        context
            .register_table(TableReference::bare(name), Arc::new(provider))
            .map_err(from_datafusion)?;
        inputs.push(table.batches);
    }
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let frame = block_on(context.sql_with_options(query, options))?.map_err(from_datafusion)?;
    let physical = block_on(frame.create_physical_plan())?.map_err(from_datafusion)?;
    check_no_scalar_subquery(&physical)?;
    let by_position = check_columns::<T>(&physical.schema())?;
    let stages = Stages::cut(physical).map_err(from_datafusion)?;
    if let Some(input) = stages.inputs_read().find(|&i| i >= inputs.len()) {
        return Err(Error::Internal(format!(
            "a pipeline's SQL plan reads input {input} of {}",
            inputs.len()
        )));
    }
    let batches = lineage(&stages, &context.task_ctx(), &inputs);
    Ok(
        batches.try_map_partitions_with_index(move |_, batches, errors| {
            let errors = errors.clone();
            let by_position = by_position.clone();
            Ok(
                batches.flat_map(move |batch| match rows::<T>(batch, by_position.as_ref()) {
                    Ok(rows) => rows,
                    Err(e) => {
                        errors.fail(Error::Sql(format!(
                            "the query's rows cannot be read as `{}`: {e}",
                            std::any::type_name::<T>()
                        )));
                        Vec::new()
                    }
                }),
            )
        }),
    )
}

/// The rows of `batch` as `T`s; with `by_position` (a tuple's field names),
/// its columns renamed to them first.
fn rows<T: Data>(batch: Batch, by_position: Option<&SchemaRef>) -> Result<Vec<T>, String> {
    let batch = match by_position {
        None => batch,
        Some(schema) => {
            let fields: Vec<FieldRef> = batch
                .0
                .schema()
                .fields()
                .iter()
                .zip(schema.fields())
                .map(|(column, tuple)| Arc::new(column.as_ref().clone().with_name(tuple.name())))
                .collect();
            let renamed = Arc::new(Schema::new(fields));
            Batch(
                RecordBatch::try_new(renamed, batch.0.columns().to_vec())
                    .map_err(|e| e.to_string())?,
            )
        }
    };
    batch.rows::<T>().map_err(|e| e.to_string())
}

/// A plan that still holds a physical scalar subquery cannot run as barks
/// stages (see [`plan`]); DataFusion planned it as a join unless it could not.
fn check_no_scalar_subquery(plan: &Arc<dyn ExecutionPlan>) -> Result<()> {
    let mut found = false;
    let _ = plan.apply(|node| {
        found = node.is::<ScalarSubqueryExec>();
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    if found {
        return Err(Error::Sql(
            "scalar subqueries are not supported inside pipeline! yet; join with the aggregate instead"
                .into(),
        ));
    }
    Ok(())
}

/// Every field of `T` that must be present has a column of its name in the
/// result, so a misnamed column fails when the plan is built, not in a task.
/// A tuple (fields `0`, `1`, ...) reads the columns by position instead: its
/// field names are returned then, to rename the columns to. Types
/// serde_arrow cannot describe are left to decoding.
fn check_columns<T: DeserializeOwned>(result: &SchemaRef) -> Result<Option<SchemaRef>> {
    let Ok(fields) = schema_of::<T>() else {
        return Ok(None);
    };
    let is_tuple = !fields.is_empty()
        && fields
            .iter()
            .enumerate()
            .all(|(i, f)| *f.name() == i.to_string());
    if is_tuple {
        if fields.len() != result.fields().len() {
            return Err(Error::Sql(format!(
                "the query returns {} column(s), but the tuple `{}` has {} fields",
                result.fields().len(),
                std::any::type_name::<T>(),
                fields.len()
            )));
        }
        return Ok(Some(Arc::new(Schema::new(fields))));
    }
    for field in fields {
        if field.is_nullable() || result.field_with_name(field.name()).is_ok() {
            continue;
        }
        let columns: Vec<String> = result
            .fields()
            .iter()
            .map(|f| format!("`{}`", f.name()))
            .collect();
        return Err(Error::Sql(format!(
            "the query's result has no column `{}`, which the row type `{}` needs; its columns are {} (name a result column with `AS {}`)",
            field.name(),
            std::any::type_name::<T>(),
            columns.join(", "),
            field.name()
        )));
    }
    Ok(None)
}
