//! The traits a dataset's element types must satisfy, with compiler messages
//! that tell a user what to change.

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
