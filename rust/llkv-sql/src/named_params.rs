//! Named parameters (`:name`, `$name`): rewritten to numbered
//! placeholders (`$1`, `$2`, ...) in order of first use, with the values
//! arranged to match, so the binder only ever sees positions.

use std::ops::ControlFlow;

use llkv_plan::{Error, Result, Value};
use sqlparser::ast::{self, VisitMut, VisitorMut};

use crate::parse::Command;

/// The name of a named placeholder, None for `?`, `?N` and `$N`.
fn placeholder_name(p: &str) -> Option<&str> {
    let rest = p.strip_prefix([':', '@', '$'])?;
    let first = rest.chars().next()?;
    (!first.is_ascii_digit()).then_some(rest)
}

struct Renumber<'a> {
    named: &'a [(String, Value)],
    order: Vec<String>,
    error: Option<Error>,
}

impl VisitorMut for Renumber<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut ast::Expr) -> ControlFlow<()> {
        let ast::Expr::Value(v) = expr else {
            return ControlFlow::Continue(());
        };
        let ast::Value::Placeholder(p) = &mut v.value else {
            return ControlFlow::Continue(());
        };
        let Some(name) = placeholder_name(p) else {
            self.error = Some(Error::programming(format!(
                "placeholder {p} is positional, but parameters were given by name"
            )));
            return ControlFlow::Break(());
        };
        if !self.named.iter().any(|(n, _)| n == name) {
            self.error = Some(Error::programming(format!(
                "you did not supply a value for parameter :{name}"
            )));
            return ControlFlow::Break(());
        }
        let index = match self.order.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.order.push(name.to_owned());
                self.order.len() - 1
            }
        };
        *p = format!("${}", index + 1);
        ControlFlow::Continue(())
    }
}

/// Names each unaliased result column that holds a named placeholder after
/// its text as written (`SELECT :a + 1` gives a column named `:a + 1`, as in
/// sqlite3), before the placeholders are renumbered.
struct KeepColumnNames;

impl VisitorMut for KeepColumnNames {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut ast::Query) -> ControlFlow<()> {
        if let ast::SetExpr::Select(select) = query.body.as_mut() {
            for item in &mut select.projection {
                if let ast::SelectItem::UnnamedExpr(expr) = item {
                    if has_named_placeholder(expr) {
                        let alias = ast::Ident::with_quote('"', expr.to_string());
                        *item = ast::SelectItem::ExprWithAlias {
                            expr: expr.clone(),
                            alias,
                        };
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Whether `expr` holds a `:name` (or `@name`, `$name`) placeholder.
fn has_named_placeholder(expr: &ast::Expr) -> bool {
    let mut found = false;
    let _ = ast::visit_expressions(expr, |e| {
        if let ast::Expr::Value(v) = e {
            if let ast::Value::Placeholder(p) = &v.value {
                found |= placeholder_name(p).is_some();
            }
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

/// Rewrites the named placeholders of `commands` to numbered ones and
/// returns the values in number order. Names not used are ignored.
pub(crate) fn renumber(commands: &mut [Command], named: &[(String, Value)]) -> Result<Vec<Value>> {
    let mut visitor = Renumber {
        named,
        order: Vec::new(),
        error: None,
    };
    for command in commands.iter_mut() {
        if let Command::Sql(stmt) = command {
            let _ = stmt.visit(&mut KeepColumnNames);
            let _ = stmt.visit(&mut visitor);
            if let Some(e) = visitor.error.take() {
                return Err(e);
            }
        }
    }
    Ok(visitor
        .order
        .iter()
        .filter_map(|name| named.iter().find(|(n, _)| n == name))
        .map(|(_, v)| v.clone())
        .collect())
}

/// Rewrites each anonymous `?` in `node` to `?N` in text order, N counting
/// on from `before` (the `?`s already seen), and returns the new count.
/// Done before an expression is copied by a rewrite, so that every copy
/// reads the parameter the original did.
///
/// Text order is the order of the placeholders' source positions when the
/// parser recorded them (sqlparser visits `OFFSET` after `LIMIT` and a
/// `WINDOW` clause before `QUALIFY`, whatever the text says); nodes without
/// positions are numbered in visit order.
pub(crate) fn number_anonymous<V: VisitMut>(node: &mut V, before: usize) -> usize {
    type Position = (u64, u64);
    struct Numbering {
        before: usize,
        seen: usize,
        /// Source positions of the `?`s, sorted (first pass), or None when
        /// some `?` has none.
        order: Option<Vec<Position>>,
        collecting: bool,
    }
    impl VisitorMut for Numbering {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut ast::Expr) -> ControlFlow<()> {
            let ast::Expr::Value(v) = expr else {
                return ControlFlow::Continue(());
            };
            let start = v.span.start;
            let position = (start.line > 0).then_some((start.line, start.column));
            let ast::Value::Placeholder(p) = &mut v.value else {
                return ControlFlow::Continue(());
            };
            if p != "?" {
                return ControlFlow::Continue(());
            }
            if self.collecting {
                match (position, &mut self.order) {
                    (Some(at), Some(order)) => order.push(at),
                    _ => self.order = None,
                }
                return ControlFlow::Continue(());
            }
            self.seen += 1;
            let rank = match (&self.order, position) {
                (Some(order), Some(at)) => order.partition_point(|x| *x < at) + 1,
                _ => self.seen,
            };
            *p = format!("?{}", self.before + rank);
            ControlFlow::Continue(())
        }
    }
    let mut numbering = Numbering {
        before,
        seen: 0,
        order: Some(Vec::new()),
        collecting: true,
    };
    let _ = node.visit(&mut numbering);
    if let Some(order) = &mut numbering.order {
        order.sort_unstable();
        order.dedup();
    }
    numbering.collecting = false;
    let _ = node.visit(&mut numbering);
    before + numbering.seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_commands;

    fn named(pairs: &[(&str, i64)]) -> Vec<(String, Value)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), Value::Integer(*v)))
            .collect()
    }

    #[test]
    fn names_become_numbers_in_order_of_first_use() {
        let mut commands = parse_commands("SELECT :b + :a + :b + $d").unwrap();
        let values = renumber(
            &mut commands,
            &named(&[("a", 1), ("b", 2), ("c", 3), ("d", 4), ("unused", 9)]),
        )
        .unwrap();
        assert_eq!(
            values,
            vec![Value::Integer(2), Value::Integer(1), Value::Integer(4)]
        );
        let Command::Sql(stmt) = &commands[0] else {
            panic!("not SQL")
        };
        // The unaliased column keeps its name as written.
        assert_eq!(
            stmt.to_string(),
            "SELECT $1 + $2 + $1 + $3 AS \":b + :a + :b + $d\""
        );
    }

    #[test]
    fn missing_names_and_positional_placeholders_are_errors() {
        let mut commands = parse_commands("SELECT :a + :missing").unwrap();
        let err = renumber(&mut commands, &named(&[("a", 1)])).unwrap_err();
        assert!(err.message.contains(":missing"), "{}", err.message);
        let mut commands = parse_commands("SELECT ?").unwrap();
        let err = renumber(&mut commands, &named(&[("a", 1)])).unwrap_err();
        assert!(err.message.contains("positional"), "{}", err.message);
    }
}
