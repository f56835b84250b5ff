//! `wordcount`: split lines on whitespace, count per word.
//!
//! Two barks versions: `wordcount` with `flat_map_reduce_by_key`, whose
//! closure lends each word to the map-side combiner (an owned `String` only
//! per new word of a partition), and `wordcount-chain` (not in
//! shared/BENCHMARKS.md's job list; same output) with Spark's
//! `flat_map(..).map(..).reduce_by_key(..)`, which allocates a `String` per
//! word. BENCHMARKS.md's table has both.

use super::{FastMap, JobResult, chunk_count, line_chunks, path_arg, read_file};
use crate::canonical::Outcome;
use barks::prelude::*;
use rayon::prelude::*;
use std::path::Path;

#[barks::job]
pub fn word_counts(path: String) -> Vec<(String, u64)> {
    pipeline! {
        let lines = text_file(path);
        let counts = lines.flat_map_reduce_by_key(
            |line: String, words| {
                for w in line.split_whitespace() {
                    words.emit(w, 1u64);
                }
            },
            |a, b| a + b,
        );
        counts.collect()
    }
}

#[barks::job]
pub fn word_counts_chained(path: String) -> Vec<(String, u64)> {
    pipeline! {
        let lines = text_file(path);
        let counts = lines
            .flat_map(|l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b);
        counts.collect()
    }
}

/// The barks version (`wordcount`).
pub fn barks(data: &Path, master: &str) -> JobResult<Outcome> {
    let counts = word_counts(path_arg(&data.join("words.txt"))).run_on(master)?;
    Ok(Outcome::WordCounts(counts))
}

/// The barks version with an owned `String` per word (`wordcount-chain`).
pub fn barks_chained(data: &Path, master: &str) -> JobResult<Outcome> {
    let counts = word_counts_chained(path_arg(&data.join("words.txt"))).run_on(master)?;
    Ok(Outcome::WordCounts(counts))
}

/// The baseline: hash maps of borrowed words, one per rayon fold, merged.
pub fn baseline(data: &Path) -> JobResult<Outcome> {
    let buf = read_file(&data.join("words.txt"))?;
    let counts = line_chunks(&buf, chunk_count())
        .into_par_iter()
        .fold(FastMap::default, |mut m: FastMap<&str, u64>, chunk| {
            for w in chunk.split_whitespace() {
                *m.entry(w).or_insert(0) += 1;
            }
            m
        })
        .reduce(FastMap::default, |mut a, b| {
            if a.len() < b.len() {
                return merge(b, a);
            }
            merge(std::mem::take(&mut a), b)
        });
    Ok(Outcome::WordCounts(
        counts
            .into_iter()
            .map(|(w, c)| (w.to_string(), c))
            .collect(),
    ))
}

fn merge<'a>(
    mut into: FastMap<&'a str, u64>,
    from: FastMap<&'a str, u64>,
) -> FastMap<&'a str, u64> {
    for (w, c) in from {
        *into.entry(w).or_insert(0) += c;
    }
    into
}
