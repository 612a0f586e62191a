//! `ResultStream`: the rows of a query, computed batch by batch as Python
//! reads them (what `llkv.Cursor` fetches from).
//!
//! Each read runs with the GIL released, panics caught and the
//! connection's interrupt polled, like a statement. A stream that is done,
//! failed or closed lets go of the snapshot it was reading.

use arrow_array::RecordBatch;
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3_arrow::{PyRecordBatch, PySchema};

use crate::connection::guarded;
use crate::interrupt::Cancel;

/// The rows of a query, read one Arrow record batch at a time.
///
/// Made by `Cursor.execute` (through a private connection hook); the batches
/// come from the state the query started in, whatever runs on the connection
/// afterwards.
#[pyclass(module = "llkv", name = "ResultStream", frozen)]
pub struct ResultStream {
    schema: arrow_schema::SchemaRef,
    state: Mutex<Started>,
    /// The connection's cancellation state.
    cancel: Cancel,
}

/// A query with its first batch computed: what is left to read.
pub(crate) struct Started {
    /// A batch computed ahead (the first one, read as the query started).
    ahead: Option<RecordBatch>,
    /// None once done, failed or closed.
    stream: Option<llkv::QueryStream>,
}

impl Started {
    /// Computes the first batch of `stream` (called with the GIL released,
    /// inside the statement), so that errors in it are the statement's.
    pub(crate) fn new(mut stream: llkv::QueryStream) -> llkv::Result<Started> {
        let ahead = stream.next().transpose()?;
        // A query without rows is done: let go of its snapshot now.
        let stream = ahead.is_some().then_some(stream);
        Ok(Started { ahead, stream })
    }
}

impl ResultStream {
    /// The stream of a started query whose schema is `schema`.
    pub(crate) fn new(
        schema: arrow_schema::SchemaRef,
        started: Started,
        cancel: Cancel,
    ) -> ResultStream {
        ResultStream {
            schema,
            state: Mutex::new(started),
            cancel,
        }
    }

    /// The next batch, computed with the GIL released.
    fn compute_next(&self, py: Python<'_>) -> PyResult<Option<RecordBatch>> {
        let outcome = py.detach(|| {
            let mut state = self.state.lock();
            if let Some(batch) = state.ahead.take() {
                return Ok(Some(batch));
            }
            let Some(stream) = state.stream.as_mut() else {
                return Ok(None);
            };
            self.cancel.start();
            let next = guarded(|| stream.next().transpose());
            if !matches!(next, Ok(Some(_))) {
                // Done or failed: release the snapshot now.
                let finished = state.stream.take();
                let _ = guarded(|| {
                    drop(finished);
                    Ok(())
                });
            }
            next
        });
        self.cancel.finish(outcome)
    }
}

#[pymethods]
impl ResultStream {
    /// The schema of the result, as a `pyarrow.Schema`.
    #[getter]
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PySchema::new(self.schema.clone()).into_pyarrow(py)
    }

    /// The next batch of rows as a `pyarrow.RecordBatch` (never empty,
    /// handed over without a copy), or None once all were read. An error
    /// ends the stream.
    fn read_next<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        // A batch computed ahead needs no engine work (`try_lock`: never
        // wait for a lock with the GIL held).
        let ready = self.state.try_lock().and_then(|mut state| {
            match (state.ahead.take(), state.stream.is_none()) {
                (Some(batch), _) => Some(Some(batch)),
                (None, true) => Some(None),
                (None, false) => None,
            }
        });
        let batch = match ready {
            Some(batch) => batch,
            None => self.compute_next(py)?,
        };
        match batch {
            Some(batch) => Ok(Some(PyRecordBatch::new(batch).into_pyarrow(py)?)),
            None => Ok(None),
        }
    }

    /// Stops the query and releases what it holds; reading afterwards
    /// returns None. Closing again does nothing.
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            let mut state = self.state.lock();
            state.ahead = None;
            let finished = state.stream.take();
            drop(state);
            let _ = guarded(|| {
                drop(finished);
                Ok(())
            });
        });
    }

    /// True once every batch was read, or the stream failed or was closed.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        py.detach(|| {
            let state = self.state.lock();
            state.ahead.is_none() && state.stream.is_none()
        })
    }
}
