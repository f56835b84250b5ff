//! The output commit protocol every file sink shares (Hadoop's
//! `FileOutputCommitter`, version 1): a task writes its part file under
//! `DIR/_temporary/attempt-N/`, the driver moves every winning attempt's file
//! into `DIR` once all partitions succeeded and then writes `DIR/_SUCCESS`.
//! A failed job removes `_temporary` and leaves no output that looks
//! complete: readers that honour the marker never see a partial result.

use crate::storage::{ObjectWrite, Storage, join, storage_for};
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
}

/// Commits the part files of one output directory (local or `s3://`).
#[derive(Clone)]
pub struct FileCommitter {
    storage: Arc<dyn Storage>,
    dir: String,
}

impl FileCommitter {
    /// The committer for output directory `dir`.
    pub fn new(dir: &str) -> Result<Self> {
        Ok(FileCommitter {
            storage: storage_for(dir)?,
            dir: dir.trim_end_matches('/').to_string(),
        })
    }

    /// The output directory.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    fn temporary(&self) -> String {
        join(&self.dir, "_temporary")
    }

    fn attempt_path(&self, attempt: u32, name: &str) -> String {
        join(&join(&self.temporary(), &format!("attempt-{attempt}")), name)
    }

    /// Runs on the driver before any task: refuses an output directory that
    /// already holds something.
    pub fn prepare(&self) -> Result<()> {
        if self.storage.has_entries(&self.dir)? {
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
        let name = format!("part-{partition:05}{suffix}");
        let out = self.storage.create(&self.attempt_path(attempt, &name))?;
        Ok((
            out,
            PartFile {
                partition,
                attempt,
                name,
            },
        ))
    }

    /// Moves every task's part into place and writes `_SUCCESS`.
    pub fn commit(&self, parts: Vec<PartFile>) -> Result<()> {
        for part in parts {
            self.storage.rename(
                &self.attempt_path(part.attempt, &part.name),
                &join(&self.dir, &part.name),
            )?;
        }
        self.storage.remove_all(&self.temporary())?;
        self.storage.create(&join(&self.dir, "_SUCCESS"))?.finish()
    }

    /// Removes whatever the job wrote, after a failure.
    pub fn abort(&self) {
        let _ = self.storage.remove_all(&self.temporary());
        // `prepare` found the directory empty or absent: leave nothing.
        if let Ok(false) = self.storage.has_entries(&self.dir) {
            let _ = self.storage.remove_all(&self.dir);
        }
    }
}
