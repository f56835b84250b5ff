//! Writing typed rows or record batches as Parquet part files.

use super::batch::Batch;
use super::encode::RowBatcher;
use super::options::ParquetWriteOptions;
use super::schema;
use crate::compress::{CompressedWrite, Compression};
use crate::file_sink::{FileSink, PartEncoder};
use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use barks_runtime::{BoxIter, Data, Dataset, Error, Output, Result};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::marker::PhantomData;
use std::sync::Arc;

/// Rows encoded into one Arrow batch before it is handed to the writer.
const BATCH_ROWS: usize = 8192;

/// Parquet as a [`PartEncoder`] of serde rows `T`.
struct RowEncoder<T> {
    options: ParquetWriteOptions,
    _row: PhantomData<fn(T)>,
}

/// Parquet as a [`PartEncoder`] of record batches.
pub(crate) struct BatchEncoder {
    pub(crate) options: ParquetWriteOptions,
}

/// A Parquet writer into `out` with the sink's options.
fn writer<'a>(
    options: &ParquetWriteOptions,
    out: &'a mut CompressedWrite,
    schema: SchemaRef,
) -> Result<ArrowWriter<&'a mut CompressedWrite>> {
    let props = WriterProperties::builder()
        .set_compression(options.compression.codec())
        .set_max_row_group_row_count(Some(options.row_group_size))
        .build();
    let path = out.path().to_string();
    ArrowWriter::try_new(out, schema, Some(props)).map_err(|e| Error::io(path, e))
}

/// Writes `batches` into `out` and closes the Parquet file.
fn write_batches(
    mut writer: ArrowWriter<&mut CompressedWrite>,
    path: &str,
    batches: impl Iterator<Item = Result<RecordBatch>>,
) -> Result<()> {
    for batch in batches {
        writer.write(&batch?).map_err(|e| Error::io(path, e))?;
    }
    writer.close().map_err(|e| Error::io(path, e))?;
    Ok(())
}

impl<T: Data> PartEncoder<T> for RowEncoder<T> {
    fn suffix(&self) -> &'static str {
        ".parquet"
    }

    fn write_part(&self, out: &mut CompressedWrite, mut records: BoxIter<T>) -> Result<()> {
        let path = out.path().to_string();
        let failed = |e: String| {
            Error::io(
                &path,
                format!(
                    "cannot encode rows of type `{}`: {e}",
                    std::any::type_name::<T>()
                ),
            )
        };
        let mut batcher = RowBatcher::new(schema::fields_of::<T>()?, BATCH_ROWS).map_err(failed)?;
        let writer = writer(&self.options, out, batcher.schema())?;
        let batches = std::iter::from_fn(|| {
            for row in records.by_ref() {
                if let Err(e) = batcher.push(&row) {
                    return Some(Err(failed(e)));
                }
                if batcher.len() == BATCH_ROWS {
                    break;
                }
            }
            (!batcher.is_empty()).then(|| batcher.take_batch().map_err(failed))
        });
        write_batches(writer, &path, batches)
    }
}

impl PartEncoder<Batch> for BatchEncoder {
    fn suffix(&self) -> &'static str {
        ".parquet"
    }

    fn write_part(&self, out: &mut CompressedWrite, records: BoxIter<Batch>) -> Result<()> {
        let path = out.path().to_string();
        let mut records = records.peekable();
        // An empty partition has no schema to write: it becomes a file
        // with no columns and no rows.
        let schema = match records.peek() {
            Some(first) => first.0.schema(),
            None => Arc::new(Schema::empty()),
        };
        let writer = writer(&self.options, out, schema.clone())?;
        let batches = records.map(|b| {
            if b.0.schema() == schema {
                Ok(b.0)
            } else {
                Err(Error::io(
                    &path,
                    format!(
                        "record batches of one partition must share a schema: {} differs from {}",
                        b.0.schema(),
                        schema
                    ),
                ))
            }
        });
        write_batches(writer, &path, batches)
    }
}

/// `dataset.save_as_parquet(dir, options)` and
/// `batches.save_batches_as_parquet(dir, options)`.
pub trait SaveAsParquet {
    /// Writes the rows (serde structs, their Arrow schema derived through
    /// serde_arrow) as Parquet, one `part-NNNNN.parquet` file per partition
    /// with the chosen compression and row-group size, committed with
    /// `_SUCCESS` when the whole job succeeds.
    fn save_as_parquet(&self, dir: impl AsRef<str>, options: ParquetWriteOptions) -> Output<()>;
}

impl<T: Data> SaveAsParquet for Dataset<T> {
    fn save_as_parquet(&self, dir: impl AsRef<str>, options: ParquetWriteOptions) -> Output<()> {
        let encoder = RowEncoder {
            options,
            _row: PhantomData,
        };
        self.write(FileSink::new(dir.as_ref(), encoder, Compression::None))
    }
}

/// `batches.save_batches_as_parquet(dir, options)`.
pub trait SaveBatchesAsParquet {
    /// Writes Arrow record batches as Parquet, one `part-NNNNN.parquet` file
    /// per partition (the batches of a partition share one schema),
    /// committed with `_SUCCESS` when the whole job succeeds.
    fn save_batches_as_parquet(
        &self,
        dir: impl AsRef<str>,
        options: ParquetWriteOptions,
    ) -> Output<()>;
}

impl SaveBatchesAsParquet for Dataset<Batch> {
    fn save_batches_as_parquet(
        &self,
        dir: impl AsRef<str>,
        options: ParquetWriteOptions,
    ) -> Output<()> {
        self.write(FileSink::new(
            dir.as_ref(),
            BatchEncoder { options },
            Compression::None,
        ))
    }
}
