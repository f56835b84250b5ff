//! Cluster mode: driver and workers over QUIC.

mod blocks;
mod driver;
mod entry;
mod fetch;
mod fingerprint;
mod launch;
mod logging;
pub mod net;
mod protocol;
mod worker;

pub(crate) use driver::Cluster;
pub(crate) use entry::keep_constructor;
pub use entry::worker_main;
pub use fingerprint::build_fingerprint;
pub use launch::LocalWorkers;
pub use worker::{WorkerOptions, run_worker};
