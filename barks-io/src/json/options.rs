//! How JSON lines files are read and written.

use crate::bad_records::BadRecordMode;
use crate::compress::Compression;
use serde::{Deserialize, Serialize};

/// Options of [`json_file`](crate::json_file). Plain data, so a job may take
/// them as an argument.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonOptions {
    /// The codec of the files; `None` (the default) picks it from each
    /// file's extension (`.gz`, `.zst`).
    pub compression: Option<Compression>,
    /// At least this many partitions (default: the default parallelism).
    pub min_partitions: Option<usize>,
    /// What to do with a line that does not parse (default: fail fast).
    pub mode: BadRecordMode,
}

impl JsonOptions {
    /// The defaults: codec by extension, fail fast.
    pub fn new() -> Self {
        Self::default()
    }
    /// The codec, instead of the one the file names imply.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = Some(compression);
        self
    }
    /// At least this many partitions.
    pub fn min_partitions(mut self, partitions: usize) -> Self {
        self.min_partitions = Some(partitions);
        self
    }
    /// What to do with a line that does not parse.
    pub fn mode(mut self, mode: BadRecordMode) -> Self {
        self.mode = mode;
        self
    }
}

/// Options of [`save_as_json_with`](crate::SaveAsJson::save_as_json_with).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonWriteOptions {
    /// Compress the part files (adds `.gz` / `.zst` to their names).
    pub compression: Compression,
}

impl JsonWriteOptions {
    /// Uncompressed.
    pub fn new() -> Self {
        Self::default()
    }
    /// Compress the part files.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }
}
