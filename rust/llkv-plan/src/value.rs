//! Scalar SQL values: literals in plans, statement parameters, and single cells.

use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, TimeUnit};

use crate::decimal::Decimal;

/// One SQL value. This is the currency of literals and parameters; bulk data
/// always travels as Arrow arrays.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit IEEE float.
    Real(f64),
    /// A UTF-8 string.
    Text(Arc<str>),
    /// A boolean.
    Boolean(bool),
    /// A byte string (BLOB).
    Blob(Arc<[u8]>),
    /// A DATE: days since 1970-01-01.
    Date(i32),
    /// A TIMESTAMP: microseconds since 1970-01-01 00:00:00 (UTC).
    Timestamp(i64),
    /// A DECIMAL(p, s): an exact fixed-point number.
    Decimal(Decimal),
}

impl Value {
    /// The Arrow type a column holding only this value would have.
    pub fn data_type(&self) -> DataType {
        match self {
            Value::Null => DataType::Null,
            Value::Integer(_) => DataType::Int64,
            Value::Real(_) => DataType::Float64,
            Value::Text(_) => DataType::Utf8,
            Value::Boolean(_) => DataType::Boolean,
            Value::Blob(_) => DataType::Binary,
            Value::Date(_) => DataType::Date32,
            Value::Timestamp(_) => DataType::Timestamp(TimeUnit::Microsecond, None),
            Value::Decimal(d) => d.data_type(),
        }
    }

    /// True for SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(Arc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(Arc::from(s))
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(Arc::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "NULL"),
            Value::Integer(v) => write!(f, "{v}"),
            Value::Real(v) => write!(f, "{v}"),
            Value::Text(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Value::Boolean(b) => write!(f, "{}", if *b { "TRUE" } else { "FALSE" }),
            Value::Blob(b) => {
                write!(f, "X'")?;
                for byte in b.iter() {
                    write!(f, "{byte:02X}")?;
                }
                write!(f, "'")
            }
            Value::Date(d) => write!(f, "DATE '{}'", crate::temporal::format_date(*d)),
            Value::Timestamp(t) => {
                write!(f, "TIMESTAMP '{}'", crate::temporal::format_timestamp(*t))
            }
            Value::Decimal(d) => write!(f, "{d}"),
        }
    }
}
