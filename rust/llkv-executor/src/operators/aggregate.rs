//! Hash aggregation: rows are keyed by their encoded GROUP BY values and fed
//! into one accumulator per (aggregate, group).

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, SchemaRef};
use llkv_plan::{AggregateExpr, AggregateFunction, Error, Expr, LogicalPlan, Result, Value};

use super::accumulator::{Acc, Accumulator};
use super::execute;
use super::rows::{converter_for, encode};
use crate::context::ExecContext;
use crate::eval::{arrow_err, conform, evaluate};
use crate::scalar::{array_from_values, value_at};

/// The accumulators of one group, one per aggregate call.
type GroupState = Vec<Accumulator>;

/// Runs an Aggregate node to completion.
pub fn execute_aggregate(
    input: &LogicalPlan,
    group_by: &[Expr],
    aggregates: &[AggregateExpr],
    schema: &SchemaRef,
    ctx: &ExecContext<'_>,
) -> Result<Vec<RecordBatch>> {
    let key_types: Vec<DataType> = schema.fields()[..group_by.len()]
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    let converter = converter_for(&key_types)?;
    let mut index: HashMap<Box<[u8]>, usize> = HashMap::new();
    let mut keys: Vec<Vec<Value>> = Vec::new();
    let mut groups: Vec<GroupState> = Vec::new();
    let new_group = || -> GroupState { aggregates.iter().map(Accumulator::new).collect() };
    if group_by.is_empty() {
        groups.push(new_group());
        keys.push(vec![]);
    }
    for batch in execute(input, ctx)? {
        let batch = batch?;
        let n = batch.num_rows();
        if n == 0 {
            continue;
        }
        let group_ids: Vec<usize> = if group_by.is_empty() {
            vec![0; n]
        } else {
            let key_arrays = group_by
                .iter()
                .zip(&key_types)
                .map(|(e, t)| conform(evaluate(e, &batch, ctx)?, t))
                .collect::<Result<Vec<_>>>()?;
            let rows = encode(&converter, &key_arrays)?;
            let mut ids = Vec::with_capacity(n);
            for (i, row) in rows.iter().enumerate() {
                let id = match index.get(row.as_ref()) {
                    Some(id) => *id,
                    None => {
                        let id = groups.len();
                        index.insert(Box::from(row.as_ref()), id);
                        keys.push(key_arrays.iter().map(|a| value_at(a.as_ref(), i)).collect());
                        groups.push(new_group());
                        id
                    }
                };
                ids.push(id);
            }
            ids
        };
        for (k, agg) in aggregates.iter().enumerate() {
            let arg = match &agg.arg {
                Some(e) => Some(evaluate(e, &batch, ctx)?),
                None => None,
            };
            let key = match &agg.key {
                Some(e) => Some(evaluate(e, &batch, ctx)?),
                None => None,
            };
            let sort = agg
                .order_by
                .iter()
                .map(|k| evaluate(&k.expr, &batch, ctx))
                .collect::<Result<Vec<_>>>()?;
            if let (Some(a), false, AggregateFunction::Count | AggregateFunction::CountStar) =
                (&arg, agg.distinct, agg.func)
            {
                for (i, g) in group_ids.iter().enumerate() {
                    if !crate::scalar::is_null_at(a.as_ref(), i) {
                        if let Acc::Count(c) = groups[*g][k].state_mut() {
                            *c += 1;
                        }
                    }
                }
                continue;
            }
            if let (Some(a), false, AggregateFunction::Sum, &DataType::Int64) =
                (&arg, agg.distinct, agg.func, a_type(&arg))
            {
                let ints = a.as_primitive::<Int64Type>();
                for (i, g) in group_ids.iter().enumerate() {
                    if ints.is_valid(i) {
                        if let Acc::SumInt(s) = groups[*g][k].state_mut() {
                            *s = Some(
                                s.unwrap_or(0)
                                    .checked_add(ints.value(i))
                                    .ok_or_else(|| Error::data("integer overflow"))?,
                            );
                        }
                    }
                }
                continue;
            }
            for (i, g) in group_ids.iter().enumerate() {
                let v = match &arg {
                    Some(a) => value_at(a.as_ref(), i),
                    None => Value::Integer(1),
                };
                let key = match &key {
                    Some(a) => value_at(a.as_ref(), i),
                    None => Value::Null,
                };
                let sort = sort.iter().map(|a| value_at(a.as_ref(), i)).collect();
                groups[*g][k].add(agg, v, key, sort)?;
            }
        }
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, t) in key_types.iter().enumerate() {
        let vals: Vec<Value> = keys.iter().map(|k| k[i].clone()).collect();
        columns.push(array_from_values(t, &vals)?);
    }
    for (k, field) in schema.fields()[group_by.len()..].iter().enumerate() {
        let vals = groups
            .iter()
            .map(|g| g[k].finish(&aggregates[k]))
            .collect::<Result<Vec<Value>>>()?;
        columns.push(conform(
            array_from_values(field.data_type(), &vals)?,
            field.data_type(),
        )?);
    }
    let batch = RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(groups.len())),
    )
    .map_err(arrow_err)?;
    Ok(vec![batch])
}

fn a_type(arg: &Option<ArrayRef>) -> &DataType {
    arg.as_ref()
        .map(|a| a.data_type())
        .unwrap_or(&DataType::Null)
}
