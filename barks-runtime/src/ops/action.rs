//! Actions: what a pipeline outputs. Each runs one function per partition on
//! the workers and merges the partition results on the driver, in partition
//! order.

use crate::agg::fast_map::FastMap;
use crate::data::{Data, Key};
use crate::error::Result;
use crate::ops::by_key::Pair;
use crate::ops::dataset::Dataset;
use crate::plan::node::{AnyNode, ErasedAction, ErrorSink, Node, PartResult, TaskContext};
use crate::records::BoxIter;
use crate::records::codec::{decode, encode_any, encoded_len_any};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::collections::{BinaryHeap, HashMap};
use std::marker::PhantomData;
use std::sync::Arc;

/// The output of a pipeline: an action on a dataset, producing an `R` on the
/// driver when the job runs.
pub struct Output<R> {
    pub(crate) action: Arc<dyn ErasedAction>,
    _r: PhantomData<fn() -> R>,
}

impl<R> Output<R> {
    fn new(action: impl ErasedAction + 'static) -> Self {
        Output {
            action: Arc::new(action),
            _r: PhantomData,
        }
    }
}

/// Checks that a pipeline's output matches the job's declared return type.
#[diagnostic::on_unimplemented(
    message = "this pipeline outputs `{Self}`, but the job declares that it returns `{R}`",
    label = "the pipeline's last action produces a different type",
    note = "change the job's return type to the action's result, or end the pipeline with an action that yields `{R}`"
)]
pub trait JobOutput<R> {
    /// The output as the engine runs it.
    fn into_output(self) -> Output<R>;
}

impl<R> JobOutput<R> for Output<R> {
    fn into_output(self) -> Output<R> {
        self
    }
}

/// Checks that a job's declared return type (`Self`) is its pipeline's
/// result `A`; `#[barks::job]` calls [`Output::declared`] on the pipeline.
/// (The declared type is `Self` so that it also drives inference: an action
/// whose result type is left open, e.g. `.action(.., |parts| ...collect())`,
/// gets the declared one.)
#[diagnostic::on_unimplemented(
    message = "this pipeline outputs `{A}`, but the job declares that it returns `{Self}`",
    label = "the job declares `{Self}` here",
    note = "change the job's return type to `{A}`, or end the pipeline with an action that produces `{Self}`"
)]
pub trait Returns<A>: Sized {
    /// The output, typed as the job declares it.
    fn cast(output: Output<A>) -> Output<Self>;
}

#[diagnostic::do_not_recommend]
impl<R> Returns<R> for R {
    fn cast(output: Output<R>) -> Output<R> {
        output
    }
}

impl<A> Output<A> {
    /// The output as a job declared to return `R` runs it (see [`Returns`]).
    /// A method, so that `A` comes from the output before `R: Returns<A>`
    /// is checked: a mismatch is reported with `Returns`' message.
    #[doc(hidden)]
    pub fn declared<R: Returns<A>>(self) -> Output<R> {
        R::cast(self)
    }
}

/// A result that can travel from a task to the driver.
pub trait PartData: Serialize + DeserializeOwned + Send + 'static {}
impl<T: Serialize + DeserializeOwned + Send + 'static> PartData for T {}

struct FnAction<T, A, R, P, M> {
    node: Arc<dyn Node<T>>,
    per_partition: P,
    merge: M,
    _types: PhantomData<fn() -> (A, R)>,
}

impl<T, A, R, P, M> ErasedAction for FnAction<T, A, R, P, M>
where
    T: 'static,
    A: PartData,
    R: Send + 'static,
    P: Fn(BoxIter<T>) -> A + Send + Sync,
    M: Fn(Vec<A>) -> R + Send + Sync,
{
    fn node(&self) -> Arc<dyn AnyNode> {
        self.node.clone()
    }
    fn run(&self, partition: usize, tc: &TaskContext) -> Result<PartResult> {
        Ok(Box::new((self.per_partition)(
            self.node.compute(partition, tc)?,
        )))
    }
    fn merge(&self, parts: Vec<PartResult>) -> Result<Box<dyn Any + Send>> {
        let parts = parts
            .into_iter()
            .filter_map(|p| p.downcast::<A>().ok().map(|a| *a))
            .collect();
        Ok(Box::new((self.merge)(parts)))
    }
    fn encode_result(&self, part: &PartResult) -> Result<Vec<u8>> {
        encode_any::<A>(part.as_ref(), "partition result")
    }
    fn result_size(&self, part: &PartResult) -> Result<u64> {
        encoded_len_any::<A>(part.as_ref(), "partition result")
    }
    fn decode_result(&self, bytes: &[u8]) -> Result<PartResult> {
        Ok(Box::new(decode::<A>(bytes, "partition result")?))
    }
}

/// A destination for a dataset's records, written partition by partition
/// and committed as a whole only when every partition succeeded.
pub trait Sink<T>: Send + Sync + 'static {
    /// What a task reports after writing its partition (e.g. a file name).
    type TaskCommit: PartData;
    /// Runs on the driver before any task: e.g. refuse an existing output.
    fn prepare(&self) -> Result<()>;
    /// Writes one partition; `attempt` distinguishes retries of the same task.
    fn write(
        &self,
        partition: usize,
        attempt: u32,
        records: BoxIter<T>,
        errors: ErrorSink,
    ) -> Result<Self::TaskCommit>;
    /// Makes the output visible, once every partition has been written.
    fn commit(&self, tasks: Vec<Self::TaskCommit>) -> Result<()>;
    /// Removes whatever the job wrote, after a failure.
    fn abort(&self);
}

struct SinkAction<T, S> {
    node: Arc<dyn Node<T>>,
    sink: S,
}

impl<T: 'static, S: Sink<T>> ErasedAction for SinkAction<T, S> {
    fn node(&self) -> Arc<dyn AnyNode> {
        self.node.clone()
    }
    fn prepare(&self) -> Result<()> {
        self.sink.prepare()
    }
    fn run(&self, partition: usize, tc: &TaskContext) -> Result<PartResult> {
        let records = self.node.compute(partition, tc)?;
        Ok(Box::new(self.sink.write(
            partition,
            tc.attempt,
            records,
            tc.error_sink(),
        )?))
    }
    fn merge(&self, parts: Vec<PartResult>) -> Result<Box<dyn Any + Send>> {
        let tasks = parts
            .into_iter()
            .filter_map(|p| p.downcast::<S::TaskCommit>().ok().map(|c| *c))
            .collect();
        self.sink.commit(tasks)?;
        Ok(Box::new(()))
    }
    fn abort(&self) {
        self.sink.abort();
    }
    fn encode_result(&self, part: &PartResult) -> Result<Vec<u8>> {
        encode_any::<S::TaskCommit>(part.as_ref(), "task commit")
    }
    fn result_size(&self, part: &PartResult) -> Result<u64> {
        encoded_len_any::<S::TaskCommit>(part.as_ref(), "task commit")
    }
    fn decode_result(&self, bytes: &[u8]) -> Result<PartResult> {
        Ok(Box::new(decode::<S::TaskCommit>(bytes, "task commit")?))
    }
}

impl<T: Data> Dataset<T> {
    /// A custom action: `per_partition` runs on each partition (on the
    /// workers), `merge` combines the results in partition order (on the
    /// driver), as Spark's `SparkContext.runJob` does for every action.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// // Per partition: its size (on the workers); merged: the list (on the driver).
    /// let sizes = ctx
    ///     .run(|| {
    ///         parallelize(vec![1, 2, 3, 4, 5], Some(2)).action(|it| it.count(), |parts| parts)
    ///     })
    ///     .unwrap();
    /// assert_eq!(sizes, vec![2, 3]);
    /// ```
    pub fn action<A, R, P, M>(&self, per_partition: P, merge: M) -> Output<R>
    where
        A: PartData,
        R: Send + 'static,
        P: Fn(BoxIter<T>) -> A + Send + Sync + 'static,
        M: Fn(Vec<A>) -> R + Send + Sync + 'static,
    {
        Output::new(FnAction {
            node: self.node.clone(),
            per_partition,
            merge,
            _types: PhantomData,
        })
    }

    /// Writes every partition to `sink` and commits it when all succeeded
    /// (what Spark's `saveAs*` actions do through an output committer).
    ///
    /// ```
    /// use barks_runtime::{BoxIter, Context, ErrorSink, Result, Sink, parallelize};
    /// use std::sync::Mutex;
    ///
    /// static SAVED: Mutex<Vec<i32>> = Mutex::new(Vec::new());
    /// struct Memory; // a sink that keeps the records, in partition order
    /// impl Sink<i32> for Memory {
    ///     type TaskCommit = Vec<i32>;
    ///     fn prepare(&self) -> Result<()> {
    ///         Ok(())
    ///     }
    ///     fn write(
    ///         &self,
    ///         _: usize,
    ///         _: u32,
    ///         records: BoxIter<i32>,
    ///         _: ErrorSink,
    ///     ) -> Result<Vec<i32>> {
    ///         Ok(records.collect())
    ///     }
    ///     fn commit(&self, tasks: Vec<Vec<i32>>) -> Result<()> {
    ///         SAVED.lock().unwrap().extend(tasks.concat());
    ///         Ok(())
    ///     }
    ///     fn abort(&self) {}
    /// }
    /// let ctx = Context::new("local[2]").unwrap();
    /// ctx.run(|| parallelize(vec![1, 2, 3], Some(2)).write(Memory)).unwrap();
    /// assert_eq!(*SAVED.lock().unwrap(), vec![1, 2, 3]);
    /// ```
    pub fn write<S: Sink<T>>(&self, sink: S) -> Output<()> {
        Output::new(SinkAction {
            node: self.node.clone(),
            sink,
        })
    }

    /// All records, in partition order.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let all = ctx.run(|| parallelize(vec![3, 1, 2], Some(2)).collect()).unwrap();
    /// assert_eq!(all, vec![3, 1, 2]);
    /// ```
    pub fn collect(&self) -> Output<Vec<T>> {
        self.action(
            |it| it.into_vec(),
            |parts| {
                let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
                parts.into_iter().for_each(|p| all.extend(p));
                all
            },
        )
    }

    /// The number of records.
    ///
    /// ```
    /// use barks_runtime::{Context, range};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let n = ctx.run(|| range(0, 10, 1, Some(3)).filter(|x| x % 3 == 0).count()).unwrap();
    /// assert_eq!(n, 4);
    /// ```
    pub fn count(&self) -> Output<u64> {
        self.action(|it| it.count() as u64, |parts| parts.into_iter().sum())
    }

    /// The first record, if any.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let first = ctx.run(|| parallelize(vec![5, 6, 7], Some(2)).first()).unwrap();
    /// assert_eq!(first, Some(5));
    /// let none =
    ///     ctx.run(|| parallelize(vec![5, 6, 7], Some(2)).filter(|x| *x > 9).first()).unwrap();
    /// assert_eq!(none, None);
    /// ```
    pub fn first(&self) -> Output<Option<T>> {
        self.action(
            |mut it| it.next(),
            |parts| parts.into_iter().flatten().next(),
        )
    }

    /// The first `n` records, in partition order.
    ///
    /// ```
    /// use barks_runtime::{Context, range};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let head = ctx.run(|| range(0, 100, 1, Some(4)).take(3)).unwrap();
    /// assert_eq!(head, vec![0, 1, 2]);
    /// ```
    pub fn take(&self, n: usize) -> Output<Vec<T>> {
        self.action(
            move |it| it.take(n).collect::<Vec<T>>(),
            move |parts| parts.into_iter().flatten().take(n).collect(),
        )
    }

    /// The `n` smallest records, ascending (Spark's `takeOrdered`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let smallest =
    ///     ctx.run(|| parallelize(vec![5, 1, 4, 2, 3], Some(2)).take_ordered(2)).unwrap();
    /// assert_eq!(smallest, vec![1, 2]);
    /// ```
    pub fn take_ordered(&self, n: usize) -> Output<Vec<T>>
    where
        T: Ord,
    {
        self.action(
            move |it| smallest(it, n),
            move |parts| smallest(parts.into_iter().flatten(), n),
        )
    }

    /// The `n` largest records, descending.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let largest = ctx.run(|| parallelize(vec![5, 1, 4, 2, 3], Some(2)).top(2)).unwrap();
    /// assert_eq!(largest, vec![5, 4]);
    /// ```
    pub fn top(&self, n: usize) -> Output<Vec<T>>
    where
        T: Ord,
    {
        let largest = move |it: &mut dyn Iterator<Item = T>| {
            let mut v: Vec<T> = smallest(it.map(std::cmp::Reverse), n)
                .into_iter()
                .map(|r| r.0)
                .collect();
            v.truncate(n);
            v
        };
        self.action(
            move |mut it| largest(&mut it),
            move |parts| largest(&mut parts.into_iter().flatten()),
        )
    }

    /// Merges all records with `f`; `None` for an empty dataset.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let sum =
    ///     ctx.run(|| parallelize(vec![1, 2, 3, 4, 5], Some(2)).reduce(|a, b| a + b)).unwrap();
    /// assert_eq!(sum, Some(15));
    /// let empty =
    ///     ctx.run(|| parallelize(Vec::<i32>::new(), Some(2)).reduce(|a, b| a + b)).unwrap();
    /// assert_eq!(empty, None);
    /// ```
    pub fn reduce<F: Fn(T, T) -> T + Send + Sync + 'static>(&self, f: F) -> Output<Option<T>> {
        let f = Arc::new(f);
        let g = f.clone();
        self.action(
            move |it| it.reduce(|a, b| f(a, b)),
            move |parts| parts.into_iter().flatten().reduce(|a, b| g(a, b)),
        )
    }

    /// Folds each partition from `zero`, then the partition results from `zero`
    /// (as Spark's `fold`: a `zero` that is not neutral for `f` counts once per
    /// partition, plus once).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let data = || parallelize(vec![1, 2, 3, 4], Some(2));
    /// assert_eq!(ctx.run(|| data().fold(0, |a, b| a + b)).unwrap(), 10);
    /// // As in Spark, `zero` starts each partition and the merge: 1 + (1+1+2) + (1+3+4).
    /// assert_eq!(ctx.run(|| data().fold(1, |a, b| a + b)).unwrap(), 13);
    /// ```
    pub fn fold<F: Fn(T, T) -> T + Send + Sync + 'static>(&self, zero: T, f: F) -> Output<T> {
        let f = Arc::new(f);
        let g = f.clone();
        let z = zero.clone();
        self.action(
            move |it| it.fold(z.clone(), |a, b| f(a, b)),
            move |parts| parts.into_iter().fold(zero.clone(), |a, b| g(a, b)),
        )
    }

    /// Folds each partition into a `U` with `seq` (from `zero`), then merges
    /// the partition results with `comb` (from `zero`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let (sum, count) = ctx
    ///     .run(|| {
    ///         parallelize(vec![1, 2, 3, 4], Some(2)).aggregate(
    ///             (0, 0u64),
    ///             |(s, n), x| (s + x, n + 1),
    ///             |(s, n), (t, m)| (s + t, n + m),
    ///         )
    ///     })
    ///     .unwrap();
    /// assert_eq!((sum, count), (10, 4));
    /// ```
    pub fn aggregate<U, F1, F2>(&self, zero: U, seq: F1, comb: F2) -> Output<U>
    where
        U: Data,
        F1: Fn(U, T) -> U + Send + Sync + 'static,
        F2: Fn(U, U) -> U + Send + Sync + 'static,
    {
        let z = zero.clone();
        self.action(
            move |it| it.fold(z.clone(), &seq),
            move |parts| parts.into_iter().fold(zero.clone(), &comb),
        )
    }

    /// How many times each distinct record occurs (Spark's `countByValue`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    /// use std::collections::HashMap;
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let counts =
    ///     ctx.run(|| parallelize(vec!['a', 'b', 'a'], Some(2)).count_by_value()).unwrap();
    /// assert_eq!(counts, HashMap::from([('a', 2), ('b', 1)]));
    /// ```
    pub fn count_by_value(&self) -> Output<HashMap<T, u64>>
    where
        T: Key,
    {
        self.map(|x| (x, 1u64))
            .reduce_by_key(|a, b| a + b)
            .collect_as_map()
    }

    /// How many records each key has (Spark's `countByKey`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    /// use std::collections::HashMap;
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let counts = ctx
    ///     .run(|| parallelize(vec![(1, 'x'), (2, 'y'), (1, 'z')], Some(2)).count_by_key())
    ///     .unwrap();
    /// assert_eq!(counts, HashMap::from([(1, 2), (2, 1)]));
    /// ```
    pub fn count_by_key(&self) -> Output<HashMap<T::K, u64>>
    where
        T: Pair,
    {
        self.map_values(|_| 1u64)
            .reduce_by_key(|a, b| a + b)
            .collect_as_map()
    }

    /// The records as a map from key to value (Spark's `collectAsMap`; a later
    /// value of a key wins).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    /// use std::collections::HashMap;
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let map = ctx
    ///     .run(|| parallelize(vec![(1, 'a'), (2, 'b'), (1, 'c')], Some(2)).collect_as_map())
    ///     .unwrap();
    /// assert_eq!(map, HashMap::from([(1, 'c'), (2, 'b')])); // the later value of key 1 wins
    /// ```
    pub fn collect_as_map(&self) -> Output<HashMap<T::K, T::V>>
    where
        T: Pair,
    {
        let pairs = T::pairs(self);
        pairs.action(
            |it| {
                it.collect::<FastMap<T::K, T::V>>()
                    .into_iter()
                    .collect::<Vec<_>>()
            },
            |parts| parts.into_iter().flatten().collect(),
        )
    }

    /// Runs `f` on every partition's records, for its side effects (Spark's
    /// `foreachPartition`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// static SEEN: AtomicUsize = AtomicUsize::new(0);
    /// ctx.run(|| {
    ///     parallelize(vec![1, 2, 3], Some(3)).for_each_partition(|_| {
    ///         SEEN.fetch_add(1, Ordering::Relaxed);
    ///     })
    /// })
    /// .unwrap();
    /// assert_eq!(SEEN.load(Ordering::Relaxed), 3);
    /// ```
    pub fn for_each_partition<F: Fn(BoxIter<T>) + Send + Sync + 'static>(
        &self,
        f: F,
    ) -> Output<()> {
        self.action(f, |_| ())
    }

    /// Runs `f` on every record, for its side effects (Spark's `foreach`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    /// use std::sync::atomic::{AtomicI64, Ordering};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// static SUM: AtomicI64 = AtomicI64::new(0);
    /// ctx.run(|| {
    ///     parallelize(vec![1, 2, 3], Some(2)).for_each(|x| {
    ///         SUM.fetch_add(x, Ordering::Relaxed);
    ///     })
    /// })
    /// .unwrap();
    /// assert_eq!(SUM.load(Ordering::Relaxed), 6);
    /// ```
    pub fn for_each<F: Fn(T) + Send + Sync + 'static>(&self, f: F) -> Output<()> {
        self.action(move |it| it.for_each(&f), |_| ())
    }
}

/// The `n` smallest items, ascending (a bounded max-heap).
fn smallest<T: Ord>(items: impl Iterator<Item = T>, n: usize) -> Vec<T> {
    let mut heap = BinaryHeap::with_capacity(n + 1);
    for x in items {
        if heap.len() < n {
            heap.push(x);
        } else if let Some(mut top) = heap.peek_mut()
            && x < *top
        {
            *top = x;
        }
    }
    heap.into_sorted_vec()
}
