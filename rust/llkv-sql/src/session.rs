//! Sessions: one connection's transaction state, and the execution of each
//! statement kind (queries, DML, DDL, transaction control).

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use llkv_executor::{execute_collect, ExecContext};
use llkv_plan::{Error, ErrorKind, LogicalPlan, Result, Value};
use llkv_runtime::{Engine, Transaction};
use llkv_table::TableMeta;

use sqlparser::ast;

use crate::binder::Binder;
use crate::dialect::Dialect;
use crate::parse::Command;
use crate::result::{QueryResult, StatementKind};
use crate::stream::{Output, QueryStream};

/// A database shared by all of its sessions.
#[derive(Clone)]
pub struct SqlEngine {
    engine: Arc<Engine>,
}

impl SqlEngine {
    /// Opens a private in-memory database.
    pub fn open_in_memory() -> Result<Self> {
        Ok(SqlEngine {
            engine: Engine::open_in_memory()?,
        })
    }

    /// Opens (creating if absent) a database file.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(SqlEngine {
            engine: Engine::open_file(path)?,
        })
    }

    /// Opens the database stored in any pager (e.g. a fault-injecting one).
    pub fn with_pager(pager: Arc<dyn llkv_storage::Pager>) -> Result<Self> {
        Ok(SqlEngine {
            engine: Engine::with_pager(pager)?,
        })
    }

    /// Sets the commit durability level (also `PRAGMA synchronous = ..`):
    /// `full`, `normal` or `off`.
    pub fn set_synchronous(&self, level: &str) -> Result<()> {
        self.engine
            .set_synchronous(crate::pragma::parse_synchronous(level)?);
        Ok(())
    }

    /// Rows physically stored for `table`, live rows and dead versions not
    /// yet dropped (for monitoring space use); None for no such table.
    pub fn stored_rows(&self, table: &str) -> Option<u64> {
        self.engine.stored_rows(table)
    }

    /// Starts a new session (one connection's transaction state).
    pub fn session(&self) -> Session {
        Session {
            engine: self.engine.clone(),
            txn: None,
            savepoints: Vec::new(),
            snapshot_due: false,
            opened_by_savepoint: false,
            read_only: false,
            relations: Default::default(),
            parsed: Default::default(),
            plans: Default::default(),
            dialect: Dialect::default(),
            aborted: false,
            interrupt: None,
            memory_limit: None,
            file_access: true,
        }
    }
}

/// One connection's state: its open transaction, if any.
pub struct Session {
    engine: Arc<Engine>,
    txn: Option<Transaction>,
    /// Open savepoints, innermost last, with the transaction state each
    /// restores.
    savepoints: Vec<(String, Transaction)>,
    /// BEGIN ran but no statement yet: the snapshot is taken at the first
    /// statement of the transaction.
    snapshot_due: bool,
    /// The transaction was opened by a SAVEPOINT outside BEGIN (SQLite),
    /// so releasing that savepoint commits it.
    opened_by_savepoint: bool,
    /// The transaction was opened with `BEGIN ... READ ONLY`.
    read_only: bool,
    /// Arrow data registered on this connection (`register`).
    relations: llkv_plan::Relations,
    /// Recently parsed statement texts.
    parsed: crate::parse::ParseCache,
    /// Plans of queries run before, reused with new parameters.
    plans: crate::plan_cache::PlanCache,
    /// Whose semantics the session follows where SQLite and DuckDB differ.
    dialect: Dialect,
    /// A statement failed in the open transaction under the DuckDB
    /// dialect: only ROLLBACK (or COMMIT, which rolls back) may follow.
    aborted: bool,
    /// The cancellation state the running statement checks.
    interrupt: Option<Arc<llkv_plan::Interrupt>>,
    /// `PRAGMA memory_limit`: most bytes a statement's blocking operators
    /// may buffer (None: no limit).
    memory_limit: Option<usize>,
    /// Whether statements may read and write files; once off, it stays off.
    file_access: bool,
}

pub(crate) fn count_result(n: u64) -> Result<QueryResult> {
    single_value_result("count", n as i64, StatementKind::RowsAffected(n))
}

/// A one-row, one-column int64 result.
pub(crate) fn single_value_result(
    name: &str,
    value: i64,
    kind: StatementKind,
) -> Result<QueryResult> {
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![value]))],
    )
    .map_err(|e| Error::internal(e.to_string()))?;
    Ok(QueryResult {
        schema,
        batches: vec![batch],
        kind,
    })
}

/// A one-row, one-column text result.
pub(crate) fn single_text_result(name: &str, value: &str) -> Result<QueryResult> {
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, false)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(arrow_array::StringArray::from(vec![value]))],
    )
    .map_err(|e| Error::internal(e.to_string()))?;
    Ok(QueryResult {
        schema,
        batches: vec![batch],
        kind: StatementKind::Query,
    })
}

pub(crate) fn other_result() -> QueryResult {
    QueryResult {
        schema: Arc::new(Schema::empty()),
        batches: vec![],
        kind: StatementKind::Other,
    }
}

impl Session {
    /// Executes one or more `;`-separated statements with `?` parameters and
    /// returns the result of the last one.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        let commands = self.parsed.commands(sql)?;
        match self.plain_query(&commands) {
            Some(q) => self.run_query_cached(sql, q, params),
            None => self.run_commands(&commands, params),
        }
    }

    /// The query of `commands` when they are a single query without data
    /// changes that may run now (its plan can come from the plan cache).
    fn plain_query<'c>(&self, commands: &'c [Command]) -> Option<&'c ast::Query> {
        match commands {
            [Command::Sql(stmt)] if !self.aborted => match stmt.as_ref() {
                ast::Statement::Query(q) if !crate::dml_rewrite::is_data_change(q) => Some(q),
                _ => None,
            },
            _ => None,
        }
    }

    /// Runs query `q` (the whole of `sql`) to completion with its plan
    /// from the plan cache.
    fn run_query_cached(
        &mut self,
        sql: &str,
        q: &ast::Query,
        params: &[Value],
    ) -> Result<QueryResult> {
        self.with_plan_cache(|plans, txn| {
            let (plan, subqueries) = plans.plan(sql, txn, q, params)?;
            let batches = run_query(txn, &plan, &subqueries)?;
            Ok(QueryResult {
                schema: plan.schema(),
                batches,
                kind: StatementKind::Query,
            })
        })
    }

    /// Runs a query's `f` in the open (or an autocommit) transaction with
    /// the plan cache at hand. A failure aborts a DuckDB-dialect transaction.
    fn with_plan_cache<T>(
        &mut self,
        f: impl FnOnce(&mut crate::plan_cache::PlanCache, &mut Transaction) -> Result<T>,
    ) -> Result<T> {
        self.take_due_snapshot();
        let dialect = self.dialect;
        let mut plans = std::mem::take(&mut self.plans);
        let result = self.with_transaction(|_, txn| f(&mut plans, txn));
        self.plans = plans;
        if result.is_err() && dialect == Dialect::DuckDb && self.txn.is_some() {
            self.aborted = true;
        }
        result
    }

    /// How many query runs reused a plan from the plan cache so far.
    pub fn plan_cache_hits(&self) -> u64 {
        self.plans.hits()
    }

    /// Like [`Session::execute`], with parameters given by name for
    /// `:name` (or `$name`) placeholders; unused names are ignored.
    pub fn execute_named(&mut self, sql: &str, named: &[(String, Value)]) -> Result<QueryResult> {
        let mut commands = (*self.parsed.commands(sql)?).clone();
        let params = crate::named_params::renumber(&mut commands, named)?;
        self.run_commands(&commands, &params)
    }

    /// Like [`Session::execute`], except that a single query (a SELECT
    /// without data changes) is not run to completion here: its rows come
    /// from the returned [`QueryStream`] as they are read. The stream reads
    /// the state the query started in, whatever the session does next.
    /// Other statements run as in [`Session::execute`].
    pub fn execute_streaming(&mut self, sql: &str, params: &[Value]) -> Result<Output> {
        let commands = self.parsed.commands(sql)?;
        if let Some(q) = self.plain_query(&commands) {
            return self.stream_query(Some(sql), q, params).map(Output::Rows);
        }
        self.run_commands(&commands, params).map(Output::Done)
    }

    /// [`Session::execute_streaming`] with parameters given by name, as in
    /// [`Session::execute_named`].
    pub fn execute_named_streaming(
        &mut self,
        sql: &str,
        named: &[(String, Value)],
    ) -> Result<Output> {
        let mut commands = (*self.parsed.commands(sql)?).clone();
        let params = crate::named_params::renumber(&mut commands, named)?;
        self.stream_commands(&commands, &params)
    }

    fn stream_commands(&mut self, commands: &[Command], params: &[Value]) -> Result<Output> {
        if let [Command::Sql(stmt)] = commands {
            if let ast::Statement::Query(q) = stmt.as_ref() {
                if !self.aborted && !crate::dml_rewrite::is_data_change(q) {
                    return self.stream_query(None, q, params).map(Output::Rows);
                }
            }
        }
        self.run_commands(commands, params).map(Output::Done)
    }

    /// Binds `q` in the open (or an autocommit) transaction and starts it
    /// on a copy of that transaction's state. With the query's text `sql`,
    /// the plan may come from the plan cache.
    fn stream_query(
        &mut self,
        sql: Option<&str>,
        q: &ast::Query,
        params: &[Value],
    ) -> Result<QueryStream> {
        self.with_plan_cache(|plans, txn| {
            let (plan, subqueries) = match sql {
                Some(sql) => plans.plan(sql, txn, q, params)?,
                None => bind_select(txn, q, params, true)?,
            };
            QueryStream::start(txn.clone(), plan, subqueries)
        })
    }

    fn run_commands(&mut self, commands: &[Command], params: &[Value]) -> Result<QueryResult> {
        let single = commands.len() == 1;
        let mut last = other_result();
        for command in commands {
            last = match command {
                Command::Sql(stmt) => self.execute_statement(stmt, params, single)?,
                Command::Reindex(name) => self.reindex(name.as_ref())?,
                Command::Pragma { name, value } if name.eq_ignore_ascii_case("dialect") => {
                    self.dialect_pragma(value.as_deref())?
                }
                Command::Pragma { name, value } if name.eq_ignore_ascii_case("memory_limit") => {
                    self.memory_limit_pragma(value.as_deref())?
                }
                Command::Pragma { name, value } => {
                    crate::pragma::pragma(&self.engine, name, value.as_deref())?
                }
            };
        }
        Ok(last)
    }

    /// `REINDEX [table | index]`: drops the sorted runs of the stored
    /// segments (of the index's table, or of every table), which are rebuilt
    /// from the column data on next use.
    fn reindex(&mut self, name: Option<&ast::ObjectName>) -> Result<QueryResult> {
        let txn = self.engine.begin(false);
        let catalog = match &self.txn {
            Some(t) => t.catalog().clone(),
            None => txn.catalog().clone(),
        };
        let tables: Vec<&TableMeta> = match name {
            None => catalog.tables.values().map(|t| &**t).collect(),
            Some(name) => {
                let name = crate::binder::catalog_name(name)?;
                let table = match catalog.indexes.get(&name.to_ascii_lowercase()) {
                    Some(index) => catalog.table(&index.table),
                    None => catalog.table(&name),
                };
                match table {
                    Some(t) => vec![t],
                    None => {
                        self.engine.rollback(txn);
                        return Err(Error::programming(format!(
                            "unable to identify the object to be reindexed: {name}"
                        )));
                    }
                }
            }
        };
        for table in tables {
            for segment in txn.view.tables.get(&table.id).iter().flat_map(|s| s.iter()) {
                segment.clear_sorted_runs();
            }
        }
        self.engine.rollback(txn);
        Ok(other_result())
    }

    /// True while an explicit transaction (BEGIN) is open.
    pub fn in_transaction(&self) -> bool {
        self.txn.is_some()
    }

    /// `PRAGMA dialect [= sqlite | duckdb]`: reports or sets this session's
    /// dialect.
    fn dialect_pragma(&mut self, value: Option<&str>) -> Result<QueryResult> {
        match value {
            Some(text) => {
                self.dialect = Dialect::parse(text)?;
                Ok(other_result())
            }
            None => single_text_result("dialect", self.dialect.name()),
        }
    }

    /// `PRAGMA memory_limit [= size]` (also `SET memory_limit = size`):
    /// reports or sets the most bytes a statement's sorts, hash joins,
    /// aggregations, window functions and set operations may buffer
    /// before the statement fails with an OperationalError. Sizes are
    /// bytes or a number with KB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/
    /// TiB; `none`, `unlimited` or a negative number lift the limit.
    fn memory_limit_pragma(&mut self, value: Option<&str>) -> Result<QueryResult> {
        match value {
            Some(text) => {
                self.memory_limit = crate::pragma::parse_size(text)?;
                Ok(other_result())
            }
            None => match self.memory_limit {
                Some(bytes) => single_text_result("memory_limit", &format!("{bytes} bytes")),
                None => single_text_result("memory_limit", "unlimited"),
            },
        }
    }

    /// Sets this session's memory limit from a size such as `"512MB"` (see
    /// `PRAGMA memory_limit`).
    pub fn set_memory_limit(&mut self, size: &str) -> Result<()> {
        self.memory_limit = crate::pragma::parse_size(size)?;
        Ok(())
    }

    /// The session's dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Sets the cancellation state that this session's statements check
    /// while they run (None: statements cannot be interrupted).
    pub fn set_interrupt(&mut self, interrupt: Option<Arc<llkv_plan::Interrupt>>) {
        self.interrupt = interrupt;
    }

    /// Forbids this session's statements to read or write files
    /// (`read_parquet`, `read_csv`, `COPY`). No statement can turn access
    /// back on.
    pub fn disable_file_access(&mut self) {
        self.file_access = false;
    }

    /// Whether this session's statements may read and write files.
    pub fn file_access(&self) -> bool {
        self.file_access
    }

    /// Sets the session's dialect (as `PRAGMA dialect = ...` does).
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.dialect = dialect;
    }

    fn execute_statement(
        &mut self,
        stmt: &ast::Statement,
        params: &[Value],
        check_params: bool,
    ) -> Result<QueryResult> {
        if self.aborted {
            match stmt {
                ast::Statement::Commit { .. } => {
                    if let Some(txn) = self.end_transaction() {
                        self.engine.rollback(txn);
                    }
                    return Ok(other_result());
                }
                ast::Statement::Rollback { .. } => {}
                _ => {
                    return Err(Error::operational(
                        "current transaction is aborted, commands ignored until end of \
                         transaction block (ROLLBACK)",
                    ))
                }
            }
        }
        if let Some(result) = self.transaction_control(stmt)? {
            return Ok(result);
        }
        let writes = match stmt {
            ast::Statement::Query(q) => crate::dml_rewrite::is_data_change(q),
            ast::Statement::Explain { statement, .. } => match statement.as_ref() {
                ast::Statement::Query(q) => crate::dml_rewrite::is_data_change(q),
                _ => true,
            },
            ast::Statement::Copy { to, .. } => !to,
            _ => true,
        };
        if self.read_only && writes {
            return Err(Error::operational(
                "cannot change the database in a read-only transaction",
            ));
        }
        self.take_due_snapshot();
        let dialect = self.dialect;
        let result = self.with_transaction(|engine, txn| {
            if let (Dialect::DuckDb, ast::Statement::Insert(ins)) = (dialect, stmt) {
                if let Some(rewritten) = crate::dialect::duckdb_insert(txn.catalog(), ins)? {
                    let rewritten = ast::Statement::Insert(rewritten);
                    return run(engine, txn, &rewritten, params, check_params);
                }
            }
            run(engine, txn, stmt, params, check_params)
        });
        if result.is_err() && dialect == Dialect::DuckDb && self.txn.is_some() {
            self.aborted = true;
        }
        result
    }

    /// Appends Arrow `batches` (of `schema`) to `table`, creating it from
    /// the schema when absent and `create` is set: the bulk ingest path.
    /// Runs in the open transaction, or as its own autocommit transaction.
    pub fn insert_arrow(
        &mut self,
        table: &str,
        schema: &arrow_schema::Schema,
        batches: &[RecordBatch],
        create: bool,
    ) -> Result<u64> {
        if self.read_only {
            return Err(Error::operational(
                "cannot change the database in a read-only transaction",
            ));
        }
        self.take_due_snapshot();
        self.with_transaction(|_, txn| {
            crate::ingest::insert_batches(txn, table, schema, batches, create)
        })
    }

    /// Makes Arrow data (`batches` of `schema`) queryable as the read-only
    /// relation `name` on this connection, in place where the column types
    /// allow (Int64, Float64, Utf8, Boolean, Binary; other integer, float,
    /// string and binary types are widened). It shadows a table of the same
    /// name until [`Session::unregister`].
    pub fn register(
        &mut self,
        name: &str,
        schema: &arrow_schema::Schema,
        batches: &[RecordBatch],
    ) -> Result<()> {
        if name.trim().is_empty() {
            return Err(Error::programming("a registered name must not be empty"));
        }
        let (schema, batches) = crate::ingest::normalize(schema, batches)?;
        let mut relations = (*self.relations).clone();
        relations.insert(
            name.to_ascii_lowercase(),
            llkv_plan::Relation {
                name: name.to_owned(),
                schema,
                batches: batches.into(),
            },
        );
        self.relations = Arc::new(relations);
        Ok(())
    }

    /// Removes a registered relation; false when there was none.
    pub fn unregister(&mut self, name: &str) -> bool {
        let mut relations = (*self.relations).clone();
        let removed = relations.remove(&name.to_ascii_lowercase()).is_some();
        self.relations = Arc::new(relations);
        removed
    }

    /// Runs `f` in the open transaction (restoring it as it was when `f`
    /// fails: statement-level atomicity) or in an autocommit transaction.
    fn with_transaction<T>(
        &mut self,
        f: impl FnOnce(&Engine, &mut Transaction) -> Result<T>,
    ) -> Result<T> {
        let relations = self.relations.clone();
        let interrupt = self.interrupt.clone();
        let memory_limit = self.memory_limit;
        let file_access = self.file_access;
        let duckdb_dialect = self.dialect == Dialect::DuckDb;
        let f = move |engine: &Engine, txn: &mut Transaction| {
            txn.relations = relations;
            txn.interrupt = interrupt;
            txn.memory_limit = memory_limit;
            txn.file_access = file_access;
            txn.duckdb_dialect = duckdb_dialect;
            f(engine, txn)
        };
        match self.txn.take() {
            Some(mut txn) => {
                let before = txn.clone();
                let out = f(&self.engine, &mut txn);
                self.txn = Some(if out.is_ok() { txn } else { before });
                out
            }
            None => {
                let mut txn = self.engine.begin(false);
                match f(&self.engine, &mut txn) {
                    Ok(r) => {
                        self.engine.commit(txn)?;
                        Ok(r)
                    }
                    Err(e) => {
                        self.engine.rollback(txn);
                        Err(e)
                    }
                }
            }
        }
    }
}

impl Session {
    /// Runs BEGIN, COMMIT, ROLLBACK and the savepoint statements; None for
    /// any other statement.
    fn transaction_control(&mut self, stmt: &ast::Statement) -> Result<Option<QueryResult>> {
        match stmt {
            ast::Statement::StartTransaction { modes, .. } => {
                if self.txn.is_some() {
                    return Err(Error::operational(
                        "cannot start a transaction within a transaction",
                    ));
                }
                self.txn = Some(self.engine.begin(true));
                self.snapshot_due = true;
                self.read_only = modes.iter().any(|m| {
                    matches!(
                        m,
                        ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadOnly)
                    )
                });
            }
            ast::Statement::Commit { .. } => {
                let txn = self.end_transaction().ok_or_else(|| {
                    Error::operational("cannot commit - no transaction is active")
                })?;
                self.engine.commit(txn)?;
            }
            ast::Statement::Rollback {
                savepoint: None, ..
            } => {
                let txn = self.end_transaction().ok_or_else(|| {
                    Error::operational("cannot rollback - no transaction is active")
                })?;
                self.engine.rollback(txn);
            }
            ast::Statement::Vacuum(_) => {
                if self.txn.is_some() {
                    return Err(Error::operational(
                        "cannot VACUUM from within a transaction",
                    ));
                }
                self.engine.vacuum()?;
            }
            ast::Statement::Savepoint { name } => {
                if self.txn.is_none() {
                    self.txn = Some(self.engine.begin(true));
                    self.opened_by_savepoint = true;
                }
                self.take_due_snapshot();
                let state = self
                    .txn
                    .clone()
                    .ok_or_else(|| Error::internal("no transaction"))?;
                self.savepoints.push((name.value.clone(), state));
            }
            ast::Statement::ReleaseSavepoint { name } => {
                let at = self.savepoint_index(&name.value)?;
                self.savepoints.truncate(at);
                if at == 0 && self.opened_by_savepoint {
                    if let Some(txn) = self.end_transaction() {
                        self.engine.commit(txn)?;
                    }
                }
            }
            ast::Statement::Rollback {
                savepoint: Some(name),
                ..
            } => {
                let at = self.savepoint_index(&name.value)?;
                self.savepoints.truncate(at + 1);
                self.txn = Some(self.savepoints[at].1.clone());
                // As in PostgreSQL, rolling back to a savepoint recovers
                // an aborted transaction.
                self.aborted = false;
            }
            _ => return Ok(None),
        }
        Ok(Some(other_result()))
    }

    /// Position of the innermost savepoint named `name`.
    fn savepoint_index(&self, name: &str) -> Result<usize> {
        self.savepoints
            .iter()
            .rposition(|(n, _)| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::operational(format!("no such savepoint: {name}")))
    }

    /// Closes the explicit transaction's bookkeeping and hands it over.
    fn end_transaction(&mut self) -> Option<Transaction> {
        self.aborted = false;
        self.savepoints.clear();
        self.snapshot_due = false;
        self.opened_by_savepoint = false;
        self.read_only = false;
        self.txn.take()
    }

    /// Takes the snapshot of a transaction whose BEGIN has not run a
    /// statement yet.
    fn take_due_snapshot(&mut self) {
        if std::mem::take(&mut self.snapshot_due) {
            if let Some(txn) = &mut self.txn {
                self.engine.refresh_snapshot(txn);
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(txn) = self.txn.take() {
            self.engine.rollback(txn);
        }
    }
}

pub(crate) fn check_param_count(binder: &Binder<'_>, params: &[Value], check: bool) -> Result<()> {
    if check && binder.params_used() != params.len() {
        return Err(Error::programming(format!(
            "incorrect number of bindings supplied: the statement uses {}, and there are {} supplied",
            binder.params_used(),
            params.len()
        )));
    }
    Ok(())
}

pub(crate) fn run_query(
    txn: &Transaction,
    plan: &LogicalPlan,
    subqueries: &[LogicalPlan],
) -> Result<Vec<RecordBatch>> {
    let ctx = ExecContext::new(txn, subqueries);
    execute_collect(plan, &ctx, None)
}

/// Binds and plans a query (without data changes) in `txn`: the plan and
/// the plans of its subqueries.
pub(crate) fn bind_select(
    txn: &Transaction,
    q: &ast::Query,
    params: &[Value],
    check: bool,
) -> Result<(LogicalPlan, Vec<LogicalPlan>)> {
    let catalog = txn.catalog();
    let binder = Binder::new(catalog, params).for_transaction(txn);
    let plan = binder.bind_query(q)?;
    check_param_count(&binder, params, check)?;
    Ok(llkv_plan::prune::prune_query(
        plan,
        binder.take_subqueries(),
    ))
}

pub(crate) fn run(
    engine: &Engine,
    txn: &mut Transaction,
    stmt: &ast::Statement,
    params: &[Value],
    check: bool,
) -> Result<QueryResult> {
    match stmt {
        ast::Statement::Query(q) => {
            if let Some(change) = crate::dml_rewrite::with_data_change(q, txn, params)? {
                return run(engine, txn, &change, params, check);
            }
            let (plan, subs) = bind_select(txn, q, params, check)?;
            let batches = run_query(txn, &plan, &subs)?;
            Ok(QueryResult {
                schema: plan.schema(),
                batches,
                kind: StatementKind::Query,
            })
        }
        ast::Statement::Explain {
            describe_alias: ast::DescribeAlias::Explain,
            analyze,
            statement,
            estimate: false,
            format: None,
            options: None,
            ..
        } => crate::explain::explain(txn, statement, *analyze, params),
        ast::Statement::Explain { .. } => Err(Error::not_supported(
            "only EXPLAIN [ANALYZE] <query> is supported (no DESCRIBE of a query, \
             FORMAT or options yet)",
        )),
        ast::Statement::Insert(ins) => crate::dml::insert(engine, txn, ins, params, check),
        ast::Statement::Update(up) => crate::dml::update(engine, txn, up, params, check),
        ast::Statement::Delete(del) => crate::dml::delete(engine, txn, del, params, check),
        ast::Statement::Truncate(t) => {
            let mut removed = 0;
            for del in crate::dml_rewrite::truncate(t)? {
                let result = crate::dml::delete(engine, txn, &del, params, check)?;
                if let StatementKind::RowsAffected(n) = result.kind {
                    removed += n;
                }
            }
            count_result(removed)
        }
        ast::Statement::CreateTable(ct) => {
            engine.claim_name(txn, &crate::binder::catalog_name(&ct.name)?)?;
            crate::ddl::create_table(txn, ct, params)
        }
        ast::Statement::CreateTrigger(ct) => crate::trigger::create_trigger(txn, ct),
        ast::Statement::DropTrigger(dt) => crate::trigger::drop_trigger(txn, dt),
        ast::Statement::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => {
            if matches!(object_type, ast::ObjectType::Table) {
                for name in names {
                    engine.claim_name(txn, &crate::binder::catalog_name(name)?)?;
                }
            }
            crate::ddl::drop_objects(txn, object_type, *if_exists, *cascade, names)
        }
        ast::Statement::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => crate::schema::create_schema(txn, schema_name, *if_not_exists),
        ast::Statement::AlterTable(at) => {
            engine.claim_name(txn, &crate::binder::catalog_name(&at.name)?)?;
            crate::alter::alter_table(engine, txn, at)
        }
        ast::Statement::CreateIndex(ci) => crate::ddl::create_index(txn, ci),
        ast::Statement::CreateView(cv) => crate::ddl::create_view(txn, cv, params),
        ast::Statement::Copy {
            source,
            to,
            target,
            options,
            legacy_options,
            ..
        } => crate::copy::copy(
            txn,
            crate::copy::Copy {
                source,
                to: *to,
                target,
                options,
                legacy_options,
            },
            params,
            check,
        ),
        other => Err(Error::not_supported(format!(
            "statement not supported yet: {}",
            other.to_string().chars().take(60).collect::<String>()
        ))),
    }
}

/// Classifies an error for callers that only know kinds.
pub fn is_programming(e: &Error) -> bool {
    e.kind == ErrorKind::Programming
}
