//! A query's rows, streamed by a task on the shared runtime into a bounded
//! channel: the task owns the connection (tiberius' result stream borrows
//! it), the partition's iterator takes rows out, and a full channel stops
//! the task reading from the server. At most `fetch_rows` rows wait.

use super::connect::{MssqlClient, connect};
use super::decode::{sql_value, type_name};
use crate::async_rt::runtime;
use crate::sql::{Column, DbResult, Rows, SqlValue};
use futures_util::TryStreamExt;
use std::sync::Arc;
use tiberius::QueryItem;
use tokio::sync::mpsc;

enum Message {
    Columns(Arc<[Column]>),
    Row(Vec<SqlValue>),
    Failed(String),
}

pub(crate) struct ChannelRows {
    receiver: mpsc::Receiver<Message>,
    columns: Arc<[Column]>,
}

impl ChannelRows {
    pub(crate) fn open(url: &str, sql: &str, fetch_rows: usize) -> DbResult<Self> {
        let client = connect(url)?;
        let (sender, receiver) = mpsc::channel(fetch_rows.max(1));
        runtime().spawn(stream_rows(client, sql.to_string(), sender));
        Ok(ChannelRows {
            receiver,
            columns: Arc::from(Vec::new()),
        })
    }
}

/// Sends the first result set's columns, then its rows; stops early when
/// the reader is gone.
async fn stream_rows(mut client: MssqlClient, sql: String, sender: mpsc::Sender<Message>) {
    let result: DbResult<()> = async {
        let mut stream = client.simple_query(sql).await.map_err(|e| e.to_string())?;
        let mut columns: Arc<[Column]> = Arc::from(Vec::new());
        while let Some(item) = stream.try_next().await.map_err(|e| e.to_string())? {
            let message = match item {
                QueryItem::Metadata(meta) if meta.result_index() > 0 => break,
                QueryItem::Metadata(meta) => {
                    columns = meta
                        .columns()
                        .iter()
                        .map(|c| Column {
                            name: c.name().to_string(),
                            sql_type: type_name(c.column_type()).to_string(),
                        })
                        .collect();
                    Message::Columns(columns.clone())
                }
                QueryItem::Row(row) => Message::Row(
                    row.into_iter()
                        .enumerate()
                        .map(|(i, data)| {
                            sql_value(data).map_err(|e| match columns.get(i) {
                                Some(c) => {
                                    format!("column `{}` (SQL type {}): {e}", c.name, c.sql_type)
                                }
                                None => e,
                            })
                        })
                        .collect::<DbResult<Vec<_>>>()?,
                ),
            };
            if sender.send(message).await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = sender.send(Message::Failed(e)).await;
    }
}

impl Rows for ChannelRows {
    fn columns(&self) -> &Arc<[Column]> {
        &self.columns
    }

    fn next_row(&mut self) -> DbResult<Option<Vec<SqlValue>>> {
        loop {
            match self.receiver.blocking_recv() {
                Some(Message::Columns(columns)) => self.columns = columns,
                Some(Message::Row(row)) => return Ok(Some(row)),
                Some(Message::Failed(e)) => return Err(e),
                None => return Ok(None),
            }
        }
    }
}
