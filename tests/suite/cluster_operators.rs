//! Every operator and action of the foundation issue, run as registered jobs
//! on `local[2]`, `local-cluster[2,1]` and `local-cluster[3,1]` (worker
//! processes of this test binary, over QUIC), and checked twice: each
//! cluster's result must equal local mode's, and local mode's must equal a
//! naive sequential model (plain `Vec`/`BTreeMap` code).
//!
//! Each test starts its clusters once and runs random cases through them with
//! proptest's `TestRunner`: partition counts 1..=12 (often more than there
//! are records), empty inputs and skewed keys (80% of the records on one
//! key). To keep the number of jobs small, a job unions several operators'
//! results as tagged lines (`"join (3, (1, 2))"`). Where Spark defines no
//! order those lines are compared as sorted multisets; where it does (narrow
//! operators over `parallelize`, `union`, `coalesce`, `zip_with_index`,
//! sorts, `take`, `take_ordered`, `top`, `first`) they are compared exactly.

use crate::common::{pairs, values};
use barks::prelude::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

// ---- harness ---------------------------------------------------------------

/// The masters every job runs on; the first is the reference.
const MASTERS: [&str; 3] = ["local[2]", "local-cluster[2,1]", "local-cluster[3,1]"];

/// Random cases per test (each case runs its jobs on every master).
const CASES: u32 = 12;

type CaseResult = Result<(), TestCaseError>;

/// One context per master, started once per test.
struct Masters(Vec<(&'static str, Context)>);

impl Masters {
    fn start() -> Masters {
        Masters(
            MASTERS
                .iter()
                .map(|m| {
                    (
                        *m,
                        Context::new(m).unwrap_or_else(|e| panic!("starting {m}: {e}")),
                    )
                })
                .collect(),
        )
    }

    /// Runs `job()` on every master and fails unless every cluster result,
    /// after `normalize`, equals local mode's; returns local mode's.
    fn agree<R: 'static, N: PartialEq + Debug>(
        &self,
        job: impl Fn() -> Job<R>,
        normalize: impl Fn(R) -> N,
    ) -> Result<N, TestCaseError> {
        let mut reference: Option<N> = None;
        for (master, ctx) in &self.0 {
            let got = ctx
                .run_job(job())
                .map_err(|e| TestCaseError::fail(format!("{master}: {e}")))?;
            let got = normalize(got);
            match &reference {
                None => reference = Some(got),
                Some(local) => same(&format!("{master} vs {}", MASTERS[0]), &got, local)?,
            }
        }
        Ok(reference.expect("MASTERS is not empty"))
    }

    /// Results whose order is defined: compared exactly.
    fn exact<R: PartialEq + Debug + 'static>(
        &self,
        job: impl Fn() -> Job<R>,
    ) -> Result<R, TestCaseError> {
        self.agree(job, |r| r)
    }

    /// Results whose order is not defined: compared as sorted multisets.
    fn multiset<T: Ord + Debug + 'static>(
        &self,
        job: impl Fn() -> Job<Vec<T>>,
    ) -> Result<Vec<T>, TestCaseError> {
        self.agree(job, sorted)
    }
}

/// Runs `CASES` random cases of `test`, panicking with the (shrunk) failing
/// input if one fails.
fn check<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> CaseResult) {
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        max_shrink_iters: 32,
        ..Config::default()
    });
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

/// Fails with the first differing lines of the two values' pretty-printed
/// forms (the values themselves can be long).
fn same<N: PartialEq + Debug>(what: &str, got: &N, expected: &N) -> CaseResult {
    if got == expected {
        return Ok(());
    }
    let (got, expected) = (format!("{got:#?}"), format!("{expected:#?}"));
    let (g, e): (Vec<&str>, Vec<&str>) = (got.lines().collect(), expected.lines().collect());
    let at = g
        .iter()
        .zip(&e)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(e.len()));
    let around =
        |v: &[&str]| v[at.saturating_sub(3).min(v.len())..(at + 4).min(v.len())].join("\n");
    Err(TestCaseError::fail(format!(
        "{what}: first difference at line {at} of {} vs {} lines\n--- got:\n{}\n--- expected:\n{}",
        g.len(),
        e.len(),
        around(&g),
        around(&e)
    )))
}

/// Checks local mode's (already cluster-checked) result against the model.
fn model<N: PartialEq + Debug>(got: &N, expected: &N) -> CaseResult {
    same(&format!("{} vs the model", MASTERS[0]), got, expected)
}

/// The path of `name` inside `dir`, as a job argument (the workers run on
/// this machine, so they see it too).
fn arg(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

// ---- strategies --------------------------------------------------------------

/// Partition counts, often more than there are records.
fn parts() -> impl Strategy<Value = usize> {
    1usize..=12
}

// ---- helpers shared by jobs and models -------------------------------------

/// A tagged result line: which operator, and what it produced.
fn line<T: Debug>(tag: &str, value: &T) -> String {
    format!("{tag} {value:?}")
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// FNV-1a of a string: a cheap digest for the large test.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

// ---- models ------------------------------------------------------------------

/// `parallelize`'s slices: partition `i` holds `data[i*n/p .. (i+1)*n/p]`.
fn slices<T: Clone>(data: &[T], parts: usize) -> Vec<Vec<T>> {
    let n = data.len();
    (0..parts)
        .map(|i| data[i * n / parts..(i + 1) * n / parts].to_vec())
        .collect()
}

/// `coalesce(to)`: near-equal runs of consecutive partitions, concatenated.
fn coalesced<T: Clone>(parts: &[Vec<T>], to: usize) -> Vec<Vec<T>> {
    slices(parts, to.clamp(1, parts.len()))
        .into_iter()
        .map(|run| run.concat())
        .collect()
}

/// Key -> its values, sorted.
fn groups(records: &[(u8, i32)]) -> BTreeMap<u8, Vec<i32>> {
    let mut m: BTreeMap<u8, Vec<i32>> = BTreeMap::new();
    for (k, v) in records {
        m.entry(*k).or_default().push(*v);
    }
    m.values_mut().for_each(|vs| vs.sort());
    m
}

/// A row of a full outer join.
type OuterRow = (u8, (Option<i32>, Option<i32>));

/// Every (key, (left, right)) of a full outer join, by nested loops.
fn full_outer(left: &[(u8, i32)], right: &[(u8, i32)]) -> Vec<OuterRow> {
    let mut out = Vec::new();
    for (k, v) in left {
        let matches: Vec<i32> = right
            .iter()
            .filter(|(rk, _)| rk == k)
            .map(|x| x.1)
            .collect();
        if matches.is_empty() {
            out.push((*k, (Some(*v), None)));
        }
        out.extend(matches.into_iter().map(|w| (*k, (Some(*v), Some(w)))));
    }
    for (k, w) in right {
        if !left.iter().any(|(lk, _)| lk == k) {
            out.push((*k, (None, Some(*w))));
        }
    }
    out
}

fn tally<T: Ord + Clone>(items: &[T]) -> BTreeMap<T, u64> {
    let mut m = BTreeMap::new();
    for x in items {
        *m.entry(x.clone()).or_insert(0) += 1;
    }
    m
}

// ---- narrow operators (order is defined) ----------------------------------------

#[barks::job]
fn narrow_chain(data: Vec<i32>, p: usize, to: usize) -> Vec<String> {
    pipeline! {
        let src = parallelize(data, p);
        let chained = src
            .map(|x| x * 3)
            .filter(|x| x % 2 != 0)
            .flat_map(|x| vec![x; x.rem_euclid(3) as usize + 1])
            .filter_map(|x| (x > -40).then(|| line("chain", &(i64::from(x) + 1))));
        let tagged = src.map_partitions_with_index(|i, it| it.map(move |x| line("index", &(i, x))));
        let sums = src.map_partitions(|it| std::iter::once(line("sum", &it.map(i64::from).sum::<i64>())));
        let glommed = src.glom().map(|part| line("glom", &part));
        let numbered = src.filter(|x| x % 3 != 0).zip_with_index().map(|r| line("zip", &r));
        let merged = src.coalesce(to).glom().map(|part| line("coalesce", &part));
        let doubled = src.map(|x| x * 2).cache();
        let reread = doubled.union(doubled).map(|x| line("cache", &x));
        chained.union(tagged).union(sums).union(glommed).union(numbered).union(merged).union(reread).collect()
    }
}

fn narrow_chain_model(data: &[i32], p: usize, to: usize) -> Vec<String> {
    let parts = slices(data, p);
    let mut out: Vec<String> = data
        .iter()
        .map(|x| x * 3)
        .filter(|x| x % 2 != 0)
        .flat_map(|x| vec![x; x.rem_euclid(3) as usize + 1])
        .filter(|x| *x > -40)
        .map(|x| line("chain", &(i64::from(x) + 1)))
        .collect();
    for (i, part) in parts.iter().enumerate() {
        out.extend(part.iter().map(|x| line("index", &(i, *x))));
    }
    out.extend(
        parts
            .iter()
            .map(|part| line("sum", &part.iter().map(|x| i64::from(*x)).sum::<i64>())),
    );
    out.extend(parts.iter().map(|part| line("glom", part)));
    let kept = data.iter().filter(|x| *x % 3 != 0);
    out.extend(kept.zip(0u64..).map(|(x, i)| line("zip", &(*x, i))));
    out.extend(
        coalesced(&parts, to)
            .iter()
            .map(|part| line("coalesce", part)),
    );
    for _ in 0..2 {
        out.extend(data.iter().map(|x| line("cache", &(x * 2))));
    }
    out
}

#[barks::job]
fn pair_narrow(records: Vec<(u8, i32)>, p: usize) -> Vec<String> {
    pipeline! {
        let src = parallelize(records, p);
        let keyed = src.values().key_by(|v| v.rem_euclid(4)).map(|r| line("key_by", &r));
        let ks = src.keys().map(|k| line("keys", &k));
        let vs = src.values().map(|v| line("values", &v));
        let mapped = src.map_values(|v| v * 2).map(|r| line("map_values", &r));
        let flat = src.flat_map_values(|v| 0..v.rem_euclid(3)).map(|r| line("flat_map_values", &r));
        keyed.union(ks).union(vs).union(mapped).union(flat).collect()
    }
}

fn pair_narrow_model(records: &[(u8, i32)]) -> Vec<String> {
    let mut out: Vec<String> = records
        .iter()
        .map(|(_, v)| line("key_by", &(v.rem_euclid(4), *v)))
        .collect();
    out.extend(records.iter().map(|(k, _)| line("keys", k)));
    out.extend(records.iter().map(|(_, v)| line("values", v)));
    out.extend(
        records
            .iter()
            .map(|(k, v)| line("map_values", &(*k, v * 2))),
    );
    for (k, v) in records {
        out.extend((0..v.rem_euclid(3)).map(|u| line("flat_map_values", &(*k, u))));
    }
    out
}

#[barks::job]
fn unions(a: Vec<i32>, b: Vec<i32>, pa: usize, pb: usize, to: usize) -> Vec<String> {
    pipeline! {
        let x = parallelize(a, pa);
        let y = parallelize(b, pb);
        let both = x.union(y);
        let glommed = both.glom().map(|part| line("union", &part));
        let merged = both.coalesce(to).glom().map(|part| line("coalesce", &part));
        let twice = x.union(x).glom().map(|part| line("self", &part));
        glommed.union(merged).union(twice).collect()
    }
}

fn unions_model(a: &[i32], b: &[i32], pa: usize, pb: usize, to: usize) -> Vec<String> {
    let both = [slices(a, pa), slices(b, pb)].concat();
    let mut out: Vec<String> = both.iter().map(|part| line("union", part)).collect();
    out.extend(
        coalesced(&both, to)
            .iter()
            .map(|part| line("coalesce", part)),
    );
    let twice = [slices(a, pa), slices(a, pa)].concat();
    out.extend(twice.iter().map(|part| line("self", part)));
    out
}

#[test]
fn narrow_operators_keep_order() {
    let masters = Masters::start();
    let case = (values(), values(), parts(), parts(), 0usize..16);
    check(case, |(a, b, pa, pb, to)| {
        let got = masters.exact(|| narrow_chain(a.clone(), pa, to))?;
        model(&got, &narrow_chain_model(&a, pa, to))?;
        let got = masters.exact(|| unions(a.clone(), b.clone(), pa, pb, to))?;
        model(&got, &unions_model(&a, &b, pa, pb, to))
    });
    check((pairs(), parts()), |(records, p)| {
        let got = masters.exact(|| pair_narrow(records.clone(), p))?;
        model(&got, &pair_narrow_model(&records))
    });
}

// ---- sampling ------------------------------------------------------------------

#[barks::job]
fn sampled(
    data: Vec<i32>,
    p: usize,
    with_replacement: bool,
    fraction: f64,
    seed: u64,
) -> Vec<String> {
    pipeline! {
        let src = parallelize(data, p);
        let some = src.sample(with_replacement, fraction, seed).map(|x| line("some", &x));
        let none = src.sample(with_replacement, 0.0, seed).map(|x| line("none", &x));
        let all = src.sample(false, 1.0, seed).map(|x| line("all", &x));
        some.union(none).union(all).collect()
    }
}

#[test]
fn a_seeded_sample_is_the_same_on_every_master() {
    let masters = Masters::start();
    let case = (values(), parts(), any::<bool>(), 0.0f64..1.5, any::<u64>());
    check(case, |(data, p, repl, fraction, seed)| {
        // Exactly the same records in the same order on every master.
        let got = masters.exact(|| sampled(data.clone(), p, repl, fraction, seed))?;
        let pick = |tag: &str| -> Vec<i32> {
            got.iter()
                .filter_map(|l| l.strip_prefix(tag)?.strip_prefix(' ')?.parse().ok())
                .collect()
        };
        prop_assert_eq!(pick("none"), Vec::<i32>::new());
        prop_assert_eq!(pick("all"), data.clone());
        // The sample holds only records of the input; without replacement
        // at most as often as there, and in input order.
        let some = pick("some");
        let counts = tally(&data);
        for (x, n) in tally(&some) {
            prop_assert!(counts.contains_key(&x), "{} is not in the input", x);
            prop_assert!(repl || n <= counts[&x], "{} sampled {} times", x, n);
        }
        if !repl {
            let mut rest = data.iter();
            prop_assert!(
                some.iter().all(|x| rest.any(|y| y == x)),
                "not a subsequence: {:?}",
                some
            );
        }
        Ok(())
    });
}

// ---- wide operators by key (order is not defined) ----------------------------------

#[barks::job]
fn by_key(
    left: Vec<(u8, i32)>,
    right: Vec<(u8, i32)>,
    pl: usize,
    pr: usize,
    n: usize,
) -> Vec<String> {
    pipeline! {
        let a = parallelize(left, pl);
        let b = parallelize(right, pr);
        // Hash-partitioned copies: by-key operators on them may skip their shuffle.
        let ap = a.partition_by(n);
        let bp = b.partition_by(n);
        let reduced = a.reduce_by_key(|x, y| x + y).map(|r| line("reduce", &r));
        // Keys lent by reference to the map-side combiner (`&u8` for `u8`).
        let lent = a
            .flat_map_reduce_by_key(|(k, v): (u8, i32), out| out.emit(&k, v), |x, y| x + y)
            .map(|r| line("lent_reduce", &r));
        let folded = a.fold_by_key(0, |x, y| x + y).map(|r| line("fold", &r));
        // With max, a zero above every value shows up exactly once per key.
        let fold_max = a.fold_by_key(1000, |x, y| x.max(y)).map(|r| line("fold_max", &r));
        let aggregated = a
            .aggregate_by_key((0u32, 0i64), |(c, s), v| (c + 1, s + i64::from(v)), |x, y| (x.0 + y.0, x.1 + y.1))
            .map(|r| line("aggregate", &r));
        let combined = a
            .combine_by_key(|v| vec![v], |mut c, v| { c.push(v); c }, |mut x, y| { x.extend(y); x })
            .map(|(k, vs)| line("combine", &(k, sorted(vs))));
        let grouped = a.group_by_key().map(|(k, vs)| line("group", &(k, sorted(vs))));
        let pre_reduced = ap.reduce_by_key(|x, y| x + y).map(|r| line("pre_reduce", &r));
        let pre_grouped = ap.group_by_key().map(|(k, vs)| line("pre_group", &(k, sorted(vs))));
        // Where `partition_by` put each key: one partition, below `n`.
        let layout = ap
            .map_partitions_with_index(|i, it| it.map(move |(k, v)| (k, (i, v))))
            .group_by_key()
            .map(move |(k, placed)| {
                let at: BTreeSet<usize> = placed.iter().map(|x| x.0).collect();
                let values = sorted(placed.into_iter().map(|x| x.1).collect());
                line("partition_by", &(k, at.len(), at.iter().all(|i| *i < n), values))
            });
        let inner = a.join(b).map(|r| line("join", &r));
        let lo = a.left_outer_join(b).map(|r| line("left_outer", &r));
        let ro = a.right_outer_join(b).map(|r| line("right_outer", &r));
        let fo = a.full_outer_join(b).map(|r| line("full_outer", &r));
        let cg = a.cogroup(b).map(|(k, (x, y))| line("cogroup", &(k, sorted(x), sorted(y))));
        let sub = a.subtract_by_key(b).map(|r| line("subtract_by_key", &r));
        let pre_inner = ap.join(bp).map(|r| line("pre_join", &r));
        let pre_cg = ap.cogroup(bp).map(|(k, (x, y))| line("pre_cogroup", &(k, sorted(x), sorted(y))));
        let half_fo = ap.full_outer_join(b).map(|r| line("half_full_outer", &r));
        reduced
            .union(lent).union(folded).union(fold_max).union(aggregated).union(combined).union(grouped)
            .union(pre_reduced).union(pre_grouped).union(layout)
            .union(inner).union(lo).union(ro).union(fo).union(cg).union(sub)
            .union(pre_inner).union(pre_cg).union(half_fo)
            .collect()
    }
}

fn by_key_model(left: &[(u8, i32)], right: &[(u8, i32)]) -> Vec<String> {
    let (gl, gr) = (groups(left), groups(right));
    let mut out = Vec::new();
    for (k, vs) in &gl {
        let sum: i32 = vs.iter().sum();
        out.push(line("reduce", &(*k, sum)));
        out.push(line("fold", &(*k, sum)));
        out.push(line("lent_reduce", &(*k, sum)));
        out.push(line("pre_reduce", &(*k, sum)));
        out.push(line("fold_max", &(*k, 1000)));
        let total: i64 = vs.iter().map(|v| i64::from(*v)).sum();
        out.push(line("aggregate", &(*k, (vs.len() as u32, total))));
        for tag in ["combine", "group", "pre_group"] {
            out.push(line(tag, &(*k, vs.clone())));
        }
        out.push(line("partition_by", &(*k, 1usize, true, vs.clone())));
    }
    let full = full_outer(left, right);
    for (k, (v, w)) in &full {
        match (v, w) {
            (Some(v), Some(w)) => {
                for tag in ["join", "pre_join"] {
                    out.push(line(tag, &(*k, (*v, *w))));
                }
                out.push(line("left_outer", &(*k, (*v, Some(*w)))));
                out.push(line("right_outer", &(*k, (Some(*v), *w))));
            }
            (Some(v), None) => out.push(line("left_outer", &(*k, (*v, None::<i32>)))),
            (None, Some(w)) => out.push(line("right_outer", &(*k, (None::<i32>, *w)))),
            (None, None) => unreachable!("a join row has a side"),
        }
        out.push(line("full_outer", &(*k, (*v, *w))));
        out.push(line("half_full_outer", &(*k, (*v, *w))));
    }
    let keys: BTreeSet<u8> = gl.keys().chain(gr.keys()).copied().collect();
    for k in keys {
        let side = |g: &BTreeMap<u8, Vec<i32>>| g.get(&k).cloned().unwrap_or_default();
        for tag in ["cogroup", "pre_cogroup"] {
            out.push(line(tag, &(k, side(&gl), side(&gr))));
        }
    }
    for (k, v) in left.iter().filter(|(k, _)| !gr.contains_key(k)) {
        out.push(line("subtract_by_key", &(*k, *v)));
    }
    sorted(out)
}

#[test]
fn by_key_operators_and_joins_match_nested_loops() {
    let masters = Masters::start();
    let case = (pairs(), pairs(), parts(), parts(), parts());
    check(case, |(left, right, pl, pr, n)| {
        let got = masters.multiset(|| by_key(left.clone(), right.clone(), pl, pr, n))?;
        model(&got, &by_key_model(&left, &right))
    });
}

// ---- set operators, repartition, cartesian ---------------------------------------

/// Inputs of [`sets`]: two value lists and their partition counts, a
/// repartition target, and two short lists for `cartesian`.
type SetCase = (
    Vec<i32>,
    Vec<i32>,
    usize,
    usize,
    usize,
    Vec<i32>,
    Vec<u8>,
    usize,
    usize,
);

#[barks::job]
fn sets(case: SetCase) -> Vec<String> {
    pipeline! {
        let x = parallelize(case.0.clone(), case.2);
        let y = parallelize(case.1.clone(), case.3);
        let distinct = x.distinct().map(|v| line("distinct", &v));
        let inter = x.intersection(y).map(|v| line("intersection", &v));
        let sub = x.subtract(y).map(|v| line("subtract", &v));
        let dealt = x.repartition(case.4);
        let moved = dealt.map(|v| line("repartition", &v));
        let dealt_parts = dealt.map_partitions(|_| std::iter::once(line("repartition_part", &())));
        let ca = parallelize(case.5.clone(), case.7);
        let cb = parallelize(case.6.clone(), case.8);
        let cart = ca.cartesian(cb).map(|r| line("cartesian", &r));
        distinct.union(inter).union(sub).union(moved).union(dealt_parts).union(cart).collect()
    }
}

fn sets_model(case: &SetCase) -> Vec<String> {
    let (a, b, _, _, to, ca, cb, _, _) = case;
    let (sa, sb): (BTreeSet<i32>, BTreeSet<i32>) =
        (a.iter().copied().collect(), b.iter().copied().collect());
    let mut out: Vec<String> = sa.iter().map(|v| line("distinct", v)).collect();
    out.extend(sa.intersection(&sb).map(|v| line("intersection", v)));
    out.extend(
        a.iter()
            .filter(|v| !sb.contains(v))
            .map(|v| line("subtract", v)),
    );
    out.extend(a.iter().map(|v| line("repartition", v)));
    out.extend((0..(*to).max(1)).map(|_| line("repartition_part", &())));
    out.extend(
        ca.iter()
            .flat_map(|x| cb.iter().map(move |y| line("cartesian", &(*x, *y)))),
    );
    sorted(out)
}

#[test]
fn set_operators_repartition_and_cartesian_match_sets() {
    let masters = Masters::start();
    let small = || {
        (
            vec(-5i32..5, 0..12),
            vec(0u8..5, 0..12),
            1usize..6,
            1usize..6,
        )
    };
    let case = (values(), values(), parts(), parts(), 0usize..16, small())
        .prop_map(|(a, b, pa, pb, to, (ca, cb, pca, pcb))| (a, b, pa, pb, to, ca, cb, pca, pcb));
    check(case, |case: SetCase| {
        let got = masters.multiset(|| sets(case.clone()))?;
        model(&got, &sets_model(&case))
    });
}

// ---- sorting (order is defined) ---------------------------------------------------

#[barks::job]
fn sorts(data: Vec<i32>, records: Vec<(u8, i32)>, p: usize, ascending: bool) -> Vec<String> {
    pipeline! {
        let src = parallelize(data, p);
        // The sort keys determine the records, so the order is exact.
        let by = src.sort_by(|x| (x.rem_euclid(5), -x), ascending).map(|x| line("sort_by", &x));
        let ranked = src.sort_by(|x| *x, false).zip_with_index().map(|r| line("rank", &r));
        let totals = parallelize(records, p)
            .reduce_by_key(|a, b| a + b)
            .sort_by(|(k, v)| (*v, *k), ascending)
            .map(|r| line("totals", &r));
        by.union(ranked).union(totals).collect()
    }
}

fn sorts_model(data: &[i32], records: &[(u8, i32)], ascending: bool) -> Vec<String> {
    let directed = |mut v: Vec<String>| {
        if !ascending {
            v.reverse();
        }
        v
    };
    let mut by = data.to_vec();
    by.sort_by_key(|x| (x.rem_euclid(5), -x));
    let mut out = directed(by.iter().map(|x| line("sort_by", x)).collect());
    let descending = sorted(data.to_vec()).into_iter().rev();
    out.extend(descending.zip(0u64..).map(|r| line("rank", &r)));
    let mut totals: Vec<(u8, i32)> = groups(records)
        .into_iter()
        .map(|(k, vs)| (k, vs.iter().sum()))
        .collect();
    totals.sort_by_key(|(k, v)| (*v, *k));
    out.extend(directed(totals.iter().map(|r| line("totals", r)).collect()));
    out
}

#[barks::job]
fn sort_by_key_layout(records: Vec<(u8, i32)>, p: usize, ascending: bool) -> Vec<Vec<(u8, i32)>> {
    pipeline! {
        let src = parallelize(records, p);
        src.sort_by_key(ascending).glom().collect()
    }
}

/// A sorted partition: its keys in order, and its records sorted.
type KeyOrder = (Vec<u8>, Vec<(u8, i32)>);

/// A sorted partition as its keys in order plus its records as a multiset:
/// the order of records with equal keys is not defined.
fn key_order(parts: Vec<Vec<(u8, i32)>>) -> Vec<KeyOrder> {
    parts
        .into_iter()
        .map(|part| (part.iter().map(|r| r.0).collect(), sorted(part)))
        .collect()
}

#[test]
fn sorts_are_global_and_identical_on_every_master() {
    let masters = Masters::start();
    check(
        (values(), pairs(), parts(), any::<bool>()),
        |(data, records, p, ascending)| {
            let got = masters.exact(|| sorts(data.clone(), records.clone(), p, ascending))?;
            model(&got, &sorts_model(&data, &records, ascending))?;
            // Partition boundaries come from a sample: the same on every master
            // (compared by `agree`), and against the model only the global order.
            let layout = masters.agree(
                || sort_by_key_layout(records.clone(), p, ascending),
                key_order,
            )?;
            prop_assert_eq!(layout.len(), p);
            let mut keys: Vec<u8> = sorted(records.iter().map(|r| r.0).collect());
            if !ascending {
                keys.reverse();
            }
            model(&layout.iter().flat_map(|l| l.0.clone()).collect(), &keys)?;
            model(
                &sorted(layout.into_iter().flat_map(|l| l.1).collect()),
                &sorted(records.clone()),
            )
        },
    );
}

// ---- actions on values ---------------------------------------------------------------

#[barks::job]
fn count_of(data: Vec<i32>, p: usize) -> u64 {
    pipeline! { parallelize(data, p).count() }
}

#[barks::job]
fn first_of(data: Vec<i32>, p: usize) -> Option<i32> {
    pipeline! { parallelize(data, p).first() }
}

#[barks::job]
fn take_of(data: Vec<i32>, p: usize, n: usize) -> Vec<i32> {
    pipeline! { parallelize(data, p).take(n) }
}

#[barks::job]
fn take_ordered_of(data: Vec<i32>, p: usize, n: usize) -> Vec<i32> {
    pipeline! { parallelize(data, p).take_ordered(n) }
}

#[barks::job]
fn top_of(data: Vec<i32>, p: usize, n: usize) -> Vec<i32> {
    pipeline! { parallelize(data, p).top(n) }
}

#[barks::job]
fn reduce_of(data: Vec<i32>, p: usize) -> Option<i64> {
    pipeline! { parallelize(data, p).map(i64::from).reduce(|a, b| a + b) }
}

#[barks::job]
fn fold_of(data: Vec<i32>, p: usize, zero: i64) -> i64 {
    pipeline! { parallelize(data, p).map(i64::from).fold(zero, |a, b| a + b) }
}

#[barks::job]
fn aggregate_of(data: Vec<i32>, p: usize) -> (u64, i64) {
    pipeline! {
        parallelize(data, p).aggregate((0u64, 0i64), |(n, s), x| (n + 1, s + i64::from(x)), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}

#[barks::job]
fn count_by_value_of(data: Vec<i32>, p: usize) -> HashMap<i32, u64> {
    pipeline! { parallelize(data, p).count_by_value() }
}

#[test]
fn value_actions_match_the_model() {
    let masters = Masters::start();
    check(
        (values(), parts(), 0usize..30, -3i64..3),
        |(data, p, n, zero)| {
            let d = || data.clone();
            let sum: i64 = data.iter().map(|x| i64::from(*x)).sum();
            model(&masters.exact(|| count_of(d(), p))?, &(data.len() as u64))?;
            model(&masters.exact(|| first_of(d(), p))?, &data.first().copied())?;
            model(
                &masters.exact(|| take_of(d(), p, n))?,
                &data.iter().copied().take(n).collect(),
            )?;
            let asc = sorted(data.clone());
            model(
                &masters.exact(|| take_ordered_of(d(), p, n))?,
                &asc.iter().copied().take(n).collect(),
            )?;
            model(
                &masters.exact(|| top_of(d(), p, n))?,
                &asc.iter().rev().copied().take(n).collect(),
            )?;
            model(
                &masters.exact(|| reduce_of(d(), p))?,
                &(!data.is_empty()).then_some(sum),
            )?;
            // Spark's fold: `zero` starts every partition and the final merge.
            model(
                &masters.exact(|| fold_of(d(), p, zero))?,
                &(sum + zero * (p as i64 + 1)),
            )?;
            model(
                &masters.exact(|| aggregate_of(d(), p))?,
                &(data.len() as u64, sum),
            )?;
            let by_value = masters.exact(|| count_by_value_of(d(), p))?;
            model(&by_value.into_iter().collect(), &tally(&data))
        },
    );
}

// ---- actions on pairs, and actions with side effects ------------------------------------

#[barks::job]
fn count_by_key_of(records: Vec<(u8, i32)>, p: usize) -> HashMap<u8, u64> {
    pipeline! { parallelize(records, p).count_by_key() }
}

#[barks::job]
fn collect_as_map_of(records: Vec<(u8, i32)>, p: usize) -> HashMap<u8, i32> {
    pipeline! { parallelize(records, p).collect_as_map() }
}

/// Writes each partition's records to `dir/part-<index>`, one per line.
#[barks::job]
fn write_each_partition(data: Vec<i32>, p: usize, dir: String) -> () {
    pipeline! {
        let src = parallelize(data, p);
        src.map_partitions_with_index(|i, it| std::iter::once((i, it.collect::<Vec<i32>>())))
            .for_each_partition(move |it| {
                for (i, records) in it {
                    let text: String = records.iter().map(|x| format!("{x}\n")).collect();
                    std::fs::write(Path::new(&dir).join(format!("part-{i:05}")), text).unwrap();
                }
            })
    }
}

/// Appends every record to the file `path`, one line each.
#[barks::job]
fn append_each(data: Vec<i32>, p: usize, path: String) -> () {
    pipeline! {
        parallelize(data, p).for_each(move |x| {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).unwrap();
            file.write_all(format!("{x}\n").as_bytes()).unwrap();
        })
    }
}

#[barks::job]
fn save_text(data: Vec<i32>, p: usize, dir: String) -> () {
    pipeline! { parallelize(data, p).map(|x| x.to_string()).save_as_text_file(dir) }
}

/// The `part-*` files of `dir` in name order, each as its lines.
fn read_parts(dir: &Path) -> Vec<Vec<i32>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("part-")
        })
        .collect();
    names.sort();
    names.iter().map(|p| read_lines(p)).collect()
}

fn read_lines(path: &Path) -> Vec<i32> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(|l| l.parse().unwrap()).collect()
}

#[test]
fn key_actions_and_side_effects_match_the_model() {
    let masters = Masters::start();
    check((pairs(), parts()), |(records, p)| {
        let r = || records.clone();
        let by_key = masters.exact(|| count_by_key_of(r(), p))?;
        let counts = groups(&records)
            .into_iter()
            .map(|(k, vs)| (k, vs.len() as u64))
            .collect();
        model(&by_key.into_iter().collect::<BTreeMap<_, _>>(), &counts)?;
        // A later value of a key wins, also when the partitions' results
        // arrive from different workers.
        let as_map = masters.exact(|| collect_as_map_of(r(), p))?;
        model(
            &as_map.into_iter().collect::<BTreeMap<_, _>>(),
            &records.iter().copied().collect(),
        )
    });
    check((values(), parts()), |(data, p)| {
        // Each master writes into its own directory, read back here.
        for (master, ctx) in &masters.0 {
            let tmp = tempfile::tempdir().unwrap();
            let tmp = tmp.path();
            std::fs::create_dir(tmp.join("each")).unwrap();
            let fail = |e: barks::Error| TestCaseError::fail(format!("{master}: {e}"));
            ctx.run_job(write_each_partition(data.clone(), p, arg(tmp, "each")))
                .map_err(fail)?;
            ctx.run_job(append_each(data.clone(), p, arg(tmp, "appended")))
                .map_err(fail)?;
            ctx.run_job(save_text(data.clone(), p, arg(tmp, "saved")))
                .map_err(fail)?;
            let what = |op: &str| format!("{master} {op} vs the model");
            same(
                &what("for_each_partition"),
                &read_parts(&tmp.join("each")),
                &slices(&data, p),
            )?;
            let appended = sorted(read_lines(&tmp.join("appended")));
            same(&what("for_each"), &appended, &sorted(data.clone()))?;
            let saved = tmp.join("saved");
            prop_assert!(
                saved.join("_SUCCESS").exists(),
                "{}: no _SUCCESS marker",
                master
            );
            prop_assert!(
                !saved.join("_temporary").exists(),
                "{}: _temporary left behind",
                master
            );
            same(
                &what("save_as_text_file"),
                &read_parts(&saved),
                &slices(&data, p),
            )?;
        }
        Ok(())
    });
}

// ---- a loop inside a job ------------------------------------------------------------------

#[barks::job]
fn page_rank(edges: Vec<(u32, u32)>, p: usize, iterations: usize) -> Vec<(u32, f64)> {
    pipeline! {
        let links = parallelize(edges, p).distinct().group_by_key().cache();
        let ranks = links.map_values(|_| 1.0f64);
        for _ in 0..iterations {
            let contribs = links.join(ranks).flat_map(|(_, (dsts, rank)): (u32, (Vec<u32>, f64))| {
                let share = rank / dsts.len() as f64;
                dsts.into_iter().map(move |d| (d, share)).collect::<Vec<_>>()
            });
            ranks = contribs.reduce_by_key(|a, b| a + b).map_values(|s| 0.15 + 0.85 * s);
        }
        ranks.collect()
    }
}

fn page_rank_model(edges: &[(u32, u32)], iterations: usize) -> Vec<(u32, f64)> {
    let mut links: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for (s, d) in edges {
        links.entry(*s).or_default().insert(*d);
    }
    let mut ranks: BTreeMap<u32, f64> = links.keys().map(|k| (*k, 1.0)).collect();
    for _ in 0..iterations {
        let mut sums: BTreeMap<u32, f64> = BTreeMap::new();
        for (s, ds) in &links {
            if let Some(r) = ranks.get(s) {
                for d in ds {
                    *sums.entry(*d).or_default() += r / ds.len() as f64;
                }
            }
        }
        ranks = sums
            .into_iter()
            .map(|(k, s)| (k, 0.15 + 0.85 * s))
            .collect();
    }
    ranks.into_iter().collect()
}

/// Ranks rounded to 1e-9: sums of the same contributions in another order
/// may differ in the last bits.
fn rounded(mut ranks: Vec<(u32, f64)>) -> Vec<(u32, i64)> {
    ranks.sort_by_key(|r| r.0);
    ranks
        .into_iter()
        .map(|(k, r)| (k, (r * 1e9).round() as i64))
        .collect()
}

#[test]
fn a_loop_inside_a_job_gives_the_same_ranks_on_every_master() {
    let masters = Masters::start();
    let edges = prop_oneof![1 => Just(Vec::new()), 4 => vec((0u32..10, 0u32..10), 0..40)];
    check((edges, parts(), 0usize..5), |(edges, p, iterations)| {
        let got = masters.agree(|| page_rank(edges.clone(), p, iterations), rounded)?;
        model(&got, &rounded(page_rank_model(&edges, iterations)))
    });
}

// ---- shuffle blocks larger than one network chunk --------------------------------------------

/// Records of the large test: skewed keys (half on key 7) and values of
/// 100-200 bytes with non-ASCII text.
fn big_record(i: i64) -> (u32, String) {
    let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let key = if h.is_multiple_of(2) {
        7
    } else {
        (h >> 40) as u32 % 1000
    };
    (
        key,
        format!("{i}:{}", "ünïcødé·".repeat(8 + (h >> 20) as usize % 8)),
    )
}

/// Per key: how many values and an order-independent digest of them.
#[barks::job]
fn big_groups(n: i64, maps: usize, reducers: usize) -> Vec<(u32, u64, u64)> {
    pipeline! {
        let rows = range(0, n, 1, maps).map(big_record);
        let grouped = rows.partition_by(reducers).group_by_key().map(|(k, vs): (u32, Vec<String>)| {
            (k, vs.len() as u64, vs.iter().map(|v| fnv(v)).fold(0u64, u64::wrapping_add))
        });
        grouped.collect()
    }
}

/// Every record, globally sorted (the whole record is the sort key).
#[barks::job]
fn big_sort(n: i64, maps: usize) -> Vec<(u32, String)> {
    pipeline! {
        let rows = range(0, n, 1, maps).map(big_record);
        rows.sort_by(|r| r.clone(), true).collect()
    }
}

#[test]
fn shuffle_blocks_of_several_chunks_match_local_mode() {
    const N: i64 = 300_000;
    const MAPS: usize = 2;
    let records: Vec<(u32, String)> = (0..N).map(big_record).collect();
    // Every map task writes one block per reducer: on average well above the
    // 4 MiB network chunk, and the hot key's block several times that.
    let bytes: usize = records.iter().map(|(_, v)| v.len() + 4).sum();
    assert!(
        bytes / (MAPS * MAPS) > 2 * (4 << 20),
        "{bytes} bytes are not enough"
    );

    let masters = Masters::start();
    let mut groups: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for (k, v) in &records {
        let g = groups.entry(*k).or_default();
        *g = (g.0 + 1, g.1.wrapping_add(fnv(v)));
    }
    let expected: Vec<(u32, u64, u64)> = groups.into_iter().map(|(k, (n, d))| (k, n, d)).collect();
    let check = |r: CaseResult| r.unwrap_or_else(|e| panic!("{e}"));
    check(
        masters
            .multiset(|| big_groups(N, MAPS, MAPS))
            .and_then(|got| model(&got, &expected)),
    );
    let expected = sorted(records);
    check(
        masters
            .exact(|| big_sort(N, MAPS))
            .and_then(|got| model(&got, &expected)),
    );
}
