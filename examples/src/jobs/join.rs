//! `join`: inner join kv ⋈ names on key, then the joined row count and the
//! sum of their kv values.

use super::{
    FastMap, JobResult, chunk_count, line_chunks, parse_kv, parse_name, path_arg, read_file,
};
use crate::canonical::Outcome;
use barks::prelude::*;
use rayon::prelude::*;
use std::path::Path;

#[barks::job]
pub fn join_totals(kv: String, names: String) -> Option<(u64, u64)> {
    pipeline! {
        let rows = text_file(kv).map(|l: String| parse_kv(&l));
        // Only the key of a name matters to the result: project the rest away
        // before the join, as the baseline does.
        let people = text_file(names).map(|l: String| (parse_name(&l).0, ()));
        let joined = rows.join(people);
        joined
            .map(|(_, (v, ())): (u32, (u32, ()))| (1u64, u64::from(v)))
            .reduce(|a, b| (a.0 + b.0, a.1 + b.1))
    }
}

/// The barks version.
pub fn barks(data: &Path, master: &str) -> JobResult<Outcome> {
    let totals = join_totals(
        path_arg(&data.join("kv.csv")),
        path_arg(&data.join("names.csv")),
    )
    .run_on(master)?;
    let (rows, sum) = totals.unwrap_or((0, 0));
    Ok(Outcome::Join { rows, sum })
}

/// The baseline: a hash join that builds `key -> number of names` and
/// probes it with every kv row.
pub fn baseline(data: &Path) -> JobResult<Outcome> {
    let names = read_file(&data.join("names.csv"))?;
    let build: FastMap<u32, u64> = line_chunks(&names, chunk_count())
        .into_par_iter()
        .fold(FastMap::default, |mut m: FastMap<u32, u64>, chunk| {
            for line in chunk.lines() {
                let (k, _name) = parse_name(line);
                *m.entry(k).or_insert(0) += 1;
            }
            m
        })
        .reduce(FastMap::default, |a, b| {
            let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
            for (k, n) in small {
                *big.entry(k).or_insert(0) += n;
            }
            big
        });
    let kv = read_file(&data.join("kv.csv"))?;
    let (rows, sum) = line_chunks(&kv, chunk_count())
        .into_par_iter()
        .map(|chunk| {
            let (mut rows, mut sum) = (0u64, 0u64);
            for line in chunk.lines() {
                let (k, v) = parse_kv(line);
                if let Some(&n) = build.get(&k) {
                    rows += n;
                    sum += n * u64::from(v);
                }
            }
            (rows, sum)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    Ok(Outcome::Join { rows, sum })
}
