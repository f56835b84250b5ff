//! Typed rows out of record batches, streamed one row at a time.
//!
//! A batch whose columns are all flat (booleans, integers, floats, strings,
//! binary) is decoded by position: its columns are downcast once, and each
//! row is handed to `T`'s `Deserialize` as a sequence in the order of `T`'s
//! fields, so there is no per-field name matching, no second UTF-8
//! validation and no `Vec<T>` per batch. Any other batch (nested, temporal,
//! decimal or dictionary columns) is decoded by serde_arrow.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, LargeBinaryArray, LargeStringArray, RecordBatch,
    StringArray, StringViewArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// The values of one flat column, downcast.
enum Values {
    Bool(BooleanArray),
    I8(Int8Array),
    I16(Int16Array),
    I32(Int32Array),
    I64(Int64Array),
    U8(UInt8Array),
    U16(UInt16Array),
    U32(UInt32Array),
    U64(UInt64Array),
    F32(Float32Array),
    F64(Float64Array),
    Str(StringArray),
    LargeStr(LargeStringArray),
    StrView(StringViewArray),
    Bin(BinaryArray),
    LargeBin(LargeBinaryArray),
    BinView(BinaryViewArray),
}

impl Values {
    /// The column's values, or `None` if it is not flat. (Cloning an Arrow
    /// array shares its buffers.)
    fn of(array: &ArrayRef) -> Option<Values> {
        use DataType as D;
        Some(match array.data_type() {
            D::Boolean => Values::Bool(array.as_boolean().clone()),
            D::Int8 => Values::I8(array.as_primitive::<Int8Type>().clone()),
            D::Int16 => Values::I16(array.as_primitive::<Int16Type>().clone()),
            D::Int32 => Values::I32(array.as_primitive::<Int32Type>().clone()),
            D::Int64 => Values::I64(array.as_primitive::<Int64Type>().clone()),
            D::UInt8 => Values::U8(array.as_primitive::<UInt8Type>().clone()),
            D::UInt16 => Values::U16(array.as_primitive::<UInt16Type>().clone()),
            D::UInt32 => Values::U32(array.as_primitive::<UInt32Type>().clone()),
            D::UInt64 => Values::U64(array.as_primitive::<UInt64Type>().clone()),
            D::Float32 => Values::F32(array.as_primitive::<Float32Type>().clone()),
            D::Float64 => Values::F64(array.as_primitive::<Float64Type>().clone()),
            D::Utf8 => Values::Str(array.as_string::<i32>().clone()),
            D::LargeUtf8 => Values::LargeStr(array.as_string::<i64>().clone()),
            D::Utf8View => Values::StrView(array.as_string_view().clone()),
            D::Binary => Values::Bin(array.as_binary::<i32>().clone()),
            D::LargeBinary => Values::LargeBin(array.as_binary::<i64>().clone()),
            D::BinaryView => Values::BinView(array.as_binary_view().clone()),
            _ => return None,
        })
    }

    /// Hands the value at `row` (not null) to `visitor`.
    #[inline]
    fn visit<'de, V: Visitor<'de>>(&self, row: usize, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Values::Bool(a) => visitor.visit_bool(a.value(row)),
            Values::I8(a) => visitor.visit_i8(a.value(row)),
            Values::I16(a) => visitor.visit_i16(a.value(row)),
            Values::I32(a) => visitor.visit_i32(a.value(row)),
            Values::I64(a) => visitor.visit_i64(a.value(row)),
            Values::U8(a) => visitor.visit_u8(a.value(row)),
            Values::U16(a) => visitor.visit_u16(a.value(row)),
            Values::U32(a) => visitor.visit_u32(a.value(row)),
            Values::U64(a) => visitor.visit_u64(a.value(row)),
            Values::F32(a) => visitor.visit_f32(a.value(row)),
            Values::F64(a) => visitor.visit_f64(a.value(row)),
            Values::Str(a) => visitor.visit_str(a.value(row)),
            Values::LargeStr(a) => visitor.visit_str(a.value(row)),
            Values::StrView(a) => visitor.visit_str(a.value(row)),
            Values::Bin(a) => visitor.visit_bytes(a.value(row)),
            Values::LargeBin(a) => visitor.visit_bytes(a.value(row)),
            Values::BinView(a) => visitor.visit_bytes(a.value(row)),
        }
    }
}

/// One flat column of a batch.
struct Column {
    name: String,
    values: Values,
    nulls: Option<NullBuffer>,
}

/// A batch whose columns are all flat.
struct FlatBatch {
    columns: Vec<Column>,
    rows: usize,
}

impl FlatBatch {
    /// The batch's columns, or `None` if one is not flat.
    fn of(batch: &RecordBatch) -> Option<FlatBatch> {
        let schema = batch.schema();
        let columns = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(field, array)| {
                Some(Column {
                    name: field.name().clone(),
                    values: Values::of(array)?,
                    nulls: array.logical_nulls(),
                })
            })
            .collect::<Option<Vec<Column>>>()?;
        Some(FlatBatch {
            columns,
            rows: batch.num_rows(),
        })
    }
}

/// Which column holds each field of a struct serde asks for, worked out
/// once per field list (serde passes the same `'static` list for every row).
#[derive(Default)]
struct FieldOrder {
    fields: Option<&'static [&'static str]>,
    columns: Vec<Option<usize>>,
}

impl FieldOrder {
    #[inline]
    fn columns_for(
        &mut self,
        fields: &'static [&'static str],
        batch: &FlatBatch,
    ) -> &[Option<usize>] {
        if !self.fields.is_some_and(|known| std::ptr::eq(known, fields)) {
            self.columns = fields
                .iter()
                .map(|f| batch.columns.iter().position(|c| c.name == *f))
                .collect();
            self.fields = Some(fields);
        }
        &self.columns
    }
}

/// The rows of one record batch as `T`s. A row that cannot be decoded ends
/// them; [`TypedRows::take_error`] says why.
pub(crate) struct TypedRows<T> {
    rows: Rows<T>,
    error: Option<String>,
}

enum Rows<T> {
    /// A flat batch, decoded by position one row per `next`.
    Flat {
        batch: FlatBatch,
        order: FieldOrder,
        row: usize,
        _row: PhantomData<fn() -> T>,
    },
    /// Any other batch, decoded whole by serde_arrow.
    Decoded(std::vec::IntoIter<T>),
}

impl<T: DeserializeOwned> TypedRows<T> {
    /// The rows of `batch`; an error (from serde_arrow) says why a non-flat
    /// batch cannot be decoded.
    pub(crate) fn new(batch: &RecordBatch) -> Result<TypedRows<T>, String> {
        match FlatBatch::of(batch) {
            Some(batch) => Ok(Rows::Flat {
                batch,
                order: FieldOrder::default(),
                row: 0,
                _row: PhantomData,
            }),
            None => serde_arrow::from_record_batch::<Vec<T>>(batch)
                .map(|rows| Rows::Decoded(rows.into_iter()))
                .map_err(|e| e.to_string()),
        }
        .map(|rows| TypedRows { rows, error: None })
    }

    /// Why the rows ended before the batch did, if they did.
    pub(crate) fn take_error(&mut self) -> Option<String> {
        self.error.take()
    }
}

impl<T: DeserializeOwned> Iterator for TypedRows<T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        match &mut self.rows {
            Rows::Flat {
                batch, order, row, ..
            } => {
                if *row == batch.rows {
                    return None;
                }
                let de = RowDeserializer {
                    batch,
                    order,
                    row: *row,
                };
                *row += 1;
                match T::deserialize(de) {
                    Ok(value) => Some(value),
                    Err(e) => {
                        // Nothing after a bad row is read.
                        *row = batch.rows;
                        self.error = Some(e.0);
                        None
                    }
                }
            }
            Rows::Decoded(rows) => rows.next(),
        }
    }
}

/// Why a value cannot be decoded.
#[derive(Debug)]
pub(crate) struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl DecodeError {
    /// The error, naming the column it was met in. Out of line, so that the
    /// per-row decoding code stays small enough to inline.
    #[cold]
    #[inline(never)]
    fn in_column(self, name: &str) -> DecodeError {
        DecodeError(format!("column `{name}`: {}", self.0))
    }
}

impl de::Error for DecodeError {
    /// Out of line, as [`DecodeError::in_column`].
    #[cold]
    #[inline(never)]
    fn custom<M: fmt::Display>(message: M) -> Self {
        DecodeError(message.to_string())
    }
}

/// `Deserializer` methods for a field of a native type: a column of that
/// very type is read without dispatching on the column's type (the common
/// case, and a branch the CPU predicts); any other goes through
/// `deserialize_any`.
macro_rules! deserialize_native {
    ($($method:ident => $variant:ident . $visit:ident),* $(,)?) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            match self.present().map(|c| &c.values) {
                Some(Values::$variant(a)) => visitor.$visit(a.value(self.row)),
                _ => self.deserialize_other(visitor),
            }
        }
    )*};
}

/// One row of a flat batch: a struct that asks for its fields by position.
/// (serde_arrow cannot derive a schema for other row types.)
struct RowDeserializer<'a> {
    batch: &'a FlatBatch,
    order: &'a mut FieldOrder,
    row: usize,
}

impl<'de> Deserializer<'de> for RowDeserializer<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, DecodeError> {
        Err(DecodeError("a row type must be a struct".into()))
    }

    #[inline]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let columns = self.order.columns_for(fields, self.batch);
        visitor.visit_seq(RowSeq {
            batch: self.batch,
            fields,
            columns,
            row: self.row,
            next: 0,
        })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// A row's fields in the order of the struct's fields.
struct RowSeq<'a> {
    batch: &'a FlatBatch,
    fields: &'static [&'static str],
    columns: &'a [Option<usize>],
    row: usize,
    next: usize,
}

impl<'de> SeqAccess<'de> for RowSeq<'_> {
    type Error = DecodeError;

    #[inline]
    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DecodeError> {
        let Some(column) = self.columns.get(self.next) else {
            return Ok(None);
        };
        let name = self.fields[self.next];
        self.next += 1;
        let value = ValueDeserializer {
            column: column.map(|i| &self.batch.columns[i]),
            row: self.row,
        };
        seed.deserialize(value)
            .map(Some)
            .map_err(|e| e.in_column(name))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.columns.len() - self.next)
    }
}

/// The value of one column at one row; `column` is `None` for a field the
/// batch has no column for (it decodes as an absent `Option`).
struct ValueDeserializer<'a> {
    column: Option<&'a Column>,
    row: usize,
}

impl<'a> ValueDeserializer<'a> {
    /// A field whose column is null, missing or of another type than the
    /// field's: rare, so out of line (see [`DecodeError::in_column`]).
    #[cold]
    #[inline(never)]
    fn deserialize_other<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }

    /// The column, if the value is not null.
    #[inline]
    fn present(&self) -> Option<&'a Column> {
        self.column
            .filter(|c| c.nulls.as_ref().is_none_or(|n| n.is_valid(self.row)))
    }
}

impl<'de> Deserializer<'de> for ValueDeserializer<'_> {
    type Error = DecodeError;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match (self.column, self.present()) {
            (_, Some(column)) => column.values.visit(self.row, visitor),
            (Some(_), None) => Err(DecodeError(
                "a null value, but the field is not an `Option`".into(),
            )),
            (None, None) => Err(DecodeError(
                "no such column, and the field is not an `Option`".into(),
            )),
        }
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.present() {
            Some(_) => visitor.visit_some(self),
            None => visitor.visit_none(),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    /// A character from a one-character string, or from its code point
    /// (serde_arrow writes a `char` as a `UInt32`).
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.present().map(|c| &c.values) {
            Some(Values::U32(a)) => {
                let code = a.value(self.row);
                let c = char::from_u32(code)
                    .ok_or_else(|| DecodeError(format!("{code} is not a character")))?;
                visitor.visit_char(c)
            }
            _ => self.deserialize_any(visitor),
        }
    }

    deserialize_native! {
        deserialize_bool => Bool.visit_bool,
        deserialize_i8 => I8.visit_i8,
        deserialize_i16 => I16.visit_i16,
        deserialize_i32 => I32.visit_i32,
        deserialize_i64 => I64.visit_i64,
        deserialize_u8 => U8.visit_u8,
        deserialize_u16 => U16.visit_u16,
        deserialize_u32 => U32.visit_u32,
        deserialize_u64 => U64.visit_u64,
        deserialize_f32 => F32.visit_f32,
        deserialize_f64 => F64.visit_f64,
        deserialize_str => Str.visit_str,
        deserialize_string => Str.visit_str,
    }

    serde::forward_to_deserialize_any! {
        i128 u128 bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}
