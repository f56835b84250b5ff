//! One cell of a row, as the SQL connectors exchange it with serde: the
//! client library's value is turned into a [`SqlValue`] (reading), or a
//! record's field becomes one (writing).

/// A cell's value. Dates, times, timestamps, UUIDs and JSON travel as their
/// ISO/text form in `Text` (so they read into `String` or into chrono's types,
/// whose serde form is that text); exact decimals travel as `Decimal` text.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Bool(bool),
    Int(i64),
    /// A `real`/`float4`, kept as `f32` so it prints as it was written.
    Real(f32),
    Float(f64),
    /// An exact decimal (`numeric`/`decimal`/`money`) in its text form.
    Decimal(String),
    Text(String),
    Bytes(Vec<u8>),
}

/// A column of a result set: its name and its SQL type's name (for errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub sql_type: String,
}
