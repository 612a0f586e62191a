//! Data changes: INSERT (with its conflict clauses), UPDATE and DELETE,
//! including the constraint checks and triggers they run.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt64Array};
use arrow_schema::{Field, Schema};
use llkv_executor::ExecContext;
use llkv_plan::{Error, Expr, Result, Value};
use llkv_runtime::constraints::{find_collisions, unique_violation, CollidesWith};
use llkv_runtime::{row_id_column, Engine, Transaction};
use llkv_table::{ColumnMeta, TableMeta, TriggerEvent, UniqueKey};
use sqlparser::ast;

use crate::binder::{object_name, Binder, ExprContext, Scope, ScopeColumn};
use crate::coerce::coerce_for_column;
use crate::result::QueryResult;
use crate::session::{check_param_count, count_result, run_query};
use crate::trigger::{fire, triggers_for};

/// The table column an `UPDATE`/upsert `SET col = ...` assigns. The column
/// name stands alone: SQLite, PostgreSQL and DuckDB all reject `SET t.col`.
pub(crate) fn assignment_column(meta: &TableMeta, a: &ast::Assignment) -> Result<usize> {
    let target = match &a.target {
        ast::AssignmentTarget::ColumnName(n) if n.0.len() == 1 => object_name(n),
        ast::AssignmentTarget::ColumnName(n) => {
            return Err(Error::programming(format!(
                "qualified column names in UPDATE ... SET are not supported: {n}"
            )))
        }
        ast::AssignmentTarget::Tuple(_) => return Err(Error::not_supported("tuple assignment")),
    };
    meta.column_index(&target)
        .ok_or_else(|| Error::programming(format!("no such column: {target}")))
}

pub(crate) fn table_scope(meta: &TableMeta, label: &str) -> Scope {
    Scope {
        columns: meta
            .columns
            .iter()
            .map(|c| ScopeColumn {
                table: Some(label.to_ascii_lowercase()),
                name: c.name.to_ascii_lowercase(),
                data_type: c.sql_type.arrow_type(),
                merged: false,
                using_value: None,
                hidden: false,
            })
            .collect(),
    }
}

pub(crate) fn lookup_table(txn: &Transaction, name: &str) -> Result<TableMeta> {
    txn.catalog()
        .table(name)
        .cloned()
        .ok_or_else(|| Error::programming(format!("no such table: {name}")))
}

pub(crate) fn default_value(col: &ColumnMeta, params: &[Value]) -> Result<Value> {
    match &col.default {
        None => Ok(Value::Null),
        Some(sql) => {
            let expr = crate::parse::parse_stored_expr(sql)?;
            let catalog = llkv_table::Catalog::default();
            let binder = Binder::new(&catalog, params);
            let scope = Scope::default();
            let bound = binder.bind_expr(
                &expr,
                &mut ExprContext {
                    scope: &scope,
                    agg: None,
                },
            )?;
            let provider = llkv_runtime::Engine::open_in_memory()?.begin(false);
            let ctx = ExecContext::new(&provider, &[]);
            let arr =
                llkv_executor::eval::evaluate(&bound, &llkv_executor::empty_rows_batch(1), &ctx)?;
            Ok(llkv_executor::scalar::value_at(arr.as_ref(), 0))
        }
    }
}

pub(crate) fn insert(
    engine: &Engine,
    txn: &mut Transaction,
    ins: &ast::Insert,
    params: &[Value],
    check: bool,
) -> Result<QueryResult> {
    let on_conflict = conflict_action(ins)?;
    let name = match &ins.table {
        ast::TableObject::TableName(n) => crate::binder::catalog_name(n)?,
        _ => return Err(Error::not_supported("INSERT into a table function")),
    };
    let meta = lookup_table(txn, &name)?;
    let targets: Vec<usize> = if ins.columns.is_empty() {
        (0..meta.columns.len()).collect()
    } else {
        ins.columns
            .iter()
            .map(|c| {
                let cname = object_name(c);
                meta.column_index(&cname).ok_or_else(|| {
                    Error::programming(format!("table {} has no column named {cname}", meta.name))
                })
            })
            .collect::<Result<_>>()?
    };
    let rewritten = crate::dml_rewrite::insert_source(&meta, &targets, ins.source.as_deref())?;
    let source = match (&rewritten, &ins.source) {
        (Some(q), _) => q,
        (None, Some(q)) => q.as_ref(),
        (None, None) => return Err(Error::internal("INSERT without a source")),
    };
    let catalog = txn.catalog_arc();
    let binder = Binder::new(&catalog, params).for_transaction(txn);
    let plan = match literal_values(source) {
        Some(values) => match binder.bind_literal_rows(values)? {
            Some(plan) => plan,
            None => binder.bind_query(source)?,
        },
        None => binder.bind_query(source)?,
    };
    let subs = binder.take_subqueries();
    let label = ins
        .table_alias
        .as_ref()
        .map_or(meta.name.clone(), |a| a.alias.value.clone());
    let returning = ins
        .returning
        .as_ref()
        .map(|items| crate::returning::bind(&binder, &meta, &label, items))
        .transpose()?;
    check_param_count(&binder, params, check)?;
    let width = plan.schema().fields().len();
    if width != targets.len() {
        return Err(Error::programming(format!(
            "table {} has {} columns but {} values were supplied",
            meta.name,
            targets.len(),
            width
        )));
    }
    let batches = run_query(txn, &plan, &subs)?;
    let defaults: Vec<Option<Value>> = meta
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if targets.contains(&i) {
                Ok(None)
            } else {
                default_value(c, &[]).map(Some)
            }
        })
        .collect::<Result<_>>()?;
    let schema = table_arrow_schema(&meta);
    // DuckDB checks NOT NULL only on the rows an upsert inserts: a row that
    // updates an existing one may leave a NOT NULL column out.
    let late_not_null = txn.duckdb_dialect && matches!(on_conflict, OnConflict::Update { .. });
    let mut out = Vec::new();
    for b in batches {
        let n = b.num_rows();
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(meta.columns.len());
        for (i, col) in meta.columns.iter().enumerate() {
            let arr = match targets.iter().position(|t| *t == i) {
                Some(src) => b.column(src).clone(),
                None => llkv_executor::scalar::repeat_value(
                    defaults[i].as_ref().unwrap_or(&Value::Null),
                    &defaults[i].as_ref().unwrap_or(&Value::Null).data_type(),
                    n,
                )?,
            };
            if late_not_null && !col.nullable {
                let mut relaxed = col.clone();
                relaxed.nullable = true;
                cols.push(coerce_for_column(&arr, &relaxed, &meta.name)?);
            } else {
                cols.push(coerce_for_column(&arr, col, &meta.name)?);
            }
        }
        out.push(
            RecordBatch::try_new_with_options(
                schema.clone(),
                cols,
                &RecordBatchOptions::new().with_row_count(Some(n)),
            )
            .map_err(|e| Error::internal(e.to_string()))?,
        );
    }
    let keys = txn.catalog().unique_keys(&meta);
    if let OnConflict::Ignore {
        target: target @ Some(_),
    } = on_conflict
    {
        // A target that names no unique key is an error even without a
        // conflict.
        crate::upsert::arbiter_keys(&meta, &keys, target)?;
    }
    if let OnConflict::Update { target, action } = on_conflict {
        let written = crate::upsert::upsert(
            engine,
            txn,
            &meta,
            &label,
            &keys,
            out,
            (target, action),
            params,
        )?;
        return written_result(txn, &meta, returning.as_ref(), &written);
    }
    let (before, after) = triggers_for(txn, &meta, TriggerEvent::Insert);
    let per_row = !before.is_empty() || !after.is_empty();
    let mut replaced = Vec::new();
    let mut written = Vec::new();
    for b in out {
        if per_row {
            for i in 0..b.num_rows() {
                let row = b.slice(i, 1);
                fire(engine, txn, &meta, &before, None, Some((&row, 0)), &[])?;
                let row = if keys.is_empty() {
                    row
                } else {
                    resolve_conflicts(engine, txn, &meta, &keys, row, on_conflict, &mut replaced)?
                };
                if row.num_rows() > 0 {
                    insert_checked(txn, &meta, row.clone())?;
                    fire(engine, txn, &meta, &after, None, Some((&row, 0)), &[])?;
                    written.push(row);
                }
            }
            continue;
        }
        let b = if keys.is_empty() {
            b
        } else {
            resolve_conflicts(engine, txn, &meta, &keys, b, on_conflict, &mut replaced)?
        };
        if b.num_rows() > 0 {
            insert_checked(txn, &meta, b.clone())?;
            written.push(b);
        }
    }
    crate::foreign_key::parent_rows_changed(engine, txn, &meta, &replaced, None)?;
    written_result(txn, &meta, returning.as_ref(), &written)
}

/// The rows of a source that is a bare `VALUES` list (no WITH, ORDER BY,
/// LIMIT or set operation).
fn literal_values(source: &ast::Query) -> Option<&ast::Values> {
    let bare = source.with.is_none()
        && source.order_by.is_none()
        && source.limit_clause.is_none()
        && source.fetch.is_none();
    match source.body.as_ref() {
        ast::SetExpr::Values(v) if bare => Some(v),
        _ => None,
    }
}

/// A DML statement's result: the RETURNING rows, or the count of rows
/// written.
fn written_result(
    txn: &Transaction,
    meta: &TableMeta,
    returning: Option<&crate::returning::Returning>,
    written: &[RecordBatch],
) -> Result<QueryResult> {
    match returning {
        Some(r) => r.result(txn, meta, written),
        None => count_result(llkv_runtime::transaction::rows_of(written) as u64),
    }
}

/// Stores new rows of `meta`'s table (all columns, table order) in the
/// transaction after checking its CHECK constraints, then checks the
/// foreign keys the rows hold.
pub(crate) fn insert_checked(
    txn: &mut Transaction,
    meta: &TableMeta,
    batch: RecordBatch,
) -> Result<()> {
    insert_moved_checked(txn, meta, batch, None)
}

/// [`insert_checked`] for the new versions of updated rows, which take the
/// places `origins` names (see [`update_origins`]); None: new rows.
pub(crate) fn insert_moved_checked(
    txn: &mut Transaction,
    meta: &TableMeta,
    batch: RecordBatch,
    origins: Option<UInt64Array>,
) -> Result<()> {
    crate::check::check_rows(txn, meta, &batch)?;
    if meta.foreign_keys.is_empty() {
        txn.insert_moved(meta.id, batch, origins);
        return Ok(());
    }
    txn.insert_moved(meta.id, batch.clone(), origins);
    crate::foreign_key::check_children(txn, meta, &batch)
}

/// Where the new versions of the updated rows `row_ids` go: the old rows'
/// places (their origins), so a scan returns an updated row where it was,
/// as SQLite and DuckDB do. In the DuckDB dialect an update that assigns
/// an indexed column (a key, a foreign key or an index) moves the row to
/// the end instead (None), as DuckDB's delete-and-insert of such rows does.
pub(crate) fn update_origins(
    txn: &Transaction,
    meta: &TableMeta,
    row_ids: &UInt64Array,
    assigned: &[usize],
) -> Option<UInt64Array> {
    if txn.duckdb_dialect {
        let catalog = txn.catalog();
        let indexed = llkv_runtime::access::indexed_columns(catalog, meta);
        let keyed = |c: usize| {
            indexed.iter().any(|(i, _)| *i == c)
                || catalog
                    .unique_keys(meta)
                    .iter()
                    .any(|k| k.columns.contains(&c))
                || meta
                    .foreign_keys
                    .iter()
                    .any(|fk| fk.columns.contains(&meta.columns[c].field_id))
        };
        if assigned.iter().any(|c| keyed(*c)) {
            return None;
        }
    }
    Some(txn.origins_of(meta.id, row_ids))
}

/// What INSERT does with a row that collides on a unique key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnConflict<'a> {
    /// Update the existing row (`ON CONFLICT ... DO UPDATE`).
    Update {
        /// The conflict target, if given.
        target: Option<&'a ast::ConflictTarget>,
        /// The SET list and WHERE clause.
        action: &'a ast::DoUpdate,
    },
    /// Fail the statement (IntegrityError).
    Abort,
    /// Skip the new row (`INSERT OR IGNORE`, `ON CONFLICT DO NOTHING`);
    /// with a conflict target, only collisions on that key are skipped.
    Ignore {
        /// The conflict target, if given.
        target: Option<&'a ast::ConflictTarget>,
    },
    /// Delete the old rows, insert the new one (`INSERT OR REPLACE`).
    Replace,
}

fn conflict_action(ins: &ast::Insert) -> Result<OnConflict<'_>> {
    if ins.replace_into {
        return Ok(OnConflict::Replace);
    }
    if ins.ignore {
        return Ok(OnConflict::Ignore { target: None });
    }
    if let Some(ast::OnInsert::OnConflict(ast::OnConflict {
        conflict_target:
            Some(ast::ConflictTarget::Columns {
                predicate: Some(_), ..
            }),
        ..
    })) = &ins.on
    {
        // The predicate picks a partial unique index as the arbiter; there
        // are no partial indexes, so ignoring it would change the meaning.
        return Err(Error::not_supported(
            "ON CONFLICT (...) WHERE: partial unique indexes are not supported",
        ));
    }
    if let Some(on) = &ins.on {
        return match on {
            ast::OnInsert::OnConflict(ast::OnConflict {
                conflict_target,
                action: ast::OnConflictAction::DoNothing,
            }) => Ok(OnConflict::Ignore {
                target: conflict_target.as_ref(),
            }),
            ast::OnInsert::OnConflict(ast::OnConflict {
                conflict_target,
                action: ast::OnConflictAction::DoUpdate(action),
            }) => Ok(OnConflict::Update {
                target: conflict_target.as_ref(),
                action,
            }),
            _ => Err(Error::not_supported(
                "ON DUPLICATE KEY UPDATE is not supported; use ON CONFLICT ... DO UPDATE",
            )),
        };
    }
    Ok(match ins.or {
        None
        | Some(ast::SqliteOnConflict::Abort)
        | Some(ast::SqliteOnConflict::Fail)
        | Some(ast::SqliteOnConflict::Rollback) => OnConflict::Abort,
        Some(ast::SqliteOnConflict::Ignore) => OnConflict::Ignore { target: None },
        Some(ast::SqliteOnConflict::Replace) => OnConflict::Replace,
    })
}

/// Applies the unique keys to a batch about to be inserted: fails, drops
/// the colliding new rows, or deletes the rows they replace.
fn resolve_conflicts(
    engine: &Engine,
    txn: &mut Transaction,
    meta: &TableMeta,
    keys: &[UniqueKey],
    batch: RecordBatch,
    action: OnConflict<'_>,
    replaced: &mut Vec<RecordBatch>,
) -> Result<RecordBatch> {
    let collisions = find_collisions(txn, meta, keys, &batch)?;
    if collisions.is_empty() {
        return Ok(batch);
    }
    match action {
        OnConflict::Update { .. } => Err(Error::internal("upserts run in upsert.rs")),
        OnConflict::Abort => Err(unique_violation(meta, &keys[collisions[0].key])),
        OnConflict::Ignore { target } => {
            let arbiters = match target {
                Some(_) => crate::upsert::arbiter_keys(meta, keys, target)?,
                None => keys.to_vec(),
            };
            let mut keep = vec![true; batch.num_rows()];
            for c in &collisions {
                if !arbiters.iter().any(|a| a.columns == keys[c.key].columns) {
                    return Err(unique_violation(meta, &keys[c.key]));
                }
                keep[c.new_row] = false;
            }
            let mask: arrow_array::BooleanArray = keep.into_iter().map(Some).collect();
            llkv_executor::eval::filter_batch(&batch, &mask)
        }
        OnConflict::Replace => {
            // A later new row replaces an earlier one with the same key.
            let mut keep = vec![true; batch.num_rows()];
            let mut old_rows = Vec::new();
            for c in &collisions {
                match c.with {
                    CollidesWith::Existing(id) => old_rows.push(id),
                    CollidesWith::Earlier(i) => keep[i] = false,
                }
            }
            old_rows.sort_unstable();
            old_rows.dedup();
            if crate::foreign_key::is_referenced(txn, meta) {
                let ids = old_rows.iter().copied().collect();
                replaced.push(crate::foreign_key::fetch_rows(txn, meta, &ids)?);
            }
            engine.delete_rows(txn, meta.id, &old_rows)?;
            let mask: arrow_array::BooleanArray = keep.into_iter().map(Some).collect();
            llkv_executor::eval::filter_batch(&batch, &mask)
        }
    }
}

/// Fails with an IntegrityError when `batch` (new versions of rows, already
/// deleted in their old form) collides on a unique key.
pub(crate) fn check_unique(
    txn: &Transaction,
    meta: &TableMeta,
    keys: &[UniqueKey],
    batch: &RecordBatch,
) -> Result<()> {
    match find_collisions(txn, meta, keys, batch)?.first() {
        Some(c) => Err(unique_violation(meta, &keys[c.key])),
        None => Ok(()),
    }
}

pub(crate) fn table_arrow_schema(meta: &TableMeta) -> Arc<Schema> {
    Arc::new(Schema::new(
        meta.columns
            .iter()
            .map(|c| Field::new(&c.name, c.sql_type.arrow_type(), true))
            .collect::<Vec<_>>(),
    ))
}

/// Scans `meta` with row ids and keeps rows matching `selection`.
fn matching_rows(
    txn: &Transaction,
    meta: &TableMeta,
    label: &str,
    selection: Option<&ast::Expr>,
    binder: &Binder<'_>,
) -> Result<Vec<RecordBatch>> {
    // The WHERE clause may name the rowid: read it after the table's
    // columns (the batches' row ids come last).
    let mut scope = table_scope(meta, label);
    let mut all: Vec<usize> = (0..meta.columns.len()).collect();
    if let Some((source, data_type)) = binder.rowid_source(meta) {
        all.push(source);
        scope.columns.push(ScopeColumn {
            table: Some(label.to_ascii_lowercase()),
            name: "rowid".into(),
            data_type,
            merged: false,
            using_value: None,
            hidden: true,
        });
    }
    let predicate = match selection {
        Some(w) => Some(binder.bind_expr(
            w,
            &mut ExprContext {
                scope: &scope,
                agg: None,
            },
        )?),
        None => None,
    };
    let subs = binder.take_subqueries();
    // Reading the rowid costs a pass over every stored row: only when used.
    if !predicate
        .as_ref()
        .is_some_and(|p| p.columns().contains(&meta.columns.len()))
    {
        all.truncate(meta.columns.len());
    }
    // An indexed-column range in the WHERE clause reads only that range.
    let path = match &predicate {
        Some(p) => llkv_runtime::access::choose_access_path(
            txn.catalog(),
            meta,
            &all,
            std::slice::from_ref(p),
        ),
        None => llkv_runtime::access::AccessPath::FullScan,
    };
    let batches = txn.scan_with_path(meta.id, &all, true, &path)?;
    let ctx = ExecContext::new(txn, &subs);
    let mut out = Vec::new();
    for b in batches {
        let b = match &predicate {
            Some(p) => {
                let mask = llkv_executor::eval::evaluate_predicate(p, &b, &ctx)?;
                llkv_executor::eval::filter_batch(&b, &mask)?
            }
            None => b,
        };
        if b.num_rows() > 0 {
            out.push(b);
        }
    }
    // Keep the subqueries for later expression evaluation by re-registering none;
    // assignments are bound after this and use their own subqueries.
    Ok(out)
}

pub(crate) fn single_table(t: &ast::TableWithJoins) -> Result<(String, String)> {
    if !t.joins.is_empty() {
        return Err(Error::not_supported("UPDATE/DELETE with joins"));
    }
    match &t.relation {
        ast::TableFactor::Table { name, alias, .. } => {
            let n = crate::binder::catalog_name(name)?;
            let label = alias
                .as_ref()
                .map(|a| a.name.value.clone())
                .unwrap_or_else(|| object_name(name));
            Ok((n, label))
        }
        _ => Err(Error::not_supported("UPDATE/DELETE of a non-table")),
    }
}

pub(crate) fn update(
    engine: &Engine,
    txn: &mut Transaction,
    up: &ast::Update,
    params: &[Value],
    check: bool,
) -> Result<QueryResult> {
    if let Some(rewritten) = crate::dml_rewrite::update_from(up, txn, params, None)? {
        return update(engine, txn, &rewritten, params, check);
    }
    let (name, label) = single_table(&up.table)?;
    let meta = lookup_table(txn, &name)?;
    let catalog = txn.catalog_arc();
    let binder = Binder::new(&catalog, params).for_transaction(txn);
    let scope = table_scope(&meta, &label);
    // Bind assignments first so parameters are numbered in statement order.
    let mut assignments: Vec<(usize, Expr)> = Vec::new();
    for a in &up.assignments {
        let idx = assignment_column(&meta, a)?;
        let default = crate::dml_rewrite::assignment_value(&meta, idx, &a.value)?;
        let e = binder.bind_expr(
            default.as_ref().unwrap_or(&a.value),
            &mut ExprContext {
                scope: &scope,
                agg: None,
            },
        )?;
        assignments.push((idx, e));
    }
    let assign_subs = binder.take_subqueries();
    let rows = matching_rows(txn, &meta, &label, up.selection.as_ref(), &binder)?;
    let returning = up
        .returning
        .as_ref()
        .map(|items| crate::returning::bind(&binder, &meta, &label, items))
        .transpose()?;
    check_param_count(&binder, params, check)?;
    // Subquery ids in the assignments index `assign_subs`.
    let schema = table_arrow_schema(&meta);
    let ctx = ExecContext::new(txn, &assign_subs);
    let mut ids = Vec::new();
    let mut new_batches = Vec::new();
    for b in &rows {
        let rid = row_id_column(b)?;
        ids.extend(rid.values().iter().copied());
        let mut cols = Vec::with_capacity(meta.columns.len());
        for (i, col) in meta.columns.iter().enumerate() {
            let arr = match assignments.iter().rev().find(|(t, _)| *t == i) {
                Some((_, e)) => llkv_executor::eval::evaluate(e, b, &ctx)?,
                None => b.column(i).clone(),
            };
            cols.push(coerce_for_column(&arr, col, &meta.name)?);
        }
        new_batches.push(
            RecordBatch::try_new_with_options(
                schema.clone(),
                cols,
                &RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
            )
            .map_err(|e| Error::internal(e.to_string()))?,
        );
    }
    drop(ctx);
    let assigned: Vec<usize> = assignments.iter().map(|(i, _)| *i).collect();
    // A key none of whose columns is assigned keeps every row's value,
    // which was unique before the statement: only the others can collide.
    let keys: Vec<_> = txn
        .catalog()
        .unique_keys(&meta)
        .into_iter()
        .filter(|k| k.columns.iter().any(|c| assigned.contains(c)))
        .collect();
    let (before, after) = triggers_for(txn, &meta, TriggerEvent::Update);
    if !before.is_empty() || !after.is_empty() {
        for (old, new) in rows.iter().zip(&new_batches) {
            let rid = row_id_column(old)?;
            let origins = update_origins(txn, &meta, rid, &assigned);
            for i in 0..old.num_rows() {
                let new_row = new.slice(i, 1);
                fire(
                    engine,
                    txn,
                    &meta,
                    &before,
                    Some((old, i)),
                    Some((&new_row, 0)),
                    &assigned,
                )?;
                engine.delete_rows(txn, meta.id, &[rid.value(i)])?;
                if !keys.is_empty() {
                    check_unique(txn, &meta, &keys, &new_row)?;
                }
                let origin = origins.as_ref().map(|o| o.slice(i, 1));
                insert_moved_checked(txn, &meta, new_row.clone(), origin)?;
                fire(
                    engine,
                    txn,
                    &meta,
                    &after,
                    Some((old, i)),
                    Some((&new_row, 0)),
                    &assigned,
                )?;
            }
        }
    } else {
        let origins: Vec<Option<UInt64Array>> = rows
            .iter()
            .map(|b| Ok(update_origins(txn, &meta, row_id_column(b)?, &assigned)))
            .collect::<Result<_>>()?;
        engine.delete_rows(txn, meta.id, &ids)?;
        if !keys.is_empty() && !new_batches.is_empty() {
            let all = arrow_select::concat::concat_batches(&schema, &new_batches)
                .map_err(|e| Error::internal(e.to_string()))?;
            check_unique(txn, &meta, &keys, &all)?;
        }
        for (b, origins) in new_batches.iter().zip(origins) {
            insert_moved_checked(txn, &meta, b.clone(), origins)?;
        }
    }
    crate::foreign_key::parent_rows_changed(engine, txn, &meta, &rows, Some(&new_batches))?;
    written_result(txn, &meta, returning.as_ref(), &new_batches)
}

pub(crate) fn delete(
    engine: &Engine,
    txn: &mut Transaction,
    del: &ast::Delete,
    params: &[Value],
    check: bool,
) -> Result<QueryResult> {
    if let Some(rewritten) = crate::dml_rewrite::delete_using(del)? {
        return delete(engine, txn, &rewritten, params, check);
    }
    let from = match &del.from {
        ast::FromTable::WithFromKeyword(v) | ast::FromTable::WithoutKeyword(v) => v,
    };
    let t = from
        .first()
        .ok_or_else(|| Error::programming("DELETE needs a table"))?;
    let (name, label) = single_table(t)?;
    let meta = lookup_table(txn, &name)?;
    let catalog = txn.catalog_arc();
    let binder = Binder::new(&catalog, params).for_transaction(txn);
    let rows = matching_rows(txn, &meta, &label, del.selection.as_ref(), &binder)?;
    let returning = del
        .returning
        .as_ref()
        .map(|items| crate::returning::bind(&binder, &meta, &label, items))
        .transpose()?;
    check_param_count(&binder, params, check)?;
    let mut ids = Vec::new();
    for b in &rows {
        ids.extend(row_id_column(b)?.values().iter().copied());
    }
    let (before, after) = triggers_for(txn, &meta, TriggerEvent::Delete);
    if !before.is_empty() || !after.is_empty() {
        for old in &rows {
            let rid = row_id_column(old)?;
            for i in 0..old.num_rows() {
                fire(engine, txn, &meta, &before, Some((old, i)), None, &[])?;
                engine.delete_rows(txn, meta.id, &[rid.value(i)])?;
                fire(engine, txn, &meta, &after, Some((old, i)), None, &[])?;
            }
        }
    } else {
        engine.delete_rows(txn, meta.id, &ids)?;
    }
    crate::foreign_key::parent_rows_changed(engine, txn, &meta, &rows, None)?;
    written_result(txn, &meta, returning.as_ref(), &rows)
}
