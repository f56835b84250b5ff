//! Writing a dataset as text: one `part-NNNNN` file per partition, local or
//! on S3, committed with a `_SUCCESS` marker only when every partition
//! succeeded (see [`FileCommitter`](crate::FileCommitter)).

use crate::compress::{CompressedWrite, Compression};
use crate::file_sink::{FileSink, PartEncoder};
use barks_runtime::{BoxIter, Data, Dataset, Error, Output, Result};
use std::ffi::OsStr;
use std::fmt::Display;
use std::io::Write;

/// Writes each record's `Display` form as a line.
struct TextLines;

impl<T: Display> PartEncoder<T> for TextLines {
    fn suffix(&self) -> &'static str {
        ""
    }

    fn write_part(&self, out: &mut CompressedWrite, records: BoxIter<T>) -> Result<()> {
        for record in records {
            writeln!(out, "{record}").map_err(|e| Error::io(out.path(), e))?;
        }
        Ok(())
    }
}

/// `dataset.save_as_text_file(dir)`.
pub trait SaveAsTextFile {
    /// Writes each record's `Display` form as a line, one `part-NNNNN` file
    /// per partition, into `dir` (a local directory or `s3://bucket/prefix`),
    /// committed with `_SUCCESS` when the whole job succeeds.
    fn save_as_text_file(&self, dir: impl AsRef<OsStr>) -> Output<()>;
}

impl<T: Data + Display> SaveAsTextFile for Dataset<T> {
    fn save_as_text_file(&self, dir: impl AsRef<OsStr>) -> Output<()> {
        let dir = dir.as_ref().to_string_lossy();
        self.write(FileSink::new(&dir, TextLines, Compression::None))
    }
}
