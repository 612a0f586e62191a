//! Syntax-level rewrites of DML forms into ones the executor runs:
//! `DEFAULT` in VALUES and SET, `INSERT ... DEFAULT VALUES`,
//! `DELETE ... USING`, `UPDATE ... FROM`, `WITH` before a data change,
//! and `TRUNCATE`.

use std::ops::ControlFlow;

use std::collections::HashSet;

use llkv_plan::{Error, Result, Value};
use llkv_runtime::Transaction;
use llkv_table::TableMeta;
use sqlparser::ast::{self, VisitMut, VisitorMut};

use crate::binder::{object_name, parse_query, Binder};
use crate::parse::{parse_statements, parse_stored_expr};

/// True for the bare keyword `DEFAULT` where a value is expected.
fn is_default_keyword(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Identifier(id)
        if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default"))
}

/// The expression a column's DEFAULT stands for (NULL without one).
fn default_expr(meta: &TableMeta, column: usize) -> Result<ast::Expr> {
    match &meta.columns[column].default {
        Some(sql) => parse_stored_expr(sql),
        None => Ok(ast::Expr::value(ast::Value::Null)),
    }
}

/// The INSERT source with each `DEFAULT` in a VALUES list replaced by the
/// target column's default; `DEFAULT VALUES` (no source) becomes one row of
/// defaults for every column. `targets` are the inserted columns' positions
/// (all columns when the statement lists none). None: no rewrite needed.
pub(crate) fn insert_source(
    meta: &TableMeta,
    targets: &[usize],
    source: Option<&ast::Query>,
) -> Result<Option<ast::Query>> {
    let Some(source) = source else {
        let values: Vec<String> = (0..targets.len()).map(|_| "DEFAULT".to_owned()).collect();
        let query = parse_query(&format!("VALUES ({})", values.join(", ")))?;
        return insert_source(meta, targets, Some(&query));
    };
    let ast::SetExpr::Values(values) = source.body.as_ref() else {
        return Ok(None);
    };
    if !values
        .rows
        .iter()
        .any(|r| r.content.iter().any(is_default_keyword))
    {
        return Ok(None);
    }
    let mut rewritten = source.clone();
    if let ast::SetExpr::Values(values) = rewritten.body.as_mut() {
        for row in &mut values.rows {
            for (j, e) in row.content.iter_mut().enumerate() {
                if is_default_keyword(e) {
                    let column = targets.get(j).copied().ok_or_else(|| {
                        Error::programming(format!(
                            "table {} has {} columns but more values were supplied",
                            meta.name,
                            targets.len()
                        ))
                    })?;
                    *e = default_expr(meta, column)?;
                }
            }
        }
    }
    Ok(Some(rewritten))
}

/// `SET col = DEFAULT` as `SET col = <the column's default>`.
pub(crate) fn assignment_value(
    meta: &TableMeta,
    column: usize,
    value: &ast::Expr,
) -> Result<Option<ast::Expr>> {
    if is_default_keyword(value) {
        return default_expr(meta, column).map(Some);
    }
    Ok(None)
}

/// `DELETE FROM t USING a, b WHERE cond` as
/// `DELETE FROM t WHERE EXISTS (SELECT 1 FROM a, b WHERE cond)`: a row of
/// `t` goes when some combination of the USING rows satisfies the
/// condition, which refers to `t`'s columns as outer columns.
pub(crate) fn delete_using(del: &ast::Delete) -> Result<Option<ast::Delete>> {
    let Some(using) = &del.using else {
        return Ok(None);
    };
    let tables: Vec<String> = using.iter().map(|t| t.to_string()).collect();
    let condition = del
        .selection
        .as_ref()
        .map_or_else(|| "TRUE".to_owned(), |s| s.to_string());
    let subquery = parse_query(&format!(
        "SELECT 1 FROM {} WHERE {condition}",
        tables.join(", ")
    ))?;
    let mut out = del.clone();
    out.using = None;
    out.selection = Some(ast::Expr::Exists {
        subquery: Box::new(subquery),
        negated: false,
    });
    Ok(Some(out))
}

/// `UPDATE t SET c = e, ... FROM f WHERE cond` as
/// `UPDATE t SET c = (SELECT e FROM f WHERE cond LIMIT 1), ...
/// WHERE EXISTS (SELECT 1 FROM f WHERE cond)`: a row of `t` changes when
/// some row of `f` matches it, taking its new values from one matching row
/// (which one is unspecified when several match, as in PostgreSQL).
///
/// Inside those subqueries an unqualified name would mean a column of `f`
/// first, so names of `t`'s columns are qualified with `t`'s label first,
/// and a name that both `t` and `f` have is refused as ambiguous. `with`
/// holds the CTEs the FROM tables may name.
pub(crate) fn update_from(
    up: &ast::Update,
    txn: &Transaction,
    params: &[Value],
    with: Option<&ast::With>,
) -> Result<Option<ast::Update>> {
    let Some(from) = &up.from else {
        return Ok(None);
    };
    let (ast::UpdateTableFromKind::BeforeSet(tables) | ast::UpdateTableFromKind::AfterSet(tables)) =
        from;
    let mut out = up.clone();
    // The condition is copied into several subqueries: give each `?` its
    // number first so the copies read the same parameter.
    crate::named_params::number_anonymous(&mut out, 0);
    let from_sql = tables
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let (name, label) = crate::dml::single_table(&up.table)?;
    if tables
        .iter()
        .flat_map(table_labels)
        .any(|l| l.eq_ignore_ascii_case(&label))
    {
        return Err(Error::programming(format!(
            "table name {label} specified more than once in UPDATE ... FROM"
        )));
    }
    let meta = crate::dml::lookup_table(txn, &name)?;
    let mut probe = parse_query(&format!("SELECT * FROM {from_sql}"))?;
    probe.with = with.cloned();
    let catalog = txn.catalog_arc();
    let binder = Binder::new(&catalog, params).for_transaction(txn);
    let from_columns: HashSet<String> = binder
        .bind_query(&probe)?
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().to_ascii_lowercase())
        .collect();
    let mut qualify = Qualify {
        target: meta
            .columns
            .iter()
            .map(|c| c.name.to_ascii_lowercase())
            .collect(),
        from: from_columns,
        label: ast::Ident::with_quote('"', label),
        depth: 0,
        error: None,
    };
    for a in &mut out.assignments {
        let _ = a.value.visit(&mut qualify);
    }
    if let Some(selection) = &mut out.selection {
        let _ = selection.visit(&mut qualify);
    }
    if let Some(e) = qualify.error {
        return Err(e);
    }
    let condition = out
        .selection
        .as_ref()
        .map_or_else(|| "TRUE".to_owned(), |s| s.to_string());
    for a in &mut out.assignments {
        if is_default_keyword(&a.value) {
            continue;
        }
        let value = parse_query(&format!(
            "SELECT {} FROM {from_sql} WHERE {condition} LIMIT 1",
            a.value
        ))?;
        a.value = ast::Expr::Subquery(Box::new(value));
    }
    out.from = None;
    out.selection = Some(ast::Expr::Exists {
        subquery: Box::new(parse_query(&format!(
            "SELECT 1 FROM {from_sql} WHERE {condition}"
        ))?),
        negated: false,
    });
    Ok(Some(out))
}

/// The labels (alias, else name) a FROM item brings into scope.
fn table_labels(t: &ast::TableWithJoins) -> Vec<String> {
    let label = |f: &ast::TableFactor| match f {
        ast::TableFactor::Table { name, alias, .. } => Some(
            alias
                .as_ref()
                .map_or_else(|| object_name(name), |a| a.name.value.clone()),
        ),
        ast::TableFactor::Derived { alias, .. } => alias.as_ref().map(|a| a.name.value.clone()),
        _ => None,
    };
    std::iter::once(&t.relation)
        .chain(t.joins.iter().map(|j| &j.relation))
        .filter_map(label)
        .collect()
}

/// Qualifies the bare names of the target's columns in an UPDATE ... FROM
/// expression (outside nested subqueries, which have their own scope).
struct Qualify {
    target: HashSet<String>,
    from: HashSet<String>,
    label: ast::Ident,
    depth: usize,
    error: Option<Error>,
}

impl VisitorMut for Qualify {
    type Break = ();

    fn pre_visit_query(&mut self, _: &mut ast::Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut ast::Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut ast::Expr) -> ControlFlow<()> {
        let ast::Expr::Identifier(id) = expr else {
            return ControlFlow::Continue(());
        };
        let name = id.value.to_ascii_lowercase();
        if self.depth > 0 || !self.target.contains(&name) {
            return ControlFlow::Continue(());
        }
        if self.from.contains(&name) {
            self.error = Some(Error::programming(format!(
                "ambiguous column name: {} (a column of both the updated table and \
                 the FROM tables; qualify it)",
                id.value
            )));
            return ControlFlow::Break(());
        }
        *expr = ast::Expr::CompoundIdentifier(vec![self.label.clone(), id.clone()]);
        ControlFlow::Continue(())
    }
}

/// True when `query` is `[WITH ...] INSERT/UPDATE/DELETE`.
pub(crate) fn is_data_change(query: &ast::Query) -> bool {
    matches!(
        query.body.as_ref(),
        ast::SetExpr::Insert(_) | ast::SetExpr::Update(_) | ast::SetExpr::Delete(_)
    )
}

/// `WITH c AS (...) INSERT/UPDATE/DELETE ...` as the data change alone,
/// with the common table expressions attached to every query inside it
/// (its subqueries and INSERT source), where a query's own CTEs of the same
/// name take precedence. `UPDATE ... FROM` and `DELETE ... USING` are
/// rewritten first, so that their tables may name the CTEs. None when
/// `query` is not a data change.
pub(crate) fn with_data_change(
    query: &ast::Query,
    txn: &Transaction,
    params: &[Value],
) -> Result<Option<ast::Statement>> {
    if !is_data_change(query) {
        return Ok(None);
    }
    // The CTEs are copied into several queries: number the `?`s of the
    // whole text first, so that each copy reads the parameter it did.
    let mut query = query.clone();
    crate::named_params::number_anonymous(&mut query, 0);
    let with = query.with.as_ref();
    let mut change = match query.body.as_ref() {
        ast::SetExpr::Update(ast::Statement::Update(up)) => {
            match update_from(up, txn, params, with)? {
                Some(rewritten) => ast::Statement::Update(rewritten),
                None => ast::Statement::Update(up.clone()),
            }
        }
        ast::SetExpr::Delete(ast::Statement::Delete(del)) => match delete_using(del)? {
            Some(rewritten) => ast::Statement::Delete(rewritten),
            None => ast::Statement::Delete(del.clone()),
        },
        ast::SetExpr::Insert(s) | ast::SetExpr::Update(s) | ast::SetExpr::Delete(s) => s.clone(),
        _ => return Ok(None),
    };
    if let Some(with) = &query.with {
        // After a query's children, so the attached CTEs are not visited
        // (and attached to) in turn.
        struct Attach<'a>(&'a ast::With);
        impl VisitorMut for Attach<'_> {
            type Break = ();
            fn post_visit_query(&mut self, q: &mut ast::Query) -> ControlFlow<()> {
                match &mut q.with {
                    None => q.with = Some(self.0.clone()),
                    Some(own) => {
                        own.recursive |= self.0.recursive;
                        let outer = self.0.cte_tables.iter().filter(|c| {
                            !own.cte_tables.iter().any(|o| {
                                o.alias.name.value.eq_ignore_ascii_case(&c.alias.name.value)
                            })
                        });
                        let mut tables: Vec<ast::Cte> = outer.cloned().collect();
                        tables.append(&mut own.cte_tables);
                        own.cte_tables = tables;
                    }
                }
                ControlFlow::Continue(())
            }
        }
        let _ = change.visit(&mut Attach(with));
    }
    Ok(Some(change))
}

/// `TRUNCATE [TABLE] a, b` as one `DELETE FROM` per table.
pub(crate) fn truncate(t: &ast::Truncate) -> Result<Vec<ast::Delete>> {
    t.table_names
        .iter()
        .map(
            |target| match parse_statements(&format!("DELETE FROM {}", target.name))?.pop() {
                Some(ast::Statement::Delete(d)) => Ok(d),
                _ => Err(Error::internal("TRUNCATE rewrite")),
            },
        )
        .collect()
}
