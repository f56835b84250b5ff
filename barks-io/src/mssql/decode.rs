//! TDS values as [`SqlValue`]s: integers, floats, bit, strings, binary,
//! decimals (exact text), GUIDs (text), and dates and times (ISO text).

use crate::sql::SqlValue;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use tiberius::{ColumnData, ColumnType, FromSql};

/// Converts one cell.
pub(crate) fn sql_value(data: ColumnData<'static>) -> Result<SqlValue, String> {
    let value = match &data {
        ColumnData::U8(v) => v.map(|v| SqlValue::Int(v.into())),
        ColumnData::I16(v) => v.map(|v| SqlValue::Int(v.into())),
        ColumnData::I32(v) => v.map(|v| SqlValue::Int(v.into())),
        ColumnData::I64(v) => v.map(SqlValue::Int),
        ColumnData::F32(v) => v.map(SqlValue::Real),
        ColumnData::F64(v) => v.map(SqlValue::Float),
        ColumnData::Bit(v) => v.map(SqlValue::Bool),
        ColumnData::String(v) => v.as_ref().map(|s| SqlValue::Text(s.to_string())),
        ColumnData::Guid(v) => v.map(|g| SqlValue::Text(g.to_string())),
        ColumnData::Binary(v) => v.as_ref().map(|b| SqlValue::Bytes(b.to_vec())),
        ColumnData::Numeric(v) => v.map(|n| SqlValue::Decimal(n.to_string())),
        ColumnData::Xml(v) => v.as_ref().map(|x| SqlValue::Text(x.to_string())),
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) | ColumnData::DateTime2(_) => {
            NaiveDateTime::from_sql(&data)
                .map_err(|e| e.to_string())?
                .map(|t| SqlValue::Text(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()))
        }
        ColumnData::Date(_) => NaiveDate::from_sql(&data)
            .map_err(|e| e.to_string())?
            .map(|d| SqlValue::Text(d.to_string())),
        ColumnData::Time(_) => NaiveTime::from_sql(&data)
            .map_err(|e| e.to_string())?
            .map(|t| SqlValue::Text(t.format("%H:%M:%S%.f").to_string())),
        ColumnData::DateTimeOffset(_) => DateTime::<FixedOffset>::from_sql(&data)
            .map_err(|e| e.to_string())?
            .map(|t| SqlValue::Text(t.to_rfc3339())),
    };
    Ok(value.unwrap_or(SqlValue::Null))
}

/// The SQL name of a column's wire type, for messages.
pub(crate) fn type_name(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Null => "null",
        ColumnType::Bit | ColumnType::Bitn => "bit",
        ColumnType::Int1 => "tinyint",
        ColumnType::Int2 => "smallint",
        ColumnType::Int4 => "int",
        ColumnType::Int8 => "bigint",
        ColumnType::Intn => "int",
        ColumnType::Datetime4 => "smalldatetime",
        ColumnType::Float4 => "real",
        ColumnType::Float8 | ColumnType::Floatn => "float",
        ColumnType::Money | ColumnType::Money4 => "money",
        ColumnType::Datetime | ColumnType::Datetimen => "datetime",
        ColumnType::Guid => "uniqueidentifier",
        ColumnType::Decimaln | ColumnType::Numericn => "decimal",
        ColumnType::Daten => "date",
        ColumnType::Timen => "time",
        ColumnType::Datetime2 => "datetime2",
        ColumnType::DatetimeOffsetn => "datetimeoffset",
        ColumnType::BigVarBin | ColumnType::BigBinary | ColumnType::Image => "varbinary",
        ColumnType::BigVarChar | ColumnType::BigChar | ColumnType::Text => "varchar",
        ColumnType::NVarchar | ColumnType::NChar | ColumnType::NText => "nvarchar",
        ColumnType::Xml => "xml",
        ColumnType::Udt => "udt",
        ColumnType::SSVariant => "sql_variant",
    }
}
