//! Bounded memory: one execution memory budget per process
//! ([`MemoryBudget`]), shared by the operators of the running tasks through
//! [`Reservation`]s, and spilling what does not fit to local disk.
//!
//! - [`budget`]: the budget and its fair-share rule (DataFusion's
//!   `FairSpillPool`); reservations; the error of an operator that cannot
//!   go on.
//! - [`options`]: `--memory` / `BARKS_MEMORY`, `--spill-dir` /
//!   `BARKS_SPILL_DIR`, and the default (a share of the machine's memory or
//!   of the cgroup's limit).
//! - [`task`]: what one task uses: its reservations, its spill files, and
//!   the metrics (peak memory, bytes spilled, spill files written and read)
//!   that travel with its result as counters.

pub mod budget;
pub mod options;
pub mod task;

pub use budget::{MemoryBudget, Refused, Reservation, bytes};
pub use options::{
    DEFAULT_MAX_RESULT_SIZE, MAX_RESULT_SIZE_ENV, MEMORY_ENV, MemoryOptions, SPILL_DIR_ENV,
    default_memory, max_result_size_from_env, parse_bytes,
};
pub use task::{MemoryMetrics, TaskMemory, current_task};

use crate::spill::SpillArea;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a process gives the tasks it runs: the execution memory budget and
/// the place to spill to.
#[derive(Debug)]
pub(crate) struct Memory {
    pub budget: Arc<MemoryBudget>,
    pub spills: SpillArea,
    /// Numbers local job runs (a worker uses the driver's run numbers).
    runs: AtomicU64,
}

impl Memory {
    /// A budget of `options.memory` bytes, spilling under
    /// `options.spill_dir`.
    pub fn new(options: &MemoryOptions) -> Arc<Memory> {
        Arc::new(Memory {
            budget: MemoryBudget::new(options.memory),
            spills: SpillArea::new(options.spill_dir.clone()),
            runs: AtomicU64::new(0),
        })
    }

    /// A number for a new local job run.
    pub fn next_run(&self) -> u64 {
        self.runs.fetch_add(1, Ordering::Relaxed)
    }
}
