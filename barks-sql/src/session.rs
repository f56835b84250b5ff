//! [`Session`]: Spark's `SparkSession` — where SQL is parsed and planned,
//! tables and views are registered, and queries are run on barks.

use crate::dataframe::DataFrame;
use crate::distributed::optimizer_rules;
use crate::errors::from_datafusion;
use crate::functions;
use crate::read::DataFrameReader;
use barks_runtime::{Context, ContextBuilder, Error, Result};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::{DdlStatement, LogicalPlan, SetVariable, Statement};
use datafusion::prelude::{SessionConfig, SessionContext};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// A SQL session on a barks master (Spark's `SparkSession`).
///
/// DataFusion parses, analyses and optimizes; barks runs the plan: its
/// scans, joins, aggregations and sorts are tasks of barks stages, on
/// `local[N]` threads or on cluster workers.
///
/// ```
/// use barks_sql::Session;
///
/// let session = Session::new("local[2]").unwrap();
/// let df = session.sql("SELECT 1 + 1 AS two").unwrap();
/// assert_eq!(df.count().unwrap(), 1);
/// ```
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    context: Context,
    datafusion: SessionContext,
}

/// Settings of a [`Session`] before it starts (Spark's `SparkSession.builder`).
pub struct SessionBuilder {
    context: ContextBuilder,
    shuffle_partitions: Option<usize>,
}

impl SessionBuilder {
    /// How many partitions a query's shuffles (joins, aggregations) use:
    /// Spark's `spark.sql.shuffle.partitions`. Defaults to the master's
    /// parallelism (threads, or the cluster's task slots).
    pub fn shuffle_partitions(mut self, partitions: usize) -> Self {
        self.shuffle_partitions = Some(partitions.max(1));
        self
    }

    /// Changes the underlying context's settings (attempts, timeouts, secret).
    pub fn context(mut self, f: impl FnOnce(ContextBuilder) -> ContextBuilder) -> Self {
        self.context = f(self.context);
        self
    }

    /// Starts the session (and the local cluster, for `local-cluster[N]`).
    pub fn build(self) -> Result<Session> {
        let context = self.context.build()?;
        let partitions = self
            .shuffle_partitions
            .unwrap_or_else(|| context.default_parallelism());
        Ok(Session::with_context(context, partitions))
    }
}

impl Session {
    /// A session on `master` (`local[N]`, `local-cluster[N]`, `quic://HOST:PORT`).
    pub fn new(master: &str) -> Result<Session> {
        Session::builder(master).build()
    }

    /// A session builder for `master`.
    pub fn builder(master: &str) -> SessionBuilder {
        SessionBuilder {
            context: Context::builder(master),
            shuffle_partitions: None,
        }
    }

    /// A session on an existing context, with `shuffle_partitions` partitions
    /// per shuffle.
    pub fn with_context(context: Context, shuffle_partitions: usize) -> Session {
        let datafusion = datafusion_context(barks_config(shuffle_partitions));
        Session {
            inner: Arc::new(Inner {
                context,
                datafusion,
            }),
        }
    }

    /// The barks context queries run on.
    pub fn context(&self) -> &Context {
        &self.inner.context
    }

    /// The DataFusion session that plans queries: for what barks does not
    /// wrap (registering a custom table provider, reading its settings).
    pub fn datafusion(&self) -> &SessionContext {
        &self.inner.datafusion
    }

    /// How many partitions a query's shuffles use.
    pub fn shuffle_partitions(&self) -> usize {
        self.inner
            .datafusion
            .state()
            .config()
            .options()
            .execution
            .target_partitions
    }

    /// Runs one SQL statement (Spark's `spark.sql`). A query returns a lazy
    /// [`DataFrame`]; DDL (`CREATE EXTERNAL TABLE`, `CREATE VIEW`, `DROP`),
    /// `SET` (also Spark's `SET spark.sql.shuffle.partitions = N` and
    /// `SET spark.sql.autoBroadcastJoinThreshold = BYTES`, 10 MiB by
    /// default, `-1` for no broadcast joins) and
    /// `CREATE TABLE … AS SELECT` take effect at once and return an empty one. Errors name what is wrong: a syntax error its line and
    /// column, an unknown table or column the nearest existing name.
    ///
    /// ```
    /// use barks_sql::Session;
    ///
    /// let session = Session::new("local[1]").unwrap();
    /// let err = session.sql("SELEC 1").unwrap_err();
    /// assert!(err.to_string().contains("Line: 1, Column: 1"), "{err}");
    /// ```
    pub fn sql(&self, sql: &str) -> Result<DataFrame> {
        let state = self.inner.datafusion.state();
        let plan = block_on(state.create_logical_plan(sql))?.map_err(from_datafusion)?;
        let plan = spark_settings(plan);
        match plan {
            LogicalPlan::Statement(Statement::SetVariable(set))
                if set.variable.eq_ignore_ascii_case(BROADCAST_SETTING) =>
            {
                let bytes = set.value.trim().parse::<i64>().map_err(|_| {
                    Error::Sql(format!(
                        "{BROADCAST_SETTING} takes a number of bytes (-1 turns broadcasts off), not `{}`",
                        set.value
                    ))
                })?;
                let state = self.inner.datafusion.state_ref();
                set_broadcast_threshold(state.write().config_mut().options_mut(), bytes);
                self.empty()
            }
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(create)) => {
                // CREATE TABLE … AS SELECT: the SELECT runs on barks.
                let input = DataFrame::new(
                    self.clone(),
                    datafusion::dataframe::DataFrame::new(state, create.input.as_ref().clone()),
                );
                let batches = input.collect()?;
                let schema = create.input.schema().inner().clone();
                let table = datafusion::datasource::MemTable::try_new(schema, vec![batches])
                    .map_err(from_datafusion)?;
                if create.or_replace {
                    self.inner
                        .datafusion
                        .deregister_table(create.name.clone())
                        .map_err(from_datafusion)?;
                } else if create.if_not_exists
                    && self
                        .inner
                        .datafusion
                        .table_exist(create.name.clone())
                        .map_err(from_datafusion)?
                {
                    return self.empty();
                }
                self.inner
                    .datafusion
                    .register_table(create.name.clone(), Arc::new(table))
                    .map_err(from_datafusion)?;
                self.empty()
            }
            LogicalPlan::Dml(dml) => Err(Error::Sql(format!(
                "{} is not supported yet: write a DataFrame with `df.write()` instead",
                dml.op
            ))),
            LogicalPlan::Ddl(_)
            | LogicalPlan::Statement(_)
            | LogicalPlan::Explain(_)
            | LogicalPlan::Analyze(_)
            | LogicalPlan::DescribeTable(_)
            | LogicalPlan::Copy(_) => {
                let df = block_on(self.inner.datafusion.execute_logical_plan(plan))?
                    .map_err(from_datafusion)?;
                Ok(DataFrame::on_driver(self.clone(), df))
            }
            plan if reads_catalog(&plan) => {
                // SHOW TABLES and friends read the session's catalog, which
                // only the driver has.
                let df = datafusion::dataframe::DataFrame::new(state, plan);
                Ok(DataFrame::on_driver(self.clone(), df))
            }
            plan => Ok(DataFrame::new(
                self.clone(),
                datafusion::dataframe::DataFrame::new(state, plan),
            )),
        }
    }

    /// The table or view registered as `name` (Spark's `spark.table`).
    pub fn table(&self, name: &str) -> Result<DataFrame> {
        let df = block_on(self.inner.datafusion.table(name))?.map_err(from_datafusion)?;
        Ok(DataFrame::new(self.clone(), df))
    }

    /// Reads files into DataFrames (Spark's `spark.read`).
    pub fn read(&self) -> DataFrameReader<'_> {
        DataFrameReader::new(self)
    }

    fn empty(&self) -> Result<DataFrame> {
        let df = self
            .inner
            .datafusion
            .read_empty()
            .map_err(from_datafusion)?;
        Ok(DataFrame::on_driver(self.clone(), df))
    }
}

/// A DataFusion context that plans as barks needs: `config` (see
/// [`barks_config`]), DataFusion's default features, barks' join rules
/// ([`optimizer_rules`]) and every linked UDF. The `Session` API and SQL
/// inside `pipeline!` both plan with one.
pub(crate) fn datafusion_context(config: SessionConfig) -> SessionContext {
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_runtime_env(crate::storage::runtime_env())
        .with_physical_optimizer_rules(optimizer_rules())
        .build();
    let datafusion = SessionContext::new_with_state(state);
    functions::register_all(&datafusion);
    datafusion
}

/// The DataFusion settings barks plans with.
pub(crate) fn barks_config(partitions: usize) -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_target_partitions(partitions)
        .with_information_schema(true);
    let options = config.options_mut();
    // A round-robin repartition after a scan would be a real shuffle here;
    // scans split their files into `partitions` byte ranges instead.
    options.optimizer.enable_round_robin_repartition = false;
    // Dynamic filters coordinate the partitions of one operator in one
    // process; barks' tasks of a stage run apart, so they are off.
    options.optimizer.enable_dynamic_filter_pushdown = false;
    options.optimizer.enable_join_dynamic_filter_pushdown = false;
    options.optimizer.enable_topk_dynamic_filter_pushdown = false;
    options.optimizer.enable_aggregate_dynamic_filter_pushdown = false;
    options.optimizer.prefer_existing_sort = false;
    set_broadcast_threshold(options, DEFAULT_BROADCAST_THRESHOLD);
    // Work stealing shares a scan's files between the partitions of one
    // plan instance; a barks task must read exactly its own partition.
    options.execution.enable_file_stream_work_stealing = false;
    config
}

/// Spark's setting for the largest join side broadcast to the other's tasks.
const BROADCAST_SETTING: &str = "spark.sql.autoBroadcastJoinThreshold";

/// Spark's default [`BROADCAST_SETTING`]: a join side estimated under
/// 10 MiB is collected and sent to every task of the other side, which is
/// then not shuffled. (DataFusion's own default is 1 MiB; a shuffle costs
/// barks more than a broadcast, most of all on a cluster: BENCHMARKS.md.)
const DEFAULT_BROADCAST_THRESHOLD: i64 = 10 << 20;

/// Sets the broadcast threshold to `bytes` (a negative value turns
/// broadcasts off, as in Spark).
fn set_broadcast_threshold(options: &mut ConfigOptions, bytes: i64) {
    let bytes = usize::try_from(bytes).unwrap_or(0);
    options.optimizer.hash_join_single_partition_threshold = bytes;
    // Where a side's size is not estimated, its row count is: 8 bytes a row
    // at least.
    options.optimizer.hash_join_single_partition_threshold_rows = bytes / 8;
}

/// `SET spark.sql.shuffle.partitions = N` as the DataFusion setting it is.
fn spark_settings(plan: LogicalPlan) -> LogicalPlan {
    match plan {
        LogicalPlan::Statement(Statement::SetVariable(set))
            if set
                .variable
                .eq_ignore_ascii_case("spark.sql.shuffle.partitions") =>
        {
            LogicalPlan::Statement(Statement::SetVariable(SetVariable {
                variable: "datafusion.execution.target_partitions".into(),
                value: set.value,
            }))
        }
        plan => plan,
    }
}

/// Whether `plan` reads the session's catalog (`information_schema`).
fn reads_catalog(plan: &LogicalPlan) -> bool {
    let mut found = false;
    let _ = plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && scan.table_name.schema() == Some("information_schema")
        {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// Runs a planning future (DataFusion plans asynchronously) to completion on
/// a runtime of this call's own. A panic while planning (a reader library
/// tripping over a corrupt file's metadata) is an error, not a crash.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Start {
            what: "a tokio runtime for planning".into(),
            message: e.to_string(),
        })?;
    std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(future))).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Error::Sql(format!("planning failed: {message}"))
    })
}
