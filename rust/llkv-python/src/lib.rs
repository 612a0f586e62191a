//! llkv-python: the native module `llkv._llkv` behind the `llkv` Python package.
//!
//! The binding is thin on purpose: it converts parameters to [`llkv::Value`]s
//! ([`params`]), runs the statement with the GIL released and panics caught
//! ([`connection`]), maps engine errors onto the PEP 249 exception tree in one
//! place ([`errors`]), shares one database per file among a process's
//! connections ([`databases`]), and hands results to pyarrow through the Arrow
//! PyCapsule interface without copying a buffer ([`result`]).

pub mod connection;
pub mod databases;
pub mod errors;
mod interrupt;
pub mod params;
pub mod result;
mod rows;
pub mod stream;

use pyo3::prelude::*;

/// The native module. The pure-Python package `llkv` re-exports everything.
#[pymodule]
fn _llkv(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(connection::connect, m)?)?;
    m.add_function(wrap_pyfunction!(connection::split_sql, m)?)?;
    m.add_class::<connection::Connection>()?;
    m.add_class::<stream::ResultStream>()?;
    errors::register(m)?;
    Ok(())
}
