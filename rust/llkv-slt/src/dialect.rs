//! Which engine a test file's expected output came from.

use std::path::Path;

/// The result conventions of a corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// D. R. Hipp's corpus: values rendered by column type letter, one value
    /// per line, error records only checked to fail (they carry no message).
    Sqlite,
    /// DuckDB's converted tests: DuckDB's own text rendering, rows may be
    /// tab-separated, error messages are DuckDB's and are not compared.
    DuckDb,
}

impl Dialect {
    /// The dialect of a file: DuckDB when some directory on its path is
    /// named `duckdb`, SQLite otherwise (the default for llkv's own files).
    ///
    /// ```
    /// use llkv_slt::dialect::Dialect;
    /// assert_eq!(Dialect::of_path("tests/slt/duckdb/join/a.slt".as_ref()), Dialect::DuckDb);
    /// assert_eq!(Dialect::of_path("tests/slt/sqlite/select1.test".as_ref()), Dialect::Sqlite);
    /// ```
    pub fn of_path(path: &Path) -> Dialect {
        let in_duckdb = path
            .parent()
            .is_some_and(|dir| dir.components().any(|c| c.as_os_str() == "duckdb"));
        if in_duckdb {
            Dialect::DuckDb
        } else {
            Dialect::Sqlite
        }
    }

    /// The `hash-threshold` in force before a file sets one. Hipp's
    /// expected results were generated with the C runner's `-ht 8`, so
    /// files such as `select1.test` hash results of more than 8 values
    /// without a `hash-threshold` record; DuckDB's files never hash unless
    /// they say so.
    pub fn default_hash_threshold(self) -> u64 {
        match self {
            Dialect::Sqlite => 8,
            Dialect::DuckDb => 0,
        }
    }
}
