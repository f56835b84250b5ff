//! [`KeyTable`]: one value per key, for every operator that gathers records
//! by key within a partition (the by-key aggregations on both sides of
//! their shuffle, `group_by_key`, the build side of joins).
//!
//! Integer keys go to a direct-address table ([`DenseTable`]) while they
//! stay dense enough; other keys, and integer keys once they spread too
//! thin, to a hash table ([`FastMap`]).
//!
//! Iteration order is deterministic (key order while dense), so a
//! recomputed partition comes out the same.

use crate::agg::dense_table::{self, DenseTable, index_of, is_integer, key_at};
use crate::agg::fast_map::{FastMap, upsert};
use std::hash::Hash;
use std::marker::PhantomData;

/// One value per key (see the [module docs](self)).
pub(crate) enum KeyTable<K, C> {
    Dense(DenseTable<C>, PhantomData<fn() -> K>),
    Hash(FastMap<K, C>),
}

impl<K: Hash + Eq + 'static, C> Default for KeyTable<K, C> {
    fn default() -> Self {
        if is_integer::<K>() {
            KeyTable::Dense(DenseTable::new(), PhantomData)
        } else {
            KeyTable::Hash(FastMap::default())
        }
    }
}

impl<K: Hash + Eq + 'static, C> KeyTable<K, C> {
    /// Sets `key`'s value to `f(Some(current))`, or inserts `f(None)`.
    // Always inlined: it is the inner loop of every aggregation, and a
    // dense update is a few instructions next to a call's cost.
    #[inline(always)]
    pub(crate) fn upsert(&mut self, key: K, f: impl FnOnce(Option<C>) -> C) {
        match self {
            KeyTable::Dense(table, _) => {
                let index = index_of(&key).expect("a dense table's keys are integers");
                if table.reach(index) {
                    return table.upsert(index, f);
                }
            }
            KeyTable::Hash(table) => return upsert(table, key, f),
        }
        // Too sparse for a direct-address table: go on in a hash table.
        self.spread();
        if let KeyTable::Hash(table) = self {
            upsert(table, key, f);
        }
    }

    /// Tells the table its input holds about `keys` keys at most (a
    /// direct-address table then grows in fewer steps; see
    /// [`DenseTable::hint_keys`]).
    pub(crate) fn hint_keys(&mut self, keys: usize) {
        if let KeyTable::Dense(table, _) = self {
            table.hint_keys(keys);
        }
    }

    /// The value of `key`, if it has one.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut C> {
        match self {
            KeyTable::Dense(table, _) => table.get_mut(index_of(key)?),
            KeyTable::Hash(table) => table.get_mut(key),
        }
    }

    /// The number of keys held.
    pub(crate) fn len(&self) -> usize {
        match self {
            KeyTable::Dense(table, _) => table.len(),
            KeyTable::Hash(table) => table.len(),
        }
    }

    /// The bytes the table itself takes (not what keys and values point
    /// to): its slots, whether used or not.
    pub(crate) fn slot_bytes(&self) -> usize {
        match self {
            KeyTable::Dense(table, _) => table.slot_bytes(),
            KeyTable::Hash(table) => table.capacity() * (size_of::<(K, C)>() + 1),
        }
    }

    /// Whether the keys are in a hash table (not a direct-address one).
    pub(crate) fn is_hash(&self) -> bool {
        matches!(self, KeyTable::Hash(_))
    }

    /// Moves a direct-address table's values into a hash table if that
    /// takes less memory (a table over keys spread thin, or sized for keys
    /// that did not come); whether it did.
    pub(crate) fn spread_if_smaller(&mut self) -> bool {
        let hashed = self.len() * (size_of::<(K, C)>() + 1) * 8 / 7;
        let smaller = matches!(self, KeyTable::Dense(..)) && hashed < self.slot_bytes();
        if smaller {
            self.spread();
        }
        smaller
    }

    /// Moves a dense table's values into a hash table.
    #[cold]
    fn spread(&mut self) {
        if let KeyTable::Dense(dense, _) =
            std::mem::replace(self, KeyTable::Hash(FastMap::default()))
        {
            let mut table = FastMap::default();
            table.reserve(dense.len() + 1);
            table.extend(Entries::<K, C>::Dense(dense.into_iter(), PhantomData));
            *self = KeyTable::Hash(table);
        }
    }
}

impl<K: 'static, C> IntoIterator for KeyTable<K, C> {
    type Item = (K, C);
    type IntoIter = Entries<K, C>;

    fn into_iter(self) -> Entries<K, C> {
        match self {
            KeyTable::Dense(table, _) => Entries::Dense(table.into_iter(), PhantomData),
            KeyTable::Hash(table) => Entries::Hash(table.into_iter()),
        }
    }
}

/// A [`KeyTable`]'s keys and values, taken out of it.
pub(crate) enum Entries<K, C> {
    Dense(dense_table::IntoIter<C>, PhantomData<fn() -> K>),
    Hash(hashbrown::hash_map::IntoIter<K, C>),
}

impl<K: 'static, C> Iterator for Entries<K, C> {
    type Item = (K, C);

    #[inline]
    fn next(&mut self) -> Option<(K, C)> {
        match self {
            Entries::Dense(it, _) => {
                let (index, c) = it.next()?;
                Some((key_at(index).expect("a dense table's keys are integers"), c))
            }
            Entries::Hash(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Entries::Dense(it, _) => it.size_hint(),
            Entries::Hash(it) => it.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn sums<K: Hash + Eq + Ord + Copy + 'static>(
        records: &[(K, u64)],
    ) -> (KeyTable<K, u64>, Vec<(K, u64)>) {
        let mut table = KeyTable::default();
        for &(k, v) in records {
            table.upsert(k, |c| c.unwrap_or(0) + v);
        }
        let mut model = BTreeMap::new();
        for &(k, v) in records {
            *model.entry(k).or_default() += v;
        }
        (table, model.into_iter().collect())
    }

    #[test]
    fn dense_integer_keys_come_out_in_key_order() {
        let records: Vec<(i32, u64)> = (0..10_000).map(|i| ((i * 37) % 1000 - 500, 1)).collect();
        let (mut table, model) = sums(&records);
        assert!(matches!(table, KeyTable::Dense(..)));
        assert_eq!(table.get_mut(&-500), Some(&mut 10));
        assert_eq!(table.get_mut(&501), None);
        assert_eq!(table.into_iter().collect::<Vec<_>>(), model);
    }

    #[test]
    fn keys_in_any_order_over_a_table_s_worth_of_range_stay_dense() {
        // A million possible keys (8 MB of `u64` slots) in scattered order,
        // then descending: the table grows within its bound, never past it.
        let scattered = (0..200_000u32).map(|i| ((i * 7_919) % 1_000_000, 1));
        let descending = (0..200_000u32).rev().map(|i| (i * 5, 1));
        let records: Vec<(u32, u64)> = scattered.chain(descending).collect();
        let (table, model) = sums(&records);
        assert!(matches!(table, KeyTable::Dense(..)));
        assert_eq!(table.into_iter().collect::<Vec<_>>(), model);
    }

    #[test]
    fn sparse_integer_keys_move_to_a_hash_table() {
        // Dense at first, then keys far apart, then dense again.
        let records: Vec<(u64, u64)> = (0..5000u64)
            .map(|i| (i % 700, i))
            .chain((0..5000).map(|i| (i << 40, i)))
            .chain((0..5000).map(|i| (i % 900, i)))
            .collect();
        let (mut table, model) = sums(&records);
        assert!(matches!(table, KeyTable::Hash(_)));
        assert_eq!(table.get_mut(&(1 << 40)).copied(), Some(1));
        let mut got: Vec<_> = table.into_iter().collect();
        got.sort();
        assert_eq!(got, model);
    }

    #[test]
    fn other_keys_use_a_hash_table() {
        let records: Vec<((u32, u32), u64)> = (0..3000).map(|i| ((i % 7, i % 11), 2)).collect();
        let (table, model) = sums(&records);
        let mut got: Vec<_> = table.into_iter().collect();
        got.sort();
        assert_eq!(got, model);
        assert_eq!(sums::<u8>(&[]).0.into_iter().count(), 0);
    }
}
