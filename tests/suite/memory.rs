//! Bounded memory: jobs under a tiny execution memory budget (a few KB)
//! spill, and give exactly what they give with no budget and what a
//! sequential model gives, across partition counts, skewed keys and empty
//! inputs, on `local[2]` and on `local-cluster[2,1]`. Their spill files are
//! gone when a job ends, whether it succeeded or failed, and a budget too
//! small for one key's group is a clear error.

use crate::common::files_under;
use barks::prelude::*;
use barks::runtime::memory::{MemoryMetrics, MemoryOptions};
use std::collections::BTreeMap;
use std::path::Path;

/// A budget that makes every shuffle output and aggregation spill.
const TINY: u64 = 16 << 10;

/// A spill directory of this test's own, removed when dropped.
struct Dir(tempfile::TempDir);

impl Dir {
    fn new(name: &str) -> Dir {
        Dir(tempfile::Builder::new()
            .prefix(&format!("barks-memory-{name}-"))
            .tempdir()
            .unwrap())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

/// Waits (up to 10 s: a cluster's workers drop a run's files when the
/// driver tells them the run ended) until no spill file is left in `dir`.
fn no_files_left(dir: &Dir, master: &str) {
    let start = std::time::Instant::now();
    while !files_under(dir.path()).is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{master}: spill files left: {:?}",
            files_under(dir.path())
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A context on `master` with a budget of `budget` bytes spilling into
/// `dir` (its workers too).
fn context(master: &str, budget: u64, dir: &Dir) -> Context {
    Context::builder(master)
        .memory(budget)
        .spill_dir(dir.path())
        .worker_memory(MemoryOptions {
            memory: budget,
            spill_dir: dir.path().to_path_buf(),
        })
        .build()
        .unwrap()
}

/// Skewed records: half of them on three hot keys, some keys long.
fn records(n: u64) -> Vec<(String, u64)> {
    (0..n)
        .map(|i| {
            let key = match i % 10 {
                0..=4 => format!("hot-{}", i % 3),
                5 => format!("long-{}-{}", i % 97, "ü".repeat(100)),
                _ => format!("k{}", (i * 7919) % (n / 3 + 1)),
            };
            (key, i % 1000)
        })
        .collect()
}

/// Each by-key aggregation of `records` in `p` partitions, as lines.
#[barks::job]
fn aggregations(records: Vec<(String, u64)>, p: usize) -> Vec<String> {
    pipeline! {
        let src = parallelize(records, p);
        let sums = src.reduce_by_key(|a, b| a + b).map(|r| format!("sum {r:?}"));
        let folds = src.fold_by_key(0u64, |a, b| a.max(b)).map(|r| format!("max {r:?}"));
        let means = src
            .aggregate_by_key((0u64, 0u64), |(s, c), v| (s + v, c + 1), |a, b| (a.0 + b.0, a.1 + b.1))
            .map(|r| format!("mean {r:?}"));
        let mins = src
            .combine_by_key(|v| v, |a: u64, v| a.min(v), |a, b| a.min(b))
            .map(|r| format!("min {r:?}"));
        let keys = src.keys().distinct().map(|k| format!("key {k}"));
        sums.union(folds).union(means).union(mins).union(keys).collect()
    }
}

fn aggregations_model(records: &[(String, u64)]) -> Vec<String> {
    let mut groups: BTreeMap<&String, Vec<u64>> = BTreeMap::new();
    for (k, v) in records {
        groups.entry(k).or_default().push(*v);
    }
    let mut out = Vec::new();
    for (k, vs) in groups {
        let k = k.clone();
        let sum: u64 = vs.iter().sum();
        out.push(format!("sum {:?}", (k.clone(), sum)));
        out.push(format!("max {:?}", (k.clone(), vs.iter().max().unwrap())));
        out.push(format!("mean {:?}", (k.clone(), (sum, vs.len() as u64))));
        out.push(format!("min {:?}", (k.clone(), vs.iter().min().unwrap())));
        out.push(format!("key {k}"));
    }
    out.sort();
    out
}

/// Shuffles whose map outputs spill: grouping, a join and a global sort,
/// as lines.
#[barks::job]
fn shuffles(records: Vec<(String, u64)>, p: usize) -> Vec<String> {
    pipeline! {
        let src = parallelize(records, p);
        let groups = src
            .group_by_key()
            .map(|(k, vs)| { let mut vs = vs; vs.sort(); format!("group {:?}", (k, vs.len(), vs.iter().sum::<u64>())) });
        let counts = src.map_values(|_| 1u64).reduce_by_key(|a, b| a + b);
        let joined = src.join(counts).map(|(k, (v, n))| format!("join {k} {v} {n}"));
        let sorted = src
            .map(|(k, v)| (v, k))
            .sort_by_key(true)
            .map_partitions_with_index(|i, it| { let v: Vec<u64> = it.map(|(v, _)| v).collect(); std::iter::once(format!("sorted {i} {:?}", v.windows(2).all(|w| w[0] <= w[1]))) });
        groups.union(joined).union(sorted).collect()
    }
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

#[test]
fn aggregations_under_a_tiny_budget_spill_and_match_the_model() {
    let dir = Dir::new("aggregations");
    for master in ["local[2]", "local-cluster[2,1]"] {
        let tiny = context(master, TINY, &dir);
        let unlimited = context(master, u64::MAX, &dir);
        for (n, p) in [(0, 1), (1, 3), (3_000, 1), (20_000, 3), (20_000, 16)] {
            let input = records(n);
            let expected = aggregations_model(&input);
            let spilling = sorted(tiny.run_job(aggregations(input.clone(), p)).unwrap());
            let metrics = MemoryMetrics::last_job();
            assert_eq!(spilling, expected, "{master}, {n} records in {p}");
            if n >= 20_000 {
                assert!(
                    metrics.spilled_bytes > 0 && metrics.spill_files_read > 0,
                    "{master}, {n} records in {p}: {metrics}"
                );
            }
            let in_memory = sorted(unlimited.run_job(aggregations(input, p)).unwrap());
            assert_eq!(
                MemoryMetrics::last_job().spilled_bytes,
                0,
                "{master}: nothing spills without a budget"
            );
            assert_eq!(in_memory, expected, "{master}, {n} records in {p}");
        }
        no_files_left(&dir, master);
    }
}

#[test]
fn shuffles_under_a_tiny_budget_give_what_they_give_without_one() {
    let dir = Dir::new("shuffles");
    for master in ["local[2]", "local-cluster[2,1]"] {
        let tiny = context(master, TINY, &dir);
        let unlimited = context(master, u64::MAX, &dir);
        for (n, p) in [(0, 2), (5_000, 1), (5_000, 7)] {
            let input = records(n);
            let spilling = sorted(tiny.run_job(shuffles(input.clone(), p)).unwrap());
            if n > 0 {
                assert!(
                    MemoryMetrics::last_job().spilled_bytes > 0,
                    "{master}: map outputs spill"
                );
            }
            let in_memory = sorted(unlimited.run_job(shuffles(input, p)).unwrap());
            assert_eq!(spilling, in_memory, "{master}, {n} records in {p}");
            assert!(
                spilling
                    .iter()
                    .filter(|l| l.starts_with("sorted"))
                    .all(|l| l.ends_with("true")),
                "{master}: {spilling:?}"
            );
        }
        no_files_left(&dir, master);
    }
}

/// Keys for the other side of `groupings`: every third `k` key of
/// `records`, keys `records` does not have, and one hot key once.
fn others(n: u64) -> Vec<(String, u64)> {
    (0..n / 4)
        .map(|i| (format!("k{}", i * 3), i))
        .chain((0..50).map(|i| (format!("only-right-{i}"), i)))
        .chain(std::iter::once(("hot-0".to_string(), 7)))
        .collect()
}

/// Grouping, cogroup and joins of `records` with `others`, as lines.
#[barks::job]
fn groupings(records: Vec<(String, u64)>, others: Vec<(String, u64)>, p: usize) -> Vec<String> {
    pipeline! {
        let src = parallelize(records, p);
        let other = parallelize(others, p);
        let groups = src
            .group_by_key()
            .map(|(k, vs)| { let mut vs = vs; vs.sort(); format!("group {k} {vs:?}") });
        let cogroups = src
            .cogroup(other)
            .map(|(k, (vs, ws))| { let (mut vs, mut ws) = (vs, ws); vs.sort(); ws.sort(); format!("cogroup {k} {vs:?} {ws:?}") });
        let joined = src.join(other).map(|(k, (v, w))| format!("join {k} {v} {w}"));
        let left = src.left_outer_join(other).map(|(k, (v, w))| format!("left {k} {v} {w:?}"));
        let full = src.full_outer_join(other).map(|(k, (v, w))| format!("full {k} {v:?} {w:?}"));
        groups.union(cogroups).union(joined).union(left).union(full).collect()
    }
}

fn groupings_model(records: &[(String, u64)], others: &[(String, u64)]) -> Vec<String> {
    let group = |pairs: &[(String, u64)]| {
        let mut groups: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for (k, v) in pairs {
            groups.entry(k.clone()).or_default().push(*v);
        }
        groups.values_mut().for_each(|vs| vs.sort());
        groups
    };
    let (left, right) = (group(records), group(others));
    let mut out = Vec::new();
    for (k, vs) in &left {
        out.push(format!("group {k} {vs:?}"));
        let ws = right.get(k).cloned().unwrap_or_default();
        out.push(format!("cogroup {k} {vs:?} {ws:?}"));
        for v in vs {
            for w in &ws {
                out.push(format!("join {k} {v} {w}"));
                out.push(format!("left {k} {v} {:?}", Some(w)));
                out.push(format!("full {k} {:?} {:?}", Some(v), Some(w)));
            }
            if ws.is_empty() {
                out.push(format!("left {k} {v} None"));
                out.push(format!("full {k} {:?} None", Some(v)));
            }
        }
    }
    for (k, ws) in right.iter().filter(|(k, _)| !left.contains_key(*k)) {
        out.push(format!("cogroup {k} [] {ws:?}"));
        for w in ws {
            out.push(format!("full {k} None {:?}", Some(w)));
        }
    }
    out.sort();
    out
}

#[test]
fn groupings_and_joins_under_a_small_budget_spill_and_match_the_model() {
    let dir = Dir::new("groupings");
    for master in ["local[2]", "local-cluster[2,1]"] {
        // Small enough that every grouping and join spills, big enough
        // for the hot keys' groups.
        let small = context(master, 256 << 10, &dir);
        for (n, p) in [(0, 1), (20_000, 1), (20_000, 3), (20_000, 16)] {
            let (input, others) = (records(n), others(n));
            let expected = groupings_model(&input, &others);
            let out = sorted(small.run_job(groupings(input, others, p)).unwrap());
            if n > 0 && p < 16 {
                assert!(
                    MemoryMetrics::last_job().spill_files_read > 0,
                    "{master}, {n} records in {p}: {}",
                    MemoryMetrics::last_job()
                );
            }
            assert_eq!(out.len(), expected.len(), "{master}, {n} records in {p}");
            assert!(out == expected, "{master}, {n} records in {p}");
        }
        no_files_left(&dir, master);
    }
}

/// A cached dataset read three times, without a shuffle: whatever spills
/// is the cache.
#[barks::job]
fn cached_thrice(records: Vec<(String, u64)>, p: usize) -> Vec<String> {
    pipeline! {
        let cached = parallelize(records, p).map(|(k, v)| format!("{k}={v}")).cache();
        cached.union(cached).union(cached).collect()
    }
}

#[test]
fn cached_partitions_over_the_budget_go_to_disk_and_read_back_the_same() {
    let dir = Dir::new("cache");
    for master in ["local[2]", "local-cluster[2,1]"] {
        let tiny = context(master, TINY, &dir);
        let unlimited = context(master, u64::MAX, &dir);
        for (n, p) in [(0, 1), (20_000, 1), (20_000, 5)] {
            let input = records(n);
            let mut expected: Vec<String> = input.iter().map(|(k, v)| format!("{k}={v}")).collect();
            expected = expected
                .iter()
                .chain(&expected)
                .chain(&expected)
                .cloned()
                .collect();
            expected.sort();
            let on_disk = sorted(tiny.run_job(cached_thrice(input.clone(), p)).unwrap());
            let metrics = MemoryMetrics::last_job();
            assert_eq!(on_disk, expected, "{master}, {n} records in {p}");
            if n > 0 {
                // Each partition is written once (twice when two tasks
                // compute it at once), and every task reads it back.
                assert!(
                    (p as u64..3 * p as u64).contains(&metrics.spill_files_written)
                        && metrics.spill_files_read == 3 * p as u64,
                    "{master}, {n} records in {p}: {metrics}"
                );
            }
            let in_memory = sorted(unlimited.run_job(cached_thrice(input, p)).unwrap());
            assert_eq!(MemoryMetrics::last_job().spilled_bytes, 0);
            assert_eq!(in_memory, expected, "{master}, {n} records in {p}");
        }
        no_files_left(&dir, master);
    }
}

/// Sums per key; the reduce task of partition `poisoned` panics after it
/// read (and spilled) its input.
#[barks::job]
fn sums_failing(records: Vec<(String, u64)>, poisoned: usize) -> Vec<(String, u64)> {
    pipeline! {
        parallelize(records, 4)
            .reduce_by_key(|a, b| a + b)
            .map_partitions_with_index(move |i, it| {
                let rows: Vec<(String, u64)> = it.collect();
                if i == poisoned {
                    panic!("poisoned partition {i}");
                }
                rows.into_iter()
            })
            .collect()
    }
}

#[test]
fn spill_files_are_gone_after_a_failed_job() {
    let dir = Dir::new("failed");
    for master in ["local[2]", "local-cluster[2,1]"] {
        let ctx = context(master, TINY, &dir);
        let err = ctx
            .run_job(sums_failing(records(20_000), 1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("poisoned partition 1"), "{master}: {err}");
        no_files_left(&dir, master);
    }
}

/// Every value of one key, collected into one list.
#[barks::job]
fn one_big_group(n: u32) -> Vec<(u8, Vec<u32>)> {
    pipeline! {
        parallelize((0..n).map(|i| (1u8, i)).collect::<Vec<_>>(), 4)
            .aggregate_by_key(Vec::new(), |mut vs: Vec<u32>, v| { vs.push(v); vs }, |mut a, b| { a.extend(b); a })
            .collect()
    }
}

#[test]
fn a_group_bigger_than_the_budget_is_a_clear_error() {
    let dir = Dir::new("big-group");
    for master in ["local[2]", "local-cluster[2,1]"] {
        let ctx = context(master, TINY, &dir);
        let err = ctx.run_job(one_big_group(200_000)).unwrap_err().to_string();
        assert!(
            err.contains("merging combiners by key")
                && err.contains("16.0 KiB execution memory budget")
                && err.contains("--memory"),
            "{master}: {err}"
        );
        // A budget that holds it: the same job succeeds.
        let roomy = context(master, 64 << 20, &dir);
        let groups = roomy.run_job(one_big_group(200_000)).unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].1.len(), 200_000);
        no_files_left(&dir, master);
    }
}

/// `n` numbers, collected on the driver.
#[barks::job]
fn numbers(n: u64) -> Vec<u64> {
    pipeline! {
        parallelize((0..n).collect::<Vec<u64>>(), 4).collect()
    }
}

#[test]
fn results_over_the_maximum_result_size_fail_the_job_with_a_clear_error() {
    for master in ["local[2]", "local-cluster[2,1]"] {
        // 100,000 numbers take about 270 KB encoded.
        let small = Context::builder(master)
            .max_result_size(100 << 10)
            .build()
            .unwrap();
        let err = small.run_job(numbers(100_000)).unwrap_err().to_string();
        assert!(
            err.contains("over the driver's maximum result size of 100.0 KiB")
                && err.contains("BARKS_MAX_RESULT_SIZE"),
            "{master}: {err}"
        );
        // Within it, the same job succeeds.
        let enough = Context::builder(master)
            .max_result_size(1 << 20)
            .build()
            .unwrap();
        assert_eq!(enough.run_job(numbers(100_000)).unwrap().len(), 100_000);
    }
}
