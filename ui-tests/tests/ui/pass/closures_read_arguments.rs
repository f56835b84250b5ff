//! Closures read job arguments without `move`: `pipeline!` makes every
//! closure argument of an operator a `move` closure (pipeline closures are
//! `'static` anyway). A `u64` is copied in; a `String` is moved into the
//! closure, which only borrows it (`&word`) each time it is called, so the
//! closure stays `Fn`. A closure written with `move` stays as it is.
use barks::prelude::*;

#[barks::job]
fn gaps(times: Vec<u64>, gap: u64) -> Vec<(u64, u64)> {
    pipeline! {
        let pairs = parallelize(times).map(|t| (t, t.saturating_sub(5)));
        // Two closures in a row: a fused run.
        let long = pairs.filter(|(ts, last)| ts - last > gap).map(|(ts, last)| (ts, ts - last - gap));
        long.collect()
    }
}

#[barks::job]
fn mentions(lines: Vec<String>, word: String, min: usize) -> Vec<(String, usize)> {
    pipeline! {
        let lines = parallelize(lines, 2);
        // One closure alone (not fused), reading the `String` by reference.
        let hits = lines.filter(|s: &String| s.contains(&word));
        // A closure before a shuffle (fused into its map side), then one after.
        let counts = hits
            .map(|s| (s, 1usize))
            .reduce_by_key(|a, b| a + b)
            .filter(|(_, n)| *n >= min);
        counts.collect()
    }
}

#[barks::job]
fn already_moved(n: i64, step: i64) -> Vec<i64> {
    pipeline! {
        let numbers = range(n);
        for _ in 0..2 {
            numbers = numbers.map(move |x| x + step).filter(|x| x % step == 0);
        }
        numbers.sort_by(|x| *x, true).collect()
    }
}

fn main() {
    let mut got = gaps(vec![10, 20, 3], 4).run_on("local[2]").unwrap();
    got.sort();
    assert_eq!(got, [(10, 1), (20, 1)]);

    let lines = ["a dog", "a cat", "a dog", "no"].map(String::from).to_vec();
    let got = mentions(lines, "a".into(), 2).run_on("local[2]").unwrap();
    assert_eq!(got, [("a dog".to_string(), 2)]);

    assert_eq!(already_moved(6, 3).run_on("local[2]").unwrap(), vec![6, 9]);
}
