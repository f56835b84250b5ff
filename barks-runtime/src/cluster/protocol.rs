//! The messages driver and workers exchange. Everything here is plain data
//! (ids, counts, addresses, encoded records); nothing is code. Frames are
//! decoded by [`net`](super::net) with a size limit, so a malformed message
//! closes its connection and nothing else.
//!
//! Streams:
//! - **control** (worker opens it after connecting): `Register` then
//!   `Heartbeat`s from the worker; `Welcome`, `Job`, `Launch`, `JobDone` and
//!   `Shutdown` from the driver.
//! - **upstream** (worker opens one per finished task, or per persisted
//!   partition it needs): an [`Upstream`] header — a `TaskDone` (with the
//!   task's counter values) followed by the result's bytes in chunk frames,
//!   or a request for a persisted partition, answered like a fetch.
//! - **fetch** (a reducer opens one per block on the worker that holds it):
//!   a `FetchRequest`, answered by a `FetchReply` header and chunk frames.

use crate::counters::CounterValue;
use crate::dag::PlanDesc;
use crate::dag::TaskId;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The largest chunk of a result or block in one frame; bigger payloads
/// stream as several chunks, so no frame comes near the size limit.
pub(crate) const CHUNK: usize = 4 << 20;

/// The largest payload buffer (a block, a task's output) allocated whole
/// before its chunks arrive; a bigger one grows as they do.
pub(crate) const MAX_PREALLOCATED_BLOCK: u64 = 1 << 30;

/// One attempt of one task, as it crosses the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct WireTask {
    pub stage: usize,
    pub partition: usize,
    pub attempt: u32,
}

impl From<TaskId> for WireTask {
    fn from(t: TaskId) -> Self {
        WireTask {
            stage: t.stage,
            partition: t.partition,
            attempt: t.attempt,
        }
    }
}

impl From<WireTask> for TaskId {
    fn from(t: WireTask) -> Self {
        TaskId {
            stage: t.stage,
            partition: t.partition,
            attempt: t.attempt,
        }
    }
}

/// Worker to driver, on the control stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum ToDriver {
    /// The first message: how many tasks the worker runs at once and where
    /// other workers fetch its shuffle blocks.
    Register { slots: usize, blocks_at: SocketAddr },
    /// "Still here"; the driver drops a worker that stays silent too long.
    Heartbeat,
}

/// Driver to worker, on the control stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    /// Registration accepted; the worker's id in this cluster.
    Welcome { worker: u64 },
    /// A job run the worker will get tasks of: it rebuilds the typed plan
    /// from its own registry. Sent once per run, before the first task.
    Job { run: u64, plan: PlanDesc },
    /// Run one task.
    Launch(Launch),
    /// The run is over: drop its plan and shuffle blocks.
    JobDone { run: u64 },
    /// Exit.
    Shutdown,
}

/// One task to run, with where to find the shuffle outputs it reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Launch {
    pub run: u64,
    pub task: WireTask,
    pub inputs: Vec<ShuffleInput>,
}

/// A shuffle a task reads: its finalized summary and, for every map
/// partition, the address of the worker holding its output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ShuffleInput {
    pub shuffle: usize,
    pub summary: Vec<u8>,
    pub maps: Vec<SocketAddr>,
}

/// The first frame of a stream a worker opens to the driver.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Upstream {
    /// A task report; its payload follows in chunks.
    Report(TaskDone),
    /// A partition of a dataset persisted on the driver; answered with a
    /// [`FetchReply`] and chunks.
    Persisted { id: u64, partition: usize },
}

/// The header of a task report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaskDone {
    pub run: u64,
    pub task: WireTask,
    pub outcome: Outcome,
    /// The counter values a successful task recorded (at most
    /// [`MAX_TASK_VALUES`](crate::counters::MAX_TASK_VALUES); the driver
    /// fails a report that carries more).
    pub counters: Vec<CounterValue>,
}

/// How a task ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Outcome {
    /// A map task: its output stays on the worker; the summary (e.g. a key
    /// sample) follows in `len` bytes of chunks.
    Map { len: u64 },
    /// A result task: the encoded partition result follows in `len` bytes.
    Result { len: u64 },
    /// The task failed.
    Failed { message: String },
    /// The task could not read map output `map` of shuffle `shuffle`.
    FetchFailed {
        shuffle: usize,
        map: usize,
        message: String,
    },
}

/// A reducer asks for its block of one map output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FetchRequest {
    pub run: u64,
    pub shuffle: usize,
    pub map: usize,
    pub reduce: usize,
    /// The shuffle's finalized summary (a sort's range bounds), which
    /// decides what the block holds.
    pub summary: Vec<u8>,
}

/// The answer to a [`FetchRequest`]; a block's bytes follow in chunks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum FetchReply {
    Block { len: u64 },
    Missing { message: String },
}
