//! Keeps every partition whole and counts it, so a reduce task knows the
//! global index of its first record: the basis of `zip_with_index`.

use super::{ReduceSide, reduce_side_node};
use crate::data::Data;
use crate::error::Result;
use crate::plan::node::{AnyNode, MapOutput, Node, Shared, ShuffleDep, TaskContext, downcast};
use crate::records::BoxIter;
use crate::records::codec::{decode, encode, encode_any, encode_shared, encoded_len};
use std::any::Any;
use std::sync::Arc;

struct Materialize<T> {
    id: usize,
    parent: Arc<dyn Node<T>>,
}

impl<T: Data> ShuffleDep for Materialize<T> {
    fn id(&self) -> usize {
        self.id
    }
    fn parent(&self) -> Arc<dyn AnyNode> {
        self.parent.clone()
    }
    fn run_map(&self, partition: usize, tc: &TaskContext) -> Result<MapOutput> {
        let records: Vec<T> = self.parent.compute(partition, tc)?.into_vec();
        Ok(MapOutput {
            summary: Box::new(records.len() as u64),
            data: Arc::new(records),
        })
    }
    fn finalize(&self, summaries: Vec<Box<dyn Any + Send>>) -> Shared {
        let mut offsets = Vec::with_capacity(summaries.len());
        let mut next = 0u64;
        for s in summaries {
            offsets.push(next);
            next += s.downcast::<u64>().map(|n| *n).unwrap_or(0);
        }
        Arc::new(offsets)
    }
    fn maps_read(&self, reduce: usize, _: usize) -> std::ops::Range<usize> {
        reduce..reduce + 1
    }
    fn encode_block(&self, data: &Shared, _: &Shared, _: usize) -> Result<Vec<u8>> {
        encode(records::<T>(data)?.as_ref(), "shuffle block")
    }
    fn decode_block(&self, bytes: &[u8], _: usize) -> Result<Shared> {
        Ok(Arc::new(decode::<Vec<T>>(bytes, "shuffle block")?))
    }
    fn encode_summary_part(&self, part: &(dyn Any + Send)) -> Result<Vec<u8>> {
        encode_any::<u64>(part, "partition count")
    }
    fn decode_summary_part(&self, bytes: &[u8]) -> Result<Box<dyn Any + Send>> {
        Ok(Box::new(decode::<u64>(bytes, "partition count")?))
    }
    fn encode_summary(&self, summary: &Shared) -> Result<Vec<u8>> {
        encode_shared::<Vec<u64>>(summary.as_ref(), "partition offsets")
    }
    fn decode_summary(&self, bytes: &[u8]) -> Result<Shared> {
        Ok(Arc::new(decode::<Vec<u64>>(bytes, "partition offsets")?))
    }
    fn held_size(&self, data: &Shared) -> Result<u64> {
        let records = records::<T>(data)?;
        let slots = (records.capacity() * std::mem::size_of::<T>()) as u64;
        Ok(slots + encoded_len(records.as_ref(), "shuffle block")?)
    }
    /// The whole partition, which is also the one block its reducer reads.
    fn encode_segments(&self, data: &Shared) -> Result<(Vec<Vec<u8>>, Shared)> {
        let segment = encode(records::<T>(data)?.as_ref(), "shuffle block")?;
        Ok((vec![segment], Arc::new(())))
    }
}

/// The records of a materialized partition.
fn records<T: Data>(data: &Shared) -> Result<Arc<Vec<T>>> {
    downcast::<Vec<T>>(data, "materialized partition")
}

struct Indexed<T> {
    side: ReduceSide,
    _t: std::marker::PhantomData<fn() -> T>,
}

reduce_side_node!(Indexed<T>);

impl<T: Clone + Send + Sync + 'static> Node<(T, u64)> for Indexed<T> {
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<(T, u64)>> {
        let outputs = tc.shuffle(self.side.dep.id(), partition)?;
        let offsets = downcast::<Vec<u64>>(&outputs.summary, "partition offsets")?;
        let records = downcast::<Vec<T>>(&outputs.maps[partition], "materialized partition")?;
        let first = offsets[partition];
        Ok(BoxIter::new(
            (0..records.len()).map(move |i| (records[i].clone(), first + i as u64)),
        ))
    }
}

/// Pairs every record with its global index (partition order, then position).
pub(crate) fn zip_with_index<T: Data>(parent: Arc<dyn Node<T>>) -> Arc<dyn Node<(T, u64)>> {
    let partitions = parent.num_partitions();
    let dep = Arc::new(Materialize {
        id: crate::plan::scope::next_id(),
        parent,
    });
    Arc::new(Indexed {
        side: ReduceSide::new(dep, partitions),
        _t: std::marker::PhantomData,
    })
}
