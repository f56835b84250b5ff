//! How Parquet files are read and written.

use super::predicate::Predicate;
use serde::{Deserialize, Serialize};

/// Options of [`parquet_file`](super::parquet_file) and
/// [`parquet_batches`](super::parquet_batches). Plain data, so a job may take
/// them as an argument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ParquetOptions {
    /// The top-level columns to read. `None` (the default): for typed rows,
    /// the fields of the row type; for record batches, every column.
    pub columns: Option<Vec<String>>,
    /// Skip row groups whose statistics show that no row matches.
    pub predicate: Option<Predicate>,
    /// At least this many partitions (default: the default parallelism).
    pub min_partitions: Option<usize>,
    /// At most this many bytes of a file per partition (default 128 MiB, as
    /// Spark's `maxPartitionBytes`). A partition reads the row groups whose
    /// middle byte falls in its range, so it holds one row group or a group
    /// of consecutive ones. The number of ranges is aimed at a multiple
    /// of the default parallelism, so every task slot has as many to read.
    pub max_partition_bytes: u64,
    /// Rows decoded at a time (the size of the record batches).
    pub batch_rows: usize,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            columns: None,
            predicate: None,
            min_partitions: None,
            max_partition_bytes: 128 << 20,
            batch_rows: 8192,
        }
    }
}

impl ParquetOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Read only these top-level columns.
    pub fn columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }
    /// Skip row groups that cannot match `predicate` (see [`Predicate`]).
    pub fn predicate(mut self, predicate: Predicate) -> Self {
        self.predicate = Some(predicate);
        self
    }
    /// At least this many partitions.
    pub fn min_partitions(mut self, partitions: usize) -> Self {
        self.min_partitions = Some(partitions);
        self
    }
    /// At most this many file bytes per partition.
    pub fn max_partition_bytes(mut self, bytes: u64) -> Self {
        self.max_partition_bytes = bytes.max(1);
        self
    }
    /// Rows decoded at a time.
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }
}

/// The codec of the column chunks a Parquet sink writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ParquetCompression {
    Uncompressed,
    #[default]
    Snappy,
    Gzip,
    Zstd,
    Lz4,
}

impl ParquetCompression {
    pub(crate) fn codec(self) -> parquet::basic::Compression {
        use parquet::basic::{Compression as C, GzipLevel, ZstdLevel};
        match self {
            ParquetCompression::Uncompressed => C::UNCOMPRESSED,
            ParquetCompression::Snappy => C::SNAPPY,
            ParquetCompression::Gzip => C::GZIP(GzipLevel::default()),
            ParquetCompression::Zstd => C::ZSTD(ZstdLevel::default()),
            ParquetCompression::Lz4 => C::LZ4_RAW,
        }
    }
}

/// Options of [`save_as_parquet`](super::SaveAsParquet::save_as_parquet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ParquetWriteOptions {
    /// The column chunks' codec (default Snappy, as Spark).
    pub compression: ParquetCompression,
    /// Rows per row group (default 1 Mi rows, the parquet crate's default).
    pub row_group_size: usize,
}

impl Default for ParquetWriteOptions {
    fn default() -> Self {
        ParquetWriteOptions {
            compression: ParquetCompression::Snappy,
            row_group_size: 1024 * 1024,
        }
    }
}

impl ParquetWriteOptions {
    /// Snappy, 1 Mi rows per row group.
    pub fn new() -> Self {
        Self::default()
    }
    /// The column chunks' codec.
    pub fn compression(mut self, compression: ParquetCompression) -> Self {
        self.compression = compression;
        self
    }
    /// Rows per row group.
    pub fn row_group_size(mut self, rows: usize) -> Self {
        self.row_group_size = rows.max(1);
        self
    }
}
