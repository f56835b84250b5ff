//! MongoDB clients: one per connection string and process (a client is a
//! connection pool with its own monitoring; tasks share it).

use crate::async_rt::block_on;
use mongodb::Client;
use mongodb::options::ClientOptions;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long an operation waits for a reachable server when the URI sets no
/// `serverSelectionTimeoutMS` / `connectTimeoutMS` (the driver's default is 30 s).
const TIMEOUT: Duration = Duration::from_secs(10);

/// The process's client for `url`.
pub(crate) fn client(url: &str) -> Result<Client, String> {
    static CLIENTS: OnceLock<Mutex<HashMap<String, Client>>> = OnceLock::new();
    let clients = CLIENTS.get_or_init(Default::default);
    if let Some(client) = clients.lock().unwrap_or_else(|e| e.into_inner()).get(url) {
        return Ok(client.clone());
    }
    let client = block_on(async {
        let mut options = ClientOptions::parse(url)
            .await
            .map_err(|e| format!("invalid connection string: {e}"))?;
        options.server_selection_timeout.get_or_insert(TIMEOUT);
        options.connect_timeout.get_or_insert(TIMEOUT);
        Client::with_options(options).map_err(|e| e.to_string())
    })?;
    clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(url.to_string(), client.clone());
    Ok(client)
}
