//! [`BatchIterator`]: a query's rows as they arrive on the driver.

use barks_runtime::{Error, Result};
use datafusion::arrow::record_batch::RecordBatch;
use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// What the thread running a query sends: a result partition's batches,
/// or the error that ended the query.
pub(crate) type Arrival = Result<Vec<RecordBatch>>;

/// A query's rows, batch by batch, in the order `collect` returns them,
/// yielded as soon as the result partition holding them (and every
/// partition before it) is done: the first rows come before the last task
/// ends, and the driver holds only what arrived and was not read yet (see
/// [`DataFrame::to_local_iterator`](crate::DataFrame::to_local_iterator)).
///
/// An error ends the iteration: it is the last item. Dropping the iterator
/// stops the query: once the next result partition is done, the job fails
/// quietly and starts no more tasks.
pub struct BatchIterator {
    arrivals: Receiver<Arrival>,
    ready: VecDeque<RecordBatch>,
    runner: Option<JoinHandle<()>>,
}

impl BatchIterator {
    /// An iterator over rows that are already here.
    pub(crate) fn ready(batches: Vec<RecordBatch>) -> BatchIterator {
        let (_, arrivals) = channel();
        BatchIterator {
            arrivals,
            ready: batches.into(),
            runner: None,
        }
    }

    /// Runs `query` on a thread of its own, which sends what arrives on the
    /// `Sender` it is given and then ends.
    pub(crate) fn spawn(
        query: impl FnOnce(Sender<Arrival>) + Send + 'static,
    ) -> Result<BatchIterator> {
        let (send, arrivals) = channel();
        let runner = std::thread::Builder::new()
            .name("barks-sql-rows".into())
            .spawn(move || query(send))
            .map_err(|e| Error::Internal(format!("cannot start the query's thread: {e}")))?;
        Ok(BatchIterator {
            arrivals,
            ready: VecDeque::new(),
            runner: Some(runner),
        })
    }
}

impl Iterator for BatchIterator {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            if let Some(batch) = self.ready.pop_front() {
                return Some(Ok(batch));
            }
            match self.arrivals.recv() {
                Ok(Ok(batches)) => self.ready.extend(batches),
                Ok(Err(err)) => return Some(Err(err)),
                // The query is over: its thread dropped its sender.
                Err(_) => {
                    let runner = self.runner.take()?;
                    return runner.join().err().map(|_| {
                        Err(Error::Internal(
                            "the thread running the query panicked".into(),
                        ))
                    });
                }
            }
        }
    }
}
