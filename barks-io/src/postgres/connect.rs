//! Connecting to PostgreSQL, and its errors in words.

use crate::async_rt::{block_on, runtime};
use std::error::Error as _;
use std::time::Duration;
use tokio_postgres::{Client, Config, NoTls};

/// How long a connection attempt may take when the URL sets no
/// `connect_timeout`: an unreachable server fails the task quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a connection to `url` (a `postgres://` URL or a libpq key-value
/// string). TLS is not negotiated (`sslmode=require` is refused by the
/// client library): the connector is meant for a trusted network, and a TLS
/// connector can be added here without changing anything else.
pub(crate) fn connect(url: &str) -> Result<Client, String> {
    let mut config: Config = url
        .parse()
        .map_err(|e| format!("invalid connection string: {}", describe(&e)))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let (client, connection) =
        block_on(config.connect(NoTls)).map_err(|e| format!("cannot connect: {}", describe(&e)))?;
    // The connection task ends when the client is dropped; its errors reach
    // the client's next call.
    runtime().spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// A client library error with the server's message, detail and context
/// (e.g. COPY's line and column), or the underlying cause (e.g. `Connection
/// refused`).
pub(crate) fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
        for (label, part) in [
            ("detail", db.detail()),
            ("hint", db.hint()),
            ("context", db.where_()),
        ] {
            if let Some(part) = part {
                text.push_str(&format!("; {label}: {part}"));
            }
        }
        return text;
    }
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

/// `name` as a quoted SQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
