//! Quantified comparisons: `x op ANY (subquery)` / `x op ALL (subquery)`,
//! also with a row value on the left (`(a, b) < ANY (SELECT c, d ...)`),
//! and comparisons of two row values (`(a, b) < (c, d)`).
//!
//! Each becomes a scalar subquery that folds the comparison of every row
//! into one code (2 TRUE, 1 NULL, 0 FALSE), which gives SQL's three-valued
//! answer: ANY is TRUE when some comparison is TRUE, else NULL when some is
//! NULL, else FALSE (FALSE over no rows); ALL is FALSE when some comparison
//! is FALSE, else NULL when some is NULL, else TRUE (TRUE over no rows).

use llkv_plan::{Error, Result};
use sqlparser::ast;

use super::from::parse_query;
use super::Binder;

/// Name of the derived table holding the subquery's rows.
const ROWS: &str = "__llkv_quantified";

impl Binder<'_> {
    /// The scalar-subquery form of `left op ANY|ALL (right)` (see the
    /// module docs), ready to bind.
    pub(super) fn quantified_comparison(
        &self,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
        all: bool,
    ) -> Result<ast::Expr> {
        let ast::Expr::Subquery(query) = right else {
            return Err(Error::not_supported(format!(
                "{} needs a subquery on its right: {right}",
                if all { "ALL" } else { "ANY" }
            )));
        };
        let op = comparison_operator(op)?;
        // The left side is copied into the comparison several times: give
        // its `?`s their numbers now so that every copy reads the same one.
        let mut left = row_constructor(left).unwrap_or_else(|| left.clone());
        let seen = crate::named_params::number_anonymous(&mut left, self.param_index.get());
        self.param_index.set(seen);
        let items: Vec<String> = match &left {
            ast::Expr::Tuple(items) => items.iter().map(|e| format!("({e})")).collect(),
            other => vec![format!("({other})")],
        };
        let columns: Vec<String> = (1..=items.len()).map(|i| format!("{ROWS}_{i}")).collect();
        let cmp = row_comparison(&items, &columns, op);
        let (fold, verdicts) = if all {
            ("min", "WHEN 0 THEN FALSE WHEN 1 THEN NULL ELSE TRUE")
        } else {
            ("max", "WHEN 2 THEN TRUE WHEN 1 THEN NULL ELSE FALSE")
        };
        let sql = format!(
            "SELECT CASE (SELECT {fold}(CASE {cmp} WHEN TRUE THEN 2 WHEN FALSE THEN 0 ELSE 1 END) \
             FROM ({query}) AS {ROWS}({})) {verdicts} END",
            columns.join(", ")
        );
        let mut rewritten = parse_query(&sql)?;
        match rewritten.body.as_mut() {
            ast::SetExpr::Select(select) => match select.projection.pop() {
                Some(ast::SelectItem::UnnamedExpr(e)) => Ok(e),
                _ => Err(Error::internal("ANY/ALL rewrite")),
            },
            _ => Err(Error::internal("ANY/ALL rewrite")),
        }
    }
}

/// `ROW(a, b, ...)` (a call of a function named ROW) as the row value
/// `(a, b, ...)`; None for any other expression.
pub(super) fn row_constructor(e: &ast::Expr) -> Option<ast::Expr> {
    let ast::Expr::Function(f) = e else {
        return None;
    };
    if !crate::binder::object_name(&f.name).eq_ignore_ascii_case("row") {
        return None;
    }
    let ast::FunctionArguments::List(list) = &f.args else {
        return None;
    };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
        return None;
    }
    let items = list
        .args
        .iter()
        .map(|a| match a {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ast::Expr::Tuple(items))
}

impl Binder<'_> {
    /// `(a, b, ...) op (c, d, ...)` as the expression comparing the fields
    /// (see [`row_comparison`]), ready to bind.
    pub(super) fn row_value_comparison(
        &self,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
    ) -> Result<ast::Expr> {
        let op = comparison_operator(op)?;
        let (mut left, mut right) = (left.clone(), right.clone());
        let seen = crate::named_params::number_anonymous(&mut left, self.param_index.get());
        let seen = crate::named_params::number_anonymous(&mut right, seen);
        self.param_index.set(seen);
        let (ast::Expr::Tuple(l), ast::Expr::Tuple(r)) = (&left, &right) else {
            return Err(Error::internal("row value comparison without row values"));
        };
        if l.len() != r.len() {
            return Err(Error::programming(format!(
                "row values of different sizes compared: {} and {}",
                l.len(),
                r.len()
            )));
        }
        let fields = |items: &[ast::Expr]| -> Vec<String> {
            items.iter().map(|e| format!("({e})")).collect()
        };
        crate::parse::parse_stored_expr(&row_comparison(&fields(l), &fields(r), op))
    }
}

/// The SQL spelling of a comparison operator; other operators cannot
/// compare row values or quantify over a subquery.
fn comparison_operator(op: &ast::BinaryOperator) -> Result<&'static str> {
    Ok(match op {
        ast::BinaryOperator::Eq => "=",
        ast::BinaryOperator::NotEq => "<>",
        ast::BinaryOperator::Lt => "<",
        ast::BinaryOperator::LtEq => "<=",
        ast::BinaryOperator::Gt => ">",
        ast::BinaryOperator::GtEq => ">=",
        other => {
            return Err(Error::not_supported(format!(
                "operator {other} with row values or ANY/ALL"
            )))
        }
    })
}

/// SQL text comparing the row `left` with the row `right` by `op`, with the
/// standard's meaning for row values: `=` all fields equal, `<>` some field
/// differs, and the orderings lexicographic (the first unequal field
/// decides; a NULL there makes the answer NULL).
fn row_comparison(left: &[String], right: &[String], op: &str) -> String {
    match op {
        "=" | "<>" => {
            let join = if op == "=" { " AND " } else { " OR " };
            let parts: Vec<String> = left
                .iter()
                .zip(right)
                .map(|(l, r)| format!("{l} {op} {r}"))
                .collect();
            format!("({})", parts.join(join))
        }
        _ => {
            let strict = &op[..1];
            let n = left.len();
            let mut text = format!("{} {op} {}", left[n - 1], right[n - 1]);
            for i in (0..n - 1).rev() {
                text = format!(
                    "{l} {strict} {r} OR ({l} = {r} AND ({text}))",
                    l = left[i],
                    r = right[i]
                );
            }
            format!("({text})")
        }
    }
}
