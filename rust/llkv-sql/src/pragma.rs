//! `PRAGMA name` / `PRAGMA name = value`: database settings. Supported:
//! `synchronous` (FULL = 2, NORMAL = 1, OFF = 0), as in SQLite.

use llkv_plan::{Error, Result};
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

/// Runs `PRAGMA name [= value]`.
pub(crate) fn pragma(engine: &Engine, name: &str, value: Option<&str>) -> Result<QueryResult> {
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
