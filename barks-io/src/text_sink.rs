//! Writing a dataset as text: one `part-NNNNN` file per partition, written
//! under `_temporary/` and moved into place with a `_SUCCESS` marker only
//! when every partition succeeded (Hadoop's output committer protocol).

use barks_runtime::{BoxIter, Data, Dataset, Error, ErrorSink, Output, Result, Sink};
use std::fmt::Display;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `Display` records, one per line, into a directory.
pub struct TextSink {
    dir: PathBuf,
}

impl TextSink {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        TextSink { dir: dir.into() }
    }

    fn temporary(&self) -> PathBuf {
        self.dir.join("_temporary")
    }
}

fn part_name(partition: usize) -> String {
    format!("part-{partition:05}")
}

impl<T: Display + Send + 'static> Sink<T> for TextSink {
    /// The partition and the attempt directory it was written in.
    type TaskCommit = (usize, u32);

    fn prepare(&self) -> Result<()> {
        let non_empty = fs::read_dir(&self.dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        if non_empty {
            return Err(Error::io(
                &self.dir,
                "output directory already exists and is not empty; remove it or choose another",
            ));
        }
        fs::create_dir_all(self.temporary()).map_err(|e| Error::io(self.temporary(), e))
    }

    fn write(
        &self,
        partition: usize,
        attempt: u32,
        records: BoxIter<T>,
        _: ErrorSink,
    ) -> Result<(usize, u32)> {
        let dir = self.temporary().join(format!("attempt-{attempt}"));
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(part_name(partition));
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        for record in records {
            writeln!(out, "{record}").map_err(|e| Error::io(&path, e))?;
        }
        out.flush().map_err(|e| Error::io(&path, e))?;
        Ok((partition, attempt))
    }

    fn commit(&self, tasks: Vec<(usize, u32)>) -> Result<()> {
        for (partition, attempt) in tasks {
            let from = self
                .temporary()
                .join(format!("attempt-{attempt}"))
                .join(part_name(partition));
            let to = self.dir.join(part_name(partition));
            fs::rename(&from, &to).map_err(|e| Error::io(&from, e))?;
        }
        fs::remove_dir_all(self.temporary()).map_err(|e| Error::io(self.temporary(), e))?;
        File::create(self.dir.join("_SUCCESS"))
            .map_err(|e| Error::io(self.dir.join("_SUCCESS"), e))?;
        Ok(())
    }

    fn abort(&self) {
        let _ = fs::remove_dir_all(self.temporary());
        // The directory was empty or absent before the job: leave nothing.
        let _ = fs::remove_dir(&self.dir);
    }
}

/// `dataset.save_as_text_file(dir)`.
pub trait SaveAsTextFile {
    /// Writes each record's `Display` form as a line, one `part-NNNNN` file
    /// per partition, committed with `_SUCCESS` when the whole job succeeds.
    fn save_as_text_file(&self, dir: impl AsRef<Path>) -> Output<()>;
}

impl<T: Data + Display> SaveAsTextFile for Dataset<T> {
    fn save_as_text_file(&self, dir: impl AsRef<Path>) -> Output<()> {
        self.write(TextSink::new(dir.as_ref()))
    }
}
