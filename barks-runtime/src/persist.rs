//! Datasets kept in memory across jobs: `persist()` is an action that stores
//! every partition and returns a small [`Persisted`] handle; a later job gets
//! the handle as an argument and reads it with `persisted(handle)`. This is
//! how a driver loop (k-means) avoids re-reading its input every iteration.

use crate::action::Output;
use crate::data::Data;
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::node::{BoxIter, ErrorSink, Shared};
use crate::source::{Source, from_source};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

static BLOCKS: LazyLock<Mutex<HashMap<u64, Vec<Shared>>>> = LazyLock::new(Default::default);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

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
    /// Frees the stored partitions; later reads of the handle fail.
    pub fn unpersist(self) {
        BLOCKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

impl<T: Data> Dataset<T> {
    /// Computes the dataset and keeps it in memory; the handle reads it back
    /// in later jobs, with the same partitions.
    pub fn persist(&self) -> Output<Persisted<T>> {
        self.action(
            |it| it.collect::<Vec<T>>(),
            |parts| {
                let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                let partitions = parts.len();
                let blocks = parts.into_iter().map(|p| Arc::new(p) as Shared).collect();
                BLOCKS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id, blocks);
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
        let gone = || {
            Error::Plan(format!(
                "{:?} is not in memory: it was unpersisted, or made by another process",
                self.0
            ))
        };
        let block = BLOCKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&self.0.id)
            .and_then(|b| b.get(partition).cloned());
        let records = block
            .ok_or_else(gone)?
            .downcast::<Vec<T>>()
            .map_err(|_| gone())?;
        Ok(Box::new(
            (0..records.len()).map(move |i| records[i].clone()),
        ))
    }
}

/// Reads a dataset stored by an earlier job's `persist()`.
pub fn persisted<T: Data>(handle: Persisted<T>) -> Dataset<T> {
    from_source(PersistedSource(handle))
}
