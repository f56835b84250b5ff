//! The examples' tests, linked into one test binary (each example binary and
//! test binary carries every registered job and so the connector stack).
//! `cargo test -p examples --test suite binaries::` runs one file's tests.

mod bench_equivalence;
mod binaries;
#[cfg(feature = "etl")]
mod etl;
mod help;
#[cfg(feature = "sql")]
mod sql;
