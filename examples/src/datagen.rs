//! The deterministic data generator behind `barks-gen`: the same seed and
//! scale give the same bytes on any machine and thread count (every chunk
//! of every file has its own random stream).
//!
//! At scale 1: `words.txt` ≈ 110 MB of lines of words whose ranks are
//! Zipf-distributed over a 100k vocabulary; `kv.csv` 10M rows over ~1M
//! keys; `names.csv` a name for ~80% of the keys (10% of them twice);
//! `edges.txt` 5M edges over 500k nodes with power-law degrees;
//! `points.csv` 1M 4-d points from 8 Gaussian clusters.

use rayon::prelude::*;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Vocabulary size of `words.txt`.
pub const VOCABULARY: usize = 100_000;
/// Dimensions of `points.csv`.
pub const DIMS: usize = 4;
/// Gaussian clusters in `points.csv`.
pub const CLUSTERS: usize = 8;

/// SplitMix64: small, fast, and fully specified.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream for `(seed, stream, index)`.
    pub fn new(seed: u64, stream: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xA24B_AED4_963E_E407));
        r.0 ^= r.next_u64() ^ index.wrapping_mul(0x9FB2_1C65_1E98_DF25);
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Standard normal (Box–Muller).
    pub fn gaussian(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// The word of rank `r`: a bijective base-85 numeral of consonant-vowel
/// syllables, so frequent (low) ranks get short words and every rank a
/// distinct word.
pub fn word(mut r: usize) -> String {
    const C: &[u8] = b"bcdfghjklmnprstvz";
    const V: &[u8] = b"aeiou";
    let base = C.len() * V.len();
    let mut w = Vec::new();
    loop {
        let s = r % base;
        w.push(V[s % V.len()]);
        w.push(C[s / V.len()]);
        if r < base {
            break;
        }
        r = r / base - 1;
    }
    w.reverse();
    String::from_utf8(w).expect("ASCII")
}

/// Cumulative Zipf(s = 1) probabilities over ranks `0..n`.
fn zipf_cdf(n: usize) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (1..=n)
        .map(|k| {
            acc += 1.0 / k as f64;
            acc
        })
        .collect();
    for c in &mut cdf {
        *c /= acc;
    }
    cdf
}

/// A rank in `0..n` with P(x) ∝ 1/(x+1), from the continuous inverse.
fn power_law(rng: &mut Rng, n: u64) -> u64 {
    let x = (n as f64 + 1.0).powf(rng.next_f64()) - 1.0;
    (x as u64).min(n - 1)
}

/// Writes `chunks` pieces made in parallel by `make(i)`, in order.
fn write_chunks(
    path: &Path,
    chunks: usize,
    make: impl Fn(usize) -> String + Sync,
) -> io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut bytes = 0;
    let batch = 64;
    for first in (0..chunks).step_by(batch) {
        let parts: Vec<String> = (first..(first + batch).min(chunks))
            .into_par_iter()
            .map(&make)
            .collect();
        for p in parts {
            bytes += p.len() as u64;
            out.write_all(p.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(bytes)
}

fn scaled(base: f64, scale: f64, min: u64) -> u64 {
    ((base * scale).round() as u64).max(min)
}

/// Writes the five input files into `out`; returns `(file, bytes)` pairs.
pub fn generate(out: &Path, scale: f64, seed: u64) -> io::Result<Vec<(String, u64)>> {
    fs::create_dir_all(out)?;
    let mut written = Vec::new();

    // words.txt
    let vocab: Vec<String> = (0..VOCABULARY).map(word).collect();
    let cdf = zipf_cdf(VOCABULARY);
    let text_bytes = scaled(110e6, scale, 1000);
    let chunks = text_bytes.div_ceil(1 << 20) as usize;
    let per_chunk = text_bytes as usize / chunks;
    let n = write_chunks(&out.join("words.txt"), chunks, |c| {
        let mut rng = Rng::new(seed, 1, c as u64);
        let mut s = String::with_capacity(per_chunk + 256);
        while s.len() < per_chunk {
            let words = 5 + rng.below(16);
            for i in 0..words {
                if i > 0 {
                    s.push(' ');
                }
                let u = rng.next_f64();
                let r = cdf.partition_point(|&p| p < u).min(VOCABULARY - 1);
                s.push_str(&vocab[r]);
            }
            s.push('\n');
        }
        s
    })?;
    written.push(("words.txt".to_string(), n));

    // kv.csv
    let rows = scaled(10e6, scale, 10);
    let keys = scaled(1e6, scale, 1);
    let per = 100_000u64;
    let n = write_chunks(&out.join("kv.csv"), rows.div_ceil(per) as usize, |c| {
        let mut rng = Rng::new(seed, 2, c as u64);
        let mut s = String::new();
        for _ in (c as u64 * per)..((c as u64 + 1) * per).min(rows) {
            let _ = writeln!(s, "{},{}", rng.below(keys), rng.below(10_000));
        }
        s
    })?;
    written.push(("kv.csv".to_string(), n));

    // names.csv: 20% of keys have no name, 10% two.
    let n = write_chunks(&out.join("names.csv"), keys.div_ceil(per) as usize, |c| {
        let mut rng = Rng::new(seed, 3, c as u64);
        let mut s = String::new();
        for k in (c as u64 * per)..((c as u64 + 1) * per).min(keys) {
            let copies = match rng.below(10) {
                0 | 1 => 0,
                2 => 2,
                _ => 1,
            };
            for _ in 0..copies {
                let _ = writeln!(
                    s,
                    "{k},{}_{:04x}",
                    vocab[rng.below(1000) as usize],
                    rng.below(1 << 16)
                );
            }
        }
        s
    })?;
    written.push(("names.csv".to_string(), n));

    // edges.txt: power-law sources and destinations (destinations scattered
    // over the ids by a multiplicative bijection).
    let nodes = scaled(500e3, scale, 16);
    let edges = scaled(5e6, scale, 16);
    let n = write_chunks(&out.join("edges.txt"), edges.div_ceil(per) as usize, |c| {
        let mut rng = Rng::new(seed, 4, c as u64);
        let mut s = String::new();
        for _ in (c as u64 * per)..((c as u64 + 1) * per).min(edges) {
            let src = power_law(&mut rng, nodes);
            let dst =
                (u128::from(power_law(&mut rng, nodes)) * 2_654_435_761 % u128::from(nodes)) as u64;
            let _ = writeln!(s, "{src} {dst}");
        }
        s
    })?;
    written.push(("edges.txt".to_string(), n));

    // points.csv: Gaussian clusters around centres in [-50, 50]^d.
    let points = scaled(1e6, scale, 16);
    let mut crng = Rng::new(seed, 5, 0);
    let centres: Vec<[f64; DIMS]> = (0..CLUSTERS)
        .map(|_| std::array::from_fn(|_| crng.next_f64() * 100.0 - 50.0))
        .collect();
    let n = write_chunks(
        &out.join("points.csv"),
        points.div_ceil(per) as usize,
        |c| {
            let mut rng = Rng::new(seed, 6, c as u64);
            let mut s = String::new();
            for _ in (c as u64 * per)..((c as u64 + 1) * per).min(points) {
                let centre = &centres[rng.below(CLUSTERS as u64) as usize];
                for (i, m) in centre.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    let _ = write!(s, "{:.6}", m + 6.0 * rng.gaussian());
                }
                s.push('\n');
            }
            s
        },
    )?;
    written.push(("points.csv".to_string(), n));
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_distinct_and_short_first() {
        let words: std::collections::HashSet<String> = (0..VOCABULARY).map(word).collect();
        assert_eq!(words.len(), VOCABULARY);
        assert_eq!(word(0).len(), 2);
        assert!(word(VOCABULARY - 1).len() <= 6);
    }
}
