//! Errors raised by pagers.

use std::path::PathBuf;

/// Everything that can go wrong while reading or writing pager storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An operating-system I/O call on `path` failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file the failing call touched.
        path: PathBuf,
        /// The underlying OS error.
        #[source]
        source: std::io::Error,
    },
    /// Another pager (in this or another process) already holds the file open.
    #[error("database file {} is locked by another connection or process; close it first", path.display())]
    Locked {
        /// The data file that is locked.
        path: PathBuf,
    },
    /// Stored bytes do not have the expected shape; they are not trusted.
    #[error("corrupt storage in {}: {detail}", path.display())]
    Corrupt {
        /// The data file holding the corrupt entry.
        path: PathBuf,
        /// What was wrong, naming the key when known.
        detail: String,
    },
    /// `alloc` was asked for more keys than the 64-bit key space has left.
    #[error("physical key space exhausted: cannot allocate {requested} more keys")]
    KeySpaceExhausted {
        /// Number of keys requested by the failing call.
        requested: usize,
    },
}

/// Result alias used by every pager operation.
pub type Result<T> = std::result::Result<T, StorageError>;

/// Adapts an `io::Error` into [`StorageError::Io`] naming `path`.
pub(crate) fn io_err(path: &std::path::Path) -> impl Fn(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}
