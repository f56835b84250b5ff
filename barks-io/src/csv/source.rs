//! Reading CSV files as typed rows.

use super::options::CsvOptions;
use crate::bad_records::{BadRecord, Permissive};
use crate::line_input::{LineInput, LineNumbers, OpenSplit};
use crate::line_source::{LineSource, RecordFormat};
use barks_runtime::{BoxIter, Dataset, Error, ErrorSink, Result, default_parallelism, from_source};
use csv::ByteRecord;
use serde::de::DeserializeOwned;
use std::io::Read;
use std::marker::PhantomData;
use std::sync::Arc;

/// CSV as a [`RecordFormat`] of rows of type `T`.
struct Csv<T> {
    options: Arc<CsvOptions>,
    _row: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send + 'static> RecordFormat for Csv<T> {
    type Row = T;

    fn records(
        &self,
        input: &LineInput,
        split: OpenSplit,
        errors: ErrorSink,
    ) -> Result<BoxIter<Result<T, BadRecord>>> {
        let OpenSplit { reader, lines } = split;
        let mut reader = self.options.reader_builder().from_reader(reader);
        let headers = if !self.options.header {
            None
        } else if lines.is_file_start() {
            first_record(&mut reader, lines.file())?
        } else {
            let head = input.open_file(lines.file())?;
            let mut head = self.options.reader_builder().from_reader(head);
            first_record(&mut head, lines.file())?
        };
        Ok(BoxIter::new(CsvRecords {
            reader,
            headers,
            record: ByteRecord::new(),
            lines,
            errors,
            options: self.options.clone(),
            _row: PhantomData,
        }))
    }
}

/// The first record of `reader` (the header line), without a UTF-8 byte
/// order mark.
fn first_record(
    reader: &mut csv::Reader<Box<dyn Read + Send>>,
    file: &str,
) -> Result<Option<ByteRecord>> {
    let mut header = ByteRecord::new();
    let found = reader
        .read_byte_record(&mut header)
        .map_err(|e| Error::io(file, format!("cannot read the CSV header: {e}")))?;
    if !found {
        return Ok(None);
    }
    strip_cr(&mut header);
    let fields: Vec<&[u8]> = header
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if i == 0 {
                f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
            } else {
                f
            }
        })
        .collect();
    Ok(Some(ByteRecord::from(fields)))
}

/// Cuts the `\r` of a CRLF line end off the record's last field.
fn strip_cr(record: &mut ByteRecord) {
    let n = record.len();
    if let Some(last) = record.get(n.wrapping_sub(1))
        && let Some(kept) = last.strip_suffix(b"\r")
    {
        let kept = kept.to_vec();
        record.truncate(n - 1);
        record.push_field(&kept);
    }
}

/// Whether a record is a blank line (what remains of `\r\n`).
fn is_blank(record: &ByteRecord) -> bool {
    record.len() == 1 && record[0].is_empty()
}

struct CsvRecords<T> {
    reader: csv::Reader<Box<dyn Read + Send>>,
    /// The header's column names, when the files have one.
    headers: Option<ByteRecord>,
    record: ByteRecord,
    lines: LineNumbers,
    errors: ErrorSink,
    options: Arc<CsvOptions>,
    _row: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> CsvRecords<T> {
    fn parse(&mut self) -> Result<T, String> {
        if let Some(headers) = &self.headers
            && headers.len() != self.record.len()
        {
            return Err(format!(
                "expected {} fields (as the header has), found {}",
                headers.len(),
                self.record.len()
            ));
        }
        let nulled;
        let record = match &self.options.null_value {
            Some(null) if self.record.iter().any(|f| f == null.as_bytes()) => {
                nulled = self
                    .record
                    .iter()
                    .map(|f| if f == null.as_bytes() { &b""[..] } else { f })
                    .collect::<ByteRecord>();
                &nulled
            }
            _ => &self.record,
        };
        record
            .deserialize(self.headers.as_ref())
            .map_err(|e| self.describe(e))
    }

    /// A deserialization error naming the field by position and, with a
    /// header, by name.
    fn describe(&self, err: csv::Error) -> String {
        let csv::ErrorKind::Deserialize { err, .. } = err.kind() else {
            return err.to_string();
        };
        let Some(index) = err.field() else {
            return err.kind().to_string();
        };
        let name = self
            .headers
            .as_ref()
            .and_then(|h| h.get(index as usize))
            .map(|n| format!(" (`{}`)", String::from_utf8_lossy(n)))
            .unwrap_or_default();
        let value = self
            .record
            .get(index as usize)
            .map(|v| format!(" in {:?}", String::from_utf8_lossy(v)))
            .unwrap_or_default();
        format!("field {}{name}{value}: {}", index + 1, err.kind())
    }

    /// The record's fields re-joined as one CSV line.
    fn raw(&self) -> String {
        let mut out = csv::WriterBuilder::new()
            .delimiter(self.options.delimiter)
            .quote(self.options.quote)
            .from_writer(Vec::new());
        let written = out.write_byte_record(&self.record).is_ok();
        match out.into_inner() {
            Ok(mut bytes) if written => {
                if bytes.last() == Some(&b'\n') {
                    bytes.pop();
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => String::from_utf8_lossy(self.record.as_slice()).into_owned(),
        }
    }
}

impl<T: DeserializeOwned> Iterator for CsvRecords<T> {
    type Item = Result<T, BadRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    let line = self.line();
                    let file = self.lines.file().to_string();
                    self.errors.fail(Error::Input {
                        location: format!("{file}: line {line}"),
                        message: e.to_string(),
                    });
                    return None;
                }
            }
            strip_cr(&mut self.record);
            if !is_blank(&self.record) {
                break;
            }
        }
        Some(self.parse().map_err(|error| BadRecord {
            file: self.lines.file().to_string(),
            line: self.line(),
            raw: self.raw(),
            error,
        }))
    }
}

impl<T> CsvRecords<T> {
    /// The file line number where the current record starts.
    fn line(&mut self) -> u64 {
        let line = self.record.position().map_or(1, |p| p.line());
        self.lines.absolute(line)
    }
}

fn source<T, O>(path: &str, options: CsvOptions, outcome: O) -> LineSource<Csv<T>, O>
where
    T: DeserializeOwned + Send + 'static,
    O: crate::bad_records::Outcome<T>,
{
    let min_partitions = options.min_partitions.unwrap_or_else(default_parallelism);
    let input = LineInput::new(
        path,
        min_partitions,
        options.compression,
        options.multi_line,
    );
    let format = Csv {
        options: Arc::new(options),
        _row: PhantomData,
    };
    LineSource::new(path, input, format, outcome)
}

/// The rows of the CSV files at `path` (a file, a directory, a glob; local
/// or `s3://`), deserialized into `T` with serde: by column name when the
/// files have a header, by position otherwise. `T` may be a struct, a tuple,
/// `Vec<String>` (raw fields) or `HashMap<String, String>`.
///
/// Uncompressed files are cut into line-aligned byte ranges (see
/// [`CsvOptions::multi_line`] for quoted newlines); compressed files are one
/// partition each. Rows that do not parse fail the job or are dropped, as
/// [`CsvOptions::mode`] says; [`csv_file_permissive`] keeps them.
///
/// ```no_run
/// # use barks_io::{csv_file, CsvOptions};
/// #[derive(serde::Deserialize, serde::Serialize, Clone)]
/// struct Trade { symbol: String, price: f64, qty: Option<u32> }
/// let trades: barks_runtime::Dataset<Trade> = csv_file("trades.csv", CsvOptions::new());
/// ```
pub fn csv_file<T>(path: impl AsRef<str>, options: CsvOptions) -> Dataset<T>
where
    T: DeserializeOwned + Send + 'static,
{
    let mode = options.mode;
    from_source(source(path.as_ref(), options, mode))
}

/// Like [`csv_file`], in Spark's PERMISSIVE mode: every row comes out, as
/// `Ok(row)` or as `Err(BadRecord)` holding its file, line, text and error
/// ([`CsvOptions::mode`] is not used).
pub fn csv_file_permissive<T>(
    path: impl AsRef<str>,
    options: CsvOptions,
) -> Dataset<Result<T, BadRecord>>
where
    T: DeserializeOwned + Send + 'static,
{
    from_source(source(path.as_ref(), options, Permissive))
}
