//! barks-io: sources and sinks. Text files (a path, a directory or a glob,
//! split into line-aligned byte ranges) and text output committed with a
//! `_SUCCESS` marker.

#[cfg(any(
    feature = "s3",
    feature = "postgres",
    feature = "mongodb",
    feature = "mssql"
))]
mod async_rt;
pub mod backend;
mod bad_records;
#[cfg(feature = "parquet")]
pub mod batch_files;
mod commit;
pub mod compress;
mod csv;
mod file_sink;
mod json;
mod line_input;
mod line_source;
#[cfg(feature = "mongodb")]
pub mod mongodb;
#[cfg(feature = "mssql")]
pub mod mssql;
#[cfg(feature = "parquet")]
pub mod parquet;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "postgres", feature = "mongodb", feature = "mssql"))]
mod redact;
#[cfg(feature = "s3")]
pub mod s3;
pub mod split;
#[cfg(any(feature = "postgres", feature = "mssql"))]
pub mod sql;
pub mod storage;
mod text_sink;
mod text_source;

pub use bad_records::{BadRecord, BadRecordMode, dropped_records};
pub use commit::{FileCommitter, PartFile, SaveMode};
pub use compress::Compression;
pub use csv::{CsvOptions, CsvWriteOptions, SaveAsCsv, csv_file, csv_file_permissive};
pub use json::{JsonOptions, JsonWriteOptions, SaveAsJson, json_file, json_file_permissive};
pub use text_sink::SaveAsTextFile;
pub use text_source::{TextSource, text_file};
