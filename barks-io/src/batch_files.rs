//! Record batches into Parquet, CSV or JSON-lines part files, with Spark's
//! save modes: what a SQL query's `df.write()` uses.

use crate::commit::{PartFile, SaveMode};
use crate::compress::{CompressedWrite, Compression};
use crate::csv::CsvWriteOptions;
use crate::file_sink::{FileSink, PartEncoder};
use crate::json::JsonWriteOptions;
use crate::parquet::{Batch, BatchEncoder, ParquetWriteOptions};
use barks_runtime::{BoxIter, Error, Result, Sink};

/// A sink of batches as Parquet files `part-NNNNN.parquet` in `dir`.
pub fn parquet_batch_sink(
    dir: &str,
    options: ParquetWriteOptions,
    mode: SaveMode,
) -> impl Sink<Batch, TaskCommit = PartFile> + use<> {
    FileSink::with_mode(dir, mode, BatchEncoder { options }, Compression::None)
}

/// A sink of batches as CSV files `part-NNNNN.csv` in `dir` (a header line
/// per file when `options.header`; dates and times in ISO-8601).
pub fn csv_batch_sink(
    dir: &str,
    options: CsvWriteOptions,
    mode: SaveMode,
) -> impl Sink<Batch, TaskCommit = PartFile> + use<> {
    let compression = options.compression;
    FileSink::with_mode(dir, mode, CsvBatches(options), compression)
}

/// A sink of batches as JSON-lines files `part-NNNNN.json` in `dir`: one
/// object per row, null fields left out (as Spark writes them).
pub fn json_batch_sink(
    dir: &str,
    options: JsonWriteOptions,
    mode: SaveMode,
) -> impl Sink<Batch, TaskCommit = PartFile> + use<> {
    FileSink::with_mode(dir, mode, JsonBatches, options.compression)
}

struct CsvBatches(CsvWriteOptions);

impl PartEncoder<Batch> for CsvBatches {
    fn suffix(&self) -> &'static str {
        ".csv"
    }

    fn write_part(&self, out: &mut CompressedWrite, batches: BoxIter<Batch>) -> Result<()> {
        let path = out.path().to_string();
        let mut writer = arrow_csv::WriterBuilder::new()
            .with_header(self.0.header)
            .with_delimiter(self.0.delimiter)
            .with_quote(self.0.quote)
            .build(out);
        for batch in batches {
            writer.write(&batch.0).map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }
}

struct JsonBatches;

impl PartEncoder<Batch> for JsonBatches {
    fn suffix(&self) -> &'static str {
        ".json"
    }

    fn write_part(&self, out: &mut CompressedWrite, batches: BoxIter<Batch>) -> Result<()> {
        let path = out.path().to_string();
        let mut writer = arrow_json::LineDelimitedWriter::new(out);
        for batch in batches {
            writer.write(&batch.0).map_err(|e| Error::io(&path, e))?;
        }
        writer.finish().map_err(|e| Error::io(&path, e))
    }
}
