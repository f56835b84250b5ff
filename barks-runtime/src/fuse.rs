//! Fusion of narrow operators: what `pipeline!` turns a run of two or more
//! record-wise operators (`map`, `filter`, `flat_map`, `filter_map`,
//! `key_by`) in one chain into.
//!
//! Unfused, every operator is a node of its own and a record crosses one
//! boxed iterator (a dynamic call) per operator. Fused, the run is a single
//! node whose partition function is one statically typed iterator chain
//! over the user's closures: rustc inlines them into one loop.
//!
//! The macro expands `data.flat_map(f).map(g)` to (in spirit):
//!
//! ```
//! use barks_runtime::{Context, fuse, parallelize};
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
use crate::dataset::Dataset;
use crate::records::BoxIter;
use std::marker::PhantomData;
use std::sync::Arc;

/// The element type at one point of a fused run (carries no value).
pub struct Ty<T>(PhantomData<fn() -> T>);

fn ty<T>() -> Ty<T> {
    Ty(PhantomData)
}

/// The element type of the dataset a fused run starts from.
pub fn start<T>(_: &Dataset<T>) -> Ty<T> {
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

/// The fused node: `steps` applied to every partition of `data`. A run of
/// filters only (`keeps_keys`) keeps `data`'s key partitioning.
pub fn run<T, U, I, F>(data: &Dataset<T>, _: Ty<U>, keeps_keys: bool, steps: F) -> Dataset<U>
where
    T: Send + 'static,
    U: Send + 'static,
    I: Iterator<Item = U> + Send + 'static,
    F: Fn(BoxIter<T>) -> I + Send + Sync + 'static,
{
    if keeps_keys {
        data.narrow_keeping_keys(move |_, it| steps(it))
    } else {
        data.map_partitions_with_index(move |_, it| steps(it))
    }
}
