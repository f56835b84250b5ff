//! Rows built straight from Arrow columns, without serde: the code behind
//! `#[derive(FromArrow)]` and [`parquet_rows`](super::parquet_rows).
//!
//! The derive gives a struct one [`ArrowField`] per field. Per batch,
//! [`FromArrow::columns`] downcasts each field's column once, checking its
//! type and (for a field that is not an `Option`) that it holds no nulls;
//! after that, building row `i` is a plain struct literal of indexed reads
//! that the compiler inlines into the loop filling the partition's chunks.
//! The serde path ([`parquet_file`](super::parquet_file)) goes through a
//! `Deserializer` call per row and field instead, which makes a scan take
//! about 15% longer (BENCHMARKS.md, `parquet_bench`).

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{
    ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, LargeBinaryArray, LargeStringArray,
    RecordBatch, StringArray, StringViewArray,
};
use arrow_buffer::{NullBuffer, ScalarBuffer};
use arrow_schema::DataType;

/// A row type whose values are read from the Arrow columns named like its
/// fields. Derive it with `#[derive(FromArrow)]` on a struct with named
/// fields, each an [`ArrowField`] (a `bool`, an integer, a float, a
/// `String`, a `Vec<u8>`, or an `Option` of one); a field's column is its
/// name, or its `#[serde(rename = "...")]`.
///
/// `#[derive(FromArrow)]` (from `barks`) writes the impl below; by hand, it
/// reads:
///
/// ```
/// use arrow_array::{Int32Array, RecordBatch, StringArray};
/// use barks_io::parquet::{ArrowField, FromArrow, field_column};
/// use std::sync::Arc;
///
/// #[derive(Debug, PartialEq)]
/// struct City {
///     name: String,
///     population: Option<i32>, // read from the column `pop`
/// }
///
/// impl FromArrow for City {
///     const COLUMNS: &'static [&'static str] = &["name", "pop"];
///     type Columns = (
///         <String as ArrowField>::Column,
///         <Option<i32> as ArrowField>::Column,
///     );
///     fn columns(batch: &RecordBatch) -> Result<Self::Columns, String> {
///         Ok((
///             field_column::<String>(batch, "name")?,
///             field_column::<Option<i32>>(batch, "pop")?,
///         ))
///     }
///     #[inline]
///     fn row(columns: &Self::Columns, row: usize) -> Self {
///         City {
///             name: ArrowField::value(&columns.0, row),
///             population: ArrowField::value(&columns.1, row),
///         }
///     }
/// }
///
/// let batch = RecordBatch::try_from_iter([
///     ("name", Arc::new(StringArray::from(vec!["Lyon", "Turin"])) as _),
///     ("pop", Arc::new(Int32Array::from(vec![Some(522_000), None])) as _),
/// ])
/// .unwrap();
/// let columns = City::columns(&batch).unwrap();
/// assert_eq!(
///     City::row(&columns, 1),
///     City { name: "Turin".into(), population: None }
/// );
/// ```
pub trait FromArrow: Sized {
    /// The columns a row is made of, in field order.
    const COLUMNS: &'static [&'static str];
    /// The batch's columns, downcast to the fields' types.
    type Columns: Send;
    /// Downcasts the columns of `batch` that the fields read, or says which
    /// column is missing, of another type, or null where the field is not
    /// an `Option`.
    fn columns(batch: &RecordBatch) -> Result<Self::Columns, String>;
    /// Row `row` of the batch whose columns these are (`row` is less than
    /// its row count).
    fn row(columns: &Self::Columns, row: usize) -> Self;
}

/// A field type that a [`FromArrow`] row reads from one Arrow column.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from an Arrow column",
    label = "a `#[derive(FromArrow)]` field must be an `ArrowField`",
    note = "fields can be bool, i8..i64, u8..u64, f32, f64, String, Vec<u8>, or an Option of one; \
            for other types read the rows with `parquet_file` (serde) instead"
)]
pub trait ArrowField: Sized {
    /// The column, downcast.
    type Column: Send;
    /// Whether the column may hold nulls (only an `Option` may).
    const NULLABLE: bool = false;
    /// The column's values (ignoring its nulls), or what the column holds
    /// instead: `Err` names the Arrow type found.
    fn column(array: &ArrayRef) -> Result<Self::Column, String>;
    /// The column for a field the batch has no column for, if the field
    /// may be absent (only an `Option` may: it reads as `None`).
    fn absent() -> Option<Self::Column> {
        None
    }
    /// The value at `row` (not null unless the type is an `Option`).
    fn value(column: &Self::Column, row: usize) -> Self;
}

/// The column of `batch` named `name`, downcast for a field of type `F`; the
/// error names the column and says what is wrong with it.
pub fn field_column<F: ArrowField>(batch: &RecordBatch, name: &str) -> Result<F::Column, String> {
    let Some(array) = batch.column_by_name(name) else {
        return F::absent().ok_or_else(|| {
            format!(
                "no column `{name}`, and its field (`{}`) is not an `Option`",
                std::any::type_name::<F>()
            )
        });
    };
    if !F::NULLABLE && array.null_count() > 0 {
        return Err(format!(
            "column `{name}` holds nulls, and its field (`{}`) is not an `Option`",
            std::any::type_name::<F>()
        ));
    }
    F::column(array).map_err(|found| {
        format!(
            "column `{name}` holds {found} values, which a field of type `{}` cannot read",
            std::any::type_name::<F>()
        )
    })
}

macro_rules! primitive_fields {
    ($($rust:ty => $arrow:ty),* $(,)?) => {$(
        impl ArrowField for $rust {
            type Column = ScalarBuffer<$rust>;

            fn column(array: &ArrayRef) -> Result<Self::Column, String> {
                array
                    .as_primitive_opt::<$arrow>()
                    .map(|a| a.values().clone())
                    .ok_or_else(|| array.data_type().to_string())
            }

            #[inline]
            fn value(column: &Self::Column, row: usize) -> Self {
                column[row]
            }
        }
    )*};
}

primitive_fields! {
    i8 => Int8Type, i16 => Int16Type, i32 => Int32Type, i64 => Int64Type,
    u8 => UInt8Type, u16 => UInt16Type, u32 => UInt32Type, u64 => UInt64Type,
    f32 => Float32Type, f64 => Float64Type,
}

impl ArrowField for bool {
    type Column = BooleanArray;

    fn column(array: &ArrayRef) -> Result<Self::Column, String> {
        array
            .as_boolean_opt()
            .cloned()
            .ok_or_else(|| array.data_type().to_string())
    }

    #[inline]
    fn value(column: &Self::Column, row: usize) -> Self {
        column.value(row)
    }
}

/// A string column in any of Arrow's three layouts.
pub enum StrColumn {
    Utf8(StringArray),
    LargeUtf8(LargeStringArray),
    Utf8View(StringViewArray),
}

impl ArrowField for String {
    type Column = StrColumn;

    fn column(array: &ArrayRef) -> Result<Self::Column, String> {
        Ok(match array.data_type() {
            DataType::Utf8 => StrColumn::Utf8(array.as_string::<i32>().clone()),
            DataType::LargeUtf8 => StrColumn::LargeUtf8(array.as_string::<i64>().clone()),
            DataType::Utf8View => StrColumn::Utf8View(array.as_string_view().clone()),
            other => return Err(other.to_string()),
        })
    }

    #[inline]
    fn value(column: &Self::Column, row: usize) -> Self {
        match column {
            StrColumn::Utf8(a) => a.value(row).to_owned(),
            StrColumn::LargeUtf8(a) => a.value(row).to_owned(),
            StrColumn::Utf8View(a) => a.value(row).to_owned(),
        }
    }
}

/// A binary column in any of Arrow's three layouts.
pub enum BinaryColumn {
    Binary(BinaryArray),
    LargeBinary(LargeBinaryArray),
    BinaryView(BinaryViewArray),
}

impl ArrowField for Vec<u8> {
    type Column = BinaryColumn;

    fn column(array: &ArrayRef) -> Result<Self::Column, String> {
        Ok(match array.data_type() {
            DataType::Binary => BinaryColumn::Binary(array.as_binary::<i32>().clone()),
            DataType::LargeBinary => BinaryColumn::LargeBinary(array.as_binary::<i64>().clone()),
            DataType::BinaryView => BinaryColumn::BinaryView(array.as_binary_view().clone()),
            other => return Err(other.to_string()),
        })
    }

    #[inline]
    fn value(column: &Self::Column, row: usize) -> Self {
        match column {
            BinaryColumn::Binary(a) => a.value(row).to_vec(),
            BinaryColumn::LargeBinary(a) => a.value(row).to_vec(),
            BinaryColumn::BinaryView(a) => a.value(row).to_vec(),
        }
    }
}

/// The column of an `Option` field: its values (`None` when the batch has
/// no such column) and which are valid.
pub struct NullableColumn<C> {
    values: Option<C>,
    nulls: Option<NullBuffer>,
}

impl<F: ArrowField> ArrowField for Option<F> {
    type Column = NullableColumn<F::Column>;
    const NULLABLE: bool = true;

    fn column(array: &ArrayRef) -> Result<Self::Column, String> {
        Ok(NullableColumn {
            values: Some(F::column(array)?),
            nulls: array.logical_nulls(),
        })
    }

    fn absent() -> Option<Self::Column> {
        Some(NullableColumn {
            values: None,
            nulls: None,
        })
    }

    #[inline]
    fn value(column: &Self::Column, row: usize) -> Self {
        let values = column.values.as_ref()?;
        match &column.nulls {
            Some(nulls) if nulls.is_null(row) => None,
            _ => Some(F::value(values, row)),
        }
    }
}

/// The rows of one batch, built as they are asked for.
pub(crate) struct ArrowRows<T: FromArrow> {
    columns: T::Columns,
    next: usize,
    rows: usize,
}

impl<T: FromArrow> ArrowRows<T> {
    /// The rows of `batch`, or why its columns cannot make `T`s.
    pub(crate) fn new(batch: &RecordBatch) -> Result<ArrowRows<T>, String> {
        Ok(ArrowRows {
            columns: T::columns(batch)?,
            next: 0,
            rows: batch.num_rows(),
        })
    }
}

impl<T: FromArrow> Iterator for ArrowRows<T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.next == self.rows {
            return None;
        }
        let row = T::row(&self.columns, self.next);
        self.next += 1;
        Some(row)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.rows - self.next;
        (left, Some(left))
    }
}
