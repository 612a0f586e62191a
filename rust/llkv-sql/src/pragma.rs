//! `PRAGMA name` / `PRAGMA name = value`: database settings and checks.
//! Supported: `synchronous` (FULL = 2, NORMAL = 1, OFF = 0), as in SQLite,
//! and `integrity_check`.

use std::sync::Arc;

use arrow_array::{RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use llkv_plan::{Error, Result};
use llkv_runtime::constraints::has_duplicates;
use llkv_runtime::Engine;
use llkv_table::Synchronous;

use crate::result::{QueryResult, StatementKind};
use crate::session::{other_result, single_value_result};

/// Parses a `synchronous` level: `full`/`normal`/`off` or 2/1/0.
pub fn parse_synchronous(text: &str) -> Result<Synchronous> {
    match text.trim_matches(['\'', '"']).to_ascii_lowercase().as_str() {
        "full" | "2" => Ok(Synchronous::Full),
        "normal" | "1" => Ok(Synchronous::Normal),
        "off" | "0" => Ok(Synchronous::Off),
        other => Err(Error::programming(format!(
            "synchronous must be full, normal or off, got {other:?}"
        ))),
    }
}

/// Parses a memory size: bytes, or a number with a unit (KB, MB, GB, TB
/// in powers of 1000; KiB, MiB, GiB, TiB in powers of 1024; B). `none`,
/// `unlimited` and negative numbers mean no limit (None).
pub fn parse_size(text: &str) -> Result<Option<usize>> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if lower == "none" || lower == "unlimited" || lower.starts_with('-') {
        return Ok(None);
    }
    let split = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let bad = || {
        Error::programming(format!(
            "memory_limit: cannot read {text:?} as a size, like '512MB' or '2GiB'"
        ))
    };
    let number: f64 = number.parse().map_err(|_| bad())?;
    let scale: f64 = match unit.trim() {
        "" | "b" | "byte" | "bytes" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let bytes = number * scale;
    if !bytes.is_finite() || bytes >= usize::MAX as f64 {
        return Err(bad());
    }
    Ok(Some(bytes as usize))
}

/// Runs `PRAGMA name [= value]`.
pub(crate) fn pragma(engine: &Engine, name: &str, value: Option<&str>) -> Result<QueryResult> {
    if name.eq_ignore_ascii_case("integrity_check") && value.is_none() {
        return integrity_check(engine);
    }
    if !name.eq_ignore_ascii_case("synchronous") {
        return Err(Error::not_supported(format!("PRAGMA {name}")));
    }
    if let Some(text) = value {
        engine.set_synchronous(parse_synchronous(text)?);
        return Ok(other_result());
    }
    let level = match engine.synchronous() {
        Synchronous::Full => 2,
        Synchronous::Normal => 1,
        Synchronous::Off => 0,
    };
    single_value_result("synchronous", level, StatementKind::Query)
}

/// `PRAGMA integrity_check`: one row `ok`, as SQLite, or one row per
/// problem found. Checks the storage (see `TableStore::integrity_check`),
/// then, in the latest snapshot, that no two live rows share a unique key
/// and that every foreign key finds its parent row.
fn integrity_check(engine: &Engine) -> Result<QueryResult> {
    let mut problems = engine.storage_problems();
    let txn = engine.begin(false);
    let outcome = constraint_problems(&txn, &mut problems);
    engine.rollback(txn);
    outcome?;
    if problems.is_empty() {
        problems.push("ok".to_owned());
    }
    let schema = Arc::new(Schema::new(vec![Field::new(
        "integrity_check",
        DataType::Utf8,
        false,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(problems))])
        .map_err(|e| Error::internal(e.to_string()))?;
    Ok(QueryResult {
        schema,
        batches: vec![batch],
        kind: StatementKind::Query,
    })
}

fn constraint_problems(txn: &llkv_runtime::Transaction, problems: &mut Vec<String>) -> Result<()> {
    let catalog = txn.catalog_arc();
    for meta in catalog.tables.values() {
        for key in catalog.unique_keys(meta) {
            if has_duplicates(txn, meta, &key)? {
                problems.push(format!(
                    "table {}: two live rows share a value of {}",
                    meta.name, key.origin
                ));
            }
        }
        if meta.foreign_keys.is_empty() {
            continue;
        }
        let all: Vec<usize> = (0..meta.columns.len()).collect();
        let batches = txn.scan_table(meta.id, &all, false)?;
        let schema = crate::dml::table_arrow_schema(meta);
        let rows = arrow_select::concat::concat_batches(&schema, &batches)
            .map_err(|e| Error::internal(e.to_string()))?;
        if let Err(e) = crate::foreign_key::check_children(txn, meta, &rows) {
            problems.push(format!("table {}: {e}", meta.name));
        }
    }
    Ok(())
}
