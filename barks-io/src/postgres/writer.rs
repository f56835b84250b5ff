//! Writing one partition: `COPY ... FROM STDIN` (text format) inside a
//! transaction. Upserts copy into a temporary table first and then run
//! `INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE`.

use super::connect::{connect, describe, quote_ident};
use super::copy_text::encode_row;
use crate::async_rt::block_on;
use crate::sql::{DbResult, SqlValue, TableWriter, WriteMode};
use bytes::Bytes;
use futures_util::SinkExt;
use std::borrow::Cow;
use std::pin::Pin;
use tokio_postgres::{Client, CopyInSink};

/// The temporary table an upsert copies into (dropped at commit).
const STAGE: &str = "barks_upsert_stage";

pub(crate) struct CopyWriter {
    client: Client,
    copy: Pin<Box<CopyInSink<Bytes>>>,
    /// The statement that moves the staged rows into the table (upserts).
    finish_sql: Option<String>,
    buffer: String,
}

impl CopyWriter {
    pub(crate) fn begin(
        url: &str,
        table: &str,
        columns: &[Cow<'static, str>],
        mode: &WriteMode,
    ) -> DbResult<Self> {
        let client = connect(url)?;
        let list = columns
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let (setup, target, finish_sql) = match mode {
            WriteMode::Append => ("BEGIN".to_string(), table.to_string(), None),
            WriteMode::Upsert { key } => (
                format!(
                    "BEGIN; CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS SELECT {list} FROM {table} WITH NO DATA"
                ),
                STAGE.to_string(),
                Some(upsert_sql(table, columns, key, &list)),
            ),
        };
        block_on(client.batch_execute(&setup)).map_err(|e| describe(&e))?;
        let copy = block_on(client.copy_in(&format!("COPY {target} ({list}) FROM STDIN")))
            .map_err(|e| describe(&e))?;
        Ok(CopyWriter {
            client,
            copy: Box::pin(copy),
            finish_sql,
            buffer: String::new(),
        })
    }
}

fn upsert_sql(table: &str, columns: &[Cow<'static, str>], key: &[String], list: &str) -> String {
    let key_list = key
        .iter()
        .map(|k| quote_ident(k))
        .collect::<Vec<_>>()
        .join(", ");
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !key.iter().any(|k| k == c.as_ref()))
        .map(|c| format!("{0} = EXCLUDED.{0}", quote_ident(c)))
        .collect();
    let action = if updates.is_empty() {
        "NOTHING".to_string()
    } else {
        format!("UPDATE SET {}", updates.join(", "))
    };
    format!(
        "INSERT INTO {table} ({list}) SELECT {list} FROM {STAGE} ON CONFLICT ({key_list}) DO {action}"
    )
}

impl TableWriter for CopyWriter {
    fn write(&mut self, rows: &[Vec<SqlValue>]) -> DbResult<()> {
        self.buffer.clear();
        for row in rows {
            encode_row(row, &mut self.buffer);
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        block_on(self.copy.send(chunk)).map_err(|e| describe(&e))
    }

    fn commit(mut self) -> DbResult<()> {
        block_on(self.copy.as_mut().finish()).map_err(|e| describe(&e))?;
        if let Some(sql) = &self.finish_sql {
            block_on(self.client.batch_execute(sql)).map_err(|e| describe(&e))?;
        }
        block_on(self.client.batch_execute("COMMIT")).map_err(|e| describe(&e))
    }
}
