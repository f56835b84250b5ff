//! `pagerank`: Spark's classic example. links = distinct edges grouped by
//! source; ranks start at 1.0 for nodes with out-links; each iteration
//! `contribs = links.join(ranks)` sends rank/outdegree to every
//! destination and `rank = 0.15 + 0.85 * sum(contribs)`; nodes that receive
//! nothing drop out.
//!
//! The cached edge lists are `Arc<[u32]>`: every iteration's join hands
//! each one out again, and a `Vec` would be copied each time (a JVM shares
//! the object; in Rust sharing is an `Arc`).

use super::{JobResult, parse_edge, parse_lines, path_arg};
use crate::canonical::Outcome;
use crate::cli::env_usize;
use barks::prelude::*;
use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;

#[barks::job]
pub fn page_ranks(path: String, iters: usize) -> Vec<(u32, f64)> {
    pipeline! {
        let links = text_file(path)
            .map(|l: String| parse_edge(&l))
            .distinct()
            .group_by_key()
            .map_values(|dsts: Vec<u32>| Arc::<[u32]>::from(dsts))
            .cache();
        let ranks = links.map_values(|_| 1.0f64);
        for _ in 0..iters {
            let contribs = links.join(ranks).flat_map(|(_, (dsts, rank)): (u32, (Arc<[u32]>, f64))| {
                let share = rank / dsts.len() as f64;
                (0..dsts.len()).map(move |i| (dsts[i], share))
            });
            ranks = contribs.reduce_by_key(|a, b| a + b).map_values(|s| 0.15 + 0.85 * s);
        }
        ranks.collect()
    }
}

/// The iteration count: `PR_ITERS`, default 10.
pub fn iterations() -> usize {
    env_usize("PR_ITERS", 10)
}

/// The barks version.
pub fn barks(data: &Path, master: &str) -> JobResult<Outcome> {
    let ranks = page_ranks(path_arg(&data.join("edges.txt")), iterations()).run_on(master)?;
    Ok(Outcome::Ranks(ranks))
}

/// The baseline: deduplicated edges in compressed rows by destination, and
/// each iteration pulls `rank/outdegree` from every source in parallel.
pub fn baseline(data: &Path) -> JobResult<Outcome> {
    Ok(Outcome::Ranks(ranks_of_edges(
        parse_lines(&data.join("edges.txt"), parse_edge)?,
        iterations(),
    )))
}

/// PageRank of the graph `edges` (duplicates allowed), by the sequential
/// rules above; the nodes that hold a rank at the end.
pub fn ranks_of_edges(mut edges: Vec<(u32, u32)>, iters: usize) -> Vec<(u32, f64)> {
    edges.par_sort_unstable();
    edges.dedup();
    let n = edges
        .par_iter()
        .map(|&(s, d)| s.max(d) as usize + 1)
        .max()
        .unwrap_or(0);
    let mut outdeg = vec![0u32; n];
    for &(s, _) in &edges {
        outdeg[s as usize] += 1;
    }
    // Rows by destination: for dst `dsts[i]`, sources `srcs[starts[i]..starts[i + 1]]`.
    edges.par_sort_unstable_by_key(|&(s, d)| (d, s));
    let srcs: Vec<u32> = edges.iter().map(|e| e.0).collect();
    let mut dsts = Vec::new();
    let mut starts = Vec::new();
    for (i, &(_, d)) in edges.iter().enumerate() {
        if dsts.last() != Some(&d) {
            dsts.push(d);
            starts.push(i);
        }
    }
    starts.push(edges.len());
    drop(edges);
    // NaN marks a node without a rank.
    let mut rank: Vec<f64> = outdeg
        .iter()
        .map(|&d| if d > 0 { 1.0 } else { f64::NAN })
        .collect();
    let mut share = vec![f64::NAN; n];
    for _ in 0..iters {
        share
            .par_iter_mut()
            .enumerate()
            .for_each(|(s, out)| *out = rank[s] / outdeg[s] as f64);
        let sums: Vec<f64> = (0..dsts.len())
            .into_par_iter()
            .with_min_len(1024)
            .map(|i| {
                let mut sum = 0.0;
                let mut any = false;
                for &s in &srcs[starts[i]..starts[i + 1]] {
                    let x = share[s as usize];
                    if !x.is_nan() {
                        sum += x;
                        any = true;
                    }
                }
                if any { 0.15 + 0.85 * sum } else { f64::NAN }
            })
            .collect();
        rank.par_iter_mut().for_each(|r| *r = f64::NAN);
        for (&d, r) in dsts.iter().zip(sums) {
            rank[d as usize] = r;
        }
    }
    rank.into_iter()
        .enumerate()
        .filter(|(_, r)| !r.is_nan())
        .map(|(i, r)| (i as u32, r))
        .collect()
}
