//! [`DataFrameReader`]: Spark's `spark.read` — files into DataFrames through
//! DataFusion's own sources (projection and predicate pushdown, row-group
//! and page pruning for Parquet).

use crate::dataframe::DataFrame;
use crate::errors::from_datafusion;
use crate::session::{Session, block_on};
use barks_runtime::{Error, Result};
use datafusion::datasource::file_format::options::JsonReadOptions;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions};
use std::path::Path;

/// Reads Parquet, CSV and JSON-lines files: one file, a directory of them,
/// or a glob (`data/*.parquet`). The schema is inferred from the files.
///
/// ```no_run
/// use barks_sql::Session;
///
/// let session = Session::new("local[2]").unwrap();
/// let sales = session.read().parquet("data/sales/").unwrap();
/// sales.create_or_replace_temp_view("sales").unwrap();
/// ```
pub struct DataFrameReader<'a> {
    session: &'a Session,
}

impl<'a> DataFrameReader<'a> {
    pub(crate) fn new(session: &'a Session) -> Self {
        DataFrameReader { session }
    }

    /// Parquet files.
    pub fn parquet(&self, path: &str) -> Result<DataFrame> {
        let (paths, files) = paths(path)?;
        let options = ParquetReadOptions {
            file_extension: extension(files, ".parquet"),
            ..Default::default()
        };
        self.frame(path, self.session.datafusion().read_parquet(paths, options))
    }

    /// CSV files, with DataFusion's options (`CsvReadOptions::new()` reads a
    /// header line and infers the column types).
    pub fn csv(&self, path: &str, options: CsvReadOptions<'_>) -> Result<DataFrame> {
        let (paths, files) = paths(path)?;
        let extension = extension(files, options.file_extension);
        let options = options.file_extension(extension);
        self.frame(path, self.session.datafusion().read_csv(paths, options))
    }

    /// JSON-lines files (one object per line, Spark's default JSON format).
    pub fn json(&self, path: &str) -> Result<DataFrame> {
        let (paths, files) = paths(path)?;
        let options = JsonReadOptions {
            file_extension: extension(files, ".json"),
            ..Default::default()
        };
        self.frame(path, self.session.datafusion().read_json(paths, options))
    }

    /// Runs `read`; an error that does not name `path` is made to.
    fn frame(
        &self,
        path: &str,
        read: impl Future<Output = datafusion::common::Result<datafusion::dataframe::DataFrame>>,
    ) -> Result<DataFrame> {
        let named = |e: Error| match e.to_string() {
            message if message.contains(path) => e,
            message => Error::Input {
                location: path.to_string(),
                message,
            },
        };
        let df = block_on(read)
            .map_err(named)?
            .map_err(|e| named(from_datafusion(e)))?;
        Ok(DataFrame::new(self.session.clone(), df))
    }
}

/// The paths DataFusion reads for `path`, and whether they name files. A
/// local path that names no file is an error that names it (local globs
/// are checked by the listing); an `s3://` path is checked, and its glob
/// expanded, by barks-io's storage ([`crate::storage::resolve`]).
fn paths(path: &str) -> Result<(Vec<String>, bool)> {
    if path.contains("://") {
        return crate::storage::resolve(path);
    }
    let is_glob = path.contains(['*', '?', '[']);
    if !is_glob && !Path::new(path).exists() {
        return Err(Error::io(path, "no such file or directory"));
    }
    Ok((vec![path.to_string()], Path::new(path).is_file()))
}

/// The extension the listing filters on: files named one by one are read
/// whatever their extension; a directory's files must have `default`.
fn extension(files: bool, default: &str) -> &str {
    if files { "" } else { default }
}
