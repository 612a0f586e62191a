//! Syntax-level rewrites of DML forms into ones the executor runs:
//! `DEFAULT` in VALUES and SET, `INSERT ... DEFAULT VALUES`,
//! `DELETE ... USING` and `TRUNCATE`.

use llkv_plan::{Error, Result};
use llkv_table::TableMeta;
use sqlparser::ast;

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

fn parse_query(sql: &str) -> Result<ast::Query> {
    match parse_statements(sql)?.pop() {
        Some(ast::Statement::Query(q)) => Ok(*q),
        _ => Err(Error::internal(format!("not a query: {sql}"))),
    }
}
