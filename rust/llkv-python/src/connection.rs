//! `llkv.connect()` and the `Connection` class.
//!
//! Every call into the engine runs with the GIL released (other Python threads
//! keep running) and inside `catch_unwind`, so a Rust panic surfaces as
//! `llkv.InternalError` instead of taking the interpreter down.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::errors::{to_py_err, DataError, InternalError, ProgrammingError};
use crate::interrupt::Cancel;
use crate::stream::{ResultStream, Started};
use crate::{databases, params, result};

/// An open connection: the database handle plus this connection's session.
struct Open {
    /// Kept so the database lives exactly as long as its open connections.
    database: Arc<llkv::Database>,
    session: llkv::Connection,
}

impl Open {
    fn on(database: Arc<llkv::Database>, cancel: &Cancel) -> Open {
        let mut session = database.connect();
        session.set_interrupt(Some(cancel.interrupt.clone()));
        Open { database, session }
    }
}

/// A connection to an llkv database.
///
/// Statements run in autocommit mode unless a transaction is opened with
/// `BEGIN`; end it with `commit()` / `rollback()` (or `COMMIT` / `ROLLBACK`).
/// As a context manager (`with llkv.connect(path) as con:`) it commits an open
/// transaction when the block succeeds, rolls it back when the block raises,
/// and closes the connection.
#[pyclass(module = "llkv", name = "Connection", frozen)]
pub struct Connection {
    /// `None` once closed. Locked only while the GIL is released.
    state: Mutex<Option<Open>>,
    /// Interrupt state of the running statement; never needs `state`.
    cancel: Cancel,
}

/// Opens a connection to the database file at `path` (created if absent), to a
/// new private in-memory database when `path` is None or ":memory:", or to the
/// shared in-memory database `name` for ":memory:name". Connections to the
/// same file (or name) in one process share one database. `synchronous`
/// ("full", the default, "normal" or "off") sets how hard commits work to
/// reach stable storage, for the whole database. `dialect` ("sqlite", the
/// default, or "duckdb") chooses whose semantics this connection follows
/// where the two differ (also `PRAGMA dialect = ...`). With
/// `allow_file_access=False` no statement on this connection (or its
/// duplicates) may read or write files (`read_parquet`, `read_csv`, `COPY`).
/// `memory_limit` (bytes as an int, or a size like "512MB" or "2GiB") bounds
/// what a statement's sorts, hash joins, aggregations, window functions and
/// set operations may buffer: beyond it the statement raises
/// `OperationalError` (also `PRAGMA memory_limit = ...`).
///
/// Returns an `llkv.Connection`; raises `llkv.OperationalError` when the file
/// cannot be opened.
#[pyfunction]
#[pyo3(signature = (path = None, synchronous = None, dialect = None, allow_file_access = true, memory_limit = None))]
pub fn connect(
    py: Python<'_>,
    path: Option<PathBuf>,
    synchronous: Option<String>,
    dialect: Option<String>,
    allow_file_access: bool,
    memory_limit: Option<Bound<'_, PyAny>>,
) -> PyResult<Connection> {
    let memory_limit = match memory_limit {
        None => None,
        Some(v) => Some(match v.extract::<u64>() {
            Ok(bytes) => bytes.to_string(),
            Err(_) => v.extract::<String>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(
                    "memory_limit must be an int (bytes) or a str like '512MB'",
                )
            })?,
        }),
    };
    let path = path.filter(|p| p.as_os_str() != ":memory:");
    let cancel = Cancel::new();
    let open = py.detach(|| {
        guarded(|| {
            let named = path
                .as_ref()
                .and_then(|p| p.to_str())
                .and_then(|p| p.strip_prefix(":memory:"))
                .map(str::to_owned);
            let database = match (named, path) {
                (Some(name), _) => databases::open_named_memory(&name)?,
                (None, Some(path)) => databases::open_file(&path)?,
                (None, None) => databases::open_in_memory()?,
            };
            if let Some(level) = &synchronous {
                database.set_synchronous(level)?;
            }
            let mut open = Open::on(database, &cancel);
            if let Some(name) = &dialect {
                open.session.set_dialect(name)?;
            }
            if !allow_file_access {
                open.session.disable_file_access();
            }
            if let Some(size) = &memory_limit {
                open.session.set_memory_limit(size)?;
            }
            Ok(open)
        })
    })?;
    Ok(Connection {
        state: Mutex::new(Some(open)),
        cancel,
    })
}

/// Splits SQL text into its statements (each rendered back as SQL), using
/// llkv's own parser; raises `ProgrammingError` on a syntax error.
#[pyfunction]
pub fn split_sql(py: Python<'_>, sql: &str) -> PyResult<Vec<String>> {
    py.detach(|| guarded(|| llkv::split_statements(sql)))
}

#[pymethods]
impl Connection {
    /// Executes one SQL statement (or several separated by `;`, returning the
    /// result of the last) with its placeholders bound from `params`: a list
    /// or tuple for `?`, `?NNN` and `$NNN`, a dict for `:name`. Values may be
    /// None, bool, int, float, str, bytes (BLOB), decimal.Decimal,
    /// datetime.date/datetime or NumPy scalars.
    ///
    /// Returns a `pyarrow.Table`: the rows of a query; for INSERT, UPDATE and
    /// DELETE one int64 column `count` with the number of rows affected; an
    /// empty table for other statements.
    #[pyo3(signature = (sql, params = None))]
    fn execute<'py>(
        &self,
        py: Python<'py>,
        sql: &str,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let values = params::to_params(params)?;
        let output = self.run(py, sql, values)?;
        result::to_pyarrow(py, output)
    }

    /// Private hook of `llkv.Cursor`: executes like `execute`, except that a
    /// single query returns a `ResultStream` that computes its rows as they
    /// are read, and also returns the PEP 249 row count (rows changed by
    /// INSERT, UPDATE or DELETE without RETURNING; -1 for anything else).
    #[pyo3(signature = (sql, params = None))]
    fn _execute_cursor<'py>(
        &self,
        py: Python<'py>,
        sql: &str,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, i64)> {
        let values = params::to_params(params)?;
        let output = match self.run_streaming(py, sql, values)? {
            Streamed::Rows(schema, started) => {
                let stream = ResultStream::new(schema, started, self.cancel.clone());
                return Ok((Bound::new(py, stream)?.into_any(), -1));
            }
            Streamed::Done(output) => output,
        };
        let rowcount = match output.kind {
            llkv::StatementKind::RowsAffected(n) => i64::try_from(n).unwrap_or(i64::MAX),
            _ => -1,
        };
        Ok((result::to_pyarrow(py, output)?, rowcount))
    }

    /// Appends Arrow data to `table` by column name and returns the number of
    /// rows added: the fast way to load data. `data` is anything Arrow
    /// exports (pyarrow Table/RecordBatch/RecordBatchReader, pandas or
    /// polars DataFrame, any `__arrow_c_stream__` object). With
    /// `create=True` a missing table is created from the data's schema.
    /// Rows are checked like INSERT rows and land in the open transaction
    /// (or commit on their own); on error nothing is added.
    #[pyo3(signature = (table, data, create = false))]
    fn insert_arrow(
        &self,
        py: Python<'_>,
        table: &str,
        data: &Bound<'_, PyAny>,
        create: bool,
    ) -> PyResult<u64> {
        let (schema, batches) = read_arrow(data, "insert_arrow")?;
        py.detach(|| {
            let mut guard = self.state.lock();
            let open = guard.as_mut().ok_or_else(closed_error)?;
            guarded(|| open.session.insert_arrow(table, &schema, &batches, create))
        })
    }

    /// Makes Arrow data queryable by `name` on this connection, as a
    /// read-only table read in place (no copy for int64, float64, string,
    /// bool and binary columns). `data` is anything `insert_arrow` takes.
    /// The name shadows a stored table of the same name until `unregister`.
    fn register(&self, py: Python<'_>, name: &str, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let (schema, batches) = read_arrow(data, "register")?;
        py.detach(|| {
            let mut guard = self.state.lock();
            let open = guard.as_mut().ok_or_else(closed_error)?;
            guarded(|| open.session.register(name, &schema, &batches))
        })
    }

    /// Removes a name `register` made queryable; raises `ProgrammingError`
    /// when nothing is registered under it.
    fn unregister(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let removed = py.detach(|| {
            let mut guard = self.state.lock();
            let open = guard.as_mut().ok_or_else(closed_error)?;
            Ok::<_, PyErr>(open.session.unregister(name))
        })?;
        if removed {
            Ok(())
        } else {
            Err(ProgrammingError::new_err(format!(
                "nothing is registered as {name}"
            )))
        }
    }

    /// A new `llkv.Cursor` on this connection (PEP 249).
    fn cursor<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        if slf.get().closed(slf.py()) {
            return Err(closed_error());
        }
        slf.py()
            .import("llkv._cursor")?
            .getattr("Cursor")?
            .call1((slf,))
    }

    /// Runs `sql` once per parameter set of `seq_of_params` (as
    /// `sqlite3.Connection.executemany` does) on a new cursor, which is
    /// returned.
    fn executemany<'py>(
        slf: &Bound<'py, Self>,
        sql: &str,
        seq_of_params: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Self::cursor(slf)?.call_method1("executemany", (sql, seq_of_params))
    }

    /// Private debug hook for the zero-copy tests: executes `sql` and returns
    /// the `pyarrow.Table` together with the data-buffer address of the first
    /// column of each batch, taken on the Rust side before export.
    #[pyo3(signature = (sql, params = None))]
    fn _execute_debug_addresses<'py>(
        &self,
        py: Python<'py>,
        sql: &str,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyList>)> {
        let values = params::to_params(params)?;
        let output = self.run(py, sql, values)?;
        let addresses = result::first_column_data_addresses(&output.batches);
        let table = result::to_pyarrow(py, output)?;
        Ok((table, PyList::new(py, addresses)?))
    }

    /// Commits the open transaction; does nothing when none is open (PEP 249).
    /// A failed commit (e.g. `TransactionConflictError`) rolls it back.
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        self.end_transaction(py, "COMMIT")
    }

    /// Rolls the open transaction back; does nothing when none is open.
    fn rollback(&self, py: Python<'_>) -> PyResult<()> {
        self.end_transaction(py, "ROLLBACK")
    }

    /// A new connection to the same database, with its own transaction
    /// state (for in-memory databases, the way to a second connection).
    fn duplicate(&self, py: Python<'_>) -> PyResult<Connection> {
        let cancel = Cancel::new();
        let open = py.detach(|| {
            let guard = self.state.lock();
            let open = guard.as_ref().ok_or_else(closed_error)?;
            let database = open.database.clone();
            let dialect = open.session.dialect();
            let file_access = open.session.file_access();
            guarded(|| {
                let mut copy = Open::on(database, &cancel);
                copy.session.set_dialect(dialect)?;
                if !file_access {
                    copy.session.disable_file_access();
                }
                Ok(copy)
            })
        })?;
        Ok(Connection {
            state: Mutex::new(Some(open)),
            cancel,
        })
    }

    /// Stops the statement running on this connection (from another
    /// thread): it fails with `OperationalError("interrupted")`, its
    /// changes are undone, and the connection stays usable. Does nothing
    /// when no statement is running. Ctrl-C in the main thread stops a
    /// running statement the same way and raises KeyboardInterrupt.
    fn interrupt(&self) {
        self.cancel.interrupt.request();
    }

    /// Closes the connection; an open transaction is rolled back. Closing an
    /// already closed connection does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let open = py.detach(|| self.state.lock().take());
        // Dropping the session may flush or roll back: keep panics inside.
        py.detach(move || {
            guarded(move || {
                drop(open);
                Ok(())
            })
        })
    }

    /// True once `close()` has been called.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        py.detach(|| self.state.lock().is_none())
    }

    /// True while an explicit transaction (`BEGIN`) is open.
    #[getter]
    fn in_transaction(&self, py: Python<'_>) -> PyResult<bool> {
        py.detach(|| {
            let guard = self.state.lock();
            let open = guard.as_ref().ok_or_else(closed_error)?;
            guarded(|| Ok(open.session.in_transaction()))
        })
    }

    /// Returns the connection itself, for `with llkv.connect(...) as con:`;
    /// raises `ProgrammingError` when it is closed.
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        if slf.get().closed(slf.py()) {
            return Err(closed_error());
        }
        Ok(slf)
    }

    /// Commits an open transaction when the block succeeded, rolls it back
    /// when it raised, then closes the connection; exceptions propagate.
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        _exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if !self.closed(py) {
            let ended = if exc_type.is_none() {
                self.commit(py)
            } else {
                self.rollback(py)
            };
            let closed = self.close(py);
            ended?;
            closed?;
        }
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        if self.closed(py) {
            "<llkv.Connection (closed)>".to_owned()
        } else {
            "<llkv.Connection>".to_owned()
        }
    }
}

impl Connection {
    /// Runs `COMMIT` or `ROLLBACK` when a transaction is open.
    fn end_transaction(&self, py: Python<'_>, sql: &str) -> PyResult<()> {
        py.detach(|| {
            let mut guard = self.state.lock();
            let open = guard.as_mut().ok_or_else(closed_error)?;
            guarded(|| {
                if open.session.in_transaction() {
                    open.session.execute(sql, &[])?;
                }
                Ok(())
            })
        })
    }

    /// Runs one statement with the GIL released and panics caught.
    fn run(
        &self,
        py: Python<'_>,
        sql: &str,
        params: params::Params,
    ) -> PyResult<llkv::QueryResult> {
        let outcome = py.detach(|| {
            let mut guard = self.state.lock();
            let open = guard.as_mut().ok_or_else(closed_error)?;
            self.cancel.start();
            guarded(|| match &params {
                params::Params::Positional(values) => open.session.execute(sql, values),
                params::Params::Named(named) => open.session.execute_named(sql, named),
            })
        });
        self.cancel.finish(outcome)
    }

    /// Like `run`, computing only the first batch of a single query's rows
    /// (the rest is computed as it is read).
    fn run_streaming(
        &self,
        py: Python<'_>,
        sql: &str,
        params: params::Params,
    ) -> PyResult<Streamed> {
        let outcome = py.detach(|| {
            let mut guard = self.state.lock();
            let open = guard.as_mut().ok_or_else(closed_error)?;
            self.cancel.start();
            guarded(|| {
                let output = match &params {
                    params::Params::Positional(values) => {
                        open.session.execute_streaming(sql, values)?
                    }
                    params::Params::Named(named) => {
                        open.session.execute_named_streaming(sql, named)?
                    }
                };
                Ok(match output {
                    llkv::Output::Rows(stream) => {
                        Streamed::Rows(stream.schema(), Started::new(stream)?)
                    }
                    llkv::Output::Done(result) => Streamed::Done(result),
                })
            })
        });
        self.cancel.finish(outcome)
    }
}

/// A statement's outcome for a cursor.
enum Streamed {
    /// A query: its schema, and its rows with the first batch computed.
    Rows(arrow_schema::SchemaRef, Started),
    /// Anything else, complete.
    Done(llkv::QueryResult),
}

/// Reads Arrow data (anything with `__arrow_c_stream__` or
/// `__arrow_c_array__`) into its schema and batches.
fn read_arrow(
    data: &Bound<'_, PyAny>,
    method: &str,
) -> PyResult<(arrow_schema::SchemaRef, Vec<arrow_array::RecordBatch>)> {
    let data: pyo3_arrow::input::AnyRecordBatch = data.extract().map_err(|_| {
        ProgrammingError::new_err(format!(
            "{method} needs Arrow data (a pyarrow Table/RecordBatch/RecordBatchReader, \
             a pandas or polars DataFrame, or an object with __arrow_c_stream__), got {}",
            data.get_type()
                .qualname()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let reader = data.into_reader()?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DataError::new_err(format!("reading the Arrow data failed: {e}")))?;
    Ok((schema, batches))
}

/// The error for any use of a closed connection.
fn closed_error() -> PyErr {
    ProgrammingError::new_err("cannot operate on a closed connection")
}

/// Runs `f`, mapping engine errors to Python exceptions and a panic to
/// `InternalError`. Creating a `PyErr` is lazy, so this is safe without the GIL.
/// Engine calls need at most about 2 MiB of stack (SQL nesting is capped
/// at 400 levels by the parser and the binder); a Python thread may have
/// less (`threading.stack_size`, or 512 KiB on macOS). When less than this
/// much is left, the call runs on a fresh heap-allocated stack instead, so
/// deep SQL cannot overflow the caller's stack and abort the process.
const STACK_RED_ZONE: usize = 4 * 1024 * 1024;
/// Size of that fresh stack.
const ENGINE_STACK: usize = 16 * 1024 * 1024;

/// Runs an engine call: on enough stack, with panics turned into
/// `InternalError` and engine errors into their PEP 249 classes.
pub(crate) fn guarded<T>(f: impl FnOnce() -> llkv::Result<T>) -> PyResult<T> {
    let outcome = stacker::maybe_grow(STACK_RED_ZONE, ENGINE_STACK, || {
        catch_unwind(AssertUnwindSafe(f))
    });
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(to_py_err(err)),
        Err(payload) => Err(InternalError::new_err(format!(
            "internal error: {}",
            panic_message(payload.as_ref())
        ))),
    }
}

/// The text of a panic payload (`panic!` with a literal or a formatted string).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a Rust panic with a non-string payload"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: PyResult<()>) -> String {
        Python::initialize();
        Python::attach(|py| match result {
            Ok(()) => String::new(),
            Err(err) => err.value(py).to_string(),
        })
    }

    #[test]
    fn panic_becomes_internal_error() {
        let result = guarded(|| -> llkv::Result<()> { panic!("boom {}", 42) });
        Python::initialize();
        let is_internal = Python::attach(|py| {
            result
                .as_ref()
                .is_err_and(|e| e.is_instance_of::<InternalError>(py))
        });
        assert!(is_internal);
        assert_eq!(message(result), "internal error: boom 42");
    }

    #[test]
    fn engine_error_keeps_message() {
        let result =
            guarded(|| -> llkv::Result<()> { Err(llkv::Error::programming("no such table: t")) });
        assert_eq!(message(result), "no such table: t");
    }
}
