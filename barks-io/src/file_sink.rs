//! One [`Sink`] for every file format: each partition is encoded into a
//! `part-NNNNN<suffix>` file (compressed if asked) through the shared
//! [`FileCommitter`], so output appears, with `_SUCCESS`, only when every
//! partition succeeded, on local paths and `s3://` alike.

use crate::commit::{FileCommitter, PartFile, SaveMode};
use crate::compress::{CompressedWrite, Compression};
use barks_runtime::{BoxIter, ErrorSink, Result, Sink};

/// How one file format writes a partition's records.
pub(crate) trait PartEncoder<T>: Send + Sync + 'static {
    /// The part files' extension before any compression one (`.csv`).
    fn suffix(&self) -> &'static str;
    /// Writes `records` into `out`; errors name `out.path()`.
    fn write_part(&self, out: &mut CompressedWrite, records: BoxIter<T>) -> Result<()>;
}

/// Files of format `E` in one output directory.
pub(crate) struct FileSink<E> {
    committer: Result<FileCommitter>,
    encoder: E,
    compression: Compression,
}

impl<E> FileSink<E> {
    pub fn new(dir: &str, encoder: E, compression: Compression) -> Self {
        Self::with_mode(dir, SaveMode::ErrorIfExists, encoder, compression)
    }

    pub fn with_mode(dir: &str, mode: SaveMode, encoder: E, compression: Compression) -> Self {
        FileSink {
            committer: FileCommitter::with_mode(dir, mode),
            encoder,
            compression,
        }
    }

    fn committer(&self) -> Result<&FileCommitter> {
        self.committer.as_ref().map_err(Clone::clone)
    }
}

impl<T: 'static, E: PartEncoder<T>> Sink<T> for FileSink<E> {
    type TaskCommit = PartFile;

    fn prepare(&self) -> Result<()> {
        self.committer()?.prepare()
    }

    fn write(
        &self,
        partition: usize,
        attempt: u32,
        records: BoxIter<T>,
        _: ErrorSink,
    ) -> Result<PartFile> {
        let committer = self.committer()?;
        let suffix = format!("{}{}", self.encoder.suffix(), self.compression.extension());
        let (out, part) = committer.create_part(partition, attempt, &suffix)?;
        let name = crate::storage::join(committer.dir(), &part.name);
        let mut out = self.compression.writer(&name, out)?;
        self.encoder.write_part(&mut out, records)?;
        out.finish()?;
        Ok(part)
    }

    fn commit(&self, parts: Vec<PartFile>) -> Result<()> {
        self.committer()?.commit(parts)
    }

    fn abort(&self) {
        if let Ok(c) = self.committer() {
            c.abort();
        }
    }
}
