//! barks-sql's integration tests, one binary (decision 0040): the TPC-H
//! harness checked on plain DataFusion, all 22 queries on barks, queries on
//! a local cluster, the DataFrame API, and bad input.

#[path = "../tpch/reference.rs"]
mod reference;
#[cfg(feature = "s3")]
#[path = "../../../barks-io/tests/s3_support/mod.rs"]
mod s3_support;

mod bad_input;
mod cluster;
mod dataframe;
mod datafusion_reference;
mod s3;
mod session;
mod sort;
mod tpch;
