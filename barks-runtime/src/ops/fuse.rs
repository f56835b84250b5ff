//! Fusion of narrow operators: what `pipeline!` turns a run of record-wise
//! operators (`map`, `filter`, `flat_map`, `filter_map`, `key_by`) into —
//! two or more in a row, or one or more read from an inner [`join`] (see
//! [`Input`]) or feeding [`reduce_by_key`]'s map-side combiner.
//!
//! Unfused, every operator is a node of its own and a record crosses one
//! boxed iterator (a dynamic call) per operator. Fused, the run is a single
//! node whose partition function is one statically typed iterator chain
//! over the user's closures: rustc inlines them into one loop.
//!
//! The macro expands `data.flat_map(f).map(g)` to (in spirit):
//!
//! ```
//! use barks_runtime::ops::fuse;
//! use barks_runtime::{Context, parallelize};
//!
//! let ctx = Context::new("local[2]").unwrap();
//! let mut pairs = ctx
//!     .run(|| {
//!         let data = parallelize(vec!["a b".to_string(), "c".to_string()], None);
//!         let t = fuse::start(&data);
//!         let (f, t) = fuse::flat_map(t, |l: String| {
//!             l.split(' ').map(str::to_owned).collect::<Vec<_>>()
//!         });
//!         let (g, t) = fuse::map(t, |w| (w, 1u64));
//!         fuse::run(&data, t, false, move |it| {
//!             let it = fuse::flat_map_iter(it, f.clone());
//!             fuse::map_iter(it, g.clone())
//!         })
//!         .collect()
//!     })
//!     .unwrap();
//! pairs.sort();
//! assert_eq!(pairs, [("a".into(), 1), ("b".into(), 1), ("c".into(), 1)]);
//! ```
//!
//! Each step function takes the element type of the step before it (a
//! [`Ty`] witness), so a closure's argument types are inferred exactly as
//! with the `Dataset` methods, and requires what they require (outputs are
//! [`Data`], keys are [`Key`]).

use crate::data::{Data, Key};
use crate::ops::by_key::Pair;
use crate::ops::by_key::SameKey;
use crate::ops::by_key::{combine_map_side, merge_combiners_by_key};
use crate::ops::dataset::Dataset;
use crate::ops::join::{JoinPartition, zip_partitions};
use crate::records::BoxIter;
use std::marker::PhantomData;
use std::sync::Arc;

/// The element type at one point of a fused run (carries no value).
pub struct Ty<T>(PhantomData<fn() -> T>);

fn ty<T>() -> Ty<T> {
    Ty(PhantomData)
}

/// What a fused run reads: a dataset's records, or the rows of an inner
/// [`join`] (so a join's matches go straight into the run's loop).
pub trait Input: Send + Sync + 'static {
    /// A partition's records, as the run's first step takes them.
    type Rows: Iterator + Send + 'static;

    /// The dataset of `f` applied to each partition's rows; with
    /// `keeps_keys` (`f` does not touch keys), it keeps the rows' key
    /// partitioning.
    fn apply<U, I, F>(&self, keeps_keys: bool, f: F) -> Dataset<U>
    where
        U: Send + 'static,
        I: Iterator<Item = U> + Send + 'static,
        F: Fn(Self::Rows) -> I + Send + Sync + 'static;

    /// Whether the rows are hash-partitioned by key.
    fn by_key(&self) -> bool;
}

impl<T: Send + 'static> Input for Dataset<T> {
    type Rows = BoxIter<T>;

    fn apply<U, I, F>(&self, keeps_keys: bool, f: F) -> Dataset<U>
    where
        U: Send + 'static,
        I: Iterator<Item = U> + Send + 'static,
        F: Fn(BoxIter<T>) -> I + Send + Sync + 'static,
    {
        if keeps_keys {
            self.narrow_keeping_keys(move |_, it| f(it))
        } else {
            self.map_partitions_with_index(move |_, it| f(it))
        }
    }

    fn by_key(&self) -> bool {
        self.hash_partitions.is_some()
    }
}

/// `left.join(right)` as the [`Input`] of a fused run: both sides
/// co-partitioned, joined inside the run's node.
pub struct Joined<K, V, W> {
    left: Dataset<(K, V)>,
    right: Dataset<(K, W)>,
}

/// The rows of an inner join of one partition, `(key, (left, right))`.
pub struct JoinRows<K, V, W>(JoinPartition<K, V, W>);

impl<K: Key, V: Data, W: Data> Iterator for JoinRows<K, V, W> {
    type Item = (K, (V, W));

    #[inline]
    fn next(&mut self) -> Option<(K, (V, W))> {
        loop {
            // An inner join yields both sides of every row.
            if let (k, (Some(v), Some(w))) = self.0.next()? {
                return Some((k, (v, w)));
            }
        }
    }

    #[inline]
    fn fold<B, G: FnMut(B, Self::Item) -> B>(self, init: B, g: G) -> B {
        self.0.fold_matches(init, g)
    }
}

impl<K: Key, V: Data, W: Data> Input for Joined<K, V, W> {
    type Rows = JoinRows<K, V, W>;

    fn apply<U, I, F>(&self, keeps_keys: bool, f: F) -> Dataset<U>
    where
        U: Send + 'static,
        I: Iterator<Item = U> + Send + 'static,
        F: Fn(JoinRows<K, V, W>) -> I + Send + Sync + 'static,
    {
        let mut out = zip_partitions(&self.left, &self.right, move |l, r| {
            f(JoinRows(JoinPartition::new(l, r, false, false)))
        });
        if !keeps_keys {
            out.hash_partitions = None;
        }
        out
    }

    fn by_key(&self) -> bool {
        self.left.hash_partitions.is_some()
    }
}

/// `left.join(right)` (the bounds and partitioning of
/// [`Dataset::join`]) to be read by a fused run.
pub fn join<T, K2, W>(left: &Dataset<T>, right: &Dataset<(K2, W)>) -> Joined<T::K, T::V, W>
where
    T: Pair,
    K2: SameKey<T::K>,
    W: Data,
{
    let (left, right) = left.co_partition(right);
    Joined { left, right }
}

/// The element type of the input a fused run starts from.
pub fn start<In: Input>(_: &In) -> Ty<<In::Rows as Iterator>::Item> {
    ty()
}

/// A `map` step.
pub fn map<T, U: Data, F>(_: Ty<T>, f: F) -> (Arc<F>, Ty<U>)
where
    F: Fn(T) -> U + Send + Sync + 'static,
{
    (Arc::new(f), ty())
}

/// A `filter` step.
pub fn filter<T, F>(_: Ty<T>, f: F) -> (Arc<F>, Ty<T>)
where
    F: Fn(&T) -> bool + Send + Sync + 'static,
{
    (Arc::new(f), ty())
}

/// A `flat_map` step.
pub fn flat_map<T, I, F>(_: Ty<T>, f: F) -> (Arc<F>, Ty<I::Item>)
where
    I: IntoIterator + 'static,
    I::Item: Data,
    I::IntoIter: Send + 'static,
    F: Fn(T) -> I + Send + Sync + 'static,
{
    (Arc::new(f), ty())
}

/// A `filter_map` step.
pub fn filter_map<T, U: Data, F>(_: Ty<T>, f: F) -> (Arc<F>, Ty<U>)
where
    F: Fn(T) -> Option<U> + Send + Sync + 'static,
{
    (Arc::new(f), ty())
}

/// A `key_by` step.
pub fn key_by<T, K: Key, F>(_: Ty<T>, f: F) -> (Arc<F>, Ty<(K, T)>)
where
    F: Fn(&T) -> K + Send + Sync + 'static,
{
    (Arc::new(f), ty())
}

/// Applies a `map` step to a partition's records.
pub fn map_iter<T, U, F: Fn(T) -> U>(
    it: impl Iterator<Item = T>,
    f: Arc<F>,
) -> impl Iterator<Item = U> {
    it.map(move |x| f(x))
}

/// Applies a `filter` step to a partition's records.
pub fn filter_iter<T, F: Fn(&T) -> bool>(
    it: impl Iterator<Item = T>,
    f: Arc<F>,
) -> impl Iterator<Item = T> {
    it.filter(move |x| f(x))
}

/// Applies a `flat_map` step to a partition's records.
pub fn flat_map_iter<T, I: IntoIterator, F: Fn(T) -> I>(
    it: impl Iterator<Item = T>,
    f: Arc<F>,
) -> impl Iterator<Item = I::Item> {
    it.flat_map(move |x| f(x))
}

/// Applies a `filter_map` step to a partition's records.
pub fn filter_map_iter<T, U, F: Fn(T) -> Option<U>>(
    it: impl Iterator<Item = T>,
    f: Arc<F>,
) -> impl Iterator<Item = U> {
    it.filter_map(move |x| f(x))
}

/// Applies a `key_by` step to a partition's records.
pub fn key_by_iter<T, K, F: Fn(&T) -> K>(
    it: impl Iterator<Item = T>,
    f: Arc<F>,
) -> impl Iterator<Item = (K, T)> {
    it.map(move |x| (f(&x), x))
}

/// The fused node: `steps` applied to every partition of `input`. A run
/// of filters only (`keeps_keys`) keeps the input's key partitioning.
pub fn run<In, U, I, F>(input: &In, _: Ty<U>, keeps_keys: bool, steps: F) -> Dataset<U>
where
    In: Input,
    U: Send + 'static,
    I: Iterator<Item = U> + Send + 'static,
    F: Fn(In::Rows) -> I + Send + Sync + 'static,
{
    input.apply(keeps_keys, steps)
}

/// A fused run followed by `reduce_by_key(f)`: the run's records go
/// straight into the map-side combiner, in the run's own loop. The result
/// is [`Dataset::reduce_by_key`]'s.
pub fn reduce_by_key<In, U, I, S, F>(
    input: &In,
    _: Ty<U>,
    keeps_keys: bool,
    steps: S,
    f: F,
) -> Dataset<(U::K, U::V)>
where
    In: Input,
    U: Pair,
    I: Iterator<Item = U> + Send + 'static,
    S: Fn(In::Rows) -> I + Send + Sync + 'static,
    F: Fn(U::V, U::V) -> U::V + Send + Sync + 'static,
{
    let f = Arc::new(f);
    let merge = f.clone();
    let shuffled = !(keeps_keys && input.by_key());
    let combined = input.apply(keeps_keys, move |rows| {
        let f = f.clone();
        let pairs = steps(rows).map(Pair::into_pair);
        combine_map_side(pairs, shuffled, |v| v, move |a, b| f(a, b))
    });
    merge_combiners_by_key(&combined, move |a, b| merge(a, b))
}
