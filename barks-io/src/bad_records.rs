//! What a CSV or JSON lines source does with a record it cannot parse:
//! Spark's three modes, typed.
//!
//! - **FailFast** (the default): the task fails with an [`Error::Input`]
//!   naming the file, the line and the field.
//! - **DropMalformed**: the record is skipped and counted. The count of an
//!   input path is read on the driver with [`dropped_records`] after the job
//!   ran.
//! - **Permissive**: nothing is dropped: `csv_file_permissive` and
//!   `json_file_permissive` yield `Result<T, BadRecord>`, where a
//!   [`BadRecord`] keeps the raw text (Spark's `_corrupt_record` column) with
//!   its file, line and error.
//!
//! Dropped-record counts are kept per partition of the read, in the process
//! that runs the tasks, and a re-read partition (a retried task, the same job
//! run again) replaces its count rather than adding to it, so the count is
//! exact however often a partition is read. They are complete in local mode;
//! in a cluster each worker process holds the counts of the partitions it
//! read (use the permissive form and count the `Err`s in the job when a
//! cluster-wide count is needed).

use barks_runtime::{BoxIter, Error, ErrorSink};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

/// What a typed source does with a record it cannot parse (see the module
/// docs; the permissive mode is a separate source function because it
/// changes the element type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BadRecordMode {
    /// Fail the job with an error naming file, line and field.
    #[default]
    FailFast,
    /// Skip the record and count it (see [`dropped_records`]).
    DropMalformed,
}

/// A record that could not be parsed, as the permissive sources yield it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRecord {
    /// The file it was read from.
    pub file: String,
    /// Its 1-based line number in the (decompressed) file.
    pub line: u64,
    /// Its text (for CSV, the record's fields re-joined with the delimiter).
    pub raw: String,
    /// Why it could not be parsed, naming the field where known.
    pub error: String,
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: line {}: {}", self.file, self.line, self.error)
    }
}

impl From<BadRecord> for Error {
    fn from(bad: BadRecord) -> Error {
        Error::Input {
            location: format!("{}: line {}", bad.file, bad.line),
            message: bad.error,
        }
    }
}

/// Which rows a source yields for records that were parsed or not: the
/// typed modes yield `T`, [`Permissive`] yields `Result<T, BadRecord>`.
pub(crate) trait Outcome<T>: Send + Sync + 'static {
    type Item: Send + 'static;
    /// Called once when the source is built, with the input path as given.
    fn prepare(&self, path: &str, partitions: usize);
    /// The rows of one partition.
    fn rows(
        &self,
        records: BoxIter<Result<T, BadRecord>>,
        errors: ErrorSink,
        path: &str,
        partition: usize,
    ) -> BoxIter<Self::Item>;
}

impl<T: Send + 'static> Outcome<T> for BadRecordMode {
    type Item = T;

    fn prepare(&self, path: &str, partitions: usize) {
        if *self == BadRecordMode::DropMalformed {
            register_drops(path, partitions);
        }
    }

    fn rows(
        &self,
        records: BoxIter<Result<T, BadRecord>>,
        errors: ErrorSink,
        path: &str,
        partition: usize,
    ) -> BoxIter<T> {
        apply_mode(records, *self, errors, DropSlot::open(path, partition))
    }
}

/// Spark's PERMISSIVE mode: every record comes through, parsed or not.
pub(crate) struct Permissive;

impl<T: Send + 'static> Outcome<T> for Permissive {
    type Item = Result<T, BadRecord>;

    fn prepare(&self, _: &str, _: usize) {}

    fn rows(
        &self,
        records: BoxIter<Result<T, BadRecord>>,
        _: ErrorSink,
        _: &str,
        _: usize,
    ) -> BoxIter<Self::Item> {
        records
    }
}

/// The records of one partition, each parsed or not, turned into the rows
/// `mode` keeps.
fn apply_mode<T: Send + 'static>(
    records: BoxIter<Result<T, BadRecord>>,
    mode: BadRecordMode,
    errors: ErrorSink,
    counter: DropSlot,
) -> BoxIter<T> {
    match mode {
        BadRecordMode::FailFast => Box::new(records.map_while(move |r| match r {
            Ok(row) => Some(row),
            Err(bad) => {
                errors.fail(bad.into());
                None
            }
        })),
        BadRecordMode::DropMalformed => Box::new(records.filter_map(move |r| match r {
            Ok(row) => Some(row),
            Err(_) => {
                counter.add_one();
                None
            }
        })),
    }
}

type Counts = HashMap<String, Arc<Vec<AtomicU64>>>;

static DROPPED: LazyLock<Mutex<Counts>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Creates (or resets) the per-partition drop counts of a read of `path`
/// in `partitions` partitions.
fn register_drops(path: &str, partitions: usize) {
    let slots = (0..partitions).map(|_| Default::default()).collect();
    DROPPED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(path.to_string(), Arc::new(slots));
}

/// The counter of one partition of a read, reset to zero when it is opened.
struct DropSlot(Option<(Arc<Vec<AtomicU64>>, usize)>);

impl DropSlot {
    fn open(path: &str, partition: usize) -> DropSlot {
        let all = DROPPED.lock().unwrap_or_else(|e| e.into_inner());
        let slots = all.get(path).filter(|s| partition < s.len()).cloned();
        if let Some(s) = &slots {
            s[partition].store(0, Ordering::Relaxed);
        }
        DropSlot(slots.map(|s| (s, partition)))
    }

    fn add_one(&self) {
        if let Some((slots, i)) = &self.0 {
            slots[*i].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// How many malformed records the last `BadRecordMode::DropMalformed` read
/// of `path` (spelled as it was given to the source) dropped, in the
/// partitions this process read (see the module docs).
pub fn dropped_records(path: &str) -> u64 {
    DROPPED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(path)
        .map_or(0, |slots| {
            slots.iter().map(|s| s.load(Ordering::Relaxed)).sum()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_counts_are_replaced_on_reread() {
        register_drops("drop-test", 2);
        for _ in 0..2 {
            for partition in 0..2 {
                let slot = DropSlot::open("drop-test", partition);
                slot.add_one();
                slot.add_one();
            }
            assert_eq!(dropped_records("drop-test"), 4);
        }
        assert_eq!(dropped_records("never-read"), 0);
    }
}
