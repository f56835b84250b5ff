//! Records into rows through serde: a struct's fields (or a map's string
//! keys) are the columns. A field's value must be a scalar: `Option` gives
//! NULL, a unit enum variant its name, a `Vec<u8>` (or `serde_bytes`) bytes,
//! chrono's dates and times their ISO text. Nested structs, maps and other
//! sequences cannot go into one column: an error names the field.

use super::value::SqlValue;
use serde::ser::{self, Impossible, Serialize, SerializeMap, SerializeSeq, SerializeStruct};
use std::borrow::Cow;
use std::fmt;

/// Why a record could not become a row.
#[derive(Debug)]
pub(crate) struct RecordError(pub String);

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RecordError {}

impl ser::Error for RecordError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        RecordError(msg.to_string())
    }
}

/// A record as a row: column names and values, in field order.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Row {
    pub columns: Vec<Cow<'static, str>>,
    pub values: Vec<SqlValue>,
}

/// Turns `record` into a row.
pub(crate) fn to_row<T: Serialize + ?Sized>(record: &T) -> Result<Row, RecordError> {
    record.serialize(RowSerializer)
}

const NOT_A_ROW: &str =
    "a record written to a table must be a struct with named fields (or a map with string keys)";

struct RowSerializer;

macro_rules! not_a_row {
    ($($method:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ret, RecordError> {
            Err(RecordError(NOT_A_ROW.into()))
        })*
    };
}

impl ser::Serializer for RowSerializer {
    type Ok = Row;
    type Error = RecordError;
    type SerializeSeq = Impossible<Row, RecordError>;
    type SerializeTuple = Impossible<Row, RecordError>;
    type SerializeTupleStruct = Impossible<Row, RecordError>;
    type SerializeTupleVariant = Impossible<Row, RecordError>;
    type SerializeMap = RowBuilder;
    type SerializeStruct = RowBuilder;
    type SerializeStructVariant = Impossible<Row, RecordError>;

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<RowBuilder, RecordError> {
        Ok(RowBuilder::with_capacity(len))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<RowBuilder, RecordError> {
        Ok(RowBuilder::with_capacity(len.unwrap_or(0)))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Row, RecordError> {
        value.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Row, RecordError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Row, RecordError> {
        Err(RecordError(NOT_A_ROW.into()))
    }

    not_a_row! {
        serialize_bool(bool) -> Row;
        serialize_i8(i8) -> Row;
        serialize_i16(i16) -> Row;
        serialize_i32(i32) -> Row;
        serialize_i64(i64) -> Row;
        serialize_u8(u8) -> Row;
        serialize_u16(u16) -> Row;
        serialize_u32(u32) -> Row;
        serialize_u64(u64) -> Row;
        serialize_f32(f32) -> Row;
        serialize_f64(f64) -> Row;
        serialize_char(char) -> Row;
        serialize_str(&str) -> Row;
        serialize_bytes(&[u8]) -> Row;
        serialize_none() -> Row;
        serialize_unit() -> Row;
        serialize_unit_struct(&'static str) -> Row;
        serialize_unit_variant(&'static str, u32, &'static str) -> Row;
        serialize_seq(Option<usize>) -> Impossible<Row, RecordError>;
        serialize_tuple(usize) -> Impossible<Row, RecordError>;
        serialize_tuple_struct(&'static str, usize) -> Impossible<Row, RecordError>;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Impossible<Row, RecordError>;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Impossible<Row, RecordError>;
    }
}

/// Collects a struct's fields or a map's entries.
struct RowBuilder {
    row: Row,
    key: Option<String>,
}

impl RowBuilder {
    fn with_capacity(len: usize) -> Self {
        RowBuilder {
            row: Row {
                columns: Vec::with_capacity(len),
                values: Vec::with_capacity(len),
            },
            key: None,
        }
    }

    fn push<T: Serialize + ?Sized>(
        &mut self,
        column: Cow<'static, str>,
        value: &T,
    ) -> Result<(), RecordError> {
        let value = value
            .serialize(CellSerializer)
            .map_err(|e| RecordError(format!("field `{column}`: {e}")))?;
        self.row.columns.push(column);
        self.row.values.push(value);
        Ok(())
    }
}

impl SerializeStruct for RowBuilder {
    type Ok = Row;
    type Error = RecordError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), RecordError> {
        self.push(Cow::Borrowed(key), value)
    }

    fn end(self) -> Result<Row, RecordError> {
        Ok(self.row)
    }
}

impl SerializeMap for RowBuilder {
    type Ok = Row;
    type Error = RecordError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), RecordError> {
        match key.serialize(CellSerializer)? {
            SqlValue::Text(name) => {
                self.key = Some(name);
                Ok(())
            }
            _ => Err(RecordError(NOT_A_ROW.into())),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), RecordError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| RecordError("a map value came before its key".into()))?;
        self.push(Cow::Owned(key), value)
    }

    fn end(self) -> Result<Row, RecordError> {
        Ok(self.row)
    }
}

const NOT_A_SCALAR: &str = "a column holds one scalar value; nested structs, maps and sequences (other than bytes) cannot be written";

/// One field's value.
struct CellSerializer;

macro_rules! not_a_scalar {
    ($($method:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ret, RecordError> {
            Err(RecordError(NOT_A_SCALAR.into()))
        })*
    };
}

impl ser::Serializer for CellSerializer {
    type Ok = SqlValue;
    type Error = RecordError;
    type SerializeSeq = BytesBuilder;
    type SerializeTuple = Impossible<SqlValue, RecordError>;
    type SerializeTupleStruct = Impossible<SqlValue, RecordError>;
    type SerializeTupleVariant = Impossible<SqlValue, RecordError>;
    type SerializeMap = Impossible<SqlValue, RecordError>;
    type SerializeStruct = Impossible<SqlValue, RecordError>;
    type SerializeStructVariant = Impossible<SqlValue, RecordError>;

    fn serialize_bool(self, v: bool) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<SqlValue, RecordError> {
        i64::try_from(v)
            .map(SqlValue::Int)
            .map_err(|_| RecordError(format!("{v} does not fit a 64-bit signed SQL integer")))
    }
    fn serialize_f32(self, v: f32) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Real(v))
    }
    fn serialize_f64(self, v: f64) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Text(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<SqlValue, RecordError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Text(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<SqlValue, RecordError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<SqlValue, RecordError> {
        Err(RecordError(NOT_A_SCALAR.into()))
    }
    /// A `Vec<u8>` serializes as a sequence of `u8`: it becomes bytes.
    fn serialize_seq(self, len: Option<usize>) -> Result<BytesBuilder, RecordError> {
        Ok(BytesBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }

    not_a_scalar! {
        serialize_tuple(usize) -> Impossible<SqlValue, RecordError>;
        serialize_tuple_struct(&'static str, usize) -> Impossible<SqlValue, RecordError>;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Impossible<SqlValue, RecordError>;
        serialize_map(Option<usize>) -> Impossible<SqlValue, RecordError>;
        serialize_struct(&'static str, usize) -> Impossible<SqlValue, RecordError>;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Impossible<SqlValue, RecordError>;
    }
}

/// A sequence that must hold only `u8`s.
struct BytesBuilder(Vec<u8>);

impl SerializeSeq for BytesBuilder {
    type Ok = SqlValue;
    type Error = RecordError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), RecordError> {
        self.0.push(value.serialize(U8Only)?);
        Ok(())
    }

    fn end(self) -> Result<SqlValue, RecordError> {
        Ok(SqlValue::Bytes(self.0))
    }
}

/// Accepts a `u8` only: a `Vec<u8>` is bytes, a `Vec<i32>` is not a scalar.
struct U8Only;

macro_rules! not_a_byte {
    ($($method:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ret, RecordError> {
            Err(RecordError(NOT_A_SCALAR.into()))
        })*
    };
}

impl ser::Serializer for U8Only {
    type Ok = u8;
    type Error = RecordError;
    type SerializeSeq = Impossible<u8, RecordError>;
    type SerializeTuple = Impossible<u8, RecordError>;
    type SerializeTupleStruct = Impossible<u8, RecordError>;
    type SerializeTupleVariant = Impossible<u8, RecordError>;
    type SerializeMap = Impossible<u8, RecordError>;
    type SerializeStruct = Impossible<u8, RecordError>;
    type SerializeStructVariant = Impossible<u8, RecordError>;

    fn serialize_u8(self, v: u8) -> Result<u8, RecordError> {
        Ok(v)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<u8, RecordError> {
        Err(RecordError(NOT_A_SCALAR.into()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<u8, RecordError> {
        Err(RecordError(NOT_A_SCALAR.into()))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<u8, RecordError> {
        Err(RecordError(NOT_A_SCALAR.into()))
    }
    not_a_byte! {
        serialize_bool(bool) -> u8;
        serialize_i8(i8) -> u8;
        serialize_i16(i16) -> u8;
        serialize_i32(i32) -> u8;
        serialize_i64(i64) -> u8;
        serialize_u16(u16) -> u8;
        serialize_u32(u32) -> u8;
        serialize_u64(u64) -> u8;
        serialize_f32(f32) -> u8;
        serialize_f64(f64) -> u8;
        serialize_char(char) -> u8;
        serialize_str(&str) -> u8;
        serialize_bytes(&[u8]) -> u8;
        serialize_none() -> u8;
        serialize_unit() -> u8;
        serialize_unit_struct(&'static str) -> u8;
        serialize_unit_variant(&'static str, u32, &'static str) -> u8;
        serialize_seq(Option<usize>) -> Impossible<u8, RecordError>;
        serialize_tuple(usize) -> Impossible<u8, RecordError>;
        serialize_tuple_struct(&'static str, usize) -> Impossible<u8, RecordError>;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Impossible<u8, RecordError>;
        serialize_map(Option<usize>) -> Impossible<u8, RecordError>;
        serialize_struct(&'static str, usize) -> Impossible<u8, RecordError>;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Impossible<u8, RecordError>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    enum Side {
        Buy,
    }

    #[derive(Serialize)]
    struct Trade {
        id: u32,
        name: Option<String>,
        price: f32,
        side: Side,
        payload: Vec<u8>,
        at: chrono::NaiveDate,
    }

    #[test]
    fn a_struct_becomes_named_cells() {
        let row = to_row(&Trade {
            id: 1,
            name: None,
            price: 0.1,
            side: Side::Buy,
            payload: vec![1, 2],
            at: chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
        })
        .unwrap();
        assert_eq!(
            row.columns,
            ["id", "name", "price", "side", "payload", "at"]
        );
        assert_eq!(
            row.values,
            vec![
                SqlValue::Int(1),
                SqlValue::Null,
                SqlValue::Real(0.1),
                SqlValue::Text("Buy".into()),
                SqlValue::Bytes(vec![1, 2]),
                SqlValue::Text("2024-02-29".into()),
            ]
        );
        let map = BTreeMap::from([("k", 5u64)]);
        assert_eq!(to_row(&map).unwrap().columns, ["k"]);
    }

    #[test]
    fn what_cannot_be_a_row_is_an_error_naming_the_field() {
        #[derive(Serialize)]
        struct Nested {
            inner: Vec<i32>,
        }
        let err = to_row(&Nested { inner: vec![1] }).unwrap_err();
        assert!(
            err.0
                .starts_with("field `inner`: a column holds one scalar"),
            "{err}"
        );
        assert!(to_row(&(1, 2)).unwrap_err().0.contains("named fields"));
        #[derive(Serialize)]
        struct Big {
            n: u64,
        }
        let err = to_row(&Big { n: u64::MAX }).unwrap_err();
        assert!(
            err.0
                .starts_with("field `n`: 18446744073709551615 does not fit"),
            "{err}"
        );
    }
}
