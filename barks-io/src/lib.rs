//! barks-io: sources and sinks. Text files (a path, a directory or a glob,
//! split into line-aligned byte ranges) and text output committed with a
//! `_SUCCESS` marker.

#[cfg(any(feature = "s3", feature = "postgres", feature = "mongodb", feature = "mssql"))]
mod async_rt;
mod commit;
mod files;
pub mod storage;
mod text_sink;
mod text_source;

pub use commit::{FileCommitter, PartFile};
pub use files::list_inputs;
pub use text_sink::{SaveAsTextFile, TextSink};
pub use text_source::{TextSource, text_file};
