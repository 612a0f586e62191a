//! `RETURNING` on INSERT, UPDATE and DELETE: the statement's result is a
//! projection of the rows it wrote (new versions for INSERT and UPDATE, the
//! removed rows for DELETE), in the order it wrote them.

use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Field, Schema};
use llkv_executor::eval::{arrow_err, evaluate};
use llkv_executor::ExecContext;
use llkv_plan::{Error, Expr, LogicalPlan, Result};
use llkv_runtime::Transaction;
use llkv_table::TableMeta;
use sqlparser::ast;

use crate::binder::query::output_name;
use crate::binder::{object_name, Binder, ExprContext};
use crate::dml::table_scope;
use crate::result::{QueryResult, StatementKind};

/// A bound RETURNING list.
pub(crate) struct Returning {
    exprs: Vec<Expr>,
    names: Vec<String>,
    subqueries: Vec<LogicalPlan>,
}

/// Binds a RETURNING list against the written table, known as `label`.
/// `binder` is the statement's binder, so `?` parameters keep their
/// statement order.
pub(crate) fn bind(
    binder: &Binder<'_>,
    meta: &TableMeta,
    label: &str,
    items: &[ast::SelectItem],
) -> Result<Returning> {
    let scope = table_scope(meta, label);
    let mut exprs = Vec::new();
    let mut names = Vec::new();
    let all_columns = |exprs: &mut Vec<Expr>, names: &mut Vec<String>| {
        for (i, c) in meta.columns.iter().enumerate() {
            exprs.push(Expr::Column(i));
            names.push(c.name.clone());
        }
    };
    for item in items {
        match item {
            ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
                let bound = binder.bind_expr(
                    e,
                    &mut ExprContext {
                        scope: &scope,
                        agg: None,
                    },
                )?;
                exprs.push(bound);
                names.push(match item {
                    ast::SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
                    _ => output_name(e),
                });
            }
            ast::SelectItem::Wildcard(_) => all_columns(&mut exprs, &mut names),
            ast::SelectItem::QualifiedWildcard(
                ast::SelectItemQualifiedWildcardKind::ObjectName(n),
                _,
            ) if object_name(n).eq_ignore_ascii_case(label) => all_columns(&mut exprs, &mut names),
            other => {
                return Err(Error::programming(format!(
                    "{other} is not supported in the RETURNING list"
                )))
            }
        }
    }
    Ok(Returning {
        exprs,
        names,
        subqueries: binder.take_subqueries(),
    })
}

impl Returning {
    /// The result rows: the list evaluated over each written row (batches
    /// starting with the table's columns).
    pub(crate) fn result(
        &self,
        txn: &Transaction,
        meta: &TableMeta,
        rows: &[RecordBatch],
    ) -> Result<QueryResult> {
        let column_type = |i: usize| {
            meta.columns
                .get(i)
                .map_or(arrow_schema::DataType::Null, |c| c.sql_type.arrow_type())
        };
        let schema = Arc::new(Schema::new(
            self.exprs
                .iter()
                .zip(&self.names)
                .map(|(e, n)| Field::new(n, e.data_type(&column_type), true))
                .collect::<Vec<_>>(),
        ));
        let ctx = ExecContext::new(txn, &self.subqueries);
        let mut batches = Vec::with_capacity(rows.len());
        for row in rows {
            let columns = self
                .exprs
                .iter()
                .zip(schema.fields())
                .map(|(e, f)| llkv_executor::eval::conform(evaluate(e, row, &ctx)?, f.data_type()))
                .collect::<Result<Vec<_>>>()?;
            batches.push(
                RecordBatch::try_new_with_options(
                    schema.clone(),
                    columns,
                    &RecordBatchOptions::new().with_row_count(Some(row.num_rows())),
                )
                .map_err(arrow_err)?,
            );
        }
        Ok(QueryResult {
            schema,
            batches,
            kind: StatementKind::Query,
        })
    }
}
