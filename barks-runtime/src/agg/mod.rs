//! The tables behind every aggregation, grouping and join build side.
//!
//! - [`fast_map`]: the deterministic hash map and its in-place `upsert`;
//! - [`key_table`]: one value per key, direct-addressed while integer keys
//!   are dense ([`dense_table`]), hashed otherwise;
//! - [`aggregation`]: a key table that splits its input by hash into
//!   cache-sized parts when most records are new keys;
//! - [`grouping`]: a partition's records grouped by key by counting first.

pub(crate) mod aggregation;
pub mod dense_table;
pub mod fast_map;
pub(crate) mod grouping;
pub(crate) mod key_table;
