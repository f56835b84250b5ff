//! A partitioned read of a table or query: one `SELECT` per partition (see
//! [`SqlRead::partitions`]), its rows streamed in bounded batches and turned
//! into records through serde.

use super::database::{Database, Rows};
use super::de::from_row;
use super::options::SqlRead;
use barks_runtime::{BoxIter, Error, ErrorSink, Result, Source};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::Arc;

/// The rows of a [`SqlRead`] from database `D`, as records of type `T`.
pub(crate) struct SqlSource<D, T> {
    read: Arc<SqlRead>,
    /// Each partition's `SELECT`, or the error in the options (reported when
    /// the job runs).
    statements: Result<Vec<String>>,
    _types: PhantomData<fn() -> (D, T)>,
}

impl<D: Database, T> SqlSource<D, T> {
    /// Plans the partitions; no connection is made until a task reads.
    pub(crate) fn new(read: SqlRead) -> Self {
        let statements = read
            .partitions()
            .map_err(|e| Error::Plan(format!("{} {}: {e}", D::NAME, read.describe())));
        SqlSource {
            read: Arc::new(read),
            statements,
            _types: PhantomData,
        }
    }
}

impl<D: Database, T: DeserializeOwned + Send + 'static> Source for SqlSource<D, T> {
    type Item = T;

    fn num_partitions(&self) -> usize {
        self.statements.as_ref().map_or(1, Vec::len)
    }

    fn read(&self, partition: usize, errors: ErrorSink) -> Result<BoxIter<T>> {
        let statements = self.statements.as_ref().map_err(Clone::clone)?;
        let sql = &statements[partition];
        let location = format!(
            "{} {}, partition {partition}",
            D::NAME,
            self.read.describe()
        );
        let rows = D::query(&self.read.url, sql, self.read.fetch_rows).map_err(|e| Error::Io {
            path: location.clone().into(),
            message: e,
        })?;
        Ok(BoxIter::new(Records {
            rows,
            location,
            errors,
            row: 0,
            done: false,
            _t: PhantomData,
        }))
    }
}

/// Rows decoded into records; the first error ends the partition.
struct Records<R, T> {
    rows: R,
    location: String,
    errors: ErrorSink,
    row: u64,
    done: bool,
    _t: PhantomData<fn() -> T>,
}

impl<R: Rows, T: DeserializeOwned> Iterator for Records<R, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.done {
            return None;
        }
        let values = match self.rows.next_row() {
            Ok(Some(values)) => values,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(message) => {
                self.done = true;
                self.errors.fail(Error::Io {
                    path: self.location.clone().into(),
                    message,
                });
                return None;
            }
        };
        self.row += 1;
        match from_row(self.rows.columns(), values) {
            Ok(record) => Some(record),
            Err(e) => {
                self.done = true;
                self.errors.fail(Error::Input {
                    location: format!("{}, row {}", self.location, self.row),
                    message: format!("{e} (reading into {})", std::any::type_name::<T>()),
                });
                None
            }
        }
    }
}
