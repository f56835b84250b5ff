//! Writing a dataset as text: one `part-NNNNN` file per partition, committed
//! with a `_SUCCESS` marker only when every partition succeeded (see
//! [`FileCommitter`]).

use crate::commit::{FileCommitter, PartFile};
use barks_runtime::{BoxIter, Data, Dataset, Error, ErrorSink, Output, Result, Sink};
use std::ffi::OsStr;
use std::fmt::Display;
use std::io::Write;

/// Writes `Display` records, one per line, into a directory (local or `s3://`).
pub struct TextSink {
    committer: Result<FileCommitter>,
}

impl TextSink {
    pub fn new(dir: &str) -> Self {
        TextSink {
            committer: FileCommitter::new(dir),
        }
    }

    fn committer(&self) -> Result<&FileCommitter> {
        self.committer.as_ref().map_err(Clone::clone)
    }
}

impl<T: Display + Send + 'static> Sink<T> for TextSink {
    type TaskCommit = PartFile;

    fn prepare(&self) -> Result<()> {
        self.committer()?.prepare()
    }

    fn write(
        &self,
        partition: usize,
        attempt: u32,
        records: BoxIter<T>,
        _: ErrorSink,
    ) -> Result<PartFile> {
        let committer = self.committer()?;
        let (mut out, part) = committer.create_part(partition, attempt, "")?;
        let name = || format!("{}/{}", committer.dir(), part.name);
        for record in records {
            writeln!(out, "{record}").map_err(|e| Error::io(name(), e))?;
        }
        out.finish()?;
        Ok(part)
    }

    fn commit(&self, parts: Vec<PartFile>) -> Result<()> {
        self.committer()?.commit(parts)
    }

    fn abort(&self) {
        if let Ok(c) = self.committer() {
            c.abort();
        }
    }
}

/// `dataset.save_as_text_file(dir)`.
pub trait SaveAsTextFile {
    /// Writes each record's `Display` form as a line, one `part-NNNNN` file
    /// per partition, committed with `_SUCCESS` when the whole job succeeds.
    fn save_as_text_file(&self, dir: impl AsRef<OsStr>) -> Output<()>;
}

impl<T: Data + Display> SaveAsTextFile for Dataset<T> {
    fn save_as_text_file(&self, dir: impl AsRef<OsStr>) -> Output<()> {
        self.write(TextSink::new(&dir.as_ref().to_string_lossy()))
    }
}
