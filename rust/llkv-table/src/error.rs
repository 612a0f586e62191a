//! Errors of the table layer.

use thiserror::Error;

/// Errors raised by tables and the catalog.
#[derive(Debug, Error)]
pub enum TableError {
    /// The column store failed.
    #[error(transparent)]
    ColumnStore(#[from] llkv_column_map::ColumnStoreError),
    /// The stored catalog could not be read.
    #[error("catalog is corrupt: {0}")]
    CorruptCatalog(String),
    /// A table id that the catalog does not know.
    #[error("no table with id {0}")]
    UnknownTable(u32),
    /// Internal inconsistency.
    #[error("{0}")]
    Internal(String),
}

/// Result alias of the table layer.
pub type Result<T> = std::result::Result<T, TableError>;
