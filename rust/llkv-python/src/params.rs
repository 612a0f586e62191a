//! Statement parameters: a Python sequence of `None`, `bool`, `int`, `float`,
//! `str` and `bytes`/`bytearray` becomes a `Vec<llkv::Value>` for the `?`
//! placeholders.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyFloat, PyInt, PyMapping, PySequence, PyString};

use crate::errors::{DataError, NotSupportedError, ProgrammingError};

/// Converts the `params` argument of `execute` (a sequence, or `None` for no
/// parameters) into engine values, in placeholder order.
pub fn to_values(params: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<llkv::Value>> {
    let Some(params) = params else {
        return Ok(Vec::new());
    };
    if params.is_none() {
        return Ok(Vec::new());
    }
    // A str or bytes is a sequence too, but passing one is always a mistake
    // (`execute(sql, "abc")` instead of `execute(sql, ["abc"])`).
    if params.is_instance_of::<PyString>()
        || params.is_instance_of::<PyBytes>()
        || params.is_instance_of::<PyByteArray>()
    {
        return Err(ProgrammingError::new_err(format!(
            "parameters must be a list or tuple, got {}; wrap a single value as [value]",
            type_name(params)
        )));
    }
    if params.cast::<PyMapping>().is_ok() && params.cast::<PySequence>().is_err() {
        return Err(NotSupportedError::new_err(
            "named parameters are not supported; use ? placeholders with a list or tuple",
        ));
    }
    let sequence = params.cast::<PySequence>().map_err(|_| {
        ProgrammingError::new_err(format!(
            "parameters must be a list or tuple, got {}",
            type_name(params)
        ))
    })?;
    let len = sequence.len()?;
    let mut values = Vec::with_capacity(len);
    for index in 0..len {
        let item = sequence.get_item(index)?;
        values.push(to_value(&item, index + 1)?);
    }
    Ok(values)
}

/// Converts one parameter; `position` is 1-based, as in the error messages.
fn to_value(obj: &Bound<'_, PyAny>, position: usize) -> PyResult<llkv::Value> {
    if obj.is_none() {
        return Ok(llkv::Value::Null);
    }
    // bool is a subclass of int in Python, so it must be tested first.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(llkv::Value::Boolean(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<i64>().map(llkv::Value::Integer).map_err(|_| {
            DataError::new_err(format!(
                "parameter {position}: integer {} does not fit in a 64-bit signed integer",
                obj.str().map(|s| s.to_string()).unwrap_or_default()
            ))
        });
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(llkv::Value::Real(obj.extract::<f64>()?));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(llkv::Value::Text(Arc::from(s.to_str()?)));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(llkv::Value::Blob(Arc::from(b.as_bytes())));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(llkv::Value::Blob(Arc::from(b.to_vec())));
    }
    Err(NotSupportedError::new_err(format!(
        "parameter {position}: unsupported type {}; use None, bool, int, float, str or bytes",
        type_name(obj)
    )))
}

/// The Python type's qualified name, for error messages.
fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .qualname()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "<unknown>".to_owned())
}
