//! `distinct`, and how a by-key operator reads one.
//!
//! On its own, `distinct` is Spark's: `map(|x| (x, ()))`, combined on the
//! map side, shuffled by the whole record, merged on the reduce side, the
//! maps done inside the aggregation's own loops.
//!
//! Key-value records are seldom deduplicated for their own sake: a by-key
//! operator usually reads them next (PageRank's
//! `edges.distinct().group_by_key()`), and it shuffles them again, by key.
//! Equal records have equal keys, so the distinct can be computed after a
//! shuffle by key just as well, and the operator then needs no shuffle of
//! its own. A distinct's output therefore remembers how to build itself
//! that way ([`DistinctOf`]): as records partitioned by key, for any by-key
//! operator; and, for `group_by_key`, as the groups themselves, each group
//! deduplicated ([`dedup`]) instead of the records going through a
//! distinct's hash aggregation and then into groups (one aggregation over
//! every record instead of two).
//!
//! The records are no more skewed than the operator itself would make
//! them. A dataset derived from the distinct (a `map`, a `cache`) does not
//! carry this along, so an explicitly cached distinct is read as it is.

use crate::data::Key;
use crate::ops::by_key::Pair;
use crate::ops::by_key::{Side, combine};
use crate::ops::dataset::Dataset;
use crate::ops::spill_group::group_within_budget;
use crate::ops::spill_merge;
use crate::shuffle;
use crate::shuffle::hash_partitioned::hash_partition;
use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// Where a record goes among the partitions of a shuffle: a record's hash,
/// or its key's.
type Partitioner<T> = fn(&T, usize) -> usize;

/// What a distinct's output knows of how it was built (see the
/// [module docs](self)).
pub(crate) struct DistinctOf<T> {
    /// Each partition's records with repeats mostly dropped: the map side.
    map_side: Dataset<T>,
    /// The distinct with its records partitioned by the function given
    /// into the count given.
    partitioned: Box<dyn Fn(Partitioner<T>, usize) -> Dataset<T> + Send + Sync>,
    /// Keeps the first of equal records, in order.
    dedup: fn(&mut Vec<T>),
}

/// `data`'s distinct records (see the [module docs](self)).
pub(crate) fn distinct<T: Key>(data: &Dataset<T>) -> Dataset<T> {
    let unit = |()| ();
    let map_side = data.map_partitions_with_index(move |_, it| {
        combine(it.map(|x| (x, ())), Side::Map, unit, |(), ()| ()).map(|(x, ())| x)
    });
    let reduce_side = move |map_side: &Dataset<T>, partitioner: Partitioner<T>, partitions| {
        let pairs = map_side.map_partitions_with_index(|_, it| it.map(|x| (x, ())));
        Dataset::from_node(shuffle::hash_partitioned::shuffle_by(
            pairs.node.clone(),
            partitions,
            partitioner,
        ))
        .map_partitions_with_index(|_, it| {
            spill_merge::merge_by_key(it, |(), ()| (), "distinct").map(|(x, ())| x)
        })
    };
    let mut out = reduce_side(
        &map_side,
        |x, n| hash_partition(x, n),
        data.num_partitions(),
    );
    let input = map_side.clone();
    out.distinct_of = Some(Arc::new(DistinctOf {
        map_side,
        partitioned: Box::new(move |partitioner, partitions| {
            reduce_side(&input, partitioner, partitions)
        }),
        dedup: dedup::<T>,
    }));
    out
}

/// The distinct of `of`, its records hash-partitioned by key into
/// `partitions`.
pub(crate) fn partitioned_by_key<T: Pair>(
    of: &DistinctOf<T>,
    partitions: usize,
) -> Dataset<(T::K, T::V)> {
    let records = (of.partitioned)(|x, n| hash_partition(x.key(), n), partitions);
    T::pairs(&records).hash_partitioned(partitions)
}

/// `group_by_key` of the distinct of `of` into `partitions`: the map side's
/// records grouped by key and each group deduplicated.
pub(crate) fn groups<T: Pair>(of: &DistinctOf<T>, partitions: usize) -> Dataset<(T::K, Vec<T::V>)> {
    let dedup = of.dedup;
    T::pairs(&of.map_side)
        .partition_by(partitions)
        .narrow_keeping_keys(move |_, it| {
            // The records of one group at a time, to deduplicate them as
            // records (the values alone may not be comparable).
            let mut scratch: Vec<T> = Vec::new();
            group_within_budget(it, "group_by_key").map(move |(k, mut vs)| {
                if vs.len() > 1 {
                    scratch.extend(vs.drain(..).map(|v| T::from_pair(k.clone(), v)));
                    dedup(&mut scratch);
                    vs.extend(scratch.drain(..).map(|x| x.into_pair().1));
                }
                (k, vs)
            })
        })
}

/// Groups of at most this many records are deduplicated by comparing each
/// with those kept (in cache, no allocation); larger ones through a table.
const SMALL_GROUP: usize = 32;

/// Keeps the first of equal records of `records`, in order
/// (`[3, 1, 3, 2, 1]` becomes `[3, 1, 2]`).
pub(crate) fn dedup<T: Hash + Eq>(records: &mut Vec<T>) {
    let mut kept = 0;
    if records.len() <= SMALL_GROUP {
        for i in 0..records.len() {
            if !records[..kept].contains(&records[i]) {
                records.swap(kept, i);
                kept += 1;
            }
        }
    } else {
        // Indexes of the kept records, by hash.
        let hasher = FixedState::default();
        let mut seen: HashTable<usize> = HashTable::with_capacity(records.len());
        for i in 0..records.len() {
            let hash = hasher.hash_one(&records[i]);
            let known = seen.find(hash, |&j| records[j] == records[i]).is_some();
            if !known {
                // Records `kept..i` are repeats, so `i` moves down to `kept`.
                records.swap(kept, i);
                seen.insert_unique(hash, kept, |&j| hasher.hash_one(&records[j]));
                kept += 1;
            }
        }
    }
    records.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::source::parallelize;
    use crate::plan::node::{AnyNode, Dep};
    use std::collections::HashSet;

    /// The shuffles computing `data` goes through.
    fn shuffles<T>(data: &Dataset<T>) -> usize {
        fn count(node: Arc<dyn AnyNode>) -> usize {
            node.deps()
                .into_iter()
                .map(|dep| match dep {
                    Dep::Narrow(parent) => count(parent),
                    Dep::Shuffle(shuffle) => 1 + count(shuffle.parent()),
                })
                .sum()
        }
        count(data.node.clone())
    }

    #[test]
    fn by_key_operators_read_a_distinct_partitioned_by_key() {
        crate::plan::scope::in_scope(2, check_distinct_shuffles);
    }

    fn check_distinct_shuffles() {
        let edges = || parallelize(vec![(1u32, 2u32), (1, 2), (2, 3)], Some(3)).distinct();
        assert_eq!(shuffles(&edges()), 1);
        assert_eq!(shuffles(&edges().group_by_key()), 1);
        assert_eq!(shuffles(&edges().reduce_by_key(|a, b| a + b)), 1);
        // Into another partition count too.
        assert_eq!(shuffles(&edges().partition_by(2).group_by_key()), 1);
        // A dataset derived from the distinct is shuffled again.
        assert_eq!(shuffles(&edges().map(|e| e).group_by_key()), 2);
        assert_eq!(shuffles(&edges().cache().group_by_key()), 2);
    }

    /// The first occurrence of each record, in order.
    fn model(records: &[u32]) -> Vec<u32> {
        let mut seen = HashSet::new();
        records
            .iter()
            .copied()
            .filter(|r| seen.insert(*r))
            .collect()
    }

    #[test]
    fn dedup_keeps_first_occurrences_in_order_in_small_and_large_groups() {
        for len in [0usize, 1, 2, 5, SMALL_GROUP, SMALL_GROUP + 1, 1000] {
            for distinct in [1u32, 3, 17, 5000] {
                let records: Vec<u32> = (0..len as u32).map(|i| (i * 7919) % distinct).collect();
                let mut got = records.clone();
                dedup(&mut got);
                assert_eq!(got, model(&records), "{len} records, {distinct} distinct");
            }
        }
    }

    #[test]
    fn dedup_drops_each_repeat_once() {
        // `Arc<()>`s are all equal, so these records compare by their
        // number; each repeat is dropped exactly once (no leak, no double
        // drop).
        let counted = Arc::new(());
        let mut records: Vec<(u32, Arc<()>)> =
            (0..100).map(|i| (i % 10, counted.clone())).collect();
        dedup(&mut records);
        assert_eq!(
            records.iter().map(|r| r.0).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        assert_eq!(Arc::strong_count(&counted), 11);
    }
}
