//! Writing typed rows as JSON lines part files.

use super::options::JsonWriteOptions;
use crate::compress::CompressedWrite;
use crate::file_sink::{FileSink, PartEncoder};
use barks_runtime::{BoxIter, Data, Dataset, Error, Output, Result};
use serde::Serialize;
use std::io::{BufWriter, Write};

/// JSON lines as a [`PartEncoder`].
struct JsonEncoder;

impl<T: Serialize> PartEncoder<T> for JsonEncoder {
    fn suffix(&self) -> &'static str {
        ".json"
    }

    fn write_part(&self, out: &mut CompressedWrite, records: BoxIter<T>) -> Result<()> {
        let path = out.path().to_string();
        let mut writer = BufWriter::with_capacity(1 << 16, out);
        for (i, record) in records.enumerate() {
            serde_json::to_writer(&mut writer, &record).map_err(|e| {
                Error::io(&path, format!("cannot write record {} as JSON: {e}", i + 1))
            })?;
            writer.write_all(b"\n").map_err(|e| Error::io(&path, e))?;
        }
        writer.flush().map_err(|e| Error::io(&path, e))
    }
}

/// `dataset.save_as_json(dir)`.
pub trait SaveAsJson {
    /// Writes the rows as JSON lines (one JSON value per line), one
    /// `part-NNNNN.json` file per partition, committed with `_SUCCESS` when
    /// the whole job succeeds.
    fn save_as_json(&self, dir: impl AsRef<str>) -> Output<()>;
    /// Like [`save_as_json`](SaveAsJson::save_as_json), with options
    /// (compression: `part-NNNNN.json.gz` / `.json.zst`).
    fn save_as_json_with(&self, dir: impl AsRef<str>, options: JsonWriteOptions) -> Output<()>;
}

impl<T: Data> SaveAsJson for Dataset<T> {
    fn save_as_json(&self, dir: impl AsRef<str>) -> Output<()> {
        self.save_as_json_with(dir, JsonWriteOptions::default())
    }

    fn save_as_json_with(&self, dir: impl AsRef<str>, options: JsonWriteOptions) -> Output<()> {
        self.write(FileSink::new(
            dir.as_ref(),
            JsonEncoder,
            options.compression,
        ))
    }
}
