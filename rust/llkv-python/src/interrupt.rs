//! Stopping a running statement: Ctrl-C in the main thread, or
//! `Connection.interrupt()` from any thread.
//!
//! Statements run with the GIL released, so Python cannot run its SIGINT
//! handler until they return. The engine therefore polls: at most every
//! 20 ms of a running statement it takes the GIL and runs the pending signal
//! handlers (`PyErr_CheckSignals`). When one raises (KeyboardInterrupt), the
//! statement stops like an interrupted one, its changes are undone, and the
//! handler's exception is raised in place of the engine's "interrupted".

use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::prelude::*;

/// One connection's cancellation state (clones share it).
#[derive(Clone)]
pub(crate) struct Cancel {
    /// Shared with the connection's session.
    pub(crate) interrupt: Arc<llkv::Interrupt>,
    /// The exception a signal handler raised while a statement ran.
    raised: Arc<Mutex<Option<PyErr>>>,
}

impl Cancel {
    pub(crate) fn new() -> Cancel {
        let raised: Arc<Mutex<Option<PyErr>>> = Arc::new(Mutex::new(None));
        let slot = raised.clone();
        let poll: llkv::InterruptPoll = Box::new(move || {
            Python::attach(|py| match py.check_signals() {
                Ok(()) => false,
                Err(err) => {
                    *slot.lock() = Some(err);
                    true
                }
            })
        });
        Cancel {
            interrupt: Arc::new(llkv::Interrupt::new(Some(poll))),
            raised,
        }
    }

    /// Called as a statement starts: forgets earlier interrupts.
    pub(crate) fn start(&self) {
        self.interrupt.clear();
        self.raised.lock().take();
    }

    /// The statement's outcome, with a signal handler's exception (if one
    /// was raised while it ran) in place of the engine's error.
    pub(crate) fn finish<T>(&self, outcome: PyResult<T>) -> PyResult<T> {
        let raised = self.raised.lock().take();
        match (outcome, raised) {
            (Err(_), Some(err)) => Err(err),
            (Ok(value), Some(_)) => {
                // The statement finished (and may have committed) before it
                // saw the request: keep its result, and deliver the SIGINT
                // again so Python raises at its next check.
                // SAFETY: PyErr_SetInterrupt only sets a flag and is safe to
                // call from any thread at any time.
                unsafe { pyo3::ffi::PyErr_SetInterrupt() };
                Ok(value)
            }
            (outcome, None) => outcome,
        }
    }
}
