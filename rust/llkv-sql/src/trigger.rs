//! Row triggers (SQLite's model): `CREATE TRIGGER name [BEFORE|AFTER]
//! {INSERT|UPDATE [OF cols]|DELETE} ON table [FOR EACH ROW] [WHEN cond]
//! BEGIN stmt; ... END`.
//!
//! A trigger fires once per changed row, inside the statement that changed
//! it (so a failing trigger statement fails that statement). `OLD.col` and
//! `NEW.col` are replaced in the syntax tree by the row's values as
//! literals before the body is bound. As with SQLite's default
//! (`recursive_triggers` off), a trigger does not fire again while it is
//! already running; other triggers do nest.

use std::cell::RefCell;
use std::ops::ControlFlow;

use arrow_array::RecordBatch;
use llkv_executor::scalar::{value_at, value_to_bool};
use llkv_plan::{Error, Result, Value};
use llkv_runtime::{Engine, Transaction};
use llkv_table::{TableMeta, TriggerEvent, TriggerMeta, TriggerTiming};
use sqlparser::ast::{self, VisitMut, VisitorMut};

use crate::binder::object_name;
use crate::parse::parse_statements;
use crate::result::QueryResult;
use crate::session::{other_result, run};

thread_local! {
    /// Names of the triggers running on this thread, innermost last.
    static RUNNING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Nesting limit for triggers that fire other triggers.
const MAX_TRIGGER_DEPTH: usize = 32;

/// One row as a trigger sees it: a batch (table column order) and a row.
pub type RowRef<'a> = (&'a RecordBatch, usize);

/// `CREATE TRIGGER`: validates and records the trigger in the catalog.
pub fn create_trigger(txn: &mut Transaction, ct: &ast::CreateTrigger) -> Result<QueryResult> {
    let name = object_name(&ct.name);
    let key = name.to_ascii_lowercase();
    if txn.catalog().triggers.contains_key(&key) {
        return Err(Error::programming(format!("trigger {name} already exists")));
    }
    let table = crate::binder::catalog_name(&ct.table_name)?;
    let meta = txn.catalog().table(&table).cloned().ok_or_else(|| {
        if txn
            .catalog()
            .views
            .contains_key(&table.to_ascii_lowercase())
        {
            Error::not_supported("INSTEAD OF triggers on views are not supported yet")
        } else {
            Error::programming(format!("no such table: {table}"))
        }
    })?;
    let timing = match ct.period {
        None | Some(ast::TriggerPeriod::Before) => TriggerTiming::Before,
        Some(ast::TriggerPeriod::After) | Some(ast::TriggerPeriod::For) => TriggerTiming::After,
        Some(ast::TriggerPeriod::InsteadOf) => {
            return Err(Error::not_supported(
                "INSTEAD OF triggers are not supported yet",
            ))
        }
    };
    if matches!(
        ct.trigger_object,
        Some(ast::TriggerObjectKind::ForEach(
            ast::TriggerObject::Statement
        ))
    ) {
        return Err(Error::not_supported(
            "FOR EACH STATEMENT triggers are not supported yet",
        ));
    }
    let (event, update_of) = match ct.events.as_slice() {
        [ast::TriggerEvent::Insert] => (TriggerEvent::Insert, vec![]),
        [ast::TriggerEvent::Delete] => (TriggerEvent::Delete, vec![]),
        [ast::TriggerEvent::Update(cols)] => {
            let cols: Vec<String> = cols.iter().map(|c| c.value.clone()).collect();
            for c in &cols {
                if meta.column_index(c).is_none() {
                    return Err(Error::programming(format!("no such column: {c}")));
                }
            }
            (TriggerEvent::Update, cols)
        }
        _ => {
            return Err(Error::not_supported(
                "a trigger fires on exactly one of INSERT, UPDATE or DELETE",
            ))
        }
    };
    if ct.exec_body.is_some() {
        return Err(Error::not_supported(
            "EXECUTE FUNCTION triggers are not supported; write the statements in BEGIN ... END",
        ));
    }
    let statements = ct
        .statements
        .as_ref()
        .map(|s| s.statements().clone())
        .unwrap_or_default();
    if statements.is_empty() {
        return Err(Error::programming("a trigger needs at least one statement"));
    }
    for s in &statements {
        if !matches!(
            s,
            ast::Statement::Query(_)
                | ast::Statement::Insert(_)
                | ast::Statement::Update(_)
                | ast::Statement::Delete(_)
        ) {
            return Err(Error::programming(format!(
                "a trigger body holds only SELECT, INSERT, UPDATE and DELETE, not: {s}"
            )));
        }
    }
    let trigger = TriggerMeta {
        name,
        table: meta.name.clone(),
        timing,
        event,
        update_of,
        when: ct.condition.as_ref().map(|c| c.to_string()),
        body: statements.iter().map(|s| s.to_string()).collect(),
    };
    txn.catalog_mut().triggers.insert(key, trigger);
    Ok(other_result())
}

/// `DROP TRIGGER [IF EXISTS] name`.
pub fn drop_trigger(txn: &mut Transaction, dt: &ast::DropTrigger) -> Result<QueryResult> {
    let name = object_name(&dt.trigger_name);
    let removed = txn
        .catalog_mut()
        .triggers
        .remove(&name.to_ascii_lowercase())
        .is_some();
    if !removed && !dt.if_exists {
        return Err(Error::programming(format!("no such trigger: {name}")));
    }
    Ok(other_result())
}

/// The triggers that fire for `event` on `table`, split by timing; both
/// empty for a table without triggers (the common case, checked first).
pub fn triggers_for(
    txn: &Transaction,
    table: &TableMeta,
    event: TriggerEvent,
) -> (Vec<TriggerMeta>, Vec<TriggerMeta>) {
    let catalog = txn.catalog();
    if catalog.triggers.is_empty() {
        return (vec![], vec![]);
    }
    (
        catalog.triggers_on(&table.name, event, TriggerTiming::Before),
        catalog.triggers_on(&table.name, event, TriggerTiming::After),
    )
}

/// Runs `triggers` for one row change. `assigned` lists the columns an
/// UPDATE sets (for `UPDATE OF`).
pub fn fire(
    engine: &Engine,
    txn: &mut Transaction,
    table: &TableMeta,
    triggers: &[TriggerMeta],
    old: Option<RowRef<'_>>,
    new: Option<RowRef<'_>>,
    assigned: &[usize],
) -> Result<()> {
    for trigger in triggers {
        if !trigger.update_of.is_empty()
            && !trigger
                .update_of
                .iter()
                .any(|c| table.column_index(c).is_some_and(|i| assigned.contains(&i)))
        {
            continue;
        }
        let already_running = RUNNING.with(|r| {
            r.borrow()
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&trigger.name))
        });
        if already_running {
            continue;
        }
        if RUNNING.with(|r| r.borrow().len()) >= MAX_TRIGGER_DEPTH {
            return Err(Error::operational("too many levels of trigger recursion"));
        }
        RUNNING.with(|r| r.borrow_mut().push(trigger.name.clone()));
        let result = run_trigger(engine, txn, table, trigger, old, new);
        RUNNING.with(|r| r.borrow_mut().pop());
        result?;
    }
    Ok(())
}

fn run_trigger(
    engine: &Engine,
    txn: &mut Transaction,
    table: &TableMeta,
    trigger: &TriggerMeta,
    old: Option<RowRef<'_>>,
    new: Option<RowRef<'_>>,
) -> Result<()> {
    let mut rows = RowValues {
        table,
        old,
        new,
        error: None,
    };
    if let Some(when) = &trigger.when {
        let mut stmt = parse_one(&format!("SELECT {when}"))?;
        rows.substitute(&mut stmt)?;
        let result = run(engine, txn, &stmt, &[], false)?;
        let fires = result
            .batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .and_then(|b| value_to_bool(&value_at(b.column(0).as_ref(), 0)))
            .unwrap_or(false);
        if !fires {
            return Ok(());
        }
    }
    for text in &trigger.body {
        let mut stmt = parse_one(text)?;
        rows.substitute(&mut stmt)?;
        run(engine, txn, &stmt, &[], false)?;
    }
    Ok(())
}

fn parse_one(sql: &str) -> Result<ast::Statement> {
    parse_statements(sql)?
        .pop()
        .ok_or_else(|| Error::internal("empty trigger statement"))
}

/// Replaces `OLD.col` / `NEW.col` with the row's values.
struct RowValues<'a> {
    table: &'a TableMeta,
    old: Option<RowRef<'a>>,
    new: Option<RowRef<'a>>,
    error: Option<Error>,
}

impl RowValues<'_> {
    fn substitute(&mut self, stmt: &mut ast::Statement) -> Result<()> {
        self.error = None;
        let _ = stmt.visit(self);
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn value_of(&self, which: &str, column: &str) -> Result<Value> {
        let row = match which {
            "new" => self.new,
            _ => self.old,
        }
        .ok_or_else(|| {
            Error::programming(format!(
                "{} is not available in this trigger",
                which.to_ascii_uppercase()
            ))
        })?;
        let i = self
            .table
            .column_index(column)
            .ok_or_else(|| Error::programming(format!("no such column: {which}.{column}")))?;
        Ok(value_at(row.0.column(i).as_ref(), row.1))
    }
}

impl VisitorMut for RowValues<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut ast::Expr) -> ControlFlow<()> {
        if let ast::Expr::CompoundIdentifier(parts) = expr {
            if let [which, column] = parts.as_slice() {
                let which = which.value.to_ascii_lowercase();
                if which == "new" || which == "old" {
                    match self.value_of(&which, &column.value) {
                        Ok(v) => *expr = literal(&v),
                        Err(e) => {
                            self.error = Some(e);
                            return ControlFlow::Break(());
                        }
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// A value as a literal expression that binds back to the same value.
fn literal(v: &Value) -> ast::Expr {
    let value = match v {
        Value::Null => ast::Value::Null,
        Value::Integer(i) => ast::Value::Number(i.to_string(), false),
        Value::Real(f) if f.is_finite() => ast::Value::Number(format!("{f:?}"), false),
        Value::Real(_) => ast::Value::Null,
        Value::Text(s) => ast::Value::SingleQuotedString(s.to_string()),
        Value::Boolean(b) => ast::Value::Boolean(*b),
        Value::Blob(b) => {
            ast::Value::HexStringLiteral(b.iter().map(|x| format!("{x:02X}")).collect())
        }
        // `DATE '...'` / `TIMESTAMP '...'`, which parse back to the value.
        Value::Date(_) | Value::Timestamp(_) => {
            return crate::parse::parse_stored_expr(&v.to_string())
                .unwrap_or(ast::Expr::value(ast::Value::Null))
        }
        Value::Decimal(d) => {
            let text = format!("CAST('{d}' AS DECIMAL({},{}))", d.precision, d.scale);
            return crate::parse::parse_stored_expr(&text)
                .unwrap_or(ast::Expr::value(ast::Value::Null));
        }
    };
    ast::Expr::value(value)
}
