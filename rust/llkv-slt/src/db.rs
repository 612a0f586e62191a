//! The database a test file runs against: one `llkv::Database` with one
//! `llkv::Connection` per connection name, on the chosen pager.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use llkv::{Connection, Database, QueryResult};

use crate::dialect::Dialect;
use crate::panics;

/// Where a test file's database lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pager {
    /// `Database::open_in_memory()`.
    Mem,
    /// A fresh `db.llkv` file in a temporary directory, deleted afterwards.
    File,
}

impl std::str::FromStr for Pager {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mem" => Ok(Pager::Mem),
            "file" => Ok(Pager::File),
            other => Err(format!("unknown pager {other:?}: use mem or file")),
        }
    }
}

/// A database for one test file and its named connections.
///
/// Fields drop in order: connections, then the database, then the
/// temporary directory holding its file.
pub struct TestDatabase {
    connections: HashMap<sqllogictest::Connection, Connection>,
    /// Run on each connection when it opens (the session's SQL dialect).
    setup: &'static str,
    database: Database,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// Opens a fresh database on `pager` whose connections follow the SQL
    /// semantics of `dialect`'s corpus; a panic while opening is an error.
    pub fn open(pager: Pager, dialect: Dialect) -> Result<Self, String> {
        let (database, dir) = match pager {
            Pager::Mem => (
                panics::catch(Database::open_in_memory)?.map_err(|e| e.to_string())?,
                None,
            ),
            Pager::File => {
                let dir =
                    tempfile::tempdir().map_err(|e| format!("cannot create temp dir: {e}"))?;
                let path = dir.path().join("db.llkv");
                let database = panics::catch(|| Database::open(&path))?
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
                (database, Some(dir))
            }
        };
        let setup = match dialect {
            Dialect::Sqlite => "PRAGMA dialect = sqlite",
            Dialect::DuckDb => "PRAGMA dialect = duckdb",
        };
        Ok(TestDatabase {
            connections: HashMap::new(),
            setup,
            database,
            _dir: dir,
        })
    }

    /// Runs `PRAGMA integrity_check` once every connection is closed: on a
    /// file database after reopening the file (so the check also covers
    /// what was stored), in memory on a new connection. `Err` lists the
    /// problems found.
    pub fn check_integrity(self) -> Result<(), String> {
        let TestDatabase {
            connections,
            database,
            _dir: dir,
            ..
        } = self;
        drop(connections);
        let database = match &dir {
            Some(dir) => {
                drop(database);
                let path = dir.path().join("db.llkv");
                panics::catch(|| Database::open(&path))?
                    .map_err(|e| format!("cannot reopen {}: {e}", path.display()))?
            }
            None => database,
        };
        let mut con = panics::catch(|| database.connect())?;
        let result = panics::catch(|| con.execute("PRAGMA integrity_check", &[]))?
            .map_err(|e| format!("{:?}: {e}", e.kind))?;
        let mut lines: Vec<String> = Vec::new();
        for batch in &result.batches {
            let column = batch
                .column(0)
                .as_string_opt::<i32>()
                .ok_or("integrity_check returned no text")?;
            lines.extend(column.iter().map(|v| v.unwrap_or_default().to_owned()));
        }
        if lines == ["ok"] {
            Ok(())
        } else {
            Err(lines.join("; "))
        }
    }

    /// Executes `sql` (possibly several `;`-separated statements) on the
    /// named connection, opening it on first use. Engine errors and panics
    /// both come back as `Err(message)`.
    pub fn execute(
        &mut self,
        connection: &sqllogictest::Connection,
        sql: &str,
    ) -> Result<QueryResult, String> {
        let database = &self.database;
        let con = match self.connections.entry(connection.clone()) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let mut con = panics::catch(|| database.connect())?;
                con.execute(self.setup, &[])
                    .map_err(|e| format!("{:?}: {e}", e.kind))?;
                entry.insert(con)
            }
        };
        panics::catch(|| con.execute(sql, &[]))?.map_err(|e| format!("{:?}: {e}", e.kind))
    }
}
