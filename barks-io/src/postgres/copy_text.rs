//! Rows in the text format of `COPY ... FROM STDIN`: tab-separated values,
//! one row per line, `\N` for NULL, backslash escapes. The server parses each
//! value as its column's type, so numerics, dates, timestamps, JSON and UUIDs
//! are written from their text form.

use crate::sql::SqlValue;
use std::fmt::Write as _;

/// Appends `row` to `out` as one `COPY` text line.
pub(crate) fn encode_row(row: &[SqlValue], out: &mut String) {
    for (i, value) in row.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        encode_value(value, out);
    }
    out.push('\n');
}

fn encode_value(value: &SqlValue, out: &mut String) {
    match value {
        SqlValue::Null => out.push_str("\\N"),
        SqlValue::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        SqlValue::Int(i) => {
            let _ = write!(out, "{i}");
        }
        SqlValue::Real(f) => encode_float(f64::from(*f), &f.to_string(), out),
        SqlValue::Float(f) => encode_float(*f, &f.to_string(), out),
        SqlValue::Decimal(s) | SqlValue::Text(s) => escape(s, out),
        SqlValue::Bytes(bytes) => {
            // bytea's hex input `\x0a...`, its backslash escaped for COPY.
            out.reserve(3 + 2 * bytes.len());
            out.push_str("\\\\x");
            for b in bytes {
                let _ = write!(out, "{b:02x}");
            }
        }
    }
}

/// Rust prints `inf` and `NaN`; PostgreSQL reads `Infinity` and `NaN`.
fn encode_float(f: f64, shortest: &str, out: &mut String) {
    match f {
        f if f.is_nan() => out.push_str("NaN"),
        f if f == f64::INFINITY => out.push_str("Infinity"),
        f if f == f64::NEG_INFINITY => out.push_str("-Infinity"),
        _ => out.push_str(shortest),
    }
}

fn escape(text: &str, out: &mut String) {
    out.reserve(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_escaped_for_copy() {
        let mut out = String::new();
        encode_row(
            &[
                SqlValue::Int(-3),
                SqlValue::Text("a\tb\\c\nd\re".into()),
                SqlValue::Null,
                SqlValue::Bool(false),
                SqlValue::Bytes(vec![0, 0xab]),
                SqlValue::Float(f64::NEG_INFINITY),
                SqlValue::Real(0.1),
            ],
            &mut out,
        );
        assert_eq!(
            out,
            "-3\ta\\tb\\\\c\\nd\\re\t\\N\tf\t\\\\x00ab\t-Infinity\t0.1\n"
        );
    }
}
