//! `groupby`: the sum of value per key (`reduce_by_key`), as u64.

use super::{FastMap, JobResult, chunk_count, line_chunks, parse_kv, path_arg, read_file};
use crate::canonical::Outcome;
use barks::prelude::*;
use rayon::prelude::*;
use std::path::Path;

#[barks::job]
pub fn sums_by_key(path: String) -> Vec<(u32, u64)> {
    pipeline! {
        let rows = text_file(path).map(|l: String| parse_kv(&l));
        let sums = rows.map_values(u64::from).reduce_by_key(|a, b| a + b);
        sums.collect()
    }
}

/// The barks version.
pub fn barks(data: &Path, master: &str) -> JobResult<Outcome> {
    let sums = sums_by_key(path_arg(&data.join("kv.csv"))).run_on(master)?;
    Ok(Outcome::KeySums(sums))
}

/// The baseline: one hash map per rayon fold (about one per thread), merged.
pub fn baseline(data: &Path) -> JobResult<Outcome> {
    let buf = read_file(&data.join("kv.csv"))?;
    let sums = line_chunks(&buf, chunk_count())
        .into_par_iter()
        .fold(FastMap::default, |mut m: FastMap<u32, u64>, chunk| {
            for line in chunk.lines() {
                let (k, v) = parse_kv(line);
                *m.entry(k).or_insert(0) += u64::from(v);
            }
            m
        })
        .reduce(FastMap::default, |a, b| {
            let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
            for (k, s) in small {
                *big.entry(k).or_insert(0) += s;
            }
            big
        });
    Ok(Outcome::KeySums(sums.into_iter().collect()))
}
