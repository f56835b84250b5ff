//! gzip and zstd for text, CSV and JSON lines files.
//!
//! On read the codec comes from the file name (`.gz`, `.zst`) unless an
//! option names one; on write it is an option and adds its extension to the
//! part files. A compressed file cannot be cut into byte ranges (a
//! decompressor must start at the beginning of the stream), so it is always
//! read as one partition: split big inputs into several compressed files to
//! read them in parallel. Concatenated gzip members and zstd frames are read
//! as one stream, as `zcat` does.

use crate::storage::ObjectWrite;
use barks_runtime::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// A compression codec for line-oriented files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Compression {
    /// Plain bytes.
    #[default]
    None,
    /// gzip (`.gz`).
    Gzip,
    /// Zstandard (`.zst`).
    Zstd,
}

impl Compression {
    /// The codec a file name implies: `.gz` is gzip, `.zst` is zstd, anything
    /// else is plain.
    pub fn from_path(path: &str) -> Compression {
        if path.ends_with(".gz") {
            Compression::Gzip
        } else if path.ends_with(".zst") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The file name extension this codec adds (`""`, `".gz"`, `".zst"`).
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }

    /// Whether a file with this codec can be read in byte ranges.
    pub fn splittable(self) -> bool {
        self == Compression::None
    }

    /// The decompressed bytes of `input` (a file named `path`, for errors).
    pub fn reader(self, path: &str, input: Box<dyn Read + Send>) -> Result<Box<dyn Read + Send>> {
        Ok(match self {
            Compression::None => input,
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::new(input)
                    .map_err(|e| Error::io(path, format!("cannot start zstd decoding: {e}")))?,
            ),
        })
    }

    /// Compresses what is written into `out` (the file at `path`).
    pub fn writer(self, path: &str, out: Box<dyn ObjectWrite>) -> Result<CompressedWrite> {
        let inner = match self {
            Compression::None => Encoder::Plain(out),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::default(),
            )),
            Compression::Zstd => Encoder::Zstd(
                zstd::stream::write::Encoder::new(out, zstd::DEFAULT_COMPRESSION_LEVEL)
                    .map_err(|e| Error::io(path, format!("cannot start zstd encoding: {e}")))?,
            ),
        };
        Ok(CompressedWrite {
            inner,
            path: path.to_string(),
        })
    }
}

enum Encoder {
    Plain(Box<dyn ObjectWrite>),
    Gzip(flate2::write::GzEncoder<Box<dyn ObjectWrite>>),
    Zstd(zstd::stream::write::Encoder<'static, Box<dyn ObjectWrite>>),
}

/// A file being written through a compressor. Like [`ObjectWrite`], nothing
/// is published until [`CompressedWrite::finish`] succeeds.
pub struct CompressedWrite {
    inner: Encoder,
    path: String,
}

impl CompressedWrite {
    /// Ends the compressed stream and publishes the file.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        let out = match self.inner {
            Encoder::Plain(out) => out,
            Encoder::Gzip(e) => e.finish().map_err(|e| Error::io(&path, e))?,
            Encoder::Zstd(e) => e.finish().map_err(|e| Error::io(&path, e))?,
        };
        out.finish()
    }

    /// The path of the file, for errors.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl Write for CompressedWrite {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.inner {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(w) => w.write(buf),
            Encoder::Zstd(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.inner {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Zstd(w) => w.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_follows_the_extension() {
        assert_eq!(Compression::from_path("a/b.csv.gz"), Compression::Gzip);
        assert_eq!(
            Compression::from_path("s3://b/k.json.zst"),
            Compression::Zstd
        );
        assert_eq!(Compression::from_path("x.csv"), Compression::None);
        assert!(!Compression::Gzip.splittable());
    }
}
