//! CHECK constraints: every new or updated row must make each of its
//! table's CHECK expressions true or NULL.

use arrow_array::{Array, RecordBatch};
use llkv_executor::eval::{evaluate, to_boolean};
use llkv_executor::ExecContext;
use llkv_plan::{Error, Result};
use llkv_runtime::Transaction;
use llkv_table::{CheckMeta, TableMeta};

use crate::binder::{Binder, ExprContext};
use crate::dml::table_scope;
use crate::parse::parse_stored_expr;

/// Fails with an IntegrityError naming the constraint when a row of
/// `batch` (all table columns, table order) makes a CHECK expression false.
pub(crate) fn check_rows(txn: &Transaction, meta: &TableMeta, batch: &RecordBatch) -> Result<()> {
    if meta.checks.is_empty() || batch.num_rows() == 0 {
        return Ok(());
    }
    let scope = table_scope(meta, &meta.name);
    for check in &meta.checks {
        let binder = Binder::new(txn.catalog(), &[]);
        let expr = binder.bind_expr(
            &parse_stored_expr(&check.expr)?,
            &mut ExprContext {
                scope: &scope,
                agg: None,
            },
        )?;
        let subqueries = binder.take_subqueries();
        let ctx = ExecContext::new(txn, &subqueries);
        let verdict = to_boolean(&evaluate(&expr, batch, &ctx)?)?;
        if (0..verdict.len()).any(|i| verdict.is_valid(i) && !verdict.value(i)) {
            return Err(violation(meta, check));
        }
    }
    Ok(())
}

/// Binds a CHECK expression of a new table once, so that unknown columns
/// and misuse (aggregates, subqueries, parameters) fail at CREATE TABLE.
pub(crate) fn validate(txn: &Transaction, meta: &TableMeta, check: &CheckMeta) -> Result<()> {
    let parsed = parse_stored_expr(&check.expr)?;
    let scope = table_scope(meta, &meta.name);
    let binder = Binder::new(txn.catalog(), &[]);
    binder.bind_expr(
        &parsed,
        &mut ExprContext {
            scope: &scope,
            agg: None,
        },
    )?;
    if !binder.take_subqueries().is_empty() {
        return Err(Error::programming(
            "subqueries are not allowed in CHECK constraints",
        ));
    }
    if binder.params_used() > 0 {
        return Err(Error::programming(
            "parameters are not allowed in CHECK constraints",
        ));
    }
    Ok(())
}

fn violation(meta: &TableMeta, check: &CheckMeta) -> Error {
    match &check.name {
        Some(name) => Error::integrity(format!(
            "CHECK constraint failed: {name} on table {} with expression CHECK({})",
            meta.name, check.expr
        )),
        None => Error::integrity(format!(
            "CHECK constraint failed on table {} with expression CHECK({})",
            meta.name, check.expr
        )),
    }
}
