//! `INSERT ... ON CONFLICT [(cols)] DO UPDATE SET ... [WHERE ...]`.
//!
//! Rows are taken one at a time, as SQLite does: a row that collides on
//! the conflict target's unique key updates the existing row (unqualified
//! names and `table.col` read the existing row, `excluded.col` the proposed
//! one; the WHERE clause may skip the update); any other row is inserted.
//! So a later row of the same statement sees the effect of earlier ones.
//! Other unique keys are still checked and fail the statement.

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt64Array};
use llkv_executor::eval::{evaluate, evaluate_predicate, is_true};
use llkv_executor::ExecContext;
use llkv_plan::{Error, Expr, Result, Value};
use llkv_runtime::access::equality_path;
use llkv_runtime::constraints::{find_collisions, CollidesWith};
use llkv_runtime::{row_id_column, Engine, Transaction};
use llkv_table::{TableMeta, TriggerEvent, UniqueKey};
use sqlparser::ast;

use crate::binder::Binder;
use crate::coerce::coerce_for_column;
use crate::dml::{
    assignment_column, check_unique, insert_checked, table_arrow_schema, table_scope,
};
use crate::trigger::{fire, triggers_for};

/// Runs the upsert for the new rows in `batches` (all table columns, table
/// order); returns the rows inserted or updated (their new versions), in
/// order.
#[allow(clippy::too_many_arguments)]
pub fn upsert(
    engine: &Engine,
    txn: &mut Transaction,
    meta: &TableMeta,
    label: &str,
    keys: &[UniqueKey],
    batches: Vec<RecordBatch>,
    (target, action): (Option<&ast::ConflictTarget>, &ast::DoUpdate),
    params: &[Value],
) -> Result<Vec<RecordBatch>> {
    if label.eq_ignore_ascii_case("excluded") {
        return Err(Error::programming(
            "ON CONFLICT DO UPDATE: the table is named excluded, so excluded.col is \
             ambiguous; give the table an alias (INSERT INTO excluded AS t ...)",
        ));
    }
    let arbiters = arbiter_keys(meta, keys, target)?;
    let catalog = txn.catalog_arc();
    let binder = Binder::new(&catalog, params).for_transaction(txn);
    let scope = table_scope(meta, label);
    let excluded = table_scope(meta, "excluded");
    let mut assignments: Vec<(usize, Expr)> = Vec::new();
    for a in &action.assignments {
        let column = assignment_column(meta, a)?;
        let default = crate::dml_rewrite::assignment_value(meta, column, &a.value)?;
        assignments.push((
            column,
            binder.bind_expr_with_outer(default.as_ref().unwrap_or(&a.value), &scope, &excluded)?,
        ));
    }
    let condition = action
        .selection
        .as_ref()
        .map(|w| binder.bind_expr_with_outer(w, &scope, &excluded))
        .transpose()?;
    let subqueries = binder.take_subqueries();
    let (before_insert, after_insert) = triggers_for(txn, meta, TriggerEvent::Insert);
    let (before_update, after_update) = triggers_for(txn, meta, TriggerEvent::Update);
    let assigned: Vec<usize> = assignments.iter().map(|(c, _)| *c).collect();
    let schema = table_arrow_schema(meta);
    let mut written = Vec::new();
    // Rows this statement writes get provisional ids from here on.
    let first_written = llkv_runtime::PENDING_ROW_BIT | txn.next_pending_row;
    for batch in &batches {
        for i in 0..batch.num_rows() {
            let proposed = batch.slice(i, 1);
            let existing = find_collisions(txn, meta, &arbiters, &proposed)?
                .into_iter()
                .find_map(|c| match c.with {
                    CollidesWith::Existing(id) => Some((c.key, id)),
                    CollidesWith::Earlier(_) => None,
                });
            // SQLite applies an upsert row by row, so a row may update one
            // the same statement wrote. DuckDB resolves conflicts against the
            // table as it was: a proposed row that collides only with a row
            // of this statement is dropped.
            if txn.duckdb_dialect && existing.is_some_and(|(_, id)| id >= first_written) {
                continue;
            }
            let Some((key, row_id)) = existing else {
                check_not_null(meta, &proposed)?;
                fire(
                    engine,
                    txn,
                    meta,
                    &before_insert,
                    None,
                    Some((&proposed, 0)),
                    &[],
                )?;
                check_unique(txn, meta, keys, &proposed)?;
                insert_checked(txn, meta, proposed.clone())?;
                fire(
                    engine,
                    txn,
                    meta,
                    &after_insert,
                    None,
                    Some((&proposed, 0)),
                    &[],
                )?;
                written.push(proposed);
                continue;
            };
            let old = existing_row(txn, meta, &arbiters[key], &proposed, row_id)?;
            let updated = {
                let ctx = ExecContext::new(&*txn, &subqueries);
                ctx.with_outer_row(&proposed, 0, || {
                    if let Some(c) = &condition {
                        let keep = evaluate_predicate(c, &old, &ctx)?;
                        if !is_true(&keep, 0) {
                            return Ok(None);
                        }
                    }
                    let mut columns: Vec<ArrayRef> = Vec::with_capacity(meta.columns.len());
                    for (j, col) in meta.columns.iter().enumerate() {
                        let value = match assignments.iter().rev().find(|(t, _)| *t == j) {
                            Some((_, e)) => evaluate(e, &old, &ctx)?,
                            None => old.column(j).clone(),
                        };
                        columns.push(coerce_for_column(&value, col, &meta.name)?);
                    }
                    RecordBatch::try_new_with_options(
                        schema.clone(),
                        columns,
                        &RecordBatchOptions::new().with_row_count(Some(1)),
                    )
                    .map(Some)
                    .map_err(|e| Error::internal(e.to_string()))
                })?
            };
            let Some(new_row) = updated else {
                continue;
            };
            fire(
                engine,
                txn,
                meta,
                &before_update,
                Some((&old, 0)),
                Some((&new_row, 0)),
                &assigned,
            )?;
            let origin =
                crate::dml::update_origins(txn, meta, &UInt64Array::from(vec![row_id]), &assigned);
            engine.delete_rows(txn, meta.id, &[row_id])?;
            check_unique(txn, meta, keys, &new_row)?;
            crate::dml::insert_moved_checked(txn, meta, new_row.clone(), origin)?;
            crate::foreign_key::parent_rows_changed(
                engine,
                txn,
                meta,
                std::slice::from_ref(&old),
                Some(std::slice::from_ref(&new_row)),
            )?;
            fire(
                engine,
                txn,
                meta,
                &after_update,
                Some((&old, 0)),
                Some((&new_row, 0)),
                &assigned,
            )?;
            written.push(new_row);
        }
    }
    Ok(written)
}

/// The unique keys a conflict target names (all of them when it is
/// omitted, as SQLite allows).
pub(crate) fn arbiter_keys(
    meta: &TableMeta,
    keys: &[UniqueKey],
    target: Option<&ast::ConflictTarget>,
) -> Result<Vec<UniqueKey>> {
    let Some(target) = target else {
        if keys.is_empty() {
            return Err(Error::programming(format!(
                "ON CONFLICT DO UPDATE: table {} has no PRIMARY KEY or UNIQUE constraint",
                meta.name
            )));
        }
        return Ok(keys.to_vec());
    };
    let ast::ConflictTarget::Columns { columns, .. } = target else {
        return Err(Error::not_supported("ON CONFLICT ON CONSTRAINT"));
    };
    let mut wanted = columns
        .iter()
        .map(|c| {
            meta.column_index(&c.value)
                .ok_or_else(|| Error::programming(format!("no such column: {}", c.value)))
        })
        .collect::<Result<Vec<usize>>>()?;
    wanted.sort_unstable();
    wanted.dedup();
    let matching: Vec<UniqueKey> = keys
        .iter()
        .filter(|k| {
            let mut cols = k.columns.clone();
            cols.sort_unstable();
            cols == wanted
        })
        .cloned()
        .collect();
    if matching.is_empty() {
        return Err(Error::programming(
            "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint",
        ));
    }
    Ok(matching)
}

/// The stored row `row_id` (all table columns), found through the sorted
/// runs of `key`'s first column with the proposed row's value.
fn existing_row(
    txn: &Transaction,
    meta: &TableMeta,
    key: &UniqueKey,
    proposed: &RecordBatch,
    row_id: u64,
) -> Result<RecordBatch> {
    let first = key.columns[0];
    let value = llkv_executor::scalar::value_at(proposed.column(first).as_ref(), 0);
    let path = equality_path(meta, first, &value, &key.origin);
    let all: Vec<usize> = (0..meta.columns.len()).collect();
    for batch in txn.scan_with_path(meta.id, &all, true, &path)? {
        let ids = row_id_column(&batch)?;
        if let Some(i) = ids.values().iter().position(|r| *r == row_id) {
            let row = batch.slice(i, 1);
            let columns = row.columns()[..meta.columns.len()].to_vec();
            return RecordBatch::try_new_with_options(
                table_arrow_schema(meta),
                columns,
                &RecordBatchOptions::new().with_row_count(Some(1)),
            )
            .map_err(|e| Error::internal(e.to_string()));
        }
    }
    Err(Error::internal(format!(
        "row {row_id} of {} vanished during ON CONFLICT",
        meta.name
    )))
}

/// NOT NULL of a row an upsert inserts (checked late in the DuckDB dialect,
/// where a row that updates may leave NOT NULL columns out).
fn check_not_null(meta: &TableMeta, row: &RecordBatch) -> Result<()> {
    for (j, col) in meta.columns.iter().enumerate() {
        if !col.nullable && row.column(j).null_count() > 0 {
            return Err(Error::integrity(format!(
                "NOT NULL constraint failed: {}.{}",
                meta.name, col.name
            )));
        }
    }
    Ok(())
}
