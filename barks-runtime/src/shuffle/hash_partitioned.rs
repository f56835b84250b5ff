//! Hash (or function) partitioned shuffle of key-value records.

use super::bucket::Bucket;
use super::{ReduceSide, reduce_side_node};
use crate::data::Data;
use crate::error::{Error, Result};
use crate::plan::node::{AnyNode, MapOutput, Node, Shared, ShuffleDep, TaskContext, downcast};
use crate::records::BoxIter;
use crate::records::codec::{decode, encode, encoded_len};
use std::any::Any;
use std::hash::{BuildHasher, Hash};
use std::ops::Range;
use std::sync::Arc;

/// The partition of `key` among `partitions`: a fixed-seed hash, so every
/// process of a cluster agrees, scaled by multiply-shift (uses the high bits,
/// which stay independent of the low bits hash tables index with).
pub fn hash_partition<K: Hash + ?Sized>(key: &K, partitions: usize) -> usize {
    const SEED: u64 = 0x5EED_BA2C_5A11_0C8D;
    let h = foldhash::fast::FixedState::with_seed(SEED).hash_one(key);
    ((u128::from(h) * partitions as u128) >> 64) as usize
}

/// One map task's output: one bucket of records per reduce partition.
type Buckets<K, V> = Vec<Bucket<(K, V)>>;

struct HashShuffle<K, V, P> {
    id: usize,
    parent: Arc<dyn Node<(K, V)>>,
    partitions: usize,
    partitioner: P,
}

impl<K, V, P> ShuffleDep for HashShuffle<K, V, P>
where
    K: Data,
    V: Data,
    P: Fn(&K, usize) -> usize + Send + Sync + 'static,
{
    fn id(&self) -> usize {
        self.id
    }
    fn parent(&self) -> Arc<dyn AnyNode> {
        self.parent.clone()
    }
    fn run_map(&self, partition: usize, tc: &TaskContext) -> Result<MapOutput> {
        let mut buckets: Buckets<K, V> = (0..self.partitions).map(|_| Bucket::default()).collect();
        self.parent.compute(partition, tc)?.for_each(|(k, v)| {
            let b = (self.partitioner)(&k, self.partitions).min(self.partitions - 1);
            buckets[b].push((k, v));
        });
        Ok(MapOutput {
            data: Arc::new(buckets),
            summary: Box::new(()),
        })
    }
    fn finalize(&self, _: Vec<Box<dyn Any + Send>>) -> Shared {
        Arc::new(())
    }
    fn encode_block(&self, data: &Shared, _: &Shared, reduce: usize) -> Result<Vec<u8>> {
        let buckets = downcast::<Buckets<K, V>>(data, "hash shuffle output")?;
        let bucket = buckets.get(reduce).ok_or_else(|| {
            Error::Internal(format!("no reduce partition {reduce} in a hash shuffle"))
        })?;
        encode(bucket, "shuffle block")
    }
    fn decode_block(&self, bytes: &[u8], reduce: usize) -> Result<Shared> {
        let bucket: Vec<(K, V)> = decode(bytes, "shuffle block")?;
        let mut buckets: Buckets<K, V> = (0..self.partitions).map(|_| Bucket::default()).collect();
        *buckets.get_mut(reduce).ok_or_else(|| {
            Error::Internal(format!("no reduce partition {reduce} in a hash shuffle"))
        })? = Bucket::from(bucket);
        Ok(Arc::new(buckets))
    }
    fn encode_summary_part(&self, _: &(dyn Any + Send)) -> Result<Vec<u8>> {
        Ok(Vec::new())
    }
    fn decode_summary_part(&self, _: &[u8]) -> Result<Box<dyn Any + Send>> {
        Ok(Box::new(()))
    }
    fn encode_summary(&self, _: &Shared) -> Result<Vec<u8>> {
        Ok(Vec::new())
    }
    fn decode_summary(&self, _: &[u8]) -> Result<Shared> {
        Ok(Arc::new(()))
    }
    fn held_size(&self, data: &Shared) -> Result<u64> {
        let buckets = downcast::<Buckets<K, V>>(data, "hash shuffle output")?;
        buckets
            .iter()
            .map(|b| Ok(b.inline_bytes() + encoded_len(b, "shuffle block")?))
            .sum()
    }
    fn encode_segments(&self, data: &Shared) -> Result<(Vec<Vec<u8>>, Shared)> {
        let buckets = downcast::<Buckets<K, V>>(data, "hash shuffle output")?;
        let segments = buckets
            .iter()
            .map(|b| encode(b, "shuffle block"))
            .collect::<Result<_>>()?;
        Ok((segments, Arc::new(())))
    }
    fn segments_read(&self, reduce: usize, _: &Shared, _: &Shared) -> Result<Range<usize>> {
        Ok(reduce..reduce + 1)
    }
}

struct HashShuffled<K, V> {
    side: ReduceSide,
    _kv: std::marker::PhantomData<fn() -> (K, V)>,
}

reduce_side_node!(HashShuffled<K, V>);

impl<K, V> Node<(K, V)> for HashShuffled<K, V>
where
    K: Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<(K, V)>> {
        let outputs = tc.shuffle(self.side.dep.id(), partition)?;
        let maps = outputs
            .maps
            .iter()
            .map(|m| downcast::<Buckets<K, V>>(m, "hash shuffle output"))
            .collect::<Result<Vec<_>>>()?;
        Ok(BoxIter::new(BucketReader {
            remaining: maps.iter().map(|m| m[partition].len()).sum(),
            maps,
            partition,
            map: 0,
            chunk: 0,
            index: 0,
        }))
    }
}

/// The records of bucket `partition` of every map output, in map order;
/// its length is known (an aggregation sizes its tables by it).
struct BucketReader<K, V> {
    maps: Vec<Arc<Buckets<K, V>>>,
    partition: usize,
    /// The map output, the chunk of its bucket and the record within the
    /// chunk read next.
    map: usize,
    chunk: usize,
    index: usize,
    remaining: usize,
}

impl<K: Clone, V: Clone> Iterator for BucketReader<K, V> {
    type Item = (K, V);

    #[inline]
    fn next(&mut self) -> Option<(K, V)> {
        loop {
            let bucket = &self.maps.get(self.map)?[self.partition];
            match bucket.chunk(self.chunk) {
                Some(chunk) => {
                    if let Some(record) = chunk.get(self.index) {
                        self.index += 1;
                        self.remaining -= 1;
                        return Some(record.clone());
                    }
                    self.chunk += 1;
                }
                None => {
                    self.map += 1;
                    self.chunk = 0;
                }
            }
            self.index = 0;
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

/// Redistributes `(key, value)` records so that each goes to partition
/// `partitioner(&key, partitions)`.
pub(crate) fn shuffle_by<K, V, P>(
    parent: Arc<dyn Node<(K, V)>>,
    partitions: usize,
    partitioner: P,
) -> Arc<dyn Node<(K, V)>>
where
    K: Data,
    V: Data,
    P: Fn(&K, usize) -> usize + Send + Sync + 'static,
{
    let partitions = partitions.max(1);
    let dep = Arc::new(HashShuffle {
        id: crate::plan::scope::next_id(),
        parent,
        partitions,
        partitioner,
    });
    Arc::new(HashShuffled {
        side: ReduceSide::new(dep, partitions),
        _kv: std::marker::PhantomData,
    })
}
