//! A query's rows through a server-side cursor: `FETCH FORWARD n` at a
//! time, so a partition's reader holds at most `n` rows, whatever the
//! partition's size. The cursor lives in a read-only repeatable-read
//! transaction: one consistent snapshot per partition.

use super::connect::{connect, describe};
use crate::async_rt::block_on;
use crate::sql::{Column, DbResult, Rows, SqlValue};
use std::sync::Arc;
use tokio_postgres::{Client, Row};

pub(crate) struct CursorRows {
    client: Client,
    fetch: String,
    fetch_rows: usize,
    batch: std::vec::IntoIter<Row>,
    columns: Arc<[Column]>,
    /// The last fetch returned fewer rows than asked for.
    exhausted: bool,
}

impl CursorRows {
    pub(crate) fn open(url: &str, sql: &str, fetch_rows: usize) -> DbResult<Self> {
        let client = connect(url)?;
        block_on(client.batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
             DECLARE barks_cursor NO SCROLL CURSOR FOR {sql}"
        )))
        .map_err(|e| describe(&e))?;
        Ok(CursorRows {
            client,
            fetch: format!("FETCH FORWARD {fetch_rows} FROM barks_cursor"),
            fetch_rows,
            batch: Vec::new().into_iter(),
            columns: Arc::from(Vec::new()),
            exhausted: false,
        })
    }

    fn fetch_batch(&mut self) -> DbResult<()> {
        let rows = block_on(self.client.query(&self.fetch, &[])).map_err(|e| describe(&e))?;
        self.exhausted = rows.len() < self.fetch_rows;
        if self.columns.is_empty()
            && let Some(row) = rows.first()
        {
            self.columns = row
                .columns()
                .iter()
                .map(|c| Column {
                    name: c.name().to_string(),
                    sql_type: c.type_().to_string(),
                })
                .collect();
        }
        self.batch = rows.into_iter();
        Ok(())
    }
}

impl Rows for CursorRows {
    fn columns(&self) -> &Arc<[Column]> {
        &self.columns
    }

    fn next_row(&mut self) -> DbResult<Option<Vec<SqlValue>>> {
        if self.batch.len() == 0 {
            if self.exhausted {
                return Ok(None);
            }
            self.fetch_batch()?;
        }
        let Some(row) = self.batch.next() else {
            return Ok(None);
        };
        (0..row.len())
            .map(|i| {
                row.try_get::<_, SqlValue>(i).map_err(|e| {
                    let column = &self.columns[i];
                    let cause =
                        std::error::Error::source(&e).map_or(e.to_string(), ToString::to_string);
                    format!(
                        "column `{}` (SQL type {}): {cause}",
                        column.name, column.sql_type
                    )
                })
            })
            .collect::<DbResult<Vec<_>>>()
            .map(Some)
    }
}
