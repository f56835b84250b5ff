//! `sort`: kv sorted by key (`sort_by_key`), ties by value.

use super::{JobResult, parse_kv, parse_lines, path_arg};
use crate::canonical::Outcome;
use barks::prelude::*;
use rayon::prelude::*;
use std::path::Path;

#[barks::job]
pub fn sorted_rows(path: String) -> Vec<(u32, u32)> {
    pipeline! {
        // The whole row is the sort key, so ties on key go by value.
        let rows = text_file(path).map(|l: String| (parse_kv(&l), ()));
        let sorted = rows.sort_by_key(true).keys();
        sorted.collect()
    }
}

/// The barks version.
pub fn barks(data: &Path, master: &str) -> JobResult<Outcome> {
    let rows = sorted_rows(path_arg(&data.join("kv.csv"))).run_on(master)?;
    Ok(Outcome::Sorted(rows))
}

/// The baseline: parse in parallel, parallel unstable sort of the pairs.
pub fn baseline(data: &Path) -> JobResult<Outcome> {
    let mut rows = parse_lines(&data.join("kv.csv"), parse_kv)?;
    rows.par_sort_unstable();
    Ok(Outcome::Sorted(rows))
}
