//! A partitioned write into a table: each partition is one transaction,
//! sent in batches and committed only when every record of the partition
//! was written (see [`WriteMode`] for what a retried task does).

use super::database::{Database, TableWriter};
use super::options::SqlWrite;
use super::ser::{Row, to_row};
use super::value::SqlValue;
use barks_runtime::{BoxIter, Error, ErrorSink, Result, Sink};
use serde::Serialize;
use std::marker::PhantomData;

/// Writes records of type `T` into a table of database `D`.
pub(crate) struct SqlSink<D> {
    write: SqlWrite,
    _db: PhantomData<fn() -> D>,
}

impl<D: Database> SqlSink<D> {
    pub(crate) fn new(write: SqlWrite) -> Self {
        SqlSink {
            write,
            _db: PhantomData,
        }
    }

    fn error(&self, partition: Option<usize>, message: String) -> Error {
        let partition = partition.map_or(String::new(), |p| format!(", partition {p}"));
        Error::Io {
            path: format!("{} {}{partition}", D::NAME, self.write.describe()).into(),
            message,
        }
    }
}

impl<D: Database, T: Serialize + Send + 'static> Sink<T> for SqlSink<D> {
    /// The number of rows the task committed.
    type TaskCommit = u64;

    fn prepare(&self) -> Result<()> {
        D::check_table(&self.write.url, &self.write.table, &self.write.mode)
            .map_err(|e| self.error(None, e))
    }

    fn write(
        &self,
        partition: usize,
        _attempt: u32,
        records: BoxIter<T>,
        errors: ErrorSink,
    ) -> Result<u64> {
        let mut records = records.enumerate().peekable();
        let Some((_, first)) = records.peek() else {
            return Ok(0);
        };
        let first =
            to_row(first).map_err(|e| self.error(Some(partition), format!("record 1: {e}")))?;
        let columns = first.columns;
        let mut writer = D::writer(
            &self.write.url,
            &self.write.table,
            &columns,
            &self.write.mode,
        )
        .map_err(|e| self.error(Some(partition), e))?;
        let batch_rows = self.write.batch_rows.max(1);
        let mut batch: Vec<Vec<SqlValue>> = Vec::with_capacity(batch_rows);
        let mut written = 0u64;
        for (i, record) in records {
            let Row {
                columns: names,
                values,
            } = to_row(&record)
                .map_err(|e| self.error(Some(partition), format!("record {}: {e}", i + 1)))?;
            if names != columns {
                return Err(self.error(
                    Some(partition),
                    format!(
                        "record {} has the fields ({}) but the first record had ({}): every record must have the same fields",
                        i + 1,
                        names.join(", "),
                        columns.join(", ")
                    ),
                ));
            }
            batch.push(values);
            if batch.len() == batch_rows {
                writer
                    .write(&batch)
                    .map_err(|e| self.error(Some(partition), e))?;
                written += batch.len() as u64;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            writer
                .write(&batch)
                .map_err(|e| self.error(Some(partition), e))?;
            written += batch.len() as u64;
        }
        // An upstream iterator that failed ends early: its partition is
        // incomplete, so it must not be committed (dropping rolls back).
        if errors.has_failed() {
            return Err(self.error(
                Some(partition),
                "the partition's input failed; its rows were rolled back".into(),
            ));
        }
        writer
            .commit()
            .map_err(|e| self.error(Some(partition), e))?;
        Ok(written)
    }

    /// Each partition committed its own transaction: nothing is left to do.
    fn commit(&self, _rows: Vec<u64>) -> Result<()> {
        Ok(())
    }

    /// Committed partitions stay (see [`WriteMode`]); the failed ones rolled back.
    fn abort(&self) {}
}
