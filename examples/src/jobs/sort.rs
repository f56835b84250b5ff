//! `sort`: kv sorted by key (`sort_by_key`), ties by value.

use super::{JobResult, parse_kv, parse_lines, path_arg};
use crate::canonical::{self, Outcome};
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

/// The barks version, writing the sorted rows to `out` a partition at a
/// time as they come (the driver never holds them all; at scale 40 they
/// are 3.2 GB).
pub fn barks(data: &Path, master: &str, out: &Path) -> JobResult<Outcome> {
    let ctx = Context::new(master)?;
    // Two partitions in flight at most: the job waits for the writer.
    let (send, parts) = std::sync::mpsc::sync_channel::<Vec<(u32, u32)>>(2);
    let out = out.to_path_buf();
    let writer = std::thread::spawn(move || canonical::write_sorted_parts(parts.into_iter(), &out));
    let job = ctx.run_job_streaming(
        sorted_rows(path_arg(&data.join("kv.csv"))),
        move |partition, rows: Vec<(u32, u32)>| {
            send.send(rows).map_err(|_| {
                barks::Error::Plan(format!(
                    "the result writer stopped before partition {partition}"
                ))
            })
        },
    );
    let written = writer.join().map_err(|_| "the result writer panicked")?;
    job?;
    written?;
    Ok(Outcome::Written)
}

/// The baseline: parse in parallel, parallel unstable sort of the pairs.
pub fn baseline(data: &Path) -> JobResult<Outcome> {
    let mut rows = parse_lines(&data.join("kv.csv"), parse_kv)?;
    rows.par_sort_unstable();
    Ok(Outcome::Sorted(rows))
}
