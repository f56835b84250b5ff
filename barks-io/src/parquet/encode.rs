//! Typed rows into record batches, one row at a time.
//!
//! When every field of the row type has a flat Arrow type (booleans,
//! integers, floats, strings, binary), each row is serialized by position
//! straight into the Arrow builders of its columns. Any other row type — or
//! one that does not serialize as a plain struct, e.g. with a flattened
//! field — goes through serde_arrow's `ArrayBuilder`. Either way rows are
//! not collected into a `Vec<T>` first.

use arrow_array::builder::{
    ArrayBuilder, BinaryBuilder, BooleanBuilder, Float32Builder, Float64Builder, Int8Builder,
    Int16Builder, Int32Builder, Int64Builder, LargeBinaryBuilder, LargeStringBuilder,
    StringBuilder, UInt8Builder, UInt16Builder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};
use serde::Serialize;
use serde::ser::{self, Impossible, SerializeStruct, Serializer};
use std::fmt;
use std::sync::Arc;

/// Serde rows of one schema, pushed one at a time and taken out as Arrow
/// record batches: what [`SaveAsParquet`](super::SaveAsParquet) encodes rows
/// with, for any code that turns typed rows into batches.
///
/// A row type whose fields all have flat Arrow types (booleans, integers,
/// floats, strings, binary) is written by position straight into one Arrow
/// builder per column; any other goes through serde_arrow. Errors are
/// messages that name the column where they can (column `x`: the integer
/// 256 does not fit the column's type UInt8); callers add the row type and
/// where the rows were going.
///
/// ```
/// use barks_io::parquet::{RowBatcher, fields_of};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Trade { symbol: String, price: f64 }
///
/// let mut batcher = RowBatcher::new(fields_of::<Trade>().unwrap(), 1024).unwrap();
/// for (symbol, price) in [("abc", 1.5), ("xyz", 20.0)] {
///     batcher.push(&Trade { symbol: symbol.into(), price }).unwrap();
/// }
/// assert_eq!(batcher.len(), 2);
/// let batch = batcher.take_batch().unwrap();
/// assert_eq!(batch.num_rows(), 2);
/// assert_eq!(batch.schema(), batcher.schema());
/// assert!(batcher.is_empty());
/// ```
pub struct RowBatcher {
    fields: Vec<FieldRef>,
    schema: SchemaRef,
    builders: Builders,
    /// The rows pushed since the last batch was taken.
    rows: usize,
}

enum Builders {
    /// One builder per column, filled by position.
    Flat(Vec<FlatColumn>),
    /// serde_arrow's builder, for any other row type.
    SerdeArrow(Box<serde_arrow::ArrayBuilder>),
}

impl RowBatcher {
    /// A batcher for rows with these Arrow fields (as
    /// [`fields_of`](super::fields_of) derives them), its builders sized
    /// for batches of about `batch_rows` rows (the caller decides when to
    /// take one). An error if serde_arrow cannot build the fields' arrays.
    pub fn new(fields: Vec<FieldRef>, batch_rows: usize) -> Result<RowBatcher, String> {
        let builders = match fields
            .iter()
            .map(|f| FlatColumn::of(f, batch_rows))
            .collect()
        {
            Some(columns) => Builders::Flat(columns),
            None => serde_arrow_builder(&fields)?,
        };
        Ok(RowBatcher {
            schema: Arc::new(Schema::new(fields.clone())),
            fields,
            builders,
            rows: 0,
        })
    }

    /// The schema of the batches: the fields given to [`new`](Self::new).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The rows pushed since the last batch was taken.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was pushed since the last batch was taken.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Adds one row; an error (naming the column where it can) if a value
    /// does not fit its column's type. A row that failed may have left
    /// values in some columns: take no batch after an error.
    pub fn push<T: Serialize>(&mut self, row: &T) -> Result<(), String> {
        match &mut self.builders {
            Builders::Flat(columns) => match row.serialize(Encode(Slot::Row {
                columns,
                rows: self.rows,
            })) {
                Ok(()) => {}
                // The row is not a plain struct: serde_arrow takes over at
                // the start of a batch (the builders hold only this row's
                // partial values, dropped here).
                Err(e) if e.unsupported && self.rows == 0 => {
                    self.builders = serde_arrow_builder(&self.fields)?;
                    return self.push(row);
                }
                Err(e) => return Err(e.message),
            },
            Builders::SerdeArrow(builder) => builder.push(row).map_err(|e| e.to_string())?,
        }
        self.rows += 1;
        Ok(())
    }

    /// The rows pushed since the last batch, as a batch of exactly
    /// [`schema`](Self::schema); the batcher starts over empty.
    pub fn take_batch(&mut self) -> Result<RecordBatch, String> {
        let batch = match &mut self.builders {
            Builders::Flat(columns) => RecordBatch::try_new(
                self.schema.clone(),
                columns.iter_mut().map(|c| c.finish(self.rows)).collect(),
            )
            .map_err(|e| e.to_string())?,
            Builders::SerdeArrow(builder) => {
                let batch = builder.to_record_batch().map_err(|e| e.to_string())?;
                // serde_arrow's schema may differ from the fields in metadata.
                if batch.schema() == self.schema {
                    batch
                } else {
                    RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
                        .map_err(|e| e.to_string())?
                }
            }
        };
        self.rows = 0;
        Ok(batch)
    }
}

fn serde_arrow_builder(fields: &[FieldRef]) -> Result<Builders, String> {
    serde_arrow::ArrayBuilder::from_arrow(fields)
        .map(|builder| Builders::SerdeArrow(Box::new(builder)))
        .map_err(|e| e.to_string())
}

/// The builder of one flat column.
enum FlatBuilder {
    Bool(BooleanBuilder),
    I8(Int8Builder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    U8(UInt8Builder),
    U16(UInt16Builder),
    U32(UInt32Builder),
    U64(UInt64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Str(StringBuilder),
    LargeStr(LargeStringBuilder),
    Bin(BinaryBuilder),
    LargeBin(LargeBinaryBuilder),
}

impl FlatBuilder {
    /// A builder of `data_type` with room for `rows` values (and `bytes`
    /// bytes of them for strings and binary), or `None` if the type is not
    /// flat.
    fn new(data_type: &DataType, rows: usize, bytes: usize) -> Option<FlatBuilder> {
        use DataType as D;
        Some(match data_type {
            D::Boolean => FlatBuilder::Bool(BooleanBuilder::with_capacity(rows)),
            D::Int8 => FlatBuilder::I8(Int8Builder::with_capacity(rows)),
            D::Int16 => FlatBuilder::I16(Int16Builder::with_capacity(rows)),
            D::Int32 => FlatBuilder::I32(Int32Builder::with_capacity(rows)),
            D::Int64 => FlatBuilder::I64(Int64Builder::with_capacity(rows)),
            D::UInt8 => FlatBuilder::U8(UInt8Builder::with_capacity(rows)),
            D::UInt16 => FlatBuilder::U16(UInt16Builder::with_capacity(rows)),
            D::UInt32 => FlatBuilder::U32(UInt32Builder::with_capacity(rows)),
            D::UInt64 => FlatBuilder::U64(UInt64Builder::with_capacity(rows)),
            D::Float32 => FlatBuilder::F32(Float32Builder::with_capacity(rows)),
            D::Float64 => FlatBuilder::F64(Float64Builder::with_capacity(rows)),
            D::Utf8 => FlatBuilder::Str(StringBuilder::with_capacity(rows, bytes)),
            D::LargeUtf8 => FlatBuilder::LargeStr(LargeStringBuilder::with_capacity(rows, bytes)),
            D::Binary => FlatBuilder::Bin(BinaryBuilder::with_capacity(rows, bytes)),
            D::LargeBinary => FlatBuilder::LargeBin(LargeBinaryBuilder::with_capacity(rows, bytes)),
            _ => return None,
        })
    }
}

/// `$body` with `$b` bound to the builder, whatever its type.
macro_rules! with_builder {
    ($values:expr, $b:ident => $body:expr) => {
        match $values {
            FlatBuilder::Bool($b) => $body,
            FlatBuilder::I8($b) => $body,
            FlatBuilder::I16($b) => $body,
            FlatBuilder::I32($b) => $body,
            FlatBuilder::I64($b) => $body,
            FlatBuilder::U8($b) => $body,
            FlatBuilder::U16($b) => $body,
            FlatBuilder::U32($b) => $body,
            FlatBuilder::U64($b) => $body,
            FlatBuilder::F32($b) => $body,
            FlatBuilder::F64($b) => $body,
            FlatBuilder::Str($b) => $body,
            FlatBuilder::LargeStr($b) => $body,
            FlatBuilder::Bin($b) => $body,
            FlatBuilder::LargeBin($b) => $body,
        }
    };
}

/// One flat column being built.
struct FlatColumn {
    field: FieldRef,
    /// The `'static` field name serde passed for this column last time:
    /// the same pointer again is recognized without comparing bytes.
    key: Option<&'static str>,
    values: FlatBuilder,
}

impl FlatColumn {
    /// The column of `field` with room for `rows` values, or `None` if its
    /// type is not flat.
    fn of(field: &FieldRef, rows: usize) -> Option<FlatColumn> {
        Some(FlatColumn {
            field: field.clone(),
            key: None,
            values: FlatBuilder::new(field.data_type(), rows, rows * 16)?,
        })
    }

    /// Whether serde's field name `key` is this column's name.
    #[inline]
    fn is_named(&mut self, key: &'static str) -> bool {
        if self.key.is_some_and(|known| std::ptr::eq(known, key)) {
            return true;
        }
        let named = self.field.name() == key;
        if named {
            self.key = Some(key);
        }
        named
    }

    fn mismatch(&self, what: &str) -> EncodeError {
        mismatch(&self.field, what)
    }

    #[inline]
    fn bool(&mut self, v: bool) -> Result<(), EncodeError> {
        match &mut self.values {
            FlatBuilder::Bool(b) => b.append_value(v),
            _ => return Err(self.mismatch("a boolean")),
        }
        Ok(())
    }

    /// An integer into an integer column (range-checked) or a float one.
    #[inline]
    fn int(&mut self, v: i128) -> Result<(), EncodeError> {
        fn fit<N: TryFrom<i128>>(v: i128, field: &Field) -> Result<N, EncodeError> {
            N::try_from(v).map_err(|_| mismatch(field, &format!("the integer {v}")))
        }
        let column = &*self.field;
        match &mut self.values {
            FlatBuilder::I8(b) => b.append_value(fit(v, column)?),
            FlatBuilder::I16(b) => b.append_value(fit(v, column)?),
            FlatBuilder::I32(b) => b.append_value(fit(v, column)?),
            FlatBuilder::I64(b) => b.append_value(fit(v, column)?),
            FlatBuilder::U8(b) => b.append_value(fit(v, column)?),
            FlatBuilder::U16(b) => b.append_value(fit(v, column)?),
            FlatBuilder::U32(b) => b.append_value(fit(v, column)?),
            FlatBuilder::U64(b) => b.append_value(fit(v, column)?),
            FlatBuilder::F32(b) => b.append_value(v as f32),
            FlatBuilder::F64(b) => b.append_value(v as f64),
            _ => return Err(self.mismatch("an integer")),
        }
        Ok(())
    }

    #[inline]
    fn float(&mut self, v: f64) -> Result<(), EncodeError> {
        match &mut self.values {
            FlatBuilder::F32(b) => b.append_value(v as f32),
            FlatBuilder::F64(b) => b.append_value(v),
            _ => return Err(self.mismatch("a floating-point number")),
        }
        Ok(())
    }

    #[inline]
    fn str(&mut self, v: &str) -> Result<(), EncodeError> {
        match &mut self.values {
            FlatBuilder::Str(b) => b.append_value(v),
            FlatBuilder::LargeStr(b) => b.append_value(v),
            _ => return Err(self.mismatch("a string")),
        }
        Ok(())
    }

    /// A character into a string column, or as its code point (the
    /// `UInt32` serde_arrow derives for `char`).
    fn char(&mut self, v: char) -> Result<(), EncodeError> {
        match &self.values {
            FlatBuilder::Str(_) | FlatBuilder::LargeStr(_) => self.str(v.encode_utf8(&mut [0; 4])),
            _ => self.int(u32::from(v).into()),
        }
    }

    #[inline]
    fn bytes(&mut self, v: &[u8]) -> Result<(), EncodeError> {
        match &mut self.values {
            FlatBuilder::Bin(b) => b.append_value(v),
            FlatBuilder::LargeBin(b) => b.append_value(v),
            _ => return Err(self.mismatch("a byte string")),
        }
        Ok(())
    }

    fn null(&mut self) -> Result<(), EncodeError> {
        if !self.field.is_nullable() {
            return Err(EncodeError::new(
                "a missing value, but the column is not nullable".into(),
            ));
        }
        with_builder!(&mut self.values, b => b.append_null());
        Ok(())
    }

    fn len(&self) -> usize {
        with_builder!(&self.values, b => b.len())
    }

    /// The values so far, as an array; the builder starts over with room
    /// for `rows` more (the next batch is likely the same size, so it is
    /// sized now rather than grown value by value).
    fn finish(&mut self, rows: usize) -> ArrayRef {
        let bytes = match &self.values {
            FlatBuilder::Str(b) => b.values_slice().len(),
            FlatBuilder::LargeStr(b) => b.values_slice().len(),
            FlatBuilder::Bin(b) => b.values_slice().len(),
            FlatBuilder::LargeBin(b) => b.values_slice().len(),
            _ => 0,
        };
        let array: ArrayRef = with_builder!(&mut self.values, b => Arc::new(b.finish()));
        // Headroom for a batch of longer values than the last one.
        let bytes = bytes + bytes / 4;
        if let Some(values) = FlatBuilder::new(self.field.data_type(), rows, bytes) {
            self.values = values;
        }
        array
    }
}

/// A value of the wrong type (or out of range) for `field`.
fn mismatch(field: &Field, what: &str) -> EncodeError {
    EncodeError::new(format!(
        "{what} does not fit the column's type {}",
        field.data_type()
    ))
}

/// Why a row cannot be encoded.
#[derive(Debug)]
struct EncodeError {
    message: String,
    /// The row's shape is not a struct of flat values (serde_arrow may
    /// encode it).
    unsupported: bool,
}

impl EncodeError {
    fn new(message: String) -> EncodeError {
        EncodeError {
            message,
            unsupported: false,
        }
    }

    fn unsupported(what: &str) -> EncodeError {
        EncodeError {
            message: format!("{what} is not a flat column value"),
            unsupported: true,
        }
    }

    fn variant(name: &str) -> EncodeError {
        EncodeError::unsupported(&format!("the variant `{name}`"))
    }

    fn in_column(self, name: &str) -> EncodeError {
        EncodeError {
            message: format!("column `{name}`: {}", self.message),
            ..self
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<M: fmt::Display>(message: M) -> Self {
        EncodeError::new(message.to_string())
    }
}

/// What a value is serialized into.
enum Slot<'a> {
    /// A whole row: a struct whose fields go to `columns`, which hold
    /// `rows` values before it.
    Row {
        columns: &'a mut [FlatColumn],
        rows: usize,
    },
    /// One field's value.
    Value(&'a mut FlatColumn),
}

/// A serde serializer into a [`Slot`].
struct Encode<'a>(Slot<'a>);

impl<'a> Encode<'a> {
    /// The column a scalar `what` goes to.
    #[inline]
    fn column(self, what: &str) -> Result<&'a mut FlatColumn, EncodeError> {
        match self.0 {
            Slot::Value(column) => Ok(column),
            Slot::Row { .. } => Err(EncodeError::unsupported(&format!("a row that is {what}"))),
        }
    }
}

type Unsupported = Impossible<(), EncodeError>;

/// `Serializer` methods that put an integer into the value's column: a
/// column of the integer's own type directly, any other one through
/// [`FlatColumn::int`].
macro_rules! serialize_integers {
    ($($method:ident($t:ty => $variant:ident)),* $(,)?) => {$(
        #[inline]
        fn $method(self, v: $t) -> Result<(), EncodeError> {
            let column = self.column("an integer")?;
            match &mut column.values {
                FlatBuilder::$variant(b) => {
                    b.append_value(v);
                    Ok(())
                }
                _ => column.int(v.into()),
            }
        }
    )*};
}

impl<'a> Serializer for Encode<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Unsupported;
    type SerializeTuple = Unsupported;
    type SerializeTupleStruct = Unsupported;
    type SerializeTupleVariant = Unsupported;
    type SerializeMap = Unsupported;
    type SerializeStruct = RowFields<'a>;
    type SerializeStructVariant = Unsupported;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.column("a boolean")?.bool(v)
    }
    serialize_integers!(
        serialize_i8(i8 => I8),
        serialize_i16(i16 => I16),
        serialize_i32(i32 => I32),
        serialize_i64(i64 => I64),
        serialize_u8(u8 => U8),
        serialize_u16(u16 => U16),
        serialize_u32(u32 => U32),
        serialize_u64(u64 => U64),
    );
    #[inline]
    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        self.column("an integer")?.int(v)
    }
    #[inline]
    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        let column = self.column("an integer")?;
        match i128::try_from(v) {
            Ok(v) => column.int(v),
            Err(_) => Err(column.mismatch(&format!("the integer {v}"))),
        }
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        self.column("a number")?.float(v.into())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        self.column("a number")?.float(v)
    }
    #[inline]
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.column("a character")?.char(v)
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.column("a string")?.str(v)
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        self.column("a byte string")?.bytes(v)
    }
    #[inline]
    fn serialize_none(self) -> Result<(), EncodeError> {
        self.column("`None`")?.null()
    }
    #[inline]
    fn serialize_some<V: Serialize + ?Sized>(self, value: &V) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        Err(EncodeError::unsupported("`()`"))
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<(), EncodeError> {
        Err(EncodeError::unsupported(&format!(
            "the unit struct `{name}`"
        )))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        Err(EncodeError::variant(variant))
    }
    #[inline]
    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &V,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: &V,
    ) -> Result<(), EncodeError> {
        Err(EncodeError::variant(variant))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Unsupported, EncodeError> {
        Err(EncodeError::unsupported("a sequence"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Unsupported, EncodeError> {
        Err(EncodeError::unsupported("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        _: usize,
    ) -> Result<Unsupported, EncodeError> {
        Err(EncodeError::unsupported(&format!(
            "the tuple struct `{name}`"
        )))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Unsupported, EncodeError> {
        Err(EncodeError::variant(variant))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Unsupported, EncodeError> {
        Err(EncodeError::unsupported("a map"))
    }
    #[inline]
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<RowFields<'a>, EncodeError> {
        match self.0 {
            Slot::Row { columns, rows } => Ok(RowFields {
                columns,
                rows,
                next: 0,
                in_order: true,
            }),
            Slot::Value(_) => Err(EncodeError::unsupported(&format!("the struct `{name}`"))),
        }
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Unsupported, EncodeError> {
        Err(EncodeError::variant(variant))
    }
}

/// A row's fields, expected in the order of the columns (looked up by name
/// otherwise).
struct RowFields<'a> {
    columns: &'a mut [FlatColumn],
    rows: usize,
    /// The column the next field most likely goes to.
    next: usize,
    /// Whether every field so far went to the next column in order (then,
    /// once all are written, each column has exactly one new value).
    in_order: bool,
}

impl SerializeStruct for RowFields<'_> {
    type Ok = ();
    type Error = EncodeError;

    #[inline]
    fn serialize_field<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), EncodeError> {
        let index = match self.columns.get_mut(self.next).map(|c| c.is_named(key)) {
            Some(true) => self.next,
            _ => {
                self.in_order = false;
                self.columns
                    .iter_mut()
                    .position(|c| c.is_named(key))
                    .ok_or_else(|| {
                        EncodeError::new(format!("the field `{key}` is not in the row's schema"))
                    })?
            }
        };
        self.next = index + 1;
        value
            .serialize(Encode(Slot::Value(&mut self.columns[index])))
            .map_err(|e| e.in_column(key))
    }

    /// A field the row skipped (`skip_serializing_if`) is a null.
    fn end(self) -> Result<(), EncodeError> {
        if self.in_order && self.next == self.columns.len() {
            return Ok(());
        }
        for column in self.columns.iter_mut() {
            match column.len() - self.rows {
                1 => {}
                0 => column
                    .null()
                    .map_err(|e| e.in_column(column.field.name()))?,
                _ => {
                    return Err(EncodeError::new(format!(
                        "column `{}`: the row has the field twice",
                        column.field.name()
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, UInt8Type};
    use serde::Deserialize;

    fn batcher_for<T: serde::de::DeserializeOwned>() -> RowBatcher {
        let fields = super::super::schema::fields_of::<T>().expect("a flat row type");
        RowBatcher::new(fields, 4).expect("a batcher")
    }

    #[derive(Serialize, Deserialize)]
    struct Skips {
        id: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    }

    #[test]
    fn skipped_fields_are_nulls_and_batches_start_over() {
        let mut batcher = batcher_for::<Skips>();
        for id in 0..6 {
            let note = (id % 2 == 0).then(|| format!("n{id}"));
            batcher.push(&Skips { id, note }).unwrap();
            if batcher.len() == 4 {
                let batch = batcher.take_batch().unwrap();
                assert_eq!(batch.num_rows(), 4);
                assert_eq!(batch.column(1).null_count(), 2);
            }
        }
        let batch = batcher.take_batch().unwrap();
        let ids: Vec<i64> = batch
            .column(0)
            .as_primitive::<Int64Type>()
            .values()
            .to_vec();
        assert_eq!(ids, [4, 5]);
        let notes: Vec<Option<&str>> = batch.column(1).as_string::<i32>().iter().collect();
        assert_eq!(notes, [Some("n4"), None]);
    }

    /// The schema of [`Lying`] rows (only its schema is used).
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Small {
        x: u8,
        label: String,
    }

    /// A row whose `Serialize` disagrees with its schema.
    struct Lying {
        x: i64,
        label: Option<&'static str>,
    }

    impl Serialize for Lying {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut row = s.serialize_struct("Small", 2)?;
            row.serialize_field("x", &self.x)?;
            row.serialize_field("label", &self.label)?;
            row.end()
        }
    }

    #[test]
    fn values_that_do_not_fit_name_the_column() {
        let mut batcher = batcher_for::<Small>();
        batcher
            .push(&Lying {
                x: 255,
                label: Some("ok"),
            })
            .unwrap();
        let err = batcher
            .push(&Lying {
                x: 256,
                label: Some("ok"),
            })
            .unwrap_err();
        assert_eq!(
            err,
            "column `x`: the integer 256 does not fit the column's type UInt8"
        );
        let mut batcher = batcher_for::<Small>();
        let err = batcher.push(&Lying { x: 1, label: None }).unwrap_err();
        assert_eq!(
            err,
            "column `label`: a missing value, but the column is not nullable"
        );
        let mut batcher = batcher_for::<Small>();
        batcher
            .push(&Lying {
                x: 7,
                label: Some("ü"),
            })
            .unwrap();
        let batch = batcher.take_batch().unwrap();
        assert_eq!(batch.column(0).as_primitive::<UInt8Type>().value(0), 7);
    }
}
