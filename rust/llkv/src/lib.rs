//! llkv: an embedded, Arrow-native SQL database.
//!
//! ```no_run
//! let db = llkv::Database::open_in_memory()?;
//! let mut con = db.connect();
//! con.execute("CREATE TABLE t (a INTEGER, b TEXT)", &[])?;
//! con.execute("INSERT INTO t VALUES (?, ?)", &[1i64.into(), "x".into()])?;
//! let result = con.execute("SELECT a, b FROM t", &[])?;
//! assert_eq!(result.num_rows(), 1);
//! # Ok::<(), llkv::Error>(())
//! ```

pub use llkv_sql::{
    split_statements, Decimal, Error, ErrorKind, Interrupt, InterruptPoll, Output, QueryResult,
    QueryStream, Result, StatementKind, Value,
};

use std::path::Path;

/// A database: in memory or one file, shared by all connections opened on it.
#[derive(Clone)]
pub struct Database {
    engine: llkv_sql::SqlEngine,
}

impl Database {
    /// Opens a private in-memory database.
    pub fn open_in_memory() -> Result<Self> {
        Ok(Database {
            engine: llkv_sql::SqlEngine::open_in_memory()?,
        })
    }

    /// Opens the database file at `path`, creating it if absent.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Database {
            engine: llkv_sql::SqlEngine::open(path.as_ref())?,
        })
    }

    /// Sets how hard commits work to reach stable storage: `"full"` (the
    /// default: durable and atomic), `"normal"` (atomic; a power loss may
    /// drop the latest commits) or `"off"` (no fsync; a power loss may
    /// corrupt the file). Also `PRAGMA synchronous = ...`.
    pub fn set_synchronous(&self, level: &str) -> Result<()> {
        self.engine.set_synchronous(level)
    }

    /// Opens a new connection with its own transaction state.
    pub fn connect(&self) -> Connection {
        Connection {
            session: self.engine.session(),
        }
    }
}

/// One connection: runs statements, autocommit unless `BEGIN` is open.
pub struct Connection {
    session: llkv_sql::Session,
}

impl Connection {
    /// Sets whose semantics this connection follows where SQLite and DuckDB
    /// differ: `"sqlite"` (the default) or `"duckdb"`. Also
    /// `PRAGMA dialect = ...`; see [`llkv_sql::dialect::Dialect`].
    pub fn set_dialect(&mut self, name: &str) -> Result<()> {
        self.session
            .set_dialect(llkv_sql::dialect::Dialect::parse(name)?);
        Ok(())
    }

    /// Sets the most bytes this connection's statements may buffer in
    /// sorts, hash joins, aggregations, window functions and set
    /// operations, as a size like `"512MB"` or `"2GiB"` (`"unlimited"`:
    /// no limit, the default); a statement over it fails with an
    /// OperationalError. Also `PRAGMA memory_limit = ...`.
    pub fn set_memory_limit(&mut self, size: &str) -> Result<()> {
        self.session.set_memory_limit(size)
    }

    /// Sets the cancellation state this connection's statements check while
    /// they run: [`Interrupt::request`] from another thread stops the
    /// running statement with an `OperationalError` ("interrupted"), and
    /// the connection stays usable.
    pub fn set_interrupt(&mut self, interrupt: Option<std::sync::Arc<Interrupt>>) {
        self.session.set_interrupt(interrupt);
    }

    /// Forbids this connection's statements to read or write files
    /// (`read_parquet`, `read_csv`, `COPY`); no statement can turn it back
    /// on. Connections may use files by default.
    pub fn disable_file_access(&mut self) {
        self.session.disable_file_access();
    }

    /// Whether this connection's statements may read and write files.
    pub fn file_access(&self) -> bool {
        self.session.file_access()
    }

    /// The name of this connection's dialect (`"sqlite"` or `"duckdb"`).
    pub fn dialect(&self) -> &'static str {
        self.session.dialect().name()
    }

    /// Executes one or more `;`-separated statements with `?` parameters and
    /// returns the result of the last one.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        self.session.execute(sql, params)
    }

    /// Like [`Connection::execute`], with parameters given by name for
    /// `:name` placeholders.
    pub fn execute_named(&mut self, sql: &str, named: &[(String, Value)]) -> Result<QueryResult> {
        self.session.execute_named(sql, named)
    }

    /// Like [`Connection::execute`], except that a single query returns
    /// [`Output::Rows`]: a stream computing its batches as they are read,
    /// from the state the query started in (later statements on this or
    /// other connections do not change it). Anything else returns
    /// [`Output::Done`] with the complete result.
    pub fn execute_streaming(&mut self, sql: &str, params: &[Value]) -> Result<Output> {
        self.session.execute_streaming(sql, params)
    }

    /// Like [`Connection::execute_streaming`], with parameters given by name
    /// for `:name` placeholders.
    pub fn execute_named_streaming(
        &mut self,
        sql: &str,
        named: &[(String, Value)],
    ) -> Result<Output> {
        self.session.execute_named_streaming(sql, named)
    }

    /// Appends Arrow record batches (all of `schema`) to `table`, by
    /// column name, creating the table from the schema when absent and
    /// `create` is set; returns the number of rows added. The fast path
    /// for loading data.
    pub fn insert_arrow(
        &mut self,
        table: &str,
        schema: &arrow_schema::Schema,
        batches: &[arrow_array::RecordBatch],
        create: bool,
    ) -> Result<u64> {
        self.session.insert_arrow(table, schema, batches, create)
    }

    /// Makes Arrow data queryable as the read-only relation `name` on this
    /// connection, read in place where the column types allow.
    pub fn register(
        &mut self,
        name: &str,
        schema: &arrow_schema::Schema,
        batches: &[arrow_array::RecordBatch],
    ) -> Result<()> {
        self.session.register(name, schema, batches)
    }

    /// Removes a registered relation; false when there was none.
    pub fn unregister(&mut self, name: &str) -> bool {
        self.session.unregister(name)
    }

    /// True while an explicit transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.session.in_transaction()
    }
}
