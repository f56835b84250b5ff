//! A worker's shuffle map outputs, kept (typed, in memory) until their job
//! run ends, and cut into the block a reducer asks for when it asks.

use crate::error::{Error, Result};
use crate::node::{Shared, ShuffleDep};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Which map output: job run, shuffle id, map partition.
pub(crate) type BlockKey = (u64, usize, usize);

struct Stored {
    data: Shared,
    dep: Arc<dyn ShuffleDep>,
}

/// The map outputs this worker holds.
#[derive(Default)]
pub(crate) struct BlockStore {
    outputs: Mutex<HashMap<BlockKey, Stored>>,
}

impl BlockStore {
    /// Keeps the output of a finished map task.
    pub fn put(&self, key: BlockKey, data: Shared, dep: Arc<dyn ShuffleDep>) {
        self.lock().insert(key, Stored { data, dep });
    }

    /// The whole typed output, for a reducer on this same worker.
    pub fn local(&self, key: BlockKey) -> Option<Shared> {
        self.lock().get(&key).map(|s| s.data.clone())
    }

    /// The encoded block of map output `key` that reduce partition `reduce`
    /// reads, given the shuffle's encoded summary.
    pub fn encode(&self, key: BlockKey, reduce: usize, summary: &[u8]) -> Result<Vec<u8>> {
        let (data, dep) = {
            let outputs = self.lock();
            let stored = outputs.get(&key).ok_or_else(|| {
                Error::Plan(format!(
                    "this worker holds no output of map {} of shuffle {} (run {})",
                    key.2, key.1, key.0
                ))
            })?;
            (stored.data.clone(), stored.dep.clone())
        };
        let summary = dep.decode_summary(summary)?;
        dep.encode_block(&data, &summary, reduce)
    }

    /// Drops every output of job run `run`.
    pub fn drop_run(&self, run: u64) {
        self.lock().retain(|key, _| key.0 != run);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BlockKey, Stored>> {
        self.outputs.lock().unwrap_or_else(|e| e.into_inner())
    }
}
