//! S3 and S3-compatible stores (Ceph RGW, MinIO, ...) behind `s3://` and
//! `s3a://` paths, through aws-sdk-s3.
//!
//! Every `s3://` path in barks goes through one shared client per
//! configuration, built from the environment (see [`S3Config::from_env`]):
//! ```text
//! AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...      # or a profile, SSO, IMDS...
//! BARKS_S3_ENDPOINT=http://127.0.0.1:7480              # or AWS_ENDPOINT_URL; absent: AWS
//! AWS_REGION=eu-west-1                                  # default us-east-1
//! ```
//! With a custom endpoint buckets are addressed in the path
//! (`http://host/bucket/key`), as most S3-compatible stores need;
//! `BARKS_S3_FORCE_PATH_STYLE=0|1` overrides.

mod client;
mod config;
mod error;
mod list;
mod pending;
mod read;
mod storage;
mod url;
mod write;

pub use config::{DEFAULT_PART_SIZE, MIN_PART_SIZE, S3Config};
pub use storage::S3Storage;

use crate::storage::Storage;
use barks_runtime::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The storage for an `s3://` URL: the process's client for the
/// environment's configuration, created on first use and reused.
pub(crate) fn storage_for_url(url: &str) -> Result<Arc<dyn Storage>> {
    url::S3Url::parse(url)?;
    let config = S3Config::from_env()?;
    Ok(shared(&config)?)
}

/// The shared [`S3Storage`] for `config`: one client per configuration and
/// process.
pub fn shared(config: &S3Config) -> Result<Arc<S3Storage>> {
    static CLIENTS: OnceLock<Mutex<HashMap<S3Config, Arc<S3Storage>>>> = OnceLock::new();
    let clients = CLIENTS.get_or_init(Default::default);
    let mut clients = clients
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(storage) = clients.get(config) {
        return Ok(storage.clone());
    }
    let storage = Arc::new(S3Storage::new(config)?);
    clients.insert(config.clone(), storage.clone());
    Ok(storage)
}
