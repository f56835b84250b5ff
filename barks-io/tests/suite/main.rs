//! barks-io's integration tests, linked into one test binary (one binary per
//! file linked the connector stack into each). `cargo test -p barks-io --test
//! suite csv::` runs one file's tests.

#[path = "../common/mod.rs"]
mod common;
#[cfg(feature = "s3")]
#[path = "../s3_support/mod.rs"]
mod s3_support;

mod csv;
mod json;
mod mongodb;
mod mssql;
mod parquet;
mod postgres;
mod s3;
