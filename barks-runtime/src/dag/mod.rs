//! The DAG of a job run and the scheduler that runs it: plain data and a
//! state machine, with no I/O and no user code.
//!
//! This folder is a leaf: it imports nothing from the rest of the crate (a
//! test in `tests/layers.rs` checks it), so it could be a crate of its own,
//! as quinn-proto is for QUIC. Local mode and cluster mode drive the same
//! [`Scheduler`]; what travels to workers is a [`PlanDesc`].

mod desc;
pub(crate) mod readers;
mod scheduler;

pub use desc::{PlanDesc, StageDesc, StageKind};
pub use scheduler::{Command, DEFAULT_MAX_STAGE_ATTEMPTS, Event, Scheduler, TaskId};
