//! Example jobs and the benchmark suite for barks.
//!
//! - [`jobs`]: the benchmark jobs of `shared/BENCHMARKS.md`, one per file, each
//!   in two versions: `barks` (written with `#[barks::job]` and `pipeline!`)
//!   and `baseline` (hand-written Rust with rayon and foldhash, no barks).
//! - [`canonical`]: the one writer of the canonical `<JOB>.tsv` result that
//!   both versions share.
//! - [`bench`]: runs a job by name in either mode.
//! - [`datagen`]: the deterministic data generator behind `barks-gen`.
//! - [`cli`]: the small flag parser the binaries share.
//! - [`top_words`]: the jobs of the `word_count` example.
//! - [`etl`]: the jobs of the `basic_etl` and `mongodb_to_s3` examples.
//! - `tpch` (feature `sql`): TPC-H on barks' SQL and on plain DataFusion,
//!   for `barks-bench tpch`.

pub mod bench;
pub mod canonical;
pub mod cli;
pub mod datagen;
#[cfg(feature = "etl")]
pub mod etl;
pub mod jobs;
pub mod top_words;
#[cfg(feature = "sql")]
pub mod tpch;
