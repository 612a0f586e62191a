//! `VALUES` rows of plain literals and placeholders (a multi-row INSERT's)
//! bound straight into Arrow columns: no expression tree per term, no
//! evaluation. The columns are what binding and running the general
//! `VALUES` plan gives.

use std::sync::Arc;

use llkv_plan::types::common_type;
use llkv_plan::{LogicalPlan, Result, Value};
use sqlparser::ast;

use super::{schema_of, Binder};

impl Binder<'_> {
    /// `v` as a plan over one batch when every term is a literal, a
    /// placeholder or a negated number; None (having consumed nothing) for
    /// anything else, which the general binding handles.
    pub fn bind_literal_rows(&self, v: &ast::Values) -> Result<Option<LogicalPlan>> {
        let Some(width) = v.rows.first().map(|r| r.len()) else {
            return Ok(None);
        };
        let plain = |e: &ast::Expr| match e {
            ast::Expr::Value(_) => true,
            ast::Expr::UnaryOp {
                op: ast::UnaryOperator::Minus,
                expr,
            } => matches!(
                expr.as_ref(),
                ast::Expr::Value(ast::ValueWithSpan {
                    value: ast::Value::Number(..),
                    ..
                })
            ),
            _ => false,
        };
        if self.param_slots
            || !v
                .rows
                .iter()
                .all(|r| r.len() == width && r.iter().all(plain))
        {
            return Ok(None);
        }
        let (param_index, max_param) = (self.param_index.get(), self.max_param.get());
        let mut columns: Vec<Vec<Value>> = (0..width)
            .map(|_| Vec::with_capacity(v.rows.len()))
            .collect();
        for row in &v.rows {
            for (column, e) in columns.iter_mut().zip(row.iter()) {
                let value = match e {
                    ast::Expr::Value(v) => Some(self.bind_value(&v.value)?),
                    ast::Expr::UnaryOp { expr, .. } => match expr.as_ref() {
                        ast::Expr::Value(n) => match self.bind_value(&n.value)? {
                            Value::Integer(i) if i != i64::MIN => Some(Value::Integer(-i)),
                            Value::Real(f) => Some(Value::Real(-f)),
                            // A DECIMAL: left to the general binding.
                            _ => None,
                        },
                        _ => None,
                    },
                    _ => None,
                };
                let Some(value) = value else {
                    self.param_index.set(param_index);
                    self.max_param.set(max_param);
                    return Ok(None);
                };
                column.push(value);
            }
        }
        let types: Vec<_> = columns
            .iter()
            .map(|c| {
                let types: Vec<_> = c.iter().map(Value::data_type).collect();
                common_type(&types)
            })
            .collect();
        let arrays = columns
            .iter()
            .zip(&types)
            .map(|(c, t)| {
                let refs: Vec<&Value> = c.iter().collect();
                llkv_executor::operators::literal_column(&refs, t)
            })
            .collect::<Result<Vec<_>>>()?;
        let schema = schema_of(&self.values_column_names(width), &types);
        let batch = arrow_array::RecordBatch::try_new_with_options(
            schema.clone(),
            arrays,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(v.rows.len())),
        )
        .map_err(llkv_executor::eval::arrow_err)?;
        Ok(Some(LogicalPlan::Batches {
            batches: Arc::from(vec![batch]),
            schema,
        }))
    }
}
