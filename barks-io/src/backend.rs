//! Which [`Storage`] serves a path: S3 for `s3://` URLs, the local
//! filesystem otherwise. This is the one place that knows every backend, so
//! `storage/` (the trait) and the backends (`s3/`) never import each other.

use crate::storage::{LocalStorage, Storage};
use barks_runtime::Result;
use std::sync::Arc;

/// The storage that serves `path`: S3 for `s3://` URLs (with the `s3`
/// feature), the local filesystem otherwise.
pub fn storage_for(path: &str) -> Result<Arc<dyn Storage>> {
    if path.starts_with("s3://") || path.starts_with("s3a://") {
        return s3_storage(path);
    }
    Ok(Arc::new(LocalStorage))
}

#[cfg(not(feature = "s3"))]
fn s3_storage(path: &str) -> Result<Arc<dyn Storage>> {
    Err(barks_runtime::Error::io(
        path,
        "S3 support is not compiled in; enable barks-io's `s3` feature",
    ))
}

#[cfg(feature = "s3")]
fn s3_storage(path: &str) -> Result<Arc<dyn Storage>> {
    crate::s3::storage_for_url(path)
}
