//! Key-value operators: aggregation by key (with map-side combining),
//! grouping, joins and cogroup, partitioning and sorting by key.
//!
//! A dataset remembers when it is hash-partitioned by its key; an operator
//! whose input already is partitioned that way skips its shuffle (as Spark
//! does with a known partitioner), so `links.join(ranks)` in PageRank only
//! moves `ranks`.

// The tuple types of joins and cogroup are the operators' interface (as in
// Spark's API) and read best spelled out, not behind aliases.
#![allow(clippy::type_complexity)]

use crate::agg::aggregation::{Aggregation, update};
use crate::agg::grouping::group_values;
use crate::agg::key_table::KeyTable;
use crate::data::{Data, Key, SortKey};
use crate::memory::current_task;
use crate::ops::dataset::Dataset;
use crate::ops::distinct;
use crate::ops::fuse::Input;
use crate::ops::join::{JoinPartition, zip_partitions};
use crate::ops::spill_group::{cogroup_within_budget, group_within_budget};
use crate::ops::spill_merge;
use crate::records::BoxIter;
use crate::shuffle;
use crate::shuffle::hash_partitioned::hash_partition;
use std::sync::Arc;

/// Which side of a shuffle a [`combine`] runs on.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Side {
    /// Before the shuffle: combining may stop part-way.
    Map,
    /// After it: every key's records are merged.
    Reduce,
}

/// The records of a partition map-side combining looks at before deciding
/// whether it pays.
const PARTIAL_SAMPLE: usize = 100_000;

/// Merges `(key, value)` records into one combiner per key.
///
/// On the map [`Side`], as Presto's and Velox's partial aggregations do, it
/// stops combining when the first [`PARTIAL_SAMPLE`] records of a partition
/// hold more than 80% distinct keys in a hash table (`distinct` over mostly
/// distinct records): the rest pass through as one-value combiners for the
/// reduce side to merge, instead of all going through a hash table that
/// grows as big as the input and saves the shuffle little. Dense integer
/// keys always combine (their table is cheap). Keys too many for a hash
/// table in cache are aggregated in parts ([`Aggregation`]).
pub(crate) fn combine<K: Key, V, C>(
    mut records: impl Iterator<Item = (K, V)>,
    side: Side,
    create: impl Fn(V) -> C + Clone,
    merge: impl Fn(C, V) -> C + Clone,
) -> impl Iterator<Item = (K, C)> {
    let mut table = KeyTable::default();
    let mut seen = 0usize;
    if side == Side::Map {
        // Internal iteration, so that adapters (a `flat_map`) run their
        // own loops instead of a `next` per record.
        records.by_ref().take(PARTIAL_SAMPLE).for_each(|(k, v)| {
            table.upsert(k, update(v, &create, &merge));
            seen += 1;
        });
    }
    let mut aggregation = Aggregation::new(table, seen, records.size_hint().0);
    // The records left when combining stops; `None` once they all went in
    // (and the input, with its buffers, is dropped).
    let rest = match &aggregation {
        Aggregation::Table { table, .. }
            if seen == PARTIAL_SAMPLE && table.is_hash() && table.len() * 5 > seen * 4 =>
        {
            Some(records)
        }
        _ => {
            aggregation.extend(records, &create, &merge);
            None
        }
    };
    let rest = rest.into_iter().flatten();
    aggregation
        .into_iter(create.clone(), merge)
        .chain(rest.map(move |(k, v)| (k, create(v))))
}

/// The map side of a by-key aggregation: combiners of a partition's
/// `records`, one per key unless `shuffled` (a shuffle and a reduce side
/// follow, so combining may stop part-way; see [`combine`]). A dataset
/// already partitioned by key is not shuffled: its map side is the only
/// one and must merge every key.
pub(crate) fn combine_map_side<K: Key, V, C>(
    records: impl Iterator<Item = (K, V)>,
    shuffled: bool,
    create: impl Fn(V) -> C + Clone,
    merge: impl Fn(C, V) -> C + Clone,
) -> impl Iterator<Item = (K, C)> {
    let side = if shuffled { Side::Map } else { Side::Reduce };
    combine(records, side, create, merge)
}

/// The reduce side of a by-key aggregation: `combined` (one combiner per
/// key and map partition) hash-partitioned into its own key partitioning's
/// count, else its partition count, the combiners of each key merged with
/// `merge` within the memory budget (spilling if need be). No shuffle if
/// `combined` already is partitioned by key.
pub(crate) fn merge_combiners_by_key<K: Key, C: Data>(
    combined: &Dataset<(K, C)>,
    merge: impl Fn(C, C) -> C + Send + Sync + 'static,
) -> Dataset<(K, C)> {
    if combined.hash_partitions.is_some() {
        return combined.clone();
    }
    let merge = Arc::new(merge);
    combined
        .partition_by(combined.num_partitions())
        .narrow_keeping_keys(move |_, it| {
            let merge = merge.clone();
            spill_merge::merge_by_key(it, move |a, b| merge(a, b), "merging combiners by key")
        })
}

impl<T: Data> Dataset<T> {
    fn kv(&self) -> Dataset<(T::K, T::V)>
    where
        T: Pair,
    {
        T::pairs(self)
    }

    /// The records as a by-key operator into `partitions` partitions reads
    /// them: the dataset itself, or, for the output of `distinct`, that
    /// distinct computed again partitioned by key into `partitions` (no
    /// shuffle left for the operator).
    fn by_key_input(&self, partitions: usize) -> Dataset<(T::K, T::V)>
    where
        T: Pair,
    {
        match &self.distinct_of {
            Some(of) => distinct::partitioned_by_key(of, partitions),
            None => self.kv(),
        }
    }

    /// The partition count a by-key operator on `self` (and `other`) uses: an
    /// existing hash partitioning if there is one, else the larger input's.
    fn key_partitions(&self, other: Option<usize>, other_partitioning: Option<usize>) -> usize {
        self.hash_partitions
            .or(other_partitioning)
            .unwrap_or_else(|| self.num_partitions().max(other.unwrap_or(0)))
    }

    /// The keys of a key-value dataset.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let keys = ctx
    ///     .run(|| parallelize(vec![(1, 'x'), (2, 'y'), (1, 'z')], Some(2)).keys().collect())
    ///     .unwrap();
    /// assert_eq!(keys, vec![1, 2, 1]);
    /// ```
    pub fn keys(&self) -> Dataset<T::K>
    where
        T: Pair,
    {
        self.kv().map(|(k, _)| k)
    }

    /// The values of a key-value dataset.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let values = ctx
    ///     .run(|| parallelize(vec![(1, 'x'), (2, 'y'), (1, 'z')], Some(2)).values().collect())
    ///     .unwrap();
    /// assert_eq!(values, vec!['x', 'y', 'z']);
    /// ```
    pub fn values(&self) -> Dataset<T::V>
    where
        T: Pair,
    {
        self.kv().map(|(_, v)| v)
    }

    /// Applies `f` to every value, keeping keys (and the partitioning), as
    /// Spark's `mapValues`.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let tens = ctx
    ///     .run(|| {
    ///         parallelize(vec![('a', 1), ('b', 2)], Some(2)).map_values(|v| v * 10).collect()
    ///     })
    ///     .unwrap();
    /// assert_eq!(tens, vec![('a', 10), ('b', 20)]);
    /// ```
    pub fn map_values<U: Data, F>(&self, f: F) -> Dataset<(T::K, U)>
    where
        T: Pair,
        F: Fn(T::V) -> U + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.kv().narrow_keeping_keys(move |_, it| {
            let f = f.clone();
            it.map(move |(k, v)| (k, f(v)))
        })
    }

    /// Replaces every value by the values `f` returns for it, keeping its key
    /// (Spark's `flatMapValues`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let spread = ctx
    ///     .run(|| {
    ///         parallelize(vec![('a', 2), ('b', 1)], Some(2))
    ///             .flat_map_values(|n| 0..n)
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// assert_eq!(spread, vec![('a', 0), ('a', 1), ('b', 0)]);
    /// ```
    pub fn flat_map_values<U, I, F>(&self, f: F) -> Dataset<(T::K, U)>
    where
        T: Pair,
        U: Data,
        I: IntoIterator<Item = U> + 'static,
        I::IntoIter: Send + 'static,
        F: Fn(T::V) -> I + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.kv().narrow_keeping_keys(move |_, it| {
            let f = f.clone();
            it.flat_map(move |(k, v)| f(v).into_iter().map(move |u| (k.clone(), u)))
        })
    }

    /// Hash-partitions the records by key into `partitions` partitions
    /// (Spark's `partitionBy` with a `HashPartitioner`; no shuffle if they
    /// already are).
    ///
    /// ```
    /// use barks_runtime::{Context, hash_partition, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let pairs = vec![(1, 'a'), (2, 'b'), (1, 'c'), (2, 'd'), (3, 'e')];
    /// let parts =
    ///     ctx.run(|| parallelize(pairs, Some(2)).partition_by(3).glom().collect()).unwrap();
    /// assert_eq!(parts.len(), 3);
    /// // Every key is in one partition: the one its hash gives.
    /// for (p, records) in parts.iter().enumerate() {
    ///     assert!(records.iter().all(|(k, _)| hash_partition(k, 3) == p));
    /// }
    /// ```
    pub fn partition_by(&self, partitions: usize) -> Dataset<(T::K, T::V)>
    where
        T: Pair,
    {
        let partitions = partitions.max(1);
        let data = self.by_key_input(partitions);
        if data.hash_partitions == Some(partitions) {
            return data;
        }
        Dataset::from_node(shuffle::hash_partitioned::shuffle_by(
            data.node,
            partitions,
            |k: &T::K, n| hash_partition(k, n),
        ))
        .hash_partitioned(partitions)
    }

    /// Partitions the records by key with `partitioner(key, partitions)`, a
    /// partition index below `partitions` (Spark's `partitionBy` with a custom
    /// `Partitioner`). Always shuffles. The function must be deterministic:
    /// every process of a cluster computes it.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let pairs = vec![(3, 'a'), (0, 'b'), (1, 'c'), (3, 'd')];
    /// let parts = ctx
    ///     .run(|| parallelize(pairs, Some(2)).partition_with(4, |k: &usize, _| *k).glom().collect())
    ///     .unwrap();
    /// assert_eq!(parts, vec![vec![(0, 'b')], vec![(1, 'c')], vec![], vec![(3, 'a'), (3, 'd')]]);
    /// ```
    pub fn partition_with<P>(&self, partitions: usize, partitioner: P) -> Dataset<(T::K, T::V)>
    where
        T: Pair,
        P: Fn(&T::K, usize) -> usize + Send + Sync + 'static,
    {
        let partitions = partitions.max(1);
        Dataset::from_node(shuffle::hash_partitioned::shuffle_by(
            self.by_key_input(partitions).node,
            partitions,
            partitioner,
        ))
    }

    /// Spark's `combineByKey`: builds one combiner per key with `create`,
    /// folds more values in with `merge_value` (map side, before the shuffle)
    /// and merges combiners from different partitions with `merge_combiners`.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let scores = vec![('a', 1), ('b', 4), ('a', 3)];
    /// let mut sum_count = ctx
    ///     .run(|| {
    ///         parallelize(scores, Some(2))
    ///             .combine_by_key(
    ///                 |v| (v, 1),
    ///                 |(s, n), v| (s + v, n + 1),
    ///                 |(s, n), (t, m)| (s + t, n + m),
    ///             )
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// sum_count.sort();
    /// assert_eq!(sum_count, vec![('a', (4, 2)), ('b', (4, 1))]);
    /// ```
    pub fn combine_by_key<C, F1, F2, F3>(
        &self,
        create: F1,
        merge_value: F2,
        merge_combiners: F3,
    ) -> Dataset<(T::K, C)>
    where
        T: Pair,
        C: Data,
        F1: Fn(T::V) -> C + Send + Sync + 'static,
        F2: Fn(C, T::V) -> C + Send + Sync + 'static,
        F3: Fn(C, C) -> C + Send + Sync + 'static,
    {
        let (create, merge_value) = (Arc::new(create), Arc::new(merge_value));
        let data = self.by_key_input(self.key_partitions(None, None));
        let shuffled = data.hash_partitions.is_none();
        let combined = data.narrow_keeping_keys(move |_, it| {
            let (create, merge_value) = (create.clone(), merge_value.clone());
            combine_map_side(
                it,
                shuffled,
                move |v| create(v),
                move |c, v| merge_value(c, v),
            )
        });
        merge_combiners_by_key(&combined, merge_combiners)
    }

    /// Merges the values of each key with `f` (combined map-side first), as
    /// Spark's `reduceByKey`.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let words = vec![('a', 1), ('b', 1), ('a', 1)];
    /// let mut counts = ctx
    ///     .run(|| parallelize(words, Some(2)).reduce_by_key(|a, b| a + b).collect())
    ///     .unwrap();
    /// counts.sort();
    /// assert_eq!(counts, vec![('a', 2), ('b', 1)]);
    /// ```
    pub fn reduce_by_key<F>(&self, f: F) -> Dataset<(T::K, T::V)>
    where
        T: Pair,
        F: Fn(T::V, T::V) -> T::V + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let g = f.clone();
        self.combine_by_key(|v| v, move |a, b| f(a, b), move |a, b| g(a, b))
    }

    /// Like `reduce_by_key`, starting every key (in every partition) from
    /// `zero`. As in Spark, `zero` may be used more than once per key and
    /// partition (map-side combining can stop part-way), so it must be
    /// neutral for `f` (0 for `+`, an empty `Vec` for concatenation).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let pairs = vec![('a', 3), ('b', 5), ('a', 7)];
    /// let mut sums = ctx
    ///     .run(|| parallelize(pairs, Some(2)).fold_by_key(0, |a, b| a + b).collect())
    ///     .unwrap();
    /// sums.sort();
    /// assert_eq!(sums, vec![('a', 10), ('b', 5)]);
    /// ```
    pub fn fold_by_key<F>(&self, zero: T::V, f: F) -> Dataset<(T::K, T::V)>
    where
        T: Pair,
        F: Fn(T::V, T::V) -> T::V + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let (g, h) = (f.clone(), f.clone());
        self.combine_by_key(
            move |v| g(zero.clone(), v),
            move |a, b| h(a, b),
            move |a, b| f(a, b),
        )
    }

    /// Aggregates each key's values into a `U`: `seq` folds a value into an
    /// accumulator (starting from `zero`, which must be neutral, as for
    /// [`fold_by_key`](Self::fold_by_key)), `comb` merges two accumulators.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let pairs = vec![('a', 3), ('b', 5), ('a', 7)];
    /// let mut max_count = ctx
    ///     .run(|| {
    ///         parallelize(pairs, Some(2))
    ///             .aggregate_by_key(
    ///                 (i32::MIN, 0u32),
    ///                 |(m, n), v| (m.max(v), n + 1),
    ///                 |(m, n), (l, k)| (m.max(l), n + k),
    ///             )
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// max_count.sort();
    /// assert_eq!(max_count, vec![('a', (7, 2)), ('b', (5, 1))]);
    /// ```
    pub fn aggregate_by_key<U, F1, F2>(&self, zero: U, seq: F1, comb: F2) -> Dataset<(T::K, U)>
    where
        T: Pair,
        U: Data,
        F1: Fn(U, T::V) -> U + Send + Sync + 'static,
        F2: Fn(U, U) -> U + Send + Sync + 'static,
    {
        let seq = Arc::new(seq);
        let s = seq.clone();
        self.combine_by_key(move |v| s(zero.clone(), v), move |u, v| seq(u, v), comb)
    }

    /// All values of each key, in one `Vec` (Spark's `groupByKey`; no map-side
    /// combining: it would not shrink the data). The order of a group's
    /// values is not defined.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let pairs = vec![(1, 'a'), (2, 'b'), (1, 'c')];
    /// let mut groups =
    ///     ctx.run(|| parallelize(pairs, Some(2)).group_by_key().collect()).unwrap();
    /// groups.iter_mut().for_each(|(_, vs)| vs.sort());
    /// groups.sort();
    /// assert_eq!(groups, vec![(1, vec!['a', 'c']), (2, vec!['b'])]);
    /// ```
    pub fn group_by_key(&self) -> Dataset<(T::K, Vec<T::V>)>
    where
        T: Pair,
    {
        let partitions = self.key_partitions(None, None);
        if let Some(of) = &self.distinct_of {
            return distinct::groups(of, partitions);
        }
        self.partition_by(partitions)
            .narrow_keeping_keys(|_, it| group_within_budget(it, "group_by_key"))
    }

    /// Groups both datasets by key: for every key in either, its values on
    /// each side (Spark's `cogroup`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let mut groups = ctx
    ///     .run(|| {
    ///         parallelize(vec![(1, 'a'), (2, 'b')], Some(2))
    ///             .cogroup(&parallelize(vec![(1, 10), (3, 30)], Some(2)))
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// groups.sort();
    /// assert_eq!(
    ///     groups,
    ///     vec![(1, (vec!['a'], vec![10])), (2, (vec!['b'], vec![])), (3, (vec![], vec![30]))]
    /// );
    /// ```
    pub fn cogroup<K2, W>(&self, other: &Dataset<(K2, W)>) -> Dataset<(T::K, (Vec<T::V>, Vec<W>))>
    where
        T: Pair,
        K2: SameKey<T::K>,
        W: Data,
    {
        let (left, right) = self.co_partition(other);
        zip_partitions(&left, &right, |l, r| {
            if current_task().budget().limit() == u64::MAX {
                let mut groups: KeyTable<T::K, (Vec<T::V>, Vec<W>)> = KeyTable::default();
                for (k, vs) in group_values(l) {
                    groups.upsert(k, |_| (vs, Vec::new()));
                }
                for (k, ws) in group_values(r) {
                    groups.upsert(k, |both| (both.map_or_else(Vec::new, |(vs, _)| vs), ws));
                }
                return BoxIter::new(groups.into_iter());
            }
            cogroup_within_budget(l, r, "cogroup")
        })
    }

    /// Both sides hash-partitioned by key the same way (shuffling only the
    /// sides that are not already).
    pub(crate) fn co_partition<K2, W>(
        &self,
        other: &Dataset<(K2, W)>,
    ) -> (Dataset<(T::K, T::V)>, Dataset<(T::K, W)>)
    where
        T: Pair,
        K2: SameKey<T::K>,
        W: Data,
    {
        let other = K2::cast(other);
        let n = self.key_partitions(Some(other.num_partitions()), other.hash_partitions);
        (self.partition_by(n), other.partition_by(n))
    }

    /// The join of `self` and `other` that keeps unmatched left records
    /// (`keep_left`) and unmatched right ones (`keep_right`), each row
    /// `(key, (left, right))` turned into an output record by `project`
    /// (or dropped) within the join, without a node of its own.
    fn outer_join<K2, W, U, P>(
        &self,
        other: &Dataset<(K2, W)>,
        keep_left: bool,
        keep_right: bool,
        project: P,
    ) -> Dataset<U>
    where
        T: Pair,
        K2: SameKey<T::K>,
        W: Data,
        U: Send + 'static,
        P: Fn((T::K, (Option<T::V>, Option<W>))) -> Option<U> + Copy + Send + Sync + 'static,
    {
        let (left, right) = self.co_partition(other);
        zip_partitions(&left, &right, move |l, r| {
            JoinPartition::new(l, r, keep_left, keep_right).filter_map(project)
        })
    }

    /// Pairs of values for every key present on both sides (Spark's inner
    /// `join`: a key on `n` left and `m` right records gives `n * m` rows).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let mut joined = ctx
    ///     .run(|| {
    ///         parallelize(vec![(1, 'a'), (2, 'b'), (2, 'c')], Some(2))
    ///             .join(&parallelize(vec![(2, 20), (3, 30)], Some(2)))
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// joined.sort();
    /// assert_eq!(joined, vec![(2, ('b', 20)), (2, ('c', 20))]);
    /// ```
    pub fn join<K2, W>(&self, other: &Dataset<(K2, W)>) -> Dataset<(T::K, (T::V, W))>
    where
        T: Pair,
        K2: SameKey<T::K>,
        W: Data,
    {
        // The rows a fused run after a join reads, as a node of their own.
        crate::ops::fuse::join(self, other).apply(true, |rows| rows)
    }

    /// Every left record, with each matching right value or `None` (Spark's
    /// `leftOuterJoin`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let mut joined = ctx
    ///     .run(|| {
    ///         parallelize(vec![(1, 'a'), (2, 'b')], Some(2))
    ///             .left_outer_join(&parallelize(vec![(2, 20), (3, 30)], Some(2)))
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// joined.sort();
    /// assert_eq!(joined, vec![(1, ('a', None)), (2, ('b', Some(20)))]);
    /// ```
    pub fn left_outer_join<K2, W>(
        &self,
        other: &Dataset<(K2, W)>,
    ) -> Dataset<(T::K, (T::V, Option<W>))>
    where
        T: Pair,
        K2: SameKey<T::K>,
        W: Data,
    {
        self.outer_join(other, true, false, |(k, (v, w))| Some((k, (v?, w))))
    }

    /// Every right record, with each matching left value or `None` (Spark's
    /// `rightOuterJoin`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let mut joined = ctx
    ///     .run(|| {
    ///         parallelize(vec![(1, 'a'), (2, 'b')], Some(2))
    ///             .right_outer_join(&parallelize(vec![(2, 20), (3, 30)], Some(2)))
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// joined.sort();
    /// assert_eq!(joined, vec![(2, (Some('b'), 20)), (3, (None, 30))]);
    /// ```
    pub fn right_outer_join<K2, W>(
        &self,
        other: &Dataset<(K2, W)>,
    ) -> Dataset<(T::K, (Option<T::V>, W))>
    where
        T: Pair,
        K2: SameKey<T::K>,
        W: Data,
    {
        self.outer_join(other, false, true, |(k, (v, w))| Some((k, (v, w?))))
    }

    /// Every record of either side, matched where the key is on both (Spark's
    /// `fullOuterJoin`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let mut joined = ctx
    ///     .run(|| {
    ///         parallelize(vec![(1, 'a'), (2, 'b')], Some(2))
    ///             .full_outer_join(&parallelize(vec![(2, 20), (3, 30)], Some(2)))
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// joined.sort();
    /// assert_eq!(
    ///     joined,
    ///     vec![(1, (Some('a'), None)), (2, (Some('b'), Some(20))), (3, (None, Some(30)))]
    /// );
    /// ```
    pub fn full_outer_join<K2, W>(
        &self,
        other: &Dataset<(K2, W)>,
    ) -> Dataset<(T::K, (Option<T::V>, Option<W>))>
    where
        T: Pair,
        K2: SameKey<T::K>,
        W: Data,
    {
        self.outer_join(other, true, true, Some)
    }

    /// The records whose key is not in `other` (Spark's `subtractByKey`).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let mut rest = ctx
    ///     .run(|| {
    ///         parallelize(vec![(1, 'a'), (2, 'b'), (2, 'c'), (3, 'd')], Some(2))
    ///             .subtract_by_key(&parallelize(vec![(2, ())], Some(2)))
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// rest.sort();
    /// assert_eq!(rest, vec![(1, 'a'), (3, 'd')]);
    /// ```
    pub fn subtract_by_key<K2, W>(&self, other: &Dataset<(K2, W)>) -> Dataset<(T::K, T::V)>
    where
        T: Pair,
        K2: SameKey<T::K>,
        W: Data,
    {
        self.outer_join(other, true, false, |(k, (v, w))| match w {
            None => Some((k, v?)),
            Some(_) => None,
        })
    }

    /// Sorts by key into a global order (Spark's `sortByKey`; see
    /// [`Dataset::sort_by`]).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let pairs = vec![(3, 'c'), (1, 'a'), (4, 'd'), (2, 'b')];
    /// let parts =
    ///     ctx.run(|| parallelize(pairs, Some(2)).sort_by_key(true).glom().collect()).unwrap();
    /// // A global order: partition 0 holds the smallest keys.
    /// assert_eq!(parts, vec![vec![(1, 'a'), (2, 'b')], vec![(3, 'c'), (4, 'd')]]);
    /// ```
    pub fn sort_by_key(&self, ascending: bool) -> Dataset<(T::K, T::V)>
    where
        T: Pair,
        T::K: SortKey,
    {
        Dataset::from_node(shuffle::range_partitioned::sort_by_key(
            self.kv().node,
            ascending,
            self.num_partitions(),
        ))
    }
}

/// A `(key, value)` element: what every `*_by_key`, join and cogroup needs.
#[diagnostic::on_unimplemented(
    message = "this operator needs a dataset of `(key, value)` pairs, but the dataset holds `{Self}`",
    label = "not a key-value dataset",
    note = "turn the elements into pairs first, e.g. `.map(|x| (key_of(&x), x))` or `.key_by(|x| ...)`"
)]
pub trait Pair: Data {
    /// The key type.
    type K: Key;
    /// The value type.
    type V: Data;
    /// Views a dataset of `Self` as a dataset of `(K, V)` (no copy: for the
    /// one implementation, `(K, V)` itself, this is the same dataset).
    fn pairs(data: &Dataset<Self>) -> Dataset<(Self::K, Self::V)>;
    /// The element as a `(K, V)` tuple (for `(K, V)` itself, a move).
    fn into_pair(self) -> (Self::K, Self::V);
    /// The element's key.
    fn key(&self) -> &Self::K;
    /// The element of a key and a value (for `(K, V)` itself, the tuple).
    fn from_pair(key: Self::K, value: Self::V) -> Self;
}

impl<K: Key, V: Data> Pair for (K, V) {
    type K = K;
    type V = V;
    fn pairs(data: &Dataset<(K, V)>) -> Dataset<(K, V)> {
        data.clone()
    }
    #[inline(always)]
    fn into_pair(self) -> (K, V) {
        self
    }
    #[inline(always)]
    fn key(&self) -> &K {
        &self.0
    }
    #[inline(always)]
    fn from_pair(key: K, value: V) -> Self {
        (key, value)
    }
}

/// Joining two datasets needs the same key type on both sides.
#[diagnostic::on_unimplemented(
    message = "cannot join on keys of different types: the left key is `{Left}`, the right key is `{Self}`",
    label = "the right dataset's key type differs from the left one's",
    note = "convert one side's keys first, e.g. `.map(|(k, v)| (k as u64, v))`"
)]
pub trait SameKey<Left>: Sized {
    /// The right dataset with its key type named as the left one's.
    fn cast<W>(data: &Dataset<(Self, W)>) -> Dataset<(Left, W)>;
}

impl<K> SameKey<K> for K {
    fn cast<W>(data: &Dataset<(K, W)>) -> Dataset<(K, W)> {
        data.clone()
    }
}
