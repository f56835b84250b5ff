//! PostgreSQL's binary values as [`SqlValue`]s. Supported: bool, the integer
//! and float types, numeric (exact text), text/varchar/char/name/enums,
//! bytea, json/jsonb (text), uuid (text), timestamp, timestamptz, date and
//! time (ISO text, which chrono's types and `String` both read).

use crate::sql::SqlValue;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use std::error::Error;
use tokio_postgres::types::{FromSql, Kind, Type};

type BoxError = Box<dyn Error + Sync + Send>;

impl<'a> FromSql<'a> for SqlValue {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(match *ty {
            Type::BOOL => SqlValue::Bool(bool::from_sql(ty, raw)?),
            Type::INT2 => SqlValue::Int(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => SqlValue::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => SqlValue::Int(i64::from_sql(ty, raw)?),
            Type::OID => SqlValue::Int(u32::from_sql(ty, raw)?.into()),
            Type::FLOAT4 => SqlValue::Real(f32::from_sql(ty, raw)?),
            Type::FLOAT8 => SqlValue::Float(f64::from_sql(ty, raw)?),
            Type::NUMERIC => SqlValue::Decimal(numeric_text(raw)?),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
                SqlValue::Text(String::from_sql(&Type::TEXT, raw)?)
            }
            Type::JSONB => match raw.split_first() {
                Some((1, json)) => SqlValue::Text(std::str::from_utf8(json)?.to_string()),
                _ => return Err("unknown jsonb format version".into()),
            },
            Type::BYTEA => SqlValue::Bytes(raw.to_vec()),
            Type::UUID => SqlValue::Text(uuid_text(raw)?),
            Type::TIMESTAMP => SqlValue::Text(
                NaiveDateTime::from_sql(ty, raw)?
                    .format("%Y-%m-%dT%H:%M:%S%.f")
                    .to_string(),
            ),
            Type::TIMESTAMPTZ => SqlValue::Text(
                DateTime::<Utc>::from_sql(ty, raw)?.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            ),
            Type::DATE => SqlValue::Text(NaiveDate::from_sql(ty, raw)?.to_string()),
            Type::TIME => SqlValue::Text(
                NaiveTime::from_sql(ty, raw)?
                    .format("%H:%M:%S%.f")
                    .to_string(),
            ),
            _ if matches!(ty.kind(), Kind::Enum(_)) => {
                SqlValue::Text(String::from_sql(&Type::TEXT, raw)?)
            }
            _ => {
                return Err(
                    format!("SQL type {ty} is not supported by the barks connector").into(),
                );
            }
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(SqlValue::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A binary `numeric` in its exact text form: a header of four 16-bit
/// words (digit count, weight of the first digit in powers of 10 000, sign,
/// display scale), then the base-10 000 digits.
fn numeric_text(raw: &[u8]) -> Result<String, BoxError> {
    let word = |i: usize| -> Result<u16, BoxError> {
        raw.get(2 * i..2 * i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric value".into())
    };
    let (ndigits, weight, sign, scale) = (
        usize::from(word(0)?),
        i64::from(word(1)? as i16),
        word(2)?,
        usize::from(word(3)?),
    );
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => return Err(format!("invalid numeric sign {sign:#x}").into()),
    }
    let digits = (0..ndigits)
        .map(|i| word(4 + i))
        .collect::<Result<Vec<u16>, BoxError>>()?;
    // The digit whose weight is 10 000^power, or 0 outside the stored digits.
    let digit = |power: i64| {
        usize::try_from(weight - power)
            .ok()
            .and_then(|k| digits.get(k).copied())
            .unwrap_or(0)
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        text.push_str(&digit(weight).to_string());
        for power in (0..weight).rev() {
            text.push_str(&format!("{:04}", digit(power)));
        }
    }
    if scale > 0 {
        let mut fraction = String::with_capacity(scale + 4);
        let mut power = -1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", digit(power)));
            power -= 1;
        }
        fraction.truncate(scale);
        text.push('.');
        text.push_str(&fraction);
    }
    Ok(text)
}

fn uuid_text(raw: &[u8]) -> Result<String, BoxError> {
    if raw.len() != 16 {
        return Err("a uuid must be 16 bytes".into());
    }
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::numeric_text;

    fn numeric(weight: i16, sign: u16, scale: u16, digits: &[u16]) -> Vec<u8> {
        let mut raw = Vec::new();
        for w in [digits.len() as u16, weight as u16, sign, scale]
            .into_iter()
            .chain(digits.iter().copied())
        {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        raw
    }

    #[test]
    fn numerics_print_exactly() {
        assert_eq!(numeric_text(&numeric(0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(
            numeric_text(&numeric(1, 0, 2, &[12, 3456, 7800])).unwrap(),
            "123456.78"
        );
        assert_eq!(
            numeric_text(&numeric(-2, 0x4000, 6, &[1200])).unwrap(),
            "-0.000012"
        );
        assert_eq!(numeric_text(&numeric(2, 0, 0, &[1])).unwrap(), "100000000");
        assert_eq!(numeric_text(&numeric(0, 0xC000, 0, &[])).unwrap(), "NaN");
        assert!(numeric_text(&[0, 1]).is_err());
    }
}
