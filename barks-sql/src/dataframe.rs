//! [`DataFrame`]: a lazy query with Spark's DataFrame API; its actions run
//! it on barks.

use crate::distributed::{run_query, run_write, stream_query};
use crate::errors::{from_datafusion, naming_the_file};
use crate::session::{Session, block_on};
use crate::show::show_string;
use crate::stream::BatchIterator;
use crate::write::{DataFrameWriter, WriteSpec};
use barks_io::parquet::{Batch, FromArrow};
use barks_runtime::{Error, Result};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::JoinType;
use datafusion::logical_expr::{Expr, SortExpr};
use datafusion::physical_plan::{ExecutionPlan, displayable};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A lazy query: transformations build a plan, actions (`collect`, `count`,
/// `show`, `write`) run it on barks (Spark's `DataFrame`).
///
/// Column expressions are DataFusion's (`col`, `lit`, `sum`, ...),
/// re-exported in [`crate::expr`].
///
/// ```
/// use barks_sql::Session;
/// use barks_sql::expr::{col, lit};
///
/// let session = Session::new("local[2]").unwrap();
/// let df = session
///     .sql("SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) AS t(n, s)")
///     .unwrap()
///     .filter(col("n").gt(lit(1)))
///     .unwrap()
///     .select_columns(&["s"])
///     .unwrap();
/// assert_eq!(df.count().unwrap(), 2);
/// ```
#[derive(Clone)]
pub struct DataFrame {
    session: Session,
    df: datafusion::dataframe::DataFrame,
    /// For statements that read only the driver's catalog (EXPLAIN, SHOW,
    /// DESCRIBE): run in-process on the driver, never on workers.
    on_driver: bool,
}

impl std::fmt::Debug for DataFrame {
    /// The logical plan, indented.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataFrame\n{}", self.df.logical_plan().display_indent())
    }
}

/// Spark's `GroupedData`: the result of [`DataFrame::group_by`], waiting
/// for its aggregates.
pub struct GroupedData {
    frame: DataFrame,
    keys: Vec<Expr>,
}

impl GroupedData {
    /// Computes `aggregates` per group: one row per group with the keys
    /// then the aggregates (Spark's `agg`).
    pub fn agg(self, aggregates: Vec<Expr>) -> Result<DataFrame> {
        self.frame.map(|df| df.aggregate(self.keys, aggregates))
    }

    /// The number of rows of each group, as a column `count`.
    pub fn count(self) -> Result<DataFrame> {
        let count = datafusion::functions_aggregate::count::count(datafusion::prelude::lit(1))
            .alias("count");
        self.agg(vec![count])
    }
}

/// How to join, in Spark's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    Inner,
    Left,
    Right,
    Full,
    /// Rows of the left side that have a match (`left_semi`).
    LeftSemi,
    /// Rows of the left side that have no match (`left_anti`).
    LeftAnti,
}

impl From<Join> for JoinType {
    fn from(join: Join) -> JoinType {
        match join {
            Join::Inner => JoinType::Inner,
            Join::Left => JoinType::Left,
            Join::Right => JoinType::Right,
            Join::Full => JoinType::Full,
            Join::LeftSemi => JoinType::LeftSemi,
            Join::LeftAnti => JoinType::LeftAnti,
        }
    }
}

impl DataFrame {
    pub(crate) fn new(session: Session, df: datafusion::dataframe::DataFrame) -> Self {
        DataFrame {
            session,
            df,
            on_driver: false,
        }
    }

    pub(crate) fn on_driver(session: Session, df: datafusion::dataframe::DataFrame) -> Self {
        DataFrame {
            session,
            df,
            on_driver: true,
        }
    }

    fn map(
        self,
        f: impl FnOnce(
            datafusion::dataframe::DataFrame,
        ) -> datafusion::common::Result<datafusion::dataframe::DataFrame>,
    ) -> Result<DataFrame> {
        Ok(DataFrame {
            df: f(self.df).map_err(from_datafusion)?,
            ..self
        })
    }

    /// The DataFusion DataFrame underneath, for what barks does not wrap.
    pub fn datafusion(&self) -> &datafusion::dataframe::DataFrame {
        &self.df
    }

    /// The result's schema.
    pub fn schema(&self) -> SchemaRef {
        self.df.schema().inner().clone()
    }

    /// The columns, by name.
    pub fn columns(&self) -> Vec<String> {
        self.df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    // ---- transformations ----

    /// Keeps the expressions given (Spark's `select`).
    pub fn select(self, exprs: Vec<Expr>) -> Result<DataFrame> {
        self.map(|df| df.select(exprs))
    }

    /// Keeps the named columns.
    pub fn select_columns(self, columns: &[&str]) -> Result<DataFrame> {
        self.map(|df| df.select_columns(columns))
    }

    /// Keeps SQL expressions (Spark's `selectExpr`): `["a + 1 AS b", "upper(s)"]`.
    pub fn select_expr(self, exprs: &[&str]) -> Result<DataFrame> {
        self.map(|df| df.select_exprs(exprs))
    }

    /// Keeps the rows where `predicate` is true (Spark's `filter`).
    pub fn filter(self, predicate: Expr) -> Result<DataFrame> {
        self.map(|df| df.filter(predicate))
    }

    /// Spark's `where`: the same as [`filter`](Self::filter).
    pub fn where_(self, predicate: Expr) -> Result<DataFrame> {
        self.filter(predicate)
    }

    /// Keeps the rows where the SQL condition holds: `filter_sql("n > 1 AND s <> 'x'")`.
    pub fn filter_sql(self, condition: &str) -> Result<DataFrame> {
        let predicate = self.df.parse_sql_expr(condition).map_err(from_datafusion)?;
        self.filter(predicate)
    }

    /// Adds a column, or replaces the one named `name` (Spark's `withColumn`).
    /// Window functions are allowed.
    pub fn with_column(self, name: &str, expr: Expr) -> Result<DataFrame> {
        self.map(|df| df.with_column(name, expr))
    }

    /// Renames a column; renaming one that does not exist does nothing, as in Spark.
    pub fn with_column_renamed(self, old: &str, new: &str) -> Result<DataFrame> {
        self.map(|df| df.with_column_renamed(old, new))
    }

    /// Drops the named columns (Spark's `drop`).
    pub fn drop(self, columns: &[&str]) -> Result<DataFrame> {
        self.map(|df| df.drop_columns(columns))
    }

    /// Groups rows by `keys` for [`GroupedData::agg`] (Spark's `groupBy`).
    pub fn group_by(self, keys: Vec<Expr>) -> GroupedData {
        GroupedData { frame: self, keys }
    }

    /// Aggregates the whole frame (Spark's `agg` without `groupBy`).
    pub fn agg(self, aggregates: Vec<Expr>) -> Result<DataFrame> {
        self.group_by(Vec::new()).agg(aggregates)
    }

    /// Joins on equal columns: `left_on[i] = right_on[i]` (Spark's `join` with
    /// column names, when they differ between the sides).
    pub fn join(
        self,
        right: &DataFrame,
        how: Join,
        left_on: &[&str],
        right_on: &[&str],
    ) -> Result<DataFrame> {
        let right = right.df.clone();
        self.map(|df| df.join(right, how.into(), left_on, right_on, None))
    }

    /// Joins on a boolean expression over both sides' columns (Spark's `join`
    /// with a `Column` condition).
    pub fn join_on(self, right: &DataFrame, how: Join, on: Expr) -> Result<DataFrame> {
        let right = right.df.clone();
        self.map(|df| df.join_on(right, how.into(), [on]))
    }

    /// Sorts the rows (Spark's `orderBy`): `order_by(vec![col("a").sort(true, false)])`
    /// (ascending, nulls last).
    pub fn order_by(self, order: Vec<SortExpr>) -> Result<DataFrame> {
        self.map(|df| df.sort(order))
    }

    /// The first `n` rows (Spark's `limit`).
    pub fn limit(self, n: usize) -> Result<DataFrame> {
        self.map(|df| df.limit(0, Some(n)))
    }

    /// Removes duplicate rows (Spark's `distinct`).
    pub fn distinct(self) -> Result<DataFrame> {
        self.map(|df| df.distinct())
    }

    /// The rows of both frames, matched by position, duplicates kept (Spark's `union`).
    pub fn union(self, other: &DataFrame) -> Result<DataFrame> {
        let other = other.df.clone();
        self.map(|df| df.union(other))
    }

    /// The rows of both frames, matched by column name (Spark's `unionByName`).
    pub fn union_by_name(self, other: &DataFrame) -> Result<DataFrame> {
        let other = other.df.clone();
        self.map(|df| df.union_by_name(other))
    }

    /// Registers the frame as a view `name` for SQL (Spark's
    /// `createOrReplaceTempView`).
    pub fn create_or_replace_temp_view(&self, name: &str) -> Result<()> {
        let datafusion = self.session.datafusion();
        datafusion.deregister_table(name).map_err(from_datafusion)?;
        datafusion
            .register_table(name, self.df.clone().into_view())
            .map_err(from_datafusion)?;
        Ok(())
    }

    // ---- actions ----

    /// The optimized physical plan DataFusion made, and the barks stages it
    /// is cut into (Spark's `explain`).
    pub fn explain(&self) -> Result<String> {
        let plan = self.physical_plan()?;
        let logical = self
            .df
            .clone()
            .into_optimized_plan()
            .map_err(from_datafusion)?;
        let physical = displayable(plan.as_ref()).indent(false).to_string();
        Ok(format!(
            "== Optimized Logical Plan ==\n{}\n\n== Physical Plan ==\n{physical}\n== barks stages ==\n{}",
            logical.display_indent(),
            crate::distributed::describe_stages(plan)?,
        ))
    }

    /// Runs the query and returns its rows as Arrow record batches. A CSV
    /// or JSON row that does not decode is an error naming its file (or,
    /// when the query reads several, their directory) and DataFusion's
    /// line.
    pub fn collect(&self) -> Result<Vec<RecordBatch>> {
        if self.on_driver {
            return block_on(self.df.clone().collect())?.map_err(from_datafusion);
        }
        let plan = self.physical_plan()?;
        let task = Arc::new(self.df.task_ctx());
        let batches = run_query(self.session.context(), plan.clone(), task)
            .map_err(|e| naming_the_file(&plan, e))?;
        Ok(batches.into_iter().map(|b| b.0).collect())
    }

    /// Runs the query and yields its rows batch by batch as they reach the
    /// driver (Spark's `toLocalIterator`, in one job): in `collect`'s order,
    /// each result partition as soon as it and the partitions before it are
    /// done, so the first rows come before the last task ends and the
    /// driver holds only what arrived and was not read yet. Dropping the
    /// iterator stops the query.
    ///
    /// ```
    /// use barks_sql::Session;
    ///
    /// let session = Session::new("local[2]").unwrap();
    /// let df = session
    ///     .sql("SELECT * FROM (VALUES (3), (1), (2)) AS t(n) ORDER BY n")
    ///     .unwrap();
    /// let mut rows = 0;
    /// for batch in df.to_local_iterator().unwrap() {
    ///     rows += batch.unwrap().num_rows();
    /// }
    /// assert_eq!(rows, 3);
    /// ```
    pub fn to_local_iterator(&self) -> Result<BatchIterator> {
        if self.on_driver {
            return Ok(BatchIterator::ready(self.collect()?));
        }
        let plan = self.physical_plan()?;
        let task = Arc::new(self.df.task_ctx());
        let context = self.session.context().clone();
        BatchIterator::spawn(move |arrivals| {
            let rows = arrivals.clone();
            let outcome = stream_query(&context, plan.clone(), task, move |batches| {
                let batches = batches.into_iter().map(|b| b.0).collect();
                rows.send(Ok(batches)).map_err(|_| Error::Job {
                    job: "sql query".into(),
                    message: "the caller stopped reading its rows".into(),
                })
            });
            if let Err(err) = outcome {
                let _ = arrivals.send(Err(naming_the_file(&plan, err)));
            }
        })
    }

    /// Runs the query and returns its rows as `T`s, matched to columns by
    /// field name (`#[derive(FromArrow)]`).
    pub fn collect_as<T: FromArrow>(&self) -> Result<Vec<T>> {
        let mut rows = Vec::new();
        for batch in self.collect()? {
            let columns = T::columns(&batch).map_err(Error::Sql)?;
            rows.extend((0..batch.num_rows()).map(|i| T::row(&columns, i)));
        }
        Ok(rows)
    }

    /// Runs the query and returns its rows as `T`s through serde
    /// (serde_arrow), matched to columns by field name.
    pub fn collect_serde<T: DeserializeOwned>(&self) -> Result<Vec<T>> {
        let mut rows = Vec::new();
        for batch in self.collect()? {
            rows.extend(
                Batch(batch)
                    .rows::<T>()
                    .map_err(|e| Error::Sql(e.to_string()))?,
            );
        }
        Ok(rows)
    }

    /// The number of rows (Spark's `count`).
    pub fn count(&self) -> Result<u64> {
        let counted = self.clone().agg(vec![
            datafusion::functions_aggregate::count::count(datafusion::prelude::lit(1))
                .alias("count"),
        ])?;
        let batches = counted.collect()?;
        let value = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .and_then(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::Int64Array>()
                    .map(|a| a.value(0))
            })
            .ok_or_else(|| Error::Internal("count() returned no row".into()))?;
        Ok(value.max(0) as u64)
    }

    /// The first `n` rows as a table, the way Spark's `show` prints it
    /// (strings over 20 characters cut to 17 and `...`).
    pub fn show_string(&self, n: usize) -> Result<String> {
        // A driver-side statement (EXPLAIN, SHOW) must stay the plan's root.
        let batches = match self.on_driver {
            true => self.collect()?,
            false => self.clone().limit(n + 1)?.collect()?,
        };
        Ok(show_string(&self.schema(), &batches, n, true))
    }

    /// Prints the first `n` rows (Spark's `show(n)`).
    pub fn show(&self, n: usize) -> Result<()> {
        print!("{}", self.show_string(n)?);
        Ok(())
    }

    /// Writes the rows into files (Spark's `df.write`).
    pub fn write(&self) -> DataFrameWriter {
        DataFrameWriter::new(self.clone())
    }

    pub(crate) fn write_files(&self, spec: WriteSpec) -> Result<()> {
        let plan = self.physical_plan()?;
        run_write(
            self.session.context(),
            plan.clone(),
            Arc::new(self.df.task_ctx()),
            spec,
        )
        .map_err(|e| naming_the_file(&plan, e))
    }

    /// The physical plan barks runs: DataFusion's, after the scalar
    /// subqueries ran as queries of their own.
    pub(crate) fn physical_plan(&self) -> Result<Arc<dyn ExecutionPlan>> {
        let (state, plan) = self.df.clone().into_parts();
        let plan = state.optimize(&plan).map_err(from_datafusion)?;
        let plan = crate::subqueries::substitute(&self.session, &state, plan)?;
        block_on(state.create_physical_plan(&plan))?.map_err(from_datafusion)
    }
}
