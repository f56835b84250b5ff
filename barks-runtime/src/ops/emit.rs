//! `flat_map_reduce_by_key`: a `flat_map` to key-value pairs fused with
//! `reduce_by_key`, where the closure *lends* its keys.
//!
//! `lines.flat_map(split into owned words).map(|w| (w, 1)).reduce_by_key(+)`
//! allocates a `String` for every word, and the map-side combiner frees
//! it again at once for every word it has seen before (nearly all of
//! them). Here the closure hands each key to an [`Emit`] by reference
//! (`&str` out of the line it holds); the combiner looks it up borrowed
//! (hashbrown's `entry_ref`) and copies it into an owned key only the first
//! time the partition sees it. BENCHMARKS.md compares the two on word
//! count (`wordcount` against `wordcount-chain`, `scripts/bench.sh`).
//!
//! Semantics are `reduce_by_key`'s: `reduce` must be associative and
//! commutative, and the result is hash-partitioned by key.
//!
//! ```
//! use barks_runtime::{Context, parallelize};
//!
//! let ctx = Context::new("local[2]").unwrap();
//! let mut counts = ctx
//!     .run(|| {
//!         let lines = parallelize(vec!["a b a".to_string(), "b a".to_string()], Some(2));
//!         lines
//!             .flat_map_reduce_by_key(
//!                 |line: String, words| {
//!                     for w in line.split_whitespace() {
//!                         words.emit(w, 1u64);
//!                     }
//!                 },
//!                 |a, b| a + b,
//!             )
//!             .collect()
//!     })
//!     .unwrap();
//! counts.sort();
//! assert_eq!(counts, [("a".to_string(), 3), ("b".to_string(), 2)]);
//! ```

use crate::agg::fast_map::{FastMap, upsert_borrowed};
use crate::data::{Data, Key};
use crate::ops::by_key::merge_combiners_by_key;
use crate::ops::dataset::Dataset;
use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::Arc;

/// Where a [`flat_map_reduce_by_key`](Dataset::flat_map_reduce_by_key)
/// closure sends its `(key, value)` pairs: a partition's map-side
/// combiner.
pub struct Emit<'a, K, V, R> {
    table: &'a mut FastMap<K, V>,
    reduce: &'a R,
}

impl<K: Key, V, R: Fn(V, V) -> V> Emit<'_, K, V, R> {
    /// Adds `value` under `key`: merged with `reduce` into the key's value
    /// so far, or stored with an owned copy of `key` if the partition has
    /// not seen the key before. `key` is any borrowed form of the key type
    /// (`&str` for `String` keys, `&[u8]` for `Vec<u8>`, `&K` itself).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let lines = vec!["a b a".to_string(), "b".to_string()];
    /// let mut counts = ctx
    ///     .run(|| {
    ///         parallelize(lines, Some(2))
    ///             // `w` is a `&str` borrowed from the line; the key type is `String`.
    ///             .flat_map_reduce_by_key(
    ///                 |l: String, out| l.split(' ').for_each(|w| out.emit(w, 1)),
    ///                 |a, b| a + b,
    ///             )
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// counts.sort();
    /// assert_eq!(counts, [("a".to_string(), 2), ("b".to_string(), 2)]);
    /// ```
    #[inline]
    pub fn emit<Q>(&mut self, key: &Q, value: V)
    where
        Q: ?Sized + Hash + Eq + ToOwned<Owned = K>,
        K: Borrow<Q>,
    {
        upsert_borrowed(self.table, key, |old| match old {
            Some(old) => (self.reduce)(old, value),
            None => value,
        });
    }
}

impl<T: Data> Dataset<T> {
    /// For every record, `f(record, emit)` calls
    /// [`emit.emit(key, value)`](Emit::emit) for any number of pairs, with
    /// keys borrowed from the record; the values of each key are merged
    /// with `reduce`, as
    /// `flat_map(..).reduce_by_key(reduce)` would, without allocating an
    /// owned key per pair (see the [module docs](crate::ops::emit)).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let mut counts = ctx
    ///     .run(|| {
    ///         parallelize(vec![vec![1u8, 2, 1], vec![2, 1]], Some(2))
    ///             .flat_map_reduce_by_key(
    ///                 |bytes: Vec<u8>, out| bytes.iter().for_each(|b| out.emit(b, 1u64)),
    ///                 |a, b| a + b,
    ///             )
    ///             .collect()
    ///     })
    ///     .unwrap();
    /// counts.sort();
    /// assert_eq!(counts, [(1u8, 3), (2, 2)]);
    /// ```
    pub fn flat_map_reduce_by_key<K, V, F, R>(&self, f: F, reduce: R) -> Dataset<(K, V)>
    where
        K: Key,
        V: Data,
        F: Fn(T, &mut Emit<'_, K, V, R>) + Send + Sync + 'static,
        R: Fn(V, V) -> V + Send + Sync + 'static,
    {
        let (f, reduce) = (Arc::new(f), Arc::new(reduce));
        let map_side = reduce.clone();
        let combined = self.map_partitions(move |records| {
            let mut table = FastMap::default();
            let mut emit = Emit {
                table: &mut table,
                reduce: &*map_side,
            };
            for record in records {
                f(record, &mut emit);
            }
            table
        });
        merge_combiners_by_key(&combined, move |a, b| reduce(a, b))
    }
}
