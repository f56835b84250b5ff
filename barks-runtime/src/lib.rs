//! The barks runtime: datasets and their operators, the planner that cuts a
//! job into stages, the I/O-free scheduler and the local engine.
//!
//! Users normally depend on the `barks` facade crate and write jobs with
//! `#[barks::job]` and `pipeline!`; this crate is what those expand to.

pub mod action;
mod build;
mod cache;
pub mod cluster;
mod codec;
pub mod context;
pub mod counters;
pub mod data;
pub mod dataset;
pub mod dense;
mod distinct;
pub mod emit;
pub mod error;
pub mod fuse;
mod group;
pub mod hash;
pub mod job;
mod join;
mod key_table;
mod local;
mod narrow;
pub mod node;
mod pair;
pub mod persist;
pub mod plan;
mod radix;
pub mod records;
mod release;
pub mod scheduler;
mod shuffle;
pub mod source;
mod task;

pub use action::{JobOutput, Output, Sink};
pub use build::{default_parallelism, in_scope};
pub use context::{Context, Master};
pub use data::{Data, JobArg, Key, Pair, SameKey, SortKey};
pub use dataset::Dataset;
pub use emit::Emit;
pub use error::{Error, Result};
pub use job::{JOBS, Job, JobDef, find_job};
pub use node::ErrorSink;
pub use persist::{Persisted, persisted};
pub use records::BoxIter;
pub use shuffle::hash::hash_partition;
pub use source::{Source, from_source, parallelize, range};
