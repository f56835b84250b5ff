//! Reading Parquet files: one partition per byte range of a file, holding
//! the row groups whose middle byte falls in it. The ranges are planned
//! from the file sizes alone ([`plan_splits`]; the tasks read the footers,
//! as in Spark); rows are decoded as they are asked for (see
//! [`super::decode`]).

use super::batch::Batch;
use super::chunk_reader::StorageFile;
use super::decode::TypedRows;
use super::from_arrow::{ArrowRows, FromArrow};
use super::options::ParquetOptions;
use super::schema;
use crate::backend::storage_for;
use crate::split::{Split, plan_splits};
use crate::storage::Storage;
use arrow_array::RecordBatch;
use arrow_schema::{FieldRef, Schema};
use barks_runtime::{
    BoxIter, Dataset, Error, ErrorSink, Result, Source, default_parallelism, from_source,
};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::file::metadata::RowGroupMetaData;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::Arc;

/// How a Parquet source turns record batches into its elements.
trait BatchRows: Send + Sync + 'static {
    type Row: Send + 'static;
    /// The columns to read when the options name none (`None`: all).
    fn default_columns(&self, file: &Schema) -> Result<Option<Vec<String>>>;
    /// The message of an error met decoding a batch.
    fn describe(&self, error: String) -> String;
    /// Checks the file's schema before reading.
    fn check(&self, path: &str, file: &Schema) -> Result<()>;
    /// The elements of one batch, each decoded when it is asked for.
    type Rows: Iterator<Item = Self::Row> + Send;
    /// The elements of one batch, or why they cannot be decoded.
    fn rows(&self, batch: RecordBatch) -> Result<Self::Rows, String>;
    /// Why `rows` ended early, if it did.
    fn error(rows: &mut Self::Rows) -> Option<String>;
}

/// Rows of a serde type.
struct Typed<T> {
    /// The row type's Arrow fields, or why they cannot be derived.
    fields: Result<Vec<FieldRef>>,
    _row: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send + 'static> BatchRows for Typed<T> {
    type Row = T;
    type Rows = TypedRows<T>;

    fn default_columns(&self, file: &Schema) -> Result<Option<Vec<String>>> {
        let fields = self.fields.as_ref().map_err(Clone::clone)?;
        Ok(Some(
            fields
                .iter()
                .map(|f| f.name().clone())
                .filter(|name| file.field_with_name(name).is_ok())
                .collect(),
        ))
    }

    fn check(&self, path: &str, file: &Schema) -> Result<()> {
        let fields = self.fields.as_ref().map_err(Clone::clone)?;
        schema::check::<T>(path, file, fields)
    }

    fn rows(&self, batch: RecordBatch) -> Result<TypedRows<T>, String> {
        TypedRows::new(&batch)
    }

    fn error(rows: &mut TypedRows<T>) -> Option<String> {
        rows.take_error()
    }

    fn describe(&self, error: String) -> String {
        format!(
            "cannot decode rows of type `{}`: {error}",
            std::any::type_name::<T>()
        )
    }
}

/// Rows of a `#[derive(FromArrow)]` type.
struct Derived<T>(PhantomData<fn() -> T>);

impl<T: FromArrow + Send + 'static> BatchRows for Derived<T> {
    type Row = T;
    type Rows = ArrowRows<T>;

    fn default_columns(&self, file: &Schema) -> Result<Option<Vec<String>>> {
        Ok(Some(
            T::COLUMNS
                .iter()
                .filter(|name| file.field_with_name(name).is_ok())
                .map(|name| name.to_string())
                .collect(),
        ))
    }

    /// Decodes an empty batch of the file's schema, which checks that every
    /// field has a column of a type it reads.
    fn check(&self, path: &str, file: &Schema) -> Result<()> {
        T::columns(&RecordBatch::new_empty(Arc::new(file.clone())))
            .map(|_| ())
            .map_err(|message| Error::Input {
                location: path.to_string(),
                message: self.describe(message),
            })
    }

    fn rows(&self, batch: RecordBatch) -> Result<ArrowRows<T>, String> {
        ArrowRows::new(&batch)
    }

    fn error(_: &mut ArrowRows<T>) -> Option<String> {
        None
    }

    fn describe(&self, error: String) -> String {
        format!(
            "cannot read rows of type `{}`: {error}",
            std::any::type_name::<T>()
        )
    }
}

/// Raw record batches.
struct Batches;

impl BatchRows for Batches {
    type Row = Batch;
    type Rows = std::iter::Once<Batch>;

    fn default_columns(&self, _: &Schema) -> Result<Option<Vec<String>>> {
        Ok(None)
    }

    fn check(&self, _: &str, _: &Schema) -> Result<()> {
        Ok(())
    }

    fn rows(&self, batch: RecordBatch) -> Result<Self::Rows, String> {
        Ok(std::iter::once(Batch(batch)))
    }

    fn error(_: &mut Self::Rows) -> Option<String> {
        None
    }

    fn describe(&self, error: String) -> String {
        error
    }
}

/// The Parquet files of a path, read as elements of `R::Row`.
struct ParquetSource<R> {
    /// The storage and the planned ranges, or the error listing met
    /// (reported when the job runs, naming the path).
    input: Result<(Arc<dyn Storage>, Vec<Split>)>,
    options: ParquetOptions,
    rows: Arc<R>,
}

impl<R: BatchRows> ParquetSource<R> {
    fn new(path: &str, options: ParquetOptions, rows: R) -> Self {
        let min_partitions = options.min_partitions.unwrap_or_else(default_parallelism);
        let input = storage_for(path).and_then(|storage| {
            let files = storage.list(path)?;
            let splits = plan_splits(
                files,
                min_partitions,
                default_parallelism(),
                options.max_partition_bytes,
                |_| true,
            );
            Ok((storage, splits))
        });
        ParquetSource {
            input,
            options,
            rows: Arc::new(rows),
        }
    }
}

/// The byte range a row group occupies.
fn middle_byte(group: &RowGroupMetaData) -> u64 {
    let ranges = group.columns().iter().map(|c| c.byte_range());
    let start = ranges.clone().map(|(s, _)| s).min().unwrap_or(0);
    let end = ranges.map(|(s, len)| s + len).max().unwrap_or(0);
    start + (end - start) / 2
}

impl<R: BatchRows> Source for ParquetSource<R> {
    type Item = R::Row;

    fn num_partitions(&self) -> usize {
        match &self.input {
            Ok((_, splits)) => splits.len(),
            Err(_) => 1,
        }
    }

    fn read(&self, partition: usize, errors: ErrorSink) -> Result<BoxIter<R::Row>> {
        let (storage, splits) = self.input.as_ref().map_err(Clone::clone)?;
        let split = &splits[partition];
        let path = split.file.clone();
        let unreadable = |e: parquet::errors::ParquetError| Error::Input {
            location: path.to_string(),
            message: format!("not a readable Parquet file: {e}"),
        };
        let file = StorageFile {
            storage: storage.clone(),
            path: path.clone(),
            size: split.file_size,
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(unreadable)?;
        let groups: Vec<usize> = builder
            .metadata()
            .row_groups()
            .iter()
            .enumerate()
            .filter(|(_, g)| (split.start..split.end).contains(&middle_byte(g)))
            .filter(|(_, g)| {
                self.options
                    .predicate
                    .as_ref()
                    .is_none_or(|p| p.may_match(g))
            })
            .map(|(i, _)| i)
            .collect();
        if groups.is_empty() {
            return Ok(BoxIter::empty());
        }
        let file_schema = builder.schema().clone();
        self.rows.check(&path, &file_schema)?;
        let columns = match &self.options.columns {
            Some(columns) => Some(columns.clone()),
            None => self.rows.default_columns(&file_schema)?,
        };
        let mut builder = builder
            .with_row_groups(groups)
            .with_batch_size(self.options.batch_rows);
        if let Some(columns) = columns {
            let roots = columns
                .iter()
                .map(|name| {
                    file_schema.index_of(name).map_err(|_| Error::Input {
                        location: path.to_string(),
                        message: format!("no column `{name}` to read"),
                    })
                })
                .collect::<Result<Vec<usize>>>()?;
            let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
            builder = builder.with_projection(mask);
        }
        let reader = builder.build().map_err(unreadable)?;
        Ok(BoxIter::new(Rows {
            reader,
            rows: self.rows.clone(),
            current: None,
            path,
            errors,
        }))
    }
}

/// The elements of a partition, decoded batch by batch.
struct Rows<R: BatchRows> {
    reader: ParquetRecordBatchReader,
    rows: Arc<R>,
    /// The rest of the batch being decoded.
    current: Option<R::Rows>,
    path: Arc<str>,
    errors: ErrorSink,
}

impl<R: BatchRows> Iterator for Rows<R> {
    type Item = R::Row;

    fn next(&mut self) -> Option<R::Row> {
        loop {
            let decoded = match self.current.as_mut() {
                Some(rows) => match rows.next() {
                    Some(row) => return Some(row),
                    None => R::error(rows).map(|e| Err(self.rows.describe(e))),
                },
                None => None,
            };
            let decoded = match decoded {
                Some(failed) => failed,
                None => match self.reader.next()? {
                    Ok(batch) => self.rows.rows(batch).map_err(|e| self.rows.describe(e)),
                    Err(e) => Err(format!("cannot read: {e}")),
                },
            };
            match decoded {
                Ok(rows) => self.current = Some(rows),
                Err(message) => {
                    self.current = None;
                    self.errors.fail(Error::Input {
                        location: self.path.to_string(),
                        message,
                    });
                    return None;
                }
            }
        }
    }
}

/// The rows of the Parquet files at `path` (a file, a directory, a glob;
/// local or `s3://`) as `T`s, a serde struct matched to the columns by name
/// through serde_arrow. Only the columns `T` has are read (or
/// [`ParquetOptions::columns`]); a column the file lacks is `None` for an
/// `Option` field and an error otherwise; a column whose type cannot decode
/// into the field is an error naming the column and both types.
///
/// A partition reads one row group or a group of consecutive ones (at most
/// [`ParquetOptions::max_partition_bytes`] of a file); row groups that
/// [`ParquetOptions::predicate`] rules out by their statistics are skipped.
pub fn parquet_file<T>(path: impl AsRef<str>, options: ParquetOptions) -> Dataset<T>
where
    T: DeserializeOwned + Send + 'static,
{
    let rows = Typed::<T> {
        fields: schema::fields_of::<T>(),
        _row: PhantomData,
    };
    from_source(ParquetSource::new(path.as_ref(), options, rows))
}

/// The rows of the Parquet files at `path` as `T`s, a struct that derives
/// [`FromArrow`](super::FromArrow): each field is read from the column of
/// its name by position, without serde, which takes about 13% less time
/// than [`parquet_file`]'s scan (BENCHMARKS.md, `parquet_bench`).
/// Only the fields' columns are read; a column the file lacks is `None`
/// for an `Option` field and an error otherwise, as is a column of a type
/// the field cannot read, or a null in a field that is not an `Option`.
/// Partitions, pruning and options are [`parquet_file`]'s.
pub fn parquet_rows<T>(path: impl AsRef<str>, options: ParquetOptions) -> Dataset<T>
where
    T: FromArrow + Send + 'static,
{
    from_source(ParquetSource::new(
        path.as_ref(),
        options,
        Derived::<T>(PhantomData),
    ))
}

/// The Parquet files at `path` as Arrow record batches of at most
/// [`ParquetOptions::batch_rows`] rows, partitioned and pruned as
/// [`parquet_file`] does; every column unless [`ParquetOptions::columns`]
/// names some.
pub fn parquet_batches(path: impl AsRef<str>, options: ParquetOptions) -> Dataset<Batch> {
    from_source(ParquetSource::new(path.as_ref(), options, Batches))
}
