//! Datasets kept in memory across jobs: `persist()` is an action that stores
//! every partition and returns a small [`Persisted`] handle; a later job gets
//! the handle as an argument and reads it with `persisted(handle)`. This is
//! how a driver loop (k-means) avoids re-reading its input every iteration.

use crate::data::Data;
use crate::error::{Error, Result};
use crate::ops::action::Output;
use crate::ops::dataset::Dataset;
use crate::ops::source::{Source, from_source};
use crate::plan::node::{ErrorSink, Shared};
use crate::records::BoxIter;
use crate::records::codec::{decode, encode_shared};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

/// The persisted datasets of this driver (or local process). A cluster
/// worker holds none: its tasks fetch the partitions they read from the
/// driver (see [`fetch_missing_blocks_with`]).
static BLOCKS: LazyLock<Mutex<HashMap<u64, Stored>>> = LazyLock::new(Default::default);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Where a worker gets a persisted partition it does not hold: the driver.
pub(crate) type RemoteBlocks = Box<dyn Fn(u64, usize) -> Result<Vec<u8>> + Send + Sync>;
static REMOTE: std::sync::OnceLock<RemoteBlocks> = std::sync::OnceLock::new();

/// Makes this process fetch persisted partitions it lacks with `fetch`
/// (a cluster worker does this once, at start).
pub(crate) fn fetch_missing_blocks_with(fetch: RemoteBlocks) {
    let _ = REMOTE.set(fetch);
}

struct Stored {
    parts: Vec<Shared>,
    /// Encodes one partition (a `Vec<T>`), to send it to a worker.
    encode: fn(&Shared) -> Result<Vec<u8>>,
}

fn blocks() -> std::sync::MutexGuard<'static, HashMap<u64, Stored>> {
    BLOCKS.lock().unwrap_or_else(|e| e.into_inner())
}

fn encode_part<T: Data>(part: &Shared) -> Result<Vec<u8>> {
    encode_shared::<Vec<T>>(part.as_ref(), "persisted partition")
}

/// The encoded partition `partition` of persisted dataset `id`, for a worker.
pub(crate) fn encoded_block(id: u64, partition: usize) -> Result<Vec<u8>> {
    let (part, encode) = {
        let blocks = blocks();
        let stored = blocks.get(&id).ok_or_else(|| {
            Error::Plan(format!(
                "persisted dataset #{id} is not in memory on the driver"
            ))
        })?;
        let part = stored.parts.get(partition).cloned().ok_or_else(|| {
            Error::Plan(format!(
                "persisted dataset #{id} has no partition {partition}"
            ))
        })?;
        (part, stored.encode)
    };
    encode(&part)
}

/// A handle to a dataset kept in memory by [`Dataset::persist`]. It is plain
/// data: pass it to another job as an argument.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Persisted<T> {
    id: u64,
    partitions: usize,
    #[serde(skip)]
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Persisted<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Persisted<T> {}

impl<T> std::fmt::Debug for Persisted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Persisted(#{}, {} partitions)", self.id, self.partitions)
    }
}

impl<T> Persisted<T> {
    /// Frees the stored partitions (Spark's `unpersist`); later reads of the
    /// handle fail.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize, persisted};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let handle = ctx.run(|| parallelize(vec![1, 2, 3], Some(2)).persist()).unwrap();
    /// assert_eq!(ctx.run(move || persisted(handle).count()).unwrap(), 3);
    /// handle.unpersist();
    /// assert!(ctx.run(move || persisted(handle).count()).is_err());
    /// ```
    pub fn unpersist(self) {
        blocks().remove(&self.id);
    }
}

impl<T: Data> Dataset<T> {
    /// Computes the dataset and keeps it in memory; the handle reads it back
    /// in later jobs, with the same partitions. Unlike Spark's lazy
    /// `persist`, this is an action (it runs a job), and the copy is the
    /// driver's.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize, persisted};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let squares = ctx
    ///     .run(|| parallelize(vec![1, 2, 3, 4], Some(2)).map(|x| x * x).persist())
    ///     .unwrap();
    /// // A later job reads the stored partitions instead of computing them again.
    /// let parts = ctx.run(move || persisted(squares).glom().collect()).unwrap();
    /// assert_eq!(parts, vec![vec![1, 4], vec![9, 16]]);
    /// ```
    pub fn persist(&self) -> Output<Persisted<T>> {
        self.action(
            |it| it.collect::<Vec<T>>(),
            |parts| {
                let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                let partitions = parts.len();
                let parts = parts.into_iter().map(|p| Arc::new(p) as Shared).collect();
                blocks().insert(
                    id,
                    Stored {
                        parts,
                        encode: encode_part::<T>,
                    },
                );
                Persisted {
                    id,
                    partitions,
                    _t: PhantomData,
                }
            },
        )
    }
}

struct PersistedSource<T>(Persisted<T>);

impl<T: Data> Source for PersistedSource<T> {
    type Item = T;
    fn num_partitions(&self) -> usize {
        self.0.partitions
    }
    fn read(&self, partition: usize, _: ErrorSink) -> Result<BoxIter<T>> {
        let handle = self.0;
        let gone = || {
            Error::Plan(format!(
                "{handle:?} is not in memory: it was unpersisted, or made by another driver"
            ))
        };
        let local = blocks()
            .get(&handle.id)
            .and_then(|b| b.parts.get(partition).cloned());
        let block = match (local, REMOTE.get()) {
            (Some(block), _) => block,
            // Not kept on the worker: the driver's copy stays the only one, so
            // `unpersist` takes effect at once for every later job.
            (None, Some(fetch)) => {
                let records: Vec<T> = decode(&fetch(handle.id, partition)?, "persisted partition")?;
                Arc::new(records)
            }
            (None, None) => return Err(gone()),
        };
        let records = block.downcast::<Vec<T>>().map_err(|_| gone())?;
        Ok(BoxIter::new(
            (0..records.len()).map(move |i| records[i].clone()),
        ))
    }
}

/// Reads a dataset stored by an earlier job's `persist()`.
///
/// ```
/// use barks_runtime::{Context, parallelize, persisted};
///
/// let ctx = Context::new("local[2]").unwrap();
/// let words = ctx
///     .run(|| parallelize(vec!["a".to_string(), "b".to_string()], Some(2)).persist())
///     .unwrap();
/// let upper =
///     ctx.run(move || persisted(words).map(|w| w.to_uppercase()).collect()).unwrap();
/// assert_eq!(upper, ["A", "B"]);
/// ```
pub fn persisted<T: Data>(handle: Persisted<T>) -> Dataset<T> {
    from_source(PersistedSource(handle))
}
