//! Narrow dependencies: nodes whose partitions are computed from their
//! parents' partitions in the same task, with no data movement.

use crate::error::Result;
use crate::plan::node::{AnyNode, Dep, ErrorSink, Node, TaskContext};
use crate::plan::scope;
use crate::records::BoxIter;
use std::marker::PhantomData;
use std::sync::Arc;

/// Applies a function to each partition's iterator; every narrow operator
/// (map, filter, flat_map, sample, glob, ...) is one of these.
pub(crate) struct MapPartitions<In, Out, F> {
    id: usize,
    parent: Arc<dyn Node<In>>,
    f: Arc<F>,
    _out: PhantomData<fn() -> Out>,
}

impl<In, Out, F, I> MapPartitions<In, Out, F>
where
    In: 'static,
    Out: 'static,
    F: Fn(usize, BoxIter<In>, &ErrorSink) -> Result<I> + Send + Sync + 'static,
    I: Iterator<Item = Out> + Send + 'static,
{
    pub(crate) fn new(parent: Arc<dyn Node<In>>, f: F) -> Self {
        MapPartitions {
            id: scope::next_id(),
            parent,
            f: Arc::new(f),
            _out: PhantomData,
        }
    }
}

impl<In, Out, F> AnyNode for MapPartitions<In, Out, F>
where
    In: 'static,
    Out: 'static,
    F: Send + Sync,
{
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

impl<In, Out, F, I> Node<Out> for MapPartitions<In, Out, F>
where
    In: 'static,
    Out: 'static,
    F: Fn(usize, BoxIter<In>, &ErrorSink) -> Result<I> + Send + Sync + 'static,
    I: Iterator<Item = Out> + Send + 'static,
{
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<Out>> {
        let input = self.parent.compute(partition, tc)?;
        Ok(BoxIter::new((self.f)(partition, input, &tc.error_sink())?))
    }
}

/// The partitions of several datasets, one after the other.
pub(crate) struct Union<T> {
    id: usize,
    parents: Vec<Arc<dyn Node<T>>>,
}

impl<T: 'static> Union<T> {
    pub(crate) fn new(parents: Vec<Arc<dyn Node<T>>>) -> Self {
        Union {
            id: scope::next_id(),
            parents,
        }
    }
}

impl<T: 'static> AnyNode for Union<T> {
    fn id(&self) -> usize {
        self.id
    }
    fn num_partitions(&self) -> usize {
        self.parents.iter().map(|p| p.num_partitions()).sum()
    }
    fn deps(&self) -> Vec<Dep> {
        self.parents
            .iter()
            .map(|p| Dep::Narrow(p.clone()))
            .collect()
    }
}

impl<T: 'static> Node<T> for Union<T> {
    fn compute(&self, mut partition: usize, tc: &TaskContext) -> Result<BoxIter<T>> {
        for parent in &self.parents {
            let n = parent.num_partitions();
            if partition < n {
                return parent.compute(partition, tc);
            }
            partition -= n;
        }
        Ok(BoxIter::empty())
    }
}

/// Fewer partitions without a shuffle: each output partition chains a
/// contiguous range of parent partitions.
pub(crate) struct Coalesce<T> {
    id: usize,
    parent: Arc<dyn Node<T>>,
    partitions: usize,
}

impl<T: 'static> Coalesce<T> {
    pub(crate) fn new(parent: Arc<dyn Node<T>>, partitions: usize) -> Self {
        let partitions = partitions.clamp(1, parent.num_partitions().max(1));
        Coalesce {
            id: scope::next_id(),
            parent,
            partitions,
        }
    }

    fn range(&self, partition: usize) -> std::ops::Range<usize> {
        let total = self.parent.num_partitions();
        (partition * total / self.partitions)..((partition + 1) * total / self.partitions)
    }
}

impl<T: 'static> AnyNode for Coalesce<T> {
    fn id(&self) -> usize {
        self.id
    }
    fn num_partitions(&self) -> usize {
        self.partitions
    }
    fn deps(&self) -> Vec<Dep> {
        vec![Dep::Narrow(self.parent.clone())]
    }
}

impl<T: Send + 'static> Node<T> for Coalesce<T> {
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<T>> {
        let parts = self
            .range(partition)
            .map(|p| self.parent.compute(p, tc))
            .collect::<Result<Vec<_>>>()?;
        Ok(BoxIter::new(parts.into_iter().flatten()))
    }
}

/// Every pair of a left and a right element: partition `i` pairs left
/// partition `i / right_partitions` with right partition `i % right_partitions`.
pub(crate) struct Cartesian<A, B> {
    id: usize,
    left: Arc<dyn Node<A>>,
    right: Arc<dyn Node<B>>,
}

impl<A: 'static, B: 'static> Cartesian<A, B> {
    pub(crate) fn new(left: Arc<dyn Node<A>>, right: Arc<dyn Node<B>>) -> Self {
        Cartesian {
            id: scope::next_id(),
            left,
            right,
        }
    }
}

impl<A: 'static, B: 'static> AnyNode for Cartesian<A, B> {
    fn id(&self) -> usize {
        self.id
    }
    fn num_partitions(&self) -> usize {
        self.left.num_partitions() * self.right.num_partitions()
    }
    fn deps(&self) -> Vec<Dep> {
        vec![
            Dep::Narrow(self.left.clone()),
            Dep::Narrow(self.right.clone()),
        ]
    }
}

impl<A: Clone + Send + 'static, B: Clone + Send + Sync + 'static> Node<(A, B)> for Cartesian<A, B> {
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<(A, B)>> {
        let right_parts = self.right.num_partitions();
        let left = self.left.compute(partition / right_parts, tc)?;
        let right: Arc<Vec<B>> =
            Arc::new(self.right.compute(partition % right_parts, tc)?.collect());
        Ok(BoxIter::new(left.flat_map(move |a| {
            let right = right.clone();
            (0..right.len()).map(move |i| (a.clone(), right[i].clone()))
        })))
    }
}
