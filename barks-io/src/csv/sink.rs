//! Writing typed rows as CSV part files.

use super::options::CsvWriteOptions;
use crate::compress::CompressedWrite;
use crate::file_sink::{FileSink, PartEncoder};
use barks_runtime::{BoxIter, Data, Dataset, Error, Output, Result};
use serde::Serialize;

/// CSV as a [`PartEncoder`].
struct CsvEncoder(CsvWriteOptions);

impl<T: Serialize> PartEncoder<T> for CsvEncoder {
    fn suffix(&self) -> &'static str {
        ".csv"
    }

    fn write_part(&self, out: &mut CompressedWrite, records: BoxIter<T>) -> Result<()> {
        let path = out.path().to_string();
        let mut writer = csv::WriterBuilder::new()
            .has_headers(self.0.header)
            .delimiter(self.0.delimiter)
            .quote(self.0.quote)
            .from_writer(out);
        for (i, record) in records.enumerate() {
            writer.serialize(&record).map_err(|e| Error::Io {
                path: path.clone().into(),
                message: format!("cannot write record {} as CSV: {e}", i + 1),
            })?;
        }
        writer.flush().map_err(|e| Error::io(&path, e))
    }
}

/// `dataset.save_as_csv(dir, options)`.
pub trait SaveAsCsv {
    /// Writes the rows as CSV, one `part-NNNNN.csv` file per partition
    /// (`.csv.gz`/`.csv.zst` when compressed), with the struct's field names
    /// as a header line in every part file that has rows; committed with
    /// `_SUCCESS` when the whole job succeeds. Rows must be flat (structs of
    /// scalars, `Option`s, strings; tuples; sequences of those).
    fn save_as_csv(&self, dir: impl AsRef<str>, options: CsvWriteOptions) -> Output<()>;
}

impl<T: Data> SaveAsCsv for Dataset<T> {
    fn save_as_csv(&self, dir: impl AsRef<str>, options: CsvWriteOptions) -> Output<()> {
        let compression = options.compression;
        self.write(FileSink::new(
            dir.as_ref(),
            CsvEncoder(options),
            compression,
        ))
    }
}
