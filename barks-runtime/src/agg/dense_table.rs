//! A direct-address table for aggregating by integer key: the combiner of
//! key `k` lives in slot `k - base` of an array, and a bitmap says which
//! slots hold one.
//!
//! For keys that are dense integers (node ids, row ids, small codes) this
//! is an order of magnitude faster than a hash table: an update is one
//! load and one store at a computed address, with no hashing, probing or
//! growth by rehashing. [`KeyTable`](crate::agg::key_table::KeyTable) uses
//! it whenever the key type is a primitive integer and the keys stay dense
//! enough ([`DenseTable::reach`]); otherwise it moves what it has into a
//! hash table and goes on there.
//!
//! ```
//! # // The table is internal; this shows the key mapping it relies on.
//! use barks_runtime::agg::dense_table::{index_of, key_at};
//! assert_eq!(index_of(&7u32), Some(7));
//! assert!(index_of(&-1i32) < index_of(&0i32)); // order is kept
//! assert_eq!(key_at::<i64>(index_of(&-5i64).unwrap()), Some(-5));
//! assert_eq!(index_of(&"seven".to_string()), None);
//! ```

use std::any::TypeId;
use std::mem::MaybeUninit;

/// Applies `$body` with `$t` bound to `K` if `K` is one of the listed
/// integer types (a comparison of constants, folded at compile time).
macro_rules! for_integer_type {
    ($k:ty, |$t:ident, $signed:ident| $body:block) => {{
        for_integer_type!(@each $k, $body, $t, $signed, false: u8, u16, u32, u64, usize);
        for_integer_type!(@each $k, $body, $t, $signed, true: i8, i16, i32, i64, isize);
    }};
    (@each $k:ty, $body:block, $t:ident, $signed:ident, $s:literal: $($ty:ty),*) => {$(
        if TypeId::of::<$k>() == TypeId::of::<$ty>() {
            type $t = $ty;
            let $signed = $s;
            $body
        }
    )*};
}

/// Whether `K` is a primitive integer type (keys [`index_of`] maps).
#[inline(always)]
pub fn is_integer<K: 'static>() -> bool {
    for_integer_type!(K, |_T, _signed| {
        return true;
    });
    false
}

/// An integer key's position among its type's values, as a `u64` that
/// keeps their order (signed types are offset by `2^63`); `None` if `K` is
/// not a primitive integer type.
#[inline(always)]
#[allow(clippy::unnecessary_cast)] // the identity for some of the types
pub fn index_of<K: 'static>(key: &K) -> Option<u64> {
    for_integer_type!(K, |T, signed| {
        // SAFETY: `K` is `T` (same `TypeId`).
        let value = unsafe { *(key as *const K).cast::<T>() };
        return Some(if signed {
            (value as i64 as u64) ^ (1 << 63)
        } else {
            value as u64
        });
    });
    None
}

/// The key whose [`index_of`] is `index`; `None` if `K` is not a primitive
/// integer type.
#[inline(always)]
#[allow(clippy::unnecessary_cast)] // the identity for some of the types
pub fn key_at<K: 'static>(index: u64) -> Option<K> {
    for_integer_type!(K, |T, signed| {
        let value = if signed {
            (index ^ (1 << 63)) as i64 as T
        } else {
            index as T
        };
        // SAFETY: `K` is `T` (same `TypeId`).
        return Some(unsafe { std::mem::transmute_copy::<T, K>(&value) });
    });
    None
}

/// The memory a table may take whatever number of keys it holds.
const FREE_BYTES: u128 = 16 << 20;
/// Beyond [`FREE_BYTES`], the most slots a table has per key it holds.
const SLOTS_PER_KEY: u128 = 4;
/// The fewest slots a table allocates.
const MIN_SLOTS: u128 = 1024;

/// Combiners indexed by key index (see the [module docs](self)).
pub(crate) struct DenseTable<C> {
    /// The key index of slot 0, a multiple of 64.
    base: u64,
    /// Bit `i % 64` of word `i / 64` is set when slot `i` holds a value.
    present: Vec<u64>,
    /// `present.len() * 64` slots.
    values: Box<[MaybeUninit<C>]>,
    len: usize,
    /// How many keys the input may still bring, if known (see
    /// [`hint_keys`](Self::hint_keys)).
    expected: usize,
}

impl<C> DenseTable<C> {
    pub(crate) fn new() -> Self {
        DenseTable {
            base: 0,
            present: Vec::new(),
            values: Box::new([]),
            len: 0,
            expected: 0,
        }
    }

    /// Tells the table its input holds about `keys` keys in all, at most:
    /// growing, it then makes room at once for the span that many keys take
    /// at the density seen so far. Keys arriving in order (a reduce side
    /// reading sorted map outputs) would otherwise grow it by doubling, a
    /// copy each time. Slots never written cost no memory.
    pub(crate) fn hint_keys(&mut self, keys: usize) {
        self.expected = keys;
    }

    /// Makes the table cover `index`, growing it if that keeps it within
    /// its memory bounds; `false` (and no change) if it would not.
    #[inline]
    pub(crate) fn reach(&mut self, index: u64) -> bool {
        index.wrapping_sub(self.base) < self.values.len() as u64 || self.grow_to(index)
    }

    /// Sets the combiner at `index` (which the table [reaches](Self::reach))
    /// to `f(Some(current))`, or to `f(None)` if there is none (see
    /// [`merge_into`]).
    #[inline(always)]
    pub(crate) fn upsert(&mut self, index: u64, f: impl FnOnce(Option<C>) -> C) {
        let slot = index.wrapping_sub(self.base) as usize;
        let (Some(mask), Some(value)) =
            (self.present.get_mut(slot / 64), self.values.get_mut(slot))
        else {
            unreachable!("upsert at index {index} outside the table; call reach first")
        };
        if merge_into(mask, 1 << (slot % 64), value, f) {
            self.len += 1;
        }
    }

    /// A [`Cursor`] on the table's slots as they are now.
    pub(crate) fn cursor(&mut self) -> Cursor<C> {
        Cursor {
            base: self.base,
            slots: self.values.len() as u64,
            present: self.present.as_mut_ptr(),
            values: self.values.as_mut_ptr(),
        }
    }

    /// Counts `added` keys that a [`Cursor`] put in.
    pub(crate) fn count_added(&mut self, added: usize) {
        self.len += added;
    }

    /// The combiner at `index`, if there is one.
    #[inline]
    pub(crate) fn get_mut(&mut self, index: u64) -> Option<&mut C> {
        let slot = usize::try_from(index.wrapping_sub(self.base)).ok()?;
        if *self.present.get(slot / 64)? & (1 << (slot % 64)) == 0 {
            return None;
        }
        // SAFETY: the slot's bit is set, so it holds a value.
        Some(unsafe { self.values[slot].assume_init_mut() })
    }

    /// The number of combiners held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bytes of its slots and bitmap (not what the values point to).
    pub(crate) fn slot_bytes(&self) -> usize {
        self.values.len() * size_of::<C>() + self.present.len() * 8
    }

    #[cold]
    fn grow_to(&mut self, index: u64) -> bool {
        let (index, old_base, old_slots) = (
            u128::from(index),
            u128::from(self.base),
            self.values.len() as u128,
        );
        let (lo, hi) = if old_slots == 0 {
            (index, index + 1)
        } else {
            (old_base.min(index), (old_base + old_slots).max(index + 1))
        };
        // The most slots the table may need to hold one more key, and the
        // most it takes when growing (twice as many, so that a table kept
        // near its bound still grows by doubling).
        let free = FREE_BYTES / size_of::<C>().max(1) as u128;
        let keys = self.len as u128 + 1;
        let (bound, cap) = (
            free.max(keys * SLOTS_PER_KEY),
            free.max(2 * keys * SLOTS_PER_KEY),
        );
        if hi - lo > bound || cap > usize::MAX as u128 / 2 {
            return false;
        }
        // At least double (so growth is amortized) within the cap, towards
        // the new index; upwards, to the span the expected keys take (an
        // eighth more: the density seen so far is an estimate).
        let predicted = if self.len >= MIN_SLOTS as usize / 16 && index >= old_base + old_slots {
            (hi - lo) * self.expected as u128 / self.len as u128 * 9 / 8
        } else {
            0
        };
        let slots = (hi - lo)
            .max((2 * old_slots).min(cap))
            .max(predicted.min(cap))
            .max(MIN_SLOTS)
            .next_multiple_of(64);
        let base = if old_slots > 0 && index < old_base {
            hi.saturating_sub(slots) & !63
        } else {
            lo & !63
        };
        let slots = slots.max((hi - base).next_multiple_of(64));
        // Near the top of the key space, grow downwards instead.
        let base = base.min((1u128 << 64).saturating_sub(slots));
        let mut grown = DenseTable {
            base: base as u64,
            present: vec![0; (slots / 64) as usize],
            values: Box::new_uninit_slice(slots as usize),
            len: 0,
            expected: self.expected,
        };
        for (index, value) in std::mem::replace(self, DenseTable::new()).into_iter() {
            let slot = (index - grown.base) as usize;
            grown.values[slot].write(value);
            grown.present[slot / 64] |= 1 << (slot % 64);
            grown.len += 1;
        }
        *self = grown;
        true
    }

    /// The combiners with their key indexes, in key order.
    pub(crate) fn into_iter(self) -> IntoIter<C> {
        IntoIter {
            table: self,
            word: 0,
        }
    }
}

impl<C> Drop for DenseTable<C> {
    fn drop(&mut self) {
        if std::mem::needs_drop::<C>() {
            for (word, &mask) in self.present.iter().enumerate() {
                let mut bits = mask;
                while bits != 0 {
                    let slot = word * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    // SAFETY: the slot's bit is set, so it holds a value.
                    unsafe { self.values[slot].assume_init_drop() };
                }
            }
        }
    }
}

/// Sets the combiner in `value`, whose presence is `bit` of `mask`, to
/// `f(Some(current))`, or to `f(None)` if there is none; whether it was
/// none. A value that needs dropping is marked empty while `f` runs, so a
/// panicking `f` drops nothing twice.
#[inline(always)]
fn merge_into<C>(
    mask: &mut u64,
    bit: u64,
    value: &mut MaybeUninit<C>,
    f: impl FnOnce(Option<C>) -> C,
) -> bool {
    if *mask & bit == 0 {
        value.write(f(None));
        *mask |= bit;
        return true;
    }
    // A value that does not need dropping is left marked: its copy in the
    // slot is as good as gone, and one store fewer is the hot loop's.
    if std::mem::needs_drop::<C>() {
        *mask &= !bit;
    }
    // SAFETY: the bit was set, so the slot holds a value; it is moved to
    // `f` and the slot rewritten before the bit is read again.
    let old = unsafe { value.assume_init_read() };
    value.write(f(Some(old)));
    if std::mem::needs_drop::<C>() {
        *mask |= bit;
    }
    false
}

/// A [`DenseTable`]'s slots held open for a loop of updates
/// ([`Aggregation::extend`](crate::agg::aggregation::Aggregation::extend)): where they
/// are, copied into the loop's own state, so that an update loads none of
/// them again through the aggregation that holds the table, and checks
/// nothing but the slot's range (ARCHITECTURE.md, "Dense updates go
/// through a cursor").
///
/// It borrows nothing, so the loop can also use the table by its safe
/// methods when an update falls outside the slots (the table grows, or
/// turns into a hash table); [`upsert`](Self::upsert) is `unsafe` instead,
/// and a cursor is made again after every such use.
pub(crate) struct Cursor<C> {
    base: u64,
    slots: u64,
    present: *mut u64,
    values: *mut MaybeUninit<C>,
}

impl<C> Cursor<C> {
    /// Whether `index` has a slot.
    #[inline(always)]
    pub(crate) fn covers(&self, index: u64) -> bool {
        index.wrapping_sub(self.base) < self.slots
    }

    /// As [`DenseTable::upsert`] at an index the cursor
    /// [covers](Self::covers); whether the key is new (the table counts it
    /// when told, with [`DenseTable::count_added`]).
    ///
    /// # Safety
    ///
    /// The table the cursor was made from is alive and has not been used
    /// or moved since.
    #[inline(always)]
    pub(crate) unsafe fn upsert(&mut self, index: u64, f: impl FnOnce(Option<C>) -> C) -> bool {
        let slot = index.wrapping_sub(self.base);
        debug_assert!(
            slot < self.slots,
            "upsert at index {index} outside the cursor"
        );
        let slot = slot as usize;
        // SAFETY: `slot` is within the table's slots, and its arrays are
        // where they were when the cursor was made (the caller's promise).
        let (mask, value) = unsafe {
            (
                &mut *self.present.add(slot / 64),
                &mut *self.values.add(slot),
            )
        };
        merge_into(mask, 1 << (slot % 64), value, f)
    }
}

/// Takes a table's combiners out in key order; those not taken are
/// dropped with the table.
pub(crate) struct IntoIter<C> {
    table: DenseTable<C>,
    word: usize,
}

impl<C> Iterator for IntoIter<C> {
    type Item = (u64, C);

    #[inline]
    fn next(&mut self) -> Option<(u64, C)> {
        loop {
            let mask = self.table.present.get_mut(self.word)?;
            if *mask == 0 {
                self.word += 1;
                continue;
            }
            let slot = self.word * 64 + mask.trailing_zeros() as usize;
            *mask &= *mask - 1;
            self.table.len -= 1;
            // SAFETY: the slot's bit was set; it is cleared, so the value
            // is moved out exactly once.
            let value = unsafe { self.table.values[slot].assume_init_read() };
            return Some((self.table.base + slot as u64, value));
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.table.len, Some(self.table.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    #[test]
    fn keys_map_to_ordered_indexes_and_back() {
        for k in [i32::MIN, -1, 0, 1, i32::MAX] {
            assert_eq!(key_at::<i32>(index_of(&k).unwrap()), Some(k));
        }
        assert!(index_of(&-1i64) < index_of(&0i64));
        assert_eq!(key_at::<u64>(index_of(&u64::MAX).unwrap()), Some(u64::MAX));
        assert_eq!(index_of(&(1u32, 2u32)), None);
        assert!(is_integer::<usize>() && !is_integer::<f64>() && !is_integer::<String>());
    }

    /// Sums `records` by key in a table; `None` where it refused a key.
    fn sums(records: &[(u64, u64)]) -> Option<BTreeMap<u64, u64>> {
        let mut table = DenseTable::new();
        for &(k, v) in records {
            if !table.reach(k) {
                return None;
            }
            table.upsert(k, |c: Option<u64>| c.unwrap_or(0) + v);
        }
        assert_eq!(table.len(), table.into_iter().count());
        let mut table = DenseTable::new();
        for &(k, v) in records {
            assert!(table.reach(k));
            table.upsert(k, |c: Option<u64>| c.unwrap_or(0) + v);
        }
        let out: Vec<_> = table.into_iter().collect();
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "in key order");
        Some(out.into_iter().collect())
    }

    fn model(records: &[(u64, u64)]) -> BTreeMap<u64, u64> {
        let mut m = BTreeMap::new();
        for &(k, v) in records {
            *m.entry(k).or_default() += v;
        }
        m
    }

    #[test]
    fn sums_agree_with_a_model_growing_both_ways() {
        let records: Vec<(u64, u64)> = (0..50_000u64)
            .map(|i| (1_000_000 + (i * 7919) % 300_000 - (i % 3) * 100_000, i))
            .collect();
        assert_eq!(sums(&records), Some(model(&records)));
        assert_eq!(sums(&[]), Some(BTreeMap::new()));
        assert_eq!(
            sums(&[(u64::MAX, 1), (u64::MAX - 5, 2)]),
            Some(model(&[(u64::MAX, 1), (u64::MAX - 5, 2)]))
        );
    }

    #[test]
    fn keys_in_order_grow_an_expecting_table_once_to_their_span() {
        // 100k keys, every other index, in order: the density after the
        // first table predicts the whole span.
        let keys = 100_000u64;
        let mut table = DenseTable::new();
        table.hint_keys(keys as usize);
        let mut sizes = Vec::new();
        for k in 0..keys {
            assert!(table.reach(2 * k));
            table.upsert(2 * k, |c: Option<u64>| c.unwrap_or(0) + k);
            if sizes.last() != Some(&table.values.len()) {
                sizes.push(table.values.len());
            }
        }
        assert_eq!(sizes.len(), 2, "grown more than once: {sizes:?}");
        assert!(sizes[1] >= 2 * keys as usize);
        let out: Vec<(u64, u64)> = table.into_iter().collect();
        assert_eq!(out, (0..keys).map(|k| (2 * k, k)).collect::<Vec<_>>());
    }

    #[test]
    fn sparse_keys_are_refused() {
        assert_eq!(sums(&[(0, 1), (u64::MAX, 1)]), None);
        assert_eq!(sums(&[(1 << 40, 1), (0, 1)]), None);
    }

    #[test]
    fn values_are_dropped_once_even_when_a_merge_panics() {
        let counted = Arc::new(());
        let mut table = DenseTable::new();
        for k in [5u64, 900, 3] {
            assert!(table.reach(k));
            table.upsert(k, |_| counted.clone());
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            table.upsert(900, |old| {
                drop(old);
                panic!("merge failed")
            })
        }));
        assert!(outcome.is_err());
        assert_eq!(Arc::strong_count(&counted), 3);
        let mut rest = table.into_iter();
        assert_eq!(rest.next().map(|(k, _)| k), Some(3));
        drop(rest);
        assert_eq!(Arc::strong_count(&counted), 1);
    }
}
