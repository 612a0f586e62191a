//! Generator table functions in FROM, as DuckDB names them:
//! `range(stop)` / `range(start, stop[, step])` (stop excluded),
//! `generate_series(...)` (the same, stop included), and
//! `repeat(value, count)`. Their rows are computed when the statement is
//! bound, so each is capped at [`MAX_ROWS`] rows.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{Field, Schema};
use llkv_plan::{Error, LogicalPlan, Result, Value};
use sqlparser::ast;

use super::Binder;

/// Most rows one generator call may produce (a clear error instead of
/// runaway memory).
pub const MAX_ROWS: u64 = 100_000_000;

/// The generator functions this module binds.
pub(super) fn is_generator(function: &str) -> bool {
    matches!(function, "range" | "generate_series" | "repeat")
}

impl Binder<'_> {
    /// The single column of `function(args)`, named after the function.
    pub(super) fn bind_generator(
        &self,
        function: &str,
        args: &ast::TableFunctionArgs,
    ) -> Result<LogicalPlan> {
        let values: Vec<Value> = args
            .args
            .iter()
            .map(|arg| match arg {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => self.constant(e),
                other => Err(Error::programming(format!(
                    "{function}: unexpected argument {other}"
                ))),
            })
            .collect::<Result<_>>()?;
        let column: ArrayRef = if function == "repeat" {
            let [value, count] = values.as_slice() else {
                return Err(Error::programming(
                    "repeat(value, count) takes two arguments",
                ));
            };
            let count = match count {
                Value::Integer(n) if *n >= 0 => *n as u64,
                other => {
                    return Err(Error::programming(format!(
                        "repeat: the count must be a non-negative integer, not {other}"
                    )))
                }
            };
            check_rows(function, count)?;
            let data_type = match value.data_type() {
                arrow_schema::DataType::Null => arrow_schema::DataType::Int64,
                other => other,
            };
            llkv_executor::scalar::repeat_value(value, &data_type, count as usize)?
        } else {
            Arc::new(integer_series(function, &values)?)
        };
        let schema = Arc::new(Schema::new(vec![Field::new(
            function,
            column.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![column])
            .map_err(|e| Error::internal(e.to_string()))?;
        Ok(LogicalPlan::Batches {
            batches: Arc::from(vec![batch]),
            schema,
        })
    }
}

/// The integers of `range`/`generate_series` with arguments `values`.
fn integer_series(function: &str, values: &[Value]) -> Result<Int64Array> {
    let ints: Vec<Option<i64>> = values
        .iter()
        .map(|v| match v {
            Value::Integer(n) => Ok(Some(*n)),
            Value::Null => Ok(None),
            other => Err(Error::not_supported(format!(
                "{function} of {} values (only integers)",
                other.data_type()
            ))),
        })
        .collect::<Result<_>>()?;
    let (start, stop, step) = match ints.as_slice() {
        [stop] => (Some(0), *stop, Some(1)),
        [start, stop] => (*start, *stop, Some(1)),
        [start, stop, step] => (*start, *stop, *step),
        _ => {
            return Err(Error::programming(format!(
                "{function} takes one to three arguments"
            )))
        }
    };
    // Any NULL argument: no rows, as DuckDB.
    let (Some(start), Some(stop), Some(step)) = (start, stop, step) else {
        return Ok(Int64Array::from(Vec::<i64>::new()));
    };
    if step == 0 {
        return Err(Error::programming(format!(
            "{function}: the step cannot be 0"
        )));
    }
    let inclusive = function == "generate_series";
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let span = if step > 0 { stop - start } else { start - stop };
    let stride = step.abs();
    let count = if span < 0 {
        0
    } else if inclusive {
        span / stride + 1
    } else {
        (span + stride - 1) / stride
    };
    check_rows(function, u64::try_from(count).unwrap_or(u64::MAX))?;
    Ok((0..count)
        .map(|i| (start + i * step) as i64)
        .collect::<Vec<i64>>()
        .into())
}

fn check_rows(function: &str, rows: u64) -> Result<()> {
    if rows > MAX_ROWS {
        return Err(Error::programming(format!(
            "{function} would produce {rows} rows, more than the {MAX_ROWS} a generator may"
        )));
    }
    Ok(())
}
