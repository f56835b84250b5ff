//! The input side shared by line-oriented formats (CSV, JSON lines): list
//! the files of a path on its storage, cut them into line-aligned byte
//! ranges (whole files when compressed, or when records may span lines),
//! and open one range as a stream of decompressed bytes.

use crate::backend::storage_for;
use crate::compress::Compression;
use crate::split::{MAX_SPLIT, Split, SplitLines, lines_before, plan_splits};
use crate::storage::Storage;
use barks_runtime::{ErrorSink, Result, default_parallelism};
use std::io::Read;
use std::sync::Arc;

/// The partitions of a line-oriented input.
pub(crate) struct LineInput {
    storage: Arc<dyn Storage>,
    splits: Vec<Split>,
    compression: Option<Compression>,
}

impl LineInput {
    /// Lists `path` and cuts it into at least `min_partitions` ranges.
    /// `compression` overrides the codec the file names imply; `whole_files`
    /// keeps every file in one range.
    pub fn new(
        path: &str,
        min_partitions: usize,
        compression: Option<Compression>,
        whole_files: bool,
    ) -> Result<Self> {
        let storage = storage_for(path)?;
        let files = storage.list(path)?;
        let codec = |file: &str| compression.unwrap_or_else(|| Compression::from_path(file));
        let splits = plan_splits(
            files,
            min_partitions,
            default_parallelism(),
            MAX_SPLIT,
            |f| !whole_files && codec(&f.path).splittable(),
        );
        Ok(LineInput {
            storage,
            splits,
            compression,
        })
    }

    pub fn num_partitions(&self) -> usize {
        self.splits.len()
    }

    /// The decompressed bytes of `file` from its start (e.g. to read the
    /// header line of a file whose later range a task reads).
    pub fn open_file(&self, file: &str) -> Result<Box<dyn Read + Send>> {
        let raw = self.storage.open_from(file, 0)?;
        self.codec(file).reader(file, raw)
    }

    fn codec(&self, file: &str) -> Compression {
        self.compression
            .unwrap_or_else(|| Compression::from_path(file))
    }

    /// Opens one partition: its decompressed bytes, starting at a line start.
    pub fn open(&self, partition: usize, errors: ErrorSink) -> Result<OpenSplit> {
        let split = &self.splits[partition];
        let file = split.file.clone();
        let codec = self.codec(&file);
        let (reader, first_line): (Box<dyn Read + Send>, u64) = if codec.splittable() {
            let lines = SplitLines::open(self.storage.as_ref(), split)?;
            let first = lines.position();
            (Box::new(lines), first)
        } else {
            let raw = self.storage.open_from(&file, 0)?;
            (codec.reader(&file, raw)?, 0)
        };
        Ok(OpenSplit {
            reader,
            lines: LineNumbers {
                storage: self.storage.clone(),
                file,
                offset: first_line,
                base: None,
                errors,
            },
        })
    }
}

/// One opened partition.
pub(crate) struct OpenSplit {
    pub reader: Box<dyn Read + Send>,
    pub lines: LineNumbers,
}

/// Turns line numbers within a range into line numbers within its file,
/// counting the lines before the range only when first asked (bad records
/// are rare; counting costs a read of the file's head).
pub(crate) struct LineNumbers {
    storage: Arc<dyn Storage>,
    file: Arc<str>,
    /// The file offset where the range's first line starts.
    offset: u64,
    base: Option<u64>,
    errors: ErrorSink,
}

impl LineNumbers {
    /// The file the range belongs to.
    pub fn file(&self) -> &Arc<str> {
        &self.file
    }

    /// Whether the range starts at the beginning of its file.
    pub fn is_file_start(&self) -> bool {
        self.offset == 0
    }

    /// The 1-based file line number of the range's `line`th line (1-based).
    pub fn absolute(&mut self, line: u64) -> u64 {
        let base = *self.base.get_or_insert_with(|| {
            if self.offset == 0 {
                return 0;
            }
            lines_before(self.storage.as_ref(), &self.file, self.offset).unwrap_or_else(|e| {
                self.errors.fail(e);
                0
            })
        });
        base + line
    }
}
