//! The traits a dataset's element types must satisfy, with compiler messages
//! that tell a user what to change.

use crate::dataset::Dataset;
use crate::error::Result;
use crate::job::{ArgDecoder, ArgEncoder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::hash::Hash;

/// A value that can live in a dataset: it is cloned when a shuffle output is
/// read twice, moves between threads, and is serialized when it crosses a
/// process boundary.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of a barks dataset",
    label = "dataset elements must be `Clone + Send + Sync + Serialize + DeserializeOwned + 'static`",
    note = "derive `Clone, serde::Serialize, serde::Deserialize` for your own types; use owned types (`String`, not `&str`)"
)]
pub trait Data: Clone + Send + Sync + Serialize + DeserializeOwned + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static> Data for T {}

/// A job argument: the only values a job receives from the driver.
#[diagnostic::on_unimplemented(
    message = "job argument of type `{Self}` cannot be sent to workers",
    label = "this job argument must implement `Serialize + DeserializeOwned`",
    note = "job arguments are serialized by the driver and decoded on every worker: derive `serde::Serialize, serde::Deserialize` for it, or pass something that can be (a path, an id, plain data)"
)]
pub trait JobArg: Serialize + DeserializeOwned + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned + 'static> JobArg for T {}

/// How a job encodes (on the driver) and decodes (on workers) one argument
/// type. `#[barks::job]` builds these once per job, in a `const`, so a type
/// that is not a [`JobArg`] is reported once, at the argument's type.
#[doc(hidden)]
pub struct ArgCodec<A> {
    pub encode: fn(&mut ArgEncoder, &A),
    pub decode: fn(&mut ArgDecoder<'_>) -> Result<A>,
}

/// The codec of `A`; requires `A: JobArg`.
#[doc(hidden)]
pub const fn arg_codec<A: JobArg>() -> ArgCodec<A> {
    fn encode<A: JobArg>(args: &mut ArgEncoder, value: &A) {
        args.arg(value)
    }
    fn decode<A: JobArg>(args: &mut ArgDecoder<'_>) -> Result<A> {
        args.arg()
    }
    ArgCodec {
        encode: encode::<A>,
        decode: decode::<A>,
    }
}

/// A `(key, value)` element: what every `*_by_key`, join and cogroup needs.
#[diagnostic::on_unimplemented(
    message = "this operator needs a dataset of `(key, value)` pairs, but the dataset holds `{Self}`",
    label = "not a key-value dataset",
    note = "turn the elements into pairs first, e.g. `.map(|x| (key_of(&x), x))` or `.key_by(|x| ...)`"
)]
pub trait Pair: Data {
    /// The key type.
    type K: Key;
    /// The value type.
    type V: Data;
    /// Views a dataset of `Self` as a dataset of `(K, V)` (no copy: for the
    /// one implementation, `(K, V)` itself, this is the same dataset).
    fn pairs(data: &Dataset<Self>) -> Dataset<(Self::K, Self::V)>;
    /// The element as a `(K, V)` tuple (for `(K, V)` itself, a move).
    fn into_pair(self) -> (Self::K, Self::V);
    /// The element's key.
    fn key(&self) -> &Self::K;
    /// The element of a key and a value (for `(K, V)` itself, the tuple).
    fn from_pair(key: Self::K, value: Self::V) -> Self;
}

impl<K: Key, V: Data> Pair for (K, V) {
    type K = K;
    type V = V;
    fn pairs(data: &Dataset<(K, V)>) -> Dataset<(K, V)> {
        data.clone()
    }
    #[inline(always)]
    fn into_pair(self) -> (K, V) {
        self
    }
    #[inline(always)]
    fn key(&self) -> &K {
        &self.0
    }
    #[inline(always)]
    fn from_pair(key: K, value: V) -> Self {
        (key, value)
    }
}

/// A key that can be hash-partitioned and grouped.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a key: keys are hashed and compared",
    label = "keys must implement `Hash + Eq` (and be dataset elements)",
    note = "derive `Hash, PartialEq, Eq` for your key type; floats are not keys, wrap them (e.g. in their bit pattern)"
)]
pub trait Key: Data + Hash + Eq {}

#[diagnostic::do_not_recommend]
impl<T: Data + Hash + Eq> Key for T {}

/// A key a dataset can be globally sorted by.
#[diagnostic::on_unimplemented(
    message = "cannot sort by `{Self}`: it has no total order",
    label = "a sort key must implement `Ord`",
    note = "derive `PartialOrd, Ord` for it, or sort by a field that is `Ord` (for floats use `f64::total_cmp` through a wrapper or sort by `to_bits()` of a non-negative value)"
)]
pub trait SortKey: Data + Ord {}

#[diagnostic::do_not_recommend]
impl<T: Data + Ord> SortKey for T {}

/// Joining two datasets needs the same key type on both sides.
#[diagnostic::on_unimplemented(
    message = "cannot join on keys of different types: the left key is `{Left}`, the right key is `{Self}`",
    label = "the right dataset's key type differs from the left one's",
    note = "convert one side's keys first, e.g. `.map(|(k, v)| (k as u64, v))`"
)]
pub trait SameKey<Left>: Sized {
    /// The right dataset with its key type named as the left one's.
    fn cast<W>(data: &Dataset<(Self, W)>) -> Dataset<(Left, W)>;
}

impl<K> SameKey<K> for K {
    fn cast<W>(data: &Dataset<(K, W)>) -> Dataset<(K, W)> {
        data.clone()
    }
}
