//! Writing one partition: multi-row parameterised `INSERT`s inside a
//! transaction. SQL Server takes at most 2 100 parameters per request and
//! 1 000 rows per `VALUES` list, so a batch is cut into statements that fit;
//! NULLs are written as `NULL` literals (a typed NULL parameter would have to
//! guess the column's type).

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
}

impl InsertWriter {
    pub(crate) fn begin(url: &str, table: &str, columns: &[Cow<'static, str>]) -> DbResult<Self> {
        let mut client = connect(url)?;
        block_on(run_batch(&mut client, "BEGIN TRANSACTION"))?;
        let list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        Ok(InsertWriter {
            client,
            head: format!("INSERT INTO {table} ({}) VALUES ", list.join(", ")),
        })
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
                    if *value == SqlValue::Null {
                        sql.push_str("NULL");
                    } else {
                        params.push(value);
                        sql.push_str(&format!("@P{}", params.len()));
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
    fn statements_stay_within_sql_servers_limits() {
        assert_eq!(rows_per_statement(1), 1000);
        assert_eq!(rows_per_statement(3), 666);
        assert_eq!(rows_per_statement(5000), 1);
    }
}
