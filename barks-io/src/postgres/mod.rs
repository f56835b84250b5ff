//! PostgreSQL: partitioned reads of a table or query, split on a numeric
//! column's range like Spark's JDBC source, and partitioned writes with
//! `COPY`, one transaction per partition (tokio-postgres).
//!
//! ```no_run
//! use barks_io::postgres::{SaveToPostgres, read_postgres};
//! use barks_io::sql::{SqlRead, SqlWrite};
//! use barks_runtime::{Context, Dataset};
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Order { id: i64, amount: f64, note: Option<String> }
//!
//! let url = "postgres://app:secret@127.0.0.1:5432/shop";
//! Context::new("local[4]")?.run(|| {
//!     let orders: Dataset<Order> =
//!         read_postgres(SqlRead::table(url, "orders").partition_on("id", 0, 1_000_000, 8));
//!     orders
//!         .filter(|o| o.amount > 100.0)
//!         .save_to_postgres(SqlWrite::table(url, "big_orders"))
//! })?;
//! # Ok::<(), barks_runtime::Error>(())
//! ```

mod connect;
mod copy_text;
mod decode;
mod rows;
mod writer;

use crate::async_rt::block_on;
use crate::sql::{Database, DbResult, SqlRead, SqlSink, SqlSource, SqlWrite, WriteMode};
use barks_runtime::{Data, Dataset, Output, from_source};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// The PostgreSQL [`Database`] of the shared SQL source and sink.
pub(crate) struct Postgres;

impl Database for Postgres {
    const NAME: &'static str = "postgres";
    type Rows = rows::CursorRows;
    type Writer = writer::CopyWriter;

    fn query(url: &str, sql: &str, fetch_rows: usize) -> DbResult<Self::Rows> {
        rows::CursorRows::open(url, sql, fetch_rows)
    }

    fn check_table(url: &str, table: &str, mode: &WriteMode) -> DbResult<()> {
        let client = connect::connect(url)?;
        block_on(client.batch_execute(&format!("SELECT * FROM {table} WHERE false")))
            .map_err(|e| connect::describe(&e))?;
        if let WriteMode::Upsert { key } = mode
            && key.is_empty()
        {
            return Err("an upsert needs at least one key column".into());
        }
        Ok(())
    }

    fn writer(
        url: &str,
        table: &str,
        columns: &[Cow<'static, str>],
        mode: &WriteMode,
    ) -> DbResult<Self::Writer> {
        writer::CopyWriter::begin(url, table, columns, mode)
    }
}

/// Runs SQL statements (separated by `;`) through `url`, e.g. the
/// `CREATE TABLE` of a job's output before the job writes into it.
pub fn execute_batch(url: &str, sql: &str) -> barks_runtime::Result<()> {
    let fail = |message: String| barks_runtime::Error::Io {
        path: format!("postgres {}", crate::redact::redact_url(url)).into(),
        message,
    };
    let client = connect::connect(url).map_err(fail)?;
    block_on(client.batch_execute(sql)).map_err(|e| fail(connect::describe(&e)))
}

/// The rows of a PostgreSQL table or query as records of type `T` (matched
/// to columns by name through serde), one partition per range of
/// `read.partitioning` (see [`SqlRead::partition_on`]).
pub fn read_postgres<T: DeserializeOwned + Send + 'static>(read: SqlRead) -> Dataset<T> {
    from_source(SqlSource::<Postgres, T>::new(read))
}

/// `dataset.save_to_postgres(write)`.
pub trait SaveToPostgres {
    /// Writes every record into `write.table` with `COPY`, one transaction per
    /// partition (see [`WriteMode`] for what a retried task does).
    fn save_to_postgres(&self, write: SqlWrite) -> Output<()>;
}

impl<T: Data + Serialize> SaveToPostgres for Dataset<T> {
    fn save_to_postgres(&self, write: SqlWrite) -> Output<()> {
        self.write(SqlSink::<Postgres>::new(write))
    }
}
