//! SQL Server through tiberius (TDS): partitioned reads of a table or query,
//! split on a numeric column's range like Spark's JDBC source, and
//! partitioned writes with multi-row `INSERT`s, one transaction per
//! partition. The connection string is ADO.NET's:
//! `server=tcp:host,1433;user=..;password=..;database=..;encrypt=true`.
//!
//! ```no_run
//! use barks_io::mssql::read_sql_server;
//! use barks_io::sql::SqlRead;
//! use barks_runtime::Dataset;
//!
//! #[derive(serde::Deserialize)]
//! struct Order { id: i64, amount: f64 }
//!
//! let url = "server=tcp:db,1433;user=app;password=secret;database=shop;encrypt=true";
//! let orders: Dataset<Order> =
//!     read_sql_server(SqlRead::table(url, "dbo.orders").partition_on("id", 0, 1_000_000, 8));
//! ```

mod connect;
mod decode;
mod rows;
mod writer;

use crate::async_rt::block_on;
use crate::sql::{Database, DbResult, SqlRead, SqlSink, SqlSource, SqlWrite, WriteMode};
use barks_runtime::{Data, Dataset, Output, from_source};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// The SQL Server [`Database`] of the shared SQL source and sink.
pub(crate) struct SqlServer;

impl Database for SqlServer {
    const NAME: &'static str = "sql server";
    type Rows = rows::ChannelRows;
    type Writer = writer::InsertWriter;

    fn query(url: &str, sql: &str, fetch_rows: usize) -> DbResult<Self::Rows> {
        rows::ChannelRows::open(url, sql, fetch_rows)
    }

    fn check_table(url: &str, table: &str, mode: &WriteMode) -> DbResult<()> {
        if let WriteMode::Upsert { .. } = mode {
            return Err("upserts are not supported for SQL Server; use WriteMode::Append".into());
        }
        let mut client = connect::connect(url)?;
        block_on(connect::run_batch(
            &mut client,
            &format!("SELECT * FROM {table} WHERE 1 = 0"),
        ))
    }

    fn writer(
        url: &str,
        table: &str,
        columns: &[Cow<'static, str>],
        _mode: &WriteMode,
    ) -> DbResult<Self::Writer> {
        writer::InsertWriter::begin(url, table, columns)
    }
}

/// Runs a T-SQL batch through `url`, e.g. the `CREATE TABLE` of a job's
/// output before the job writes into it.
pub fn execute_batch(url: &str, sql: &str) -> barks_runtime::Result<()> {
    let fail = |message: String| barks_runtime::Error::Io {
        path: format!("sql server {}", crate::redact::redact_url(url)).into(),
        message,
    };
    let mut client = connect::connect(url).map_err(fail)?;
    block_on(connect::run_batch(&mut client, sql)).map_err(fail)
}

/// The rows of a SQL Server table or query as records of type `T` (matched
/// to columns by name through serde), one partition per range of
/// `read.partitioning` (see [`SqlRead::partition_on`]).
pub fn read_sql_server<T: DeserializeOwned + Send + 'static>(read: SqlRead) -> Dataset<T> {
    from_source(SqlSource::<SqlServer, T>::new(read))
}

/// `dataset.save_to_sql_server(write)`.
pub trait SaveToSqlServer {
    /// Writes every record into `write.table` with multi-row `INSERT`s, one
    /// transaction per partition (see [`WriteMode`] for what a retried task
    /// does; only `Append` is supported here).
    fn save_to_sql_server(&self, write: SqlWrite) -> Output<()>;
}

impl<T: Data + Serialize> SaveToSqlServer for Dataset<T> {
    fn save_to_sql_server(&self, write: SqlWrite) -> Output<()> {
        self.write(SqlSink::<SqlServer>::new(write))
    }
}
