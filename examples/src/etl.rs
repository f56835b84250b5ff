//! The jobs of the ETL examples (`basic_etl`, `mongodb_to_s3`): a database
//! is read in parallel partitions, filtered, given a derived column,
//! aggregated by key and written as Parquet, typically to `s3://`.
//!
//! They live in the library, not in the binaries, so that the `worker`
//! binary links them: in cluster mode every worker rebuilds a job's plan
//! from its arguments.
//!
//! - [`sales`]: PostgreSQL `sales` table → revenue per region.
//! - [`page_views`]: MongoDB `page_views` collection → views per page.
//! - [`output`]: preparing an output directory (bucket, overwrite) and
//!   the defaults the binaries share.

pub mod output;
pub mod page_views;
pub mod sales;

/// A deterministic pseudo-random number for `i` (splitmix64), so the demo
/// data is the same on every run.
pub(crate) fn mix(i: i64) -> u64 {
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
