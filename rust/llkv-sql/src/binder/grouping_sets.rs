//! `GROUP BY GROUPING SETS (...)`, `ROLLUP (...)` and `CUBE (...)`.
//!
//! A GROUP BY clause expands into a list of grouping sets: the cross
//! product of its items' sets, where a plain expression is one set holding
//! it, `ROLLUP (a, b)` is `(a, b), (a), ()` and `CUBE (a, b)` every subset.
//! The Aggregate node then groups by the distinct terms of all sets plus a
//! last placeholder term, [`GROUPING_ID`], through which each output row
//! says which set it belongs to (bit `j` set when term `j` is not grouped,
//! PostgreSQL's `GROUPING()` numbering read from the right).

use llkv_plan::{BinaryOp, Error, Expr, Result, Value};
use sqlparser::ast;

use super::expr::{AggContext, ExprContext};
use super::Binder;

/// The placeholder group term that the executor fills with the grouping
/// id; no bound column reference is ever this large.
pub(crate) const GROUPING_ID: Expr = Expr::Column(usize::MAX);

/// At most this many grouping sets (`CUBE` of 12 terms), so a long CUBE is
/// an error instead of an explosion.
const MAX_GROUPING_SETS: usize = 4096;

/// A GROUP BY clause's grouping sets, each a list of terms.
pub(super) type AstSets = Vec<Vec<ast::Expr>>;

/// The grouping sets of `items`, or `None` when they are plain expressions
/// (one set of all of them, the ordinary GROUP BY).
pub(super) fn expand(items: &[ast::Expr]) -> Result<Option<AstSets>> {
    let special = |e: &ast::Expr| {
        matches!(
            e,
            ast::Expr::Rollup(_) | ast::Expr::Cube(_) | ast::Expr::GroupingSets(_)
        )
    };
    if !items.iter().any(special) {
        return Ok(None);
    }
    let mut sets: AstSets = vec![vec![]];
    for item in items {
        let choices: AstSets = match item {
            ast::Expr::Rollup(lists) => (0..=lists.len())
                .rev()
                .map(|n| lists[..n].concat())
                .collect(),
            ast::Expr::Cube(lists) => {
                if lists.len() > 12 {
                    return Err(too_many());
                }
                // Every subset, largest first.
                let n = lists.len();
                let mut masks: Vec<u32> = (0..1u32 << n).collect();
                masks.sort_by_key(|m| std::cmp::Reverse((m.count_ones(), *m)));
                masks
                    .into_iter()
                    .map(|m| {
                        (0..n)
                            .filter(|i| m & (1 << (n - 1 - i)) != 0)
                            .flat_map(|i| lists[i].clone())
                            .collect()
                    })
                    .collect()
            }
            ast::Expr::GroupingSets(lists) => lists.clone(),
            plain => vec![vec![plain.clone()]],
        };
        if sets.len().saturating_mul(choices.len()) > MAX_GROUPING_SETS {
            return Err(too_many());
        }
        sets = sets
            .iter()
            .flat_map(|s| choices.iter().map(move |c| [s.clone(), c.clone()].concat()))
            .collect();
    }
    if sets.iter().flatten().any(special) {
        return Err(Error::not_supported(
            "ROLLUP/CUBE/GROUPING SETS nested in one another",
        ));
    }
    Ok(Some(sets))
}

fn too_many() -> Error {
    Error::programming(format!(
        "GROUP BY has more than {MAX_GROUPING_SETS} grouping sets"
    ))
}

/// `GROUP BY a, b WITH ROLLUP` / `WITH CUBE` (MySQL's spelling) as
/// `ROLLUP (a, b)` / `CUBE (a, b)`; other modifiers are refused.
pub(super) fn apply_modifiers(
    items: &[ast::Expr],
    modifiers: &[ast::GroupByWithModifier],
) -> Result<Vec<ast::Expr>> {
    match modifiers {
        [] => Ok(items.to_vec()),
        [ast::GroupByWithModifier::Rollup] => Ok(vec![ast::Expr::Rollup(
            items.iter().map(|e| vec![e.clone()]).collect(),
        )]),
        [ast::GroupByWithModifier::Cube] => Ok(vec![ast::Expr::Cube(
            items.iter().map(|e| vec![e.clone()]).collect(),
        )]),
        other => Err(Error::not_supported(format!(
            "GROUP BY modifier {} is not supported",
            other
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ))),
    }
}

/// Distinct bound terms of all sets (in first-seen order), and each set as
/// the indexes of its terms.
pub(super) fn index_sets(bound: Vec<Vec<Expr>>) -> (Vec<Expr>, Vec<Vec<usize>>) {
    let mut terms: Vec<Expr> = Vec::new();
    let sets = bound
        .into_iter()
        .map(|set| {
            let mut indexes: Vec<usize> = set
                .into_iter()
                .map(|e| match terms.iter().position(|t| *t == e) {
                    Some(i) => i,
                    None => {
                        terms.push(e);
                        terms.len() - 1
                    }
                })
                .collect();
            indexes.sort_unstable();
            indexes.dedup();
            indexes
        })
        .collect();
    (terms, sets)
}

impl Binder<'_> {
    /// `GROUPING(a, b, ...)`: bit `n-1-k` is set when argument `k` is not
    /// grouped in the row's grouping set (0 for an ordinary GROUP BY).
    pub(super) fn bind_grouping_call(
        &self,
        f: &ast::Function,
        ctx: &mut ExprContext<'_>,
    ) -> Result<Expr> {
        let ac: &AggContext = ctx
            .agg
            .as_deref()
            .ok_or_else(|| Error::programming("GROUPING() needs GROUP BY"))?;
        let args: Vec<&ast::Expr> = match &f.args {
            ast::FunctionArguments::List(l) => l
                .args
                .iter()
                .map(|a| match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => Ok(x),
                    _ => Err(Error::programming("GROUPING() takes grouping expressions")),
                })
                .collect::<Result<_>>()?,
            _ => vec![],
        };
        if args.is_empty() || args.len() > 62 {
            return Err(Error::programming(
                "GROUPING() takes between 1 and 62 grouping expressions",
            ));
        }
        let scope = ac.input.clone();
        let grouped = !ac.grouping_sets.is_empty();
        let mut terms = Vec::with_capacity(args.len());
        for a in &args {
            let bound = self.bind_expr(
                a,
                &mut ExprContext {
                    scope: &scope,
                    agg: None,
                },
            )?;
            let term = ac
                .group_by
                .iter()
                .position(|g| *g == bound)
                .ok_or_else(|| {
                    Error::programming(format!("GROUPING() argument {a} is not a GROUP BY term"))
                })?;
            terms.push(term);
        }
        if !grouped {
            return Ok(Expr::Literal(Value::Integer(0)));
        }
        let id = Expr::Column(ac.group_by.len() - 1);
        let n = terms.len();
        let bits = terms.iter().enumerate().map(|(k, &j)| {
            let bit = Expr::binary(
                BinaryOp::BitAnd,
                Expr::binary(
                    BinaryOp::ShiftRight,
                    id.clone(),
                    Expr::Literal(Value::Integer(j as i64)),
                ),
                Expr::Literal(Value::Integer(1)),
            );
            Expr::binary(
                BinaryOp::ShiftLeft,
                bit,
                Expr::Literal(Value::Integer((n - 1 - k) as i64)),
            )
        });
        Ok(bits
            .reduce(|a, b| Expr::binary(BinaryOp::BitOr, a, b))
            .unwrap_or(Expr::Literal(Value::Integer(0))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets_of(sql: &str) -> Vec<Vec<String>> {
        let select = format!("SELECT 1 FROM t GROUP BY {sql}");
        let stmt =
            &sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::GenericDialect {}, &select)
                .unwrap()[0];
        let ast::Statement::Query(q) = stmt else {
            panic!()
        };
        let ast::SetExpr::Select(s) = q.body.as_ref() else {
            panic!()
        };
        let ast::GroupByExpr::Expressions(items, _) = &s.group_by else {
            panic!()
        };
        expand(items)
            .unwrap()
            .unwrap()
            .iter()
            .map(|set| set.iter().map(|e| e.to_string()).collect())
            .collect()
    }

    #[test]
    fn rollup_drops_terms_from_the_right() {
        assert_eq!(
            sets_of("ROLLUP (a, b)"),
            vec![vec!["a", "b"], vec!["a"], vec![]] as Vec<Vec<&str>>
        );
    }

    #[test]
    fn cube_lists_every_subset() {
        assert_eq!(
            sets_of("CUBE (a, b)"),
            vec![vec!["a", "b"], vec!["a"], vec!["b"], vec![]] as Vec<Vec<&str>>
        );
    }

    #[test]
    fn items_combine_as_a_cross_product() {
        assert_eq!(
            sets_of("x, GROUPING SETS ((a), ())"),
            vec![vec!["x", "a"], vec!["x"]] as Vec<Vec<&str>>
        );
    }

    #[test]
    fn cube_of_many_terms_is_refused() {
        let terms: Vec<String> = (0..13).map(|i| format!("c{i}")).collect();
        let select = format!("SELECT 1 FROM t GROUP BY CUBE ({})", terms.join(", "));
        let stmt =
            &sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::GenericDialect {}, &select)
                .unwrap()[0];
        let ast::Statement::Query(q) = stmt else {
            panic!()
        };
        let ast::SetExpr::Select(s) = q.body.as_ref() else {
            panic!()
        };
        let ast::GroupByExpr::Expressions(items, _) = &s.group_by else {
            panic!()
        };
        assert!(expand(items).is_err());
    }
}
