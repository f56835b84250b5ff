//! [`Dataset`]: a typed, lazily built, partitioned collection, and its
//! element-wise (narrow) operators.

use crate::data::{Data, Key, SortKey};
use crate::error::Result;
use crate::ops::distinct::DistinctOf;
use crate::ops::narrow::{Cartesian, Coalesce, MapPartitions, Union};
use crate::plan::node::{ErrorSink, Node};
use crate::records::BoxIter;
use crate::shuffle;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// A partitioned collection of `T`, built lazily: operators add nodes to the
/// lineage graph and nothing runs until the pipeline's output action does.
///
/// ```
/// use barks_runtime::{Context, parallelize};
/// let ctx = Context::new("local[2]").unwrap();
/// let evens = ctx.run(|| {
///     parallelize((1..=10).collect::<Vec<i32>>(), Some(3))
///         .filter(|x| x % 2 == 0)
///         .map(|x| x * 10)
///         .collect()
/// });
/// assert_eq!(evens.unwrap(), vec![20, 40, 60, 80, 100]);
/// ```
pub struct Dataset<T> {
    pub(crate) node: Arc<dyn Node<T>>,
    /// `Some(n)` when records are hash-partitioned by key into `n`
    /// partitions, so a join or `*_by_key` on the same key can skip a shuffle.
    pub(crate) hash_partitions: Option<usize>,
    /// For the output of `distinct`, how to build it partitioned by key,
    /// for a by-key operator that reads it (see `distinct.rs`).
    pub(crate) distinct_of: Option<Arc<DistinctOf<T>>>,
}

impl<T> Clone for Dataset<T> {
    fn clone(&self) -> Self {
        Dataset {
            node: self.node.clone(),
            hash_partitions: self.hash_partitions,
            distinct_of: self.distinct_of.clone(),
        }
    }
}

impl<T: Send + 'static> Dataset<T> {
    pub(crate) fn from_node(node: Arc<dyn Node<T>>) -> Self {
        Dataset {
            node,
            hash_partitions: None,
            distinct_of: None,
        }
    }

    pub(crate) fn hash_partitioned(mut self, partitions: usize) -> Self {
        self.hash_partitions = Some(partitions);
        self
    }

    /// How many partitions the dataset has (Spark's `getNumPartitions`).
    ///
    /// ```
    /// use barks_runtime::{in_scope, parallelize};
    ///
    /// let n = in_scope(2, || parallelize(vec![1, 2, 3, 4, 5, 6], Some(3)).num_partitions());
    /// assert_eq!(n, 3);
    /// ```
    pub fn num_partitions(&self) -> usize {
        self.node.num_partitions()
    }

    /// The general narrow operator: `f(partition_index, records)` (Spark's
    /// `mapPartitionsWithIndex`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let tagged = ctx
    ///     .run(|| {
    ///         parallelize(vec!['a', 'b', 'c', 'd'], Some(2))
    ///             .map_partitions_with_index(|p, it| it.map(move |c| (p, c)))
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// assert_eq!(tagged, vec![(0, 'a'), (0, 'b'), (1, 'c'), (1, 'd')]);
    /// ```
    pub fn map_partitions_with_index<U, I, F>(&self, f: F) -> Dataset<U>
    where
        U: Send + 'static,
        I: IntoIterator<Item = U>,
        I::IntoIter: Send + 'static,
        F: Fn(usize, BoxIter<T>) -> I + Send + Sync + 'static,
    {
        self.try_map_partitions_with_index(move |p, it, _| Ok(f(p, it)))
    }

    /// Like [`map_partitions_with_index`](Self::map_partitions_with_index),
    /// for a partition function that can fail: it returns an error before
    /// yielding, or reports one while yielding through the task's
    /// [`ErrorSink`] (and ends early). Either way the task fails with the
    /// error, and is retried like any failed task.
    ///
    /// ```
    /// use barks_runtime::{Context, Error, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let parsed = ctx.run(|| {
    ///     parallelize(vec!["1", "2", "x"], Some(1))
    ///         .try_map_partitions_with_index(|_, lines, errors| {
    ///             let errors = errors.clone();
    ///             Ok(lines.map_while(move |line| match line.parse::<i32>() {
    ///                 Ok(n) => Some(n),
    ///                 Err(e) => {
    ///                     errors.fail(Error::Input { location: line.into(), message: e.to_string() });
    ///                     None
    ///                 }
    ///             }))
    ///         })
    ///         .collect()
    /// });
    /// assert!(parsed.unwrap_err().to_string().contains("x: invalid digit"));
    /// ```
    pub fn try_map_partitions_with_index<U, I, F>(&self, f: F) -> Dataset<U>
    where
        U: Send + 'static,
        I: IntoIterator<Item = U>,
        I::IntoIter: Send + 'static,
        F: Fn(usize, BoxIter<T>, &ErrorSink) -> Result<I> + Send + Sync + 'static,
    {
        Dataset::from_node(Arc::new(MapPartitions::new(
            self.node.clone(),
            move |p, it, errors: &ErrorSink| Ok(f(p, it, errors)?.into_iter()),
        )))
    }

    /// Like [`map_partitions_with_index`](Self::map_partitions_with_index),
    /// keeping the key partitioning (for operators that do not touch keys).
    pub(crate) fn narrow_keeping_keys<U, I, F>(&self, f: F) -> Dataset<U>
    where
        U: Send + 'static,
        I: Iterator<Item = U> + Send + 'static,
        F: Fn(usize, BoxIter<T>) -> I + Send + Sync + 'static,
    {
        let mut out = self.map_partitions_with_index(f);
        out.hash_partitions = self.hash_partitions;
        out
    }
}

impl<T: Data> Dataset<T> {
    /// Transforms a whole partition at once (Spark's `mapPartitions`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let sums = ctx
    ///     .run(|| {
    ///         parallelize(vec![1, 2, 3, 4, 5, 6], Some(2))
    ///             .map_partitions(|it| std::iter::once(it.sum::<i32>()))
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// assert_eq!(sums, vec![6, 15]);
    /// ```
    pub fn map_partitions<U, I, F>(&self, f: F) -> Dataset<U>
    where
        U: Data,
        I: IntoIterator<Item = U>,
        I::IntoIter: Send + 'static,
        F: Fn(BoxIter<T>) -> I + Send + Sync + 'static,
    {
        self.map_partitions_with_index(move |_, it| f(it))
    }

    /// Applies `f` to every record.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let squares =
    ///     ctx.run(|| parallelize(vec![1, 2, 3], Some(2)).map(|x| x * x).collect()).unwrap();
    /// assert_eq!(squares, vec![1, 4, 9]);
    /// ```
    pub fn map<U: Data, F: Fn(T) -> U + Send + Sync + 'static>(&self, f: F) -> Dataset<U> {
        let f = Arc::new(f);
        self.map_partitions_with_index(move |_, it| {
            let f = f.clone();
            it.map(move |x| f(x))
        })
    }

    /// Keeps the records for which `f` is true.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let evens = ctx
    ///     .run(|| parallelize(vec![1, 2, 3, 4], Some(2)).filter(|x| x % 2 == 0).collect())
    ///     .unwrap();
    /// assert_eq!(evens, vec![2, 4]);
    /// ```
    pub fn filter<F: Fn(&T) -> bool + Send + Sync + 'static>(&self, f: F) -> Dataset<T> {
        let f = Arc::new(f);
        self.narrow_keeping_keys(move |_, it| {
            let f = f.clone();
            it.filter(move |x| f(x))
        })
    }

    /// Replaces every record by the records `f` returns for it.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let copies = ctx
    ///     .run(|| parallelize(vec![1usize, 2, 3], Some(2)).flat_map(|n| vec![n; n]).collect())
    ///     .unwrap();
    /// assert_eq!(copies, vec![1, 2, 2, 3, 3, 3]);
    /// ```
    pub fn flat_map<U, I, F>(&self, f: F) -> Dataset<U>
    where
        U: Data,
        I: IntoIterator<Item = U> + 'static,
        I::IntoIter: Send + 'static,
        F: Fn(T) -> I + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.map_partitions_with_index(move |_, it| {
            let f = f.clone();
            it.flat_map(move |x| f(x))
        })
    }

    /// Maps and keeps the `Some` results (in Spark, a `flatMap` to zero or one
    /// record).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let lines = vec!["1".to_string(), "x".to_string(), "3".to_string()];
    /// let numbers = ctx
    ///     .run(|| parallelize(lines, Some(2)).filter_map(|s| s.parse::<i32>().ok()).collect())
    ///     .unwrap();
    /// assert_eq!(numbers, vec![1, 3]);
    /// ```
    pub fn filter_map<U: Data, F: Fn(T) -> Option<U> + Send + Sync + 'static>(
        &self,
        f: F,
    ) -> Dataset<U> {
        let f = Arc::new(f);
        self.map_partitions_with_index(move |_, it| {
            let f = f.clone();
            it.filter_map(move |x| f(x))
        })
    }

    /// Pairs every record with the key `f` computes for it: `(f(&x), x)`
    /// (Spark's `keyBy`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let words = vec!["apple".to_string(), "fig".to_string()];
    /// let keyed =
    ///     ctx.run(|| parallelize(words, Some(2)).key_by(|w| w.len()).collect()).unwrap();
    /// assert_eq!(keyed, vec![(5, "apple".to_string()), (3, "fig".to_string())]);
    /// ```
    pub fn key_by<K: Key, F: Fn(&T) -> K + Send + Sync + 'static>(&self, f: F) -> Dataset<(K, T)> {
        self.map(move |x| (f(&x), x))
    }

    /// All records of `self`, then all of `other` (partitions are concatenated;
    /// as in Spark, duplicates are kept).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let all = ctx
    ///     .run(|| {
    ///         let both =
    ///             parallelize(vec![1, 2], Some(2)).union(&parallelize(vec![2, 3], Some(1)));
    ///         assert_eq!(both.num_partitions(), 3);
    ///         both.collect()
    ///     })
    ///     .unwrap();
    /// assert_eq!(all, vec![1, 2, 2, 3]); // duplicates are kept, as in Spark
    /// ```
    pub fn union(&self, other: &Dataset<T>) -> Dataset<T> {
        Dataset::from_node(Arc::new(Union::new(vec![
            self.node.clone(),
            other.node.clone(),
        ])))
    }

    /// A random sample: each record is kept with probability `fraction`
    /// (without replacement), or appears a Poisson(`fraction`) number of times
    /// (with replacement). The same `seed` gives the same sample.
    ///
    /// ```
    /// use barks_runtime::{Context, range};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let sample = |fraction: f64, seed: u64| {
    ///     ctx.run(move || range(0, 100, 1, Some(4)).sample(false, fraction, seed).collect())
    ///         .unwrap()
    /// };
    /// assert_eq!(sample(0.3, 7), sample(0.3, 7)); // the same seed gives the same sample
    /// assert_eq!(sample(1.0, 7), (0..100).collect::<Vec<i64>>());
    /// ```
    pub fn sample(&self, with_replacement: bool, fraction: f64, seed: u64) -> Dataset<T> {
        let fraction = fraction.max(0.0);
        self.narrow_keeping_keys(move |p, it| {
            let mut rng =
                SmallRng::seed_from_u64(seed ^ (p as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            it.flat_map(move |x| {
                let copies = if with_replacement {
                    poisson(&mut rng, fraction)
                } else {
                    usize::from(rng.random::<f64>() < fraction)
                };
                std::iter::repeat_n(x, copies)
            })
        })
    }

    /// Fewer partitions, without a shuffle (neighbouring partitions are chained).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let parts = ctx
    ///     .run(|| {
    ///         let fewer = parallelize((1..=8).collect::<Vec<i32>>(), Some(4)).coalesce(2);
    ///         assert_eq!(fewer.num_partitions(), 2);
    ///         fewer.glom().collect()
    ///     })
    ///     .unwrap();
    /// assert_eq!(parts, vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8]]); // neighbours chained, in order
    /// ```
    pub fn coalesce(&self, partitions: usize) -> Dataset<T> {
        Dataset::from_node(Arc::new(Coalesce::new(self.node.clone(), partitions)))
    }

    /// Each partition as one `Vec`.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let parts =
    ///     ctx.run(|| parallelize(vec![1, 2, 3, 4, 5], Some(2)).glom().collect()).unwrap();
    /// assert_eq!(parts, vec![vec![1, 2], vec![3, 4, 5]]);
    /// ```
    pub fn glom(&self) -> Dataset<Vec<T>> {
        self.map_partitions(|it| std::iter::once(it.into_vec()))
    }

    /// Pairs every record with its index in the dataset's order: partition 0's
    /// records first (Spark's `zipWithIndex`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let numbered = ctx
    ///     .run(|| {
    ///         parallelize(vec!['a', 'b', 'c', 'd', 'e'], Some(3)).zip_with_index().collect()
    ///     })
    ///     .unwrap();
    /// assert_eq!(numbered, vec![('a', 0), ('b', 1), ('c', 2), ('d', 3), ('e', 4)]);
    /// ```
    pub fn zip_with_index(&self) -> Dataset<(T, u64)> {
        Dataset::from_node(shuffle::indexed::zip_with_index(self.node.clone()))
    }

    /// Every pair `(a, b)` of a record of `self` and one of `other`.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let pairs = ctx
    ///     .run(|| {
    ///         let pairs = parallelize(vec![1, 2], Some(2))
    ///             .cartesian(&parallelize(vec!['x', 'y'], Some(2)));
    ///         assert_eq!(pairs.num_partitions(), 4);
    ///         pairs.collect()
    ///     })
    ///     .unwrap();
    /// assert_eq!(pairs, vec![(1, 'x'), (1, 'y'), (2, 'x'), (2, 'y')]);
    /// ```
    pub fn cartesian<U: Data>(&self, other: &Dataset<U>) -> Dataset<(T, U)> {
        Dataset::from_node(Arc::new(Cartesian::new(
            self.node.clone(),
            other.node.clone(),
        )))
    }

    /// Exactly `partitions` partitions of near-equal size, through a shuffle.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let sizes = ctx
    ///     .run(|| {
    ///         parallelize((1..=6).collect::<Vec<i32>>(), Some(1))
    ///             .repartition(3)
    ///             .glom()
    ///             .map(|p| p.len())
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// assert_eq!(sizes, vec![2, 2, 2]);
    /// ```
    pub fn repartition(&self, partitions: usize) -> Dataset<T> {
        let partitions = partitions.max(1);
        let numbered = self.map_partitions_with_index(move |p, it| {
            it.enumerate().map(move |(i, x)| ((p + i) % partitions, x))
        });
        Dataset::from_node(shuffle::hash_partitioned::shuffle_by(
            numbered.node,
            partitions,
            |k: &usize, n| *k % n,
        ))
        .values()
    }

    /// Sorts the records by `key(x)` into a global order (Spark's `sortBy`): partition 0 holds the
    /// smallest keys (largest if `!ascending`), each partition is sorted.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let words =
    ///     vec!["bb".to_string(), "a".to_string(), "dddd".to_string(), "ccc".to_string()];
    /// let longest_first = ctx
    ///     .run(|| parallelize(words, Some(2)).sort_by(|w| w.len(), false).collect())
    ///     .unwrap();
    /// assert_eq!(longest_first, ["dddd", "ccc", "bb", "a"]);
    /// ```
    pub fn sort_by<K, F>(&self, key: F, ascending: bool) -> Dataset<T>
    where
        K: SortKey,
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        let keyed = self.map(move |x| (key(&x), x));
        Dataset::from_node(shuffle::range_partitioned::sort_by_key(
            keyed.node,
            ascending,
            self.num_partitions(),
        ))
        .map(|(_, x)| x)
    }

    /// The distinct records.
    ///
    /// Of key-value records read by a by-key operator (`group_by_key`, a
    /// join, `reduce_by_key`, ...), the distinct is computed partitioned by
    /// key, as that operator needs them: its shuffle is the only one. (The
    /// records are no more skewed than the operator would make them.)
    /// `group_by_key` deduplicates each group instead.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let mut unique =
    ///     ctx.run(|| parallelize(vec![3, 1, 3, 2, 1], Some(2)).distinct().collect()).unwrap();
    /// unique.sort();
    /// assert_eq!(unique, vec![1, 2, 3]);
    /// ```
    pub fn distinct(&self) -> Dataset<T>
    where
        T: Key,
    {
        crate::ops::distinct::distinct(self)
    }

    /// The distinct records present in both datasets (Spark's `intersection`:
    /// the output has no duplicates).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let mut both = ctx
    ///     .run(|| {
    ///         parallelize(vec![1, 2, 3, 3, 4], Some(2))
    ///             .intersection(&parallelize(vec![3, 4, 4, 5], Some(2)))
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// both.sort();
    /// assert_eq!(both, vec![3, 4]); // distinct, as in Spark
    /// ```
    pub fn intersection(&self, other: &Dataset<T>) -> Dataset<T>
    where
        T: Key,
    {
        self.map(|x| (x, ()))
            .cogroup(&other.map(|x| (x, ())))
            .filter_map(|(x, (a, b))| (!a.is_empty() && !b.is_empty()).then_some(x))
    }

    /// The records of `self` (with their duplicates) that are not in `other`
    /// (Spark's `subtract`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let mut rest = ctx
    ///     .run(|| {
    ///         parallelize(vec![1, 1, 2, 3], Some(2))
    ///             .subtract(&parallelize(vec![2], Some(2)))
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// rest.sort();
    /// assert_eq!(rest, vec![1, 1, 3]);
    /// ```
    pub fn subtract(&self, other: &Dataset<T>) -> Dataset<T>
    where
        T: Key,
    {
        self.map(|x| (x, ()))
            .subtract_by_key(&other.map(|x| (x, ())))
            .keys()
    }
}

/// Knuth's Poisson sampler; fine for the small means sampling uses.
fn poisson(rng: &mut SmallRng, mean: f64) -> usize {
    let limit = (-mean).exp();
    let mut k = 0;
    let mut p = rng.random::<f64>();
    while p > limit {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}
