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
        let links = parallelize(edges, 4).distinct().group_by_key();
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
        let got: BTreeMap<_, _> = word_count(lines.clone()).run_on(master).unwrap().into_iter().collect();
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
        model = sums.into_iter().map(|(k, s)| (k, 0.15 + 0.85 * s)).collect();
    }
    let model: Vec<(u32, f64)> = model.into_iter().collect();
    assert_eq!(got.len(), model.len());
    for ((a, x), (b, y)) in got.iter().zip(&model) {
        assert_eq!(a, b);
        assert!((x - y).abs() < 1e-9, "{x} vs {y}");
    }
}
