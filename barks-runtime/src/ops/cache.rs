//! `cache()`: keeps a dataset's partitions in memory for the rest of the job,
//! so a dataset read in every iteration of a loop (PageRank's `links`) is
//! computed once. Across jobs, use `persist()` instead.

use crate::error::Result;
use crate::ops::dataset::Dataset;
use crate::plan::node::{AnyNode, Dep, Node, TaskContext};
use crate::plan::scope;
use crate::records::BoxIter;
use std::sync::{Arc, Mutex};

struct Cached<T> {
    id: usize,
    parent: Arc<dyn Node<T>>,
    blocks: Mutex<Vec<Option<Arc<Vec<T>>>>>,
}

impl<T: Send + Sync + 'static> AnyNode for Cached<T> {
    fn id(&self) -> usize {
        self.id
    }
    fn num_partitions(&self) -> usize {
        self.parent.num_partitions()
    }
    fn deps(&self) -> Vec<Dep> {
        vec![Dep::Narrow(self.parent.clone())]
    }
}

impl<T: Clone + Send + Sync + 'static> Node<T> for Cached<T> {
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<T>> {
        let cached = self.blocks.lock().unwrap_or_else(|e| e.into_inner())[partition].clone();
        let block = match cached {
            Some(block) => block,
            None => {
                let block = Arc::new(self.parent.compute(partition, tc)?.into_vec());
                // A partition whose computation met bad input is not kept.
                if !tc.has_error() {
                    self.blocks.lock().unwrap_or_else(|e| e.into_inner())[partition] =
                        Some(block.clone());
                }
                block
            }
        };
        Ok(BoxIter::new(
            (0..block.len()).map(move |i| block[i].clone()),
        ))
    }
}

impl<T: Clone + Send + Sync + 'static> Dataset<T> {
    /// Keeps the partitions in memory once computed, for the rest of the job
    /// (keeping the key partitioning).
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    /// let ctx = Context::new("local[2]").unwrap();
    /// let n = ctx.run(|| {
    ///     let squares = parallelize((1..=4).collect::<Vec<u64>>(), Some(2)).map(|x| x * x).cache();
    ///     squares.union(&squares).count()
    /// });
    /// assert_eq!(n.unwrap(), 8);
    /// ```
    pub fn cache(&self) -> Dataset<T> {
        let partitions = self.num_partitions();
        let node = Cached {
            id: scope::next_id(),
            parent: self.node.clone(),
            blocks: Mutex::new(vec![None; partitions]),
        };
        let mut out = Dataset::from_node(Arc::new(node));
        out.hash_partitions = self.hash_partitions;
        out
    }
}
