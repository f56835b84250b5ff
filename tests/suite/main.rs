//! barks' integration tests, linked into one test binary: every binary links
//! the whole connector stack (tens of MB each), so one binary per file cost
//! CI its disk and its link time. `cargo test --test suite operators::` runs
//! one file's tests.
//!
//! The tests that set process-wide environment variables (worker timeouts,
//! spill budgets) stay in binaries of their own: `cluster_counters`,
//! `cluster_failures` and `cluster_spill`.

#[path = "../common/mod.rs"]
mod common;
/// The file-format helpers of barks-io's tests (Python as the reference).
#[path = "../../barks-io/tests/common/mod.rs"]
mod io_common;
#[cfg(feature = "s3")]
#[path = "../../barks-io/tests/s3_support/mod.rs"]
mod s3_support;

mod cluster_operators;
mod cluster_persist;
mod failures;
mod formats;
mod from_arrow;
mod jobs;
mod memory;
mod mongodb;
mod mssql;
mod operators;
mod postgres;
mod s3_pipeline;
mod sql_collect;
mod sql_pipeline;
mod streaming;
mod text_io;
