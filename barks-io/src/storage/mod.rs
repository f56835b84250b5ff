//! Where files live: the local filesystem or an object store (`s3://`).
//! Every file source and sink in barks-io goes through [`Storage`], so text,
//! CSV, JSON lines and Parquet read and write S3 exactly as they do local
//! files.
//!
//! Contract shared by all implementations:
//! - paths are strings as the user wrote them (`/data/x.csv`, `s3://bucket/key`);
//! - `list` resolves a file, a directory (prefix) or a glob to the visible
//!   files under it (names starting with `.` or `_` are hidden, as in Spark),
//!   sorted by path; naming nothing that exists is an error naming the path;
//! - every error names the path (and the bucket/endpoint for S3).

mod local;

pub use local::LocalStorage;

use barks_runtime::Result;
use std::io::{Read, Write};
use std::ops::Range;

/// One file found by [`Storage::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// The full path, in the same form the user wrote (`s3://b/k` stays a URL).
    pub path: String,
    /// The size in bytes.
    pub size: u64,
}

/// A file being written. The bytes become visible at the path only after
/// [`ObjectWrite::finish`] succeeds; dropping it unfinished leaves nothing
/// (local: a removed temporary file; S3: an aborted multipart upload).
pub trait ObjectWrite: Write + Send {
    /// Flushes and publishes the file.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// A filesystem or object store.
pub trait Storage: Send + Sync + 'static {
    /// The visible files `path` names (a file, a directory/prefix or a glob),
    /// sorted by path, with their sizes.
    fn list(&self, path: &str) -> Result<Vec<FileMeta>>;
    /// The bytes `range` of the file (`range.end` is clamped to its size).
    fn read_range(&self, path: &str, range: Range<u64>) -> Result<Vec<u8>>;
    /// A streaming reader over the bytes from `start` to the end of the file.
    fn open_from(&self, path: &str, start: u64) -> Result<Box<dyn Read + Send>>;
    /// Creates (or replaces) the file at `path`.
    fn create(&self, path: &str) -> Result<Box<dyn ObjectWrite>>;
    /// Moves a file; on object stores a copy then a delete.
    fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// Removes every file under the directory/prefix `path` (no error if none).
    fn remove_all(&self, path: &str) -> Result<()>;
    /// Whether anything exists under the directory/prefix `path`.
    fn has_entries(&self, path: &str) -> Result<bool>;

    /// Starts writing a *pending* file at `path`: [`ObjectWrite::finish`]
    /// stores its bytes, but the file appears only when
    /// [`Storage::publish_pending`] is called with the returned ticket —
    /// from this process or another one. `None` where the storage has no
    /// such mechanism (the local filesystem): write elsewhere and
    /// [`Storage::rename`] instead. On S3 a pending file is a multipart
    /// upload that is not completed yet.
    fn create_pending(&self, path: &str) -> Result<Option<(Box<dyn ObjectWrite>, String)>> {
        let _ = path;
        Ok(None)
    }

    /// Makes the pending file at `path` with `ticket` appear.
    fn publish_pending(&self, path: &str, ticket: &str) -> Result<()> {
        let _ = ticket;
        Err(barks_runtime::Error::io(
            path,
            "this storage has no pending files",
        ))
    }

    /// Drops every pending file under the directory/prefix `dir`.
    fn discard_pending(&self, dir: &str) -> Result<()> {
        let _ = dir;
        Ok(())
    }
}

/// Joins a directory path and a file name, for local paths and URLs alike.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}
