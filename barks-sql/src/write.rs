//! [`DataFrameWriter`]: Spark's `df.write` — a query's result into Parquet,
//! CSV or JSON-lines files through barks' output committer: each task
//! writes one part file, and the files (with `_SUCCESS`) appear only when
//! the whole query succeeded.

use crate::dataframe::DataFrame;
use barks_io::batch_files::{csv_batch_sink, json_batch_sink, parquet_batch_sink};
use barks_io::parquet::{Batch, ParquetWriteOptions};
use barks_io::{CsvWriteOptions, FileCommitter, JsonWriteOptions, SaveMode};
use barks_runtime::{Dataset, Error, Output, Result};
use serde::{Deserialize, Serialize};

/// The file format of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FileFormat {
    Parquet,
    /// CSV; a header line in each file when `header` (Spark writes none by default).
    Csv {
        header: bool,
        delimiter: u8,
    },
    Json,
}

/// Everything a task needs to write its part: it crosses the wire with the plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WriteSpec {
    pub dir: String,
    pub format: FileFormat,
    pub mode: SaveMode,
}

impl WriteSpec {
    /// The action that writes `batches` as this spec says.
    pub fn output(&self, batches: &Dataset<Batch>) -> Output<()> {
        let (dir, mode) = (self.dir.as_str(), self.mode.clone());
        match self.format {
            FileFormat::Parquet => batches.write(parquet_batch_sink(
                dir,
                ParquetWriteOptions::default(),
                mode,
            )),
            FileFormat::Csv { header, delimiter } => {
                let mut options = CsvWriteOptions::new();
                options.header = header;
                options.delimiter = delimiter;
                batches.write(csv_batch_sink(dir, options, mode))
            }
            FileFormat::Json => batches.write(json_batch_sink(dir, JsonWriteOptions::new(), mode)),
        }
    }
}

/// Writes a [`DataFrame`]'s rows into a directory (Spark's `DataFrameWriter`).
///
/// ```
/// use barks_sql::Session;
///
/// let dir = tempfile::tempdir().unwrap();
/// let out = dir.path().join("squares");
/// let out = out.to_str().unwrap();
/// let session = Session::new("local[2]").unwrap();
/// let df = session.sql("SELECT n, n * n AS square FROM (VALUES (1), (2), (3)) AS t(n)").unwrap();
/// df.write().parquet(out).unwrap();
/// assert!(std::path::Path::new(out).join("_SUCCESS").exists());
/// // The default mode refuses a directory that holds files.
/// assert!(df.write().parquet(out).is_err());
/// df.write().mode("overwrite").parquet(out).unwrap();
/// assert_eq!(session.read().parquet(out).unwrap().count().unwrap(), 3);
/// ```
pub struct DataFrameWriter {
    frame: DataFrame,
    mode: String,
    header: bool,
    delimiter: u8,
}

impl DataFrameWriter {
    pub(crate) fn new(frame: DataFrame) -> Self {
        DataFrameWriter {
            frame,
            mode: "error".into(),
            header: false,
            delimiter: b',',
        }
    }

    /// What to do with a directory that already holds files: `error` (the
    /// default: refuse it), `overwrite` (replace its files, once the query
    /// succeeded), `append` (add part files beside them) or `ignore` (write
    /// nothing).
    pub fn mode(mut self, mode: &str) -> Self {
        self.mode = mode.to_string();
        self
    }

    /// A write option, as Spark names them: `header` (`true`/`false`, for
    /// CSV) and `sep` / `delimiter` (one character, for CSV).
    pub fn option(mut self, key: &str, value: &str) -> Result<Self> {
        let bad = |why: &str| {
            Err(Error::Plan(format!(
                "write option `{key}` = `{value}`: {why}"
            )))
        };
        match key.to_ascii_lowercase().as_str() {
            "header" => match value.to_ascii_lowercase().as_str() {
                "true" => self.header = true,
                "false" => self.header = false,
                _ => return bad("expected true or false"),
            },
            "sep" | "delimiter" => match value.as_bytes() {
                [b] => self.delimiter = *b,
                _ => return bad("expected one ASCII character"),
            },
            _ => return bad("unknown option (known: header, sep, delimiter)"),
        }
        Ok(self)
    }

    /// Writes Parquet files.
    pub fn parquet(self, dir: &str) -> Result<()> {
        self.save(dir, FileFormat::Parquet)
    }

    /// Writes CSV files.
    pub fn csv(self, dir: &str) -> Result<()> {
        let format = FileFormat::Csv {
            header: self.header,
            delimiter: self.delimiter,
        };
        self.save(dir, format)
    }

    /// Writes JSON-lines files.
    pub fn json(self, dir: &str) -> Result<()> {
        self.save(dir, FileFormat::Json)
    }

    fn save(self, dir: &str, format: FileFormat) -> Result<()> {
        let mode = SaveMode::parse(&self.mode, unique_tag())?;
        if mode == SaveMode::Ignore && FileCommitter::new(dir)?.has_output()? {
            return Ok(());
        }
        let spec = WriteSpec {
            dir: dir.to_string(),
            format,
            mode,
        };
        self.frame.write_files(spec)
    }
}

/// A tag no other write carries: the time and this process's id.
fn unique_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{:x}", std::process::id())
}
