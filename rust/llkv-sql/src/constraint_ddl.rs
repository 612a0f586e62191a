//! Table constraints as declared in CREATE TABLE: PRIMARY KEY, UNIQUE,
//! CHECK and FOREIGN KEY, turned into catalog entries and validated
//! against the columns (and, for foreign keys, the parent table).

use llkv_plan::{Error, Result};
use llkv_table::{Catalog, CheckMeta, ColumnMeta, FieldId, ForeignKeyMeta, ReferentialAction};
use sqlparser::ast;

/// The constraints of a new table beyond the per-column flags.
#[derive(Default)]
pub(crate) struct Constraints {
    /// Multi-column UNIQUE constraints, as field ids.
    pub unique: Vec<Vec<FieldId>>,
    /// CHECK constraints.
    pub checks: Vec<CheckMeta>,
    /// FOREIGN KEY constraints.
    pub foreign_keys: Vec<ForeignKeyMeta>,
}

/// Collects the constraints of `CREATE TABLE name (...)`: column options
/// (CHECK, REFERENCES) and table constraints. Flags primary-key columns
/// (NOT NULL) and single-column UNIQUE constraints on `columns`.
pub(crate) fn table_constraints(
    catalog: &Catalog,
    table: &str,
    column_defs: &[ast::ColumnDef],
    constraints: &[ast::TableConstraint],
    columns: &mut [ColumnMeta],
) -> Result<Constraints> {
    let mut out = Constraints::default();
    for def in column_defs {
        for opt in &def.options {
            match &opt.option {
                ast::ColumnOption::Check(c) => out.checks.push(check_meta(c, &opt.name)),
                ast::ColumnOption::ForeignKey(fk) => {
                    let fk = ast::ForeignKeyConstraint {
                        columns: vec![def.name.clone()],
                        name: fk.name.clone().or_else(|| opt.name.clone()),
                        ..fk.clone()
                    };
                    out.foreign_keys
                        .push(foreign_key_meta(catalog, table, &fk, columns)?);
                }
                _ => {}
            }
        }
    }
    let mut has_pk = columns.iter().any(|c| c.primary_key);
    for c in constraints {
        match c {
            ast::TableConstraint::PrimaryKey(pk) => {
                if has_pk {
                    return Err(Error::programming("table has more than one primary key"));
                }
                has_pk = true;
                let names: Vec<String> = pk.columns.iter().map(index_column_name).collect();
                for i in positions(&names, columns)? {
                    columns[i].primary_key = true;
                    columns[i].nullable = false;
                }
            }
            ast::TableConstraint::Unique(u) => {
                let names: Vec<String> = u.columns.iter().map(index_column_name).collect();
                let cols = positions(&names, columns)?;
                if let [single] = cols[..] {
                    columns[single].unique = true;
                } else {
                    out.unique
                        .push(cols.iter().map(|i| columns[*i].field_id).collect());
                }
            }
            ast::TableConstraint::Check(c) => out.checks.push(check_meta(c, &None)),
            ast::TableConstraint::ForeignKey(fk) => out
                .foreign_keys
                .push(foreign_key_meta(catalog, table, fk, columns)?),
            _ => {}
        }
    }
    Ok(out)
}

/// The column an index or key column names (unquoted).
pub(crate) fn index_column_name(c: &ast::IndexColumn) -> String {
    match &c.column.expr {
        ast::Expr::Identifier(id) => id.value.clone(),
        other => other.to_string(),
    }
}

/// Positions of `names` among `columns` (case-insensitive).
fn positions(names: &[String], columns: &[ColumnMeta]) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|name| {
            columns
                .iter()
                .position(|m| m.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| Error::programming(format!("no such column: {name}")))
        })
        .collect()
}

fn check_meta(c: &ast::CheckConstraint, option_name: &Option<ast::Ident>) -> CheckMeta {
    CheckMeta {
        name: c
            .name
            .as_ref()
            .or(option_name.as_ref())
            .map(|n| n.value.clone()),
        expr: c.expr.to_string(),
    }
}

fn action(a: Option<ast::ReferentialAction>) -> ReferentialAction {
    match a {
        None | Some(ast::ReferentialAction::NoAction) => ReferentialAction::NoAction,
        Some(ast::ReferentialAction::Restrict) => ReferentialAction::Restrict,
        Some(ast::ReferentialAction::Cascade) => ReferentialAction::Cascade,
        Some(ast::ReferentialAction::SetNull) => ReferentialAction::SetNull,
        Some(ast::ReferentialAction::SetDefault) => ReferentialAction::SetDefault,
    }
}

/// Validates one FOREIGN KEY: the parent exists (or is the table itself),
/// the referenced columns exist and form its primary key or a unique key,
/// and both sides have as many columns.
fn foreign_key_meta(
    catalog: &Catalog,
    table: &str,
    fk: &ast::ForeignKeyConstraint,
    columns: &[ColumnMeta],
) -> Result<ForeignKeyMeta> {
    let child_names: Vec<String> = fk.columns.iter().map(|c| c.value.clone()).collect();
    let child = positions(&child_names, columns)?;
    let parent = crate::binder::catalog_name(&fk.foreign_table)?;
    let self_reference = parent.eq_ignore_ascii_case(table);
    // The parent's columns, flags and unique keys as (names, pk, unique keys).
    let (parent_columns, parent_keys): (Vec<ColumnMeta>, Vec<Vec<String>>) = if self_reference {
        let pk: Vec<String> = columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.clone())
            .collect();
        let mut keys = vec![pk];
        keys.extend(
            columns
                .iter()
                .filter(|c| c.unique)
                .map(|c| vec![c.name.clone()]),
        );
        (columns.to_vec(), keys)
    } else {
        let meta = catalog.table(&parent).ok_or_else(|| {
            Error::programming(format!(
                "foreign key of {table} references {parent}, which does not exist"
            ))
        })?;
        let keys = catalog
            .unique_keys(meta)
            .into_iter()
            .map(|k| {
                k.columns
                    .iter()
                    .map(|i| meta.columns[*i].name.clone())
                    .collect()
            })
            .collect();
        (meta.columns.clone(), keys)
    };
    let referenced: Vec<String> = if fk.referred_columns.is_empty() {
        parent_columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.clone())
            .collect()
    } else {
        fk.referred_columns
            .iter()
            .map(|c| c.value.clone())
            .collect()
    };
    let referenced_pos = positions(&referenced, &parent_columns)?;
    if referenced.len() != child.len() {
        return Err(Error::programming(format!(
            "foreign key of {table} has {} columns but references {} columns of {parent}",
            child.len(),
            referenced.len()
        )));
    }
    let is_key = parent_keys.iter().any(|k| {
        k.len() == referenced.len()
            && k.iter()
                .all(|n| referenced.iter().any(|r| r.eq_ignore_ascii_case(n)))
    });
    if !is_key {
        return Err(Error::programming(format!(
            "foreign key of {table} references ({}) of {parent}, which is not its primary key \
             or a unique key",
            referenced.join(", ")
        )));
    }
    Ok(ForeignKeyMeta {
        name: fk.name.as_ref().map(|n| n.value.clone()),
        columns: child.iter().map(|i| columns[*i].field_id).collect(),
        parent: if self_reference {
            table.to_owned()
        } else {
            parent
        },
        parent_columns: referenced_pos
            .iter()
            .map(|i| parent_columns[*i].name.clone())
            .collect(),
        on_delete: action(fk.on_delete),
        on_update: action(fk.on_update),
    })
}
