//! Schemas: `CREATE SCHEMA`, `DROP SCHEMA`, and the check that a schema
//! exists before an object is created in it.
//!
//! A table, view or index in schema `s` is stored in the catalog under
//! `s.name` (see [`crate::binder::catalog_name`]); `main` (and `temp`) is the default
//! schema, whose objects keep their bare names.

use llkv_plan::{Error, Result};
use llkv_runtime::Transaction;
use sqlparser::ast;

use crate::binder::{object_name, schema_of_name};
use crate::result::QueryResult;
use crate::session::other_result;

/// Fails unless the schema of `name` (as [`crate::binder::catalog_name`] made it from
/// `written`) names exists. Only a qualified name has a schema: a bare
/// quoted name holding a dot is a table of the default schema.
pub(crate) fn require_schema(
    txn: &Transaction,
    written: &ast::ObjectName,
    name: &str,
) -> Result<()> {
    match schema_of_name(name) {
        Some(schema) if written.0.len() > 1 && !txn.catalog().schemas.contains(schema) => {
            Err(Error::programming(format!("no such schema: {schema}")))
        }
        _ => Ok(()),
    }
}

/// `CREATE SCHEMA [IF NOT EXISTS] name`.
pub(crate) fn create_schema(
    txn: &mut Transaction,
    name: &ast::SchemaName,
    if_not_exists: bool,
) -> Result<QueryResult> {
    let name = match name {
        ast::SchemaName::Simple(n) | ast::SchemaName::NamedAuthorization(n, _) => n,
        ast::SchemaName::UnnamedAuthorization(_) => {
            return Err(Error::not_supported(
                "CREATE SCHEMA AUTHORIZATION without a name",
            ))
        }
    };
    if name.0.len() > 1 {
        return Err(Error::not_supported(format!(
            "schema names are one identifier, not {name}"
        )));
    }
    let schema = object_name(name).to_ascii_lowercase();
    let exists = schema == "main" || schema == "temp" || txn.catalog().schemas.contains(&schema);
    if exists {
        if if_not_exists {
            return Ok(other_result());
        }
        return Err(Error::programming(format!(
            "schema {schema} already exists"
        )));
    }
    txn.catalog_mut().schemas.insert(schema);
    Ok(other_result())
}

/// `DROP SCHEMA [IF EXISTS] name, ... [CASCADE]`: a schema holding tables
/// or views is dropped only with CASCADE, which drops them too (refused
/// when a table outside the schema has a foreign key into it).
pub(crate) fn drop_schemas(
    txn: &mut Transaction,
    if_exists: bool,
    cascade: bool,
    names: &[ast::ObjectName],
) -> Result<QueryResult> {
    for n in names {
        let schema = object_name(n).to_ascii_lowercase();
        if schema == "main" || schema == "temp" {
            return Err(Error::programming(format!("cannot drop schema {schema}")));
        }
        if !txn.catalog().schemas.contains(&schema) {
            if if_exists {
                continue;
            }
            return Err(Error::programming(format!("no such schema: {schema}")));
        }
        let in_schema = |name: &str| schema_of_name(name).is_some_and(|s| s == schema);
        let qualified = |name: &str| {
            let bare = name.split_once('.').map_or(name, |(_, b)| b);
            ast::ObjectName::from(vec![ast::Ident::new(&schema), ast::Ident::new(bare)])
        };
        let catalog = txn.catalog();
        let tables: Vec<ast::ObjectName> = catalog
            .tables
            .values()
            .filter(|t| in_schema(&t.name))
            .map(|t| qualified(&t.name))
            .collect();
        let views: Vec<ast::ObjectName> = catalog
            .views
            .keys()
            .filter(|v| in_schema(v))
            .map(|v| qualified(v))
            .collect();
        let holds_objects = !tables.is_empty() || !views.is_empty();
        if holds_objects && !cascade {
            return Err(Error::programming(format!(
                "cannot drop schema {schema}: it holds tables or views (use DROP SCHEMA ... CASCADE)"
            )));
        }
        if !views.is_empty() {
            crate::ddl::drop_objects(txn, &ast::ObjectType::View, false, false, &views)?;
        }
        if !tables.is_empty() {
            crate::ddl::drop_objects(txn, &ast::ObjectType::Table, false, false, &tables)?;
        }
        txn.catalog_mut().schemas.remove(&schema);
    }
    Ok(other_result())
}
