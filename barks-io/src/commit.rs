//! The output commit protocol every file sink shares. A task's part file
//! is written so that it is invisible until the driver commits the job:
//!
//! - where the storage has *pending* files (S3: a multipart upload not yet
//!   completed), the task uploads its part straight to its final name
//!   `DIR/part-NNNNN` and reports the upload's ticket; at commit the driver
//!   completes the winning attempts' uploads — no copy, whatever the size —
//!   and aborts every other upload under `DIR` (attempts that failed or
//!   lost);
//! - elsewhere (local files: Hadoop's `FileOutputCommitter`, version 1) the
//!   task writes `DIR/_temporary/attempt-N/part-NNNNN` and the driver moves
//!   the winning attempts' files into `DIR`.
//!
//! Then the driver writes `DIR/_SUCCESS`. A failed job removes what it
//! wrote and leaves no output that looks complete: readers that honour the
//! marker never see a partial result.
//!
//! What happens to a directory that already holds files is the
//! [`SaveMode`]'s: refused (the default), replaced, or added to. A replaced
//! directory's old files are removed at commit, after every task
//! succeeded, so a failed overwrite loses nothing.

use crate::backend::storage_for;
use crate::storage::{ObjectWrite, Storage, join};
use barks_runtime::{Error, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a task reports after writing its part: enough for the driver to
/// find the file and move it into place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartFile {
    pub partition: usize,
    pub attempt: u32,
    /// The file name inside the output directory (`part-00003.csv`).
    pub name: String,
    /// The ticket of the pending file at the final name, where the storage
    /// has pending files ([`Storage::create_pending`]); `None` when the part
    /// waits under `_temporary`.
    pub pending: Option<String>,
}

/// What a write does with an output directory that already holds files
/// (Spark's `SaveMode`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SaveMode {
    /// Refuse it: the job fails before any task runs (Spark's default,
    /// `errorifexists`).
    #[default]
    ErrorIfExists,
    /// Replace its files with the new output, once the whole job succeeded.
    Overwrite,
    /// Add the new part files beside the old ones; their names carry `tag`,
    /// which must be unique to the write (the same on every process).
    Append { tag: String },
    /// Leave it as it is and write nothing (decided by the caller before
    /// running the job: see [`FileCommitter::has_output`]).
    Ignore,
}

impl SaveMode {
    /// The mode Spark names `name`: `error`/`errorifexists`, `overwrite`,
    /// `append` (with `tag` for its file names) or `ignore`.
    pub fn parse(name: &str, tag: impl Into<String>) -> Result<SaveMode> {
        match name.to_ascii_lowercase().as_str() {
            "error" | "errorifexists" | "default" => Ok(SaveMode::ErrorIfExists),
            "overwrite" => Ok(SaveMode::Overwrite),
            "append" => Ok(SaveMode::Append { tag: tag.into() }),
            "ignore" => Ok(SaveMode::Ignore),
            _ => Err(Error::Plan(format!(
                "unknown save mode `{name}`: use error, overwrite, append or ignore"
            ))),
        }
    }
}

/// Commits the part files of one output directory (local or `s3://`).
#[derive(Clone)]
pub struct FileCommitter {
    storage: Arc<dyn Storage>,
    dir: String,
    mode: SaveMode,
}

impl FileCommitter {
    /// The committer for output directory `dir`, which must be empty or absent.
    pub fn new(dir: &str) -> Result<Self> {
        Self::with_mode(dir, SaveMode::ErrorIfExists)
    }

    /// The committer for output directory `dir` with save mode `mode`.
    pub fn with_mode(dir: &str, mode: SaveMode) -> Result<Self> {
        Ok(FileCommitter {
            storage: storage_for(dir)?,
            dir: dir.trim_end_matches('/').to_string(),
            mode,
        })
    }

    /// Whether the output directory already holds something.
    pub fn has_output(&self) -> Result<bool> {
        self.storage.has_entries(&self.dir)
    }

    /// The output directory.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    fn temporary(&self) -> String {
        join(&self.dir, "_temporary")
    }

    fn attempt_path(&self, attempt: u32, name: &str) -> String {
        join(
            &join(&self.temporary(), &format!("attempt-{attempt}")),
            name,
        )
    }

    /// Runs on the driver before any task: in the default mode, refuses an
    /// output directory that already holds something.
    pub fn prepare(&self) -> Result<()> {
        if self.mode == SaveMode::ErrorIfExists && self.storage.has_entries(&self.dir)? {
            return Err(Error::io(
                &self.dir,
                "output directory already exists and is not empty; remove it or choose another",
            ));
        }
        Ok(())
    }

    /// Opens the part file of `partition` for this attempt, named
    /// `part-NNNNN{suffix}` (e.g. suffix `.csv`). Write the records, call
    /// [`ObjectWrite::finish`], and return the [`PartFile`] as the task's commit.
    pub fn create_part(
        &self,
        partition: usize,
        attempt: u32,
        suffix: &str,
    ) -> Result<(Box<dyn ObjectWrite>, PartFile)> {
        let name = match &self.mode {
            SaveMode::Append { tag } => format!("part-{partition:05}-{tag}{suffix}"),
            _ => format!("part-{partition:05}{suffix}"),
        };
        let part = |pending| PartFile {
            partition,
            attempt,
            name: name.clone(),
            pending,
        };
        if let Some((out, ticket)) = self.storage.create_pending(&join(&self.dir, &name))? {
            return Ok((out, part(Some(ticket))));
        }
        let out = self.storage.create(&self.attempt_path(attempt, &name))?;
        Ok((out, part(None)))
    }

    /// Moves every task's part into place and writes `_SUCCESS`.
    pub fn commit(&self, parts: Vec<PartFile>) -> Result<()> {
        if self.mode == SaveMode::Overwrite {
            for old in self.storage.list(&self.dir)? {
                self.storage.remove_all(&old.path)?;
            }
            self.storage.remove_all(&join(&self.dir, "_SUCCESS"))?;
        }
        for part in parts {
            let target = join(&self.dir, &part.name);
            match &part.pending {
                Some(ticket) => self.storage.publish_pending(&target, ticket)?,
                None => self
                    .storage
                    .rename(&self.attempt_path(part.attempt, &part.name), &target)?,
            }
        }
        // What is still pending belongs to attempts that lost.
        self.storage.discard_pending(&self.dir)?;
        self.storage.remove_all(&self.temporary())?;
        self.storage.create(&join(&self.dir, "_SUCCESS"))?.finish()
    }

    /// Removes whatever the job wrote, after a failure.
    pub fn abort(&self) {
        let _ = self.storage.discard_pending(&self.dir);
        let _ = self.storage.remove_all(&self.temporary());
        // `prepare` found the directory empty or absent: leave nothing.
        if let Ok(false) = self.storage.has_entries(&self.dir) {
            let _ = self.storage.remove_all(&self.dir);
        }
    }
}
