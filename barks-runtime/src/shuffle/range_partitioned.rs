//! Range-partitioned sort: a global order across partitions.
//!
//! Map tasks sort their partition into one run and send the driver an evenly
//! spaced sample of its keys with the run's length. The driver weighs the
//! samples and picks `partitions - 1` bounds. Reduce task `r` takes, from
//! every run, the slice of keys between bound `r-1` and bound `r` (two binary
//! searches, no scan) and merges the slices (a stable sort of concatenated
//! sorted runs is a merge).
//!
//! A run spilled to disk is stored in segments of [`SEGMENT_RECORDS`]
//! records, with the first key of each kept in memory: a reducer reads only
//! the segments that can hold its key range, not the whole run.

use super::{ReduceSide, reduce_side_node};
use crate::data::Data;
use crate::error::Result;
use crate::plan::node::{AnyNode, MapOutput, Node, Shared, ShuffleDep, TaskContext, downcast};
use crate::records::BoxIter;
use crate::records::codec::{decode, encode, encode_any, encode_shared, encoded_len};
use std::any::Any;
use std::cmp::Ordering;
use std::ops::Range;
use std::sync::Arc;

/// Keys sampled per run for every reduce partition (Spark samples 20).
const SAMPLES_PER_PARTITION: usize = 20;
/// Records per segment of a spilled run.
const SEGMENT_RECORDS: usize = 16 * 1024;

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
    fn held_size(&self, data: &Shared) -> Result<u64> {
        let run = downcast::<Vec<(K, V)>>(data, "sort shuffle output")?;
        let slots = (run.capacity() * std::mem::size_of::<(K, V)>()) as u64;
        Ok(slots + encoded_len(run.as_slice(), "sorted run")?)
    }
    /// The sorted run in segments of [`SEGMENT_RECORDS`], indexed by the
    /// first key of each: which slice a reducer reads depends on range
    /// bounds picked after every map task has finished.
    fn encode_segments(&self, data: &Shared) -> Result<(Vec<Vec<u8>>, Shared)> {
        let run = downcast::<Vec<(K, V)>>(data, "sort shuffle output")?;
        let chunks = run.chunks(SEGMENT_RECORDS);
        let firsts: Vec<K> = chunks.clone().map(|c| c[0].0.clone()).collect();
        let segments = chunks
            .map(|c| encode(c, "sorted run"))
            .collect::<Result<_>>()?;
        Ok((segments, Arc::new(firsts)))
    }
    /// The segments that can hold keys of reduce partition `reduce`: from
    /// the last one starting at or before its lower bound to the last one
    /// starting at or before its upper bound (equal keys may span
    /// segments).
    fn segments_read(
        &self,
        reduce: usize,
        summary: &Shared,
        index: &Shared,
    ) -> Result<Range<usize>> {
        let bounds = downcast::<Vec<K>>(summary, "sort bounds")?;
        let firsts = downcast::<Vec<K>>(index, "spilled run index")?;
        let asc = self.ascending;
        let starting_at_or_before =
            |bound: &K| firsts.partition_point(|k| order(asc, k, bound) != Ordering::Greater);
        let lo = match reduce {
            0 => 0,
            r => bounds
                .get(r - 1)
                .map_or(firsts.len(), |b| starting_at_or_before(b).saturating_sub(1)),
        };
        let hi = bounds
            .get(reduce)
            .map_or(firsts.len(), starting_at_or_before);
        Ok(lo..hi.max(lo))
    }
    /// The segments' records, in order: a contiguous piece of the run.
    fn decode_segments(&self, segments: Vec<Vec<u8>>, _: usize) -> Result<Shared> {
        let mut run = Vec::new();
        for segment in segments {
            run.extend(decode::<Vec<(K, V)>>(&segment, "sorted run")?);
        }
        Ok(Arc::new(run))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::node::{ShuffleOutputs, ShuffleSource};

    struct NoShuffles;

    impl ShuffleSource for NoShuffles {
        fn outputs(&self, shuffle: usize, _: usize) -> Result<ShuffleOutputs> {
            Err(crate::error::Error::Plan(format!("no shuffle {shuffle}")))
        }
    }

    #[test]
    fn a_spilled_runs_reducers_read_only_the_segments_their_range_needs() {
        // Keys with long runs of equal keys (crossing segments) and gaps.
        let records: Vec<(u32, u32)> = (0..100_000u32)
            .map(|i| ((i / 7000) * 3 + i % 2, i))
            .collect();
        for ascending in [true, false] {
            for partitions in [1, 2, 5, 13] {
                let parent = crate::plan::scope::in_scope(1, || {
                    crate::ops::source::parallelize(records.clone(), Some(1)).node
                });
                let dep = SortShuffle {
                    id: 0,
                    parent,
                    partitions,
                    ascending,
                };
                let tc = TaskContext::new(0, 0, 1, Arc::new(NoShuffles));
                let output = dep.run_map(0, &tc).unwrap();
                let bounds = dep.finalize(vec![output.summary]);
                let run = downcast::<Vec<(u32, u32)>>(&output.data, "run").unwrap();
                let (segments, index) = dep.encode_segments(&output.data).unwrap();
                assert_eq!(segments.len(), 100_000usize.div_ceil(SEGMENT_RECORDS));
                for reduce in 0..partitions {
                    let range = dep.segments_read(reduce, &bounds, &index).unwrap();
                    let read = dep
                        .decode_segments(segments[range.clone()].to_vec(), reduce)
                        .unwrap();
                    let read = downcast::<Vec<(u32, u32)>>(&read, "read").unwrap();
                    let b = downcast::<Vec<u32>>(&bounds, "bounds").unwrap();
                    let (lo, hi) = (
                        slice_start(&run, &b, ascending, reduce),
                        slice_start(&run, &b, ascending, reduce + 1),
                    );
                    let (rlo, rhi) = (
                        slice_start(&read, &b, ascending, reduce),
                        slice_start(&read, &b, ascending, reduce + 1),
                    );
                    assert_eq!(
                        read[rlo..rhi],
                        run[lo..hi],
                        "ascending {ascending}, {partitions} partitions, reduce {reduce}"
                    );
                    if partitions == 13 {
                        assert!(
                            range.len() < segments.len() / 2,
                            "reduce {reduce} reads {range:?} of {} segments",
                            segments.len()
                        );
                    }
                }
            }
        }
    }
}
