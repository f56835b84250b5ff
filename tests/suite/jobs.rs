//! Jobs written with `#[barks::job]` and `pipeline!`, run end to end.

use barks::prelude::*;
use std::collections::BTreeMap;

#[barks::job]
fn word_count(lines: Vec<String>) -> Vec<(String, u64)> {
    pipeline! {
        let text = parallelize(lines, 3);
        let counts = text
            .flat_map(|l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b);
        counts.collect()
    }
}

#[barks::job]
fn ranks(edges: Vec<(u32, u32)>, iters: usize) -> Vec<(u32, f64)> {
    pipeline! {
        let links = parallelize(edges, 4).distinct().group_by_key().cache();
        let ranks = links.map_values(|_| 1.0f64);
        for _ in 0..iters {
            let contribs = links.join(ranks).flat_map(|(_, (dsts, rank)): (u32, (Vec<u32>, f64))| {
                let share = rank / dsts.len() as f64;
                dsts.into_iter().map(move |d| (d, share)).collect::<Vec<_>>()
            });
            ranks = contribs.reduce_by_key(|a, b| a + b).map_values(|s| 0.15 + 0.85 * s);
        }
        ranks.collect()
    }
}

#[test]
fn word_count_matches_a_sequential_count() {
    let lines = vec!["a b a".to_string(), "".into(), "c b a".into(), "d".into()];
    let mut expected = BTreeMap::new();
    for w in lines.iter().flat_map(|l| l.split_whitespace()) {
        *expected.entry(w.to_string()).or_insert(0u64) += 1;
    }
    for master in ["local[1]", "local[2]", "local[4]"] {
        let got: BTreeMap<_, _> = word_count(lines.clone())
            .run_on(master)
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(got, expected, "{master}");
    }
}

#[test]
fn a_loop_inside_a_job_runs_every_iteration() {
    let edges = vec![(1, 2), (2, 3), (3, 1), (1, 3), (1, 3)];
    let mut got = ranks(edges.clone(), 5).run_on("local[2]").unwrap();
    got.sort_by_key(|(n, _)| *n);
    // Sequential model of the same algorithm.
    let mut links: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut dedup = edges.clone();
    dedup.sort();
    dedup.dedup();
    for (s, d) in dedup {
        links.entry(s).or_default().push(d);
    }
    let mut model: BTreeMap<u32, f64> = links.keys().map(|k| (*k, 1.0)).collect();
    for _ in 0..5 {
        let mut sums: BTreeMap<u32, f64> = BTreeMap::new();
        for (s, ds) in &links {
            if let Some(r) = model.get(s) {
                for d in ds {
                    *sums.entry(*d).or_default() += r / ds.len() as f64;
                }
            }
        }
        model = sums
            .into_iter()
            .map(|(k, s)| (k, 0.15 + 0.85 * s))
            .collect();
    }
    let model: Vec<(u32, f64)> = model.into_iter().collect();
    assert_eq!(got.len(), model.len());
    for ((a, x), (b, y)) in got.iter().zip(&model) {
        assert_eq!(a, b);
        assert!((x - y).abs() < 1e-9, "{x} vs {y}");
    }
}

#[test]
fn a_plan_serializes_to_ids_and_data_and_rebuilds_from_the_registry() {
    use barks::runtime::dag::{PlanDesc, StageKind};
    use barks::runtime::find_job;

    let job = ranks(vec![(1, 2), (2, 1)], 2);
    let plan = job.plan(3).unwrap();
    let desc = &plan.desc;
    assert!(
        desc.job.contains("ranks#"),
        "id names the job: {}",
        desc.job
    );
    // The distinct, partitioned by key for group_by_key (which then needs
    // no shuffle of its own), and one reduce_by_key per iteration (the join
    // reads `ranks` as that partitioned it).
    let shuffles = desc
        .stages
        .iter()
        .filter(|s| matches!(s.kind, StageKind::ShuffleMap { .. }))
        .count();
    assert_eq!(shuffles, 1 + 2, "shuffle stages");
    assert_eq!(desc.stages.last().unwrap().kind, StageKind::Result);

    // What a driver would send: bytes, no code.
    let bytes = postcard::to_allocvec(desc).unwrap();
    let received: PlanDesc = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(&received, desc);

    // What a worker does: look the job up by id and rebuild the same DAG.
    let def = find_job(&received.job).unwrap();
    let rebuilt = (def.build)(&received.args, received.default_parallelism).unwrap();
    assert_eq!(&rebuilt.desc, desc);

    // Arguments from other code are refused, not misread.
    let err = (def.build)(&[0xff, 0xff, 0xff], 3)
        .err()
        .expect("garbage arguments must fail");
    assert!(
        err.to_string().contains("arguments of job `ranks`"),
        "{err}"
    );
    assert!(find_job("no::such::job#0").is_err());
}

#[test]
fn the_master_comes_from_code_and_is_validated() {
    use barks::Context;
    assert_eq!(Context::new("local[3]").unwrap().default_parallelism(), 3);
    assert!(Context::new("local[*]").unwrap().default_parallelism() >= 1);
    for bad in ["local[0]", "local[x]", "yarn", "local[2"] {
        let err = Context::new(bad).unwrap_err().to_string();
        assert!(err.contains(bad), "the error names the master: {err}");
    }
}

/// Every fusable operator in one run (so `pipeline!` fuses them into one
/// node), then a run of filters only on hash-partitioned data (which must
/// keep the partitioning the second `reduce_by_key` relies on).
#[barks::job]
fn fused_chain(data: Vec<i32>, parts: usize) -> Vec<(i32, (i64, usize))> {
    pipeline! {
        let values = parallelize(data, parts);
        let keyed = values
            .flat_map(|x: i32| vec![x, x / 3])
            .filter(|x| *x % 5 != 0)
            .filter_map(|x| (x > -40).then_some(i64::from(x) * 2))
            .map(|x| x + 1)
            .key_by(|x| (x % 7) as i32)
            .map(|(k, x)| (k, (x, 1usize)))
            .reduce_by_key(|a, b| (a.0 + b.0, a.1 + b.1));
        let kept = keyed
            .filter(|(k, _)| *k != 3)
            .filter(|(_, (_, n))| *n > 1)
            .reduce_by_key(|a, b| (a.0 + b.0, a.1 + b.1));
        kept.collect()
    }
}

/// The same chain, sequentially.
fn fused_chain_model(data: &[i32]) -> Vec<(i32, (i64, usize))> {
    let mut sums: BTreeMap<i32, (i64, usize)> = BTreeMap::new();
    for x in data.iter().flat_map(|&x| [x, x / 3]) {
        if x % 5 == 0 || x <= -40 {
            continue;
        }
        let x = i64::from(x) * 2 + 1;
        let slot = sums.entry((x % 7) as i32).or_default();
        slot.0 += x;
        slot.1 += 1;
    }
    sums.into_iter()
        .filter(|(k, (_, n))| *k != 3 && *n > 1)
        .collect()
}

#[test]
fn a_fused_run_of_filters_keeps_the_key_partitioning() {
    // One shuffle (the first reduce_by_key) and the result stage: the second
    // reduce_by_key, after a fused run of filters only, needs no shuffle.
    let plan = fused_chain(vec![1, 2, 3], 4).plan(2).unwrap();
    assert_eq!(plan.desc.stages.len(), 2, "{:?}", plan.desc.stages);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    #[test]
    fn fused_narrow_runs_match_a_sequential_model(
        data in proptest::collection::vec(-100i32..100, 0..200),
        parts in 1usize..=16,
    ) {
        let mut got = fused_chain(data.clone(), parts).run_on("local[3]").unwrap();
        got.sort();
        proptest::prop_assert_eq!(got, fused_chain_model(&data));
    }
}

/// A stage read once but not by the next statement is not inlined: `base`
/// is reassigned in between, and `firsts` must still read the old `base`.
#[barks::job]
fn read_after_reassign(old: Vec<(u32, u64)>, new: Vec<(u32, u64)>) -> Vec<(u32, u64)> {
    pipeline! {
        let base = parallelize(old, 3);
        let firsts = base.map(|(k, v): (u32, u64)| (k, v * 10));
        base = parallelize(new, 2);
        let sums = firsts.reduce_by_key(|a, b| a + b);
        sums.union(base).collect()
    }
}

#[test]
fn a_stage_read_after_a_reassignment_keeps_its_old_input() {
    let old = vec![(1, 1), (2, 2), (1, 3)];
    let new = vec![(7, 7)];
    let mut got = read_after_reassign(old, new).run_on("local[2]").unwrap();
    got.sort();
    assert_eq!(got, [(1, 40), (2, 20), (7, 7)]);
}

/// Filters keep the key partitioning, so the fused `filter` +
/// `reduce_by_key` after `partition_by` needs no shuffle: its map side is
/// the only one and must merge every key, even over mostly distinct keys.
#[barks::job]
fn partitioned_sums(records: Vec<(String, u64)>, parts: usize) -> Vec<(String, u64)> {
    pipeline! {
        let parted = parallelize(records, parts).partition_by(parts);
        let sums = parted.filter(|(_, v): &(String, u64)| *v > 0).reduce_by_key(|a, b| a + b);
        sums.collect()
    }
}

#[test]
fn a_fused_aggregation_of_partitioned_data_merges_every_key() {
    let records: Vec<(String, u64)> = (0..300_000u64)
        .map(|i| {
            (
                format!("k{}", if i < 150_000 { i } else { i % 1000 }),
                i % 3,
            )
        })
        .collect();
    let mut model: BTreeMap<String, u64> = BTreeMap::new();
    for (k, v) in records.iter().filter(|(_, v)| *v > 0) {
        *model.entry(k.clone()).or_default() += v;
    }
    for parts in [1, 3] {
        let got: Vec<(String, u64)> = partitioned_sums(records.clone(), parts)
            .run_on("local[2]")
            .unwrap();
        assert_eq!(
            got.len(),
            model.len(),
            "{parts} partitions: a key came out twice"
        );
        let got: BTreeMap<String, u64> = got.into_iter().collect();
        assert_eq!(got, model, "{parts} partitions");
    }
}

/// A join read by a fused run, then aggregated in the run's loop.
#[barks::job]
fn joined_sums(left: Vec<(u32, u32)>, right: Vec<(u32, u32)>, parts: usize) -> Vec<(u32, u64)> {
    pipeline! {
        let lefts = parallelize(left, parts);
        let rights = parallelize(right, parts);
        let sums = lefts
            .join(rights)
            .flat_map(|(k, (a, b)): (u32, (u32, u32))| {
                vec![(k % 1000, u64::from(a) * 3 + u64::from(b)), (k % 7, 1)]
            })
            .reduce_by_key(|x, y| x + y);
        sums.collect()
    }
}

#[test]
fn a_fused_join_with_many_matches_per_key_matches_nested_loops() {
    // Several matches per key on both sides, and a skewed key 0: the fused
    // run's map side reads its first records row by row, then folds the
    // rest, starting in the middle of a left record's matches.
    let left: Vec<(u32, u32)> = (0..60_000u32)
        .map(|i| (if i % 10 == 0 { 0 } else { i % 20_000 }, i))
        .collect();
    let right: Vec<(u32, u32)> = (0..60_000u32).map(|i| (i % 20_000, i / 7)).collect();
    let mut by_key: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for &(k, b) in &right {
        by_key.entry(k).or_default().push(b);
    }
    let mut model: BTreeMap<u32, u64> = BTreeMap::new();
    for &(k, a) in &left {
        for &b in by_key.get(&k).into_iter().flatten() {
            *model.entry(k % 1000).or_default() += u64::from(a) * 3 + u64::from(b);
            *model.entry(k % 7).or_default() += 1;
        }
    }
    for parts in [1, 3] {
        let mut got = joined_sums(left.clone(), right.clone(), parts)
            .run_on("local[2]")
            .unwrap();
        got.sort();
        assert_eq!(
            got,
            model.clone().into_iter().collect::<Vec<_>>(),
            "{parts} partitions"
        );
    }
}
