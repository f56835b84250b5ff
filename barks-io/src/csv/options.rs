//! How CSV files are read and written.

use crate::bad_records::BadRecordMode;
use crate::compress::Compression;
use serde::{Deserialize, Serialize};

/// Options of [`csv_file`](crate::csv_file); Spark's CSV reader options.
/// They are plain data, so a job may take them as an argument.
///
/// ```
/// use barks_io::{BadRecordMode, CsvOptions};
/// let options = CsvOptions::new()
///     .delimiter(b';')
///     .null_value("NA")
///     .mode(BadRecordMode::DropMalformed);
/// assert!(options.header);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CsvOptions {
    /// The first line of every file names the columns (default `true`);
    /// rows are then matched to struct fields by name, else by position.
    pub header: bool,
    /// The field separator (default `,`).
    pub delimiter: u8,
    /// The quote character (default `"`).
    pub quote: u8,
    /// An escape character for quotes inside quoted fields; `None` (the
    /// default) means quotes are escaped by doubling them (RFC 4180).
    pub escape: Option<u8>,
    /// Lines starting with this byte are skipped (default: none).
    pub comment: Option<u8>,
    /// A field with this exact text is null (`None` in an `Option` field).
    /// Empty fields are always null for `Option` fields.
    pub null_value: Option<String>,
    /// The codec of the files; `None` (the default) picks it from each
    /// file's extension (`.gz`, `.zst`).
    pub compression: Option<Compression>,
    /// At least this many partitions (default: the default parallelism).
    pub min_partitions: Option<usize>,
    /// What to do with a row that does not parse (default: fail fast).
    pub mode: BadRecordMode,
    /// Quoted fields may contain newlines: every file is read as one
    /// partition (Spark's `multiLine`). Default `false`: files are cut into
    /// line-aligned byte ranges, which splits a record whose quoted field
    /// holds a newline across a range boundary; set this when such records
    /// occur.
    pub multi_line: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: true,
            delimiter: b',',
            quote: b'"',
            escape: None,
            comment: None,
            null_value: None,
            compression: None,
            min_partitions: None,
            mode: BadRecordMode::FailFast,
            multi_line: false,
        }
    }
}

impl CsvOptions {
    /// The defaults: header, `,`, `"`, fail fast, byte-range splits.
    pub fn new() -> Self {
        Self::default()
    }
    /// Whether the first line names the columns.
    pub fn header(mut self, header: bool) -> Self {
        self.header = header;
        self
    }
    /// The field separator.
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }
    /// The quote character.
    pub fn quote(mut self, quote: u8) -> Self {
        self.quote = quote;
        self
    }
    /// The escape character for quotes inside quoted fields.
    pub fn escape(mut self, escape: u8) -> Self {
        self.escape = Some(escape);
        self
    }
    /// Skip lines starting with `comment`.
    pub fn comment(mut self, comment: u8) -> Self {
        self.comment = Some(comment);
        self
    }
    /// The text that stands for null.
    pub fn null_value(mut self, null: impl Into<String>) -> Self {
        self.null_value = Some(null.into());
        self
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
    /// What to do with a row that does not parse.
    pub fn mode(mut self, mode: BadRecordMode) -> Self {
        self.mode = mode;
        self
    }
    /// Allow newlines inside quoted fields (one partition per file).
    pub fn multi_line(mut self, multi_line: bool) -> Self {
        self.multi_line = multi_line;
        self
    }

    /// A `csv` reader builder with these options (headers handled by the
    /// source itself).
    pub(crate) fn reader_builder(&self) -> csv::ReaderBuilder {
        let mut b = csv::ReaderBuilder::new();
        b.has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .quote(self.quote)
            .escape(self.escape)
            .double_quote(self.escape.is_none())
            .comment(self.comment)
            // Only `\n` ends a record; the `\r` of a CRLF line end is cut off
            // the last field by the source. (With the crate's default CRLF
            // terminator, a `\n` after `\r` is counted in the *next*
            // record's position, so line numbers would lag by one.)
            .terminator(csv::Terminator::Any(b'\n'));
        b
    }
}

/// Options of [`save_as_csv`](crate::SaveAsCsv::save_as_csv).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CsvWriteOptions {
    /// Write the struct's field names as the first line of every part file
    /// that has rows (default `true`).
    pub header: bool,
    /// The field separator (default `,`).
    pub delimiter: u8,
    /// The quote character (default `"`); quotes inside fields are doubled.
    pub quote: u8,
    /// Compress the part files (adds `.gz` / `.zst` to their names).
    pub compression: Compression,
}

impl Default for CsvWriteOptions {
    fn default() -> Self {
        CsvWriteOptions {
            header: true,
            delimiter: b',',
            quote: b'"',
            compression: Compression::None,
        }
    }
}

impl CsvWriteOptions {
    /// The defaults: header, `,`, `"`, uncompressed.
    pub fn new() -> Self {
        Self::default()
    }
    /// Whether to write a header line.
    pub fn header(mut self, header: bool) -> Self {
        self.header = header;
        self
    }
    /// The field separator.
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }
    /// The quote character.
    pub fn quote(mut self, quote: u8) -> Self {
        self.quote = quote;
        self
    }
    /// Compress the part files.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }
}
