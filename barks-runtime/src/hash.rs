//! Hash maps used by operators: fast (foldhash) and deterministic (fixed
//! seed), so a recomputed partition comes out in the same order.
//!
//! They are `hashbrown`'s maps rather than `std`'s (the same table) for
//! [`OccupiedEntry::replace_entry_with`](hashbrown::hash_map::OccupiedEntry::replace_entry_with):
//! an aggregation merges a value into its combiner by value, in place,
//! without an `Option` around every combiner to move it out of the slot.

/// The hash map barks' operators aggregate into.
pub type FastMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::FixedState>;
