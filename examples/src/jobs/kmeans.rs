//! `kmeans`: Lloyd's algorithm; initial centres are the first K points of
//! the file; distance is the sum of squared differences over the
//! dimensions in order; ties go to the lower index; an empty cluster keeps
//! its centre.
//!
//! The barks version is a driver loop: one job parses the points and
//! `persist()`s them, and each iteration runs a job over the persisted
//! points with the current centres as an argument. Each partition sums its
//! points per cluster into one local vector per cluster, and a
//! `reduce_by_key` adds the partitions' sums: the shape of Spark MLlib's
//! `KMeans` (`mapPartitions` over local sums, then `reduceByKey`).

use super::{JobResult, parse_lines, parse_point, path_arg};
use crate::canonical::Outcome;
use crate::cli::env_usize;
use barks::prelude::*;
use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;

/// A point, shared: reading a persisted dataset hands each task a clone of
/// every element, and cloning an `Arc` is a reference count where cloning a
/// `Vec` would be an allocation and a copy (Spark hands out references to
/// cached objects).
pub type Point = Arc<[f64]>;

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
pub fn load_points(path: String) -> Persisted<Point> {
    pipeline! {
        let points = text_file(path).map(|l: String| Point::from(parse_point(&l)));
        points.persist()
    }
}

#[barks::job]
pub fn first_points(points: Persisted<Point>, k: usize) -> Vec<Point> {
    pipeline! {
        let all = persisted(points);
        all.take(k)
    }
}

#[barks::job]
pub fn cluster_sums(
    points: Persisted<Point>,
    centres: Vec<Vec<f64>>,
) -> Vec<(usize, (Vec<f64>, u64))> {
    pipeline! {
        let sums = persisted(points)
            .map_partitions(move |points: barks::BoxIter<Point>| partition_sums(points, &centres))
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
    points: impl Iterator<Item = Point>,
    centres: &[Vec<f64>],
) -> Vec<(usize, (Vec<f64>, u64))> {
    let mut sums: Vec<Option<(Vec<f64>, u64)>> = vec![None; centres.len()];
    for p in points {
        match &mut sums[closest(&p, centres)] {
            Some((sum, n)) => {
                add_into(sum, &p);
                *n += 1;
            }
            empty => *empty = Some((p.to_vec(), 1)),
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
        let mut centres: Vec<Vec<f64>> = first_points(points, k)
            .run_on(master)?
            .iter()
            .map(|p| p.to_vec())
            .collect();
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

/// The baseline: points in one flat array; each iteration folds per-thread
/// sums and counts in parallel.
pub fn baseline(data: &Path) -> JobResult<Outcome> {
    let (k, iters) = parameters();
    let rows = parse_lines(&data.join("points.csv"), parse_point)?;
    let d = rows.first().map_or(0, Vec::len);
    let mut flat = Vec::with_capacity(rows.len() * d);
    for r in &rows {
        assert_eq!(r.len(), d, "points have different dimensions");
        flat.extend_from_slice(r);
    }
    let mut centres: Vec<Vec<f64>> = rows.iter().take(k).cloned().collect();
    drop(rows);
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
