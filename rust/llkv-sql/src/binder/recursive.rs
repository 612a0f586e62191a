//! Binding `WITH RECURSIVE`: a CTE whose query is `anchor UNION [ALL]
//! recursive`, where the recursive term reads the CTE itself, becomes a
//! [`LogicalPlan::RecursiveCte`]; its self-references become
//! [`LogicalPlan::WorkingTable`]s.

use std::ops::ControlFlow;

use arrow_schema::{DataType, SchemaRef};
use llkv_plan::{Error, LogicalPlan, Result};
use sqlparser::ast;

use super::{object_name, schema_of, Binder};

/// A bound recursive CTE, or the working table of one being bound.
#[derive(Clone)]
pub(super) enum BoundCte {
    /// The finished CTE: references to it run its plan.
    Plan(LogicalPlan),
    /// Inside its own recursive term: references read the working table.
    Working { id: usize, schema: SchemaRef },
}

/// True when `node` reads a relation called `name`.
fn reads<V: ast::Visit>(node: &V, name: &str) -> bool {
    ast::visit_relations(node, |relation| {
        if object_name(relation).eq_ignore_ascii_case(name) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

/// True when a subquery inside an expression of `term` reads `name`. Such a
/// subquery would be evaluated once, not once per round, so SQLite and
/// PostgreSQL refuse it, and so do we.
fn reads_in_subquery(term: &ast::SetExpr, name: &str) -> bool {
    ast::visit_expressions(term, |e| match e {
        ast::Expr::Subquery(q)
        | ast::Expr::Exists { subquery: q, .. }
        | ast::Expr::In {
            target: ast::InTarget::Subquery(q),
            ..
        } if reads(q.as_ref(), name) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

impl Binder<'_> {
    /// Binds `cte` of a `WITH RECURSIVE` clause when it refers to itself;
    /// None for an ordinary CTE.
    pub(super) fn bind_recursive_cte(&self, cte: &ast::Cte) -> Result<Option<LogicalPlan>> {
        let name = cte.alias.name.value.clone();
        let query = &cte.query;
        let ast::SetExpr::SetOperation {
            op: ast::SetOperator::Union,
            set_quantifier,
            left,
            right,
        } = query.body.as_ref()
        else {
            return if reads(query.body.as_ref(), &name) {
                Err(Error::programming(format!(
                    "recursive CTE {name} must be of the form: anchor UNION [ALL] recursive term"
                )))
            } else {
                Ok(None)
            };
        };
        if reads(left.as_ref(), &name) {
            return Err(Error::programming(format!(
                "the first term of recursive CTE {name} must not refer to {name}"
            )));
        }
        if !reads(right.as_ref(), &name) {
            return Ok(None);
        }
        if reads_in_subquery(right, &name) {
            return Err(Error::programming(format!(
                "recursive reference to {name} must not appear within a subquery"
            )));
        }
        if query.order_by.is_some() {
            return Err(Error::not_supported(format!(
                "ORDER BY in recursive CTE {name}"
            )));
        }
        let (limit, offset) = self.bind_limit(query)?;
        if limit.is_some() && self.duckdb_rules {
            // SQLite stops the recursion at the LIMIT; DuckDB refuses it.
            return Err(Error::programming(format!(
                "LIMIT in recursive CTE {name} is not allowed in the duckdb dialect"
            )));
        }
        if offset > 0 {
            return Err(Error::not_supported(format!(
                "OFFSET in recursive CTE {name}"
            )));
        }
        let all = match set_quantifier {
            ast::SetQuantifier::All => true,
            ast::SetQuantifier::None | ast::SetQuantifier::Distinct => false,
            other => {
                return Err(Error::not_supported(format!(
                    "UNION {other} in recursive CTE {name}"
                )))
            }
        };
        let anchor = self.bind_set_expr(left)?;
        let anchor_schema = anchor.schema();
        let names: Vec<String> = if cte.alias.columns.is_empty() {
            anchor_schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        } else if cte.alias.columns.len() == anchor_schema.fields().len() {
            cte.alias
                .columns
                .iter()
                .map(|c| c.name.value.clone())
                .collect()
        } else {
            return Err(Error::programming(format!(
                "recursive CTE {name} has {} values for {} columns",
                anchor_schema.fields().len(),
                cte.alias.columns.len()
            )));
        };
        let types: Vec<DataType> = anchor_schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                // An all-NULL anchor column (`SELECT NULL`) has no type of
                // its own: assume INTEGER, the common case of a counter.
                DataType::Null => DataType::Int64,
                t => t.clone(),
            })
            .collect();
        let schema = schema_of(&names, &types);
        let id = self.next_cte_id.get();
        self.next_cte_id.set(id + 1);
        self.recursive_ctes.borrow_mut().push((
            name.to_ascii_lowercase(),
            BoundCte::Working {
                id,
                schema: schema.clone(),
            },
        ));
        let recursive = self.bind_set_expr(right);
        self.recursive_ctes.borrow_mut().pop();
        let recursive = recursive?;
        if recursive.schema().fields().len() != names.len() {
            return Err(Error::programming(format!(
                "the terms of recursive CTE {name} have different numbers of columns"
            )));
        }
        Ok(Some(LogicalPlan::RecursiveCte {
            id,
            name,
            anchor: Box::new(anchor),
            recursive: Box::new(recursive),
            all,
            limit,
            schema,
        }))
    }

    /// The plan a reference to `name` reads when it names a recursive CTE
    /// in scope (or, inside its recursive term, its working table).
    pub(super) fn find_recursive_cte(&self, name: &str) -> Option<LogicalPlan> {
        let ctes = self.recursive_ctes.borrow();
        let (_, bound) = ctes
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        Some(match bound {
            BoundCte::Plan(plan) => plan.clone(),
            BoundCte::Working { id, schema } => LogicalPlan::WorkingTable {
                id: *id,
                schema: schema.clone(),
            },
        })
    }
}
