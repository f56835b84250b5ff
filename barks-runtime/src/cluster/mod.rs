//! Cluster mode: driver and workers over QUIC.

mod driver;
mod entry;
mod fetch;
mod fingerprint;
mod fuzzing;
mod launch;
mod logging;
pub mod net;
mod protocol;
mod worker;

pub(crate) use driver::Cluster;
pub use driver::{NO_WORKER_TIMEOUT_ENV, Timeouts, WORKER_TIMEOUT_ENV};
pub(crate) use entry::keep_constructor;
pub use entry::worker_main;
pub use fingerprint::build_fingerprint;
pub use fuzzing::fuzz_decode;
pub use launch::LocalWorkers;
pub(crate) use logging::init as init_logging;
pub use worker::{WorkerOptions, run_worker, run_worker_with};
