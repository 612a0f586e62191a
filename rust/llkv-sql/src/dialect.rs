//! SQL dialects: whose behaviour a session follows where SQLite and DuckDB
//! give the same statement different meanings. Chosen per connection with
//! `PRAGMA dialect = sqlite | duckdb` (or `llkv.connect(..., dialect=...)`).

use llkv_plan::{Error, Result};
use llkv_table::Catalog;
use sqlparser::ast;

use crate::binder::{catalog_name, object_name};

/// Whose semantics a session follows where SQLite and DuckDB differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite's (the default): a failed statement inside a transaction
    /// undoes only itself; `INSERT OR REPLACE` deletes the conflicting rows
    /// and inserts the new one; `ON CONFLICT DO UPDATE` without a target
    /// watches every unique key.
    #[default]
    Sqlite,
    /// DuckDB's (and in the first point PostgreSQL's): a failed statement
    /// aborts the transaction, which then refuses every statement until
    /// ROLLBACK (a COMMIT rolls it back); `INSERT OR REPLACE` updates the
    /// inserted columns of the conflicting row in place (an upsert); and
    /// `ON CONFLICT DO UPDATE` must name its target when the table has more
    /// than one unique key; and `0.06` is an exact DECIMAL(3,2), not a
    /// DOUBLE.
    DuckDb,
}

impl Dialect {
    /// Parses a dialect name (`sqlite` or `duckdb`, any case, quotes allowed).
    pub fn parse(text: &str) -> Result<Dialect> {
        match text.trim_matches(['\'', '"']).to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Dialect::Sqlite),
            "duckdb" => Ok(Dialect::DuckDb),
            other => Err(Error::programming(format!(
                "dialect must be sqlite or duckdb, got {other:?}"
            ))),
        }
    }

    /// The dialect's name, as `PRAGMA dialect` reports it.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::DuckDb => "duckdb",
        }
    }
}

/// An INSERT as DuckDB means it: `INSERT OR REPLACE` becomes
/// `ON CONFLICT DO UPDATE SET c = excluded.c` for each inserted column, and
/// an `ON CONFLICT DO UPDATE` without a target is refused when the table
/// has several unique keys (which one would decide is ambiguous). None when
/// the statement stays as written.
pub(crate) fn duckdb_insert(catalog: &Catalog, ins: &ast::Insert) -> Result<Option<ast::Insert>> {
    let replace = ins.replace_into || ins.or == Some(ast::SqliteOnConflict::Replace);
    let untargeted_update = matches!(
        &ins.on,
        Some(ast::OnInsert::OnConflict(ast::OnConflict {
            conflict_target: None,
            action: ast::OnConflictAction::DoUpdate(_),
        }))
    );
    if !replace && !untargeted_update {
        return Ok(None);
    }
    let ast::TableObject::TableName(name) = &ins.table else {
        return Ok(None);
    };
    let name = catalog_name(name)?;
    let Some(meta) = catalog.table(&name) else {
        return Ok(None);
    };
    if catalog.unique_keys(meta).len() > 1 {
        return Err(Error::programming(format!(
            "conflict target has to be provided for a DO UPDATE operation when the table \
             has multiple UNIQUE/PRIMARY KEY constraints (table {})",
            meta.name
        )));
    }
    if !replace {
        return Ok(None);
    }
    let columns: Vec<String> = if ins.columns.is_empty() {
        meta.columns.iter().map(|c| c.name.clone()).collect()
    } else {
        ins.columns.iter().map(object_name).collect()
    };
    let sets: Vec<String> = columns
        .iter()
        .map(|c| {
            let quoted = format!("\"{}\"", c.replace('"', "\"\""));
            format!("{quoted} = excluded.{quoted}")
        })
        .collect();
    let template = format!(
        "INSERT INTO t VALUES (1) ON CONFLICT DO UPDATE SET {}",
        sets.join(", ")
    );
    let on = match crate::parse::parse_statements(&template)?.pop() {
        Some(ast::Statement::Insert(t)) => t.on,
        _ => return Err(Error::internal("INSERT OR REPLACE rewrite")),
    };
    let mut out = ins.clone();
    out.or = None;
    out.replace_into = false;
    out.on = on;
    Ok(Some(out))
}
