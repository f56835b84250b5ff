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
//! Dropped records are counted with the runtime's task
//! [counters](barks_runtime::counters), one slot per partition of the read:
//! a partition's count travels with its task's result to the driver (from a
//! cluster worker too), a failed attempt's count is discarded, and a
//! partition read again (a retried task, a stage recomputed after a worker
//! was lost) replaces its count rather than adding to it. So
//! [`dropped_records`] is exact, in local mode and on a cluster, for the
//! last job run that read the path in `DropMalformed` mode (building that
//! job resets the count).

use barks_runtime::{BoxIter, Error, ErrorSink, counters};
use serde::{Deserialize, Serialize};
use std::fmt;

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

    fn prepare(&self, path: &str, _: usize) {
        if *self == BadRecordMode::DropMalformed {
            counters::reset(&drop_counter(path));
        }
    }

    fn rows(
        &self,
        records: BoxIter<Result<T, BadRecord>>,
        errors: ErrorSink,
        path: &str,
        partition: usize,
    ) -> BoxIter<T> {
        apply_mode(records, *self, errors, path, partition)
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

/// The records of partition `partition` of a read of `path`, each parsed
/// or not, turned into the rows `mode` keeps.
fn apply_mode<T: Send + 'static>(
    records: BoxIter<Result<T, BadRecord>>,
    mode: BadRecordMode,
    errors: ErrorSink,
    path: &str,
    partition: usize,
) -> BoxIter<T> {
    match mode {
        BadRecordMode::FailFast => BoxIter::new(records.map_while(move |r| match r {
            Ok(row) => Some(row),
            Err(bad) => {
                errors.fail(bad.into());
                None
            }
        })),
        BadRecordMode::DropMalformed => {
            let mut dropped = DropSlot::open(path, partition);
            BoxIter::new(records.filter_map(move |r| match r {
                Ok(row) => Some(row),
                Err(_) => {
                    dropped.add_one();
                    None
                }
            }))
        }
    }
}

/// The name of the task counter holding the drop counts of reads of `path`.
fn drop_counter(path: &str) -> String {
    format!("barks-io dropped records: {path}")
}

/// The drop count of one partition of a read, in the running task's
/// counters. It records the partition's count so far (rather than adding
/// one per record), so a task that reads the same partition twice (a
/// `cartesian` of a dataset with itself) still counts it once.
struct DropSlot {
    counter: String,
    partition: u64,
    dropped: u64,
}

impl DropSlot {
    /// Opens the count at zero: a partition that drops nothing still
    /// replaces what an earlier read of it counted.
    fn open(path: &str, partition: usize) -> DropSlot {
        let slot = DropSlot {
            counter: drop_counter(path),
            partition: partition as u64,
            dropped: 0,
        };
        counters::set(&slot.counter, slot.partition, 0);
        slot
    }

    fn add_one(&mut self) {
        self.dropped += 1;
        counters::set(&self.counter, self.partition, self.dropped);
    }
}

/// How many malformed records the last job run that read `path` (spelled as
/// it was given to the source) in `BadRecordMode::DropMalformed` mode
/// dropped, over all its partitions (see the module docs).
pub fn dropped_records(path: &str) -> u64 {
    counters::total(&drop_counter(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CsvOptions, csv_file};
    use barks_runtime::Context;

    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct Row {
        id: u32,
        name: String,
    }

    /// Reads `path` in `mode` in `partitions` partitions on `local[3]`.
    fn read(path: &str, mode: BadRecordMode, partitions: usize) -> Vec<Row> {
        let options = CsvOptions::new().mode(mode).min_partitions(partitions);
        Context::new("local[3]")
            .unwrap()
            .run(|| csv_file(path, options).collect())
            .unwrap()
    }

    #[test]
    fn drop_counts_are_per_read_and_replaced_on_reread() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("drops.csv");
        let mut text = String::from("id,name\n");
        for i in 0..300u32 {
            if i % 7 == 0 {
                text.push_str(&format!("not-a-number-{i},x\n"));
            } else {
                text.push_str(&format!("{i},é{i}\n"));
            }
        }
        std::fs::write(&file, text).unwrap();
        let path = file.display().to_string();
        for partitions in [1, 4, 9] {
            let rows = read(&path, BadRecordMode::DropMalformed, partitions);
            let ids: Vec<u32> = rows.iter().map(|r| r.id).collect();
            assert_eq!(ids, (0..300).filter(|i| i % 7 != 0).collect::<Vec<_>>());
            assert!(rows.iter().all(|r| r.name == format!("é{}", r.id)));
            assert_eq!(dropped_records(&path), 43, "{partitions} partitions");
        }
        // A FailFast read counts nothing and leaves the count alone...
        let err = Context::new("local[2]")
            .unwrap()
            .run(|| csv_file::<Row>(&path, CsvOptions::new()).collect())
            .unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert_eq!(dropped_records(&path), 43);
        // ...and a clean input read again counts zero.
        std::fs::write(&file, "id,name\n1,a\n").unwrap();
        assert_eq!(read(&path, BadRecordMode::DropMalformed, 2).len(), 1);
        assert_eq!(dropped_records(&path), 0);
        assert_eq!(dropped_records("never-read"), 0);
    }
}
