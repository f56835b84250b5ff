//! [`Aggregation`]: gathering records by key when there are more keys than
//! a CPU cache holds.
//!
//! Records go into a [`KeyTable`] until its hash table outgrows
//! [`CACHE_BYTES`]. If by then most records have brought a new key (a
//! `distinct`, or the reduce side of an aggregation whose map side already
//! combined), every further insert would miss the cache too. So the table's entries
//! and the records still to come are split by hash into parts small enough
//! for their tables to stay in cache, and each part is aggregated on its own
//! when the output is read: radix-partitioned aggregation, as DuckDB's and
//! Velox's hash aggregations do. A key's records all land in one part, so
//! every key still comes out once, with all its records merged.
//!
//! The parts hold the records as they come, so splitting pays only when
//! records are mostly new keys: at most [`RECORDS_PER_KEY`] records per key
//! so far. Many records over fewer keys (a word count's map side) stay in
//! the table, which then merges them as they come, and whose frequent keys
//! stay in cache anyway.
//!
//! Direct-address tables ([`DenseTable`](crate::agg::dense_table)) are never split:
//! their updates cost no probing.
//!
//! The output order is deterministic (part by part, each in its table's
//! order), so a recomputed partition comes out the same.

use crate::agg::dense_table::{Cursor, index_of, is_integer};
use crate::agg::fast_map::{FastMap, upsert};
use crate::agg::key_table::{Entries, KeyTable};
use foldhash::fast::FixedState;
use std::hash::{BuildHasher, Hash};

/// The most memory a hash table may take before aggregation splits into
/// parts: half the L2 cache of a current server core.
const CACHE_BYTES: usize = 1 << 20;
/// Splitting needs at most this many records so far per key held.
const RECORDS_PER_KEY: usize = 2;
/// Parts when the number of keys to come is not known.
const DEFAULT_PARTS: usize = 64;
/// Bounds on the number of parts.
const MIN_PARTS: usize = 4;
const MAX_PARTS: usize = 1024;

/// The bytes a hash table spends per entry: the entry, its control byte,
/// and the free slots of a table at most 7/8 full.
fn entry_bytes<K, C>() -> usize {
    (size_of::<(K, C)>() + 1) * 8 / 7
}

/// Whether a hash table of `keys` keys (`(K, C)` entries) after `records`
/// records takes more than [`CACHE_BYTES`] while most records brought a
/// new key: every further insert would then miss the cache too.
pub(crate) fn outgrows_cache<K, C>(keys: usize, records: usize) -> bool {
    keys * entry_bytes::<K, C>() > CACHE_BYTES && keys * RECORDS_PER_KEY >= records
}

/// How a record's value `v` updates its key's combiner: merged into the
/// current one (`merge`), or starting one (`create`).
#[inline]
pub(crate) fn update<V, C>(
    v: V,
    create: impl Fn(V) -> C,
    merge: impl Fn(C, V) -> C,
) -> impl FnOnce(Option<C>) -> C {
    move |c| match c {
        Some(c) => merge(c, v),
        None => create(v),
    }
}

/// Records of type `(K, V)` gathered into one combiner `C` per key (see the
/// [module docs](self)).
pub(crate) enum Aggregation<K, V, C> {
    Table {
        table: KeyTable<K, C>,
        /// How many records went into the table while it was a hash
        /// table (at least as many as it has keys when it splits).
        records: usize,
        /// How many records there are in all, if known (0 if not): it
        /// sizes the split.
        total: usize,
    },
    Parts(Parts<K, V, C>),
}

impl<K: Hash + Eq + 'static, V, C> Aggregation<K, V, C> {
    /// Goes on aggregating into `table`, which holds `records` records,
    /// with `coming` more known to come (0 if not known).
    pub(crate) fn new(mut table: KeyTable<K, C>, records: usize, coming: usize) -> Self {
        let total = if coming == 0 { 0 } else { records + coming };
        table.hint_keys(total);
        Aggregation::Table {
            table,
            records,
            total,
        }
    }

    /// Adds a record: merged into its key's combiner (`merge`) or starting
    /// one (`create`).
    #[inline]
    pub(crate) fn add(
        &mut self,
        (k, v): (K, V),
        create: impl Fn(V) -> C,
        merge: impl Fn(C, V) -> C,
    ) {
        match self {
            Aggregation::Table { table, records, .. } => {
                let hash = table.is_hash();
                table.upsert(k, update(v, create, merge));
                if !hash {
                    // Direct-address tables are never split, so their
                    // records go uncounted (a counter in memory is a store
                    // in this hot loop); if the table has just turned into
                    // a hash table, its keys so far count one record each.
                    return;
                }
                *records = (*records + 1).max(table.len());
                if outgrows_cache::<K, C>(table.len(), *records) {
                    self.split();
                }
            }
            Aggregation::Parts(parts) => parts.push(k, v),
        }
    }

    /// Adds every record of `records`, as [`add`](Self::add) does. Records
    /// whose key a direct-address table has a slot for go in through a
    /// [`Cursor`], without the checks of `add` (which table, whether to
    /// split) or reloading the table's fields for every record.
    pub(crate) fn extend(
        &mut self,
        records: impl Iterator<Item = (K, V)>,
        create: impl Fn(V) -> C,
        merge: impl Fn(C, V) -> C,
    ) {
        if !is_integer::<K>() {
            // One `fold`: a `BoxIter` runs it a whole chunk at a time.
            return records.fold((), |(), record| self.add(record, &create, &merge));
        }
        // Every use of the aggregation goes through `this`, so that the
        // cursor's pointers, made from it, stay valid until it is used
        // again (a closure borrowing `self` would invalidate them).
        let this: *mut Self = self;
        // SAFETY: `this` is `self`, not used otherwise until the fold is
        // done (so for every `&mut *this` below).
        let mut cursor = unsafe { &mut *this }.cursor();
        let added = records.fold(0, |added, (k, v)| {
            if let Some(cursor) = &mut cursor
                && let Some(index) = index_of(&k)
                && cursor.covers(index)
            {
                // SAFETY: the cursor is made again after every use of the
                // aggregation (below).
                let new = unsafe { cursor.upsert(index, update(v, &create, &merge)) };
                return added + usize::from(new);
            }
            // The table has to grow or turn into a hash table, or is one.
            // SAFETY: as above; the cursor is remade before its next use.
            let aggregation = unsafe { &mut *this };
            aggregation.count_added(added);
            aggregation.add((k, v), &create, &merge);
            cursor = aggregation.cursor();
            0
        });
        self.count_added(added);
    }

    /// What the aggregation holds: entries (keys, or records of a split
    /// one), and the bytes of their slots (not what they point to).
    pub(crate) fn held(&self) -> (usize, usize) {
        match self {
            Aggregation::Table { table, .. } => (table.len(), table.slot_bytes()),
            Aggregation::Parts(parts) => parts.parts.iter().fold((0, 0), |(n, bytes), part| {
                (
                    n + part.combiners.len() + part.values.len(),
                    bytes
                        + part.combiners.capacity() * size_of::<(K, C)>()
                        + part.values.capacity() * size_of::<(K, V)>(),
                )
            }),
        }
    }

    /// Moves a direct-address table into a hash table if that takes less
    /// memory; whether it did.
    pub(crate) fn compact(&mut self) -> bool {
        match self {
            Aggregation::Table { table, .. } => table.spread_if_smaller(),
            Aggregation::Parts(_) => false,
        }
    }

    /// The combiner of `key`, if it is in the table (not yet split).
    pub(crate) fn combiner_of(&mut self, key: &K) -> Option<&C> {
        match self {
            Aggregation::Table { table, .. } => table.get_mut(key).map(|c| &*c),
            Aggregation::Parts(_) => None,
        }
    }

    /// A cursor on the table's slots, if it is a direct-address one.
    fn cursor(&mut self) -> Option<Cursor<C>> {
        match self {
            Aggregation::Table {
                table: KeyTable::Dense(table, _),
                ..
            } => Some(table.cursor()),
            _ => None,
        }
    }

    /// Counts `added` keys that a cursor put in a direct-address table.
    fn count_added(&mut self, added: usize) {
        if let Aggregation::Table {
            table: KeyTable::Dense(table, _),
            ..
        } = self
        {
            table.count_added(added);
        }
    }

    /// Moves the table's entries into parts, sized for the keys it holds
    /// plus the records still to come.
    #[cold]
    fn split(&mut self) {
        let Aggregation::Table {
            table: KeyTable::Hash(table),
            records,
            total,
        } = std::mem::replace(self, Aggregation::new(KeyTable::default(), 0, 0))
        else {
            unreachable!("only hash tables are split");
        };
        let expected = total.saturating_sub(records);
        let count = if expected == 0 {
            DEFAULT_PARTS
        } else {
            ((table.len() + expected) * entry_bytes::<K, C>() / CACHE_BYTES)
                .next_power_of_two()
                .clamp(MIN_PARTS, MAX_PARTS)
        };
        // Hashing spreads the records evenly: room for a part's share and
        // an eighth more, so that parts seldom grow (and copy) as they fill.
        let share = expected / count;
        let mut parts = Parts {
            hasher: FixedState::default(),
            mask: count - 1,
            parts: (0..count)
                .map(|_| Part {
                    combiners: Vec::new(),
                    values: Vec::with_capacity(share + share / 8),
                })
                .collect(),
        };
        for (k, c) in table {
            let i = parts.index(&k);
            parts.parts[i].combiners.push((k, c));
        }
        *self = Aggregation::Parts(parts);
    }

    /// The combiners, one per key.
    pub(crate) fn into_iter<FC, FM>(self, create: FC, merge: FM) -> Output<K, V, C, FC, FM>
    where
        FC: Fn(V) -> C,
        FM: Fn(C, V) -> C,
    {
        match self {
            Aggregation::Table { table, .. } => Output::Table(table.into_iter()),
            Aggregation::Parts(parts) => Output::Parts {
                parts: parts.parts.into_iter(),
                current: FastMap::default().into_iter(),
                create,
                merge,
            },
        }
    }
}

/// The records of an aggregation that was split, by part.
pub(crate) struct Parts<K, V, C> {
    hasher: FixedState,
    /// Parts are numbered by hash bits `32..`: a part's table indexes by
    /// the low bits and tags by the top ones, which vary across its keys.
    mask: usize,
    parts: Vec<Part<K, V, C>>,
}

impl<K: Hash, V, C> Parts<K, V, C> {
    #[inline]
    fn index(&self, k: &K) -> usize {
        (self.hasher.hash_one(k) >> 32) as usize & self.mask
    }

    #[inline]
    fn push(&mut self, k: K, v: V) {
        let i = self.index(&k);
        self.parts[i].values.push((k, v));
    }
}

/// One part: combiners taken from the table (one per key) and the records
/// that came after the split.
pub(crate) struct Part<K, V, C> {
    combiners: Vec<(K, C)>,
    values: Vec<(K, V)>,
}

impl<K: Hash + Eq, V, C> Part<K, V, C> {
    /// The part's combiners with its records merged in.
    fn aggregate(self, create: impl Fn(V) -> C, merge: impl Fn(C, V) -> C) -> FastMap<K, C> {
        // At most one key per record; no more than a cache's worth reserved
        // up front (records may share keys).
        let keys =
            (self.combiners.len() + self.values.len()).min(CACHE_BYTES / entry_bytes::<K, C>());
        let mut table = FastMap::with_capacity_and_hasher(keys, FixedState::default());
        table.extend(self.combiners);
        for (k, v) in self.values {
            upsert(&mut table, k, update(v, &create, &merge));
        }
        table
    }
}

/// An [`Aggregation`]'s combiners, taken out of it; a split one aggregates
/// each part as it is reached.
pub(crate) enum Output<K, V, C, FC, FM> {
    Table(Entries<K, C>),
    Parts {
        parts: std::vec::IntoIter<Part<K, V, C>>,
        current: hashbrown::hash_map::IntoIter<K, C>,
        create: FC,
        merge: FM,
    },
}

impl<K, V, C, FC, FM> Iterator for Output<K, V, C, FC, FM>
where
    K: Hash + Eq + 'static,
    FC: Fn(V) -> C,
    FM: Fn(C, V) -> C,
{
    type Item = (K, C);

    #[inline]
    fn next(&mut self) -> Option<(K, C)> {
        match self {
            Output::Table(entries) => entries.next(),
            Output::Parts {
                parts,
                current,
                create,
                merge,
            } => loop {
                if let Some(entry) = current.next() {
                    return Some(entry);
                }
                *current = parts.next()?.aggregate(&*create, &*merge).into_iter();
            },
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Output::Table(entries) => entries.size_hint(),
            Output::Parts { parts, current, .. } if parts.len() == 0 => current.size_hint(),
            Output::Parts { current, .. } => (current.len(), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Aggregates `records` into `Vec`s of values, knowing their number up
    /// front if `known`; the output sorted, and whether it was split.
    fn groups(records: &[(u64, u32)], known: bool) -> (Vec<(u64, Vec<u32>)>, bool) {
        // `u64` keys spread past a direct-address table's reach.
        let coming = if known { records.len() } else { 0 };
        let mut aggregation = Aggregation::new(KeyTable::default(), 0, coming);
        let create = |v| vec![v];
        let merge = |mut c: Vec<u32>, v| {
            c.push(v);
            c
        };
        for &record in records {
            aggregation.add(record, create, merge);
        }
        let split = matches!(aggregation, Aggregation::Parts(_));
        let mut out: Vec<_> = aggregation.into_iter(create, merge).collect();
        out.sort();
        (out, split)
    }

    fn model(records: &[(u64, u32)]) -> Vec<(u64, Vec<u32>)> {
        let mut groups: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        for &(k, v) in records {
            groups.entry(k).or_default().push(v);
        }
        groups.into_iter().collect()
    }

    /// Keys far apart (no direct-address table), `distinct` of them, each
    /// seen `repeats` times, interleaved.
    fn records(distinct: u64, repeats: u32) -> Vec<(u64, u32)> {
        (0..repeats)
            .flat_map(|r| (0..distinct).map(move |k| (k.wrapping_mul(0x9E37_79B9_7F4A_7C15), r)))
            .collect()
    }

    #[test]
    fn many_keys_split_and_every_key_comes_out_once_with_all_its_records() {
        // More keys than a cache-sized table holds, each key's records
        // both before and after the split; with and without a size hint.
        let records = records(200_000, 2);
        for known in [true, false] {
            let (out, split) = groups(&records, known);
            assert!(split);
            assert_eq!(out, model(&records));
        }
    }

    #[test]
    fn few_keys_or_many_records_per_key_stay_in_one_table() {
        // Few keys; and more keys than a cache-sized table holds, but each
        // seen thrice before the table grows that big (parts would buffer
        // every record).
        let thrice: Vec<(u64, u32)> = (0..600_000u64)
            .map(|i| ((i / 3).wrapping_mul(0x9E37_79B9_7F4A_7C15), i as u32))
            .collect();
        for records in [records(1000, 3), thrice] {
            let (out, split) = groups(&records, true);
            assert!(!split);
            assert_eq!(out, model(&records));
        }
    }

    #[test]
    fn extend_adds_as_add_does_while_the_table_grows_and_spreads() {
        // Dense keys, then keys below them (the table grows), then keys far
        // apart (it turns into a hash table), then dense keys again.
        let records: Vec<(u64, u32)> = (0..3000u32)
            .map(|i| (u64::from(i % 500) + 1000, i))
            .chain((0..3000).map(|i| (u64::from(i % 700), i)))
            .chain((0..2000).map(|i| (u64::from(i) << 40, i)))
            .chain((0..3000).map(|i| (u64::from(i % 900), i)))
            .collect();
        let create = |v| vec![v];
        let merge = |mut c: Vec<u32>, v| {
            c.push(v);
            c
        };
        for end in [3000, 6000, records.len()] {
            let mut aggregation = Aggregation::new(KeyTable::default(), 0, 0);
            aggregation.extend(records[..end].iter().copied(), create, merge);
            let entries = aggregation.into_iter(create, merge);
            // The table counted the keys the cursor put in.
            let counted = entries.size_hint();
            let mut out: Vec<_> = entries.collect();
            assert_eq!(counted, (out.len(), Some(out.len())), "first {end} records");
            out.sort();
            assert_eq!(out, model(&records[..end]), "first {end} records");
        }
    }

    #[test]
    fn extend_drops_every_combiner_once() {
        let value = std::sync::Arc::new(());
        let records = (0..5000u32).map(|i| (i % 777, value.clone()));
        let mut aggregation = Aggregation::new(KeyTable::default(), 0, 0);
        aggregation.extend(
            records,
            |v| vec![v],
            |mut c, v| {
                c.push(v);
                c
            },
        );
        let held: usize = aggregation
            .into_iter(
                |v| vec![v],
                |mut c, v| {
                    c.push(v);
                    c
                },
            )
            .map(|(_, c)| c.len())
            .sum();
        assert_eq!((held, std::sync::Arc::strong_count(&value)), (5000, 1));
    }

    #[test]
    fn output_order_is_the_same_every_time() {
        let records = records(100_000, 2);
        let run = || {
            let mut aggregation = Aggregation::new(KeyTable::default(), 0, 0);
            for &record in &records {
                aggregation.add(record, |v| v, |a, b| a.max(b));
            }
            aggregation
                .into_iter(|v| v, |a: u32, b| a.max(b))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
