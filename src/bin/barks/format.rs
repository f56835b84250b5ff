//! How a query's rows are printed: `--format table|csv|tsv|json`.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float16Type, Float32Type, Float64Type, Schema};
use arrow::error::ArrowError;
use arrow::json::writer::LineDelimited;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use barks::sql::datafusion::arrow;
use std::borrow::Cow;
use std::io::Write;

/// How rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A boxed table, as Spark's `show` prints it (NULL for nulls).
    Table,
    /// Comma-separated, a header line first; fields quoted as RFC 4180 says,
    /// NULL an empty field, an empty string `""`.
    Csv,
    /// Tab-separated, no header, NULL an empty field (`spark-sql`'s output).
    Tsv,
    /// One JSON object per line, nulls included.
    Json,
}

/// Writes `batches` (rows of `schema`) to `out` as `format` says.
pub fn write_rows(
    out: &mut impl Write,
    format: Format,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<(), ArrowError> {
    write_header(out, format, schema)?;
    write_body(out, format, schema, batches)
}

/// Whether rows can be printed as they arrive: every format but the
/// table, whose column widths depend on all the rows.
pub fn streams(format: Format) -> bool {
    format != Format::Table
}

/// Writes what comes before the rows: CSV's header line.
pub fn write_header(
    out: &mut impl Write,
    format: Format,
    schema: &Schema,
) -> Result<(), ArrowError> {
    if format == Format::Csv {
        let header: Vec<_> = (schema.fields().iter())
            .map(|f| csv_field(f.name()))
            .collect();
        writeln!(out, "{}", header.join(","))?;
    }
    Ok(())
}

/// Writes `batches` after the header; for a format that
/// [`streams`], called once per arriving part of the rows.
pub fn write_body(
    out: &mut impl Write,
    format: Format,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<(), ArrowError> {
    match format {
        Format::Table => {
            let rows = batches.iter().map(RecordBatch::num_rows).sum();
            let table = barks::sql::show_string(schema, batches, rows, false);
            out.write_all(table.as_bytes())?;
        }
        Format::Csv => write_delimited(out, batches, ",", |text| csv_field(text).into_owned())?,
        Format::Tsv => write_delimited(out, batches, "\t", str::to_string)?,
        Format::Json => {
            let mut writer = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, LineDelimited>(out);
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
        }
    }
    Ok(())
}

/// Writes each row as its fields' text joined by `separator`, a NULL as an
/// empty field; `field` turns a value's text into the field (quoting it).
fn write_delimited(
    out: &mut impl Write,
    batches: &[RecordBatch],
    separator: &str,
    field: impl Fn(&str) -> String,
) -> Result<(), ArrowError> {
    let options = FormatOptions::default();
    for batch in batches {
        let columns = (batch.columns().iter())
            .map(|c| Cells::new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            let fields: Vec<String> = (columns.iter())
                .map(|c| c.text(row).map_or_else(String::new, |text| field(&text)))
                .collect();
            writeln!(out, "{}", fields.join(separator))?;
        }
    }
    Ok(())
}

/// The values of one column as plain text: what arrow's formatter prints
/// (ISO-8601 dates and times, decimals with their scale), except floats,
/// which it may print in scientific notation.
enum Cells<'a> {
    Float16(&'a arrow::array::Float16Array),
    Float32(&'a arrow::array::Float32Array),
    Float64(&'a arrow::array::Float64Array),
    Other(&'a dyn Array, ArrayFormatter<'a>),
}

impl<'a> Cells<'a> {
    fn new(array: &'a dyn Array, options: &'a FormatOptions<'a>) -> Result<Cells<'a>, ArrowError> {
        Ok(match array.data_type() {
            DataType::Float16 => Cells::Float16(array.as_primitive::<Float16Type>()),
            DataType::Float32 => Cells::Float32(array.as_primitive::<Float32Type>()),
            DataType::Float64 => Cells::Float64(array.as_primitive::<Float64Type>()),
            _ => Cells::Other(array, ArrayFormatter::try_new(array, options)?),
        })
    }

    /// The text of the value at `row`, `None` for NULL.
    fn text(&self, row: usize) -> Option<String> {
        match self {
            Cells::Float16(a) => a.is_valid(row).then(|| float_text(a.value(row).to_f32())),
            Cells::Float32(a) => a.is_valid(row).then(|| float_text(a.value(row))),
            Cells::Float64(a) => a.is_valid(row).then(|| float_text(a.value(row))),
            Cells::Other(a, f) => a.is_valid(row).then(|| f.value(row).to_string()),
        }
    }
}

/// A float in plain decimal notation, as Java (and so Spark) writes the
/// special values: `1.5`, `1.0`, `100000000000000000000.0`, `0.0000001`,
/// `NaN`, `Infinity`, `-Infinity`.
fn float_text(value: impl std::fmt::Display) -> String {
    // Rust's `Display` for floats is the shortest text that reads back as
    // the same value, and never uses an exponent.
    let text = value.to_string();
    match text.as_str() {
        "inf" => "Infinity".to_string(),
        "-inf" => "-Infinity".to_string(),
        "NaN" => text,
        _ if text.contains('.') => text,
        _ => text + ".0",
    }
}

/// `text` as a CSV field: quoted (inner quotes doubled) when it holds a
/// comma, a quote or a line break, and when it is empty (an empty field is
/// NULL).
fn csv_field(text: &str) -> Cow<'_, str> {
    if text.is_empty() || text.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_plain_decimals() {
        assert_eq!(float_text(1.5f64), "1.5");
        assert_eq!(float_text(1.0f64), "1.0");
        assert_eq!(float_text(-0.25f64), "-0.25");
        assert_eq!(float_text(1e20f64), "100000000000000000000.0");
        assert_eq!(float_text(1e-7f64), "0.0000001");
        assert_eq!(float_text(0.1f32), "0.1");
        assert_eq!(float_text(f64::NAN), "NaN");
        assert_eq!(float_text(f64::INFINITY), "Infinity");
        assert_eq!(float_text(f32::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(""), "\"\"");
    }
}
