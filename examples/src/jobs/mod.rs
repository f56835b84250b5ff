//! The benchmark jobs of `shared/BENCHMARKS.md`, one per file. Each module
//! has `barks(data, master)` (jobs written with `#[barks::job]` and
//! `pipeline!`) and `baseline(data)` (hand-written rayon + foldhash, run
//! inside the caller's rayon pool), both returning a
//! [`canonical::Outcome`](crate::canonical::Outcome).
//!
//! The record parsers below are shared by both versions.

pub mod empty;
pub mod groupby;
pub mod join;
pub mod kmeans;
pub mod pagerank;
pub mod sort;
pub mod wordcount;

use rayon::prelude::*;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The hash map the baselines aggregate into.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A path as the `String` a barks job takes.
pub fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A non-negative decimal integer, or a panic naming the field.
#[inline]
pub fn parse_u32(field: &str, what: &str) -> u32 {
    let b = field.as_bytes();
    if b.is_empty() || b.len() > 10 {
        bad(field, what);
    }
    let mut n: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            bad(field, what);
        }
        n = n * 10 + u64::from(d);
    }
    u32::try_from(n).unwrap_or_else(|_| bad(field, what))
}

#[cold]
fn bad(field: &str, what: &str) -> ! {
    panic!("bad {what}: `{field}`")
}

/// A `key,value` row of kv.csv.
#[inline]
pub fn parse_kv(line: &str) -> (u32, u32) {
    let (k, v) = line.split_once(',').unwrap_or_else(|| bad(line, "kv row"));
    (parse_u32(k, "kv key"), parse_u32(v, "kv value"))
}

/// A `key,name` row of names.csv.
#[inline]
pub fn parse_name(line: &str) -> (u32, String) {
    let (k, n) = line
        .split_once(',')
        .unwrap_or_else(|| bad(line, "names row"));
    (parse_u32(k, "names key"), n.to_string())
}

/// A `src dst` row of edges.txt.
#[inline]
pub fn parse_edge(line: &str) -> (u32, u32) {
    let (s, d) = line.split_once(' ').unwrap_or_else(|| bad(line, "edge"));
    (
        parse_u32(s, "edge source"),
        parse_u32(d, "edge destination"),
    )
}

/// Appends the coordinates of an `x1,...,xd` row of points.csv to
/// `coords`; returns `d`.
pub fn parse_point_into(line: &str, coords: &mut Vec<f64>) -> usize {
    let before = coords.len();
    for x in line.split(',') {
        coords.push(x.parse::<f64>().unwrap_or_else(|_| bad(x, "coordinate")));
    }
    coords.len() - before
}

/// Reads a whole file with parallel positioned reads.
pub fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    let file = File::open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let len = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
    let mut buf = vec![0u8; len];
    let piece = (len / 16).max(1 << 20);
    buf.par_chunks_mut(piece)
        .enumerate()
        .try_for_each(|(i, chunk)| file.read_exact_at(chunk, (i * piece) as u64))?;
    Ok(buf)
}

/// Cuts `buf` into about `parts` pieces of whole lines, as `&str`.
pub fn line_chunks(buf: &[u8], parts: usize) -> Vec<&str> {
    let goal = buf.len().div_ceil(parts.max(1)).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < buf.len() {
        let mut end = (start + goal).min(buf.len());
        while end < buf.len() && buf[end - 1] != b'\n' {
            end += 1;
        }
        let text = std::str::from_utf8(&buf[start..end]).expect("input is not UTF-8");
        out.push(text);
        start = end;
    }
    out
}

/// Pieces per thread the baselines cut their input into (load balance).
pub fn chunk_count() -> usize {
    rayon::current_num_threads() * 8
}

/// Parses every line of `path` with `f`, in parallel, keeping file order.
pub fn parse_lines<T: Send>(path: &Path, f: impl Fn(&str) -> T + Sync) -> io::Result<Vec<T>> {
    let buf = read_file(path)?;
    let parts: Vec<Vec<T>> = line_chunks(&buf, chunk_count())
        .into_par_iter()
        .map(|c| c.lines().map(&f).collect())
        .collect();
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for p in parts {
        out.extend(p);
    }
    Ok(out)
}

/// What a job returns: its outcome, or any error.
pub type JobResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
