//! One [`Source`] for every line-oriented record format (CSV, JSON lines):
//! the input's partitions come from [`LineInput`], the format parses a
//! partition into records (each parsed or a [`BadRecord`]), and the outcome
//! (a [`BadRecordMode`](crate::BadRecordMode) or `Permissive`) decides which
//! rows come out.

use crate::bad_records::{BadRecord, Outcome};
use crate::line_input::{LineInput, OpenSplit};
use barks_runtime::{BoxIter, ErrorSink, Result, Source};

/// How one line-oriented format turns a partition's bytes into records.
pub(crate) trait RecordFormat: Send + Sync + 'static {
    type Row: Send + 'static;
    /// The records of one opened partition; I/O errors go to `errors`.
    fn records(
        &self,
        input: &LineInput,
        split: OpenSplit,
        errors: ErrorSink,
    ) -> Result<BoxIter<Result<Self::Row, BadRecord>>>;
}

/// Records of format `F` under outcome `O`.
pub(crate) struct LineSource<F, O> {
    path: String,
    /// The partitions, or the error that listing the input met (reported
    /// when the job runs, naming the path).
    input: Result<LineInput>,
    format: F,
    outcome: O,
}

impl<F: RecordFormat, O: Outcome<F::Row>> LineSource<F, O> {
    pub fn new(path: &str, input: Result<LineInput>, format: F, outcome: O) -> Self {
        let partitions = input.as_ref().map_or(1, LineInput::num_partitions);
        outcome.prepare(path, partitions);
        LineSource {
            path: path.to_string(),
            input,
            format,
            outcome,
        }
    }
}

impl<F: RecordFormat, O: Outcome<F::Row>> Source for LineSource<F, O> {
    type Item = O::Item;

    fn num_partitions(&self) -> usize {
        match &self.input {
            Ok(input) => input.num_partitions(),
            Err(_) => 1,
        }
    }

    fn read(&self, partition: usize, errors: ErrorSink) -> Result<BoxIter<O::Item>> {
        let input = self.input.as_ref().map_err(Clone::clone)?;
        let split = input.open(partition, errors.clone())?;
        let records = self.format.records(input, split, errors.clone())?;
        Ok(self.outcome.rows(records, errors, &self.path, partition))
    }
}
