//! Planning the partitions of Parquet files from their sizes alone (the
//! footers are read by the tasks, as Spark does): each file is cut into
//! byte ranges, and a partition reads the row groups whose middle byte falls
//! in its range, so it holds one row group or a group of consecutive ones.

use crate::split::{Split, plan_splits};
use crate::storage::FileMeta;

/// Byte ranges of at most `max_bytes` over `files`, at least
/// `min_partitions` of them. Their number is aimed at a multiple of `slots`
/// (the task slots that run them), so that the last wave of tasks keeps
/// every slot busy instead of leaving a few long tasks to run alone; each
/// file is cut on its own, so files whose sizes do not divide evenly may add
/// a range each. Empty files yield no range.
///
/// ```text
/// 1042 MiB, 128 MiB at most, 2 slots: 9 ranges would be needed; 10 of 104 MiB are planned
/// ```
pub(crate) fn plan_ranges(
    files: Vec<FileMeta>,
    min_partitions: usize,
    slots: usize,
    max_bytes: u64,
) -> Vec<Split> {
    let total: u64 = files.iter().map(|f| f.size).sum();
    let needed = total.div_ceil(max_bytes.max(1)) as usize;
    let partitions = needed.max(min_partitions).next_multiple_of(slots.max(1));
    plan_splits(files, partitions, max_bytes, |_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> FileMeta {
        FileMeta {
            path: path.to_string(),
            size,
        }
    }

    fn sizes(splits: &[Split]) -> Vec<u64> {
        splits.iter().map(|s| s.end - s.start).collect()
    }

    #[test]
    fn ranges_fill_the_slots() {
        let mib = 1 << 20;
        let splits = plan_ranges(vec![file("a", 1042 * mib)], 2, 2, 128 * mib);
        assert_eq!(splits.len(), 10);
        assert!(
            sizes(&splits)
                .iter()
                .all(|&s| s.abs_diff(1042 * mib / 10) < 10)
        );
        assert_eq!(splits.last().map(|s| s.end), Some(1042 * mib));
        // One slot: no rounding; three slots: a multiple of three.
        assert_eq!(
            plan_ranges(vec![file("a", 1042 * mib)], 1, 1, 128 * mib).len(),
            9
        );
        assert_eq!(
            plan_ranges(vec![file("a", 1042 * mib)], 1, 3, 128 * mib).len(),
            9
        );
        assert_eq!(
            plan_ranges(vec![file("a", 1042 * mib)], 10, 4, 128 * mib).len(),
            12
        );
    }

    #[test]
    fn small_and_empty_files() {
        assert!(plan_ranges(vec![], 2, 2, 100).is_empty());
        assert!(plan_ranges(vec![file("e", 0)], 2, 2, 100).is_empty());
        let splits = plan_ranges(vec![file("a", 10), file("e", 0), file("b", 10)], 1, 2, 100);
        assert_eq!(sizes(&splits), [10, 10]);
        assert_eq!(
            splits.iter().map(|s| &*s.file).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }
}
