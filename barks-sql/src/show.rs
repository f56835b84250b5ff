//! Printing rows the way Spark's `Dataset.show` does.

use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// The first `n` rows of `batches` as Spark prints them: a boxed table,
/// cells right-aligned, `NULL` for nulls, and with `truncate` cells over 20
/// characters cut to 17 and `...`; `only showing top n rows` when there are
/// more.
///
/// ```
/// use barks_sql::Session;
///
/// let session = Session::new("local[1]").unwrap();
/// let df = session.sql("SELECT * FROM (VALUES (1, 'one'), (22, NULL)) AS t(n, word)").unwrap();
/// assert_eq!(
///     df.show_string(20).unwrap(),
///     "+---+----+\n\
///      |  n|word|\n\
///      +---+----+\n\
///      |  1| one|\n\
///      | 22|NULL|\n\
///      +---+----+\n"
/// );
/// ```
pub fn show_string(schema: &Schema, batches: &[RecordBatch], n: usize, truncate: bool) -> String {
    let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let options = FormatOptions::default().with_null("NULL");
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut more = false;
    'batches: for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect();
        for row in 0..batch.num_rows() {
            if rows.len() == n {
                more = true;
                break 'batches;
            }
            rows.push(
                formatters
                    .iter()
                    .map(|f| match f {
                        Ok(f) => cell(f.value(row).to_string(), truncate),
                        Err(e) => format!("<{e}>"),
                    })
                    .collect(),
            );
        }
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count(), 3])
                .max()
                .unwrap_or(3)
        })
        .collect();
    let line: String = widths.iter().fold("+".to_string(), |mut s, w| {
        s.push_str(&"-".repeat(*w));
        s.push('+');
        s
    });
    let format_row = |cells: &[String]| {
        let mut s = "|".to_string();
        for (cell, w) in cells.iter().zip(&widths) {
            s.push_str(&" ".repeat(w - cell.chars().count()));
            s.push_str(cell);
            s.push('|');
        }
        s
    };
    let mut out = format!("{line}\n{}\n{line}\n", format_row(&header));
    for row in &rows {
        out.push_str(&format_row(row));
        out.push('\n');
    }
    out.push_str(&line);
    out.push('\n');
    if more {
        out.push_str(&format!(
            "only showing top {n} row{}\n",
            if n == 1 { "" } else { "s" }
        ));
    }
    out
}

fn cell(value: String, truncate: bool) -> String {
    if truncate && value.chars().count() > 20 {
        let cut: String = value.chars().take(17).collect();
        format!("{cut}...")
    } else {
        value
    }
}
