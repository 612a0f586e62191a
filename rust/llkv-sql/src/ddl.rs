//! Schema changes: CREATE TABLE/INDEX/VIEW and DROP.

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::DataType;
use llkv_plan::{Error, Result, Value};
use llkv_runtime::constraints::has_duplicates;
use llkv_runtime::Transaction;
use llkv_table::{ColumnMeta, IndexMeta, SqlType, TableMeta, UniqueKey, ViewMeta};
use sqlparser::ast;

use crate::binder::{catalog_name, object_name, Binder};
use crate::coerce::coerce_for_column;
use crate::dml::table_arrow_schema;
use crate::result::QueryResult;
use crate::schema::require_schema;
use crate::session::{other_result, run_query};

/// A column as declared: name, type, NULL/NOT NULL, DEFAULT, and the
/// PRIMARY KEY / UNIQUE flags (CHECK and REFERENCES are table constraints,
/// collected separately).
pub(crate) fn column_meta(def: &ast::ColumnDef, field_id: u32) -> Result<ColumnMeta> {
    let mut meta = ColumnMeta {
        name: def.name.value.clone(),
        sql_type: column_type(&def.data_type)?,
        nullable: true,
        field_id,
        primary_key: false,
        unique: false,
        default: None,
    };
    for opt in &def.options {
        match &opt.option {
            ast::ColumnOption::NotNull => meta.nullable = false,
            ast::ColumnOption::Null => meta.nullable = true,
            ast::ColumnOption::Default(e) => meta.default = Some(e.to_string()),
            ast::ColumnOption::PrimaryKey(_) => {
                meta.primary_key = true;
                meta.nullable = false;
            }
            ast::ColumnOption::Unique(_) => meta.unique = true,
            _ => {}
        }
    }
    Ok(meta)
}

/// The stored type of a declared column type, by SQLite's affinity rules
/// (a name containing INT is an integer, CHAR/TEXT text, ...), except that
/// `DECIMAL(p, s)` / `NUMERIC(p, s)` with a precision is an exact DECIMAL.
pub(crate) fn column_type(dt: &ast::DataType) -> Result<SqlType> {
    if let Some(DataType::Decimal128(precision, scale)) = crate::binder::decimal_type(dt)? {
        return Ok(SqlType::Decimal { precision, scale });
    }
    let name = dt.to_string().to_ascii_uppercase();
    let base = name.split('(').next().unwrap_or("").trim();
    Ok(if base == "DATE" {
        SqlType::Date
    } else if base.starts_with("TIMESTAMP") || base == "DATETIME" {
        SqlType::Timestamp
    } else if name.starts_with("BOOL") {
        SqlType::Boolean
    } else if name.contains("INT") {
        SqlType::Integer
    } else if name.contains("CHAR")
        || name.contains("CLOB")
        || name.contains("TEXT")
        || name.contains("STRING")
    {
        SqlType::Text
    } else if name.contains("BLOB") || name.contains("BINARY") || name == "BYTEA" {
        SqlType::Blob
    } else {
        SqlType::Real
    })
}

pub(crate) fn create_table(
    txn: &mut Transaction,
    ct: &ast::CreateTable,
    params: &[Value],
) -> Result<QueryResult> {
    let name = catalog_name(&ct.name)?;
    require_schema(txn, &ct.name, &name)?;
    let key = name.to_ascii_lowercase();
    if txn.catalog().tables.contains_key(&key) || txn.catalog().views.contains_key(&key) {
        if ct.if_not_exists {
            return Ok(other_result());
        }
        return Err(Error::programming(format!("table {name} already exists")));
    }
    let mut columns: Vec<ColumnMeta> = Vec::new();
    let mut as_query = None;
    if let Some(q) = &ct.query {
        let catalog = txn.catalog_arc();
        let binder = Binder::new(&catalog, params).for_transaction(txn);
        let plan = binder.bind_query(q)?;
        let subs = binder.take_subqueries();
        let batches = run_query(txn, &plan, &subs)?;
        for f in plan.schema().fields() {
            // A column of only NULLs has no type of its own: REAL, as before.
            let sql_type = match f.data_type() {
                DataType::Null => SqlType::Real,
                t => crate::ingest::sql_type_of(f.name(), t)?,
            };
            columns.push(ColumnMeta {
                name: f.name().clone(),
                sql_type,
                nullable: true,
                field_id: columns.len() as u32,
                primary_key: false,
                unique: false,
                default: None,
            });
        }
        as_query = Some(batches);
    }
    for (i, c) in ct.columns.iter().enumerate() {
        if columns
            .iter()
            .any(|x| x.name.eq_ignore_ascii_case(&c.name.value))
        {
            return Err(Error::programming(format!(
                "duplicate column name: {}",
                c.name.value
            )));
        }
        let meta = column_meta(c, i as u32)?;
        columns.push(meta);
    }
    if columns.is_empty() {
        return Err(Error::programming("a table needs at least one column"));
    }
    let constraints = crate::constraint_ddl::table_constraints(
        txn.catalog(),
        &name,
        &ct.columns,
        &ct.constraints,
        &mut columns,
    )?;
    crate::limits::check_columns(&name, columns.len())?;
    let id = txn.catalog().next_table_id.max(1);
    let next_field_id = columns.len() as u32;
    let meta = TableMeta {
        id,
        name: name.clone(),
        columns,
        next_field_id,
        next_row_id: 0,
        segments: vec![],
        unique_constraints: constraints.unique,
        checks: constraints.checks,
        foreign_keys: constraints.foreign_keys,
    };
    for check in &meta.checks {
        crate::check::validate(txn, &meta, check)?;
    }
    let catalog = txn.catalog_mut();
    catalog.next_table_id = id + 1;
    catalog.tables.insert(key, meta.clone().into());
    if let Some(batches) = as_query {
        let schema = table_arrow_schema(&meta);
        for b in batches {
            let cols = b
                .columns()
                .iter()
                .zip(&meta.columns)
                .map(|(a, c)| coerce_for_column(a, c, &meta.name))
                .collect::<Result<Vec<_>>>()?;
            let n = b.num_rows();
            let batch = RecordBatch::try_new_with_options(
                schema.clone(),
                cols,
                &RecordBatchOptions::new().with_row_count(Some(n)),
            )
            .map_err(|e| Error::internal(e.to_string()))?;
            txn.insert(id, batch);
        }
    }
    Ok(other_result())
}

/// Fails when a table to drop is the parent of a foreign key of a table
/// that is not dropped along with it.
fn refuse_dropping_parents(txn: &Transaction, names: &[ast::ObjectName]) -> Result<()> {
    let dropped: Vec<String> = names
        .iter()
        .map(|n| Ok(catalog_name(n)?.to_ascii_lowercase()))
        .collect::<Result<_>>()?;
    for child in txn.catalog().tables.values() {
        if dropped.contains(&child.name.to_ascii_lowercase()) {
            continue;
        }
        if let Some(fk) = child
            .foreign_keys
            .iter()
            .find(|fk| dropped.contains(&fk.parent.to_ascii_lowercase()))
        {
            return Err(Error::integrity(format!(
                "cannot drop table {}: table {} has a foreign key that references it",
                fk.parent, child.name
            )));
        }
    }
    Ok(())
}

pub(crate) fn drop_objects(
    txn: &mut Transaction,
    kind: &ast::ObjectType,
    if_exists: bool,
    cascade: bool,
    names: &[ast::ObjectName],
) -> Result<QueryResult> {
    if let ast::ObjectType::Table = kind {
        refuse_dropping_parents(txn, names)?;
    }
    if let ast::ObjectType::Schema = kind {
        return crate::schema::drop_schemas(txn, if_exists, cascade, names);
    }
    for n in names {
        // Index names are global (an index lives with its table).
        let name = match kind {
            ast::ObjectType::Index => object_name(n),
            _ => catalog_name(n)?,
        };
        let key = name.to_ascii_lowercase();
        let catalog = txn.catalog_mut();
        let removed = match kind {
            ast::ObjectType::Table => {
                let removed = catalog.tables.remove(&key);
                if let Some(t) = &removed {
                    catalog
                        .indexes
                        .retain(|_, i| !i.table.eq_ignore_ascii_case(&t.name));
                    catalog
                        .triggers
                        .retain(|_, g| !g.table.eq_ignore_ascii_case(&t.name));
                }
                removed.is_some()
            }
            ast::ObjectType::View => catalog.views.remove(&key).is_some(),
            ast::ObjectType::Index => catalog.indexes.remove(&key).is_some(),
            other => {
                return Err(Error::not_supported(format!(
                    "DROP {other} is not supported yet"
                )))
            }
        };
        if !removed && !if_exists {
            return Err(Error::programming(format!(
                "no such {}: {name}",
                kind.to_string().to_lowercase()
            )));
        }
        if let ast::ObjectType::Table = kind {
            let id = txn.view.catalog.table(&name).map(|t| t.id);
            if let Some(id) = id {
                txn.pending.remove(&id);
            }
        }
    }
    Ok(other_result())
}

/// `CREATE [UNIQUE] INDEX`: records the index; a UNIQUE one first checks
/// the existing rows.
pub(crate) fn create_index(txn: &mut Transaction, ci: &ast::CreateIndex) -> Result<QueryResult> {
    let table = catalog_name(&ci.table_name)?;
    let meta = txn
        .catalog()
        .table(&table)
        .ok_or_else(|| Error::programming(format!("no such table: {table}")))?
        .clone();
    let mut columns = Vec::new();
    for c in &ci.columns {
        let name = crate::constraint_ddl::index_column_name(c);
        if meta.column_index(&name).is_none() {
            return Err(Error::programming(format!("no such column: {name}")));
        }
        columns.push(name);
    }
    let name = ci
        .name
        .as_ref()
        .map(object_name)
        .ok_or_else(|| Error::programming("index name required"))?;
    let key = name.to_ascii_lowercase();
    if txn.catalog().indexes.contains_key(&key) {
        if ci.if_not_exists {
            return Ok(other_result());
        }
        return Err(Error::programming(format!("index {name} already exists")));
    }
    if ci.unique {
        let key = UniqueKey {
            origin: format!("index {name}"),
            columns: columns
                .iter()
                .filter_map(|c| meta.column_index(c))
                .collect(),
        };
        if has_duplicates(txn, &meta, &key)? {
            return Err(Error::integrity(format!(
                "UNIQUE index {name} cannot be created: {} has duplicate values",
                meta.name
            )));
        }
    }
    txn.catalog_mut().indexes.insert(
        key,
        IndexMeta {
            name,
            table: meta.name.clone(),
            columns,
            unique: ci.unique,
        },
    );
    Ok(other_result())
}

/// `CREATE [OR REPLACE] VIEW`: binds the query once (to report errors now)
/// and records its text.
pub(crate) fn create_view(
    txn: &mut Transaction,
    cv: &ast::CreateView,
    params: &[Value],
) -> Result<QueryResult> {
    let name = catalog_name(&cv.name)?;
    require_schema(txn, &cv.name, &name)?;
    let key = name.to_ascii_lowercase();
    if txn.catalog().views.contains_key(&key) || txn.catalog().table(&name).is_some() {
        if cv.or_replace && txn.catalog().views.contains_key(&key) {
            txn.catalog_mut().views.remove(&key);
        } else {
            return Err(Error::programming(format!("view {name} already exists")));
        }
    }
    // Bind once now so that errors surface at CREATE time.
    {
        let catalog = txn.catalog_arc();
        let binder = Binder::new(&catalog, params).for_transaction(txn);
        binder.bind_query(&cv.query)?;
    }
    txn.catalog_mut().views.insert(
        key,
        ViewMeta {
            name,
            query: cv.query.to_string(),
            columns: cv.columns.iter().map(|c| c.name.value.clone()).collect(),
        },
    );
    Ok(other_result())
}
