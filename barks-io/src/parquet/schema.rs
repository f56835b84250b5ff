//! The Arrow schema of a serde row type, and checking a file's columns
//! against it before decoding, so a mismatch is reported by column with both
//! types rather than deep inside decoding.

use arrow_schema::{DataType, FieldRef, Schema};
use barks_runtime::{Error, Result};
use serde::de::DeserializeOwned;
use serde_arrow::schema::{SchemaLike, TracingOptions};

/// The Arrow fields serde_arrow derives for the row type `T`, one per
/// field in declaration order, named as serde names them: strings as
/// `Utf8` (the type Spark and pyarrow write), `Option` fields nullable.
/// These are the columns [`SaveAsParquet`](super::SaveAsParquet) writes and
/// [`parquet_file`](super::parquet_file) expects, and the fields a
/// [`RowBatcher`](super::RowBatcher) takes.
///
/// An error ([`Error::Plan`]) naming `T` if serde_arrow cannot describe it
/// (it is not a struct of fields serde_arrow knows, e.g. a bare `i64`).
///
/// ```
/// use barks_io::parquet::fields_of;
/// use arrow_schema::DataType;
///
/// #[derive(serde::Deserialize)]
/// struct Trade { symbol: String, price: f64, note: Option<String> }
///
/// let fields = fields_of::<Trade>().unwrap();
/// let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
/// assert_eq!(names, ["symbol", "price", "note"]);
/// assert_eq!(fields[0].data_type(), &DataType::Utf8);
/// assert!(!fields[1].is_nullable() && fields[2].is_nullable());
///
/// let err = fields_of::<i64>().unwrap_err();
/// assert!(err.to_string().contains("`i64`"), "{err}");
/// ```
pub fn fields_of<T: DeserializeOwned>() -> Result<Vec<FieldRef>> {
    let options = TracingOptions::default()
        .allow_null_fields(true)
        .strings_as_large_utf8(false);
    Vec::<FieldRef>::from_type::<T>(options).map_err(|e| {
        Error::Plan(format!(
            "cannot derive an Arrow schema from the row type `{}`: {e}",
            std::any::type_name::<T>()
        ))
    })
}

/// What kind of value a type holds, for compatibility: serde decodes any
/// integer width into any integer field (range-checked) and integers into
/// floats, and reads every string or binary layout alike.
#[derive(PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Str,
    Binary,
    Other,
}

fn kind(t: &DataType) -> Kind {
    use DataType::*;
    match t {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => Kind::Int,
        Float16 | Float32 | Float64 => Kind::Float,
        Utf8 | LargeUtf8 | Utf8View => Kind::Str,
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => Kind::Binary,
        Dictionary(_, value) => kind(value),
        _ => Kind::Other,
    }
}

fn compatible(file: &DataType, rust: &DataType) -> bool {
    match (kind(file), kind(rust)) {
        (Kind::Other, _) | (_, Kind::Other) => file == rust || !is_scalar(file) && !is_scalar(rust),
        (Kind::Int, Kind::Float) => true,
        (f, r) => f == r,
    }
}

/// Nested and temporal types are left to the decoder, which names the field.
fn is_scalar(t: &DataType) -> bool {
    kind(t) != Kind::Other || matches!(t, DataType::Boolean | DataType::Null)
}

/// Checks that `file`'s schema (of the file at `path`) has a compatible
/// column for every field of the row type `T`.
pub(crate) fn check<T>(path: &str, file: &Schema, fields: &[FieldRef]) -> Result<()> {
    for field in fields {
        let mismatch = |message: String| Error::Input {
            location: path.to_string(),
            message,
        };
        match file.field_with_name(field.name()) {
            Err(_) if field.is_nullable() => {}
            Err(_) => {
                return Err(mismatch(format!(
                    "no column `{}`, which the row type `{}` needs (make the field an `Option` to allow its absence); the file has {}",
                    field.name(),
                    std::any::type_name::<T>(),
                    column_list(file)
                )));
            }
            Ok(column) if !compatible(column.data_type(), field.data_type()) => {
                return Err(mismatch(format!(
                    "column `{}` has type {} in the file, but the row type `{}` expects {}",
                    field.name(),
                    column.data_type(),
                    std::any::type_name::<T>(),
                    field.data_type()
                )));
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

fn column_list(schema: &Schema) -> String {
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("`{}`: {}", f.name(), f.data_type()))
        .collect();
    format!("columns {}", names.join(", "))
}
