//! # barks
//!
//! A Spark-like data engine for Rust. Write a job as a function marked
//! `#[barks::job]`; declare its stages with `pipeline!`; run it on
//! `local[N]` threads or on a cluster (`local-cluster[N]`,
//! `quic://HOST:PORT`): the same binary on every node, and only job ids and
//! data on the wire.
//!
//! ```
//! use barks::prelude::*;
//!
//! #[barks::job]
//! fn squares_of_evens(n: i64) -> Vec<i64> {
//!     pipeline! {
//!         let numbers = range(n);
//!         let squares = numbers.filter(|x| x % 2 == 0).map(|x| x * x);
//!         squares.collect()
//!     }
//! }
//!
//! let squares = squares_of_evens(7).run_on("local[2]").unwrap();
//! assert_eq!(squares, vec![0, 4, 16, 36]);
//! ```

pub use barks_macros::{job, pipeline};
pub use barks_runtime::{
    BoxIter, Context, ContextBuilder, Data, Dataset, Emit, Error, ErrorSink, Job, JobArg, Key,
    Master, Output, Pair, Persisted, Result, SameKey, Sink, SortKey, Source,
};

/// The `main` of a worker binary: `fn main() { barks::worker_main() }`.
pub use barks_runtime::cluster::worker_main;

/// The runtime, for what the facade does not re-export (plans, scheduler).
pub use barks_runtime as runtime;

/// Task counters: values recorded inside tasks, read on the driver.
pub use barks_runtime::counters;

/// Sources and sinks.
pub use barks_io as io;

/// SQL and DataFrames: DataFusion plans, barks runs (feature `sql`).
#[cfg(feature = "sql")]
pub use barks_sql as sql;

/// Everything a job file needs: `use barks::prelude::*;`.
pub mod prelude {
    pub use crate::io::SaveAsTextFile;
    #[cfg(feature = "mongodb")]
    pub use crate::io::mongodb::{MongoRead, MongoWrite, SaveToMongoDb};
    #[cfg(feature = "mssql")]
    pub use crate::io::mssql::SaveToSqlServer;
    #[cfg(feature = "parquet")]
    pub use crate::io::parquet::{
        Batch, FromArrow, ParquetCompression, ParquetOptions, ParquetWriteOptions, SaveAsParquet,
        SaveBatchesAsParquet, col,
    };
    #[cfg(feature = "postgres")]
    pub use crate::io::postgres::SaveToPostgres;
    #[cfg(any(feature = "postgres", feature = "mssql"))]
    pub use crate::io::sql::{SqlRead, SqlWrite};
    pub use crate::io::{
        BadRecord, BadRecordMode, Compression, CsvOptions, CsvWriteOptions, JsonOptions,
        JsonWriteOptions, SaveAsCsv, SaveAsJson,
    };
    pub use crate::{Context, Dataset, Job, Output, Persisted, job, pipeline};
    #[cfg(feature = "parquet")]
    pub use barks_macros::FromArrow;
    pub use serde::{Deserialize, Serialize};
}

/// What the macros expand to. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use barks_runtime::job::{
        ArgCodec, ArgDecoder, ArgEncoder, JOBS, JobDef, arg_codec, build_plan, check_output,
    };
    pub use barks_runtime::ops::fuse;
    pub use barks_runtime::plan::Plan;
    pub use linkme;

    /// A stage read as a table by `sql(...)` in a pipeline.
    #[cfg(feature = "sql")]
    pub use barks_sql::pipeline::Table as SqlTable;

    /// Extension traits whose methods a pipeline may call.
    pub mod ext {
        pub use barks_io::SaveAsTextFile;
        #[cfg(feature = "mongodb")]
        pub use barks_io::mongodb::SaveToMongoDb;
        #[cfg(feature = "mssql")]
        pub use barks_io::mssql::SaveToSqlServer;
        #[cfg(feature = "parquet")]
        pub use barks_io::parquet::{SaveAsParquet, SaveBatchesAsParquet};
        #[cfg(feature = "postgres")]
        pub use barks_io::postgres::SaveToPostgres;
        pub use barks_io::{SaveAsCsv, SaveAsJson};
    }

    /// The sources a pipeline may start from, with every argument explicit.
    pub mod sources {
        #[cfg(feature = "mongodb")]
        pub use barks_io::mongodb::read_mongodb;
        #[cfg(feature = "mssql")]
        pub use barks_io::mssql::read_sql_server;
        #[cfg(feature = "parquet")]
        pub use barks_io::parquet::{parquet_batches, parquet_file, parquet_rows};
        #[cfg(feature = "postgres")]
        pub use barks_io::postgres::read_postgres;
        pub use barks_io::text_file;
        pub use barks_io::{csv_file, csv_file_permissive, json_file, json_file_permissive};
        pub use barks_runtime::{from_source, parallelize, persisted, range};
        /// `sql::<T>("SELECT ...", table = stage, ...)`.
        #[cfg(feature = "sql")]
        pub use barks_sql::pipeline::sql_source as sql;
    }
}
