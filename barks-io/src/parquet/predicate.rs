//! Simple predicates on columns, used to skip row groups whose statistics
//! (min/max per column chunk) show that no row can match.
//!
//! ```
//! use barks_io::parquet::col;
//! let p = col("price").gt(100.0).and(col("symbol").eq("ACME"));
//! let q = col("day").between(10, 20).or(col("late").eq(true));
//! # let _ = (p, q);
//! ```
//!
//! Pruning is conservative: a row group is read unless its statistics prove
//! that the predicate is false for every row (a column without statistics,
//! or not in the file, keeps the group). It is not a row filter: rows of a
//! kept group come out whether they match or not, so follow the source with
//! a `.filter` when exact results are needed (as Spark re-applies pushed
//! filters).

use parquet::basic::ConvertedType;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::statistics::Statistics;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// A literal compared with a column's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Scalar {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
}

macro_rules! scalar_from {
    ($($t:ty => $v:ident as $as:ty),*) => {$(
        impl From<$t> for Scalar {
            fn from(x: $t) -> Scalar {
                Scalar::$v(x as $as)
            }
        }
    )*};
}
scalar_from!(i8 => Int as i64, i16 => Int as i64, i32 => Int as i64, i64 => Int as i64,
    u8 => Int as i64, u16 => Int as i64, u32 => Int as i64, f32 => Float as f64, f64 => Float as f64);

impl From<bool> for Scalar {
    fn from(x: bool) -> Scalar {
        Scalar::Bool(x)
    }
}
impl From<&str> for Scalar {
    fn from(x: &str) -> Scalar {
        Scalar::Str(x.to_string())
    }
}
impl From<String> for Scalar {
    fn from(x: String) -> Scalar {
        Scalar::Str(x)
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A predicate on top-level columns (plain data: it can be a job argument).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Predicate {
    /// `column op value`.
    Compare {
        column: String,
        op: Op,
        value: Scalar,
    },
    /// `low <= column <= high`.
    Between {
        column: String,
        low: Scalar,
        high: Scalar,
    },
    And(Box<Predicate>, Box<Predicate>),
    Or(Box<Predicate>, Box<Predicate>),
}

/// A column to build a [`Predicate`] on.
#[derive(Debug, Clone)]
pub struct Column(String);

/// The column named `name` (a top-level field).
pub fn col(name: impl Into<String>) -> Column {
    Column(name.into())
}

impl Column {
    fn compare(self, op: Op, value: impl Into<Scalar>) -> Predicate {
        Predicate::Compare {
            column: self.0,
            op,
            value: value.into(),
        }
    }
    pub fn eq(self, value: impl Into<Scalar>) -> Predicate {
        self.compare(Op::Eq, value)
    }
    pub fn lt(self, value: impl Into<Scalar>) -> Predicate {
        self.compare(Op::Lt, value)
    }
    pub fn le(self, value: impl Into<Scalar>) -> Predicate {
        self.compare(Op::Le, value)
    }
    pub fn gt(self, value: impl Into<Scalar>) -> Predicate {
        self.compare(Op::Gt, value)
    }
    pub fn ge(self, value: impl Into<Scalar>) -> Predicate {
        self.compare(Op::Ge, value)
    }
    /// `low <= column <= high`.
    pub fn between(self, low: impl Into<Scalar>, high: impl Into<Scalar>) -> Predicate {
        Predicate::Between {
            column: self.0,
            low: low.into(),
            high: high.into(),
        }
    }
}

impl Predicate {
    pub fn and(self, other: Predicate) -> Predicate {
        Predicate::And(Box::new(self), Box::new(other))
    }
    pub fn or(self, other: Predicate) -> Predicate {
        Predicate::Or(Box::new(self), Box::new(other))
    }

    /// Whether some row of the row group may satisfy the predicate.
    pub fn may_match(&self, group: &RowGroupMetaData) -> bool {
        match self {
            Predicate::And(a, b) => a.may_match(group) && b.may_match(group),
            Predicate::Or(a, b) => a.may_match(group) || b.may_match(group),
            Predicate::Compare { column, op, value } => match range(group, column) {
                None => true,
                Some((min, max)) => {
                    let (lo, hi) = (min.cmp_scalar(value), max.cmp_scalar(value));
                    match op {
                        Op::Eq => lo != Some(Ordering::Greater) && hi != Some(Ordering::Less),
                        Op::Lt => lo.is_none_or(|o| o == Ordering::Less),
                        Op::Le => lo != Some(Ordering::Greater),
                        Op::Gt => hi.is_none_or(|o| o == Ordering::Greater),
                        Op::Ge => hi != Some(Ordering::Less),
                    }
                }
            },
            Predicate::Between { column, low, high } => match range(group, column) {
                None => true,
                Some((min, max)) => {
                    max.cmp_scalar(low) != Some(Ordering::Less)
                        && min.cmp_scalar(high) != Some(Ordering::Greater)
                }
            },
        }
    }
}

/// One bound of a column chunk's statistics.
enum Bound<'a> {
    Int(i64),
    Float(f64),
    Bytes(&'a [u8]),
    Bool(bool),
}

impl Bound<'_> {
    /// The order of this bound against `value`; `None` when they cannot be
    /// compared (a type mismatch or NaN), which keeps the row group.
    fn cmp_scalar(&self, value: &Scalar) -> Option<Ordering> {
        match (self, value) {
            (Bound::Int(a), Scalar::Int(b)) => Some(a.cmp(b)),
            (Bound::Int(a), Scalar::Float(b)) => (*a as f64).partial_cmp(b),
            (Bound::Float(a), Scalar::Float(b)) => a.partial_cmp(b),
            (Bound::Float(a), Scalar::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Bound::Bytes(a), Scalar::Str(b)) => Some((*a).cmp(b.as_bytes())),
            (Bound::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// The min and max of the top-level column `name` in a row group, if its
/// statistics have them.
fn range<'a>(group: &'a RowGroupMetaData, name: &str) -> Option<(Bound<'a>, Bound<'a>)> {
    let chunk = group
        .columns()
        .iter()
        .find(|c| c.column_path().parts() == [name])?;
    let unsigned = matches!(
        chunk.column_descr().converted_type(),
        ConvertedType::UINT_8 | ConvertedType::UINT_16 | ConvertedType::UINT_32
    );
    let int32 = |v: &i32| {
        if unsigned {
            Bound::Int(i64::from(*v as u32))
        } else {
            Bound::Int(i64::from(*v))
        }
    };
    Some(match chunk.statistics()? {
        Statistics::Boolean(s) => (Bound::Bool(*s.min_opt()?), Bound::Bool(*s.max_opt()?)),
        Statistics::Int32(s) => (int32(s.min_opt()?), int32(s.max_opt()?)),
        // Unsigned 64-bit values do not fit the comparison: keep the group.
        Statistics::Int64(_) if chunk.column_descr().converted_type() == ConvertedType::UINT_64 => {
            return None;
        }
        Statistics::Int64(s) => (Bound::Int(*s.min_opt()?), Bound::Int(*s.max_opt()?)),
        Statistics::Float(s) => (
            Bound::Float(f64::from(*s.min_opt()?)),
            Bound::Float(f64::from(*s.max_opt()?)),
        ),
        Statistics::Double(s) => (Bound::Float(*s.min_opt()?), Bound::Float(*s.max_opt()?)),
        Statistics::ByteArray(s) => (
            Bound::Bytes(s.min_bytes_opt()?),
            Bound::Bytes(s.max_bytes_opt()?),
        ),
        _ => return None,
    })
}
