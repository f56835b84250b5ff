//! Rows into typed records through serde: a struct's fields (or a map's
//! keys) are matched to columns by name, a tuple's elements to columns by
//! position. A value that does not fit the field's Rust type is an error
//! naming the column, its SQL type and the Rust type.
//!
//! Conversions: integers into any integer type that holds the value, and into
//! floats; floats into floats; `Decimal` text into `String` or (parsed) into
//! integers and floats; `Text` into `String`, `char`, unit enum variants, or
//! anything whose serde form is a string (chrono's dates and times); `Bytes`
//! into `Vec<u8>` or `serde_bytes`; NULL only into `Option` or `()`.

use super::value::{Column, SqlValue};
use serde::de::value::{SeqDeserializer, StrDeserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};
use std::fmt;

/// Why a row could not become a record (the connector adds where the row came from).
#[derive(Debug)]
pub(crate) struct RowError(pub String);

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RowError {}

impl de::Error for RowError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        RowError(msg.to_string())
    }
}

/// Builds a `T` from a row whose cells are `values`, in `columns` order.
pub(crate) fn from_row<T: DeserializeOwned>(
    columns: &[Column],
    values: Vec<SqlValue>,
) -> Result<T, RowError> {
    T::deserialize(RowDeserializer { columns, values })
}

struct RowDeserializer<'a> {
    columns: &'a [Column],
    values: Vec<SqlValue>,
}

impl<'de> Deserializer<'de> for RowDeserializer<'_> {
    type Error = RowError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        visitor.visit_map(Cells {
            columns: self.columns.iter(),
            values: self.values.into_iter(),
            pending: None,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, RowError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        visitor.visit_seq(Cells {
            columns: self.columns.iter(),
            values: self.values.into_iter(),
            pending: None,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        if len != self.columns.len() {
            return Err(RowError(format!(
                "the Rust type is a tuple of {len} but the result has {} column(s) ({})",
                self.columns.len(),
                column_names(self.columns)
            )));
        }
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct enum identifier ignored_any
    }
}

fn column_names(columns: &[Column]) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    names.join(", ")
}

/// The cells of a row, as a map (name → value) or a sequence.
struct Cells<'a, C, V> {
    columns: C,
    values: V,
    pending: Option<(&'a Column, SqlValue)>,
}

impl<'de, 'a, C, I> MapAccess<'de> for Cells<'a, C, I>
where
    C: Iterator<Item = &'a Column>,
    I: Iterator<Item = SqlValue>,
{
    type Error = RowError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, RowError> {
        match (self.columns.next(), self.values.next()) {
            (Some(column), Some(value)) => {
                self.pending = Some((column, value));
                let key: StrDeserializer<'_, RowError> = column.name.as_str().into_deserializer();
                seed.deserialize(key).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, RowError> {
        let (column, value) = self
            .pending
            .take()
            .ok_or_else(|| RowError("a value was asked for before its column".into()))?;
        seed.deserialize(Cell { column, value })
    }
}

impl<'de, 'a, C, I> SeqAccess<'de> for Cells<'a, C, I>
where
    C: Iterator<Item = &'a Column>,
    I: Iterator<Item = SqlValue>,
{
    type Error = RowError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, RowError> {
        match (self.columns.next(), self.values.next()) {
            (Some(column), Some(value)) => seed.deserialize(Cell { column, value }).map(Some),
            _ => Ok(None),
        }
    }
}

/// Adds the column to an error that a visitor raised (e.g. an integer out of
/// the field's range, or a string chrono cannot parse).
fn located(column: &Column, err: RowError) -> RowError {
    let Column { name, sql_type } = column;
    RowError(format!("column `{name}` (SQL type {sql_type}): {err}"))
}

/// One cell, deserialized into a field.
struct Cell<'a> {
    column: &'a Column,
    value: SqlValue,
}

impl Cell<'_> {
    /// The error for a cell that the field's Rust type cannot hold.
    fn mismatch(&self, rust: &str) -> RowError {
        let Column { name, sql_type } = self.column;
        if self.value == SqlValue::Null {
            RowError(format!(
                "column `{name}` (SQL type {sql_type}) is NULL, which Rust type {rust} cannot hold; use Option<{rust}>"
            ))
        } else {
            RowError(format!(
                "column `{name}` (SQL type {sql_type}) cannot be read as Rust type {rust}"
            ))
        }
    }

    fn int<'de, V: Visitor<'de>>(self, rust: &str, visitor: V) -> Result<V::Value, RowError> {
        let result = match &self.value {
            SqlValue::Int(i) => visitor.visit_i64(*i),
            SqlValue::Decimal(d) => match d.parse::<i64>() {
                Ok(i) => visitor.visit_i64(i),
                Err(_) => return Err(self.mismatch(rust)),
            },
            _ => return Err(self.mismatch(rust)),
        };
        result.map_err(|e| located(self.column, e))
    }

    fn float<'de, V: Visitor<'de>>(self, rust: &str, visitor: V) -> Result<V::Value, RowError> {
        let result = match &self.value {
            SqlValue::Real(f) => visitor.visit_f32(*f),
            SqlValue::Float(f) => visitor.visit_f64(*f),
            SqlValue::Int(i) => visitor.visit_f64(*i as f64),
            SqlValue::Decimal(d) => match d.parse::<f64>() {
                Ok(f) => visitor.visit_f64(f),
                Err(_) => return Err(self.mismatch(rust)),
            },
            _ => return Err(self.mismatch(rust)),
        };
        result.map_err(|e| located(self.column, e))
    }

    fn string<'de, V: Visitor<'de>>(self, rust: &str, visitor: V) -> Result<V::Value, RowError> {
        match self.value {
            SqlValue::Text(s) | SqlValue::Decimal(s) => {
                let column = self.column;
                visitor.visit_string(s).map_err(|e| located(column, e))
            }
            _ => Err(self.mismatch(rust)),
        }
    }
}

impl<'de> Deserializer<'de> for Cell<'_> {
    type Error = RowError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        let column = self.column;
        let result = match self.value {
            SqlValue::Null => visitor.visit_none(),
            SqlValue::Bool(b) => visitor.visit_bool(b),
            SqlValue::Int(i) => visitor.visit_i64(i),
            SqlValue::Real(f) => visitor.visit_f32(f),
            SqlValue::Float(f) => visitor.visit_f64(f),
            SqlValue::Decimal(s) | SqlValue::Text(s) => visitor.visit_string(s),
            SqlValue::Bytes(b) => visitor.visit_byte_buf(b),
        };
        result.map_err(|e| located(column, e))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        match self.value {
            SqlValue::Bool(b) => visitor.visit_bool(b),
            _ => Err(self.mismatch("bool")),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.int("i8", visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.int("i16", visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.int("i32", visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.int("i64", visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.int("u8", visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.int("u16", visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.int("u32", visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.int("u64", visitor)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.float("f32", visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.float("f64", visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.string("char", visitor)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.string("String", visitor)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.string("String", visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.string("String", visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        match self.value {
            SqlValue::Bytes(b) => visitor.visit_byte_buf(b),
            _ => Err(self.mismatch("bytes")),
        }
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        self.deserialize_bytes(visitor)
    }

    /// `Vec<u8>` asks for a sequence: a `bytea`/`varbinary` cell is one.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        match self.value {
            SqlValue::Bytes(b) => {
                let column = self.column;
                visitor
                    .visit_seq(SeqDeserializer::new(b.into_iter()))
                    .map_err(|e: RowError| located(column, e))
            }
            _ => Err(self.mismatch("a sequence (Vec)")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        match self.value {
            SqlValue::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        match self.value {
            SqlValue::Null => visitor.visit_unit(),
            _ => Err(self.mismatch("()")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        visitor.visit_newtype_struct(self)
    }

    /// Unit variants, from their names in a text column.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, RowError> {
        match &self.value {
            SqlValue::Text(s) => {
                let variant: StrDeserializer<'_, RowError> = s.as_str().into_deserializer();
                visitor
                    .visit_enum(variant)
                    .map_err(|e| located(self.column, e))
            }
            _ => Err(self.mismatch(name)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, RowError> {
        Err(self.mismatch("a tuple"))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, RowError> {
        Err(self.mismatch(name))
    }

    fn deserialize_map<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, RowError> {
        Err(self.mismatch("a map"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, RowError> {
        Err(self.mismatch(name))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! { i128 u128 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn columns(spec: &[(&str, &str)]) -> Vec<Column> {
        spec.iter()
            .map(|(n, t)| Column {
                name: n.to_string(),
                sql_type: t.to_string(),
            })
            .collect()
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Side {
        Buy,
        Sell,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Trade {
        id: i32,
        symbol: String,
        price: f64,
        qty: Option<i64>,
        side: Side,
        payload: Vec<u8>,
        ok: bool,
    }

    #[test]
    fn a_row_becomes_a_struct_by_column_name() {
        let cols = columns(&[
            ("symbol", "text"),
            ("id", "int4"),
            ("price", "numeric"),
            ("qty", "int8"),
            ("side", "text"),
            ("payload", "bytea"),
            ("ok", "bool"),
            ("extra", "text"),
        ]);
        let values = vec![
            SqlValue::Text("ÄÖ€".into()),
            SqlValue::Int(7),
            SqlValue::Decimal("12.50".into()),
            SqlValue::Null,
            SqlValue::Text("Sell".into()),
            SqlValue::Bytes(vec![0, 255]),
            SqlValue::Bool(true),
            SqlValue::Text("ignored".into()),
        ];
        let t: Trade = from_row(&cols, values).unwrap();
        assert_eq!(
            t,
            Trade {
                id: 7,
                symbol: "ÄÖ€".into(),
                price: 12.5,
                qty: None,
                side: Side::Sell,
                payload: vec![0, 255],
                ok: true
            }
        );
    }

    #[test]
    fn a_tuple_reads_columns_by_position() {
        let cols = columns(&[("a", "int8"), ("b", "text")]);
        let row: (u8, Option<String>) =
            from_row(&cols, vec![SqlValue::Int(3), SqlValue::Null]).unwrap();
        assert_eq!(row, (3, None));
        let err = from_row::<(i64,)>(&cols, vec![SqlValue::Int(3), SqlValue::Null]).unwrap_err();
        assert!(
            err.0
                .contains("tuple of 1 but the result has 2 column(s) (a, b)"),
            "{err}"
        );
    }

    #[test]
    fn mismatches_name_the_column_and_both_types() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Row {
            n: String,
        }
        let cols = columns(&[("n", "int4")]);
        let err = from_row::<Row>(&cols, vec![SqlValue::Int(1)]).unwrap_err();
        assert_eq!(
            err.0,
            "column `n` (SQL type int4) cannot be read as Rust type String"
        );
        let err = from_row::<Row>(&cols, vec![SqlValue::Null]).unwrap_err();
        assert!(
            err.0.contains("is NULL") && err.0.contains("Option<String>"),
            "{err}"
        );

        let cols = columns(&[("big", "int8")]);
        let err = from_row::<(u8,)>(&cols, vec![SqlValue::Int(300)]).unwrap_err();
        assert!(
            err.0
                .starts_with("column `big` (SQL type int8): invalid value: integer `300`"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_column_is_named() {
        let cols = columns(&[("id", "int4")]);
        let err = from_row::<Trade>(&cols, vec![SqlValue::Int(1)]).unwrap_err();
        assert!(err.0.contains("missing field `symbol`"), "{err}");
    }

    #[test]
    fn chrono_types_read_from_their_text_form() {
        let cols = columns(&[("at", "timestamp"), ("day", "date")]);
        let row: (chrono::NaiveDateTime, chrono::NaiveDate) = from_row(
            &cols,
            vec![
                SqlValue::Text("2024-02-29T23:59:58.123456".into()),
                SqlValue::Text("2024-02-29".into()),
            ],
        )
        .unwrap();
        assert_eq!(row.0.to_string(), "2024-02-29 23:59:58.123456");
        assert_eq!(row.1.to_string(), "2024-02-29");
    }
}
