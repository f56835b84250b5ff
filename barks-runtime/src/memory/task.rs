//! What one running task uses of its process's memory: [`TaskMemory`], the
//! handle its operators reserve memory and spill through, and the
//! [`MemoryMetrics`] it leaves.
//!
//! The engine makes a `TaskMemory` for every task attempt and installs it
//! on the task's thread (operators run there, as counters require too);
//! [`current_task`] finds it. When the task ends its metrics are recorded
//! as [counters](crate::counters) under the names in [`MemoryMetrics`], in
//! the task's own slot, so they travel with the task's result, count only
//! successful attempts, and sum to the job's totals
//! ([`MemoryMetrics::last_job`], also logged at `BARKS_LOG=info`).
//!
//! ```
//! use barks_runtime::memory::{MemoryMetrics, current_task};
//! use barks_runtime::{Context, range};
//!
//! let ctx = Context::builder("local[2]").memory(64 << 20).build().unwrap();
//! let total = ctx
//!     .run(|| {
//!         range(0, 1000, 1, Some(4))
//!             .map_partitions(|rows| {
//!                 let task = current_task();
//!                 let mut reservation = task.reserve("a buffer", true);
//!                 let buffered: Vec<i64> = rows.collect();
//!                 reservation.try_grow(8 * buffered.len() as u64).unwrap();
//!                 buffered.into_iter()
//!             })
//!             .count()
//!     })
//!     .unwrap();
//! assert_eq!(total, 1000);
//! assert_eq!(MemoryMetrics::last_job().peak_bytes, 8000);
//! ```

use super::Memory;
use super::budget::{MemoryBudget, Reservation};
use super::options::MemoryOptions;
use crate::counters::{self, JobCounters};
use crate::error::{Error, Result};
use crate::plan::node::ErrorSink;
use crate::spill::file::SpillFile;
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One task attempt's use of the process's memory (see the
/// [module docs](self)).
#[derive(Debug)]
pub struct TaskMemory {
    memory: Arc<Memory>,
    run: u64,
    /// `stage-S-part-P`, for the names of the task's spill files.
    name: String,
    usage: Arc<Usage>,
    errors: ErrorSink,
    spilled_bytes: AtomicU64,
    files_written: AtomicU64,
    files_read: AtomicU64,
}

/// Bytes held now and at most by a task's reservations.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    current: AtomicU64,
    peak: AtomicU64,
}

impl Usage {
    pub(crate) fn grew(&self, bytes: u64) {
        let now = self.current.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    pub(crate) fn shrank(&self, bytes: u64) {
        self.current.fetch_sub(bytes, Ordering::Relaxed);
    }
}

impl TaskMemory {
    /// The memory of task `partition` of `stage` in job run `run`, which
    /// reports errors to `errors`.
    pub(crate) fn new(
        memory: Arc<Memory>,
        run: u64,
        (stage, partition): (usize, usize),
        errors: ErrorSink,
    ) -> Arc<Self> {
        Arc::new(TaskMemory {
            memory,
            run,
            name: format!("stage-{stage}-part-{partition}"),
            usage: Arc::default(),
            errors,
            spilled_bytes: AtomicU64::new(0),
            files_written: AtomicU64::new(0),
            files_read: AtomicU64::new(0),
        })
    }

    /// The process's budget.
    pub fn budget(&self) -> &Arc<MemoryBudget> {
        &self.memory.budget
    }

    /// A reservation of the process's budget for `operator`, counted in this
    /// task's metrics (see [`MemoryBudget::reservation`]).
    pub fn reserve(&self, operator: impl Into<String>, spillable: bool) -> Reservation {
        self.memory
            .budget
            .reservation(operator, spillable)
            .counted_in(self.usage.clone())
    }

    /// Counts `bytes` reserved by a pool of another engine that accounts
    /// with the budget's raw interface (DataFusion's `MemoryPool`).
    pub fn grew(&self, bytes: u64) {
        self.usage.grew(bytes);
    }

    /// Counts `bytes` given back (see [`grew`](Self::grew)).
    pub fn shrank(&self, bytes: u64) {
        self.usage.shrank(bytes);
    }

    /// Writes `segments` to a new spill file of this task; `what` names the
    /// operator's data in the file name.
    pub(crate) fn spill(&self, what: &str, segments: &[Vec<u8>]) -> Result<SpillFile> {
        let file =
            self.memory
                .spills
                .write(self.run, &format!("{}-{what}", self.name), segments)?;
        self.count_spilled(file.len(), 1);
        Ok(file)
    }

    /// Counts `files` spill files of `bytes` in all written for this task
    /// (by barks, or by another engine such as DataFusion).
    pub fn count_spilled(&self, bytes: u64, files: u64) {
        self.spilled_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.files_written.fetch_add(files, Ordering::Relaxed);
    }

    /// Counts a spill file read back by this task.
    pub(crate) fn read_back(&self) {
        self.files_read.fetch_add(1, Ordering::Relaxed);
    }

    /// A directory for this job run's spill files written by another
    /// engine (DataFusion's disk manager); removed when the run ends.
    pub fn spill_dir(&self) -> Result<PathBuf> {
        let dir = self.memory.spills.dir()?.run_path(self.run);
        std::fs::create_dir_all(&dir).map_err(|e| {
            crate::error::Error::io(&dir, format!("cannot create a spill directory: {e}"))
        })?;
        Ok(dir)
    }

    /// Fails the task with `err` (from inside an iterator, which cannot
    /// return it): an operator that cannot go on within the budget, a
    /// spill file that cannot be written or read.
    pub fn fail(&self, err: Error) {
        self.errors.fail(err);
    }

    /// What this task has used so far.
    pub fn metrics(&self) -> MemoryMetrics {
        MemoryMetrics {
            peak_bytes: self.usage.peak.load(Ordering::Relaxed),
            spilled_bytes: self.spilled_bytes.load(Ordering::Relaxed),
            spill_files_written: self.files_written.load(Ordering::Relaxed),
            spill_files_read: self.files_read.load(Ordering::Relaxed),
        }
    }
}

/// What tasks used of the memory budget and the disk.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MemoryMetrics {
    /// The most bytes a task's reservations held at once (for a job: the
    /// sum over its tasks, as Spark's "peak execution memory" sums).
    pub peak_bytes: u64,
    /// Bytes written to spill files (compressed).
    pub spilled_bytes: u64,
    /// Spill files written.
    pub spill_files_written: u64,
    /// Spill files read back.
    pub spill_files_read: u64,
}

impl MemoryMetrics {
    /// The counter names the metrics travel under.
    pub const PEAK_BYTES: &str = "barks.memory.peak_bytes";
    /// See [`PEAK_BYTES`](Self::PEAK_BYTES).
    pub const SPILLED_BYTES: &str = "barks.spill.bytes";
    /// See [`PEAK_BYTES`](Self::PEAK_BYTES).
    pub const SPILL_FILES_WRITTEN: &str = "barks.spill.files_written";
    /// See [`PEAK_BYTES`](Self::PEAK_BYTES).
    pub const SPILL_FILES_READ: &str = "barks.spill.files_read";

    fn named(&self) -> [(&'static str, u64); 4] {
        [
            (Self::PEAK_BYTES, self.peak_bytes),
            (Self::SPILLED_BYTES, self.spilled_bytes),
            (Self::SPILL_FILES_WRITTEN, self.spill_files_written),
            (Self::SPILL_FILES_READ, self.spill_files_read),
        ]
    }

    /// Records the metrics of the running task as counters in `slot`.
    pub(crate) fn record(&self, slot: u64) {
        for (name, value) in self.named() {
            if value > 0 {
                counters::set(name, slot, value);
            }
        }
    }

    /// The totals of the last job this thread ran (`Context::run_job` and
    /// the like run a job on the caller's thread).
    pub fn last_job() -> MemoryMetrics {
        LAST_JOB.with(|last| last.get())
    }

    /// Keeps (and logs) the totals of job `job`'s successful tasks.
    pub(crate) fn finished_job(job: &str, counters: &JobCounters) {
        let totals = MemoryMetrics {
            peak_bytes: counters.total(Self::PEAK_BYTES),
            spilled_bytes: counters.total(Self::SPILLED_BYTES),
            spill_files_written: counters.total(Self::SPILL_FILES_WRITTEN),
            spill_files_read: counters.total(Self::SPILL_FILES_READ),
        };
        if !totals.is_empty() {
            log::info!("job `{job}`: {totals}");
        }
        LAST_JOB.with(|last| last.set(totals));
    }

    /// Whether anything was reserved or spilled.
    pub fn is_empty(&self) -> bool {
        *self == MemoryMetrics::default()
    }
}

impl std::fmt::Display for MemoryMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "peak memory {}, spilled {} in {} file(s), {} spill file(s) read",
            super::bytes(self.peak_bytes),
            super::bytes(self.spilled_bytes),
            self.spill_files_written,
            self.spill_files_read
        )
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<TaskMemory>>> = const { RefCell::new(None) };
    static LAST_JOB: Cell<MemoryMetrics> = const {
        Cell::new(MemoryMetrics {
            peak_bytes: 0,
            spilled_bytes: 0,
            spill_files_written: 0,
            spill_files_read: 0,
        })
    };
}

/// The memory of the task running on this thread. Outside a task (code on
/// the driver, a test): a detached one with an unlimited budget that
/// spills under the system temp directory.
pub fn current_task() -> Arc<TaskMemory> {
    CURRENT.with(|c| c.borrow().clone()).unwrap_or_else(|| {
        let options = MemoryOptions {
            memory: u64::MAX,
            spill_dir: std::env::temp_dir(),
        };
        TaskMemory::new(Memory::new(&options), 0, (0, 0), ErrorSink::detached())
    })
}

/// Runs `f` with `task` as this thread's task memory.
pub(crate) fn in_task<R>(task: Arc<TaskMemory>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<TaskMemory>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| *c.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.borrow_mut().replace(task)));
    f()
}
