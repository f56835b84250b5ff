//! `kmeans`: Lloyd's algorithm; initial centres are the first K points of
//! the file; distance is the sum of squared differences over the
//! dimensions in order; ties go to the lower index; an empty cluster keeps
//! its centre.
//!
//! The barks version is a driver loop: one job parses the points into
//! blocks and `persist()`s them, and each iteration runs a job over the
//! persisted blocks with the current centres as an argument. Each partition
//! sums its points per cluster into one local vector per cluster, and a
//! `reduce_by_key` adds the partitions' sums: the shape of Spark MLlib's
//! `KMeans` (`mapPartitions` over local sums, then `reduceByKey`).

use super::{JobResult, chunk_count, line_chunks, parse_point_into, path_arg, read_file};
use crate::canonical::Outcome;
use crate::cli::env_usize;
use barks::prelude::*;
use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;

/// Points that are read together (up to [`BLOCK_POINTS`] of one
/// partition), in one flat array of `dims` coordinates per point: one
/// allocation per block instead of one per point, and the points of a block
/// next to each other in memory, as in an Arrow record batch. The array is
/// shared: reading a persisted dataset hands each task a clone of every
/// element, which for an `Arc` is a reference count.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PointBlock {
    pub dims: usize,
    pub coords: Arc<[f64]>,
}

/// The most points in one [`PointBlock`].
pub const BLOCK_POINTS: usize = 4096;

impl PointBlock {
    /// The block's points, each `dims` coordinates.
    pub fn points(&self) -> std::slice::ChunksExact<'_, f64> {
        self.coords.chunks_exact(self.dims.max(1))
    }
}

/// The points of `lines` (rows of points.csv) in blocks of up to
/// [`BLOCK_POINTS`]; panics, naming the row, on a row whose dimension
/// differs from the first row's.
pub fn point_blocks(lines: impl Iterator<Item = String>) -> Vec<PointBlock> {
    let mut blocks = Vec::new();
    let mut coords = Vec::new();
    let mut dims = None;
    let mut points = 0;
    for line in lines {
        let d = parse_point_into(&line, &mut coords);
        if *dims.get_or_insert(d) != d {
            panic!("point `{line}` has {d} coordinates, the first point {dims:?}");
        }
        points += 1;
        if points == BLOCK_POINTS {
            blocks.push(PointBlock {
                dims: d,
                coords: Arc::from(std::mem::take(&mut coords)),
            });
            points = 0;
        }
    }
    if let (Some(dims), true) = (dims, points > 0) {
        blocks.push(PointBlock {
            dims,
            coords: Arc::from(coords),
        });
    }
    blocks
}

/// The index of the centre nearest to `p` (the lower index on ties).
#[inline]
pub fn closest(p: &[f64], centres: &[Vec<f64>]) -> usize {
    let mut best = 0;
    let mut best_d = f64::INFINITY;
    for (i, c) in centres.iter().enumerate() {
        let mut d = 0.0;
        for (x, y) in p.iter().zip(c) {
            d += (x - y) * (x - y);
        }
        if d < best_d {
            best = i;
            best_d = d;
        }
    }
    best
}

/// Adds `b` into `a`, element by element.
#[inline]
pub fn add_into(a: &mut [f64], b: &[f64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

#[barks::job]
pub fn load_points(path: String) -> Persisted<PointBlock> {
    pipeline! {
        let blocks = text_file(path).map_partitions(|lines: barks::BoxIter<String>| point_blocks(lines));
        blocks.persist()
    }
}

/// The first `k` blocks: at least the first `k` points, as no block is empty.
#[barks::job]
pub fn first_blocks(points: Persisted<PointBlock>, k: usize) -> Vec<PointBlock> {
    pipeline! {
        let all = persisted(points);
        all.take(k)
    }
}

#[barks::job]
pub fn cluster_sums(
    points: Persisted<PointBlock>,
    centres: Vec<Vec<f64>>,
) -> Vec<(usize, (Vec<f64>, u64))> {
    pipeline! {
        let sums = persisted(points)
            .map_partitions(move |blocks: barks::BoxIter<PointBlock>| partition_sums(blocks, &centres))
            .reduce_by_key(|(mut a, n): (Vec<f64>, u64), (b, m): (Vec<f64>, u64)| {
                add_into(&mut a, &b);
                (a, n + m)
            });
        sums.collect()
    }
}

/// The sum and count of the points nearest to each centre, for the
/// clusters that have points.
pub fn partition_sums(
    blocks: impl Iterator<Item = PointBlock>,
    centres: &[Vec<f64>],
) -> Vec<(usize, (Vec<f64>, u64))> {
    let mut sums: Vec<Option<(Vec<f64>, u64)>> = vec![None; centres.len()];
    for block in blocks {
        for p in block.points() {
            match &mut sums[closest(p, centres)] {
                Some((sum, n)) => {
                    add_into(sum, p);
                    *n += 1;
                }
                empty => *empty = Some((p.to_vec(), 1)),
            }
        }
    }
    let clusters = sums.into_iter().enumerate();
    clusters.filter_map(|(i, s)| Some((i, s?))).collect()
}

/// The new centres from per-cluster sums (an empty cluster keeps its centre).
pub fn next_centres(
    mut centres: Vec<Vec<f64>>,
    sums: Vec<(usize, (Vec<f64>, u64))>,
) -> Vec<Vec<f64>> {
    for (i, (sum, n)) in sums {
        if n > 0 {
            centres[i] = sum.into_iter().map(|s| s / n as f64).collect();
        }
    }
    centres
}

/// Runs k-means with barks on the points file `path`.
pub fn run_barks(path: &Path, k: usize, iters: usize, master: &str) -> JobResult<Vec<Vec<f64>>> {
    let points = load_points(path_arg(path)).run_on(master)?;
    let result = (|| -> JobResult<Vec<Vec<f64>>> {
        let blocks = first_blocks(points, k).run_on(master)?;
        let firsts = blocks.iter().flat_map(PointBlock::points);
        let mut centres: Vec<Vec<f64>> = firsts.take(k).map(<[f64]>::to_vec).collect();
        for _ in 0..iters {
            let sums = cluster_sums(points, centres.clone()).run_on(master)?;
            centres = next_centres(centres, sums);
        }
        Ok(centres)
    })();
    points.unpersist();
    result
}

/// `KM_K` and `KM_ITERS` (defaults 8 and 10).
pub fn parameters() -> (usize, usize) {
    (env_usize("KM_K", 8), env_usize("KM_ITERS", 10))
}

/// The barks version.
pub fn barks(data: &Path, master: &str) -> JobResult<Outcome> {
    let (k, iters) = parameters();
    Ok(Outcome::Centres(run_barks(
        &data.join("points.csv"),
        k,
        iters,
        master,
    )?))
}

/// The baseline: points in one flat array (parsed in parallel pieces);
/// each iteration folds per-thread sums and counts in parallel.
pub fn baseline(data: &Path) -> JobResult<Outcome> {
    let (k, iters) = parameters();
    let buf = read_file(&data.join("points.csv"))?;
    let pieces: Vec<(usize, Vec<f64>)> = line_chunks(&buf, chunk_count())
        .into_par_iter()
        .map(|piece| {
            let (mut flat, mut d) = (Vec::new(), None);
            for line in piece.lines() {
                let n = parse_point_into(line, &mut flat);
                assert_eq!(*d.get_or_insert(n), n, "points have different dimensions");
            }
            (d.unwrap_or(0), flat)
        })
        .collect();
    let d = pieces.iter().map(|p| p.0).find(|&d| d > 0).unwrap_or(0);
    assert!(
        pieces.iter().all(|p| p.1.is_empty() || p.0 == d),
        "points have different dimensions"
    );
    let mut flat = Vec::with_capacity(pieces.iter().map(|p| p.1.len()).sum());
    for (_, piece) in pieces {
        flat.extend(piece);
    }
    let mut centres: Vec<Vec<f64>> = flat.chunks(d.max(1)).take(k).map(<[f64]>::to_vec).collect();
    for _ in 0..iters {
        let (sums, counts) = flat
            .par_chunks(d.max(1))
            .with_min_len(4096)
            .fold(
                || (vec![0.0; centres.len() * d], vec![0u64; centres.len()]),
                |(mut sums, mut counts), p| {
                    let c = closest(p, &centres);
                    add_into(&mut sums[c * d..(c + 1) * d], p);
                    counts[c] += 1;
                    (sums, counts)
                },
            )
            .reduce(
                || (vec![0.0; centres.len() * d], vec![0u64; centres.len()]),
                |(mut s1, mut c1), (s2, c2)| {
                    add_into(&mut s1, &s2);
                    for (a, b) in c1.iter_mut().zip(c2) {
                        *a += b;
                    }
                    (s1, c1)
                },
            );
        for (i, c) in centres.iter_mut().enumerate() {
            if counts[i] > 0 {
                *c = sums[i * d..(i + 1) * d]
                    .iter()
                    .map(|s| s / counts[i] as f64)
                    .collect();
            }
        }
    }
    Ok(Outcome::Centres(centres))
}
