//! `ALTER TABLE`: ADD COLUMN, DROP COLUMN, RENAME COLUMN, RENAME TO and
//! ALTER COLUMN (SET/DROP DEFAULT, SET/DROP NOT NULL, SET DATA TYPE).
//!
//! Like all DDL, the change is made to the transaction's copy of the
//! catalog and lands atomically at commit. Columns keep stable field ids,
//! so dropping or renaming a column never touches stored chunks; a new
//! column reads as NULL in old rows. Changes that give existing rows new
//! values (ADD COLUMN with a DEFAULT, SET DATA TYPE) rewrite the table's
//! visible rows as new versions. The transaction's own uncommitted rows
//! are reshaped to the new column list.

use std::ops::ControlFlow;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use llkv_executor::eval::arrow_err;
use llkv_plan::{Error, Result};
use llkv_runtime::{row_id_column, Engine, Transaction};
use llkv_table::TableMeta;
use sqlparser::ast;

use crate::binder::{catalog_name, object_name, schema_of_name};
use crate::coerce::coerce_for_column;
use crate::ddl::{column_meta, column_type};
use crate::dml::{default_value, table_arrow_schema};
use crate::parse::parse_stored_expr;
use crate::result::QueryResult;
use crate::session::other_result;

/// Runs `ALTER TABLE name op, ...`.
pub(crate) fn alter_table(
    engine: &Engine,
    txn: &mut Transaction,
    at: &ast::AlterTable,
) -> Result<QueryResult> {
    let name = catalog_name(&at.name)?;
    if txn.catalog().table(&name).is_none() {
        if at.if_exists {
            return Ok(other_result());
        }
        return Err(Error::programming(format!("no such table: {name}")));
    }
    let mut name = name;
    for op in &at.operations {
        let meta = txn
            .catalog()
            .table(&name)
            .cloned()
            .ok_or_else(|| Error::internal("altered table vanished"))?;
        name = apply(engine, txn, &meta, op)?;
    }
    Ok(other_result())
}

/// Applies one operation; returns the table's name afterwards.
fn apply(
    engine: &Engine,
    txn: &mut Transaction,
    meta: &TableMeta,
    op: &ast::AlterTableOperation,
) -> Result<String> {
    use ast::AlterTableOperation as Op;
    match op {
        Op::AddColumn {
            if_not_exists,
            column_def,
            ..
        } => add_column(engine, txn, meta, column_def, *if_not_exists)?,
        Op::DropColumn {
            column_names,
            if_exists,
            ..
        } => {
            for c in column_names {
                drop_column(txn, meta, &c.value, *if_exists)?;
            }
        }
        Op::RenameColumn {
            old_column_name,
            new_column_name,
        } => rename_column(txn, meta, &old_column_name.value, &new_column_name.value)?,
        Op::RenameTable { table_name } => {
            let new = match table_name {
                ast::RenameTableNameKind::As(n) | ast::RenameTableNameKind::To(n) => {
                    // An unqualified new name stays in the table's schema.
                    match (n.0.len(), schema_of_name(&meta.name)) {
                        (1, Some(schema)) => format!("{schema}.{}", object_name(n)),
                        _ => catalog_name(n)?,
                    }
                }
            };
            rename_table(txn, meta, &new)?;
            return Ok(new);
        }
        Op::AlterColumn { column_name, op } => {
            alter_column(engine, txn, meta, &column_name.value, op)?
        }
        other => {
            return Err(Error::not_supported(format!(
                "ALTER TABLE ... {other} is not supported"
            )))
        }
    }
    Ok(meta.name.clone())
}

fn column_position(meta: &TableMeta, column: &str) -> Result<usize> {
    meta.column_index(column)
        .ok_or_else(|| Error::programming(format!("no such column: {}.{column}", meta.name)))
}

/// Replaces the table's catalog entry.
fn store_meta(txn: &mut Transaction, old_name: &str, meta: TableMeta) {
    let catalog = txn.catalog_mut();
    catalog.tables.remove(&old_name.to_ascii_lowercase());
    catalog
        .tables
        .insert(meta.name.to_ascii_lowercase(), meta.into());
}

fn add_column(
    engine: &Engine,
    txn: &mut Transaction,
    meta: &TableMeta,
    def: &ast::ColumnDef,
    if_not_exists: bool,
) -> Result<()> {
    if meta.column_index(&def.name.value).is_some() {
        if if_not_exists {
            return Ok(());
        }
        return Err(Error::programming(format!(
            "duplicate column name: {}",
            def.name.value
        )));
    }
    let unsupported = def.options.iter().find(|o| {
        !matches!(
            o.option,
            ast::ColumnOption::Null | ast::ColumnOption::NotNull | ast::ColumnOption::Default(_)
        )
    });
    if let Some(opt) = unsupported {
        return Err(Error::not_supported(format!(
            "ALTER TABLE ADD COLUMN with {} is not supported",
            opt.option
        )));
    }
    let column = column_meta(def, meta.next_field_id)?;
    let fill = default_value(&column, &[])?;
    if !column.nullable && fill.is_null() {
        return Err(Error::integrity(format!(
            "cannot add NOT NULL column {} without a non-NULL default",
            column.name
        )));
    }
    let mut new = meta.clone();
    new.next_field_id += 1;
    new.columns.push(column.clone());
    let width = new.columns.len();
    crate::limits::check_columns(&meta.name, width)?;
    rewrite(engine, txn, meta, new, !fill.is_null(), |batch| {
        let mut cols: Vec<ArrayRef> = batch.columns()[..width - 1].to_vec();
        let values =
            llkv_executor::scalar::repeat_value(&fill, &fill.data_type(), batch.num_rows())?;
        cols.push(coerce_for_column(&values, &column, &meta.name)?);
        Ok(cols)
    })
}

fn drop_column(
    txn: &mut Transaction,
    meta: &TableMeta,
    column: &str,
    if_exists: bool,
) -> Result<()> {
    let Some(pos) = meta.column_index(column) else {
        if if_exists {
            return Ok(());
        }
        return Err(Error::programming(format!(
            "no such column: {}.{column}",
            meta.name
        )));
    };
    if meta.columns.len() == 1 {
        return Err(Error::programming(format!(
            "cannot drop column {column}: it is the only column of {}",
            meta.name
        )));
    }
    refuse_if_used(txn, meta, pos, "drop")?;
    let mut new = meta.clone();
    new.columns.remove(pos);
    reshape_pending(txn, &new, |batch| {
        let mut cols = batch.columns().to_vec();
        cols.remove(pos);
        Ok(cols)
    })?;
    store_meta(txn, &meta.name, new);
    Ok(())
}

/// Fails when the column at `pos` is part of a key, index, foreign key or
/// CHECK constraint (which would lose their meaning without it).
fn refuse_if_used(txn: &Transaction, meta: &TableMeta, pos: usize, verb: &str) -> Result<()> {
    let column = &meta.columns[pos];
    let fail = |what: &str| {
        Err(Error::programming(format!(
            "cannot {verb} column {}: {what} depends on it",
            column.name
        )))
    };
    if column.primary_key {
        return fail("the PRIMARY KEY");
    }
    if column.unique
        || meta
            .unique_constraints
            .iter()
            .any(|u| u.contains(&column.field_id))
    {
        return fail("a UNIQUE constraint");
    }
    if let Some(index) = txn.catalog().indexes.values().find(|i| {
        i.table.eq_ignore_ascii_case(&meta.name)
            && i.columns
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&column.name))
    }) {
        return fail(&format!("index {}", index.name));
    }
    if meta
        .foreign_keys
        .iter()
        .any(|fk| fk.columns.contains(&column.field_id))
    {
        return fail("a FOREIGN KEY");
    }
    let referenced = txn.catalog().tables.values().any(|t| {
        t.foreign_keys.iter().any(|fk| {
            fk.parent.eq_ignore_ascii_case(&meta.name)
                && fk
                    .parent_columns
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(&column.name))
        })
    });
    if referenced {
        return fail("a FOREIGN KEY of another table");
    }
    if meta
        .checks
        .iter()
        .any(|c| mentions(&c.expr, &column.name).unwrap_or(true))
    {
        return fail("a CHECK constraint");
    }
    Ok(())
}

/// Whether the stored expression names `column`.
fn mentions(expr: &str, column: &str) -> Result<bool> {
    let mut parsed = parse_stored_expr(expr)?;
    let mut found = false;
    let _ = rename_in_expr(&mut parsed, column, None, &mut found);
    Ok(found)
}

/// Renames (or, with `to` None, only finds) the column `from` in `expr`.
fn rename_in_expr(
    expr: &mut ast::Expr,
    from: &str,
    to: Option<&str>,
    found: &mut bool,
) -> ControlFlow<()> {
    ast::visit_expressions_mut(expr, |e| {
        let ident = match e {
            ast::Expr::Identifier(id) => Some(id),
            ast::Expr::CompoundIdentifier(parts) => parts.last_mut(),
            _ => None,
        };
        if let Some(id) = ident {
            if id.value.eq_ignore_ascii_case(from) {
                *found = true;
                if let Some(to) = to {
                    *id = ast::Ident::new(to);
                }
            }
        }
        ControlFlow::<()>::Continue(())
    })
}

fn rename_column(txn: &mut Transaction, meta: &TableMeta, from: &str, to: &str) -> Result<()> {
    let pos = column_position(meta, from)?;
    if meta.column_index(to).is_some() {
        return Err(Error::programming(format!("duplicate column name: {to}")));
    }
    let field = meta.columns[pos].field_id;
    let in_fk = meta
        .foreign_keys
        .iter()
        .any(|fk| fk.columns.contains(&field))
        || txn.catalog().tables.values().any(|t| {
            t.foreign_keys.iter().any(|fk| {
                fk.parent.eq_ignore_ascii_case(&meta.name)
                    && fk
                        .parent_columns
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(from))
            })
        });
    if in_fk {
        return Err(Error::programming(format!(
            "cannot rename column {from}: a FOREIGN KEY depends on it"
        )));
    }
    let mut new = meta.clone();
    new.columns[pos].name = to.to_owned();
    for check in &mut new.checks {
        let mut parsed = parse_stored_expr(&check.expr)?;
        let mut found = false;
        let _ = rename_in_expr(&mut parsed, from, Some(to), &mut found);
        check.expr = parsed.to_string();
    }
    let catalog = txn.catalog_mut();
    for index in catalog.indexes.values_mut() {
        if index.table.eq_ignore_ascii_case(&meta.name) {
            for c in &mut index.columns {
                if c.eq_ignore_ascii_case(from) {
                    *c = to.to_owned();
                }
            }
        }
    }
    store_meta(txn, &meta.name, new);
    Ok(())
}

fn rename_table(txn: &mut Transaction, meta: &TableMeta, to: &str) -> Result<()> {
    let catalog = txn.catalog();
    if catalog.table(to).is_some() || catalog.views.contains_key(&to.to_ascii_lowercase()) {
        return Err(Error::programming(format!(
            "there is already another table or view named {to}"
        )));
    }
    let mut new = meta.clone();
    new.name = to.to_owned();
    for fk in &mut new.foreign_keys {
        if fk.parent.eq_ignore_ascii_case(&meta.name) {
            fk.parent = to.to_owned();
        }
    }
    let catalog = txn.catalog_mut();
    for index in catalog.indexes.values_mut() {
        if index.table.eq_ignore_ascii_case(&meta.name) {
            index.table = to.to_owned();
        }
    }
    for trigger in catalog.triggers.values_mut() {
        if trigger.table.eq_ignore_ascii_case(&meta.name) {
            trigger.table = to.to_owned();
        }
    }
    for table in catalog.tables.values_mut() {
        let refers = |fk: &llkv_table::ForeignKeyMeta| fk.parent.eq_ignore_ascii_case(&meta.name);
        if table.foreign_keys.iter().any(refers) {
            for fk in &mut std::sync::Arc::make_mut(table).foreign_keys {
                if refers(fk) {
                    fk.parent = to.to_owned();
                }
            }
        }
    }
    store_meta(txn, &meta.name, new);
    Ok(())
}

fn alter_column(
    engine: &Engine,
    txn: &mut Transaction,
    meta: &TableMeta,
    column: &str,
    op: &ast::AlterColumnOperation,
) -> Result<()> {
    use ast::AlterColumnOperation as Op;
    let pos = column_position(meta, column)?;
    let mut new = meta.clone();
    match op {
        Op::SetDefault { value } => new.columns[pos].default = Some(value.to_string()),
        Op::DropDefault => new.columns[pos].default = None,
        Op::DropNotNull => {
            if new.columns[pos].primary_key {
                return Err(Error::programming(format!(
                    "cannot drop NOT NULL of primary key column {column}"
                )));
            }
            new.columns[pos].nullable = true;
        }
        Op::SetNotNull => {
            let has_null = txn
                .scan_table(meta.id, &[pos], false)?
                .iter()
                .any(|b| b.column(0).null_count() > 0);
            if has_null {
                return Err(Error::integrity(format!(
                    "cannot set NOT NULL on {}.{column}: it holds NULLs",
                    meta.name
                )));
            }
            new.columns[pos].nullable = false;
        }
        Op::SetDataType {
            data_type, using, ..
        } => {
            if using.is_some() {
                return Err(Error::not_supported("SET DATA TYPE ... USING"));
            }
            refuse_if_used(txn, meta, pos, "change the type of")?;
            new.columns[pos].sql_type = column_type(data_type)?;
            // A new field id: stored chunks of the old type are not read
            // under the new one.
            new.columns[pos].field_id = new.next_field_id;
            new.next_field_id += 1;
            let target = new.columns[pos].clone();
            return rewrite(engine, txn, meta, new, true, |batch| {
                let mut cols: Vec<ArrayRef> = batch.columns()[..meta.columns.len()].to_vec();
                cols[pos] = coerce_for_column(&cols[pos], &target, &meta.name)?;
                Ok(cols)
            });
        }
        other => {
            return Err(Error::not_supported(format!(
                "ALTER COLUMN ... {other} is not supported"
            )))
        }
    }
    store_meta(txn, &meta.name, new);
    Ok(())
}

/// Installs `new` as the table's definition. With `all_rows`, every row
/// the transaction sees is replaced by a new version built by `columns`
/// (from the old table columns); otherwise only the transaction's own
/// uncommitted rows are reshaped.
fn rewrite(
    engine: &Engine,
    txn: &mut Transaction,
    old: &TableMeta,
    new: TableMeta,
    all_rows: bool,
    columns: impl Fn(&RecordBatch) -> Result<Vec<ArrayRef>>,
) -> Result<()> {
    if !all_rows {
        reshape_pending(txn, &new, &columns)?;
        store_meta(txn, &old.name, new);
        return Ok(());
    }
    let all: Vec<usize> = (0..old.columns.len()).collect();
    let rows = txn.scan_table(old.id, &all, true)?;
    let mut ids = Vec::new();
    for b in &rows {
        ids.extend(row_id_column(b)?.values().iter().copied());
    }
    engine.delete_rows(txn, old.id, &ids)?;
    if let Some(p) = txn.pending.get_mut(&old.id) {
        p.inserts.clear();
        p.deleted_pending.clear();
    }
    let schema = table_arrow_schema(&new);
    let mut replaced = Vec::with_capacity(rows.len());
    for b in &rows {
        replaced.push(
            RecordBatch::try_new_with_options(
                schema.clone(),
                columns(b)?,
                &RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
            )
            .map_err(arrow_err)?,
        );
    }
    let id = new.id;
    store_meta(txn, &old.name, new);
    for b in replaced {
        txn.insert(id, b);
    }
    Ok(())
}

/// Rebuilds the transaction's uncommitted rows of the table in `new`'s
/// column layout, keeping their provisional row ids.
fn reshape_pending(
    txn: &mut Transaction,
    new: &TableMeta,
    columns: impl Fn(&RecordBatch) -> Result<Vec<ArrayRef>>,
) -> Result<()> {
    let Some(pending) = txn.pending.get_mut(&new.id) else {
        return Ok(());
    };
    let schema = table_arrow_schema(new);
    for pb in &mut pending.inserts {
        pb.rows = RecordBatch::try_new_with_options(
            schema.clone(),
            columns(&pb.rows)?,
            &RecordBatchOptions::new().with_row_count(Some(pb.rows.num_rows())),
        )
        .map_err(arrow_err)?;
    }
    Ok(())
}
