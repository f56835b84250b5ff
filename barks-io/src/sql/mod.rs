//! What the SQL connectors (PostgreSQL, SQL Server) share: the read and
//! write options, Spark-style range partitioning, rows ↔ records through
//! serde, and the partitioned [`Source`](barks_runtime::Source) and
//! [`Sink`](barks_runtime::Sink) that drive a [`Database`].

mod database;
mod de;
mod options;
mod partitioning;
mod ser;
mod sink;
mod source;
mod value;

pub use options::{Relation, SqlRead, SqlWrite, WriteMode};
pub use partitioning::ColumnPartitioning;
pub(crate) use sink::SqlSink;
pub(crate) use source::SqlSource;

pub(crate) use database::{Database, DbResult, Rows, TableWriter};
pub(crate) use value::{Column, SqlValue};
