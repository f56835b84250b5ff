//! Range-partitioned sort: a global order across partitions.
//!
//! Map tasks sort their partition into one run and send the driver an evenly
//! spaced sample of its keys with the run's length. The driver weighs the
//! samples and picks `partitions - 1` bounds. Reduce task `r` takes, from
//! every run, the slice of keys between bound `r-1` and bound `r` (two binary
//! searches, no scan) and merges the slices (a stable sort of concatenated
//! sorted runs is a merge).

use super::{ReduceSide, reduce_side_node};
use crate::data::Data;
use crate::error::Result;
use crate::plan::node::{AnyNode, MapOutput, Node, Shared, ShuffleDep, TaskContext, downcast};
use crate::records::BoxIter;
use crate::records::codec::{decode, encode, encode_any, encode_shared, encoded_len};
use std::any::Any;
use std::cmp::Ordering;
use std::sync::Arc;

/// Keys sampled per run for every reduce partition (Spark samples 20).
const SAMPLES_PER_PARTITION: usize = 20;

fn order<K: Ord>(ascending: bool, a: &K, b: &K) -> Ordering {
    if ascending { a.cmp(b) } else { b.cmp(a) }
}

/// Sorts `records` by key, stably or not, with the direction decided once
/// outside the sort (a comparator that tests it per comparison keeps the
/// sort's branchless small-sort networks from being used).
fn sort_records<K: Ord, V>(records: &mut [(K, V)], ascending: bool, stable: bool) {
    match (ascending, stable) {
        (true, false) => records.sort_unstable_by(|a, b| a.0.cmp(&b.0)),
        (false, false) => records.sort_unstable_by(|a, b| b.0.cmp(&a.0)),
        (true, true) => records.sort_by(|a, b| a.0.cmp(&b.0)),
        (false, true) => records.sort_by(|a, b| b.0.cmp(&a.0)),
    }
}

struct SortShuffle<K, V> {
    id: usize,
    parent: Arc<dyn Node<(K, V)>>,
    partitions: usize,
    ascending: bool,
}

/// Where reduce partition `i`'s keys start in a sorted `run`, given the
/// range `bounds`.
fn slice_start<K: Ord, V>(run: &[(K, V)], bounds: &[K], ascending: bool, i: usize) -> usize {
    if i == 0 {
        0
    } else if i > bounds.len() {
        run.len()
    } else {
        run.partition_point(|x| order(ascending, &x.0, &bounds[i - 1]) != Ordering::Greater)
    }
}

impl<K, V> ShuffleDep for SortShuffle<K, V>
where
    K: Data + Ord,
    V: Data,
{
    fn id(&self) -> usize {
        self.id
    }
    fn parent(&self) -> Arc<dyn AnyNode> {
        self.parent.clone()
    }
    fn run_map(&self, partition: usize, tc: &TaskContext) -> Result<MapOutput> {
        let mut run: Vec<(K, V)> = self.parent.compute(partition, tc)?.into_vec();
        sort_records(&mut run, self.ascending, false);
        let n = run.len().min(SAMPLES_PER_PARTITION * self.partitions);
        let sample: Vec<K> = (0..n).map(|i| run[i * run.len() / n].0.clone()).collect();
        Ok(MapOutput {
            summary: Box::new((run.len(), sample)),
            data: Arc::new(run),
        })
    }
    fn finalize(&self, summaries: Vec<Box<dyn Any + Send>>) -> Shared {
        let mut weighted: Vec<(K, f64)> = Vec::new();
        for s in summaries {
            if let Ok(s) = s.downcast::<(usize, Vec<K>)>() {
                let (len, sample) = *s;
                let w = len as f64 / sample.len().max(1) as f64;
                weighted.extend(sample.into_iter().map(|k| (k, w)));
            }
        }
        let asc = self.ascending;
        weighted.sort_by(|a, b| order(asc, &a.0, &b.0));
        let total: f64 = weighted.iter().map(|(_, w)| w).sum();
        let mut bounds: Vec<K> = Vec::with_capacity(self.partitions.saturating_sub(1));
        let mut acc = 0.0;
        for (k, w) in weighted {
            acc += w;
            let next = bounds.len() + 1;
            if next < self.partitions
                && acc >= total * next as f64 / self.partitions as f64
                && bounds
                    .last()
                    .is_none_or(|b| order(asc, b, &k) == Ordering::Less)
            {
                bounds.push(k);
            }
        }
        Arc::new(bounds)
    }
    fn encode_block(&self, data: &Shared, summary: &Shared, reduce: usize) -> Result<Vec<u8>> {
        let run = downcast::<Vec<(K, V)>>(data, "sort shuffle output")?;
        let bounds = downcast::<Vec<K>>(summary, "sort bounds")?;
        let lo = slice_start(&run, &bounds, self.ascending, reduce);
        let hi = slice_start(&run, &bounds, self.ascending, reduce + 1);
        encode(&run[lo..hi], "shuffle block")
    }
    fn decode_block(&self, bytes: &[u8], _: usize) -> Result<Shared> {
        Ok(Arc::new(decode::<Vec<(K, V)>>(bytes, "shuffle block")?))
    }
    fn encode_summary_part(&self, part: &(dyn Any + Send)) -> Result<Vec<u8>> {
        encode_any::<(usize, Vec<K>)>(part, "sort sample")
    }
    fn decode_summary_part(&self, bytes: &[u8]) -> Result<Box<dyn Any + Send>> {
        Ok(Box::new(decode::<(usize, Vec<K>)>(bytes, "sort sample")?))
    }
    fn encode_summary(&self, summary: &Shared) -> Result<Vec<u8>> {
        encode_shared::<Vec<K>>(summary.as_ref(), "sort bounds")
    }
    fn decode_summary(&self, bytes: &[u8]) -> Result<Shared> {
        Ok(Arc::new(decode::<Vec<K>>(bytes, "sort bounds")?))
    }
    fn encoded_size(&self, data: &Shared) -> Result<u64> {
        let run = downcast::<Vec<(K, V)>>(data, "sort shuffle output")?;
        encoded_len(run.as_slice(), "sorted run")
    }
    /// The whole sorted run, one segment: which slice a reducer reads
    /// depends on range bounds picked after every map task has finished.
    fn encode_segments(&self, data: &Shared) -> Result<Vec<Vec<u8>>> {
        let run = downcast::<Vec<(K, V)>>(data, "sort shuffle output")?;
        Ok(vec![encode(run.as_slice(), "sorted run")?])
    }
    fn segment_is_block(&self) -> bool {
        false
    }
}

struct SortShuffled<K, V> {
    side: ReduceSide,
    ascending: bool,
    _kv: std::marker::PhantomData<fn() -> (K, V)>,
}

reduce_side_node!(SortShuffled<K, V>);

impl<K, V> Node<(K, V)> for SortShuffled<K, V>
where
    K: Ord + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<(K, V)>> {
        let outputs = tc.shuffle(self.side.dep.id(), partition)?;
        let bounds = downcast::<Vec<K>>(&outputs.summary, "sort bounds")?;
        let asc = self.ascending;
        let slices = outputs
            .maps
            .iter()
            .map(|m| {
                let run = downcast::<Vec<(K, V)>>(m, "sort shuffle output")?;
                let lo = slice_start(&run, &bounds, asc, partition);
                let hi = slice_start(&run, &bounds, asc, partition + 1);
                Ok((run, lo..hi))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut merged = Vec::with_capacity(slices.iter().map(|(_, r)| r.len()).sum());
        for (run, range) in slices {
            merged.extend_from_slice(&run[range]);
        }
        sort_records(&mut merged, asc, true);
        Ok(BoxIter::from_chunks(std::iter::once(merged)))
    }
}

/// Sorts `(key, value)` records by key across `partitions` range partitions.
pub(crate) fn sort_by_key<K, V>(
    parent: Arc<dyn Node<(K, V)>>,
    ascending: bool,
    partitions: usize,
) -> Arc<dyn Node<(K, V)>>
where
    K: Data + Ord,
    V: Data,
{
    let partitions = partitions.max(1);
    let dep = Arc::new(SortShuffle {
        id: crate::plan::scope::next_id(),
        parent,
        partitions,
        ascending,
    });
    Arc::new(SortShuffled {
        side: ReduceSide::new(dep, partitions),
        ascending,
        _kv: std::marker::PhantomData,
    })
}
