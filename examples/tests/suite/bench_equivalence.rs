//! The test that proves barks is right: every benchmark job, run with barks
//! and with the hand-written baseline on the same generated data, writes the
//! same canonical file (byte for byte; floats within 1e-6 relative).

use examples::bench::{self, JOBS, Mode};
use examples::canonical;
use std::path::Path;

fn run(job: &str, data: &Path, out: &Path, master: &str, mode: Mode) -> String {
    bench::run_to_file(job, data, out, master, mode)
        .unwrap_or_else(|e| panic!("{job} ({mode:?} on {master}) failed: {e}"));
    std::fs::read_to_string(out.join(format!("{job}.tsv"))).unwrap()
}

#[test]
fn barks_and_baseline_write_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    examples::datagen::generate(&data, 0.01, 7).unwrap();
    for job in JOBS {
        // Different thread counts, so barks also partitions differently.
        let base = run(
            job,
            &data,
            &dir.path().join("baseline"),
            "local[2]",
            Mode::Baseline,
        );
        let got = run(
            job,
            &data,
            &dir.path().join("barks"),
            "local[3]",
            Mode::Barks,
        );
        assert!(!base.is_empty(), "{job}: empty output");
        if let Err(diff) = canonical::compare(&base, &got, 1e-6, 1e-9) {
            panic!("{job}: barks differs from the baseline: {diff}");
        }
        eprintln!("{job}: {} lines agree", base.lines().count());
    }
}

#[test]
fn the_results_have_the_canonical_shape() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    examples::datagen::generate(&data, 0.002, 3).unwrap();
    let out = dir.path().join("out");
    let get = |job: &str| run(job, &data, &out, "local[2]", Mode::Baseline);

    assert_eq!(get("empty"), "count\t3\n");

    let wc = get("wordcount");
    let words: Vec<&str> = wc.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert!(
        words.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()),
        "words sorted bytewise"
    );
    let total: u64 = wc
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    let text = std::fs::read_to_string(data.join("words.txt")).unwrap();
    assert_eq!(total, text.split_whitespace().count() as u64);

    let kv = std::fs::read_to_string(data.join("kv.csv")).unwrap();
    let gb = get("groupby");
    let keys: Vec<u32> = gb
        .lines()
        .map(|l| l.split('\t').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "keys sorted numerically"
    );
    let sum: u64 = gb
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    let kv_sum: u64 = kv
        .lines()
        .map(|l| l.split(',').nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(sum, kv_sum);

    let sorted = get("sort");
    assert_eq!(sorted.lines().count(), kv.lines().count());
    let rows: Vec<(u32, u32)> = sorted
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap();
            (k.parse().unwrap(), v.parse().unwrap())
        })
        .collect();
    assert!(
        rows.windows(2).all(|w| w[0] <= w[1]),
        "sorted by key, then value"
    );

    let join = get("join");
    let lines: Vec<&str> = join.lines().collect();
    assert!(
        lines.len() == 2
            && lines[0].starts_with("joined_rows\t")
            && lines[1].starts_with("sum_value\t")
    );

    let km = get("kmeans");
    assert_eq!(km.lines().count(), 8);
    assert!(km.lines().enumerate().all(|(i, l)| l.split('\t').count()
        == 1 + examples::datagen::DIMS
        && l.starts_with(&format!("{i}\t"))));
}
