//! A spill file: encoded segments on local disk (a map output's blocks, an
//! operator's sorted run or partial aggregates).
//!
//! The layout follows Spark's sort shuffle: the segments back to back, each
//! compressed with LZ4, and an index of where each starts, so that reading a
//! segment is one positioned read. The index (offsets plus a 64-bit checksum
//! of each stored segment) is small and stays in memory; the file holds only
//! data. A segment that comes back short (a truncated file) or with another
//! checksum (a corrupted one) is an error naming the file; a reducer turns
//! it into a fetch failure, so the map output is recomputed.

use crate::error::{Error, Result};
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Segments written to disk; the file is deleted when this is dropped.
#[derive(Debug)]
pub(crate) struct SpillFile {
    path: PathBuf,
    /// Where segment `i` starts; `offsets[i + 1]` is where it ends.
    offsets: Vec<u64>,
    checksums: Vec<u64>,
}

impl SpillFile {
    /// Writes `segments`, compressed, to a new file at `path`. On failure (a
    /// full disk, an unwritable directory) nothing is left behind and the
    /// error names the file.
    pub fn write(path: PathBuf, segments: &[Vec<u8>]) -> Result<SpillFile> {
        let file = File::create_new(&path)
            .map_err(|e| Error::io(&path, format!("cannot create a spill file: {e}")))?;
        let written = write_segments(file, &path, segments);
        if written.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        let (offsets, checksums) = written?;
        Ok(SpillFile {
            path,
            offsets,
            checksums,
        })
    }

    /// The bytes of segment `segment`, decompressed.
    pub fn read(&self, segment: usize) -> Result<Vec<u8>> {
        let bad = |why: String| Error::io(&self.path, why);
        let (Some(&start), Some(&end)) = (self.offsets.get(segment), self.offsets.get(segment + 1))
        else {
            return Err(bad(format!(
                "a spill file of {} segment(s) has no segment {segment}",
                self.checksums.len()
            )));
        };
        let mut file =
            File::open(&self.path).map_err(|e| bad(format!("cannot open a spill file: {e}")))?;
        let mut bytes = vec![0; (end - start) as usize];
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => bad(format!(
                    "spill file is truncated: segment {segment} needs bytes {start}..{end}"
                )),
                _ => bad(format!(
                    "cannot read segment {segment} of a spill file: {e}"
                )),
            })?;
        if checksum(&bytes) != self.checksums[segment] {
            return Err(bad(format!(
                "spill file is corrupt: segment {segment} (bytes {start}..{end}) does not match its checksum"
            )));
        }
        // The checksum matched: these are the bytes barks wrote, the only
        // ones the decompressor (built without bounds checks, as arrow
        // builds it) ever sees.
        lz4_flex::block::decompress_size_prepended(&bytes).map_err(|e| {
            bad(format!(
                "spill file is corrupt: segment {segment} does not decompress: {e}"
            ))
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many segments the file holds.
    pub fn segments(&self) -> usize {
        self.checksums.len()
    }

    /// The file's size in bytes (compressed).
    pub fn len(&self) -> u64 {
        self.offsets.last().copied().unwrap_or(0)
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            log::warn!("cannot remove spill file {}: {e}", self.path.display());
        }
    }
}

/// Writes the segments, compressed, back to back into `file`; returns the
/// index.
fn write_segments(file: File, path: &Path, segments: &[Vec<u8>]) -> Result<(Vec<u64>, Vec<u64>)> {
    let failed = |e: std::io::Error| Error::io(path, format!("cannot write a spill file: {e}"));
    let mut out = BufWriter::new(file);
    let mut offsets = Vec::with_capacity(segments.len() + 1);
    let mut checksums = Vec::with_capacity(segments.len());
    let mut at = 0u64;
    offsets.push(at);
    for segment in segments {
        let stored = lz4_flex::block::compress_prepend_size(segment);
        out.write_all(&stored).map_err(failed)?;
        at += stored.len() as u64;
        offsets.push(at);
        checksums.push(checksum(&stored));
    }
    // No fsync: a spill file lives only as long as this process.
    out.into_inner().map_err(|e| failed(e.into_error()))?;
    Ok((offsets, checksums))
}

/// A fixed-seed 64-bit hash of a segment: catches a corrupted file (it is
/// not meant to resist someone who can write the worker's disk).
fn checksum(bytes: &[u8]) -> u64 {
    foldhash::quality::FixedState::with_seed(0x5B11_1F11_E5EC_5EED).hash_one(bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A directory of its own under the system temp dir, removed on drop.
    pub(crate) struct Scratch(pub PathBuf);

    impl Scratch {
        pub fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "barks-test-{name}-{}-{:x}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn segments() -> Vec<Vec<u8>> {
        vec![
            b"first".to_vec(),
            Vec::new(),
            "ünïcödé ✓".as_bytes().to_vec(),
            (0..=255).cycle().take(100_000).collect(),
            vec![0],
        ]
    }

    #[test]
    fn segments_round_trip_in_any_order_and_the_file_goes_with_the_handle() {
        let dir = Scratch::new("spill-round-trip");
        let path = dir.0.join("out.data");
        let segments = segments();
        let file = SpillFile::write(path.clone(), &segments).unwrap();
        let total: usize = segments.iter().map(Vec::len).sum();
        assert!(file.len() < total as u64 / 4, "compressed: {}", file.len());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), file.len());
        for i in [3, 0, 4, 2, 1, 3] {
            assert_eq!(file.read(i).unwrap(), segments[i], "segment {i}");
        }
        let err = file.read(5).unwrap_err().to_string();
        assert!(err.contains("has no segment 5"), "{err}");
        drop(file);
        assert!(!path.exists(), "dropping the handle deletes the file");

        let empty = SpillFile::write(dir.0.join("empty.data"), &[]).unwrap();
        assert_eq!(empty.len(), 0);
        let err = empty.read(0).unwrap_err().to_string();
        assert!(err.contains("has no segment 0"), "{err}");
        assert!(empty.read(0).is_err());
    }

    #[test]
    fn a_truncated_or_corrupted_or_missing_file_is_an_error_naming_it() {
        let dir = Scratch::new("spill-damage");
        let path = dir.0.join("out.data");
        let segments = segments();
        let file = SpillFile::write(path.clone(), &segments).unwrap();
        let len = file.len();

        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 1)
            .unwrap();
        assert_eq!(
            file.read(0).unwrap(),
            segments[0],
            "intact segments still read"
        );
        let err = file.read(4).unwrap_err().to_string();
        assert!(
            err.contains(&path.display().to_string()) && err.contains("truncated"),
            "{err}"
        );

        let mut bytes = std::fs::read(&path).unwrap();
        bytes.push(0);
        std::fs::write(&path, &bytes).unwrap();
        bytes[6] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = file.read(0).unwrap_err().to_string();
        assert!(
            err.contains(&path.display().to_string()) && err.contains("checksum"),
            "{err}"
        );

        std::fs::remove_file(&path).unwrap();
        let err = file.read(0).unwrap_err().to_string();
        assert!(
            err.contains(&path.display().to_string()) && err.contains("cannot open"),
            "{err}"
        );
    }

    #[test]
    fn write_errors_name_the_file_and_leave_nothing_behind() {
        let dir = Scratch::new("spill-errors");
        // A directory that does not exist.
        let missing = dir.0.join("no-such-dir").join("out.data");
        let err = SpillFile::write(missing.clone(), &segments())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&missing.display().to_string()) && err.contains("cannot create"),
            "{err}"
        );
        // A file that exists already is never overwritten.
        let taken = dir.0.join("taken.data");
        std::fs::write(&taken, b"keep me").unwrap();
        assert!(SpillFile::write(taken.clone(), &segments()).is_err());
        assert_eq!(std::fs::read(&taken).unwrap(), b"keep me");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_is_an_error_naming_the_file() {
        // /dev/full fails every write with ENOSPC.
        let full = File::options().write(true).open("/dev/full").unwrap();
        let err = write_segments(full, Path::new("/dev/full"), &segments())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/dev/full") && err.contains("No space left on device"),
            "{err}"
        );
    }
}
