//! Hash maps used by operators: fast (foldhash) and deterministic (fixed
//! seed), so a recomputed partition comes out in the same order.

/// The hash map barks' operators aggregate into.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// The hash set barks' operators use.
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::FixedState>;
