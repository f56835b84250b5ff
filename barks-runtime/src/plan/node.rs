//! The lineage graph: every dataset is a node that can compute any of its
//! partitions, given the outputs of the shuffles it depends on.

use crate::error::{Error, Result};
use crate::records::BoxIter;
use std::any::Any;
use std::sync::{Arc, Mutex};

/// A type-erased shared value (a shuffle's map output or its driver-side summary).
pub(crate) type Shared = Arc<dyn Any + Send + Sync>;

/// What a running task may use: where it is, and how to read shuffle outputs.
pub struct TaskContext {
    /// The stage this task belongs to.
    pub stage: usize,
    /// The partition it computes.
    pub partition: usize,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
    shuffles: Arc<dyn ShuffleSource>,
    error: Arc<Mutex<Option<Error>>>,
}

impl TaskContext {
    pub(crate) fn new(
        stage: usize,
        partition: usize,
        attempt: u32,
        shuffles: Arc<dyn ShuffleSource>,
    ) -> Self {
        TaskContext {
            stage,
            partition,
            attempt,
            shuffles,
            error: Arc::default(),
        }
    }

    /// A handle that lets an iterator report an error (bad input, failed read)
    /// from inside `next()`: the task fails with the first error reported.
    pub fn error_sink(&self) -> ErrorSink {
        ErrorSink(self.error.clone())
    }

    /// Whether an iterator of this task has reported an error.
    pub(crate) fn has_error(&self) -> bool {
        self.error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    pub(crate) fn take_error(&self) -> Option<Error> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// What reduce partition `partition` of `shuffle` reads. (Not always
    /// `self.partition`: `coalesce`, `union` and `cartesian` compute other
    /// partitions of their parents.)
    pub(crate) fn shuffle(&self, shuffle: usize, partition: usize) -> Result<ShuffleOutputs> {
        self.shuffles.outputs(shuffle, partition)
    }
}

/// Lets an iterator fail its task without panicking (see [`TaskContext::error_sink`]).
#[derive(Clone)]
pub struct ErrorSink(Arc<Mutex<Option<Error>>>);

impl std::fmt::Debug for ErrorSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErrorSink")
    }
}

impl ErrorSink {
    /// The error recorded, taken out.
    #[cfg(test)]
    pub(crate) fn take(&self) -> Option<Error> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// A sink no task reads (for code that runs outside a task).
    pub(crate) fn detached() -> ErrorSink {
        ErrorSink(Arc::default())
    }

    /// Records `err` unless an earlier error was recorded already.
    pub fn fail(&self, err: Error) {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(err);
    }

    /// Whether an error was recorded: an iterator that reported one ends early,
    /// so a sink that commits per partition (a database transaction) checks this
    /// before committing.
    pub fn has_failed(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }
}

/// The map outputs of one shuffle that a reduce partition reads, plus the
/// value the shuffle's driver-side finalizer made. In local mode `maps` are
/// the whole map outputs; on a cluster worker they are decoded blocks that
/// hold only what this reduce partition reads (see [`ShuffleDep::decode_block`]),
/// and maps it does not read (see [`ShuffleDep::maps_read`]) are `()`.
pub(crate) struct ShuffleOutputs {
    pub maps: Vec<Shared>,
    pub summary: Shared,
}

/// Where reduce tasks read shuffle outputs from (memory in local mode,
/// other workers in cluster mode).
pub(crate) trait ShuffleSource: Send + Sync {
    fn outputs(&self, shuffle: usize, partition: usize) -> Result<ShuffleOutputs>;
}

/// The untyped view of a node that planning needs.
pub(crate) trait AnyNode: Send + Sync {
    fn id(&self) -> usize;
    fn num_partitions(&self) -> usize;
    fn deps(&self) -> Vec<Dep>;
}

/// How a node depends on another.
pub(crate) enum Dep {
    /// Partition-wise, computed in the same task.
    Narrow(Arc<dyn AnyNode>),
    /// Through a shuffle: a stage boundary.
    Shuffle(Arc<dyn ShuffleDep>),
}

/// A node that yields records of type `T`.
pub(crate) trait Node<T>: AnyNode {
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<T>>;
}

/// What one map task of a shuffle leaves behind.
pub(crate) struct MapOutput {
    /// The records, laid out for the reduce side (buckets, a sorted run, ...).
    pub data: Shared,
    /// A small value sent to the driver (a key sample, a count, ...).
    pub summary: Box<dyn Any + Send>,
}

/// The map side of a shuffle, with its type erased.
pub(crate) trait ShuffleDep: Send + Sync {
    fn id(&self) -> usize;
    fn parent(&self) -> Arc<dyn AnyNode>;
    fn run_map(&self, partition: usize, tc: &TaskContext) -> Result<MapOutput>;
    /// Turns the map tasks' summaries (in partition order) into the value
    /// reduce tasks read. Runs on the driver.
    fn finalize(&self, summaries: Vec<Box<dyn Any + Send>>) -> Shared;

    // ---- crossing process boundaries (cluster mode) ----

    /// The map partitions reduce partition `reduce` reads, of `maps`.
    fn maps_read(&self, _reduce: usize, maps: usize) -> std::ops::Range<usize> {
        0..maps
    }
    /// Encodes the part of map output `data` that reduce partition `reduce`
    /// reads (`summary` is the finalized summary).
    fn encode_block(&self, data: &Shared, summary: &Shared, reduce: usize) -> Result<Vec<u8>>;
    /// Decodes a block into a map output of the local type, holding only what
    /// reduce partition `reduce` reads.
    fn decode_block(&self, bytes: &[u8], reduce: usize) -> Result<Shared>;
    /// Encodes a map task's summary for the driver.
    fn encode_summary_part(&self, part: &(dyn Any + Send)) -> Result<Vec<u8>>;
    fn decode_summary_part(&self, bytes: &[u8]) -> Result<Box<dyn Any + Send>>;
    /// Encodes the finalized summary for the workers.
    fn encode_summary(&self, summary: &Shared) -> Result<Vec<u8>>;
    fn decode_summary(&self, bytes: &[u8]) -> Result<Shared>;

    // ---- spilling to a worker's local disk (cluster mode) ----

    /// The bytes map output `data` takes held in memory, estimated without
    /// encoding it: its records' slots plus its encoded size (the total of
    /// [`encode_segments`](Self::encode_segments), which stands for what
    /// the records point to). What the memory budget counts for it.
    fn held_size(&self, data: &Shared) -> Result<u64>;
    /// Encodes map output `data` for a spill file, as segments that do not
    /// depend on the finalized summary, and an index of them that is kept
    /// in memory with the file (a sort's first key of each segment).
    fn encode_segments(&self, data: &Shared) -> Result<(Vec<Vec<u8>>, Shared)>;
    /// The segments of a spilled map output that reduce partition `reduce`
    /// reads, given the finalized summary and the output's index.
    fn segments_read(
        &self,
        _reduce: usize,
        _summary: &Shared,
        _index: &Shared,
    ) -> Result<std::ops::Range<usize>> {
        Ok(0..1)
    }
    /// Decodes the segments [`segments_read`](Self::segments_read) chose
    /// into a map output of the local type holding at least what reduce
    /// partition `reduce` reads.
    fn decode_segments(&self, segments: Vec<Vec<u8>>, reduce: usize) -> Result<Shared> {
        match <[Vec<u8>; 1]>::try_from(segments) {
            Ok([segment]) => self.decode_block(&segment, reduce),
            Err(segments) => Err(Error::Internal(format!(
                "{} segments read where one was expected",
                segments.len()
            ))),
        }
    }
    /// Whether a segment is the very block its reduce partition fetches. If
    /// not (a sort's blocks are cut by range bounds picked after the map
    /// stage), the holder decodes the segments and encodes the block from
    /// them.
    fn segment_is_block(&self) -> bool {
        true
    }
}

/// Downcasts a shared value that barks itself stored; a mismatch is a bug in
/// barks, reported as a task error rather than a panic.
pub(crate) fn downcast<T: Send + Sync + 'static>(value: &Shared, what: &str) -> Result<Arc<T>> {
    value
        .clone()
        .downcast::<T>()
        .map_err(|_| Error::Internal(format!("{what} has an unexpected type")))
}

/// A partition result on its way to the driver.
pub(crate) type PartResult = Box<dyn Any + Send>;

/// The untyped action the engine runs.
pub(crate) trait ErasedAction: Send + Sync {
    fn node(&self) -> Arc<dyn AnyNode>;
    /// Runs on the driver before any task (e.g. refuses an existing output).
    fn prepare(&self) -> Result<()> {
        Ok(())
    }
    fn run(&self, partition: usize, tc: &TaskContext) -> Result<PartResult>;
    /// Runs on the driver once every partition succeeded.
    fn merge(&self, parts: Vec<PartResult>) -> Result<Box<dyn Any + Send>>;
    /// Runs on the driver when the job failed (removes temporary output).
    fn abort(&self) {}
    /// Encodes a partition result on a worker, for the driver.
    fn encode_result(&self, part: &PartResult) -> Result<Vec<u8>>;
    /// The size of a partition result encoded, without encoding it: what
    /// it counts against the maximum result size in local mode.
    fn result_size(&self, part: &PartResult) -> Result<u64>;
    /// Decodes a partition result a worker sent.
    fn decode_result(&self, bytes: &[u8]) -> Result<PartResult>;
}
