//! Reading JSON lines files as typed rows.

use super::options::JsonOptions;
use crate::bad_records::{BadRecord, Outcome, Permissive};
use crate::line_input::{LineInput, LineNumbers, OpenSplit};
use crate::line_source::{LineSource, RecordFormat};
use barks_runtime::{BoxIter, Dataset, Error, ErrorSink, Result, default_parallelism, from_source};
use serde::de::DeserializeOwned;
use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;

/// JSON lines as a [`RecordFormat`] of rows of type `T`.
struct JsonLines<T>(PhantomData<fn() -> T>);

impl<T: DeserializeOwned + Send + 'static> RecordFormat for JsonLines<T> {
    type Row = T;

    fn records(
        &self,
        _: &LineInput,
        split: OpenSplit,
        errors: ErrorSink,
    ) -> Result<BoxIter<Result<T, BadRecord>>> {
        Ok(BoxIter::new(JsonRecords {
            reader: BufReader::with_capacity(1 << 16, split.reader),
            lines: split.lines,
            line: 0,
            buf: Vec::new(),
            errors,
            _row: PhantomData,
        }))
    }
}

struct JsonRecords<T> {
    reader: BufReader<Box<dyn Read + Send>>,
    lines: LineNumbers,
    /// Lines read so far in this range.
    line: u64,
    buf: Vec<u8>,
    errors: ErrorSink,
    _row: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Iterator for JsonRecords<T> {
    type Item = Result<T, BadRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => self.line += 1,
                Err(e) => {
                    let line = self.lines.absolute(self.line + 1);
                    self.errors.fail(Error::Input {
                        location: format!("{}: line {line}", self.lines.file()),
                        message: e.to_string(),
                    });
                    return None;
                }
            }
            let text = self.buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            return Some(parse(text).map_err(|error| BadRecord {
                file: self.lines.file().to_string(),
                line: self.lines.absolute(self.line),
                raw: String::from_utf8_lossy(text).into_owned(),
                error,
            }));
        }
    }
}

/// One JSON value of type `T`; the error names the field path (`a.b[2]`)
/// and the column.
fn parse<T: DeserializeOwned>(text: &[u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = format!("column {}", inner.column());
        let what = strip_position(&inner);
        if path == "." {
            format!("{at}: {what}")
        } else {
            format!("field `{path}`, {at}: {what}")
        }
    })?;
    de.end()
        .map_err(|e| format!("column {}: {}", e.column(), strip_position(&e)))?;
    Ok(value)
}

/// serde_json's message without its " at line L column C" tail (the line is
/// always 1 within a JSON line; callers give the file's line).
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn source<T, O>(path: &str, options: JsonOptions, outcome: O) -> LineSource<JsonLines<T>, O>
where
    T: DeserializeOwned + Send + 'static,
    O: Outcome<T>,
{
    let min_partitions = options.min_partitions.unwrap_or_else(default_parallelism);
    let input = LineInput::new(path, min_partitions, options.compression, false);
    LineSource::new(path, input, JsonLines(PhantomData), outcome)
}

/// The records of the JSON lines files at `path` (a file, a directory, a
/// glob; local or `s3://`): one JSON value per line, deserialized into `T`
/// with serde; blank lines are skipped. Uncompressed files are cut into
/// line-aligned byte ranges, compressed ones (`.gz`, `.zst`) are one
/// partition each. Lines that do not parse fail the job or are dropped, as
/// [`JsonOptions::mode`] says; [`json_file_permissive`] keeps them.
pub fn json_file<T>(path: impl AsRef<str>, options: JsonOptions) -> Dataset<T>
where
    T: DeserializeOwned + Send + 'static,
{
    let mode = options.mode;
    from_source(source(path.as_ref(), options, mode))
}

/// Like [`json_file`], in Spark's PERMISSIVE mode: every line comes out, as
/// `Ok(row)` or as `Err(BadRecord)` holding its file, line, text and error
/// ([`JsonOptions::mode`] is not used).
pub fn json_file_permissive<T>(
    path: impl AsRef<str>,
    options: JsonOptions,
) -> Dataset<Result<T, BadRecord>>
where
    T: DeserializeOwned + Send + 'static,
{
    from_source(source(path.as_ref(), options, Permissive))
}
