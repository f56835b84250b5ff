//! How to read from and write to a SQL database. The options are plain data
//! (`Serialize`), so a job takes them as arguments and every worker rebuilds
//! the same partitions from them.

use super::partitioning::ColumnPartitioning;
use crate::redact::redact_url;
use barks_runtime::Result;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What to read: a whole table, or the rows of a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Relation {
    /// A table (or view) name as SQL spells it, e.g. `sales.orders`.
    Table(String),
    /// A `SELECT` statement; it is read as a subquery, so it must not end
    /// with `;` (and, in SQL Server, must not `ORDER BY` without `TOP`).
    Query(String),
}

/// A partitioned read of a table or a query (Spark's JDBC source options).
///
/// ```
/// use barks_io::sql::SqlRead;
/// let read = SqlRead::table("postgres://app:secret@db:5432/shop", "orders")
///     .partition_on("id", 0, 1_000_000, 8);
/// assert_eq!(read.partitions().unwrap().len(), 8);
/// // The password never shows.
/// assert!(!format!("{read:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlRead {
    /// The connection string: a `postgres://` URL (or libpq key-value
    /// string) for PostgreSQL, an ADO.NET string for SQL Server.
    pub url: String,
    pub relation: Relation,
    /// How to split the rows; `None` reads everything in one partition.
    pub partitioning: Option<ColumnPartitioning>,
    /// How many rows one round trip fetches (the memory a partition's reader
    /// holds at most). Default 10 000.
    pub fetch_rows: usize,
}

impl SqlRead {
    /// Reads the table `table` (as SQL spells it) through `url`.
    pub fn table(url: impl Into<String>, table: impl Into<String>) -> Self {
        Self::new(url.into(), Relation::Table(table.into()))
    }

    /// Reads the rows of the query `sql` through `url`.
    pub fn query(url: impl Into<String>, sql: impl Into<String>) -> Self {
        Self::new(url.into(), Relation::Query(sql.into()))
    }

    fn new(url: String, relation: Relation) -> Self {
        SqlRead {
            url,
            relation,
            partitioning: None,
            fetch_rows: 10_000,
        }
    }

    /// Splits the rows into `num_partitions` ranges of the numeric `column`
    /// between `lower_bound` and `upper_bound`, as Spark does: the bounds only
    /// set the stride, rows outside them (and NULLs) are still read, by the
    /// first or last partition.
    pub fn partition_on(
        mut self,
        column: impl Into<String>,
        lower_bound: i64,
        upper_bound: i64,
        num_partitions: usize,
    ) -> Self {
        self.partitioning = Some(ColumnPartitioning {
            column: column.into(),
            lower_bound,
            upper_bound,
            num_partitions,
        });
        self
    }

    /// Fetches `rows` rows per round trip.
    pub fn fetch_rows(mut self, rows: usize) -> Self {
        self.fetch_rows = rows.max(1);
        self
    }

    /// The `SELECT` of each partition, in order.
    pub fn partitions(&self) -> Result<Vec<String>> {
        let conditions = match &self.partitioning {
            Some(p) => p.conditions()?,
            None => vec![None],
        };
        let from = match &self.relation {
            Relation::Table(table) => table.clone(),
            Relation::Query(sql) => format!("({sql}) AS barks_query"),
        };
        Ok(conditions
            .into_iter()
            .map(|condition| match condition {
                Some(c) => format!("SELECT * FROM {from} WHERE {c}"),
                None => format!("SELECT * FROM {from}"),
            })
            .collect())
    }

    /// What is read, for messages: `table `t`` or `query `...``.
    pub(crate) fn describe(&self) -> String {
        let what = match &self.relation {
            Relation::Table(t) => format!("table `{t}`"),
            Relation::Query(q) => format!("query `{q}`"),
        };
        format!("{} {what}", redact_url(&self.url))
    }
}

impl fmt::Debug for SqlRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlRead")
            .field("url", &redact_url(&self.url))
            .field("relation", &self.relation)
            .field("partitioning", &self.partitioning)
            .field("fetch_rows", &self.fetch_rows)
            .finish()
    }
}

/// What a retried or re-run write does; see the README's "write guarantees".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteMode {
    /// Insert every record. Each partition is one transaction: a task that
    /// fails rolls back, so a retry does not duplicate its rows; but a task
    /// that committed and is then run again (its worker was lost after the
    /// commit) inserts its rows a second time.
    Append,
    /// Insert, or update the row with the same `key` columns (PostgreSQL
    /// only: `INSERT ... ON CONFLICT (key) DO UPDATE`; the key needs a unique
    /// index). Re-running a task writes the same values again: idempotent.
    Upsert { key: Vec<String> },
}

/// A partitioned write into an existing table: one transaction per
/// partition, `batch_rows` rows per round trip.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlWrite {
    pub url: String,
    /// The table as SQL spells it; it must exist, with a column for every
    /// field of the records.
    pub table: String,
    /// Rows per round trip (a `COPY` chunk or a multi-row `INSERT`).
    /// Default 1000.
    pub batch_rows: usize,
    pub mode: WriteMode,
}

impl SqlWrite {
    /// Appends to `table` through `url`.
    pub fn table(url: impl Into<String>, table: impl Into<String>) -> Self {
        SqlWrite {
            url: url.into(),
            table: table.into(),
            batch_rows: 1000,
            mode: WriteMode::Append,
        }
    }

    /// Upserts on the `key` columns instead of appending (PostgreSQL only).
    pub fn upsert_on<K: Into<String>>(mut self, key: impl IntoIterator<Item = K>) -> Self {
        self.mode = WriteMode::Upsert {
            key: key.into_iter().map(Into::into).collect(),
        };
        self
    }

    /// Sends `rows` rows per round trip.
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    pub(crate) fn describe(&self) -> String {
        format!("{} table `{}`", redact_url(&self.url), self.table)
    }
}

impl fmt::Debug for SqlWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlWrite")
            .field("url", &redact_url(&self.url))
            .field("table", &self.table)
            .field("batch_rows", &self.batch_rows)
            .field("mode", &self.mode)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_read_as_a_subquery_per_partition() {
        let read = SqlRead::query("postgres://h/db", "SELECT id, v FROM t WHERE v > 0")
            .partition_on("id", 0, 10, 2);
        assert_eq!(
            read.partitions().unwrap(),
            [
                "SELECT * FROM (SELECT id, v FROM t WHERE v > 0) AS barks_query WHERE id < 5 OR id IS NULL",
                "SELECT * FROM (SELECT id, v FROM t WHERE v > 0) AS barks_query WHERE id >= 5",
            ]
        );
        assert_eq!(
            SqlRead::table("u", "s.t").partitions().unwrap(),
            ["SELECT * FROM s.t"]
        );
    }

    #[test]
    fn options_travel_as_job_arguments() {
        let read = SqlRead::table("u", "t")
            .partition_on("id", -5, 5, 3)
            .fetch_rows(7);
        let bytes = postcard::to_allocvec(&read).unwrap();
        assert_eq!(postcard::from_bytes::<SqlRead>(&bytes).unwrap(), read);
        let write = SqlWrite::table("u", "t").upsert_on(["id"]).batch_rows(3);
        let bytes = postcard::to_allocvec(&write).unwrap();
        assert_eq!(postcard::from_bytes::<SqlWrite>(&bytes).unwrap(), write);
    }
}
