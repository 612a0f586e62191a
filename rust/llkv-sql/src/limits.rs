//! Limits on what one statement may ask for, so that hostile or runaway
//! input fails with a clear error instead of exhausting memory. The
//! nesting depth of expressions and subqueries is capped where SQL is
//! parsed and bound (`parse.rs`, `binder::MAX_DEPTH`), the rounds of a
//! recursive CTE where it runs, and buffered memory by `memory_limit`.

use llkv_plan::{Error, Result};

/// Longest SQL text accepted, in bytes (256 MiB).
pub const MAX_SQL_BYTES: usize = 256 << 20;

/// Most columns a table may have (SQLite's largest setting).
pub const MAX_COLUMNS: usize = 32_767;

/// Fails when `sql` is longer than [`MAX_SQL_BYTES`].
pub(crate) fn check_sql_length(sql: &str) -> Result<()> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(Error::programming(format!(
            "SQL text of {} bytes is longer than the limit of {MAX_SQL_BYTES} bytes",
            sql.len()
        )));
    }
    Ok(())
}

/// Fails when table `table` would have more than [`MAX_COLUMNS`] columns.
pub(crate) fn check_columns(table: &str, columns: usize) -> Result<()> {
    if columns > MAX_COLUMNS {
        return Err(Error::programming(format!(
            "table {table} would have {columns} columns; at most {MAX_COLUMNS} are allowed"
        )));
    }
    Ok(())
}
