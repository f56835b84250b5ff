//! Parquet and Arrow (feature `parquet`): typed rows through serde_arrow
//! ([`parquet_file`], [`SaveAsParquet::save_as_parquet`]) and raw Arrow
//! record batches ([`parquet_batches`],
//! [`SaveBatchesAsParquet::save_batches_as_parquet`]), on local paths and
//! `s3://` alike: files are read by byte ranges through
//! [`Storage::read_range`](crate::storage::Storage::read_range) (the footer,
//! then only the needed column chunks).
//!
//! ```no_run
//! use barks_io::parquet::{ParquetOptions, col, parquet_file};
//! #[derive(serde::Deserialize, serde::Serialize, Clone)]
//! struct Trade { symbol: String, price: f64 }
//! let big: barks_runtime::Dataset<Trade> = parquet_file(
//!     "trades/",
//!     ParquetOptions::new().predicate(col("price").gt(100.0)),
//! );
//! ```

mod batch;
mod chunk_reader;
mod decode;
mod encode;
mod from_arrow;
mod options;
mod predicate;
mod schema;
mod sink;
mod source;

pub use arrow_array::RecordBatch;
pub use batch::Batch;
pub use encode::RowBatcher;
pub use from_arrow::{
    ArrowField, BinaryColumn, FromArrow, NullableColumn, StrColumn, field_column,
};
pub use options::{ParquetCompression, ParquetOptions, ParquetWriteOptions};
pub use predicate::{Column, Op, Predicate, Scalar, col};
pub use schema::fields_of;
pub(crate) use sink::BatchEncoder;
pub use sink::{SaveAsParquet, SaveBatchesAsParquet};
pub use source::{parquet_batches, parquet_file, parquet_rows};
