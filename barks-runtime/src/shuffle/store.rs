//! A process's shuffle map outputs (a worker's, or a local run's), kept until
//! no stage reads them any more: typed in memory while the execution memory
//! budget allows, in a spill file (see [`spill`](crate::spill)) once it does
//! not. The block a reducer asks for is cut when it asks.
//!
//! Held outputs take at most half of the budget (Spark's
//! `spark.memory.storageFraction`), and only what is free: they count as
//! memory that cannot spill, since a reducer may be reading them, so the
//! operators' shares shrink while they are held. Each output counts its
//! records' slots plus its exact encoded size (a size-only pass over the
//! records computes it without encoding them), which stands for what the
//! records point to: typed records have no size barks can measure. (The
//! encoded size alone undercounted small records threefold: a `(u32, u64)`
//! takes 16 bytes held and about 5 encoded.) An output that does not fit is
//! spilled as a whole; the ones already in memory stay there until they are
//! released.

use crate::error::{Error, Result};
use crate::memory::{Memory, Reservation, current_task};
use crate::plan::node::{Shared, ShuffleDep};
use crate::spill::file::SpillFile;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Which map output: job run, shuffle id, map partition.
pub(crate) type BlockKey = (u64, usize, usize);

/// Where one map output is.
#[derive(Clone)]
enum Held {
    Memory {
        data: Shared,
        bytes: u64,
    },
    /// In a spill file, with the shuffle's index of its segments.
    Disk {
        file: Arc<SpillFile>,
        index: Shared,
    },
}

#[derive(Clone)]
struct Stored {
    held: Held,
    dep: Arc<dyn ShuffleDep>,
}

#[derive(Default)]
struct Outputs {
    stored: HashMap<BlockKey, Stored>,
    /// The encoded bytes of the outputs held in memory, while there are any.
    held: Option<Reservation>,
    /// Runs that ended: a late map task's output is not kept.
    dropped: HashSet<u64>,
}

impl Outputs {
    /// Takes `bytes` of the budget for an output, if they are free (the
    /// headroom left for memory that cannot spill does not count) and the
    /// held outputs stay within half of the budget.
    fn reserve(&mut self, memory: &Memory, bytes: u64) -> bool {
        let held = self
            .held
            .get_or_insert_with(|| memory.budget.reservation("shuffle map outputs", false));
        held.size().saturating_add(bytes) <= memory.budget.limit() / 2
            && held.try_grow_leaving_headroom(bytes).is_ok()
    }

    /// Gives back the `bytes` of an output no longer held in memory.
    fn release(&mut self, bytes: u64) {
        if let Some(held) = &mut self.held {
            held.shrink(bytes);
            if held.size() == 0 {
                self.held = None;
            }
        }
    }

    #[cfg(test)]
    fn in_memory(&self) -> u64 {
        self.held.as_ref().map_or(0, Reservation::size)
    }

    /// Stores an output, replacing (and releasing) an older copy.
    fn insert(&mut self, key: BlockKey, stored: Stored) {
        if let Some(Stored {
            held: Held::Memory { bytes, .. },
            ..
        }) = self.stored.insert(key, stored)
        {
            self.release(bytes);
        }
    }

    /// Removes the outputs `which` selects, releasing their memory.
    fn remove(&mut self, which: impl Fn(&BlockKey) -> bool) -> Vec<Stored> {
        let removed: Vec<Stored> = self
            .stored
            .extract_if(|key, _| which(key))
            .map(|(_, stored)| stored)
            .collect();
        for stored in &removed {
            if let Held::Memory { bytes, .. } = stored.held {
                self.release(bytes);
            }
        }
        removed
    }
}

/// The map outputs this process holds.
pub(crate) struct BlockStore {
    outputs: Mutex<Outputs>,
    memory: Arc<Memory>,
}

impl BlockStore {
    /// A store that keeps outputs in memory as far as `memory`'s budget
    /// allows and spills the rest to its spill area.
    pub fn new(memory: Arc<Memory>) -> BlockStore {
        BlockStore {
            outputs: Mutex::default(),
            memory,
        }
    }

    /// Keeps the output of a finished map task: in memory if the budget
    /// allows, else in a spill file (counted in the running task's
    /// metrics). Fails (naming the file) if it cannot be written.
    pub fn put(&self, key: BlockKey, data: Shared, dep: Arc<dyn ShuffleDep>) -> Result<()> {
        let bytes = dep.held_size(&data)?;
        {
            let mut outputs = self.lock();
            if outputs.dropped.contains(&key.0) {
                return Ok(());
            }
            if outputs.reserve(&self.memory, bytes) {
                let held = Held::Memory { data, bytes };
                outputs.insert(key, Stored { held, dep });
                return Ok(());
            }
        }
        let (run, shuffle, map) = key;
        let what = format!("shuffle-{shuffle}-map-{map}");
        let (segments, index) = dep.encode_segments(&data)?;
        drop(data);
        let file = self.memory.spills.write(run, &what, &segments)?;
        drop(segments);
        current_task().count_spilled(file.len(), 1);
        log::debug!(
            "spilled map output {map} of shuffle {shuffle} ({} held, {} on disk) to {}",
            bytes,
            file.len(),
            file.path().display()
        );
        let mut outputs = self.lock();
        if outputs.dropped.contains(&run) {
            drop(outputs);
            drop(file);
            self.memory.spills.drop_run(run);
        } else {
            let file = Arc::new(file);
            outputs.insert(
                key,
                Stored {
                    held: Held::Disk { file, index },
                    dep,
                },
            );
        }
        Ok(())
    }

    /// What reduce partition `reduce` reads of output `key`, for a reducer
    /// in this same process (`summary` is the shuffle's finalized one): the
    /// typed output, or the decoded segments of a spilled one.
    pub fn local(&self, key: BlockKey, reduce: usize, summary: &Shared) -> Result<Shared> {
        let Stored { held, dep } = self.get(key)?;
        match held {
            Held::Memory { data, .. } => Ok(data),
            Held::Disk { file, index } => {
                current_task().read_back();
                let segments = read_segments(&file, dep.segments_read(reduce, summary, &index)?)?;
                dep.decode_segments(segments, reduce)
            }
        }
    }

    /// The encoded block of map output `key` that reduce partition `reduce`
    /// reads, given the shuffle's encoded summary.
    pub fn encode(&self, key: BlockKey, reduce: usize, summary: &[u8]) -> Result<Vec<u8>> {
        let Stored { held, dep } = self.get(key)?;
        let summary = dep.decode_summary(summary)?;
        let data = match held {
            Held::Memory { data, .. } => data,
            Held::Disk { file, index } => {
                let mut segments =
                    read_segments(&file, dep.segments_read(reduce, &summary, &index)?)?;
                if dep.segment_is_block() && segments.len() == 1 {
                    return Ok(segments.swap_remove(0));
                }
                dep.decode_segments(segments, reduce)?
            }
        };
        dep.encode_block(&data, &summary, reduce)
    }

    /// Drops the outputs of `shuffle` in job run `run`, which no stage will
    /// read again; their spill files go with them.
    pub fn drop_shuffle(&self, run: u64, shuffle: usize) {
        let removed = self.lock().remove(|key| key.0 == run && key.1 == shuffle);
        drop(removed);
    }

    /// Drops every output of job run `run`, spilled ones included, and
    /// everything else the run spilled.
    pub fn drop_run(&self, run: u64) {
        let removed = {
            let mut outputs = self.lock();
            outputs.dropped.insert(run);
            outputs.remove(|key| key.0 == run)
        };
        drop(removed);
        self.memory.spills.drop_run(run);
    }

    /// A guard that removes the spill directory when dropped, however the
    /// worker stops (other threads may still hold the store then).
    pub fn remove_spills_on_drop(self: &Arc<Self>) -> RemoveSpills {
        RemoveSpills(self.clone())
    }

    fn get(&self, key: BlockKey) -> Result<Stored> {
        let (run, shuffle, map) = key;
        self.lock()
            .stored
            .get(&key)
            .cloned()
            .ok_or_else(|| Error::FetchFailed {
                shuffle,
                map,
                message: format!("this worker holds no output of it (run {run})"),
            })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Outputs> {
        self.outputs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Segments `which` of `file`.
fn read_segments(file: &SpillFile, which: std::ops::Range<usize>) -> Result<Vec<Vec<u8>>> {
    which.map(|segment| file.read(segment)).collect()
}

/// See [`BlockStore::remove_spills_on_drop`].
pub(crate) struct RemoveSpills(Arc<BlockStore>);

impl Drop for RemoveSpills {
    fn drop(&mut self) {
        self.0.memory.spills.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryOptions;
    use crate::plan::node::{Dep, Node, ShuffleOutputs, ShuffleSource, TaskContext};
    use crate::spill::file::tests::Scratch;
    use std::path::PathBuf;

    /// Map tasks here read no shuffle.
    struct NoShuffles;

    impl ShuffleSource for NoShuffles {
        fn outputs(&self, shuffle: usize, _: usize) -> Result<ShuffleOutputs> {
            Err(Error::Plan(format!("no shuffle {shuffle} in this test")))
        }
    }

    /// The map side of the shuffle that `reduced` reads.
    fn dep_of<T>(reduced: &Arc<dyn Node<T>>) -> Arc<dyn ShuffleDep> {
        match reduced.deps().pop() {
            Some(Dep::Shuffle(dep)) => dep,
            _ => panic!("not the reduce side of a shuffle"),
        }
    }

    /// Records with unicode, empty and large values over a few keys.
    fn records() -> Vec<(String, String)> {
        (0..300)
            .map(|i| {
                let value = match i % 4 {
                    0 => String::new(),
                    1 => format!("värde ✓ {i}"),
                    2 => "x".repeat(5000),
                    _ => i.to_string(),
                };
                (format!("kéy-{}", i % 17), value)
            })
            .collect()
    }

    const MAPS: usize = 3;
    const REDUCES: usize = 4;

    /// A shuffle's map side, its map outputs and its encoded summary.
    type Shuffled = (Arc<dyn ShuffleDep>, Vec<Shared>, Vec<u8>);

    /// A hash shuffle and a sort shuffle of `records()`, each with its map
    /// outputs and encoded finalized summary.
    fn shuffles() -> Vec<Shuffled> {
        let deps = crate::plan::scope::in_scope(MAPS, || {
            let src = crate::ops::source::parallelize(records(), Some(MAPS));
            let hashed = crate::shuffle::hash_partitioned::shuffle_by(
                src.node.clone(),
                REDUCES,
                |k: &String, n| crate::hash_partition(k, n),
            );
            let sorted = crate::shuffle::range_partitioned::sort_by_key(src.node, false, REDUCES);
            vec![dep_of(&hashed), dep_of(&sorted)]
        });
        deps.into_iter()
            .map(|dep| {
                let (mut outputs, mut summaries) = (Vec::new(), Vec::new());
                for map in 0..MAPS {
                    let tc = TaskContext::new(0, map, 1, Arc::new(NoShuffles));
                    let output = dep.run_map(map, &tc).unwrap();
                    outputs.push(output.data);
                    summaries.push(output.summary);
                }
                let summary = dep.encode_summary(&dep.finalize(summaries)).unwrap();
                (dep, outputs, summary)
            })
            .collect()
    }

    fn store(dir: &Scratch, budget: u64) -> BlockStore {
        BlockStore::new(Memory::new(&MemoryOptions {
            memory: budget,
            spill_dir: dir.0.clone(),
        }))
    }

    /// The spill files under `dir`.
    fn spill_files(dir: &std::path::Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(spill_files(&path));
            } else {
                files.push(path);
            }
        }
        files
    }

    /// Every record reduce partition `reduce` reads of a local output.
    fn records_read(
        dep: &Arc<dyn ShuffleDep>,
        data: &Shared,
        summary: &[u8],
        reduce: usize,
    ) -> Vec<u8> {
        dep.encode_block(data, &dep.decode_summary(summary).unwrap(), reduce)
            .unwrap()
    }

    #[test]
    fn spilled_outputs_serve_the_same_blocks_and_local_reads_as_held_ones() {
        let dir = Scratch::new("blocks-spill");
        let memory = store(&dir, u64::MAX);
        let disk = store(&dir, 0);
        for (shuffle, (dep, outputs, summary)) in shuffles().into_iter().enumerate() {
            for (map, data) in outputs.iter().enumerate() {
                memory
                    .put((1, shuffle, map), data.clone(), dep.clone())
                    .unwrap();
                disk.put((1, shuffle, map), data.clone(), dep.clone())
                    .unwrap();
            }
            for (map, output) in outputs.iter().enumerate() {
                for reduce in 0..REDUCES {
                    let key = (1, shuffle, map);
                    let expected = records_read(&dep, output, &summary, reduce);
                    assert_eq!(memory.encode(key, reduce, &summary).unwrap(), expected);
                    assert_eq!(disk.encode(key, reduce, &summary).unwrap(), expected);
                    let decoded = dep.decode_summary(&summary).unwrap();
                    let held = memory.local(key, reduce, &decoded).unwrap();
                    assert!(Arc::ptr_eq(&held, output), "held outputs are not copied");
                    let read = disk.local(key, reduce, &decoded).unwrap();
                    assert_eq!(records_read(&dep, &read, &summary, reduce), expected);
                }
            }
        }
        let files = spill_files(&dir.0);
        assert_eq!(
            files.len(),
            2 * MAPS,
            "one file per spilled map output: {files:?}"
        );
        assert!(
            files
                .iter()
                .all(|f| f.starts_with(disk.memory.spills.dir().unwrap().path()))
        );
        assert_eq!(memory.lock().in_memory(), {
            let sizes: u64 = shuffles()
                .iter()
                .flat_map(|(dep, outputs, _)| outputs.iter().map(|o| dep.held_size(o).unwrap()))
                .sum();
            sizes
        });
        let sizes: u64 = files
            .iter()
            .map(|f| std::fs::metadata(f).unwrap().len())
            .sum();
        assert!(
            sizes < memory.lock().in_memory(),
            "spill files are compressed: {sizes} bytes on disk"
        );
    }

    #[test]
    fn outputs_stay_in_memory_until_the_budget_is_used_up_and_come_back_when_freed() {
        let dir = Scratch::new("blocks-budget");
        let (dep, outputs, _) = shuffles().swap_remove(0);
        let first = dep.held_size(&outputs[0]).unwrap();
        let second = dep.held_size(&outputs[1]).unwrap();
        // The store may use half the budget: room for the first output and
        // half the second.
        let store = store(&dir, (first + second / 2) * 2);
        store
            .put((1, 0, 0), outputs[0].clone(), dep.clone())
            .unwrap();
        assert!(spill_files(&dir.0).is_empty());
        store
            .put((1, 0, 1), outputs[1].clone(), dep.clone())
            .unwrap();
        assert_eq!(
            spill_files(&dir.0).len(),
            1,
            "the second output did not fit"
        );
        assert_eq!(store.lock().in_memory(), first);
        // A recomputed output replaces the old copy and releases its bytes
        // (here it spills: the old copy is still held while it is put).
        store
            .put((1, 0, 0), outputs[0].clone(), dep.clone())
            .unwrap();
        assert_eq!(store.lock().in_memory(), 0);
        assert_eq!(spill_files(&dir.0).len(), 2);

        store.drop_run(1);
        assert!(spill_files(&dir.0).is_empty(), "the run's files are gone");
        assert_eq!(store.lock().in_memory(), 0);
        let err = store
            .local((1, 0, 0), 0, &(Arc::new(()) as Shared))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("map output 0 of shuffle 0: this worker holds no output of it (run 1)"),
            "{err}"
        );
        // A late map task of the ended run leaves nothing behind.
        store
            .put((1, 0, 2), outputs[2].clone(), dep.clone())
            .unwrap();
        assert!(store.lock().stored.is_empty() && spill_files(&dir.0).is_empty());
        // The freed budget is there for the next run.
        store
            .put((2, 0, 1), outputs[1].clone(), dep.clone())
            .unwrap();
        assert!(spill_files(&dir.0).is_empty());

        let root = store.memory.spills.dir().unwrap().path().to_path_buf();
        drop(Arc::new(store).remove_spills_on_drop());
        assert!(
            !root.exists(),
            "the worker's spill directory goes when it stops"
        );
    }

    #[test]
    fn a_damaged_spill_file_is_an_error_naming_it() {
        let dir = Scratch::new("blocks-damaged");
        let store = store(&dir, 0);
        let (dep, outputs, summary) = shuffles().swap_remove(1);
        store
            .put((1, 0, 0), outputs[0].clone(), dep.clone())
            .unwrap();
        let file = spill_files(&dir.0).pop().unwrap();
        std::fs::write(&file, b"").unwrap();
        let name = file.display().to_string();
        let decoded = dep.decode_summary(&summary).unwrap();
        let err = store.local((1, 0, 0), 0, &decoded).unwrap_err().to_string();
        assert!(err.contains(&name) && err.contains("truncated"), "{err}");
        let err = store
            .encode((1, 0, 0), 0, &summary)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&name) && err.contains("truncated"), "{err}");
    }

    #[test]
    fn an_unwritable_spill_directory_fails_the_put_and_names_it() {
        let dir = Scratch::new("blocks-unwritable");
        let store = store(&dir, 0);
        let (dep, outputs, _) = shuffles().swap_remove(0);
        // The run's directory cannot be made: a file is in its place.
        std::fs::write(
            store.memory.spills.dir().unwrap().path().join("run-1"),
            b"in the way",
        )
        .unwrap();
        let err = store
            .put((1, 0, 0), outputs[0].clone(), dep.clone())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                &store
                    .memory
                    .spills
                    .dir()
                    .unwrap()
                    .path()
                    .join("run-1")
                    .display()
                    .to_string()
            ) && err.contains("cannot create a spill directory"),
            "{err}"
        );
        let summary: Shared = Arc::new(());
        assert!(
            store.local((1, 0, 0), 0, &summary).is_err(),
            "nothing half-stored"
        );
    }
}
