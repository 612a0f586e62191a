//! FOREIGN KEY enforcement.
//!
//! Child side: a new or updated child row whose referencing columns are all
//! non-NULL must match a parent row the transaction sees (checked after the
//! row is stored, so a row may reference itself or an earlier row of the
//! same statement).
//!
//! Parent side: when parent rows are deleted or their keys updated, the
//! keys that no longer exist at the end of the change are looked up in
//! every referencing table, and the constraint's action runs: NO ACTION and
//! RESTRICT fail the statement, CASCADE deletes the children (or updates
//! their keys along), SET NULL / SET DEFAULT rewrite their referencing
//! columns. Actions recurse through further foreign keys.

use std::collections::{HashMap, HashSet};

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_select::concat::concat_batches;
use llkv_executor::eval::arrow_err;
use llkv_plan::{Error, Result};
use llkv_runtime::constraints::find_key_matches;
use llkv_runtime::{row_id_column, Engine, Transaction};
use llkv_table::{ForeignKeyMeta, ReferentialAction, TableMeta};

use crate::coerce::coerce_for_column;
use crate::dml::{default_value, table_arrow_schema};

/// Positions in `meta` of a foreign key's referencing columns.
fn child_positions(meta: &TableMeta, fk: &ForeignKeyMeta) -> Result<Vec<usize>> {
    fk.columns
        .iter()
        .map(|f| {
            meta.columns
                .iter()
                .position(|c| c.field_id == *f)
                .ok_or_else(|| Error::internal("foreign key column missing"))
        })
        .collect()
}

/// Positions in `parent` of a foreign key's referenced columns.
fn parent_positions(parent: &TableMeta, fk: &ForeignKeyMeta) -> Result<Vec<usize>> {
    fk.parent_columns
        .iter()
        .map(|n| {
            parent.column_index(n).ok_or_else(|| {
                Error::programming(format!(
                    "foreign key references {}.{n}, which no longer exists",
                    parent.name
                ))
            })
        })
        .collect()
}

fn describe(meta: &TableMeta, fk: &ForeignKeyMeta) -> String {
    let cols: Vec<&str> = fk
        .columns
        .iter()
        .filter_map(|f| meta.columns.iter().find(|c| c.field_id == *f))
        .map(|c| c.name.as_str())
        .collect();
    let name = fk
        .name
        .as_ref()
        .map(|n| format!("{n} "))
        .unwrap_or_default();
    format!(
        "{name}{}({}) REFERENCES {}({})",
        meta.name,
        cols.join(", "),
        fk.parent,
        fk.parent_columns.join(", ")
    )
}

/// Fails with an IntegrityError when a row of `batch` (all columns of
/// `meta`'s table, stored already) references a parent key that does not
/// exist.
pub(crate) fn check_children(
    txn: &Transaction,
    meta: &TableMeta,
    batch: &RecordBatch,
) -> Result<()> {
    for fk in &meta.foreign_keys {
        let parent = txn.catalog().table(&fk.parent).cloned().ok_or_else(|| {
            Error::integrity(format!(
                "FOREIGN KEY constraint failed: {} references a missing table",
                describe(meta, fk)
            ))
        })?;
        let keys: Vec<ArrayRef> = child_positions(meta, fk)?
            .iter()
            .map(|c| batch.column(*c).clone())
            .collect();
        let found: HashSet<usize> =
            find_key_matches(txn, &parent, &parent_positions(&parent, fk)?, &keys)?
                .into_iter()
                .map(|(row, _)| row)
                .collect();
        let missing = (0..batch.num_rows())
            .find(|i| !found.contains(i) && keys.iter().all(|k| k.is_valid(*i)));
        if let Some(row) = missing {
            let values: Vec<String> = keys
                .iter()
                .map(|k| llkv_executor::scalar::value_at(k.as_ref(), row).to_string())
                .collect();
            return Err(Error::integrity(format!(
                "FOREIGN KEY constraint failed: {}: key ({}) does not exist in the referenced table",
                describe(meta, fk),
                values.join(", ")
            )));
        }
    }
    Ok(())
}

/// The foreign keys that reference `parent`, with their child tables.
fn referencing(txn: &Transaction, parent: &TableMeta) -> Vec<(TableMeta, ForeignKeyMeta)> {
    txn.catalog()
        .tables
        .values()
        .flat_map(|t| {
            t.foreign_keys
                .iter()
                .filter(|fk| fk.parent.eq_ignore_ascii_case(&parent.name))
                .map(move |fk| (t.as_ref().clone(), fk.clone()))
        })
        .collect()
}

/// True when some foreign key references `parent`.
pub(crate) fn is_referenced(txn: &Transaction, parent: &TableMeta) -> bool {
    txn.catalog().tables.values().any(|t| {
        t.foreign_keys
            .iter()
            .any(|fk| fk.parent.eq_ignore_ascii_case(&parent.name))
    })
}

/// Runs the foreign-key actions for parent rows that were deleted
/// (`new` is None) or updated (`new` holds each old row's new version, in
/// the same order). `old` and `new` batches start with the table's columns.
pub(crate) fn parent_rows_changed(
    engine: &Engine,
    txn: &mut Transaction,
    parent: &TableMeta,
    old: &[RecordBatch],
    new: Option<&[RecordBatch]>,
) -> Result<()> {
    if old.is_empty() || !is_referenced(txn, parent) {
        return Ok(());
    }
    let width = parent.columns.len();
    let old = table_columns(old, width)?;
    let new = match new {
        Some(n) => Some(table_columns(n, width)?),
        None => None,
    };
    for (child, fk) in referencing(txn, parent) {
        let child = txn.catalog().table(&child.name).cloned().unwrap_or(child);
        let parent_cols = parent_positions(parent, &fk)?;
        let old_keys: Vec<ArrayRef> = parent_cols.iter().map(|c| old.column(*c).clone()).collect();
        // Keys still present in the parent (e.g. an update that kept the
        // key, or a replaced row) are not gone.
        let present: HashSet<usize> = find_key_matches(txn, parent, &parent_cols, &old_keys)?
            .into_iter()
            .map(|(row, _)| row)
            .collect();
        let gone: Vec<u32> = (0..old.num_rows() as u32)
            .filter(|i| !present.contains(&(*i as usize)))
            .collect();
        if gone.is_empty() {
            continue;
        }
        let take = UInt32Array::from(gone.clone());
        let gone_keys: Vec<ArrayRef> = old_keys
            .iter()
            .map(|k| arrow_select::take::take(k, &take, None).map_err(arrow_err))
            .collect::<Result<_>>()?;
        let child_cols = child_positions(&child, &fk)?;
        let children = find_key_matches(txn, &child, &child_cols, &gone_keys)?;
        if children.is_empty() {
            continue;
        }
        let action = if new.is_some() {
            fk.on_update
        } else {
            fk.on_delete
        };
        match action {
            ReferentialAction::NoAction | ReferentialAction::Restrict => {
                return Err(Error::integrity(format!(
                    "FOREIGN KEY constraint failed: {}: a {} key is still referenced by {}",
                    describe(&child, &fk),
                    if new.is_some() { "changed" } else { "deleted" },
                    child.name
                )));
            }
            _ => {}
        }
        // child row id → the old parent row (index into `old`) it referenced
        let mut parent_of: HashMap<u64, usize> = HashMap::new();
        for (key_row, id) in &children {
            parent_of.insert(*id, gone[*key_row] as usize);
        }
        let wanted: HashSet<u64> = parent_of.keys().copied().collect();
        let rows = fetch_rows(txn, &child, &wanted)?;
        let ids: Vec<u64> = row_id_column(&rows)?.values().to_vec();
        if action == ReferentialAction::Cascade && new.is_none() {
            engine.delete_rows(txn, child.id, &ids)?;
            parent_rows_changed(engine, txn, &child, &[rows], None)?;
            continue;
        }
        let replacement: Vec<ArrayRef> = match action {
            ReferentialAction::Cascade => {
                let new = new.as_ref().ok_or_else(|| Error::internal("cascade"))?;
                let from = UInt32Array::from(
                    ids.iter()
                        .map(|id| parent_of[id] as u32)
                        .collect::<Vec<_>>(),
                );
                parent_cols
                    .iter()
                    .map(|c| {
                        arrow_select::take::take(new.column(*c), &from, None).map_err(arrow_err)
                    })
                    .collect::<Result<_>>()?
            }
            ReferentialAction::SetNull => child_cols
                .iter()
                .map(|c| {
                    arrow_array::new_null_array(&child.columns[*c].sql_type.arrow_type(), ids.len())
                })
                .collect(),
            _ => child_cols
                .iter()
                .map(|c| {
                    let v = default_value(&child.columns[*c], &[])?;
                    llkv_executor::scalar::repeat_value(&v, &v.data_type(), ids.len())
                })
                .collect::<Result<_>>()?,
        };
        let mut columns: Vec<ArrayRef> = rows.columns()[..child.columns.len()].to_vec();
        for (c, values) in child_cols.iter().zip(replacement) {
            columns[*c] = coerce_for_column(&values, &child.columns[*c], &child.name)?;
        }
        let updated = RecordBatch::try_new_with_options(
            table_arrow_schema(&child),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(ids.len())),
        )
        .map_err(arrow_err)?;
        let origins = crate::dml::update_origins(
            txn,
            &child,
            &arrow_array::UInt64Array::from(ids.clone()),
            &child_cols,
        );
        engine.delete_rows(txn, child.id, &ids)?;
        crate::dml::insert_moved_checked(txn, &child, updated.clone(), origins)?;
        parent_rows_changed(engine, txn, &child, &[rows], Some(&[updated]))?;
    }
    Ok(())
}

/// Concatenates batches, keeping only the first `width` (table) columns.
fn table_columns(batches: &[RecordBatch], width: usize) -> Result<RecordBatch> {
    let trimmed: Vec<RecordBatch> = batches
        .iter()
        .map(|b| {
            b.project(&(0..width).collect::<Vec<_>>())
                .map_err(arrow_err)
        })
        .collect::<Result<_>>()?;
    let schema = trimmed[0].schema();
    concat_batches(&schema, &trimmed).map_err(arrow_err)
}

/// The rows of `meta`'s table (all columns and row ids) whose row ids are
/// in `ids`.
pub(crate) fn fetch_rows(
    txn: &Transaction,
    meta: &TableMeta,
    ids: &HashSet<u64>,
) -> Result<RecordBatch> {
    let all: Vec<usize> = (0..meta.columns.len()).collect();
    let mut out = Vec::new();
    for b in txn.scan_table(meta.id, &all, true)? {
        let rid = row_id_column(&b)?;
        let mask: arrow_array::BooleanArray =
            rid.values().iter().map(|r| Some(ids.contains(r))).collect();
        let b = llkv_executor::eval::filter_batch(&b, &mask)?;
        if b.num_rows() > 0 {
            out.push(b);
        }
    }
    if out.is_empty() {
        return Err(Error::internal("referencing rows vanished"));
    }
    let schema = out[0].schema();
    concat_batches(&schema, &out).map_err(arrow_err)
}
