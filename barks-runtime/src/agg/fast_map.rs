//! Hash maps used by operators: fast (foldhash) and deterministic (fixed
//! seed), so a recomputed partition comes out in the same order; and the
//! one way aggregations update them, [`upsert`] / [`upsert_borrowed`].
//!
//! An aggregation merges a value into its key's combiner *by value*
//! (`reduce_by_key`'s `Fn(V, V) -> V`). `std`'s entry API can only do that
//! with an `Option` around every combiner to move it out of its slot, and
//! hashbrown's `replace_entry_with` takes the entry out of the table and
//! puts it back, a costly step on word count's hot path. Here the
//! combiner is moved out of its slot and the merged value written back in
//! place; if the merge panics, the table is leaked rather than dropped, so
//! the moved-out value is never dropped twice (the task fails anyway).

use hashbrown::hash_map::{Entry, EntryRef};
use std::borrow::Borrow;
use std::hash::Hash;

/// The hash map barks' operators aggregate into.
pub type FastMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::FixedState>;

/// Sets `key`'s value to `f(Some(current))`, or inserts `f(None)`.
#[inline]
pub(crate) fn upsert<K: Hash + Eq, V>(
    table: &mut FastMap<K, V>,
    key: K,
    f: impl FnOnce(Option<V>) -> V,
) {
    let table: *mut FastMap<K, V> = table;
    // SAFETY: the occupied value's pointer is derived from `table`, and
    // neither is used by anything else until `merge_in_place` returns.
    match unsafe { (*table).entry(key) } {
        // SAFETY: `e` points into `table`, which nothing else uses meanwhile.
        Entry::Occupied(e) => unsafe { merge_in_place(table, e.into_mut(), |v| f(Some(v))) },
        Entry::Vacant(e) => {
            e.insert(f(None));
        }
    }
}

/// Like [`upsert`] with a borrowed key, copied into an owned one only when
/// it is inserted.
#[inline]
pub(crate) fn upsert_borrowed<K, Q, V>(
    table: &mut FastMap<K, V>,
    key: &Q,
    f: impl FnOnce(Option<V>) -> V,
) where
    K: Hash + Eq + Borrow<Q>,
    Q: ?Sized + Hash + Eq + ToOwned<Owned = K>,
{
    let table: *mut FastMap<K, V> = table;
    // SAFETY: as in `upsert`.
    match unsafe { (*table).entry_ref(key) } {
        // SAFETY: as in `upsert`.
        EntryRef::Occupied(e) => unsafe { merge_in_place(table, e.into_mut(), |v| f(Some(v))) },
        EntryRef::Vacant(e) => {
            e.insert(f(None));
        }
    }
}

/// Replaces the value at `slot` by `merge(value)`.
///
/// # Safety
///
/// `slot` points to a value stored in `*table`, and nothing else accesses
/// `*table` or `slot` while this runs.
#[inline]
unsafe fn merge_in_place<K, V>(
    table: *mut FastMap<K, V>,
    slot: *mut V,
    merge: impl FnOnce(V) -> V,
) {
    /// Armed while the slot holds a moved-out value: if `merge` unwinds,
    /// the table is replaced by an empty one and forgotten, so that no
    /// value in it (the moved-out one included) is dropped.
    struct LeakOnUnwind<K, V>(*mut FastMap<K, V>);
    impl<K, V> Drop for LeakOnUnwind<K, V> {
        fn drop(&mut self) {
            // SAFETY: `self.0` is the live table of `merge_in_place`'s caller.
            std::mem::forget(std::mem::take(unsafe { &mut *self.0 }));
        }
    }
    let guard = LeakOnUnwind(table);
    // SAFETY: `slot` is valid (the caller's contract); it is written again
    // before anything reads it, or never read again (the guard).
    let merged = merge(unsafe { std::ptr::read(slot) });
    std::mem::forget(guard);
    // SAFETY: as above; the old value was moved out, so nothing is leaked.
    unsafe { std::ptr::write(slot, merged) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Arc;

    #[test]
    fn upserts_merge_in_place_and_insert_new_keys() {
        let mut table: FastMap<String, Vec<u32>> = FastMap::default();
        for (w, n) in [("a", 1), ("b", 2), ("a", 3)] {
            upsert_borrowed(&mut table, w, |old| {
                let mut v = old.unwrap_or_default();
                v.push(n);
                v
            });
        }
        upsert(&mut table, "b".to_string(), |old| {
            old.into_iter().flatten().chain([4]).collect()
        });
        let mut got: Vec<_> = table.into_iter().collect();
        got.sort();
        assert_eq!(got, [("a".into(), vec![1, 3]), ("b".into(), vec![2, 4])]);
    }

    #[test]
    fn a_panicking_merge_drops_no_value_twice() {
        // Each value holds a reference count: dropping one twice would
        // underflow it (a double free of the `Arc`).
        let counted = Arc::new(());
        let mut table: FastMap<u32, Arc<()>> = FastMap::default();
        upsert(&mut table, 1, |_| counted.clone());
        upsert(&mut table, 2, |_| counted.clone());
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            upsert(&mut table, 1, |old: Option<Arc<()>>| {
                drop(old);
                panic!("merge failed")
            })
        }));
        assert!(outcome.is_err());
        // The table was leaked and left empty; the moved-out value was
        // dropped once, by the merge; key 2's value is leaked, not dropped.
        assert!(table.is_empty());
        assert_eq!(Arc::strong_count(&counted), 2);
        upsert(&mut table, 3, |_| counted.clone());
        assert_eq!(table.len(), 1);
    }
}
