//! The barks runtime: datasets and their operators, the planner that cuts a
//! job into stages, the I/O-free scheduler, the local engine and cluster
//! mode.
//!
//! Users normally depend on the `barks` facade crate and write jobs with
//! `#[barks::job]` and `pipeline!`; this crate is what those expand to.
//! ARCHITECTURE.md at the repository root maps its folders; lower folders
//! never import higher ones:
//!
//! | folder | what it holds |
//! | --- | --- |
//! | [`dag`] | plan descriptors and the scheduler state machine (a leaf: no I/O) |
//! | [`records`] | `BoxIter` and the codec |
//! | `spill`, [`memory`] | spill files; the execution memory budget, reservations, task memory metrics |
//! | [`agg`] | key tables, dense tables, partitioned aggregation, grouping |
//! | [`plan`] | the lineage graph and stage cutting |
//! | `shuffle` | hash, range and indexed shuffles |
//! | [`ops`] | datasets, operators, sources and actions |
//! | `exec` | the job-run core, tasks and the local engine |
//! | [`cluster`] | driver, workers, QUIC transport, spilling |

pub mod agg;
pub mod cluster;
pub mod context;
pub mod counters;
pub mod dag;
pub mod data;
pub mod error;
mod exec;
pub mod job;
pub mod memory;
pub mod ops;
pub mod plan;
pub mod records;
mod shuffle;
mod spill;

pub use context::{Context, ContextBuilder, Master};
pub use data::{Data, JobArg, Key, SortKey};
pub use error::{Error, Result};
pub use job::{JOBS, Job, JobDef, find_job};
pub use ops::action::{JobOutput, Output, Sink};
pub use ops::by_key::{Pair, SameKey};
pub use ops::dataset::Dataset;
pub use ops::emit::Emit;
pub use ops::persist::{Persisted, persisted};
pub use ops::source::{Source, from_source, parallelize, range};
pub use plan::node::ErrorSink;
pub use plan::scope::{default_parallelism, in_scope};
pub use records::BoxIter;
pub use shuffle::hash_partitioned::hash_partition;
