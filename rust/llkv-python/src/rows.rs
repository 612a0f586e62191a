//! Rows as Python tuples, converted in Rust: the small-result path of
//! `Cursor.fetchone/fetchmany/fetchall`.
//!
//! Importing a record batch into pyarrow and calling `to_pylist` on each
//! column costs several microseconds even for one row, more than a point
//! select takes in the engine. For the column types the engine gives
//! plain `None`, `bool`, `int`, `float`, `str` or `bytes` values (NULL,
//! BOOLEAN, BIGINT, DOUBLE, TEXT, BLOB), the values are built here instead,
//! exactly as `pyarrow`'s `to_pylist` would build them. Any other type
//! (decimals, dates, intervals, ...) keeps the pyarrow path.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType, Schema};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use pyo3::IntoPyObjectExt;

/// True when every column of `schema` converts here (see the module doc).
pub(crate) fn converts_natively(schema: &Schema) -> bool {
    schema.fields().iter().all(|f| {
        matches!(
            f.data_type(),
            DataType::Null
                | DataType::Boolean
                | DataType::Int64
                | DataType::Float64
                | DataType::Utf8
                | DataType::Binary
        )
    })
}

/// Appends rows `start..start + len` of `batch` to `out` as tuples. The
/// batch's schema must pass [`converts_natively`].
pub(crate) fn append_rows<'py>(
    py: Python<'py>,
    batch: &RecordBatch,
    start: usize,
    len: usize,
    out: &mut Vec<Bound<'py, PyTuple>>,
) -> PyResult<()> {
    let columns = batch
        .columns()
        .iter()
        .map(|c| column_values(py, c.as_ref(), start, len))
        .collect::<PyResult<Vec<_>>>()?;
    let mut iters: Vec<_> = columns.into_iter().map(Vec::into_iter).collect();
    out.reserve(len);
    for _ in 0..len {
        let row = iters
            .iter_mut()
            .map(|it| it.next().expect("one value per row"));
        out.push(PyTuple::new(py, row)?);
    }
    Ok(())
}

/// The Python values of rows `start..start + len` of `array`.
fn column_values<'py>(
    py: Python<'py>,
    array: &dyn Array,
    start: usize,
    len: usize,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let rows = start..start + len;
    let value = |i: usize, f: &dyn Fn(usize) -> PyResult<Bound<'py, PyAny>>| {
        if array.is_null(i) {
            Ok(py.None().into_bound(py))
        } else {
            f(i)
        }
    };
    match array.data_type() {
        DataType::Null => Ok(rows.map(|_| py.None().into_bound(py)).collect()),
        DataType::Boolean => {
            let a = array.as_boolean();
            rows.map(|i| value(i, &|i| bound(py, a.value(i)))).collect()
        }
        DataType::Int64 => primitive::<Int64Type>(py, array, start, len),
        DataType::Float64 => primitive::<Float64Type>(py, array, start, len),
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            rows.map(|i| value(i, &|i| bound(py, a.value(i)))).collect()
        }
        DataType::Binary => {
            let a = array.as_binary::<i32>();
            rows.map(|i| value(i, &|i| Ok(PyBytes::new(py, a.value(i)).into_any())))
                .collect()
        }
        other => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "internal error: no native conversion of {other} to Python"
        ))),
    }
}

/// The Python values of rows `start..start + len` of a primitive `array`.
fn primitive<'py, T>(
    py: Python<'py>,
    array: &dyn Array,
    start: usize,
    len: usize,
) -> PyResult<Vec<Bound<'py, PyAny>>>
where
    T: ArrowPrimitiveType,
    T::Native: for<'a> IntoPyObject<'py>,
{
    let a: &PrimitiveArray<T> = array.as_primitive::<T>();
    (start..start + len)
        .map(|i| {
            if a.is_null(i) {
                Ok(py.None().into_bound(py))
            } else {
                bound(py, a.value(i))
            }
        })
        .collect()
}

/// `v` as a Python object.
fn bound<'py, V: IntoPyObject<'py>>(py: Python<'py>, v: V) -> PyResult<Bound<'py, PyAny>> {
    v.into_bound_py_any(py)
}
