//! Cutting input files into partitions, and reading one line-aligned byte
//! range of a file.
//!
//! A file is cut into byte ranges of near-equal size; a line belongs to the
//! range holding its first byte, so ranges can be read independently and
//! together yield every line exactly once (Hadoop's `LineRecordReader`).
//! Files that cannot be cut (compressed ones, or any file when records may
//! span lines) become one range each.

use crate::storage::{FileMeta, Storage};
use barks_runtime::{Error, Result};
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// The largest byte range one partition reads (as HDFS blocks cap splits).
pub const MAX_SPLIT: u64 = 32 << 20;

/// One partition's share of the input: bytes `start..end` of `file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub file: Arc<str>,
    /// The size of the whole file.
    pub file_size: u64,
    pub start: u64,
    pub end: u64,
}

/// Cuts `files` into at least `min_partitions` ranges of at most
/// `max_split` bytes (e.g. [`MAX_SPLIT`]); a file for which `splittable` is
/// false becomes one range whatever its size. Empty files yield no range.
///
/// The ranges of splittable files have about equal sizes, and their number
/// is aimed at a multiple of `slots` (the task slots that run them), so that
/// the last wave of tasks keeps every slot busy instead of leaving one range
/// to finish alone; each file is cut on its own, so files whose sizes do not
/// divide evenly may add a range each.
///
/// ```text
/// 105 MiB, 32 MiB at most, 2 slots: 4 ranges of ~26 MiB, not 32 + 32 + 41
/// ```
pub fn plan_splits(
    files: Vec<FileMeta>,
    min_partitions: usize,
    slots: usize,
    max_split: u64,
    splittable: impl Fn(&FileMeta) -> bool,
) -> Vec<Split> {
    let total: u64 = files.iter().map(|f| f.size).sum();
    let ranges = total
        .div_ceil(max_split.max(1))
        .max(min_partitions as u64)
        .next_multiple_of(slots.max(1) as u64);
    let goal = total.div_ceil(ranges.max(1)).max(1);
    let mut splits = Vec::new();
    for meta in files {
        let len = meta.size;
        let whole = !splittable(&meta);
        let file: Arc<str> = meta.path.into();
        let mut start = 0;
        while start < len {
            // Like Hadoop, let the last range of a file be up to 10% longer.
            let end = if whole || len - start <= goal + goal / 10 {
                len
            } else {
                start + goal
            };
            splits.push(Split {
                file: file.clone(),
                file_size: len,
                start,
                end,
            });
            start = end;
        }
    }
    splits
}

/// A reader over exactly the whole lines of one split: it skips the line
/// that began in the previous range and stops after the last line that
/// begins before `end`.
pub struct SplitLines {
    reader: BufReader<Box<dyn Read + Send>>,
    /// The file offset of the next byte `read` returns.
    pos: u64,
    end: u64,
    /// Whether `pos` is the first byte of a line.
    at_line_start: bool,
}

impl SplitLines {
    /// Opens `split` on `storage`.
    pub fn open(storage: &dyn Storage, split: &Split) -> Result<Self> {
        let file = &*split.file;
        if split.start == 0 {
            return Ok(SplitLines {
                reader: BufReader::with_capacity(1 << 20, storage.open_from(file, 0)?),
                pos: 0,
                end: split.end,
                at_line_start: true,
            });
        }
        // Skip the line that started in the previous range: it is read by
        // that range's reader.
        let mut reader =
            BufReader::with_capacity(1 << 20, storage.open_from(file, split.start - 1)?);
        let mut skipped = Vec::new();
        let read = reader
            .read_until(b'\n', &mut skipped)
            .map_err(|e| Error::io(file, e))?;
        Ok(SplitLines {
            reader,
            pos: split.start - 1 + read as u64,
            end: split.end,
            at_line_start: true,
        })
    }

    /// The file offset of the first byte not yet returned.
    pub fn position(&self) -> u64 {
        self.pos
    }
}

impl Read for SplitLines {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() || (self.at_line_start && self.pos >= self.end) {
            return Ok(0);
        }
        let buf = self.reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(0);
        }
        // Everything up to byte `end - 1` is ours, and so is the rest of the
        // line holding it: stop after that line's newline.
        let last_ours = self.end.saturating_sub(self.pos + 1);
        let mut n = buf.len().min(out.len());
        if let Ok(from) = usize::try_from(last_ours)
            && from < n
            && let Some(i) = memchr::memchr(b'\n', &buf[from..n])
        {
            n = from + i + 1;
        }
        out[..n].copy_from_slice(&buf[..n]);
        self.reader.consume(n);
        self.pos += n as u64;
        self.at_line_start = out[n - 1] == b'\n';
        Ok(n)
    }
}

/// How many lines of `file` start before byte `offset` (which must be a
/// line start): the line number base of a range, counted only when an
/// error needs an absolute line number.
pub fn lines_before(storage: &dyn Storage, file: &str, offset: u64) -> Result<u64> {
    let mut reader = storage.open_from(file, 0)?.take(offset);
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| Error::io(file, e))?;
        if n == 0 {
            return Ok(lines);
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::LocalStorage;

    fn meta(path: &str, size: u64) -> FileMeta {
        FileMeta {
            path: path.into(),
            size,
        }
    }

    #[test]
    fn splits_cover_every_byte_once() {
        let splits = plan_splits(
            vec![meta("a", 100), meta("b", 0), meta("c", 7)],
            4,
            1,
            MAX_SPLIT,
            |_| true,
        );
        for file in ["a", "c"] {
            let mut next = 0;
            for s in splits.iter().filter(|s| &*s.file == file) {
                assert_eq!(s.start, next);
                assert!(s.end > s.start);
                next = s.end;
            }
        }
        assert!(splits.iter().all(|s| &*s.file != "b"));
        assert!(splits.len() >= 4);
    }

    #[test]
    fn big_inputs_split_into_even_ranges_for_the_slots() {
        // 105 MiB on 2 slots with 32 MiB at most: 4 ranges of ~26 MiB, not
        // 32 + 32 + 41 (which leaves one slot working alone at the end).
        let size = 105 << 20;
        let splits = plan_splits(vec![meta("a", size)], 2, 2, MAX_SPLIT, |_| true);
        assert_eq!(splits.len(), 4);
        let lens: Vec<u64> = splits.iter().map(|s| s.end - s.start).collect();
        assert!(lens.iter().all(|&l| l <= MAX_SPLIT), "{lens:?}");
        assert!(lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 1);
        assert_eq!(lens.iter().sum::<u64>(), size);
    }

    #[test]
    fn range_counts_round_up_to_the_slots() {
        let mib = 1 << 20;
        let plan =
            |min, slots| plan_splits(vec![meta("a", 1042 * mib)], min, slots, 128 * mib, |_| true);
        // 1042 MiB at 128 MiB at most needs 9 ranges; 2 slots get 10 of ~104 MiB.
        let splits = plan(2, 2);
        assert_eq!(splits.len(), 10);
        assert!(
            splits
                .iter()
                .all(|s| (s.end - s.start).abs_diff(1042 * mib / 10) < 10)
        );
        assert_eq!(splits.last().map(|s| s.end), Some(1042 * mib));
        assert_eq!(plan(1, 1).len(), 9);
        assert_eq!(plan(1, 3).len(), 9);
        assert_eq!(plan(10, 4).len(), 12);
    }

    #[test]
    fn small_and_empty_files() {
        assert!(plan_splits(vec![], 2, 2, 100, |_| true).is_empty());
        assert!(plan_splits(vec![meta("e", 0)], 2, 2, 100, |_| true).is_empty());
        let splits = plan_splits(
            vec![meta("a", 10), meta("e", 0), meta("b", 10)],
            1,
            2,
            100,
            |_| true,
        );
        let sizes: Vec<u64> = splits.iter().map(|s| s.end - s.start).collect();
        assert_eq!(sizes, [10, 10]);
        assert_eq!(
            splits.iter().map(|s| &*s.file).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn unsplittable_files_are_one_range() {
        let splits = plan_splits(vec![meta("a.gz", 100)], 8, 2, MAX_SPLIT, |_| false);
        assert_eq!(splits.len(), 1);
        assert_eq!((splits[0].start, splits[0].end), (0, 100));
    }

    #[test]
    fn ranges_read_every_line_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.txt");
        let text: String = (0..200)
            .map(|i| format!("line {i}{}\n", "x".repeat(i % 13)))
            .collect();
        std::fs::write(&path, &text).unwrap();
        let path = path.to_string_lossy().into_owned();
        for parts in 1..9 {
            let splits = plan_splits(
                vec![meta(&path, text.len() as u64)],
                parts,
                1,
                MAX_SPLIT,
                |_| true,
            );
            let mut all = String::new();
            for s in &splits {
                let mut r = SplitLines::open(&LocalStorage, s).unwrap();
                r.read_to_string(&mut all).unwrap();
                if s.start > 0 {
                    let base = lines_before(&LocalStorage, &path, s.start).unwrap();
                    assert!(base > 0);
                }
            }
            assert_eq!(all, text, "{parts} partitions");
        }
    }
}
