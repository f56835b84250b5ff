//! Every operator and action checked against a naive sequential model (plain
//! `Vec`/`BTreeMap` code), across partition counts 1..=16, `local[1]` and
//! `local[3]`, empty inputs, empty partitions (more partitions than records)
//! and skewed keys.
//!
//! Where Spark defines no order the two sides are compared as sorted
//! multisets; where it does (narrow operators over `parallelize`, `union`,
//! `coalesce`, `zip_with_index`, sorts, `take`, `take_ordered`, `top`,
//! `first`) they are compared exactly.

use crate::common::{pairs, values};
use barks::runtime::{Context, Dataset, Output, parallelize, persisted, range};
use proptest::collection::vec;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

/// Runs a pipeline on `local[threads]`, panicking on a job error.
fn run<R: 'static>(threads: usize, pipeline: impl FnOnce() -> Output<R>) -> R {
    Context::new(&format!("local[{threads}]"))
        .unwrap()
        .run(pipeline)
        .unwrap()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn cfg() -> ProptestConfig {
    ProptestConfig::with_cases(24)
}

/// Thread counts: one thread, and more threads than cores.
fn threads() -> impl Strategy<Value = usize> {
    prop_oneof![Just(1usize), Just(3usize)]
}

/// Partition counts, often more than there are records.
fn parts() -> impl Strategy<Value = usize> {
    1usize..=16
}

/// The model of grouping: key -> its values, sorted.
fn model_groups(records: &[(u8, i32)]) -> BTreeMap<u8, Vec<i32>> {
    let mut m: BTreeMap<u8, Vec<i32>> = BTreeMap::new();
    for (k, v) in records {
        m.entry(*k).or_default().push(*v);
    }
    for vs in m.values_mut() {
        vs.sort();
    }
    m
}

/// A row of a full outer join.
type OuterRow = (u8, (Option<i32>, Option<i32>));

/// A key with its values on either side of a cogroup.
type CoGroup = (u8, (Vec<i32>, Vec<i32>));

/// The model of a join with optional sides: every combination per key.
fn model_join(
    left: &[(u8, i32)],
    right: &[(u8, i32)],
    keep_left: bool,
    keep_right: bool,
) -> Vec<OuterRow> {
    let mut out = Vec::new();
    for (k, v) in left {
        let matches: Vec<i32> = right
            .iter()
            .filter(|(rk, _)| rk == k)
            .map(|x| x.1)
            .collect();
        if matches.is_empty() && keep_left {
            out.push((*k, (Some(*v), None)));
        }
        for w in matches {
            out.push((*k, (Some(*v), Some(w))));
        }
    }
    if keep_right {
        for (k, w) in right {
            if !left.iter().any(|(lk, _)| lk == k) {
                out.push((*k, (None, Some(*w))));
            }
        }
    }
    sorted(out)
}

/// A key-value dataset, optionally already hash-partitioned (so by-key
/// operators take their no-shuffle path).
fn keyed(records: Vec<(u8, i32)>, parts: usize, prepartition: Option<usize>) -> Dataset<(u8, i32)> {
    let ds = parallelize(records, Some(parts));
    match prepartition {
        Some(n) => ds.partition_by(n),
        None => ds,
    }
}

proptest! {
    #![proptest_config(cfg())]

    // ---- sources -------------------------------------------------------

    #[test]
    fn parallelize_keeps_order_and_makes_the_partitions_asked(
        data in values(), p in parts(), t in threads()
    ) {
        let d = data.clone();
        let parts_seen = run(t, move || {
            let ds = parallelize(d, Some(p));
            assert_eq!(ds.num_partitions(), p);
            ds.glom().collect()
        });
        prop_assert_eq!(parts_seen.len(), p);
        // Near-equal slices, concatenated in order.
        let sizes: Vec<usize> = parts_seen.iter().map(Vec::len).collect();
        prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{:?}", sizes);
        prop_assert_eq!(parts_seen.concat(), data);
    }

    #[test]
    fn range_matches_a_loop(
        start in -30i64..30, end in -30i64..30, step in -7i64..=7, p in parts(), t in threads()
    ) {
        let got = run(t, move || range(start, end, step, Some(p)).collect());
        let step = if step == 0 { 1 } else { step };
        let mut expected = Vec::new();
        let mut x = start;
        while (step > 0 && x < end) || (step < 0 && x > end) {
            expected.push(x);
            x += step;
        }
        prop_assert_eq!(got, expected);
    }

    // ---- narrow operators (order is defined) ---------------------------

    #[test]
    fn map_filter_flat_map_filter_map_keep_order(data in values(), p in parts(), t in threads()) {
        let d = data.clone();
        let got = run(t, move || {
            parallelize(d, Some(p))
                .map(|x| x * 3)
                .filter(|x| x % 2 != 0)
                .flat_map(|x| vec![x; (x.rem_euclid(3)) as usize + 1])
                .filter_map(|x| (x > -40).then_some(i64::from(x) + 1))
                .collect()
        });
        let expected: Vec<i64> = data
            .iter()
            .map(|x| x * 3)
            .filter(|x| x % 2 != 0)
            .flat_map(|x| vec![x; (x.rem_euclid(3)) as usize + 1])
            .filter_map(|x| (x > -40).then_some(i64::from(x) + 1))
            .collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn map_partitions_sees_each_partition_once(data in values(), p in parts(), t in threads()) {
        let d = data.clone();
        let ds = move || parallelize(d.clone(), Some(p));
        let tagged = run(t, || ds().map_partitions_with_index(|i, it| it.map(move |x| (i, x))).collect());
        let sums = run(t, || {
            ds().map_partitions(|it| std::iter::once(it.map(i64::from).sum::<i64>())).collect()
        });
        // Partition indexes are in range, in order, and the records are intact.
        prop_assert!(tagged.iter().all(|(i, _)| *i < p));
        prop_assert!(tagged.windows(2).all(|w| w[0].0 <= w[1].0));
        prop_assert_eq!(tagged.iter().map(|x| x.1).collect::<Vec<_>>(), data.clone());
        prop_assert_eq!(sums.len(), p);
        prop_assert_eq!(sums.iter().sum::<i64>(), data.iter().map(|x| i64::from(*x)).sum::<i64>());
    }

    #[test]
    fn pair_narrow_operators_keep_order(records in pairs(), p in parts(), t in threads()) {
        let r = records.clone();
        let ds = move || parallelize(r.clone(), Some(p));
        let keyed_by = run(t, || ds().values().key_by(|v| v.rem_euclid(4)).collect());
        let keys = run(t, || ds().keys().collect());
        let values = run(t, || ds().values().collect());
        let mapped = run(t, || ds().map_values(|v| v * 2).collect());
        let flat = run(t, || ds().flat_map_values(|v| 0..v.rem_euclid(3)).collect());
        prop_assert_eq!(keyed_by, records.iter().map(|(_, v)| (v.rem_euclid(4), *v)).collect::<Vec<_>>());
        prop_assert_eq!(keys, records.iter().map(|x| x.0).collect::<Vec<_>>());
        prop_assert_eq!(values, records.iter().map(|x| x.1).collect::<Vec<_>>());
        prop_assert_eq!(mapped, records.iter().map(|(k, v)| (*k, v * 2)).collect::<Vec<_>>());
        let flat_model: Vec<(u8, i32)> = records
            .iter()
            .flat_map(|(k, v)| (0..v.rem_euclid(3)).map(move |u| (*k, u)))
            .collect();
        prop_assert_eq!(flat, flat_model);
    }

    #[test]
    fn union_concatenates_in_order(a in values(), b in values(), pa in parts(), pb in parts(), t in threads()) {
        let (da, db) = (a.clone(), b.clone());
        let got = run(t, move || {
            let u = parallelize(da, Some(pa)).union(&parallelize(db, Some(pb)));
            assert_eq!(u.num_partitions(), pa + pb);
            u.collect()
        });
        prop_assert_eq!(got, [a, b].concat());
    }

    #[test]
    fn coalesce_keeps_order_and_reduces_partitions(data in values(), p in parts(), to in 0usize..20, t in threads()) {
        let d = data.clone();
        let glommed = run(t, move || parallelize(d, Some(p)).coalesce(to).glom().collect());
        prop_assert_eq!(glommed.len(), to.clamp(1, p));
        prop_assert_eq!(glommed.concat(), data);
    }

    #[test]
    fn zip_with_index_numbers_records_in_order(data in values(), p in parts(), t in threads()) {
        let d = data.clone();
        let got = run(t, move || parallelize(d, Some(p)).filter(|x| x % 3 != 0).zip_with_index().collect());
        let expected: Vec<(i32, u64)> = data
            .into_iter()
            .filter(|x| x % 3 != 0)
            .enumerate()
            .map(|(i, x)| (x, i as u64))
            .collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn cartesian_pairs_everything(a in vec(-5i32..5, 0..12), b in vec(0u8..5, 0..12), pa in 1usize..6, pb in 1usize..6, t in threads()) {
        let (da, db) = (a.clone(), b.clone());
        let got = run(t, move || {
            let c = parallelize(da, Some(pa)).cartesian(&parallelize(db, Some(pb)));
            assert_eq!(c.num_partitions(), pa * pb);
            c.collect()
        });
        let expected: Vec<(i32, u8)> = a.iter().flat_map(|x| b.iter().map(move |y| (*x, *y))).collect();
        prop_assert_eq!(sorted(got), sorted(expected));
    }

    // ---- sampling --------------------------------------------------------

    #[test]
    fn sample_is_deterministic_and_bounded(
        data in values(), p in parts(), t in threads(), fraction in 0.0f64..1.5, seed in any::<u64>(), repl in any::<bool>()
    ) {
        let d = data.clone();
        let ds = move || parallelize(d.clone(), Some(p));
        let a = run(t, || ds().sample(repl, fraction, seed).collect());
        let b = run(4 - t, || ds().sample(repl, fraction, seed).collect());
        let none = run(t, || ds().sample(repl, 0.0, seed).collect());
        let all = run(t, || ds().sample(false, 1.0, seed).collect());
        prop_assert_eq!(&a, &b, "same seed, same sample");
        prop_assert!(none.is_empty());
        prop_assert_eq!(all, data.clone());
        // A sample only holds records of the input (with replacement: any
        // number of times; without: at most as often as in the input).
        let counts = tally(&data);
        for (x, n) in tally(&a) {
            prop_assert!(counts.contains_key(&x));
            if !repl {
                prop_assert!(n <= counts[&x]);
            }
        }
    }
}

fn tally<T: Ord + Clone>(items: &[T]) -> BTreeMap<T, usize> {
    let mut m = BTreeMap::new();
    for x in items {
        *m.entry(x.clone()).or_insert(0) += 1;
    }
    m
}

#[test]
fn sample_size_is_close_to_the_fraction_on_large_input() {
    for threads in [1, 3] {
        for (repl, fraction) in [(false, 0.1), (false, 0.5), (true, 0.3), (true, 2.0)] {
            let n = 100_000i64;
            let got = run(threads, move || {
                range(0, n, 1, Some(7)).sample(repl, fraction, 42).count()
            });
            let expected = n as f64 * fraction;
            // Five standard deviations, and at least 1%: loose on purpose.
            let tolerance = (5.0 * (expected * (1.0 + fraction)).sqrt()).max(expected * 0.01);
            assert!(
                (got as f64 - expected).abs() <= tolerance,
                "with_replacement={repl} fraction={fraction}: {got} records, expected about {expected}"
            );
        }
    }
    // Different seeds give different samples.
    let a = run(2, || {
        range(0, 1000, 1, Some(4)).sample(false, 0.5, 1).collect()
    });
    let b = run(2, || {
        range(0, 1000, 1, Some(4)).sample(false, 0.5, 2).collect()
    });
    assert_ne!(a, b);
}

proptest! {
    #![proptest_config(cfg())]

    // ---- set operators ---------------------------------------------------

    #[test]
    fn distinct_intersection_subtract_match_sets(a in values(), b in values(), pa in parts(), pb in parts(), t in threads()) {
        let (da, db) = (a.clone(), b.clone());
        let x = move || parallelize(da.clone(), Some(pa));
        let y = move || parallelize(db.clone(), Some(pb));
        let distinct = run(t, || x().distinct().collect());
        let inter = run(t, || x().intersection(&y()).collect());
        let sub = run(t, || x().subtract(&y()).collect());
        let sa: BTreeSet<i32> = a.iter().copied().collect();
        let sb: BTreeSet<i32> = b.iter().copied().collect();
        prop_assert_eq!(sorted(distinct), sa.iter().copied().collect::<Vec<_>>());
        prop_assert_eq!(sorted(inter), sa.intersection(&sb).copied().collect::<Vec<_>>());
        let sub_model: Vec<i32> = a.iter().copied().filter(|x| !sb.contains(x)).collect();
        prop_assert_eq!(sorted(sub), sorted(sub_model));
    }

    // ---- aggregation by key ------------------------------------------------

    #[test]
    fn aggregations_by_key_match_a_btreemap(
        records in pairs(), p in parts(), t in threads(), pre in prop::option::of(1usize..6)
    ) {
        let r = records.clone();
        let ds = move || keyed(r.clone(), p, pre);
        let reduced = run(t, || ds().reduce_by_key(|a, b| a + b).collect());
        let folded = run(t, || ds().fold_by_key(0, |a, b| a + b).collect());
        let aggregated = run(t, || {
            ds().aggregate_by_key((0u32, 0i64), |(n, s), v| (n + 1, s + i64::from(v)), |a, b| (a.0 + b.0, a.1 + b.1))
                .collect()
        });
        let combined = run(t, || {
            ds().combine_by_key(|v| vec![v], |mut c, v| { c.push(v); c }, |mut a, b| { a.extend(b); a })
                .collect()
        });
        let grouped = run(t, || ds().group_by_key().collect());
        let groups = model_groups(&records);
        let sums: Vec<(u8, i32)> = groups.iter().map(|(k, vs)| (*k, vs.iter().sum())).collect();
        prop_assert_eq!(sorted(reduced), sums.clone());
        prop_assert_eq!(sorted(folded), sums);
        let aggs: Vec<(u8, (u32, i64))> = groups
            .iter()
            .map(|(k, vs)| (*k, (vs.len() as u32, vs.iter().map(|v| i64::from(*v)).sum())))
            .collect();
        prop_assert_eq!(sorted(aggregated), aggs);
        let as_groups = |v: Vec<(u8, Vec<i32>)>| -> Vec<(u8, Vec<i32>)> {
            sorted(v.into_iter().map(|(k, vs)| (k, sorted(vs))).collect())
        };
        let model: Vec<(u8, Vec<i32>)> = groups.into_iter().collect();
        prop_assert_eq!(as_groups(combined), model.clone());
        prop_assert_eq!(as_groups(grouped), model);
    }

    /// The same aggregations and joins with keys whose table changes kind:
    /// integers that start dense and then spread far apart (a partition
    /// moves from a direct-address table to a hash table part-way) and
    /// strings (hash tables throughout).
    #[test]
    fn by_key_results_do_not_depend_on_the_key_representation(
        left in pairs(), right in pairs(), pl in parts(), pr in parts(), t in threads()
    ) {
        fn wide(k: u8) -> u64 {
            if k.is_multiple_of(2) { u64::from(k) } else { u64::from(k) << 40 }
        }
        fn narrow(w: u64) -> u8 {
            if w < 256 { w as u8 } else { (w >> 40) as u8 }
        }
        let wide_ds = |records: &[(u8, i32)], p| {
            parallelize(records.iter().map(|&(k, v)| (wide(k), v)).collect::<Vec<_>>(), Some(p))
        };
        let text_ds = |records: &[(u8, i32)], p| {
            parallelize(records.iter().map(|&(k, v)| (k.to_string(), v)).collect::<Vec<_>>(), Some(p))
        };
        let wide_sums = run(t, || wide_ds(&left, pl).reduce_by_key(|a, b| a + b).collect());
        let wide_groups = run(t, || wide_ds(&left, pl).group_by_key().collect());
        let wide_join = run(t, || wide_ds(&left, pl).full_outer_join(&wide_ds(&right, pr)).collect());
        let text_sums = run(t, || text_ds(&left, pl).reduce_by_key(|a, b| a + b).collect());
        let text_join = run(t, || text_ds(&left, pl).full_outer_join(&text_ds(&right, pr)).collect());
        let groups = model_groups(&left);
        let sums: Vec<(u8, i32)> = groups.iter().map(|(k, vs)| (*k, vs.iter().sum())).collect();
        prop_assert_eq!(sorted(wide_sums.into_iter().map(|(k, s)| (narrow(k), s)).collect()), sums.clone());
        prop_assert_eq!(sorted(text_sums.into_iter().map(|(k, s)| (k.parse().unwrap(), s)).collect()), sums);
        let wide_groups: Vec<(u8, Vec<i32>)> =
            sorted(wide_groups.into_iter().map(|(k, vs)| (narrow(k), sorted(vs))).collect());
        let group_model: Vec<(u8, Vec<i32>)> = groups.into_iter().map(|(k, vs)| (k, sorted(vs))).collect();
        prop_assert_eq!(wide_groups, group_model);
        let full = model_join(&left, &right, true, true);
        prop_assert_eq!(sorted(wide_join.into_iter().map(|(k, vw)| (narrow(k), vw)).collect()), full.clone());
        prop_assert_eq!(sorted(text_join.into_iter().map(|(k, vw)| (k.parse().unwrap(), vw)).collect()), full);
    }

    #[test]
    fn flat_map_reduce_by_key_counts_like_a_btreemap(records in pairs(), p in parts(), t in threads()) {
        // Lines of words from the records: key k gives word "w{k}" (key 0,
        // the hot one under skew, a much repeated word), repeated |v| % 3
        // times; some lines are empty.
        let lines: Vec<String> = records
            .iter()
            .map(|(k, v)| vec![format!("w{k}"); (v.unsigned_abs() % 3) as usize].join(" "))
            .collect();
        let l = lines.clone();
        let counted = run(t, move || {
            parallelize(l, Some(p))
                .flat_map_reduce_by_key(
                    |line: String, words| {
                        for w in line.split_whitespace() {
                            words.emit(w, (1u64, w.len()));
                        }
                    },
                    |a, b| (a.0 + b.0, a.1 + b.1),
                )
                .glom()
                .collect()
        });
        let mut model: BTreeMap<String, (u64, usize)> = BTreeMap::new();
        for w in lines.iter().flat_map(|l| l.split_whitespace()) {
            let e = model.entry(w.to_string()).or_default();
            *e = (e.0 + 1, e.1 + w.len());
        }
        // Hash-partitioned into the input's partition count: every key once.
        prop_assert_eq!(counted.len(), p);
        let all = sorted(counted.concat());
        prop_assert_eq!(all, model.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn fold_by_key_applies_zero_once_per_key_and_partition(records in pairs(), p in parts(), t in threads()) {
        // With max, a zero above every value shows how often it was used:
        // never more than once per key per map partition, at least once.
        let r = records.clone();
        let got = run(t, move || parallelize(r, Some(p)).fold_by_key(1000, |a, b| a.max(b)).collect());
        let keys: BTreeSet<u8> = records.iter().map(|x| x.0).collect();
        prop_assert_eq!(sorted(got), keys.into_iter().map(|k| (k, 1000)).collect::<Vec<_>>());
    }

    #[test]
    fn by_key_chains_reuse_partitioning_correctly(records in pairs(), other in pairs(), p in parts(), n in 1usize..6, m in 1usize..6, t in threads()) {
        // partition_by, then by-key operators and joins that may skip their
        // shuffle; both sides partitioned differently.
        let (r, o) = (records.clone(), other.clone());
        let left = move || parallelize(r.clone(), Some(p)).partition_by(n);
        let right = move || parallelize(o.clone(), Some(p)).partition_by(m);
        let counts = || left().map_values(|_| 1u32).reduce_by_key(|a, b| a + b);
        let glommed = run(t, || left().glom().collect());
        let joined = run(t, || counts().join(&right().reduce_by_key(|a, b| a.max(b))).collect());
        let counts = run(t, || counts().collect());
        prop_assert_eq!(glommed.len(), n);
        // Every key lives in exactly one partition.
        for (i, part) in glommed.iter().enumerate() {
            for (k, _) in part {
                for (j, other_part) in glommed.iter().enumerate() {
                    prop_assert!(i == j || other_part.iter().all(|(k2, _)| k2 != k));
                }
            }
        }
        prop_assert_eq!(sorted(glommed.concat()), sorted(records.clone()));
        let groups = model_groups(&records);
        let count_model: Vec<(u8, u32)> = groups.iter().map(|(k, vs)| (*k, vs.len() as u32)).collect();
        prop_assert_eq!(sorted(counts), count_model);
        let other_max = model_groups(&other);
        let join_model: Vec<(u8, (u32, i32))> = groups
            .iter()
            .filter_map(|(k, vs)| Some((*k, (vs.len() as u32, *other_max.get(k)?.iter().max()?))))
            .collect();
        prop_assert_eq!(sorted(joined), join_model);
    }

    #[test]
    fn by_key_operators_read_a_distinct_once_per_record(records in pairs(), other in pairs(), p in parts(), t in threads()) {
        // A by-key operator reading a distinct computes it partitioned by
        // key (its only shuffle): each distinct record must still come once.
        let input: Vec<(u8, i32)> = records.iter().chain(records.iter().step_by(2)).copied().collect();
        let unique: Vec<(u8, i32)> = input.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
        let (i, o) = (input.clone(), other.clone());
        let d = move || parallelize(i.clone(), Some(p)).distinct();
        let right = move || parallelize(o.clone(), Some(p));
        let grouped = run(t, || d().group_by_key().map_values(|mut vs| { vs.sort(); vs }).collect());
        let sums = run(t, || d().reduce_by_key(|a, b| a + b).collect());
        let joined = run(t, || d().join(&right()).collect());
        let plain = run(t, || d().collect());
        let groups = model_groups(&unique);
        prop_assert_eq!(sorted(grouped), groups.clone().into_iter().collect::<Vec<_>>());
        let sum_model: Vec<(u8, i32)> = groups.iter().map(|(k, vs)| (*k, vs.iter().sum())).collect();
        prop_assert_eq!(sorted(sums), sum_model);
        let join_model: Vec<(u8, (i32, i32))> = model_join(&unique, &other, false, false)
            .into_iter()
            .filter_map(|(k, (v, w))| Some((k, (v?, w?))))
            .collect();
        prop_assert_eq!(sorted(joined), sorted(join_model));
        prop_assert_eq!(sorted(plain), unique);
    }

    #[test]
    fn repartition_and_partition_by_keep_every_record(data in values(), p in parts(), to in 0usize..20, t in threads()) {
        let d = data.clone();
        let glommed = run(t, move || parallelize(d, Some(p)).repartition(to).glom().collect());
        prop_assert_eq!(glommed.len(), to.max(1));
        let sizes: Vec<usize> = glommed.iter().map(Vec::len).collect();
        // Each input partition deals its records round-robin.
        prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= p, "{:?}", sizes);
        prop_assert_eq!(sorted(glommed.concat()), sorted(data));
    }

    // ---- joins and cogroup -------------------------------------------------

    #[test]
    fn joins_match_nested_loops(
        left in pairs(), right in pairs(), pl in parts(), pr in parts(), t in threads(),
        pre in prop::option::of(1usize..6)
    ) {
        let (l, r) = (left.clone(), right.clone());
        let a = move || keyed(l.clone(), pl, pre);
        let b = move || parallelize(r.clone(), Some(pr));
        let inner = run(t, || a().join(&b()).collect());
        let lo = run(t, || a().left_outer_join(&b()).collect());
        let ro = run(t, || a().right_outer_join(&b()).collect());
        let fo = run(t, || a().full_outer_join(&b()).collect());
        let sub = run(t, || a().subtract_by_key(&b()).collect());
        let cg = run(t, || a().cogroup(&b()).collect());
        let full = model_join(&left, &right, true, true);
        let pick = |keep_l: bool, keep_r: bool| -> Vec<OuterRow> {
            full.iter()
                .filter(|(_, (v, w))| (v.is_some() || keep_r) && (w.is_some() || keep_l))
                .cloned()
                .collect()
        };
        let inner_model: Vec<(u8, (i32, i32))> =
            pick(false, false).into_iter().map(|(k, (v, w))| (k, (v.unwrap(), w.unwrap()))).collect();
        prop_assert_eq!(sorted(inner), inner_model);
        let lo_model: Vec<(u8, (i32, Option<i32>))> =
            pick(true, false).into_iter().map(|(k, (v, w))| (k, (v.unwrap(), w))).collect();
        prop_assert_eq!(sorted(lo), lo_model);
        let ro_model: Vec<(u8, (Option<i32>, i32))> =
            pick(false, true).into_iter().map(|(k, (v, w))| (k, (v, w.unwrap()))).collect();
        prop_assert_eq!(sorted(ro), ro_model);
        prop_assert_eq!(sorted(fo), full.clone());
        let right_keys: BTreeSet<u8> = right.iter().map(|x| x.0).collect();
        let sub_model: Vec<(u8, i32)> = left.iter().copied().filter(|(k, _)| !right_keys.contains(k)).collect();
        prop_assert_eq!(sorted(sub), sorted(sub_model));
        let (gl, gr) = (model_groups(&left), model_groups(&right));
        let all_keys: BTreeSet<u8> = gl.keys().chain(gr.keys()).copied().collect();
        let cg_model: Vec<CoGroup> = all_keys
            .into_iter()
            .map(|k| (k, (gl.get(&k).cloned().unwrap_or_default(), gr.get(&k).cloned().unwrap_or_default())))
            .collect();
        let cg: Vec<CoGroup> =
            sorted(cg.into_iter().map(|(k, (a, b))| (k, (sorted(a), sorted(b)))).collect());
        prop_assert_eq!(cg, cg_model);
    }

    // ---- sorting -------------------------------------------------------------

    #[test]
    fn sort_by_key_orders_globally_and_keeps_ties(
        records in pairs(), p in parts(), t in threads(), ascending in any::<bool>()
    ) {
        let r = records.clone();
        let glommed = run(t, move || parallelize(r, Some(p)).sort_by_key(ascending).glom().collect());
        prop_assert_eq!(glommed.len(), p);
        let got = glommed.concat();
        let mut keys: Vec<u8> = records.iter().map(|x| x.0).collect();
        keys.sort();
        if !ascending {
            keys.reverse();
        }
        prop_assert_eq!(got.iter().map(|x| x.0).collect::<Vec<_>>(), keys);
        prop_assert_eq!(sorted(got), sorted(records));
    }

    #[test]
    fn sort_by_orders_globally(data in values(), p in parts(), t in threads(), ascending in any::<bool>()) {
        let d = data.clone();
        let got = run(t, move || parallelize(d, Some(p)).sort_by(|x| (x.rem_euclid(5), -x), ascending).collect());
        let mut expected = data.clone();
        expected.sort_by_key(|x| (x.rem_euclid(5), -x));
        if !ascending {
            expected.reverse();
        }
        // The key determines the record here, so the order is exact.
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn sort_after_a_shuffle_with_many_duplicates(records in pairs(), p in parts(), t in threads()) {
        let r = records.clone();
        let got = run(t, move || {
            parallelize(r, Some(p)).reduce_by_key(|a, b| a + b).map(|(k, v)| (v, k)).sort_by_key(true).collect()
        });
        let model: Vec<(i32, u8)> = model_groups(&records).into_iter().map(|(k, vs)| (vs.iter().sum(), k)).collect();
        prop_assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        prop_assert_eq!(sorted(got), sorted(model));
    }

    // ---- actions ---------------------------------------------------------------

    #[test]
    fn ordered_actions_match_the_model(data in values(), p in parts(), t in threads(), n in 0usize..30) {
        let d = data.clone();
        let ds = move || parallelize(d.clone(), Some(p));
        let first = run(t, || ds().first());
        let take = run(t, || ds().take(n));
        let smallest = run(t, || ds().take_ordered(n));
        let largest = run(t, || ds().top(n));
        prop_assert_eq!(first, data.first().copied());
        prop_assert_eq!(take, data.iter().copied().take(n).collect::<Vec<_>>());
        let asc = sorted(data.clone());
        prop_assert_eq!(smallest, asc.iter().copied().take(n).collect::<Vec<_>>());
        prop_assert_eq!(largest, asc.iter().rev().copied().take(n).collect::<Vec<_>>());
    }

    #[test]
    fn aggregating_actions_match_the_model(data in values(), p in parts(), t in threads()) {
        let d = data.clone();
        let ds = move || parallelize(d.clone(), Some(p)).map(i64::from);
        let count = run(t, || ds().count());
        let reduced = run(t, || ds().reduce(|a, b| a + b));
        let fold0 = run(t, || ds().fold(0, |a, b| a + b));
        let fold1 = run(t, || ds().fold(1, |a, b| a + b));
        let agg = run(t, || ds().aggregate((0u64, 0i64), |(n, s), x| (n + 1, s + x), |a, b| (a.0 + b.0, a.1 + b.1)));
        let by_value = run(t, || ds().count_by_value());
        let sum: i64 = data.iter().map(|x| i64::from(*x)).sum();
        prop_assert_eq!(count, data.len() as u64);
        prop_assert_eq!(reduced, (!data.is_empty()).then_some(sum));
        prop_assert_eq!(fold0, sum);
        // Spark's fold: `zero` starts every partition and the final merge.
        prop_assert_eq!(fold1, sum + p as i64 + 1);
        prop_assert_eq!(agg, (data.len() as u64, sum));
        let by_value: BTreeMap<i64, u64> = by_value.into_iter().collect();
        let model: BTreeMap<i64, u64> =
            tally(&data).into_iter().map(|(k, n)| (i64::from(k), n as u64)).collect();
        prop_assert_eq!(by_value, model);
    }

    #[test]
    fn key_actions_match_the_model(records in pairs(), p in parts(), t in threads()) {
        let r = records.clone();
        let ds = move || parallelize(r.clone(), Some(p));
        let by_key = run(t, || ds().count_by_key());
        let as_map = run(t, || ds().collect_as_map());
        let by_key: BTreeMap<u8, u64> = by_key.into_iter().collect();
        let model: BTreeMap<u8, u64> =
            model_groups(&records).into_iter().map(|(k, vs)| (k, vs.len() as u64)).collect();
        prop_assert_eq!(by_key, model);
        // A later value of a key wins.
        let as_map: BTreeMap<u8, i32> = as_map.into_iter().collect();
        let last: BTreeMap<u8, i32> = records.iter().copied().collect();
        prop_assert_eq!(as_map, last);
    }

    #[test]
    fn for_each_sees_every_record_once(data in values(), p in parts(), t in threads()) {
        let sum = Arc::new(AtomicI64::new(0));
        let calls = Arc::new(AtomicUsize::new(0));
        let (s, c, d) = (sum.clone(), calls.clone(), data.clone());
        run(t, move || parallelize(d, Some(p)).for_each(move |x| {
            s.fetch_add(i64::from(x), Ordering::Relaxed);
        }));
        let d = data.clone();
        run(t, move || parallelize(d, Some(p)).for_each_partition(move |_| {
            c.fetch_add(1, Ordering::Relaxed);
        }));
        prop_assert_eq!(sum.load(Ordering::Relaxed), data.iter().map(|x| i64::from(*x)).sum::<i64>());
        prop_assert_eq!(calls.load(Ordering::Relaxed), p);
    }

    #[test]
    fn persisted_data_reads_back_the_same(data in values(), p in parts(), t in threads()) {
        let d = data.clone();
        let handle = run(t, move || parallelize(d, Some(p)).map(|x| x * 2).persist());
        let glommed = run(t, move || persisted(handle).glom().collect());
        prop_assert_eq!(glommed.len(), p);
        prop_assert_eq!(glommed.concat(), data.iter().map(|x| x * 2).collect::<Vec<_>>());
        // A second read, through a shuffle, sees the same data too.
        let total = run(t, move || persisted(handle).map(|x| (x.rem_euclid(3), x)).reduce_by_key(|a, b| a + b).values().fold(0, |a, b| a + b));
        prop_assert_eq!(total, data.iter().map(|x| x * 2).sum::<i32>());
        handle.unpersist();
        let err = Context::new(&format!("local[{t}]")).unwrap().run(move || persisted(handle).collect());
        let msg = err.expect_err("reading an unpersisted handle must fail").to_string();
        prop_assert!(msg.contains("unpersisted"), "{}", msg);
    }
}

proptest! {
    #![proptest_config(cfg())]

    // ---- composite pipelines -----------------------------------------------

    #[test]
    fn a_dataset_used_twice_in_one_job(records in pairs(), p in parts(), t in threads()) {
        // Self-union and self-join of a shuffled dataset: the same shuffle
        // feeds both sides.
        let r = records.clone();
        let sums = move || parallelize(r.clone(), Some(p)).reduce_by_key(|a, b| a + b);
        let doubled = run(t, || sums().union(&sums()).collect());
        let self_union = run(t, || {
            let s = sums();
            s.union(&s).collect()
        });
        let self_join = run(t, || {
            let s = sums();
            s.join(&s).collect()
        });
        let model: Vec<(u8, i32)> = model_groups(&records).into_iter().map(|(k, vs)| (k, vs.iter().sum())).collect();
        let twice = sorted([model.clone(), model.clone()].concat());
        prop_assert_eq!(sorted(doubled), twice.clone());
        prop_assert_eq!(sorted(self_union), twice);
        prop_assert_eq!(sorted(self_join), model.iter().map(|(k, v)| (*k, (*v, *v))).collect::<Vec<_>>());
    }

    #[test]
    fn a_shuffle_read_in_every_round_of_a_loop(records in pairs(), p in parts(), t in threads(), rounds in 1usize..5) {
        // `base`'s shuffle is read by every round's stage, each round's
        // shuffle only by the next one: local mode frees a shuffle after its
        // last reader (not after its first).
        let r = records.clone();
        let got = run(t, move || {
            let base = parallelize(r, Some(p)).reduce_by_key(|a, b| a + b);
            let mut acc = base.map_values(i64::from);
            for _ in 0..rounds {
                // `map` forgets the key partitioning, so every round shuffles.
                acc = acc
                    .map(|(k, v)| (k, v))
                    .reduce_by_key(|a, b| a + b)
                    .join(&base)
                    .map_values(|(a, b)| a + i64::from(b));
            }
            acc.collect()
        });
        let factor = rounds as i64 + 1;
        let model: Vec<(u8, i64)> = model_groups(&records)
            .into_iter()
            .map(|(k, vs)| (k, factor * vs.iter().map(|&v| i64::from(v)).sum::<i64>()))
            .collect();
        prop_assert_eq!(sorted(got), model);
    }

    #[test]
    fn ranks_after_a_sort(data in values(), p in parts(), t in threads()) {
        // zip_with_index after a sort numbers records in global order.
        let d = data.clone();
        let got = run(t, move || parallelize(d, Some(p)).sort_by(|x| *x, false).zip_with_index().collect());
        let mut expected = data.clone();
        expected.sort_by(|a, b| b.cmp(a));
        let expected: Vec<(i32, u64)> = expected.into_iter().zip(0u64..).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn shuffles_of_shuffles(records in pairs(), p in parts(), to in 1usize..9, t in threads()) {
        // repartition -> group -> cartesian -> distinct -> coalesce -> sort.
        let r = records.clone();
        let got = run(t, move || {
            let groups = parallelize(r, Some(p)).repartition(to).group_by_key().map_values(|vs| vs.len());
            groups
                .keys()
                .cartesian(&groups.values().coalesce(2))
                .distinct()
                .coalesce(3)
                .sort_by_key(true)
                .collect()
        });
        let groups = model_groups(&records);
        let sizes: BTreeSet<usize> = groups.values().map(Vec::len).collect();
        let model: Vec<(u8, usize)> = groups.keys().flat_map(|k| sizes.iter().map(move |n| (*k, *n))).collect();
        prop_assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        prop_assert_eq!(sorted(got), model);
    }
}

/// Partitions of mostly distinct records, large enough that map-side
/// combining gives up part-way (Presto-style partial aggregation) and
/// passes the rest to the reduce side uncombined, and that the reduce side
/// holds more keys than a hash table in cache and aggregates them in parts.
#[test]
fn aggregations_over_mostly_distinct_keys_match_the_model() {
    // 400k edges, about one in six a repeat, in 1 and 3 partitions.
    let edges: Vec<(u32, u32)> = (0..400_000u32)
        .map(|i| {
            let j = if i % 6 == 0 { i / 6 } else { i };
            (j.wrapping_mul(2_654_435_761) % 50_000, j)
        })
        .collect();
    let distinct_model: BTreeSet<(u32, u32)> = edges.iter().copied().collect();
    let mut count_model: BTreeMap<String, u64> = BTreeMap::new();
    for (s, d) in &edges {
        *count_model.entry(format!("{s}-{d}")).or_default() += 1;
    }
    for p in [1, 3] {
        let e = edges.clone();
        let distinct = run(2, move || parallelize(e, Some(p)).distinct().collect());
        assert_eq!(
            sorted(distinct),
            distinct_model.iter().copied().collect::<Vec<_>>()
        );
        let e = edges.clone();
        let counts = run(2, move || {
            parallelize(e, Some(p))
                .map(|(s, d)| (format!("{s}-{d}"), 1u64))
                .reduce_by_key(|a, b| a + b)
                .collect()
        });
        assert_eq!(
            sorted(counts),
            count_model.clone().into_iter().collect::<Vec<_>>()
        );
        let e = edges.clone();
        let groups = run(2, move || {
            parallelize(e, Some(p))
                .map(|(s, d)| (format!("{s}-{d}"), d))
                .group_by_key()
                .map_values(|ds| ds.len() as u64)
                .collect()
        });
        assert_eq!(
            sorted(groups),
            count_model.clone().into_iter().collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_large_skewed_sort_is_globally_ordered() {
    // More records than the sampler takes, 80% of them on one key.
    let records: Vec<(u32, u32)> = (0..20_000u32)
        .map(|i| {
            let h = i.wrapping_mul(2_654_435_761);
            (if h % 10 < 8 { 500 } else { h % 1000 }, i)
        })
        .collect();
    for threads in [1, 3] {
        for (parts, ascending) in [(16, true), (7, false), (1, true)] {
            let r = records.clone();
            let glommed = run(threads, move || {
                parallelize(r, Some(parts))
                    .sort_by_key(ascending)
                    .glom()
                    .collect()
            });
            assert_eq!(glommed.len(), parts);
            let got = glommed.concat();
            assert!(
                got.windows(2).all(|w| if ascending {
                    w[0].0 <= w[1].0
                } else {
                    w[0].0 >= w[1].0
                }),
                "not globally sorted with {parts} partitions"
            );
            assert_eq!(sorted(got), sorted(records.clone()));
        }
    }
}

#[test]
fn aggregating_a_dataset_already_partitioned_by_key_merges_every_key() {
    // Already hash-partitioned, so no shuffle follows the map side: the
    // map side must merge every key even when its first records are mostly
    // distinct keys (where a map side before a shuffle may stop combining).
    let records: Vec<(String, u64)> = (0..300_000u64)
        .map(|i| (format!("k{}", if i < 150_000 { i } else { i % 1000 }), 1))
        .collect();
    let mut model: BTreeMap<String, u64> = BTreeMap::new();
    for (k, v) in &records {
        *model.entry(k.clone()).or_default() += v;
    }
    for p in [1, 3] {
        let r = records.clone();
        let sums = run(2, move || {
            parallelize(r, Some(p))
                .partition_by(p)
                .reduce_by_key(|a, b| a + b)
                .collect()
        });
        assert_eq!(sorted(sums), model.clone().into_iter().collect::<Vec<_>>());
    }
}
