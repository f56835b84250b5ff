//! What a SQL connector provides to the shared source and sink: run a query
//! as a stream of rows, and write rows into a table inside a transaction.

use super::options::WriteMode;
use super::value::{Column, SqlValue};
use std::borrow::Cow;
use std::sync::Arc;

/// A failure reported by a database or its client library, in words (the
/// shared source and sink add which database, table and partition).
pub(crate) type DbResult<T> = std::result::Result<T, String>;

/// A SQL database the shared [`SqlSource`](super::SqlSource) and
/// [`SqlSink`](super::SqlSink) can drive.
pub(crate) trait Database: Send + Sync + 'static {
    /// The name in messages, e.g. `postgres`.
    const NAME: &'static str;
    /// The rows of a running query, fetched a bounded batch at a time.
    type Rows: Rows;
    /// An open transaction that inserts into one table.
    type Writer: TableWriter;

    /// Runs `sql` (a read), fetching `fetch_rows` rows per round trip.
    fn query(url: &str, sql: &str, fetch_rows: usize) -> DbResult<Self::Rows>;

    /// Checks, before any task runs, that `table` exists and `mode` is possible.
    fn check_table(url: &str, table: &str, mode: &WriteMode) -> DbResult<()>;

    /// Begins a transaction inserting rows with these `columns` into `table`.
    fn writer(
        url: &str,
        table: &str,
        columns: &[Cow<'static, str>],
        mode: &WriteMode,
    ) -> DbResult<Self::Writer>;
}

/// A query's rows.
pub(crate) trait Rows: Send + 'static {
    /// The result's columns.
    fn columns(&self) -> &Arc<[Column]>;
    /// The next row, `Ok(None)` at the end.
    fn next_row(&mut self) -> DbResult<Option<Vec<SqlValue>>>;
}

/// An open write transaction. Dropping it without [`commit`](Self::commit)
/// rolls it back.
pub(crate) trait TableWriter {
    /// Sends a batch of rows (each in the writer's column order).
    fn write(&mut self, rows: &[Vec<SqlValue>]) -> DbResult<()>;
    /// Commits everything written.
    fn commit(self) -> DbResult<()>;
}
