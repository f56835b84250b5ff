//! Operators, one family per file: [`Dataset`](dataset::Dataset) and its
//! element-wise operators, key-value operators ([`by_key`]), joins,
//! `distinct`, fused record-wise chains ([`fuse`]), caching, persisting,
//! sources and actions; `spill_merge` and `spill_group`, the reduce side of
//! aggregations and groupings within the memory budget.

pub mod action;
pub mod by_key;
mod cache;
pub mod dataset;
mod distinct;
pub mod emit;
pub mod fuse;
mod join;
mod narrow;
pub mod persist;
pub mod source;
mod spill_group;
mod spill_merge;
