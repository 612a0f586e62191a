//! Expression evaluation over record batches: each node yields one Arrow
//! array with a row per input row.

mod arith;
mod case;
mod cast;
pub(crate) mod compare;
pub(crate) mod dynamic;
mod functions;
mod like;
mod math_functions;
mod subquery;
mod temporal;
mod text_functions;

use std::sync::Arc;

use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::DataType;
use llkv_plan::{BinaryOp, Error, Expr, Result, UnaryOp, Value};

use crate::context::ExecContext;
use crate::scalar::repeat_value;

pub use cast::{cast_array, to_boolean};
pub use compare::compare_arrays;
pub(crate) use dynamic::dynamic_value_at;

/// Whether `expr` has one value for every row of a statement: it reads no
/// column, outer row or subquery and calls nothing volatile.
fn is_constant(expr: &Expr) -> bool {
    let mut constant = true;
    expr.visit(&mut |x| {
        if matches!(
            x,
            Expr::Column(_) | Expr::OuterColumn { .. } | Expr::Subquery { .. }
        ) {
            constant = false;
        }
    });
    constant && !expr.is_volatile()
}

/// True for `column op constant` with a comparison operator: cheap, and
/// unable to fail on a row where another comparison would not, so a filter
/// may test it on rows an earlier conjunct already rejected.
pub(crate) fn is_column_comparison(expr: &Expr) -> bool {
    match expr {
        Expr::Binary { op, left, right } if op.is_comparison() => matches!(
            (left.as_ref(), right.as_ref()),
            (Expr::Column(_), c) | (c, Expr::Column(_)) if is_constant(c)
        ),
        _ => false,
    }
}

/// A constant expression computed once (on one row) and repeated `n`
/// times, instead of computed row by row: `0.06 - 0.01` in a filter.
fn constant(expr: &Expr, n: usize, ctx: &ExecContext<'_>) -> Result<ArrayRef> {
    let one = RecordBatch::try_new_with_options(
        Arc::new(arrow_schema::Schema::empty()),
        Vec::new(),
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(1)),
    )
    .map_err(arrow_err)?;
    let value = eval_node(expr, &one, ctx)?;
    let first = arrow_array::UInt32Array::from(vec![0u32; n]);
    arrow_select::take::take(value.as_ref(), &first, None).map_err(arrow_err)
}

/// Evaluates `expr` over every row of `batch`; the array has the
/// expression's static type ([`Expr::data_type`]).
pub fn evaluate(expr: &Expr, batch: &RecordBatch, ctx: &ExecContext<'_>) -> Result<ArrayRef> {
    let array = eval_node(expr, batch, ctx)?;
    if matches!(expr, Expr::Column(_)) {
        return Ok(array);
    }
    let schema = batch.schema();
    let declared = expr.data_type(&|i| {
        schema
            .fields()
            .get(i)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Null)
    });
    if declared == DataType::Null {
        return dynamic::plain(array);
    }
    conform(array, &declared)
}

/// Evaluates one node of an expression tree; inner nodes may yield
/// per-row typed (dynamic) arrays, see [`dynamic`].
fn eval_node(expr: &Expr, batch: &RecordBatch, ctx: &ExecContext<'_>) -> Result<ArrayRef> {
    let n = batch.num_rows();
    if n > 1 && !matches!(expr, Expr::Literal(_)) && is_constant(expr) {
        return constant(expr, n, ctx);
    }
    match expr {
        Expr::Column(i) => batch
            .columns()
            .get(*i)
            .cloned()
            .ok_or_else(|| Error::internal(format!("column {i} out of range"))),
        Expr::OuterColumn {
            depth,
            index,
            data_type,
        } => {
            let (outer, row) = ctx
                .outer_row(*depth)
                .ok_or_else(|| Error::internal("outer column without an outer row"))?;
            let col = outer
                .columns()
                .get(*index)
                .ok_or_else(|| Error::internal("outer column out of range"))?;
            if data_type.is_nested() {
                // No `Value` form: repeat the row's slice.
                let rows = arrow_array::UInt32Array::from(vec![row as u32; n]);
                return arrow_select::take::take(col.as_ref(), &rows, None).map_err(arrow_err);
            }
            let v = crate::scalar::value_at(col.as_ref(), row);
            repeat_value(&v, data_type, n)
        }
        Expr::Literal(v) => repeat_value(v, &v.data_type(), n),
        Expr::Param { index, .. } => Err(Error::internal(format!(
            "statement parameter {} was not bound before execution",
            index + 1
        ))),
        Expr::Unary { op, expr } => {
            let a = eval_node(expr, batch, ctx)?;
            refuse_nested(&[&a], "an operator")?;
            match op {
                UnaryOp::Neg => arith::negate(&a),
                UnaryOp::Not => {
                    let b = to_boolean(&a)?;
                    Ok(Arc::new(arrow_arith::boolean::not(&b).map_err(arrow_err)?))
                }
                UnaryOp::BitNot => arith::bit_not(&a),
            }
        }
        Expr::Binary { op, left, right } => evaluate_binary(*op, left, right, batch, ctx),
        Expr::IsNull { expr, negated } => {
            let a = dynamic::plain(eval_node(expr, batch, ctx)?)?;
            let r = if *negated {
                arrow_arith::boolean::is_not_null(&a)
            } else {
                arrow_arith::boolean::is_null(&a)
            }
            .map_err(arrow_err)?;
            Ok(Arc::new(r))
        }
        Expr::Cast { expr, to } => {
            let a = eval_node(expr, batch, ctx)?;
            cast_array(&a, to)
        }
        Expr::Case {
            operand,
            branches,
            else_expr,
        } => case::evaluate_case(
            operand.as_deref(),
            branches,
            else_expr.as_deref(),
            batch,
            ctx,
        ),
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let probe = eval_node(expr, batch, ctx)?;
            let mut acc: Option<BooleanArray> = None;
            for item in list {
                let v = eval_node(item, batch, ctx)?;
                let eq = compare_arrays(BinaryOp::Eq, &probe, &v)?;
                acc = Some(match acc {
                    None => eq,
                    Some(a) => arrow_arith::boolean::or_kleene(&a, &eq).map_err(arrow_err)?,
                });
            }
            let found = match acc {
                Some(a) => a,
                None => BooleanArray::from(vec![false; n]),
            };
            negate_if(found, *negated)
        }
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
            case_insensitive,
            glob,
        } => {
            let a = eval_node(expr, batch, ctx)?;
            let p = eval_node(pattern, batch, ctx)?;
            refuse_nested(&[&a, &p], "LIKE")?;
            let m = like::evaluate_like(&a, &p, *escape, *case_insensitive, *glob)?;
            negate_if(m, *negated)
        }
        Expr::Function { func, args } => {
            let arrays = args
                .iter()
                .map(|a| eval_node(a, batch, ctx))
                .collect::<Result<Vec<_>>>()?;
            refuse_nested(&arrays.iter().collect::<Vec<_>>(), "a function")?;
            functions::evaluate_function(*func, &arrays, n)
        }
        Expr::Subquery {
            id,
            kind,
            correlated,
            data_type,
        } => subquery::evaluate_subquery(*id, kind, *correlated, data_type, batch, ctx),
        Expr::Struct { names, fields } => {
            let arrays = fields
                .iter()
                .map(|e| eval_node(e, batch, ctx))
                .collect::<Result<Vec<_>>>()?;
            struct_array(names, arrays, n)
        }
    }
}

/// Refuses STRUCT operands, which operators and functions (computed on
/// [`Value`]s, which have no STRUCT form) would otherwise read as NULL.
pub(crate) fn refuse_nested(arrays: &[&ArrayRef], what: &str) -> Result<()> {
    match arrays.iter().find(|a| a.data_type().is_nested()) {
        Some(a) => Err(Error::not_supported(format!(
            "{what} on a value of type {} is not supported",
            llkv_plan::types::sql_name(a.data_type())
        ))),
        None => Ok(()),
    }
}

/// A STRUCT column of the named `arrays`, `n` rows long.
fn struct_array(names: &[String], arrays: Vec<ArrayRef>, n: usize) -> Result<ArrayRef> {
    if arrays.is_empty() {
        return Ok(Arc::new(arrow_array::StructArray::new_empty_fields(
            n, None,
        )));
    }
    let fields: arrow_schema::Fields = names
        .iter()
        .zip(&arrays)
        .map(|(name, a)| arrow_schema::Field::new(name, a.data_type().clone(), true))
        .collect();
    let array = arrow_array::StructArray::try_new(fields, arrays, None).map_err(arrow_err)?;
    Ok(Arc::new(array))
}

fn evaluate_binary(
    op: BinaryOp,
    left: &Expr,
    right: &Expr,
    batch: &RecordBatch,
    ctx: &ExecContext<'_>,
) -> Result<ArrayRef> {
    // A comparison with a constant compares against a scalar when it can;
    // a DECIMAL constant meeting a float (`x > 0.5` in the duckdb dialect)
    // is computed with as a float: convert it once, not per row.
    if op.is_comparison() && batch.num_rows() > 1 {
        let folded = match (left, right) {
            (c, other) | (other, c) if !matches!(other, Expr::Literal(_)) && is_constant(c) => {
                Some((other, c))
            }
            _ => None,
        };
        if let Some((other, c)) = folded {
            let flipped = std::ptr::eq(other, right);
            let value = match c {
                Expr::Literal(v) => v.clone(),
                _ => crate::scalar::value_at(constant(c, 1, ctx)?.as_ref(), 0),
            };
            let column = eval_node(other, batch, ctx)?;
            if let Some(out) = compare::compare_with_constant(op, &column, &value, flipped) {
                return Ok(Arc::new(out?));
            }
            let repeated = constant(c, batch.num_rows(), ctx)?;
            let (l, r) = if flipped {
                (repeated, column)
            } else {
                (column, repeated)
            };
            return Ok(Arc::new(compare_arrays(op, &l, &r)?));
        }
    }
    let (l, r) = match (left, right) {
        (Expr::Literal(Value::Decimal(d)), other) | (other, Expr::Literal(Value::Decimal(d))) => {
            let flipped = std::ptr::eq(other, right);
            let column = eval_node(other, batch, ctx)?;
            let constant = decimal_constant_against(d, &column)?;
            if flipped {
                (constant, column)
            } else {
                (column, constant)
            }
        }
        _ => (eval_node(left, batch, ctx)?, eval_node(right, batch, ctx)?),
    };
    if !op.is_comparison() && !matches!(op, BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom)
    {
        // Comparisons take structs (see `compare_arrays`).
        refuse_nested(&[&l, &r], "an operator")?;
    }
    match op {
        BinaryOp::And | BinaryOp::Or => {
            let lb = to_boolean(&l)?;
            let rb = to_boolean(&r)?;
            let out = if op == BinaryOp::And {
                arrow_arith::boolean::and_kleene(&lb, &rb)
            } else {
                arrow_arith::boolean::or_kleene(&lb, &rb)
            }
            .map_err(arrow_err)?;
            Ok(Arc::new(out))
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
            arith::arithmetic(op, &l, &r)
        }
        BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::ShiftLeft | BinaryOp::ShiftRight => {
            arith::bitwise(op, &l, &r)
        }
        BinaryOp::Concat => functions::concat_pair(&l, &r),
        _ => Ok(Arc::new(compare_arrays(op, &l, &r)?)),
    }
}

/// The DECIMAL constant `d` repeated to `other`'s length: as the nearest
/// DOUBLE when `other` is a DOUBLE (the two meet as floats anyway).
fn decimal_constant_against(d: &llkv_plan::decimal::Decimal, other: &ArrayRef) -> Result<ArrayRef> {
    if other.data_type() == &DataType::Float64 {
        return Ok(Arc::new(arrow_array::Float64Array::from_value(
            d.to_f64(),
            other.len(),
        )));
    }
    repeat_value(&Value::Decimal(*d), &d.data_type(), other.len())
}

fn negate_if(a: BooleanArray, negated: bool) -> Result<ArrayRef> {
    if negated {
        Ok(Arc::new(arrow_arith::boolean::not(&a).map_err(arrow_err)?))
    } else {
        Ok(Arc::new(a))
    }
}

/// Evaluates a predicate to a boolean array (NULL and FALSE both reject).
pub fn evaluate_predicate(
    expr: &Expr,
    batch: &RecordBatch,
    ctx: &ExecContext<'_>,
) -> Result<BooleanArray> {
    let a = evaluate(expr, batch, ctx)?;
    to_boolean(&a)
}

/// Makes `array` exactly of type `to` (used where the binder promised a type).
pub fn conform(array: ArrayRef, to: &DataType) -> Result<ArrayRef> {
    if dynamic::is_dynamic(array.as_ref()) {
        dynamic::cast_dynamic(&array, to)
    } else if array.data_type() == to {
        Ok(array)
    } else if array.data_type() == &DataType::Null {
        Ok(new_null_array(to, array.len()))
    } else {
        cast_array(&array, to)
    }
}

/// Converts an Arrow error into an internal or data error.
pub fn arrow_err(e: arrow_schema::ArrowError) -> Error {
    match e {
        arrow_schema::ArrowError::ArithmeticOverflow(m) => {
            Error::data(format!("integer overflow: {m}"))
        }
        arrow_schema::ArrowError::DivideByZero => Error::data("division by zero"),
        arrow_schema::ArrowError::CastError(m) => Error::data(m),
        other => Error::internal(other.to_string()),
    }
}

/// True when the boolean array's row is TRUE (not NULL, not FALSE).
pub fn is_true(a: &BooleanArray, i: usize) -> bool {
    a.is_valid(i) && a.value(i)
}

/// Filters `batch` by a predicate mask (NULL counts as false).
pub fn filter_batch(batch: &RecordBatch, mask: &BooleanArray) -> Result<RecordBatch> {
    arrow_select::filter::filter_record_batch(batch, mask).map_err(arrow_err)
}
