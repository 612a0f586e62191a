//! What executing one statement returns.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

/// The outcome of one statement: a schema and the batches of its result.
///
/// Queries return their rows; DML returns one row with an `Int64` column
/// `count` holding the number of rows affected; other statements return an
/// empty schema with no batches.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// Schema of the result columns.
    pub schema: SchemaRef,
    /// Result rows, in order.
    pub batches: Vec<RecordBatch>,
    /// What kind of statement produced this result.
    pub kind: StatementKind,
}

/// What kind of statement produced a [`QueryResult`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// A query (SELECT, VALUES, ...): the batches are its rows.
    Query,
    /// INSERT/UPDATE/DELETE: the number of rows affected.
    RowsAffected(u64),
    /// DDL, transaction control and anything else without rows.
    Other,
}

impl QueryResult {
    /// Total number of rows across all batches.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}
