//! Connecting to SQL Server (TDS) with tiberius over tokio.

use crate::async_rt::block_on;
use std::time::Duration;
use tiberius::{Client, Config};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

pub(crate) type MssqlClient = Client<Compat<TcpStream>>;

/// How long opening a connection (TCP and login) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a connection described by the ADO.NET string `url`
/// (`server=tcp:host,1433;user=..;password=..;database=..;encrypt=..`).
/// TLS, when the string asks for it, runs on rustls with the ring provider.
pub(crate) fn connect(url: &str) -> Result<MssqlClient, String> {
    let config =
        Config::from_ado_string(url).map_err(|e| format!("invalid connection string: {e}"))?;
    // tiberius pulls aws-lc beside ring: name the provider explicitly
    // (installing it is idempotent; an already installed one stays).
    // rustls 0.23.48 deprecates the ring provider (no post-quantum key
    // exchange) without a ring replacement; barks keeps ring.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    block_on(async {
        let open = async {
            let tcp = TcpStream::connect(config.get_addr())
                .await
                .map_err(|e| format!("cannot connect to {}: {e}", config.get_addr()))?;
            tcp.set_nodelay(true)
                .map_err(|e| format!("cannot connect to {}: {e}", config.get_addr()))?;
            Client::connect(config.clone(), tcp.compat_write())
                .await
                .map_err(|e| format!("cannot log in at {}: {e}", config.get_addr()))
        };
        tokio::time::timeout(CONNECT_TIMEOUT, open)
            .await
            .map_err(|_| {
                format!(
                    "cannot connect to {}: no answer within {} s",
                    config.get_addr(),
                    CONNECT_TIMEOUT.as_secs()
                )
            })?
    })
}

/// Runs `sql` as a batch (no parameters) and drops its results.
pub(crate) async fn run_batch(client: &mut MssqlClient, sql: &str) -> Result<(), String> {
    client
        .simple_query(sql)
        .await
        .map_err(|e| e.to_string())?
        .into_results()
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// `name` as a quoted SQL Server identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}
