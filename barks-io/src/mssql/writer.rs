//! Writing one partition: multi-row parameterised `INSERT`s inside a
//! transaction. SQL Server takes at most 2 100 parameters per request and
//! 1 000 rows per `VALUES` list, so a batch is cut into statements that fit.
//! NULLs and floats are written as SQL literals rather than parameters: a
//! typed NULL parameter would have to guess the column's type, and a float's
//! shortest round-trip form (`1.5e0`) is exact as a literal. (It also keeps
//! the statements within what the TDS emulator the tests run against can
//! parse: it rejects `float(53)` parameter declarations.)

use super::connect::{MssqlClient, connect, quote_ident, run_batch};
use crate::async_rt::block_on;
use crate::sql::{DbResult, SqlValue, TableWriter};
use std::borrow::Cow;
use tiberius::{ColumnData, ToSql};

const MAX_PARAMS: usize = 2_000;
const MAX_ROWS: usize = 1_000;

pub(crate) struct InsertWriter {
    client: MssqlClient,
    /// `INSERT INTO t (a, b) VALUES `
    head: String,
    columns: Vec<Cow<'static, str>>,
}

impl InsertWriter {
    pub(crate) fn begin(url: &str, table: &str, columns: &[Cow<'static, str>]) -> DbResult<Self> {
        let mut client = connect(url)?;
        block_on(run_batch(&mut client, "BEGIN TRANSACTION"))?;
        let list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        Ok(InsertWriter {
            client,
            head: format!("INSERT INTO {table} ({}) VALUES ", list.join(", ")),
            columns: columns.to_vec(),
        })
    }
}

/// The SQL literal a value is written as, or `None` for a parameter.
fn literal(value: &SqlValue) -> Result<Option<String>, String> {
    let float = |f: f64, text: String| {
        if f.is_finite() {
            Ok(Some(text))
        } else {
            Err(format!("SQL Server's float cannot hold {f}"))
        }
    };
    match value {
        SqlValue::Null => Ok(Some("NULL".into())),
        SqlValue::Real(f) => float(f64::from(*f), format!("{f:e}")),
        SqlValue::Float(f) => float(*f, format!("{f:e}")),
        _ => Ok(None),
    }
}

/// How many rows of `width` columns one statement may hold.
fn rows_per_statement(width: usize) -> usize {
    (MAX_PARAMS / width.max(1)).clamp(1, MAX_ROWS)
}

impl TableWriter for InsertWriter {
    fn write(&mut self, rows: &[Vec<SqlValue>]) -> DbResult<()> {
        let width = rows.first().map_or(1, Vec::len);
        for chunk in rows.chunks(rows_per_statement(width)) {
            let mut sql = self.head.clone();
            let mut params: Vec<&dyn ToSql> = Vec::new();
            for (r, row) in chunk.iter().enumerate() {
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for (c, value) in row.iter().enumerate() {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    match literal(value)
                        .map_err(|e| format!("column `{}`: {e}", self.columns[c]))?
                    {
                        Some(literal) => sql.push_str(&literal),
                        None => {
                            params.push(value);
                            sql.push_str(&format!("@P{}", params.len()));
                        }
                    }
                }
                sql.push(')');
            }
            block_on(self.client.execute(sql, &params)).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn commit(mut self) -> DbResult<()> {
        block_on(run_batch(&mut self.client, "COMMIT TRANSACTION"))
    }
}

impl ToSql for SqlValue {
    fn to_sql(&self) -> ColumnData<'_> {
        match self {
            SqlValue::Null => ColumnData::I32(None),
            SqlValue::Bool(b) => ColumnData::Bit(Some(*b)),
            SqlValue::Int(i) => ColumnData::I64(Some(*i)),
            SqlValue::Real(f) => ColumnData::F32(Some(*f)),
            SqlValue::Float(f) => ColumnData::F64(Some(*f)),
            SqlValue::Decimal(s) | SqlValue::Text(s) => ColumnData::String(Some(Cow::Borrowed(s))),
            SqlValue::Bytes(b) => ColumnData::Binary(Some(Cow::Borrowed(b))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rows_per_statement;

    #[test]
    fn nulls_and_floats_are_exact_literals() {
        use super::{SqlValue, literal};
        assert_eq!(literal(&SqlValue::Null).unwrap().unwrap(), "NULL");
        assert_eq!(literal(&SqlValue::Float(0.1)).unwrap().unwrap(), "1e-1");
        assert_eq!(
            literal(&SqlValue::Real(-2.5e-7)).unwrap().unwrap(),
            "-2.5e-7"
        );
        assert_eq!(
            literal(&SqlValue::Float(f64::MAX))
                .unwrap()
                .unwrap()
                .parse::<f64>()
                .unwrap(),
            f64::MAX
        );
        assert!(
            literal(&SqlValue::Float(f64::NAN))
                .unwrap_err()
                .contains("NaN")
        );
        assert_eq!(literal(&SqlValue::Int(1)).unwrap(), None);
    }

    #[test]
    fn statements_stay_within_sql_servers_limits() {
        assert_eq!(rows_per_statement(1), 1000);
        assert_eq!(rows_per_statement(3), 666);
        assert_eq!(rows_per_statement(5000), 1);
    }
}
