//! `cache()`: keeps a dataset's partitions for the rest of the job, so a
//! dataset read in every iteration of a loop (PageRank's `links`) is
//! computed once. Across jobs, use `persist()` instead.
//!
//! A partition is kept as Spark's `MEMORY_AND_DISK` (the level of its
//! `Dataset.cache()`) keeps it: in memory while the cached partitions of
//! the dataset stay within half of the execution memory budget (Spark's
//! `storageFraction`) and leave the headroom of memory that cannot spill
//! free, else in a spill file of the job run, in segments read back one at
//! a time. Writing a partition to disk once and reading it back compressed
//! is cheaper than recomputing it from its lineage whenever that lineage
//! reads a file or a shuffle, which is why barks does not drop partitions
//! to recompute them (Spark's `MEMORY_ONLY`); the disk copy goes with the
//! job run's other spill files.

use crate::data::Data;
use crate::error::Result;
use crate::memory::{Reservation, TaskMemory, current_task};
use crate::ops::dataset::Dataset;
use crate::plan::node::{AnyNode, Dep, Node, TaskContext};
use crate::plan::scope;
use crate::records::BoxIter;
use crate::records::codec::{decode, encode, encoded_len};
use crate::spill::file::SpillFile;
use std::sync::{Arc, Mutex, MutexGuard};

/// Records per segment of a partition cached on disk.
const SEGMENT_RECORDS: usize = 16_384;

struct Cached<T> {
    id: usize,
    parent: Arc<dyn Node<T>>,
    state: Mutex<State<T>>,
}

struct State<T> {
    blocks: Vec<Option<Block<T>>>,
    /// The bytes of the partitions held in memory, while there are any.
    held: Option<Reservation>,
}

/// A cached partition.
enum Block<T> {
    Memory(Arc<Vec<T>>),
    Disk(Arc<SpillFile>),
}

impl<T> Clone for Block<T> {
    fn clone(&self) -> Self {
        match self {
            Block::Memory(records) => Block::Memory(records.clone()),
            Block::Disk(file) => Block::Disk(file.clone()),
        }
    }
}

impl<T: Send + Sync + 'static> AnyNode for Cached<T> {
    fn id(&self) -> usize {
        self.id
    }
    fn num_partitions(&self) -> usize {
        self.parent.num_partitions()
    }
    fn deps(&self) -> Vec<Dep> {
        vec![Dep::Narrow(self.parent.clone())]
    }
}

impl<T: Data> Node<T> for Cached<T> {
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<T>> {
        let cached = self.state().blocks[partition].clone();
        let block = match cached {
            Some(block) => block,
            None => {
                let records = self.parent.compute(partition, tc)?.into_vec();
                // A partition whose computation met bad input is not kept.
                if tc.has_error() {
                    return Ok(BoxIter::new(records.into_iter()));
                }
                let block = self.keep(records)?;
                self.state().blocks[partition] = Some(block.clone());
                block
            }
        };
        Ok(match block {
            Block::Memory(records) => {
                BoxIter::new((0..records.len()).map(move |i| records[i].clone()))
            }
            Block::Disk(file) => read_back(file, current_task()),
        })
    }
}

impl<T: Data> Cached<T> {
    fn state(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `records` kept in memory if the budget allows, else on disk.
    fn keep(&self, records: Vec<T>) -> Result<Block<T>> {
        let task = current_task();
        let budget = task.budget();
        if budget.limit() == u64::MAX {
            return Ok(Block::Memory(Arc::new(records)));
        }
        let bytes = encoded_len(&records, "a cached partition")?;
        let fits = {
            let mut state = self.state();
            let held = state
                .held
                .get_or_insert_with(|| budget.reservation("cached partitions", false));
            held.size().saturating_add(bytes) <= budget.limit() / 2
                && held.try_grow_leaving_headroom(bytes).is_ok()
        };
        if fits {
            return Ok(Block::Memory(Arc::new(records)));
        }
        let segments = records
            .chunks(SEGMENT_RECORDS)
            .map(|chunk| encode(chunk, "a cached partition"))
            .collect::<Result<Vec<_>>>()?;
        drop(records);
        let file = task.spill(&format!("cached-{}", self.id), &segments)?;
        log::debug!(
            "cached partition of {} over the budget kept on disk in {} ({})",
            crate::memory::bytes(bytes),
            file.path().display(),
            crate::memory::bytes(file.len())
        );
        Ok(Block::Disk(Arc::new(file)))
    }
}

/// The records of a partition cached on disk, a segment at a time.
fn read_back<T: Data>(file: Arc<SpillFile>, task: Arc<TaskMemory>) -> BoxIter<T> {
    task.read_back();
    BoxIter::from_chunks((0..file.segments()).map_while(move |segment| {
        let read = file
            .read(segment)
            .and_then(|bytes| decode::<Vec<T>>(&bytes, "a cached partition"));
        match read {
            Ok(records) => Some(records),
            Err(e) => {
                task.fail(e);
                None
            }
        }
    }))
}

impl<T: Data> Dataset<T> {
    /// Keeps the partitions once computed, for the rest of the job (keeping
    /// the key partitioning), as Spark's `MEMORY_AND_DISK`: in memory while
    /// the dataset's cached partitions take at most half of the execution
    /// memory budget, the rest compressed on disk.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    /// let ctx = Context::new("local[2]").unwrap();
    /// let n = ctx.run(|| {
    ///     let squares = parallelize((1..=4).collect::<Vec<u64>>(), Some(2)).map(|x| x * x).cache();
    ///     squares.union(&squares).count()
    /// });
    /// assert_eq!(n.unwrap(), 8);
    /// ```
    pub fn cache(&self) -> Dataset<T> {
        let partitions = self.num_partitions();
        let node = Cached {
            id: scope::next_id(),
            parent: self.node.clone(),
            state: Mutex::new(State {
                blocks: (0..partitions).map(|_| None).collect(),
                held: None,
            }),
        };
        let mut out = Dataset::from_node(Arc::new(node));
        out.hash_partitions = self.hash_partitions;
        out
    }
}
