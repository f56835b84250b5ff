//! Sources: where a pipeline's records come from. `parallelize` and `range`
//! live here; file and database sources implement [`Source`] in `barks-io`.

use crate::error::Result;
use crate::ops::dataset::Dataset;
use crate::plan::node::{AnyNode, Dep, ErrorSink, Node, TaskContext};
use crate::plan::scope;
use crate::records::BoxIter;
use std::sync::Arc;

/// A partitioned source of records. Implement it to add a connector.
///
/// `read` must be deterministic: a retried task, or a worker rebuilding the
/// plan, reads the same records for the same partition. It returns any
/// iterator wrapped with [`BoxIter::new`], or whole decoded batches with
/// [`BoxIter::from_chunks`].
///
/// ```
/// use barks_runtime::{BoxIter, Context, ErrorSink, Result, Source, from_source};
///
/// /// The squares of `0..n`, in `parts` partitions.
/// struct Squares {
///     n: u64,
///     parts: usize,
/// }
///
/// impl Source for Squares {
///     type Item = u64;
///     fn num_partitions(&self) -> usize {
///         self.parts
///     }
///     fn read(&self, partition: usize, _: ErrorSink) -> Result<BoxIter<u64>> {
///         let parts = self.parts as u64;
///         let (lo, hi) = (partition as u64 * self.n / parts, (partition as u64 + 1) * self.n / parts);
///         Ok(BoxIter::new((lo..hi).map(|i| i * i)))
///     }
/// }
///
/// let ctx = Context::new("local[2]").unwrap();
/// let total = ctx
///     .run(|| from_source(Squares { n: 10, parts: 3 }).reduce(|a, b| a + b))
///     .unwrap();
/// assert_eq!(total, Some(285));
/// ```
pub trait Source: Send + Sync + 'static {
    /// The records this source yields.
    type Item: Send + 'static;
    /// How many partitions the source splits into.
    fn num_partitions(&self) -> usize;
    /// Opens one partition. Errors found while iterating go to `errors`.
    fn read(&self, partition: usize, errors: ErrorSink) -> Result<BoxIter<Self::Item>>;
}

struct SourceNode<S> {
    id: usize,
    source: S,
}

impl<S: Source> AnyNode for SourceNode<S> {
    fn id(&self) -> usize {
        self.id
    }
    fn num_partitions(&self) -> usize {
        self.source.num_partitions()
    }
    fn deps(&self) -> Vec<Dep> {
        Vec::new()
    }
}

impl<S: Source> Node<S::Item> for SourceNode<S> {
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<S::Item>> {
        self.source.read(partition, tc.error_sink())
    }
}

/// A dataset read from `source`.
pub fn from_source<S: Source>(source: S) -> Dataset<S::Item> {
    Dataset::from_node(Arc::new(SourceNode {
        id: scope::next_id(),
        source,
    }))
}

/// Splits `len` items into `parts` contiguous ranges of near-equal size.
pub(crate) fn split_range(len: usize, parts: usize, index: usize) -> std::ops::Range<usize> {
    (index * len / parts)..((index + 1) * len / parts)
}

struct Parallelize<T> {
    data: Arc<Vec<T>>,
    partitions: usize,
}

impl<T: Clone + Send + Sync + 'static> Source for Parallelize<T> {
    type Item = T;
    fn num_partitions(&self) -> usize {
        self.partitions
    }
    fn read(&self, partition: usize, _: ErrorSink) -> Result<BoxIter<T>> {
        let data = self.data.clone();
        Ok(BoxIter::new(
            split_range(data.len(), self.partitions, partition).map(move |i| data[i].clone()),
        ))
    }
}

/// A dataset of the elements of `data`, split into `partitions` slices
/// (the default parallelism if `None`), in order.
pub fn parallelize<T: Clone + Send + Sync + 'static>(
    data: Vec<T>,
    partitions: Option<usize>,
) -> Dataset<T> {
    let partitions = partitions.unwrap_or_else(scope::default_parallelism).max(1);
    from_source(Parallelize {
        data: Arc::new(data),
        partitions,
    })
}

struct Range {
    start: i64,
    end: i64,
    step: i64,
    partitions: usize,
}

impl Range {
    fn len(&self) -> u64 {
        if (self.step > 0 && self.start >= self.end) || (self.step < 0 && self.start <= self.end) {
            return 0;
        }
        let span = (i128::from(self.end) - i128::from(self.start)).unsigned_abs();
        let step = i128::from(self.step).unsigned_abs();
        span.div_ceil(step) as u64
    }
}

impl Source for Range {
    type Item = i64;
    fn num_partitions(&self) -> usize {
        self.partitions
    }
    fn read(&self, partition: usize, _: ErrorSink) -> Result<BoxIter<i64>> {
        let len = self.len() as u128;
        let parts = self.partitions as u128;
        let (lo, hi) = (
            partition as u128 * len / parts,
            (partition as u128 + 1) * len / parts,
        );
        let (start, step) = (self.start, self.step);
        Ok(BoxIter::new((lo..hi).map(move |i| {
            (i128::from(start) + i as i128 * i128::from(step)) as i64
        })))
    }
}

/// The numbers `start, start+step, ...` up to but excluding `end`, in
/// `partitions` slices. A `step` of 0 is treated as 1.
pub fn range(start: i64, end: i64, step: i64, partitions: Option<usize>) -> Dataset<i64> {
    let partitions = partitions.unwrap_or_else(scope::default_parallelism).max(1);
    let step = if step == 0 { 1 } else { step };
    from_source(Range {
        start,
        end,
        step,
        partitions,
    })
}
