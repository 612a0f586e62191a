//! Results: a [`llkv::QueryResult`] becomes a `pyarrow.Table`.
//!
//! The batches are exported through the Arrow C stream PyCapsule interface
//! (pyo3-arrow), so pyarrow reads the engine's buffers in place: no copy.

use arrow_array::{Array, RecordBatch};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3_arrow::PyTable;

/// `pyarrow.RecordBatchReader._import_from_c_capsule`, looked up once.
static IMPORT_STREAM: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Hands the result's batches to pyarrow as a `pyarrow.Table` (zero-copy).
///
/// The stream capsule goes straight to pyarrow's importer: `pyarrow.table()`
/// would first check whether its argument is a pandas DataFrame, which
/// costs an import lookup on every call (a fifth of a point query's time).
pub fn to_pyarrow(py: Python<'_>, result: llkv::QueryResult) -> PyResult<Bound<'_, PyAny>> {
    let table = Bound::new(py, PyTable::try_new(result.batches, result.schema)?)?;
    let capsule = table.call_method1(intern!(py, "__arrow_c_stream__"), (py.None(),))?;
    let import = IMPORT_STREAM.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py
            .import("pyarrow")?
            .getattr("RecordBatchReader")?
            .getattr("_import_from_c_capsule")?
            .unbind())
    })?;
    import
        .bind(py)
        .call1((capsule,))?
        .call_method0(intern!(py, "read_all"))
}

/// The address of the data buffer of the first column of each batch, as seen
/// on the Rust side: the values buffer of fixed-width columns, the offsets
/// buffer of variable-width ones (pyarrow's `buffers()[1]` in both cases).
/// Batches without columns or buffers report 0.
pub fn first_column_data_addresses(batches: &[RecordBatch]) -> Vec<usize> {
    batches
        .iter()
        .map(|batch| {
            if batch.num_columns() == 0 {
                return 0;
            }
            let data = batch.column(0).to_data();
            data.buffers()
                .first()
                .map(|buffer| buffer.as_ptr() as usize)
                .unwrap_or(0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use pyo3::types::IntoPyDict;

    use super::*;

    fn batch(start: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let a = Int64Array::from_iter_values(start..start + 1000);
        let b = StringArray::from_iter_values((0..1000).map(|i| format!("row {i}")));
        RecordBatch::try_new(schema, vec![Arc::new(a), Arc::new(b)]).unwrap_or_else(|e| {
            panic!("test batch: {e}");
        })
    }

    /// Makes the embedded interpreter see the same `sys.path` as the Python
    /// named by `PYO3_PYTHON` (a pyenv or venv Python embedded in a test binary
    /// does not find its site-packages on its own).
    fn use_site_packages(py: Python<'_>) {
        let python = std::env::var("PYO3_PYTHON")
            .ok()
            .or_else(|| option_env!("PYO3_PYTHON").map(str::to_owned))
            .unwrap_or_else(|| "python3".to_owned());
        let output = std::process::Command::new(&python)
            .args(["-c", "import sys; print(chr(10).join(sys.path))"])
            .output()
            .unwrap_or_else(|e| panic!("running {python}: {e}"));
        let paths = String::from_utf8_lossy(&output.stdout).into_owned();
        let sys_path = py
            .import("sys")
            .and_then(|sys| sys.getattr("path"))
            .unwrap_or_else(|e| panic!("sys.path: {e}"));
        for path in paths.lines().filter(|p| !p.is_empty()) {
            sys_path
                .call_method1("append", (path,))
                .unwrap_or_else(|e| panic!("sys.path.append: {e}"));
        }
    }

    /// The export path hands pyarrow the very buffers the engine produced.
    #[test]
    fn export_to_pyarrow_keeps_buffer_addresses() {
        Python::initialize();
        Python::attach(|py| {
            use_site_packages(py);
            let batches = vec![batch(0), batch(1000)];
            let schema = batches[0].schema();
            let expected = first_column_data_addresses(&batches);
            let result = llkv::QueryResult {
                schema,
                batches,
                kind: llkv::StatementKind::Query,
            };
            let table = to_pyarrow(py, result).unwrap_or_else(|e| panic!("export: {e}"));
            let addresses: Vec<usize> = py
                .eval(
                    c"[c.buffers()[1].address for c in t.column(0).chunks]",
                    None,
                    Some(
                        &[("t", table)]
                            .into_py_dict(py)
                            .unwrap_or_else(|e| panic!("locals: {e}")),
                    ),
                )
                .and_then(|v| v.extract())
                .unwrap_or_else(|e| panic!("reading addresses: {e}"));
            assert_eq!(addresses, expected);
            assert!(expected.iter().all(|&a| a != 0));
        });
    }
}
