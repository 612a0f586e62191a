//! `ResultStream`: the rows of a query, computed batch by batch as Python
//! reads them (what `llkv.Cursor` fetches from).
//!
//! Each read runs with the GIL released, panics caught and the
//! connection's interrupt polled, like a statement. A stream that is done,
//! failed or closed lets go of the snapshot it was reading.

use arrow_array::RecordBatch;
use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyList;
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
    /// A batch computed ahead (the first one, read as the query started),
    /// or the part of a batch whose first rows were fetched as tuples.
    ahead: Option<RecordBatch>,
    /// Rows of `ahead` already fetched as tuples.
    fetched: usize,
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
        Ok(Started {
            ahead,
            fetched: 0,
            stream,
        })
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

    /// The rows not read yet of the batch computed ahead, as (batch, rows
    /// of it already fetched); None when the engine must compute the next
    /// batch (Some(None) at the end). Never waits for the lock with the
    /// GIL held.
    fn ready(&self) -> Option<Option<(RecordBatch, usize)>> {
        self.state.try_lock().and_then(|mut state| {
            let fetched = std::mem::take(&mut state.fetched);
            match (state.ahead.take(), state.stream.is_none()) {
                (Some(batch), _) => Some(Some((batch, fetched))),
                (None, true) => Some(None),
                (None, false) => None,
            }
        })
    }

    /// The next batch with rows to read, and how many of its rows were
    /// already fetched; None at the end.
    fn next_piece(&self, py: Python<'_>) -> PyResult<Option<(RecordBatch, usize)>> {
        match self.ready() {
            Some(piece) => Ok(piece),
            None => self.compute_next(py),
        }
    }

    /// Like [`ResultStream::next_piece`], computing the next batch with the
    /// GIL released.
    fn compute_next(&self, py: Python<'_>) -> PyResult<Option<(RecordBatch, usize)>> {
        let outcome = py.detach(|| {
            let mut state = self.state.lock();
            if let Some(batch) = state.ahead.take() {
                return Ok(Some((batch, std::mem::take(&mut state.fetched))));
            }
            let Some(stream) = state.stream.as_mut() else {
                return Ok(None);
            };
            self.cancel.start();
            let next = guarded(|| stream.next().transpose()).map(|b| b.map(|b| (b, 0)));
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
        match self.next_piece(py)? {
            Some((batch, fetched)) => {
                let rest = batch.slice(fetched, batch.num_rows() - fetched);
                Ok(Some(PyRecordBatch::new(rest).into_pyarrow(py)?))
            }
            None => Ok(None),
        }
    }

    /// True when [`ResultStream::fetch_rows`] can convert this result's
    /// columns (NULL, BOOLEAN, BIGINT, DOUBLE, TEXT and BLOB ones).
    #[getter]
    fn native_rows(&self) -> bool {
        crate::rows::converts_natively(&self.schema)
    }

    /// The next `size` rows (all remaining ones for None) as a list of
    /// tuples converted without pyarrow; fewer at the end. Only for results
    /// whose `native_rows` is true.
    #[pyo3(signature = (size = None))]
    fn fetch_rows<'py>(
        &self,
        py: Python<'py>,
        size: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        if !crate::rows::converts_natively(&self.schema) {
            return Err(PyTypeError::new_err(
                "internal error: this result's rows must be fetched through pyarrow",
            ));
        }
        let mut rows = Vec::new();
        while size.is_none_or(|size| rows.len() < size) {
            let Some((batch, fetched)) = self.next_piece(py)? else {
                break;
            };
            let available = batch.num_rows() - fetched;
            let take = size.map_or(available, |size| available.min(size - rows.len()));
            crate::rows::append_rows(py, &batch, fetched, take, &mut rows)?;
            if fetched + take < batch.num_rows() {
                let mut state = self.state.lock();
                state.ahead = Some(batch);
                state.fetched = fetched + take;
            }
        }
        PyList::new(py, rows)
    }

    /// Stops the query and releases what it holds; reading afterwards
    /// returns None. Closing again does nothing.
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            let mut state = self.state.lock();
            state.ahead = None;
            state.fetched = 0;
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
