//! `COPY`: between a table (or a query) and a Parquet or CSV file.
//!
//! - `COPY t TO 'out.parquet'`, `COPY (SELECT ...) TO 'out.csv' (HEADER,
//!   DELIMITER ';')`: writes the rows and returns how many.
//! - `COPY t [(columns)] FROM 'in.csv' (...)`: appends the file's rows, its
//!   columns matched to the table's (or the listed) columns by position,
//!   checked like INSERT rows.
//!
//! The format is `FORMAT parquet|csv`, or else guessed from the file name
//! (`.parquet`/`.pq` is Parquet, anything else CSV), as in DuckDB.

use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use llkv_plan::{Error, Result, Value};
use llkv_runtime::Transaction;
use sqlparser::ast;

use crate::binder::Binder;
use crate::files::{self, CsvOptions, FileFormat};
use crate::result::QueryResult;
use crate::session::{check_param_count, count_result, run_query};

/// The parts of a `Statement::Copy`.
pub(crate) struct Copy<'s> {
    pub source: &'s ast::CopySource,
    pub to: bool,
    pub target: &'s ast::CopyTarget,
    pub options: &'s [ast::CopyOption],
    pub legacy_options: &'s [ast::CopyLegacyOption],
}

/// Runs a COPY statement.
pub(crate) fn copy(
    txn: &mut Transaction,
    stmt: Copy<'_>,
    params: &[Value],
    check: bool,
) -> Result<QueryResult> {
    files::check_access(txn.file_access)?;
    let path = match stmt.target {
        ast::CopyTarget::File { filename } => filename.as_str(),
        other => {
            return Err(Error::not_supported(format!(
                "COPY with {other} is not supported (name a file)"
            )))
        }
    };
    if let Some(option) = stmt.legacy_options.first() {
        return Err(Error::not_supported(format!(
            "COPY option {option} is not supported"
        )));
    }
    let (format, csv) = options(path, stmt.options)?;
    if stmt.to {
        copy_to(txn, stmt.source, path, format, &csv, params, check)
    } else {
        copy_from(txn, stmt.source, path, format, &csv)
    }
}

/// The file format and CSV layout the options ask for.
fn options(path: &str, options: &[ast::CopyOption]) -> Result<(FileFormat, CsvOptions)> {
    let mut format = None;
    let mut csv = CsvOptions::default();
    for option in options {
        match option {
            ast::CopyOption::Format(name) => format = Some(FileFormat::named(&name.value)?),
            ast::CopyOption::Header(on) => csv.header = *on,
            ast::CopyOption::Delimiter(c) => {
                csv.set("delimiter", &Value::Text(c.to_string().into()))?
            }
            ast::CopyOption::Quote(c) => csv.set("quote", &Value::Text(c.to_string().into()))?,
            other => {
                return Err(Error::not_supported(format!(
                    "COPY option {other} is not supported"
                )))
            }
        }
    }
    Ok((format.unwrap_or_else(|| FileFormat::of_path(path)), csv))
}

fn copy_to(
    txn: &mut Transaction,
    source: &ast::CopySource,
    path: &str,
    format: FileFormat,
    csv: &CsvOptions,
    params: &[Value],
    check: bool,
) -> Result<QueryResult> {
    let query = match source {
        ast::CopySource::Query(q) => q.as_ref().clone(),
        ast::CopySource::Table {
            table_name,
            columns,
        } => {
            let list = if columns.is_empty() {
                "*".to_owned()
            } else {
                columns
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            crate::binder::parse_query(&format!("SELECT {list} FROM {table_name}"))?
        }
    };
    let catalog = txn.catalog_arc();
    let binder = Binder::new(&catalog, params).for_transaction(txn);
    let plan = binder.bind_query(&query)?;
    check_param_count(&binder, params, check)?;
    let subqueries = binder.take_subqueries();
    let batches = run_query(txn, &plan, &subqueries)?;
    let rows = files::write(format, path, csv, &plan.schema(), &batches)?;
    count_result(rows)
}

fn copy_from(
    txn: &mut Transaction,
    source: &ast::CopySource,
    path: &str,
    format: FileFormat,
    csv: &CsvOptions,
) -> Result<QueryResult> {
    let (table, columns) = match source {
        ast::CopySource::Table {
            table_name,
            columns,
        } => (crate::binder::catalog_name(table_name)?, columns),
        ast::CopySource::Query(_) => {
            return Err(Error::programming(
                "COPY ... FROM needs a table, not a query",
            ))
        }
    };
    let meta = txn
        .catalog()
        .table(&table)
        .ok_or_else(|| Error::programming(format!("no such table: {table}")))?;
    let names: Vec<String> = if columns.is_empty() {
        meta.columns.iter().map(|c| c.name.clone()).collect()
    } else {
        columns.iter().map(|c| c.value.clone()).collect()
    };
    let (rows, schema) = files::source(format, path, csv)?;
    if schema.fields().is_empty() {
        // An empty CSV file (what COPY TO writes for no rows, no header).
        return count_result(0);
    }
    if schema.fields().len() != names.len() {
        return Err(Error::data(format!(
            "{path} has {} columns but COPY into {table} expects {}",
            schema.fields().len(),
            names.len()
        )));
    }
    let schema = files::renamed(&schema, &names);
    let mut batches = Vec::new();
    for batch in rows.open()? {
        let batch = batch?;
        let rows = batch.num_rows();
        batches.push(
            RecordBatch::try_new_with_options(
                Arc::clone(&schema),
                batch.columns().to_vec(),
                &RecordBatchOptions::new().with_row_count(Some(rows)),
            )
            .map_err(|e| Error::internal(e.to_string()))?,
        );
    }
    let added = crate::ingest::insert_batches(txn, &table, &schema, &batches, false)?;
    count_result(added)
}
