//! The executor: evaluates bound expressions over Arrow record batches and
//! runs logical plans as streams of batches.

pub mod context;
pub mod eval;
pub mod explain;
pub mod operators;
pub mod scalar;

pub use context::{BatchIter, ExecContext, TableProvider};
pub use operators::{empty_rows_batch, execute, execute_collect, project_batch};
