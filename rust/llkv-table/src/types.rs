//! SQL column types as stored in the catalog, and their Arrow types.

use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

/// The type of a stored column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SqlType {
    /// INTEGER, INT, BIGINT, SMALLINT, TINYINT: 64-bit signed.
    Integer,
    /// REAL, DOUBLE, FLOAT: 64-bit float.
    Real,
    /// TEXT, VARCHAR(n), CHAR(n), STRING: UTF-8.
    Text,
    /// BOOLEAN.
    Boolean,
    /// BLOB, BYTEA, BINARY, VARBINARY: bytes.
    Blob,
    /// DATE: a calendar day.
    Date,
    /// TIMESTAMP, DATETIME, TIMESTAMPTZ: microseconds, UTC.
    Timestamp,
    /// DECIMAL(p, s) / NUMERIC(p, s): exact, `p` digits, `s` after the point.
    Decimal {
        /// Total digits (1..=38).
        precision: u8,
        /// Digits after the decimal point (0..=precision).
        scale: i8,
    },
}

impl SqlType {
    /// The Arrow type columns of this SQL type are stored as.
    pub fn arrow_type(self) -> DataType {
        match self {
            SqlType::Integer => DataType::Int64,
            SqlType::Real => DataType::Float64,
            SqlType::Text => DataType::Utf8,
            SqlType::Boolean => DataType::Boolean,
            SqlType::Blob => DataType::Binary,
            SqlType::Date => DataType::Date32,
            SqlType::Timestamp => DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, None),
            SqlType::Decimal { precision, scale } => DataType::Decimal128(precision, scale),
        }
    }

    /// The SQL name of the type.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(match self {
            SqlType::Integer => "INTEGER",
            SqlType::Real => "REAL",
            SqlType::Text => "TEXT",
            SqlType::Boolean => "BOOLEAN",
            SqlType::Blob => "BLOB",
            SqlType::Date => "DATE",
            SqlType::Timestamp => "TIMESTAMP",
            SqlType::Decimal { precision, scale } => {
                return format!("DECIMAL({precision},{scale})").into()
            }
        })
    }
}
