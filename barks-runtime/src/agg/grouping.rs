//! Grouping a partition's records by key, each key's values in one `Vec`
//! in input order: the reduce side of `group_by_key`, each side of a
//! `cogroup`, and a distinct's groups.
//!
//! Pushing each value onto its key's `Vec` as it comes grows every `Vec`
//! by doubling: a few reallocations per key, each copying the values so
//! far, up to twice the memory the values need, and all of it fresh memory
//! the kernel has to zero. It was most of the time PageRank spent grouping
//! its edges. Instead, the records are counted by key first and then moved
//! into key order (a counting sort), so each group's `Vec` is allocated
//! once, at its exact size, and filled by one copy.
//!
//! Counting keeps a table of group numbers. When keys are hashed, mostly
//! new and more than a cache holds, every record would miss the cache in
//! it, so counting stops there and the rest go the way of an aggregation
//! split into cache-sized parts ([`Aggregation`]), as they did before.
//!
//! Groups come out in the order of a [`KeyTable`]: key order for dense
//! integer keys, else a fixed hash order; the same every time.

use crate::agg::aggregation::{Aggregation, outgrows_cache};
use crate::agg::key_table::KeyTable;
use crate::data::Key;
use std::mem::{ManuallyDrop, MaybeUninit};

/// How many new groups counting makes between two checks of its table's
/// size.
const CHECK_EVERY: usize = 1024;
/// The most records one counting pass takes: groups and positions are
/// numbered with `u32`s. Records beyond it are merged into the groups one
/// by one.
const MAX_COUNTED: usize = u32::MAX as usize;

/// `records` grouped by key (see the [module docs](self)).
pub(crate) fn group_values<K: Key, V>(
    records: impl Iterator<Item = (K, V)>,
) -> impl Iterator<Item = (K, Vec<V>)> {
    group_values_counting(records, MAX_COUNTED)
}

/// [`group_values`], counting at most `limit` records.
fn group_values_counting<K: Key, V>(
    mut records: impl Iterator<Item = (K, V)>,
    limit: usize,
) -> impl Iterator<Item = (K, Vec<V>)> {
    let (counted, records_counted) = counting_sort(&mut records, limit);
    let mut rest = records.peekable();
    let (all, more) = if rest.peek().is_none() {
        (Some(counted), None)
    } else {
        // Counting stopped: the groups so far go into an aggregation, and
        // the rest join them as they come (split into cache-sized parts
        // if there are many keys, see `radix.rs`).
        let mut table = KeyTable::default();
        for (k, vs) in counted {
            table.upsert(k, |_| vs);
        }
        let mut aggregation = Aggregation::new(table, records_counted, rest.size_hint().0);
        aggregation.extend(rest, one, push);
        (None, Some(aggregation.into_iter(one, push)))
    };
    all.into_iter().flatten().chain(more.into_iter().flatten())
}

/// A group of one value.
fn one<V>(v: V) -> Vec<V> {
    vec![v]
}

/// `group` with `v` appended.
fn push<V>(mut group: Vec<V>, v: V) -> Vec<V> {
    group.push(v);
    group
}

/// Groups records of `records` by counting them by key, then moving each
/// to its place among its key's; the groups, and how many records they
/// hold. Stops after `limit` records (at most
/// [`MAX_COUNTED`]), or when the keys are hashed, mostly new and more than
/// a cache holds: every record would then miss the cache in the table of
/// group numbers, where an aggregation split into parts does not.
fn counting_sort<K: Key, V>(
    records: &mut impl Iterator<Item = (K, V)>,
    limit: usize,
) -> (Groups<K, V>, usize) {
    let coming = records.size_hint().0.min(limit);
    // Each key's group, numbered as first seen; the records of each group;
    // and of each record, its value and its group's number.
    let mut numbers: KeyTable<K, u32> = KeyTable::default();
    numbers.hint_keys(coming);
    let mut counts: Vec<u32> = Vec::new();
    let mut values: Vec<V> = Vec::with_capacity(coming);
    let mut group_of: Vec<u32> = Vec::with_capacity(coming);
    let mut stop = false;
    while !stop && values.len() < limit {
        let Some((k, v)) = records.next() else {
            break;
        };
        let new = counts.len() as u32;
        let mut number = new;
        numbers.upsert(k, |known| {
            number = known.unwrap_or(new);
            number
        });
        if number == new {
            counts.push(0);
            stop = counts.len().is_multiple_of(CHECK_EVERY)
                && numbers.is_hash()
                && outgrows_cache::<K, u32>(counts.len(), values.len() + 1);
        }
        counts[number as usize] += 1;
        values.push(v);
        group_of.push(number);
    }
    // The groups in the table's order: where each starts, by number.
    let mut keys = Vec::with_capacity(counts.len());
    let mut lengths = Vec::with_capacity(counts.len());
    let mut starts = vec![0u32; counts.len()];
    let mut at = 0u32;
    for (k, number) in numbers {
        keys.push(k);
        lengths.push(counts[number as usize]);
        starts[number as usize] = at;
        at += counts[number as usize];
    }
    // The groups' ranges tile the records' places exactly (every key
    // numbered is in the table once), which makes the moves below a
    // permutation; the `unsafe` relies on it.
    assert_eq!(
        at as usize,
        values.len(),
        "every group is in the table once"
    );
    // Each record moves to its place: its group's start, after the group's
    // records before it. (Independent stores, so their cache misses
    // overlap; swapping records along the permutation's cycles instead
    // makes each miss wait for the one before.)
    let mut sorted: Vec<MaybeUninit<V>> = Vec::with_capacity(values.len());
    sorted.resize_with(values.len(), MaybeUninit::uninit);
    for (v, number) in values.into_iter().zip(group_of) {
        let next = &mut starts[number as usize];
        sorted[*next as usize].write(v);
        *next += 1;
    }
    let mut sorted = ManuallyDrop::new(sorted);
    // SAFETY: the places written are a permutation of `0..len` (see the
    // assertion), so every slot was written once; `MaybeUninit<V>` has the
    // layout of `V`; and the buffer's ownership moves to the new `Vec`.
    let values = unsafe {
        Vec::from_raw_parts(
            sorted.as_mut_ptr().cast::<V>(),
            sorted.len(),
            sorted.capacity(),
        )
    };
    let counted = values.len();
    let groups = Groups {
        keys: keys.into_iter(),
        lengths: lengths.into_iter(),
        values: values.into_iter(),
    };
    (groups, counted)
}

/// Counted groups: the keys in order, each group's length, and the values
/// one group after the other.
struct Groups<K, V> {
    keys: std::vec::IntoIter<K>,
    lengths: std::vec::IntoIter<u32>,
    values: std::vec::IntoIter<V>,
}

impl<K, V> Iterator for Groups<K, V> {
    type Item = (K, Vec<V>);

    fn next(&mut self) -> Option<(K, Vec<V>)> {
        let (k, n) = (self.keys.next()?, self.lengths.next()? as usize);
        let mut group = Vec::with_capacity(n);
        group.extend(self.values.by_ref().take(n));
        Some((k, group))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.keys.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    /// Each key's values in input order, keys in first-seen order.
    fn model<K: Key, V: Clone>(records: &[(K, V)]) -> Vec<(K, Vec<V>)> {
        let mut order = Vec::new();
        let mut groups: HashMap<K, Vec<V>> = HashMap::new();
        for (k, v) in records {
            groups
                .entry(k.clone())
                .or_insert_with(|| {
                    order.push(k.clone());
                    Vec::new()
                })
                .push(v.clone());
        }
        order
            .into_iter()
            .map(|k| {
                let vs = groups.remove(&k).unwrap();
                (k, vs)
            })
            .collect()
    }

    /// The groups of `records`, counting `limit` at a time, in first-seen
    /// order of their keys (the output's own order is the table's).
    fn grouped<K: Key, V: Clone>(records: &[(K, V)], limit: usize) -> Vec<(K, Vec<V>)> {
        let out: Vec<(K, Vec<V>)> = group_values_counting(records.iter().cloned(), limit).collect();
        let mut out: HashMap<K, Vec<V>> = out.into_iter().collect();
        model(records)
            .into_iter()
            .map(|(k, _)| {
                let vs = out.remove(&k).expect("every key has a group");
                (k, vs)
            })
            .collect()
    }

    fn skewed(n: u64) -> Vec<(u64, u64)> {
        (0..n)
            .map(|i| (if i % 3 == 0 { 7 } else { i * 31 % 101 }, i))
            .collect()
    }

    #[test]
    fn groups_hold_every_value_of_their_key_in_input_order() {
        let dense = skewed(5000);
        assert_eq!(grouped(&dense, MAX_COUNTED), model(&dense));
        let sparse: Vec<(u64, u64)> = dense.iter().map(|&(k, v)| (k << 40, v)).collect();
        assert_eq!(grouped(&sparse, MAX_COUNTED), model(&sparse));
        let strings: Vec<(String, u64)> =
            dense.iter().map(|&(k, v)| (format!("k{k}"), v)).collect();
        assert_eq!(grouped(&strings, MAX_COUNTED), model(&strings));
        assert_eq!(grouped::<u64, u64>(&[], MAX_COUNTED), vec![]);
    }

    #[test]
    fn dense_integer_keys_come_out_in_key_order() {
        let records = skewed(1000);
        let keys: Vec<u64> = group_values(records.into_iter()).map(|(k, _)| k).collect();
        assert!(keys.is_sorted());
    }

    #[test]
    fn records_beyond_one_count_join_their_groups_in_order() {
        for limit in [1, 7, 100, 4999] {
            let records = skewed(5000);
            assert_eq!(grouped(&records, limit), model(&records), "limit {limit}");
        }
    }

    #[test]
    fn many_new_hashed_keys_stop_counting_and_are_merged_in_parts() {
        // Keys far apart (a hash table), mostly new, more than a cache
        // holds: counting stops part-way and an aggregation takes the rest.
        let records: Vec<(u64, u64)> = (0..300_000u64)
            .map(|i| ((i * 7_919 % 200_000) << 40, i))
            .collect();
        let (_, counted) = counting_sort(&mut records.iter().cloned(), MAX_COUNTED);
        assert!(counted < records.len(), "counted {counted}");
        assert_eq!(grouped(&records, MAX_COUNTED), model(&records));
    }

    #[test]
    fn every_value_is_dropped_once() {
        // Groups taken whole, taken in part, and never read.
        let value = Arc::new(());
        let records: Vec<(u32, Arc<()>)> = (0..300).map(|i| (i % 13, value.clone())).collect();
        let groups: Vec<_> = group_values(records.clone().into_iter()).collect();
        assert_eq!(groups.iter().map(|(_, vs)| vs.len()).sum::<usize>(), 300);
        drop(groups);
        drop(
            group_values(records.clone().into_iter())
                .take(3)
                .collect::<Vec<_>>(),
        );
        drop(group_values_counting(records.into_iter(), 50));
        assert_eq!(Arc::strong_count(&value), 1);
    }
}
