//! The error type shared by the SQL-facing layers (plan, executor, runtime, sql),
//! classified for the PEP 249 exception tree.

use thiserror::Error;

/// Which PEP 249 exception class an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Syntax errors, unknown tables/columns, wrong parameter counts: `ProgrammingError`.
    Programming,
    /// Constraint violations: `IntegrityError`.
    Integrity,
    /// I/O, locking, database state problems: `OperationalError`.
    Operational,
    /// A write-write conflict between concurrent transactions: `TransactionConflictError`
    /// (a subclass of `OperationalError`).
    Conflict,
    /// Bad values: overflow, failed casts, division problems: `DataError`.
    Data,
    /// Valid SQL the engine does not support yet: `NotSupportedError`.
    NotSupported,
    /// Corrupt files or checksums: `DatabaseError`.
    Corrupt,
    /// A bug in llkv: `InternalError`.
    Internal,
}

/// An error from parsing, binding, planning or executing a statement.
#[derive(Debug, Clone, Error)]
#[error("{message}")]
pub struct Error {
    /// The PEP 249 class of the error.
    pub kind: ErrorKind,
    /// A message naming the object and, where possible, the fix.
    pub message: String,
}

impl Error {
    /// Builds an error of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
}

/// Result alias of the SQL-facing layers.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand constructors, one per kind, so call sites read as sentences.
impl Error {
    /// A `ProgrammingError`.
    pub fn programming(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Programming, message)
    }
    /// A `DataError`.
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Data, message)
    }
    /// An `IntegrityError`.
    pub fn integrity(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Integrity, message)
    }
    /// An `OperationalError`.
    pub fn operational(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Operational, message)
    }
    /// A `NotSupportedError`.
    pub fn not_supported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotSupported, message)
    }
    /// An `InternalError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}
