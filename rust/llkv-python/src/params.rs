//! Statement parameters: a Python sequence (for `?`, `?N`, `$N`
//! placeholders) or a mapping (for `:name`) of `None`, `bool`, `int`,
//! `float`, `str`, `bytes`/`bytearray` or NumPy scalars becomes engine
//! values.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyMapping, PySequence, PyString,
};

use crate::errors::{DataError, NotSupportedError, ProgrammingError};

/// Parameters by position or by name.
pub enum Params {
    /// For `?`, `?N` and `$N` placeholders.
    Positional(Vec<llkv::Value>),
    /// For `:name` placeholders.
    Named(Vec<(String, llkv::Value)>),
}

/// Converts the `params` argument of `execute`: a sequence, a mapping
/// (named parameters) or `None` for no parameters.
pub fn to_params(params: Option<&Bound<'_, PyAny>>) -> PyResult<Params> {
    match params {
        Some(p) if p.cast::<PyDict>().is_ok() => {
            let dict = p.cast::<PyDict>()?;
            let mut named = Vec::with_capacity(dict.len());
            for (key, value) in dict.iter() {
                let name: String = key.extract().map_err(|_| {
                    ProgrammingError::new_err(format!(
                        "named parameters need str keys, got {}",
                        type_name(&key)
                    ))
                })?;
                let value = to_value(&value, &Position::Name(&name))?;
                named.push((name, value));
            }
            Ok(Params::Named(named))
        }
        other => to_values(other).map(Params::Positional),
    }
}

/// Converts a sequence of parameters (or `None`) into engine values, in
/// placeholder order.
fn to_values(params: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<llkv::Value>> {
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
        return Err(ProgrammingError::new_err(format!(
            "named parameters must be a dict, got {}",
            type_name(params)
        )));
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
        values.push(to_value(&item, &Position::Index(index + 1))?);
    }
    Ok(values)
}

/// Where a parameter was given, for error messages: a 1-based position or
/// a name (shown as `:name`). Formatted only when an error needs it.
enum Position<'a> {
    Index(usize),
    Name(&'a str),
}

impl std::fmt::Display for Position<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::Index(i) => write!(f, "{i}"),
            Position::Name(n) => write!(f, ":{n}"),
        }
    }
}

/// Converts one parameter; `position` names it in error messages.
fn to_value(obj: &Bound<'_, PyAny>, position: &Position<'_>) -> PyResult<llkv::Value> {
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
    if obj.is_instance_of::<pyo3::types::PyMemoryView>() {
        // A memoryview (what `llkv.Binary` may wrap) binds as its bytes.
        let bytes = obj.call_method0("tobytes")?;
        let bytes = bytes.cast::<PyBytes>()?;
        return Ok(llkv::Value::Blob(Arc::from(bytes.as_bytes())));
    }
    if let Some(v) = temporal_value(obj)? {
        return Ok(v);
    }
    if let Some(v) = decimal_value(obj, position)? {
        return Ok(v);
    }
    // NumPy scalars (np.int64, np.float32, np.bool_, np.str_ ...) convert
    // through their Python equivalent.
    let is_numpy = obj
        .get_type()
        .module()
        .is_ok_and(|m| m.to_str().is_ok_and(|m| m == "numpy"));
    if is_numpy {
        // datetime64 in ns gives an int from item(): go through microseconds.
        if obj
            .get_type()
            .name()
            .is_ok_and(|n| n.to_str().is_ok_and(|n| n == "datetime64"))
        {
            let micros = obj.call_method1("astype", ("datetime64[us]",))?;
            return to_value(&micros.call_method0("item")?, position);
        }
        if let Ok(plain) = obj.call_method0("item") {
            if !plain.get_type().is(obj.get_type()) {
                return to_value(&plain, position);
            }
        }
    }
    Err(NotSupportedError::new_err(format!(
        "parameter {position}: unsupported type {}; use None, bool, int, float, str, bytes, decimal.Decimal, datetime.date or datetime.datetime",
        type_name(obj)
    )))
}

/// `datetime.date` → DATE and `datetime.datetime` (pandas' Timestamp too)
/// → TIMESTAMP; an aware datetime is converted to UTC first. `None` for
/// other objects.
fn temporal_value(obj: &Bound<'_, PyAny>) -> PyResult<Option<llkv::Value>> {
    /// `date(1970, 1, 1).toordinal()`.
    const EPOCH_ORDINAL: i64 = 719_163;
    // pandas' NaT ("not a time") is a missing value.
    if obj
        .get_type()
        .name()
        .is_ok_and(|n| n.to_str().is_ok_and(|n| n == "NaTType"))
    {
        return Ok(Some(llkv::Value::Null));
    }
    let module = obj.py().import("datetime")?;
    let datetime = module.getattr("datetime")?;
    if obj.is_instance(&datetime)? {
        let utc = module.getattr("timezone")?.getattr("utc")?;
        let naive = if obj.getattr("tzinfo")?.is_none() {
            obj.clone()
        } else {
            obj.call_method1("astimezone", (utc,))?
        };
        let days = naive.call_method0("toordinal")?.extract::<i64>()? - EPOCH_ORDINAL;
        let field = |name: &str| -> PyResult<i64> { naive.getattr(name)?.extract::<i64>() };
        let seconds = (field("hour")? * 60 + field("minute")?) * 60 + field("second")?;
        let micros = days * 86_400_000_000 + seconds * 1_000_000 + field("microsecond")?;
        return Ok(Some(llkv::Value::Timestamp(micros)));
    }
    if obj.is_instance(&module.getattr("date")?)? {
        let days = obj.call_method0("toordinal")?.extract::<i64>()? - EPOCH_ORDINAL;
        return Ok(Some(llkv::Value::Date(days as i32)));
    }
    Ok(None)
}

/// `decimal.Decimal` → DECIMAL with exactly its digits (`Decimal("1.50")`
/// is DECIMAL(3,2)); NaN, infinities and more than 38 digits are a
/// `DataError`. `None` for other objects.
fn decimal_value(obj: &Bound<'_, PyAny>, position: &Position<'_>) -> PyResult<Option<llkv::Value>> {
    let decimal = obj.py().import("decimal")?.getattr("Decimal")?;
    if !obj.is_instance(&decimal)? {
        return Ok(None);
    }
    let text = obj.str()?.to_string();
    llkv::Decimal::parse(&text)
        .map(|d| Some(llkv::Value::Decimal(d)))
        .ok_or_else(|| {
            DataError::new_err(format!(
                "parameter {position}: Decimal {text} is not a finite number of at most 38 digits"
            ))
        })
}

/// The Python type's qualified name, for error messages.
fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .qualname()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "<unknown>".to_owned())
}
