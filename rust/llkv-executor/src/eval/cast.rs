//! Type conversions with SQLite's rules: text becomes its numeric prefix,
//! reals truncate to integers, numbers become text in SQLite's format.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, Float64Array, Int64Array};
use arrow_schema::DataType;
use llkv_plan::decimal;
use llkv_plan::types::{is_decimal, is_temporal, sql_name};
use llkv_plan::{Error, Result, Value};

use crate::scalar::{
    array_from_values, real_to_i64, text_to_f64, text_to_i64, value_at, value_to_date,
    value_to_timestamp,
};

/// Converts `array` to type `to`.
pub fn cast_array(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    if super::dynamic::is_dynamic(array.as_ref()) {
        return super::dynamic::cast_dynamic(array, to);
    }
    let from = array.data_type();
    if from == to {
        return Ok(array.clone());
    }
    if from == &DataType::Null {
        return Ok(new_null_array(to, array.len()));
    }
    if is_temporal(from) || is_temporal(to) {
        return cast_temporal(array, to);
    }
    if is_decimal(from) || is_decimal(to) {
        return cast_decimal(array, to);
    }
    match (from, to) {
        (DataType::Utf8, DataType::Int64) => {
            let s = array.as_string::<i32>();
            Ok(Arc::new(
                s.iter().map(|v| v.map(text_to_i64)).collect::<Int64Array>(),
            ))
        }
        (DataType::Utf8, DataType::Float64) => {
            let s = array.as_string::<i32>();
            Ok(Arc::new(
                s.iter()
                    .map(|v| v.map(text_to_f64))
                    .collect::<Float64Array>(),
            ))
        }
        (DataType::Float64, DataType::Int64) => {
            let f = array.as_primitive::<Float64Type>();
            Ok(Arc::new(
                f.iter().map(|v| v.map(real_to_i64)).collect::<Int64Array>(),
            ))
        }
        (DataType::Int64, DataType::Float64) => {
            let i = array.as_primitive::<Int64Type>();
            Ok(Arc::new(i.unary::<_, Float64Type>(|x| x as f64)))
        }
        (_, DataType::Boolean) => Ok(Arc::new(to_boolean(array)?)),
        (
            DataType::Int64
            | DataType::Float64
            | DataType::Boolean
            | DataType::Utf8
            | DataType::Binary,
            DataType::Int64 | DataType::Float64 | DataType::Utf8 | DataType::Binary,
        ) => {
            let values: Vec<_> = (0..array.len())
                .map(|i| value_at(array.as_ref(), i))
                .collect();
            array_from_values(to, &values)
        }
        _ => arrow_cast::cast(array, to)
            .map_err(|e| Error::data(format!("cannot cast {from} to {to}: {e}"))),
    }
}

/// Casts to or from DECIMAL: integers and decimals convert exactly (or
/// fail with an overflow), floats and fraction digits round half away
/// from zero, text must spell a number. A DECIMAL becomes the nearest
/// float, an integer rounded like DuckDB's, or its exact text.
fn cast_decimal(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let from = array.data_type();
    let unscaled = |f: &dyn Fn(usize) -> Result<Option<i128>>, p: u8, s: i8| -> Result<ArrayRef> {
        let mut out = Vec::with_capacity(array.len());
        for i in 0..array.len() {
            out.push(if array.is_null(i) { None } else { f(i)? });
        }
        Ok(Arc::new(
            arrow_array::Decimal128Array::from(out)
                .with_precision_and_scale(p, s)
                .map_err(|e| Error::internal(e.to_string()))?,
        ))
    };
    let overflow = |p: u8, s: i8, i: usize| {
        move || {
            Error::data(format!(
                "cannot convert {} to DECIMAL({p},{s}): numeric overflow",
                value_at(array.as_ref(), i)
            ))
        }
    };
    match (from, to) {
        (DataType::Decimal128(_, from_scale), DataType::Decimal128(p, s)) => {
            let values = array.as_primitive::<arrow_array::types::Decimal128Type>();
            let convert = |i: usize| {
                decimal::rescale(values.value(i), *from_scale, *s)
                    .filter(|v| decimal::fits(*v, *p))
                    .map(Some)
                    .ok_or_else(overflow(*p, *s, i))
            };
            unscaled(&convert, *p, *s)
        }
        (DataType::Int64, DataType::Decimal128(p, s)) => {
            let values = array.as_primitive::<Int64Type>();
            let convert = |i: usize| {
                decimal::rescale(i128::from(values.value(i)), 0, *s)
                    .filter(|v| decimal::fits(*v, *p))
                    .map(Some)
                    .ok_or_else(overflow(*p, *s, i))
            };
            unscaled(&convert, *p, *s)
        }
        (DataType::Decimal128(_, s), DataType::Float64) => {
            let values = array.as_primitive::<arrow_array::types::Decimal128Type>();
            Ok(Arc::new(
                values
                    .iter()
                    .map(|v| v.map(|v| decimal::to_f64(v, *s)))
                    .collect::<Float64Array>(),
            ))
        }
        _ => {
            let values: Vec<Value> = (0..array.len())
                .map(|i| value_at(array.as_ref(), i))
                .collect();
            array_from_values(to, &values)
        }
    }
}

/// Casts to or from DATE and TIMESTAMP: text is parsed strictly (a value
/// that is not a date is an error, not NULL), dates and timestamps convert
/// into each other and format as text; numbers do not convert (NULLs of
/// any type do).
fn cast_temporal(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let from = array.data_type();
    let allowed = matches!(
        (from, to),
        (DataType::Utf8 | DataType::LargeUtf8, _)
            | (_, DataType::Utf8 | DataType::LargeUtf8)
            | (
                DataType::Date32 | DataType::Timestamp(..),
                DataType::Date32 | DataType::Timestamp(..)
            )
    );
    if !allowed {
        // NULL casts to any type; only a value that would convert fails.
        if array.null_count() == array.len() {
            return Ok(arrow_array::new_null_array(to, array.len()));
        }
        return Err(Error::data(format!(
            "cannot cast {} to {}",
            sql_name(from),
            sql_name(to)
        )));
    }
    let values: Vec<Value> = (0..array.len())
        .map(|i| value_at(array.as_ref(), i))
        .collect();
    if matches!(to, DataType::Date32 | DataType::Timestamp(..)) {
        for v in &values {
            let ok = match to {
                DataType::Date32 => value_to_date(v).is_some(),
                _ => value_to_timestamp(v).is_some(),
            };
            if !v.is_null() && !ok {
                let what = if to == &DataType::Date32 {
                    "date"
                } else {
                    "timestamp"
                };
                return Err(Error::data(format!("invalid or out-of-range {what}: {v}")));
            }
        }
    }
    array_from_values(to, &values)
}

/// Truth values of an array: numbers are true when non-zero, text by its
/// numeric prefix, NULL stays NULL.
pub fn to_boolean(array: &ArrayRef) -> Result<BooleanArray> {
    if super::dynamic::is_dynamic(array.as_ref()) {
        return to_boolean(&super::dynamic::plain(array.clone())?);
    }
    match array.data_type() {
        DataType::Boolean => Ok(array.as_boolean().clone()),
        DataType::Null => Ok(BooleanArray::new_null(array.len())),
        DataType::Int64 => Ok(array
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|x| x != 0))
            .collect()),
        DataType::Float64 => Ok(array
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(|x| x != 0.0))
            .collect()),
        DataType::Decimal128(..) => Ok(array
            .as_primitive::<arrow_array::types::Decimal128Type>()
            .iter()
            .map(|v| v.map(|x| x != 0))
            .collect()),
        DataType::Utf8 => Ok(array
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(|x| text_to_f64(x) != 0.0))
            .collect()),
        other => Err(Error::data(format!("cannot use {other} as a boolean"))),
    }
}
