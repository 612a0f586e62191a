//! The PEP 249 exception tree and the one place that maps [`llkv::ErrorKind`]
//! onto it.
//!
//! ```text
//! Exception
//! ├── Warning
//! └── Error
//!     ├── InterfaceError
//!     └── DatabaseError                 (also: corrupt files)
//!         ├── DataError
//!         ├── OperationalError
//!         │   └── TransactionConflictError
//!         ├── IntegrityError
//!         ├── InternalError             (also: Rust panics)
//!         ├── ProgrammingError
//!         └── NotSupportedError
//! ```

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::PyErr;

pyo3::create_exception!(
    llkv,
    Warning,
    PyException,
    "Important warnings, such as data truncation (PEP 249)."
);
pyo3::create_exception!(
    llkv,
    Error,
    PyException,
    "Base class of every llkv error (PEP 249)."
);
pyo3::create_exception!(
    llkv,
    InterfaceError,
    Error,
    "Misuse of the database interface rather than of the database (PEP 249)."
);
pyo3::create_exception!(
    llkv,
    DatabaseError,
    Error,
    "Errors related to the database; also raised for corrupt database files."
);
pyo3::create_exception!(
    llkv,
    DataError,
    DatabaseError,
    "Bad values: numeric overflow, failed casts, division problems."
);
pyo3::create_exception!(
    llkv,
    OperationalError,
    DatabaseError,
    "I/O, locking and database-state problems outside the programmer's control."
);
pyo3::create_exception!(
    llkv,
    IntegrityError,
    DatabaseError,
    "A constraint was violated (NOT NULL, UNIQUE, PRIMARY KEY, FOREIGN KEY, CHECK)."
);
pyo3::create_exception!(
    llkv,
    InternalError,
    DatabaseError,
    "A bug in llkv, including a caught Rust panic; please report it."
);
pyo3::create_exception!(
    llkv,
    ProgrammingError,
    DatabaseError,
    "Syntax errors, unknown tables or columns, wrong parameter counts, closed connections."
);
pyo3::create_exception!(
    llkv,
    NotSupportedError,
    DatabaseError,
    "Valid SQL or a parameter type that llkv does not support (yet)."
);
pyo3::create_exception!(
    llkv,
    TransactionConflictError,
    OperationalError,
    "A write-write conflict with a concurrent transaction; retry the transaction."
);

/// Converts an engine error into the Python exception of its PEP 249 class.
pub fn to_py_err(err: llkv::Error) -> PyErr {
    use llkv::ErrorKind;
    let message = err.message;
    match err.kind {
        ErrorKind::Programming => ProgrammingError::new_err(message),
        ErrorKind::Integrity => IntegrityError::new_err(message),
        ErrorKind::Operational => OperationalError::new_err(message),
        ErrorKind::Conflict => TransactionConflictError::new_err(message),
        ErrorKind::Data => DataError::new_err(message),
        ErrorKind::NotSupported => NotSupportedError::new_err(message),
        ErrorKind::Corrupt => DatabaseError::new_err(message),
        ErrorKind::Internal => InternalError::new_err(message),
    }
}

/// Adds every exception class to the module, so `llkv.ProgrammingError` etc. exist.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Warning", py.get_type::<Warning>())?;
    m.add("Error", py.get_type::<Error>())?;
    m.add("InterfaceError", py.get_type::<InterfaceError>())?;
    m.add("DatabaseError", py.get_type::<DatabaseError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("OperationalError", py.get_type::<OperationalError>())?;
    m.add("IntegrityError", py.get_type::<IntegrityError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add("ProgrammingError", py.get_type::<ProgrammingError>())?;
    m.add("NotSupportedError", py.get_type::<NotSupportedError>())?;
    m.add(
        "TransactionConflictError",
        py.get_type::<TransactionConflictError>(),
    )?;
    Ok(())
}
