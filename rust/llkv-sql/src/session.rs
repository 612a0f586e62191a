//! Sessions: one connection's transaction state, and the execution of each
//! statement kind (queries, DML, DDL, transaction control).

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, Field, Schema};
use llkv_executor::{execute_collect, ExecContext};
use llkv_plan::{Error, ErrorKind, Expr, LogicalPlan, Result, Value};
use llkv_runtime::constraints::{find_collisions, has_duplicates, unique_violation, CollidesWith};
use llkv_runtime::{row_id_column, Engine, Transaction};
use llkv_table::{ColumnMeta, IndexMeta, SqlType, TableMeta, TriggerEvent, UniqueKey, ViewMeta};

use crate::trigger::{fire, triggers_for};
use sqlparser::ast;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::binder::{object_name, Binder, ExprContext, Scope, ScopeColumn};
use crate::coerce::coerce_for_column;
use crate::result::{QueryResult, StatementKind};

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

    /// Starts a new session (one connection's transaction state).
    pub fn session(&self) -> Session {
        Session {
            engine: self.engine.clone(),
            txn: None,
        }
    }
}

/// One connection's state: its open transaction, if any.
pub struct Session {
    engine: Arc<Engine>,
    txn: Option<Transaction>,
}

fn count_result(n: u64) -> Result<QueryResult> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::Int64,
        false,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![n as i64]))],
    )
    .map_err(|e| Error::internal(e.to_string()))?;
    Ok(QueryResult {
        schema,
        batches: vec![batch],
        kind: StatementKind::RowsAffected(n),
    })
}

pub(crate) fn other_result() -> QueryResult {
    QueryResult {
        schema: Arc::new(Schema::empty()),
        batches: vec![],
        kind: StatementKind::Other,
    }
}

/// Deepest expression nesting the parser accepts.
const PARSER_RECURSION_LIMIT: usize = 400;

/// One parsed statement: sqlparser's, or one of the few SQLite commands
/// sqlparser has no node for.
pub(crate) enum Command {
    /// Any statement sqlparser knows.
    Sql(Box<ast::Statement>),
    /// `REINDEX [name]`: rebuild the indexes of a table, or one index.
    Reindex(Option<ast::ObjectName>),
}

/// Parses SQL text: the generic grammar first, then SQLite's (which accepts
/// forms such as `x IN ()`).
pub(crate) fn parse_commands(sql: &str) -> Result<Vec<Command>> {
    let parse = |dialect: &dyn sqlparser::dialect::Dialect| {
        Parser::new(dialect)
            .with_recursion_limit(PARSER_RECURSION_LIMIT)
            .try_with_sql(sql)
            .and_then(|mut p| parse_command_list(&mut p))
    };
    match parse(&GenericDialect {}) {
        Ok(s) => Ok(s),
        Err(first) => parse(&sqlparser::dialect::SQLiteDialect {})
            .map_err(|_| Error::programming(format!("syntax error: {first}"))),
    }
}

/// Parses SQL text that must hold only statements sqlparser knows.
pub(crate) fn parse_statements(sql: &str) -> Result<Vec<ast::Statement>> {
    parse_commands(sql)?
        .into_iter()
        .map(|c| match c {
            Command::Sql(s) => Ok(*s),
            Command::Reindex(_) => Err(Error::programming("REINDEX is not allowed here")),
        })
        .collect()
}

/// `;`-separated commands, like sqlparser's own statement loop.
fn parse_command_list(
    p: &mut Parser<'_>,
) -> std::result::Result<Vec<Command>, sqlparser::parser::ParserError> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::Token;
    let mut out = Vec::new();
    loop {
        while p.consume_token(&Token::SemiColon) {}
        if p.peek_token_ref().token == Token::EOF {
            break;
        }
        if p.parse_keyword(Keyword::REINDEX) {
            let name = match p.peek_token_ref().token {
                Token::EOF | Token::SemiColon => None,
                _ => Some(p.parse_object_name(false)?),
            };
            out.push(Command::Reindex(name));
        } else {
            out.push(Command::Sql(Box::new(p.parse_statement()?)));
        }
        match p.peek_token_ref().token {
            Token::EOF | Token::SemiColon => {}
            _ => return p.expected_ref("end of statement", p.peek_token_ref()),
        }
    }
    Ok(out)
}

fn column_type(dt: &ast::DataType) -> SqlType {
    let name = dt.to_string().to_ascii_uppercase();
    if name.starts_with("BOOL") {
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
    }
}

impl Session {
    /// Executes one or more `;`-separated statements with `?` parameters and
    /// returns the result of the last one.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        let commands = parse_commands(sql)?;
        let single = commands.len() == 1;
        let mut last = other_result();
        for command in &commands {
            last = match command {
                Command::Sql(stmt) => self.execute_statement(stmt, params, single)?,
                Command::Reindex(name) => self.reindex(name.as_ref())?,
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
            None => catalog.tables.values().collect(),
            Some(name) => {
                let name = object_name(name);
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

    fn execute_statement(
        &mut self,
        stmt: &ast::Statement,
        params: &[Value],
        check_params: bool,
    ) -> Result<QueryResult> {
        match stmt {
            ast::Statement::StartTransaction { .. } => {
                if self.txn.is_some() {
                    return Err(Error::operational(
                        "cannot start a transaction within a transaction",
                    ));
                }
                self.txn = Some(self.engine.begin(true));
                return Ok(other_result());
            }
            ast::Statement::Commit { .. } => {
                let txn = self.txn.take().ok_or_else(|| {
                    Error::operational("cannot commit - no transaction is active")
                })?;
                self.engine.commit(txn)?;
                return Ok(other_result());
            }
            ast::Statement::Rollback {
                savepoint: None, ..
            } => {
                let txn = self.txn.take().ok_or_else(|| {
                    Error::operational("cannot rollback - no transaction is active")
                })?;
                self.engine.rollback(txn);
                return Ok(other_result());
            }
            _ => {}
        }
        match self.txn.take() {
            Some(mut txn) => {
                let before = txn.clone();
                let out = run(&self.engine, &mut txn, stmt, params, check_params);
                self.txn = Some(if out.is_ok() { txn } else { before });
                out
            }
            None => {
                let mut txn = self.engine.begin(false);
                match run(&self.engine, &mut txn, stmt, params, check_params) {
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

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(txn) = self.txn.take() {
            self.engine.rollback(txn);
        }
    }
}

fn check_param_count(binder: &Binder<'_>, params: &[Value], check: bool) -> Result<()> {
    if check && binder.params_used() != params.len() {
        return Err(Error::programming(format!(
            "incorrect number of bindings supplied: the statement uses {}, and there are {} supplied",
            binder.params_used(),
            params.len()
        )));
    }
    Ok(())
}

fn run_query(
    txn: &Transaction,
    plan: &LogicalPlan,
    subqueries: &[LogicalPlan],
) -> Result<Vec<RecordBatch>> {
    let ctx = ExecContext::new(txn, subqueries);
    execute_collect(plan, &ctx, None)
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
            let catalog = txn.catalog().clone();
            let binder = Binder::new(&catalog, params);
            let plan = binder.bind_query(q)?;
            check_param_count(&binder, params, check)?;
            let subs = binder.take_subqueries();
            let batches = run_query(txn, &plan, &subs)?;
            Ok(QueryResult {
                schema: plan.schema(),
                batches,
                kind: StatementKind::Query,
            })
        }
        ast::Statement::Insert(ins) => insert(engine, txn, ins, params, check),
        ast::Statement::Update(up) => update(engine, txn, up, params, check),
        ast::Statement::Delete(del) => delete(engine, txn, del, params, check),
        ast::Statement::CreateTable(ct) => create_table(txn, ct, params),
        ast::Statement::CreateTrigger(ct) => crate::trigger::create_trigger(txn, ct),
        ast::Statement::DropTrigger(dt) => crate::trigger::drop_trigger(txn, dt),
        ast::Statement::Drop {
            object_type,
            if_exists,
            names,
            ..
        } => drop_objects(txn, object_type, *if_exists, names),
        ast::Statement::CreateIndex(ci) => {
            let table = object_name(&ci.table_name);
            let meta = txn
                .catalog()
                .table(&table)
                .ok_or_else(|| Error::programming(format!("no such table: {table}")))?
                .clone();
            let mut columns = Vec::new();
            for c in &ci.columns {
                let name = c.column.expr.to_string();
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
        ast::Statement::CreateView(cv) => {
            let name = object_name(&cv.name);
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
                let catalog = txn.catalog().clone();
                let binder = Binder::new(&catalog, params);
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
        other => Err(Error::not_supported(format!(
            "statement not supported yet: {}",
            other.to_string().chars().take(60).collect::<String>()
        ))),
    }
}

/// The table column an `UPDATE`/upsert `SET col = ...` assigns.
pub(crate) fn assignment_column(meta: &TableMeta, a: &ast::Assignment) -> Result<usize> {
    let target = match &a.target {
        ast::AssignmentTarget::ColumnName(n) => object_name(n),
        ast::AssignmentTarget::Tuple(_) => return Err(Error::not_supported("tuple assignment")),
    };
    meta.column_index(&target)
        .ok_or_else(|| Error::programming(format!("no such column: {target}")))
}

pub(crate) fn table_scope(meta: &TableMeta, label: &str) -> Scope {
    Scope {
        columns: meta
            .columns
            .iter()
            .map(|c| ScopeColumn {
                table: Some(label.to_ascii_lowercase()),
                name: c.name.to_ascii_lowercase(),
                data_type: c.sql_type.arrow_type(),
            })
            .collect(),
    }
}

fn lookup_table(txn: &Transaction, name: &str) -> Result<TableMeta> {
    txn.catalog()
        .table(name)
        .cloned()
        .ok_or_else(|| Error::programming(format!("no such table: {name}")))
}

fn default_value(col: &ColumnMeta, params: &[Value]) -> Result<Value> {
    match &col.default {
        None => Ok(Value::Null),
        Some(sql) => {
            let expr = Parser::new(&GenericDialect {})
                .try_with_sql(sql)
                .and_then(|mut p| p.parse_expr())
                .map_err(|e| Error::internal(format!("bad stored default: {e}")))?;
            let catalog = llkv_table::Catalog::default();
            let binder = Binder::new(&catalog, params);
            let scope = Scope::default();
            let bound = binder.bind_expr(
                &expr,
                &mut ExprContext {
                    scope: &scope,
                    agg: None,
                },
            )?;
            let provider = llkv_runtime::Engine::open_in_memory()?.begin(false);
            let ctx = ExecContext::new(&provider, &[]);
            let arr =
                llkv_executor::eval::evaluate(&bound, &llkv_executor::empty_rows_batch(1), &ctx)?;
            Ok(llkv_executor::scalar::value_at(arr.as_ref(), 0))
        }
    }
}

fn insert(
    engine: &Engine,
    txn: &mut Transaction,
    ins: &ast::Insert,
    params: &[Value],
    check: bool,
) -> Result<QueryResult> {
    if ins.returning.is_some() {
        return Err(Error::not_supported(
            "INSERT ... RETURNING is not supported yet",
        ));
    }
    let on_conflict = conflict_action(ins)?;
    let name = match &ins.table {
        ast::TableObject::TableName(n) => object_name(n),
        _ => return Err(Error::not_supported("INSERT into a table function")),
    };
    let meta = lookup_table(txn, &name)?;
    let targets: Vec<usize> = if ins.columns.is_empty() {
        (0..meta.columns.len()).collect()
    } else {
        ins.columns
            .iter()
            .map(|c| {
                let cname = object_name(c);
                meta.column_index(&cname).ok_or_else(|| {
                    Error::programming(format!("table {} has no column named {cname}", meta.name))
                })
            })
            .collect::<Result<_>>()?
    };
    let source = ins
        .source
        .as_ref()
        .ok_or_else(|| Error::not_supported("INSERT without a source (DEFAULT VALUES)"))?;
    let catalog = txn.catalog().clone();
    let binder = Binder::new(&catalog, params);
    let plan = binder.bind_query(source)?;
    check_param_count(&binder, params, check)?;
    let width = plan.schema().fields().len();
    if width != targets.len() {
        return Err(Error::programming(format!(
            "table {} has {} columns but {} values were supplied",
            meta.name,
            targets.len(),
            width
        )));
    }
    let subs = binder.take_subqueries();
    let batches = run_query(txn, &plan, &subs)?;
    let defaults: Vec<Option<Value>> = meta
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if targets.contains(&i) {
                Ok(None)
            } else {
                default_value(c, &[]).map(Some)
            }
        })
        .collect::<Result<_>>()?;
    let schema = table_arrow_schema(&meta);
    let mut out = Vec::new();
    for b in batches {
        let n = b.num_rows();
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(meta.columns.len());
        for (i, col) in meta.columns.iter().enumerate() {
            let arr = match targets.iter().position(|t| *t == i) {
                Some(src) => b.column(src).clone(),
                None => llkv_executor::scalar::repeat_value(
                    defaults[i].as_ref().unwrap_or(&Value::Null),
                    &defaults[i].as_ref().unwrap_or(&Value::Null).data_type(),
                    n,
                )?,
            };
            cols.push(coerce_for_column(&arr, col, &meta.name)?);
        }
        out.push(
            RecordBatch::try_new_with_options(
                schema.clone(),
                cols,
                &RecordBatchOptions::new().with_row_count(Some(n)),
            )
            .map_err(|e| Error::internal(e.to_string()))?,
        );
    }
    let keys = txn.catalog().unique_keys(&meta);
    if let OnConflict::Update { target, action } = on_conflict {
        let label = ins
            .table_alias
            .as_ref()
            .map_or(meta.name.clone(), |a| a.alias.value.clone());
        let n = crate::upsert::upsert(
            engine,
            txn,
            &meta,
            &label,
            &keys,
            out,
            (target, action),
            params,
        )?;
        return count_result(n);
    }
    let (before, after) = triggers_for(txn, &meta, TriggerEvent::Insert);
    if !before.is_empty() || !after.is_empty() {
        let mut inserted = 0u64;
        for b in out {
            for i in 0..b.num_rows() {
                let row = b.slice(i, 1);
                fire(engine, txn, &meta, &before, None, Some((&row, 0)), &[])?;
                let row = if keys.is_empty() {
                    row
                } else {
                    resolve_conflicts(engine, txn, &meta, &keys, row, on_conflict)?
                };
                if row.num_rows() > 0 {
                    inserted += 1;
                    txn.insert(meta.id, row.clone());
                    fire(engine, txn, &meta, &after, None, Some((&row, 0)), &[])?;
                }
            }
        }
        return count_result(inserted);
    }
    let mut inserted = 0u64;
    for b in out {
        let b = if keys.is_empty() {
            b
        } else {
            resolve_conflicts(engine, txn, &meta, &keys, b, on_conflict)?
        };
        inserted += b.num_rows() as u64;
        if b.num_rows() > 0 {
            txn.insert(meta.id, b);
        }
    }
    count_result(inserted)
}

/// What INSERT does with a row that collides on a unique key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnConflict<'a> {
    /// Update the existing row (`ON CONFLICT ... DO UPDATE`).
    Update {
        /// The conflict target, if given.
        target: Option<&'a ast::ConflictTarget>,
        /// The SET list and WHERE clause.
        action: &'a ast::DoUpdate,
    },
    /// Fail the statement (IntegrityError).
    Abort,
    /// Skip the new row (`INSERT OR IGNORE`, `ON CONFLICT DO NOTHING`).
    Ignore,
    /// Delete the old rows, insert the new one (`INSERT OR REPLACE`).
    Replace,
}

fn conflict_action(ins: &ast::Insert) -> Result<OnConflict<'_>> {
    if ins.replace_into {
        return Ok(OnConflict::Replace);
    }
    if ins.ignore {
        return Ok(OnConflict::Ignore);
    }
    if let Some(on) = &ins.on {
        return match on {
            ast::OnInsert::OnConflict(ast::OnConflict {
                action: ast::OnConflictAction::DoNothing,
                ..
            }) => Ok(OnConflict::Ignore),
            ast::OnInsert::OnConflict(ast::OnConflict {
                conflict_target,
                action: ast::OnConflictAction::DoUpdate(action),
            }) => Ok(OnConflict::Update {
                target: conflict_target.as_ref(),
                action,
            }),
            _ => Err(Error::not_supported(
                "ON DUPLICATE KEY UPDATE is not supported; use ON CONFLICT ... DO UPDATE",
            )),
        };
    }
    Ok(match ins.or {
        None
        | Some(ast::SqliteOnConflict::Abort)
        | Some(ast::SqliteOnConflict::Fail)
        | Some(ast::SqliteOnConflict::Rollback) => OnConflict::Abort,
        Some(ast::SqliteOnConflict::Ignore) => OnConflict::Ignore,
        Some(ast::SqliteOnConflict::Replace) => OnConflict::Replace,
    })
}

/// Applies the unique keys to a batch about to be inserted: fails, drops
/// the colliding new rows, or deletes the rows they replace.
fn resolve_conflicts(
    engine: &Engine,
    txn: &mut Transaction,
    meta: &TableMeta,
    keys: &[UniqueKey],
    batch: RecordBatch,
    action: OnConflict<'_>,
) -> Result<RecordBatch> {
    let collisions = find_collisions(txn, meta, keys, &batch)?;
    if collisions.is_empty() {
        return Ok(batch);
    }
    match action {
        OnConflict::Update { .. } => Err(Error::internal("upserts run in upsert.rs")),
        OnConflict::Abort => Err(unique_violation(meta, &keys[collisions[0].key])),
        OnConflict::Ignore => {
            let mut keep = vec![true; batch.num_rows()];
            for c in &collisions {
                keep[c.new_row] = false;
            }
            let mask: arrow_array::BooleanArray = keep.into_iter().map(Some).collect();
            llkv_executor::eval::filter_batch(&batch, &mask)
        }
        OnConflict::Replace => {
            // A later new row replaces an earlier one with the same key.
            let mut keep = vec![true; batch.num_rows()];
            let mut old_rows = Vec::new();
            for c in &collisions {
                match c.with {
                    CollidesWith::Existing(id) => old_rows.push(id),
                    CollidesWith::Earlier(i) => keep[i] = false,
                }
            }
            old_rows.sort_unstable();
            old_rows.dedup();
            engine.delete_rows(txn, meta.id, &old_rows)?;
            let mask: arrow_array::BooleanArray = keep.into_iter().map(Some).collect();
            llkv_executor::eval::filter_batch(&batch, &mask)
        }
    }
}

/// Fails with an IntegrityError when `batch` (new versions of rows, already
/// deleted in their old form) collides on a unique key.
pub(crate) fn check_unique(
    txn: &Transaction,
    meta: &TableMeta,
    keys: &[UniqueKey],
    batch: &RecordBatch,
) -> Result<()> {
    match find_collisions(txn, meta, keys, batch)?.first() {
        Some(c) => Err(unique_violation(meta, &keys[c.key])),
        None => Ok(()),
    }
}

pub(crate) fn table_arrow_schema(meta: &TableMeta) -> Arc<Schema> {
    Arc::new(Schema::new(
        meta.columns
            .iter()
            .map(|c| Field::new(&c.name, c.sql_type.arrow_type(), true))
            .collect::<Vec<_>>(),
    ))
}

/// Scans `meta` with row ids and keeps rows matching `selection`.
fn matching_rows(
    txn: &Transaction,
    meta: &TableMeta,
    label: &str,
    selection: Option<&ast::Expr>,
    binder: &Binder<'_>,
) -> Result<(Vec<RecordBatch>, Scope)> {
    let scope = table_scope(meta, label);
    let predicate = match selection {
        Some(w) => Some(binder.bind_expr(
            w,
            &mut ExprContext {
                scope: &scope,
                agg: None,
            },
        )?),
        None => None,
    };
    let subs = binder.take_subqueries();
    let all: Vec<usize> = (0..meta.columns.len()).collect();
    let batches = txn.scan_table(meta.id, &all, true)?;
    let ctx = ExecContext::new(txn, &subs);
    let mut out = Vec::new();
    for b in batches {
        let b = match &predicate {
            Some(p) => {
                let mask = llkv_executor::eval::evaluate_predicate(p, &b, &ctx)?;
                llkv_executor::eval::filter_batch(&b, &mask)?
            }
            None => b,
        };
        if b.num_rows() > 0 {
            out.push(b);
        }
    }
    // Keep the subqueries for later expression evaluation by re-registering none;
    // assignments are bound after this and use their own subqueries.
    Ok((out, scope))
}

fn single_table(t: &ast::TableWithJoins) -> Result<(String, String)> {
    if !t.joins.is_empty() {
        return Err(Error::not_supported("UPDATE/DELETE with joins"));
    }
    match &t.relation {
        ast::TableFactor::Table { name, alias, .. } => {
            let n = object_name(name);
            let label = alias
                .as_ref()
                .map(|a| a.name.value.clone())
                .unwrap_or_else(|| n.clone());
            Ok((n, label))
        }
        _ => Err(Error::not_supported("UPDATE/DELETE of a non-table")),
    }
}

fn update(
    engine: &Engine,
    txn: &mut Transaction,
    up: &ast::Update,
    params: &[Value],
    check: bool,
) -> Result<QueryResult> {
    if up.from.is_some() || up.returning.is_some() {
        return Err(Error::not_supported(
            "UPDATE ... FROM/RETURNING is not supported yet",
        ));
    }
    let (name, label) = single_table(&up.table)?;
    let meta = lookup_table(txn, &name)?;
    let catalog = txn.catalog().clone();
    let binder = Binder::new(&catalog, params);
    let scope = table_scope(&meta, &label);
    // Bind assignments first so parameters are numbered in statement order.
    let mut assignments: Vec<(usize, Expr)> = Vec::new();
    for a in &up.assignments {
        let idx = assignment_column(&meta, a)?;
        let e = binder.bind_expr(
            &a.value,
            &mut ExprContext {
                scope: &scope,
                agg: None,
            },
        )?;
        assignments.push((idx, e));
    }
    let assign_subs = binder.take_subqueries();
    let (rows, _) = matching_rows(txn, &meta, &label, up.selection.as_ref(), &binder)?;
    check_param_count(&binder, params, check)?;
    if !assign_subs.is_empty() && assignments.iter().any(|(_, e)| has_subquery(e)) {
        // Subquery ids in assignments index `assign_subs`.
    }
    let schema = table_arrow_schema(&meta);
    let ctx = ExecContext::new(txn, &assign_subs);
    let mut ids = Vec::new();
    let mut new_batches = Vec::new();
    for b in &rows {
        let rid = row_id_column(b)?;
        ids.extend(rid.values().iter().copied());
        let mut cols = Vec::with_capacity(meta.columns.len());
        for (i, col) in meta.columns.iter().enumerate() {
            let arr = match assignments.iter().rev().find(|(t, _)| *t == i) {
                Some((_, e)) => llkv_executor::eval::evaluate(e, b, &ctx)?,
                None => b.column(i).clone(),
            };
            cols.push(coerce_for_column(&arr, col, &meta.name)?);
        }
        new_batches.push(
            RecordBatch::try_new_with_options(
                schema.clone(),
                cols,
                &RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
            )
            .map_err(|e| Error::internal(e.to_string()))?,
        );
    }
    drop(ctx);
    let keys = txn.catalog().unique_keys(&meta);
    let (before, after) = triggers_for(txn, &meta, TriggerEvent::Update);
    if !before.is_empty() || !after.is_empty() {
        let assigned: Vec<usize> = assignments.iter().map(|(i, _)| *i).collect();
        for (old, new) in rows.iter().zip(&new_batches) {
            let rid = row_id_column(old)?;
            for i in 0..old.num_rows() {
                let new_row = new.slice(i, 1);
                fire(
                    engine,
                    txn,
                    &meta,
                    &before,
                    Some((old, i)),
                    Some((&new_row, 0)),
                    &assigned,
                )?;
                engine.delete_rows(txn, meta.id, &[rid.value(i)])?;
                if !keys.is_empty() {
                    check_unique(txn, &meta, &keys, &new_row)?;
                }
                txn.insert(meta.id, new_row.clone());
                fire(
                    engine,
                    txn,
                    &meta,
                    &after,
                    Some((old, i)),
                    Some((&new_row, 0)),
                    &assigned,
                )?;
            }
        }
        return count_result(ids.len() as u64);
    }
    engine.delete_rows(txn, meta.id, &ids)?;
    if !keys.is_empty() && !new_batches.is_empty() {
        let all = arrow_select::concat::concat_batches(&schema, &new_batches)
            .map_err(|e| Error::internal(e.to_string()))?;
        check_unique(txn, &meta, &keys, &all)?;
    }
    for b in new_batches {
        txn.insert(meta.id, b);
    }
    count_result(ids.len() as u64)
}

fn has_subquery(e: &Expr) -> bool {
    let mut found = false;
    e.visit(&mut |x| found |= matches!(x, Expr::Subquery { .. }));
    found
}

fn delete(
    engine: &Engine,
    txn: &mut Transaction,
    del: &ast::Delete,
    params: &[Value],
    check: bool,
) -> Result<QueryResult> {
    if del.returning.is_some() || del.using.is_some() {
        return Err(Error::not_supported(
            "DELETE ... USING/RETURNING is not supported yet",
        ));
    }
    let from = match &del.from {
        ast::FromTable::WithFromKeyword(v) | ast::FromTable::WithoutKeyword(v) => v,
    };
    let t = from
        .first()
        .ok_or_else(|| Error::programming("DELETE needs a table"))?;
    let (name, label) = single_table(t)?;
    let meta = lookup_table(txn, &name)?;
    let catalog = txn.catalog().clone();
    let binder = Binder::new(&catalog, params);
    let (rows, _) = matching_rows(txn, &meta, &label, del.selection.as_ref(), &binder)?;
    check_param_count(&binder, params, check)?;
    let mut ids = Vec::new();
    for b in &rows {
        ids.extend(row_id_column(b)?.values().iter().copied());
    }
    let (before, after) = triggers_for(txn, &meta, TriggerEvent::Delete);
    if !before.is_empty() || !after.is_empty() {
        for old in &rows {
            let rid = row_id_column(old)?;
            for i in 0..old.num_rows() {
                fire(engine, txn, &meta, &before, Some((old, i)), None, &[])?;
                engine.delete_rows(txn, meta.id, &[rid.value(i)])?;
                fire(engine, txn, &meta, &after, Some((old, i)), None, &[])?;
            }
        }
        return count_result(ids.len() as u64);
    }
    engine.delete_rows(txn, meta.id, &ids)?;
    count_result(ids.len() as u64)
}

fn create_table(
    txn: &mut Transaction,
    ct: &ast::CreateTable,
    params: &[Value],
) -> Result<QueryResult> {
    let name = object_name(&ct.name);
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
        let catalog = txn.catalog().clone();
        let binder = Binder::new(&catalog, params);
        let plan = binder.bind_query(q)?;
        let subs = binder.take_subqueries();
        let batches = run_query(txn, &plan, &subs)?;
        for f in plan.schema().fields() {
            let sql_type = match f.data_type() {
                DataType::Int64 => SqlType::Integer,
                DataType::Utf8 => SqlType::Text,
                DataType::Boolean => SqlType::Boolean,
                _ => SqlType::Real,
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
        let mut meta = ColumnMeta {
            name: c.name.value.clone(),
            sql_type: column_type(&c.data_type),
            nullable: true,
            field_id: i as u32,
            primary_key: false,
            unique: false,
            default: None,
        };
        for opt in &c.options {
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
        columns.push(meta);
    }
    if columns.is_empty() {
        return Err(Error::programming("a table needs at least one column"));
    }
    let unique_constraints = table_constraints(&ct.constraints, &mut columns)?;
    let catalog = txn.catalog_mut();
    let id = catalog.next_table_id.max(1);
    catalog.next_table_id = id + 1;
    let next_field_id = columns.len() as u32;
    let meta = TableMeta {
        id,
        name: name.clone(),
        columns,
        next_field_id,
        next_row_id: 0,
        segments: vec![],
        unique_constraints,
    };
    catalog.tables.insert(key, meta.clone());
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

/// Applies table-level PRIMARY KEY and UNIQUE constraints: flags the
/// primary key's columns (NOT NULL) and returns the multi-column UNIQUE
/// constraints as field ids.
fn table_constraints(
    constraints: &[ast::TableConstraint],
    columns: &mut [ColumnMeta],
) -> Result<Vec<Vec<u32>>> {
    let positions = |cols: &[ast::IndexColumn], columns: &[ColumnMeta]| {
        cols.iter()
            .map(|c| {
                let name = c.column.expr.to_string();
                columns
                    .iter()
                    .position(|m| m.name.eq_ignore_ascii_case(&name))
                    .ok_or_else(|| Error::programming(format!("no such column: {name}")))
            })
            .collect::<Result<Vec<usize>>>()
    };
    let mut unique = Vec::new();
    let mut has_pk = columns.iter().any(|c| c.primary_key);
    for c in constraints {
        match c {
            ast::TableConstraint::PrimaryKey(pk) => {
                if has_pk {
                    return Err(Error::programming("table has more than one primary key"));
                }
                has_pk = true;
                for i in positions(&pk.columns, columns)? {
                    columns[i].primary_key = true;
                    columns[i].nullable = false;
                }
            }
            ast::TableConstraint::Unique(u) => {
                let cols = positions(&u.columns, columns)?;
                if let [single] = cols[..] {
                    columns[single].unique = true;
                } else {
                    unique.push(cols.iter().map(|i| columns[*i].field_id).collect());
                }
            }
            _ => {}
        }
    }
    Ok(unique)
}

fn drop_objects(
    txn: &mut Transaction,
    kind: &ast::ObjectType,
    if_exists: bool,
    names: &[ast::ObjectName],
) -> Result<QueryResult> {
    for n in names {
        let name = object_name(n);
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

/// Classifies an error for callers that only know kinds.
pub fn is_programming(e: &Error) -> bool {
    e.kind == ErrorKind::Programming
}
