//! The canonical result of a benchmark job (shared/BENCHMARKS.md): one
//! writer for both the barks and the baseline version, so any difference
//! in `<JOB>.tsv` comes from the jobs themselves.
//!
//! Jobs hand back their result unsorted where the spec sorts it (word
//! count, group-by, PageRank); [`write`] puts it in canonical order, so
//! both versions pay for the same final sort. The `sort` job's output is
//! written in the order the job produced it.

use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// What a benchmark job computes.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `empty`: `count\tN`.
    Count(u64),
    /// `wordcount`: `(word, count)`, any order.
    WordCounts(Vec<(String, u64)>),
    /// `groupby`: `(key, sum)`, any order.
    KeySums(Vec<(u32, u64)>),
    /// `join`: the joined row count and the sum of their kv values.
    Join { rows: u64, sum: u64 },
    /// `sort`: the rows in the job's (sorted) order.
    Sorted(Vec<(u32, u32)>),
    /// `pagerank`: `(node, rank)`, any order.
    Ranks(Vec<(u32, f64)>),
    /// `kmeans`: the final centres, in index order.
    Centres(Vec<Vec<f64>>),
    /// Already written to the result file, as it came (`sort`, whose rows
    /// the driver does not hold all at once).
    Written,
}

/// Rows formatted per parallel task (and written per batch).
const CHUNK: usize = 1 << 15;

/// Formats `rows` in parallel, `CHUNK` at a time, and writes them in order.
fn write_rows<T: Sync>(
    out: &mut impl Write,
    rows: &[T],
    fmt: impl Fn(&mut Vec<u8>, &T) + Sync,
) -> io::Result<()> {
    // Batches bound the formatted bytes held at once.
    for batch in rows.chunks(CHUNK * 32) {
        let parts: Vec<Vec<u8>> = batch
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut buf = Vec::with_capacity(chunk.len() * 16);
                for r in chunk {
                    fmt(&mut buf, r);
                }
                buf
            })
            .collect();
        for p in parts {
            out.write_all(&p)?;
        }
    }
    Ok(())
}

/// Writes `sort`'s rows to `path` as they come, a sorted partition at a
/// time (the partitions come in order).
pub fn write_sorted_parts(
    parts: impl Iterator<Item = Vec<(u32, u32)>>,
    path: &Path,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    for rows in parts {
        write_rows(&mut out, &rows, format_sorted)?;
    }
    out.flush()
}

fn format_sorted(b: &mut Vec<u8>, (k, v): &(u32, u32)) {
    let _ = writeln!(b, "{k}\t{v}");
}

/// Writes `outcome` canonically to `path`, sorting it as the spec says.
pub fn write(outcome: Outcome, path: &Path) -> io::Result<()> {
    if matches!(outcome, Outcome::Written) {
        return Ok(());
    }
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    match outcome {
        Outcome::Count(n) => writeln!(out, "count\t{n}")?,
        Outcome::WordCounts(mut rows) => {
            rows.par_sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            write_rows(&mut out, &rows, |b, (w, c)| {
                let _ = writeln!(b, "{w}\t{c}");
            })?;
        }
        Outcome::KeySums(mut rows) => {
            rows.par_sort_unstable_by_key(|r| r.0);
            write_rows(&mut out, &rows, |b, (k, s)| {
                let _ = writeln!(b, "{k}\t{s}");
            })?;
        }
        Outcome::Join { rows, sum } => {
            writeln!(out, "joined_rows\t{rows}")?;
            writeln!(out, "sum_value\t{sum}")?;
        }
        Outcome::Sorted(rows) => write_rows(&mut out, &rows, format_sorted)?,
        Outcome::Ranks(mut rows) => {
            rows.par_sort_unstable_by_key(|r| r.0);
            write_rows(&mut out, &rows, |b, (n, r)| {
                let _ = writeln!(b, "{n}\t{r:.12}");
            })?;
        }
        Outcome::Centres(centres) => {
            for (i, c) in centres.iter().enumerate() {
                write!(out, "{i}")?;
                for x in c {
                    write!(out, "\t{x:.12}")?;
                }
                writeln!(out)?;
            }
        }
        // Returned above, before the file is created.
        Outcome::Written => {}
    }
    out.flush()
}

/// Compares two canonical files: equal bytes, except that numeric fields
/// may differ by `rel` relative (or `abs` absolute, near zero). Returns the
/// first difference.
pub fn compare(a: &str, b: &str, rel: f64, abs: f64) -> Result<(), String> {
    if a == b {
        return Ok(());
    }
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    if la.len() != lb.len() {
        return Err(format!("{} lines vs {} lines", la.len(), lb.len()));
    }
    if a.ends_with('\n') != b.ends_with('\n') {
        return Err("one file lacks the final newline".into());
    }
    for (i, (x, y)) in la.iter().zip(&lb).enumerate() {
        if x == y {
            continue;
        }
        let (fx, fy): (Vec<&str>, Vec<&str>) = (x.split('\t').collect(), y.split('\t').collect());
        let differ = || format!("line {}: `{x}` vs `{y}`", i + 1);
        if fx.len() != fy.len() {
            return Err(differ());
        }
        for (p, q) in fx.iter().zip(&fy) {
            if p == q {
                continue;
            }
            // Only fields that are floats (have a decimal point) may differ.
            let (Some(u), Some(v)) = (
                p.contains('.').then(|| p.parse::<f64>().ok()).flatten(),
                q.contains('.').then(|| q.parse::<f64>().ok()).flatten(),
            ) else {
                return Err(differ());
            };
            let d = (u - v).abs();
            if d > abs && d > rel * u.abs().max(v.abs()) {
                return Err(differ());
            }
        }
    }
    Ok(())
}
