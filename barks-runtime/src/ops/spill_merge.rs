//! The reduce side of a by-key aggregation within the memory budget: the
//! combiners of a partition merged by key, spilling partial aggregates to
//! disk when the task's share of the budget runs out, as DuckDB's and
//! Spark's hash aggregations do.
//!
//! Records go into an [`Aggregation`] a chunk at a time; after each chunk
//! its size is estimated (its slots, plus the encoded size of a sampled
//! record for what keys and combiners point to) and reserved. When the
//! reservation is refused, the table's combiners are written to a spill
//! file split by key hash into [`PARTS`] segments, and a new table starts.
//! At the end, if anything was spilled, the rest is spilled too, and each
//! part is merged on its own: the part's segment of every file, read back
//! lazily, goes through this same merge with another hash, so a part that
//! still does not fit is split again (grace hash aggregation). A key's
//! combiners all land in one part, so every key comes out once, merged.
//!
//! A part that cannot shrink by splitting (one key whose combiner alone is
//! over the share, or [`MAX_LEVEL`] splits deep) fails the task with an
//! error naming the operator and the budget.
//!
//! The first table is sized for the records announced; when that alone is
//! over the share, the first spill (of whatever it holds) replaces it with
//! one that grows as needed. A direct-address table (integer keys) over
//! keys spread thin is turned into a hash table before anything spills.

use crate::agg::aggregation::Aggregation;
use crate::agg::key_table::KeyTable;
use crate::data::{Data, Key};
use crate::error::Result;
use crate::memory::{Reservation, TaskMemory, current_task};
use crate::records::BoxIter;
use crate::records::codec::{decode, encode, encoded_len};
use crate::spill::file::SpillFile;
use foldhash::fast::FixedState;
use std::hash::BuildHasher;
use std::sync::Arc;

/// Hash parts of a spill file.
const PARTS: usize = 16;
/// The deepest split: 16⁴ = 65,536 parts.
const MAX_LEVEL: u32 = 4;

/// The part of `key` at split `level` (each level its own hash).
fn part_of<K: std::hash::Hash>(key: &K, level: u32) -> usize {
    let seed = 0xA66_5B11_1000 + u64::from(level);
    (FixedState::with_seed(seed).hash_one(key) >> 60) as usize % PARTS
}

/// `records`' combiners merged by key with `merge`, within the running
/// task's memory budget (see the [module docs](self)). `operator` names
/// the operator in errors and spill file names.
pub(crate) fn merge_by_key<K, C, F>(
    records: BoxIter<(K, C)>,
    merge: F,
    operator: &'static str,
) -> impl Iterator<Item = (K, C)>
where
    K: Key,
    C: Data,
    F: Fn(C, C) -> C + Clone + Send + 'static,
{
    merge_at(records, merge, operator, 0)
}

fn merge_at<K, C, F>(
    mut records: BoxIter<(K, C)>,
    merge: F,
    operator: &'static str,
    level: u32,
) -> Merged<K, C, F>
where
    K: Key,
    C: Data,
    F: Fn(C, C) -> C + Clone + Send + 'static,
{
    let task = current_task();
    let mut reservation = task.reserve(operator, true);
    let create: fn(C) -> C = |c| c;
    let mut aggregation = Aggregation::new(KeyTable::default(), 0, records.size_hint().0);
    let mut spills = Vec::new();
    // What an entry points to, estimated from one sampled per chunk: its
    // key's combiner once merged (which may grow: a list), else the record.
    let mut heap = 0u64;
    while let Some(mut chunk) = records.next_chunk() {
        let Some(first) = chunk.next() else { continue };
        let key = first.0.clone();
        let record = encoded_len(&first, "a record").unwrap_or(0);
        aggregation.add(first, create, &merge);
        let sampled = aggregation
            .combiner_of(&key)
            .and_then(|c| encoded_len(&(&key, c), "a combiner").ok())
            .unwrap_or(record);
        heap = (heap * 3 + sampled) / 4;
        aggregation.extend(chunk, create, &merge);
        let want = |aggregation: &Aggregation<K, C, C>| {
            let (entries, slots) = aggregation.held();
            (entries, slots as u64 + entries as u64 * heap)
        };
        let (entries, bytes) = want(&aggregation);
        let Err(refused) = reservation.try_resize(bytes) else {
            continue;
        };
        // A direct-address table over keys spread thin may fit as a hash
        // table.
        if aggregation.compact() && reservation.try_resize(want(&aggregation).1).is_ok() {
            continue;
        }
        // One entry alone over the share cannot be helped by spilling;
        // otherwise spilling empties the table (and drops slots it was
        // sized with up front).
        if level >= MAX_LEVEL || (entries <= 1 && heap >= refused.allowed) {
            task.fail(reservation.exhausted(refused));
            return Merged::Failed;
        }
        let full = std::mem::replace(
            &mut aggregation,
            Aggregation::new(KeyTable::default(), 0, 0),
        );
        match spill(&task, operator, full.into_iter(create, &merge), level) {
            Ok(file) => spills.push(Arc::new(file)),
            Err(e) => {
                task.fail(e);
                return Merged::Failed;
            }
        }
        reservation.free();
    }
    if spills.is_empty() {
        return Merged::InMemory {
            combiners: aggregation.into_iter(create, merge),
            _reservation: reservation,
        };
    }
    match spill(
        &task,
        operator,
        aggregation.into_iter(create, &merge),
        level,
    ) {
        Ok(file) => spills.push(Arc::new(file)),
        Err(e) => {
            task.fail(e);
            return Merged::Failed;
        }
    }
    drop(reservation);
    Merged::Spilled(Box::new(Spilled {
        task,
        spills,
        merge,
        operator,
        level,
        next_part: 0,
        current: None,
    }))
}

/// Writes `combiners` to a new spill file, split by hash into [`PARTS`]
/// segments.
fn spill<K: Key, C: Data>(
    task: &TaskMemory,
    operator: &str,
    combiners: impl Iterator<Item = (K, C)>,
    level: u32,
) -> Result<SpillFile> {
    let mut parts: Vec<Vec<(K, C)>> = (0..PARTS).map(|_| Vec::new()).collect();
    for (k, c) in combiners {
        parts[part_of(&k, level)].push((k, c));
    }
    let segments = parts
        .iter()
        .map(|part| encode(part, "spilled partial aggregates"))
        .collect::<Result<Vec<_>>>()?;
    drop(parts);
    let what = format!("{}-level-{level}", operator.replace(' ', "-"));
    let file = task.spill(&what, &segments)?;
    log::debug!(
        "{operator} spilled {} of partial aggregates to {}",
        crate::memory::bytes(file.len()),
        file.path().display()
    );
    Ok(file)
}

/// A partition's merged combiners.
enum Merged<K, C, F>
where
    K: Key,
    C: Data,
    F: Fn(C, C) -> C + Clone + Send + 'static,
{
    /// Everything fit: the table, read out (its memory stays reserved
    /// until it is dropped).
    InMemory {
        combiners: crate::agg::aggregation::Output<K, C, C, fn(C) -> C, F>,
        _reservation: Reservation,
    },
    /// Some went to disk: merged part by part.
    Spilled(Box<Spilled<K, C, F>>),
    /// The task failed (reported to its error sink).
    Failed,
}

/// Spill files of partial aggregates, merged one hash part at a time.
struct Spilled<K, C, F>
where
    K: Key,
    C: Data,
    F: Fn(C, C) -> C + Clone + Send + 'static,
{
    task: Arc<TaskMemory>,
    spills: Vec<Arc<SpillFile>>,
    merge: F,
    operator: &'static str,
    level: u32,
    next_part: usize,
    current: Option<Merged<K, C, F>>,
}

impl<K, C, F> Iterator for Merged<K, C, F>
where
    K: Key,
    C: Data,
    F: Fn(C, C) -> C + Clone + Send + 'static,
{
    type Item = (K, C);

    fn next(&mut self) -> Option<(K, C)> {
        match self {
            Merged::InMemory { combiners, .. } => combiners.next(),
            Merged::Spilled(spilled) => spilled.next(),
            Merged::Failed => None,
        }
    }
}

impl<K, C, F> Spilled<K, C, F>
where
    K: Key,
    C: Data,
    F: Fn(C, C) -> C + Clone + Send + 'static,
{
    fn next(&mut self) -> Option<(K, C)> {
        loop {
            if let Some(record) = self.current.as_mut().and_then(Iterator::next) {
                return Some(record);
            }
            // The finished part's table (and its reservation) goes first.
            self.current = None;
            if self.next_part == PARTS {
                // Every part is merged: the files can go.
                self.spills.clear();
                return None;
            }
            let part = self.next_part;
            self.next_part += 1;
            self.current = Some(merge_at(
                self.part_records(part),
                self.merge.clone(),
                self.operator,
                self.level + 1,
            ));
        }
    }

    /// Part `part`'s combiners of every spill file, each file's read back
    /// when the previous one's are used up.
    fn part_records(&self, part: usize) -> BoxIter<(K, C)> {
        let task = self.task.clone();
        let files = self.spills.clone();
        BoxIter::from_chunks(files.into_iter().map_while(move |file| {
            task.read_back();
            let read = file
                .read(part)
                .and_then(|bytes| decode::<Vec<(K, C)>>(&bytes, "spilled partial aggregates"));
            match read {
                Ok(records) => Some(records),
                Err(e) => {
                    task.fail(e);
                    None
                }
            }
        }))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::memory::task::in_task;
    use crate::memory::{Memory, MemoryOptions};
    use crate::plan::node::ErrorSink;
    use crate::spill::file::tests::Scratch;
    use std::collections::BTreeMap;

    /// Runs `f` as a task with a budget of `budget` bytes spilling under
    /// `dir`; returns its result, its error and the task's memory.
    pub(crate) fn as_task<R>(
        budget: u64,
        dir: &Scratch,
        f: impl FnOnce() -> R,
    ) -> (R, Option<String>, Arc<TaskMemory>) {
        let memory = Memory::new(&MemoryOptions {
            memory: budget,
            spill_dir: dir.0.clone(),
        });
        let errors = ErrorSink::detached();
        let task = TaskMemory::new(memory, 1, (0, 0), errors.clone());
        let out = in_task(task.clone(), f);
        (out, errors.take().map(|e| e.to_string()), task)
    }

    /// Skewed keys: a few very frequent, many rare, long strings among them.
    fn records(n: u64) -> Vec<(String, u64)> {
        (0..n)
            .map(|i| {
                let key = match i % 10 {
                    0..=4 => format!("hot-{}", i % 3),
                    5 => format!("long-{}-{}", i % 500, "x".repeat(200)),
                    _ => format!("k{}", (i * 7919) % (n / 2 + 1)),
                };
                (key, i)
            })
            .collect()
    }

    fn model(records: &[(String, u64)]) -> BTreeMap<String, u64> {
        let mut sums = BTreeMap::new();
        for (k, v) in records {
            *sums.entry(k.clone()).or_insert(0) += v;
        }
        sums
    }

    fn merged(
        budget: u64,
        dir: &Scratch,
        input: Vec<(String, u64)>,
    ) -> (Vec<(String, u64)>, Option<String>, Arc<TaskMemory>) {
        as_task(budget, dir, || {
            let it = BoxIter::new(input.into_iter());
            merge_by_key(it, |a, b| a + b, "reduce_by_key").collect::<Vec<_>>()
        })
    }

    #[test]
    fn spilling_or_not_every_key_comes_out_once_with_all_its_values() {
        let dir = Scratch::new("spill-merge");
        for n in [0, 1, 1000, 60_000] {
            let input = records(n);
            let expected = model(&input);
            for budget in [u64::MAX, 1 << 20, 64 << 10, 4 << 10] {
                let (out, err, task) = merged(budget, &dir, input.clone());
                assert_eq!(err, None, "n {n}, budget {budget}");
                let keys = out.len();
                let out: BTreeMap<_, _> = out.into_iter().collect();
                assert_eq!(
                    keys,
                    out.len(),
                    "a key came out twice (n {n}, budget {budget})"
                );
                assert_eq!(out, expected, "n {n}, budget {budget}");
                let metrics = task.metrics();
                if budget == u64::MAX || n < 1000 {
                    assert_eq!(metrics.spill_files_written, 0, "n {n}, budget {budget}");
                } else if n == 60_000 && budget <= 64 << 10 {
                    assert!(
                        metrics.spill_files_written > 1 && metrics.spill_files_read > 0,
                        "n {n}, budget {budget}: {metrics}"
                    );
                }
            }
        }
        let left: Vec<_> = std::fs::read_dir(&dir.0)
            .unwrap()
            .flatten()
            .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
            .flat_map(|run| {
                std::fs::read_dir(run.path())
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .collect();
        assert!(
            left.is_empty(),
            "spill files are gone once merged: {left:?}"
        );
    }

    #[test]
    fn a_table_sized_up_front_over_the_share_spills_instead_of_failing() {
        // Dense integer keys: the first table is a direct-address one sized
        // for every record announced (1.6 MB of slots), over a 1 MiB budget.
        let dir = Scratch::new("spill-merge-dense");
        let (out, err, task) = as_task(1 << 20, &dir, || {
            let it = BoxIter::new((0..200_000u64).map(|i| (i, 1u64)));
            merge_by_key(it, |a, b| a + b, "reduce_by_key").collect::<Vec<_>>()
        });
        assert_eq!(err, None);
        let mut out = out;
        out.sort_unstable();
        assert_eq!(out, (0..200_000u64).map(|i| (i, 1)).collect::<Vec<_>>());
        assert!(task.metrics().spill_files_written > 0);
    }

    #[test]
    fn one_key_bigger_than_the_budget_is_an_error_naming_the_operator() {
        let dir = Scratch::new("spill-merge-huge");
        let (out, err, _) = as_task(4 << 10, &dir, || {
            let it = BoxIter::new((0..5000u32).map(|i| (1u8, vec![i])));
            merge_by_key(
                it,
                |mut a: Vec<u32>, b| {
                    a.extend(b);
                    a
                },
                "aggregate_by_key",
            )
            .count()
        });
        assert_eq!(out, 0);
        let err = err.expect("the task fails");
        assert!(
            err.contains("aggregate_by_key") && err.contains("4.0 KiB execution memory budget"),
            "{err}"
        );
    }
}
