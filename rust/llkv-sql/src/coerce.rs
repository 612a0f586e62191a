//! Converting values bound for a stored column to the column's type, with
//! clear errors instead of silent changes.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, Int64Array};
use arrow_schema::DataType;
use llkv_executor::eval::cast_array;
use llkv_executor::scalar::{text_as_number, value_at};
use llkv_plan::{Error, Result, Value};
use llkv_table::{ColumnMeta, SqlType};

/// Converts `array` for storage in `column` of `table`.
pub fn coerce_for_column(array: &ArrayRef, column: &ColumnMeta, table: &str) -> Result<ArrayRef> {
    let target = column.sql_type.arrow_type();
    let out = match (array.data_type(), column.sql_type) {
        (t, _) if *t == target => array.clone(),
        (DataType::Null, _) => arrow_array::new_null_array(&target, array.len()),
        // Bytes are not numbers or text, nor numbers bytes: no silent change.
        (DataType::Binary, _)
        | (DataType::Int64 | DataType::Float64 | DataType::Boolean, SqlType::Blob) => {
            match (0..array.len())
                .map(|i| value_at(array.as_ref(), i))
                .find(|v| !v.is_null())
            {
                Some(v) => return Err(bad_value(column, table, &v)),
                None => arrow_array::new_null_array(&target, array.len()),
            }
        }
        (DataType::Float64, SqlType::Integer) => {
            let f = array.as_primitive::<Float64Type>();
            let mut out = Vec::with_capacity(f.len());
            for v in f.iter() {
                out.push(match v {
                    Some(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => Some(x as i64),
                    Some(x) => return Err(bad_value(column, table, &Value::Real(x))),
                    None => None,
                });
            }
            Arc::new(Int64Array::from(out))
        }
        (DataType::Utf8, SqlType::Integer | SqlType::Real) => {
            for i in 0..array.len() {
                if let Value::Text(s) = value_at(array.as_ref(), i) {
                    match text_as_number(&s) {
                        Some(Value::Real(x))
                            if column.sql_type == SqlType::Integer && x.fract() != 0.0 =>
                        {
                            return Err(bad_value(column, table, &Value::Text(s)))
                        }
                        Some(_) => {}
                        None => return Err(bad_value(column, table, &Value::Text(s))),
                    }
                }
            }
            cast_array(array, &target)?
        }
        (DataType::Utf8, SqlType::Date | SqlType::Timestamp) => {
            for i in 0..array.len() {
                let v = value_at(array.as_ref(), i);
                let ok = if column.sql_type == SqlType::Date {
                    llkv_executor::scalar::value_to_date(&v).is_some()
                } else {
                    llkv_executor::scalar::value_to_timestamp(&v).is_some()
                };
                if !v.is_null() && !ok {
                    return Err(bad_value(column, table, &v));
                }
            }
            cast_array(array, &target)?
        }
        (DataType::Date32 | DataType::Timestamp(..), SqlType::Date | SqlType::Timestamp) => {
            cast_array(array, &target)?
        }
        (_, SqlType::Date | SqlType::Timestamp)
        | (DataType::Date32 | DataType::Timestamp(..), SqlType::Integer | SqlType::Real) => {
            match (0..array.len())
                .map(|i| value_at(array.as_ref(), i))
                .find(|v| !v.is_null())
            {
                Some(v) => return Err(bad_value(column, table, &v)),
                None => arrow_array::new_null_array(&target, array.len()),
            }
        }
        (DataType::Utf8, SqlType::Boolean) => {
            let s = array.as_string::<i32>();
            let mut out = Vec::with_capacity(s.len());
            for v in s.iter() {
                out.push(match v.map(|x| x.trim().to_ascii_lowercase()) {
                    None => None,
                    Some(x) if x == "true" || x == "t" || x == "1" => Some(true),
                    Some(x) if x == "false" || x == "f" || x == "0" => Some(false),
                    Some(x) => return Err(bad_value(column, table, &Value::from(x))),
                });
            }
            Arc::new(arrow_array::BooleanArray::from(out))
        }
        _ => cast_array(array, &target)?,
    };
    if !column.nullable && out.null_count() > 0 {
        return Err(Error::integrity(format!(
            "NOT NULL constraint failed: {table}.{}",
            column.name
        )));
    }
    Ok(out)
}

fn bad_value(column: &ColumnMeta, table: &str, v: &Value) -> Error {
    Error::data(format!(
        "column \"{}\" of table {table} is {}, got {v}",
        column.name,
        column.sql_type.name()
    ))
}
