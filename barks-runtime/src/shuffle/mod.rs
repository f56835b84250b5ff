//! Shuffles: the stage boundaries. Each kind has a map side (a
//! [`ShuffleDep`](crate::plan::node::ShuffleDep) that lays out one map task's
//! output) and a reduce side (a node that reads its partition from every map
//! output).
//!
//! - [`hash_partitioned`]: records go to the partition their key hashes to (or any
//!   partitioner function); the basis of every `*_by_key`, join and repartition.
//! - [`range_partitioned`]: map tasks sort their partition and send a key sample; the
//!   driver picks range bounds; reducers merge their key range from every run.
//! - [`indexed`]: map outputs kept whole with their counts, for
//!   `zip_with_index`.
//!
//! [`store`] keeps a process's map outputs until no stage reads them: in
//! memory while the budget allows, else spilled.

mod bucket;
pub(crate) mod hash_partitioned;
pub(crate) mod indexed;
pub(crate) mod range_partitioned;
pub(crate) mod store;

use crate::plan::node::{Dep, ShuffleDep};
use std::sync::Arc;

/// The planning view shared by every reduce-side node.
pub(crate) struct ReduceSide {
    pub id: usize,
    pub dep: Arc<dyn ShuffleDep>,
    pub partitions: usize,
}

impl ReduceSide {
    pub(crate) fn new(dep: Arc<dyn ShuffleDep>, partitions: usize) -> Self {
        ReduceSide {
            id: crate::plan::scope::next_id(),
            dep,
            partitions,
        }
    }
}

/// Implements `AnyNode` for a reduce-side node with a `side: ReduceSide` field.
macro_rules! reduce_side_node {
    ($node:ident < $($p:ident),* >) => {
        impl<$($p: Send + Sync + 'static),*> crate::plan::node::AnyNode for $node<$($p),*> {
            fn id(&self) -> usize {
                self.side.id
            }
            fn num_partitions(&self) -> usize {
                self.side.partitions
            }
            fn deps(&self) -> Vec<crate::plan::node::Dep> {
                self.side.deps()
            }
        }
    };
}
pub(crate) use reduce_side_node;

impl ReduceSide {
    pub(crate) fn deps(&self) -> Vec<Dep> {
        vec![Dep::Shuffle(self.dep.clone())]
    }
}
