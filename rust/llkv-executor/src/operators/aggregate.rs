//! Hash aggregation: rows are keyed by their encoded GROUP BY values and fed
//! into one accumulator per (aggregate, group).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, SchemaRef};
use llkv_plan::{AggregateExpr, AggregateFunction, Error, Expr, LogicalPlan, Result, Value};

use super::execute;
use super::rows::{converter_for, encode};
use crate::context::ExecContext;
use crate::eval::compare::compare_values;
use crate::eval::{arrow_err, conform, evaluate};
use crate::scalar::{array_from_values, value_at, value_to_f64, value_to_text};

/// A hashable form of a value, for DISTINCT aggregates.
#[derive(Hash, PartialEq, Eq)]
enum ValueKey {
    Int(i64),
    Float(u64),
    Text(Arc<str>),
    Blob(Arc<[u8]>),
    Date(i32),
    Timestamp(i64),
}

fn value_key(v: &Value) -> Option<ValueKey> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(ValueKey::Int(*i)),
        Value::Boolean(b) => Some(ValueKey::Int(*b as i64)),
        Value::Real(f) => {
            if f.fract() == 0.0 && f.abs() < 9e15 {
                Some(ValueKey::Int(*f as i64))
            } else {
                Some(ValueKey::Float(f.to_bits()))
            }
        }
        Value::Text(s) => Some(ValueKey::Text(s.clone())),
        Value::Blob(b) => Some(ValueKey::Blob(b.clone())),
        Value::Date(d) => Some(ValueKey::Date(*d)),
        Value::Timestamp(t) => Some(ValueKey::Timestamp(*t)),
    }
}

/// Running state of one aggregate over one group.
#[derive(Debug, Clone)]
enum Acc {
    Count(i64),
    SumInt(Option<i64>),
    SumFloat(Option<f64>),
    Avg(f64, i64),
    Extreme(Option<Value>),
    Concat(Option<String>),
    Any(Option<Value>),
}

impl Acc {
    fn new(agg: &AggregateExpr) -> Acc {
        match agg.func {
            AggregateFunction::CountStar | AggregateFunction::Count => Acc::Count(0),
            AggregateFunction::Sum => {
                if agg.data_type == DataType::Int64 {
                    Acc::SumInt(None)
                } else {
                    Acc::SumFloat(None)
                }
            }
            AggregateFunction::Total => Acc::SumFloat(Some(0.0)),
            AggregateFunction::Avg => Acc::Avg(0.0, 0),
            AggregateFunction::Min | AggregateFunction::Max => Acc::Extreme(None),
            AggregateFunction::GroupConcat => Acc::Concat(None),
            AggregateFunction::AnyValue => Acc::Any(None),
        }
    }

    fn update(&mut self, agg: &AggregateExpr, v: Value) -> Result<()> {
        if v.is_null() && agg.func != AggregateFunction::CountStar {
            if let Acc::Any(slot @ None) = self {
                *slot = Some(Value::Null);
            }
            return Ok(());
        }
        match self {
            Acc::Count(c) => *c += 1,
            Acc::SumInt(s) => {
                let x = crate::scalar::value_to_i64(&v).unwrap_or(0);
                *s = Some(
                    s.unwrap_or(0)
                        .checked_add(x)
                        .ok_or_else(|| Error::data("integer overflow"))?,
                );
            }
            Acc::SumFloat(s) => *s = Some(s.unwrap_or(0.0) + value_to_f64(&v).unwrap_or(0.0)),
            Acc::Avg(s, c) => {
                *s += value_to_f64(&v).unwrap_or(0.0);
                *c += 1;
            }
            Acc::Extreme(best) => {
                let replace = match best {
                    None => true,
                    Some(b) => {
                        let ord = compare_values(&v, b);
                        if agg.func == AggregateFunction::Max {
                            ord == std::cmp::Ordering::Greater
                        } else {
                            ord == std::cmp::Ordering::Less
                        }
                    }
                };
                if replace {
                    *best = Some(v);
                }
            }
            Acc::Concat(s) => {
                let text = value_to_text(&v).unwrap_or_default();
                match s {
                    None => *s = Some(text),
                    Some(acc) => {
                        let sep = agg
                            .separator
                            .as_ref()
                            .and_then(value_to_text)
                            .unwrap_or_else(|| ",".to_string());
                        acc.push_str(&sep);
                        acc.push_str(&text);
                    }
                }
            }
            Acc::Any(slot) => {
                if slot.as_ref().is_none_or(|s| s.is_null()) {
                    *slot = Some(v);
                }
            }
        }
        Ok(())
    }

    fn finish(&self) -> Value {
        match self {
            Acc::Count(c) => Value::Integer(*c),
            Acc::SumInt(s) => s.map(Value::Integer).unwrap_or(Value::Null),
            Acc::SumFloat(s) => s.map(Value::Real).unwrap_or(Value::Null),
            Acc::Avg(s, c) => {
                if *c == 0 {
                    Value::Null
                } else {
                    Value::Real(s / *c as f64)
                }
            }
            Acc::Extreme(v) | Acc::Any(v) => v.clone().unwrap_or(Value::Null),
            Acc::Concat(s) => s.clone().map(Value::from).unwrap_or(Value::Null),
        }
    }
}

/// One aggregate's running state, DISTINCT included: what a window frame
/// feeds its rows into.
pub(crate) struct Accumulator {
    acc: Acc,
    seen: Option<HashSet<ValueKey>>,
}

impl Accumulator {
    /// An empty state for `agg`.
    pub(crate) fn new(agg: &AggregateExpr) -> Accumulator {
        Accumulator {
            acc: Acc::new(agg),
            seen: agg.distinct.then(HashSet::new),
        }
    }

    /// Adds one row's argument value (any non-NULL value for COUNT(*)).
    pub(crate) fn add(&mut self, agg: &AggregateExpr, v: Value) -> Result<()> {
        if let Some(seen) = &mut self.seen {
            let new = value_key(&v).is_some_and(|key| seen.insert(key));
            if !new {
                return Ok(());
            }
        }
        self.acc.update(agg, v)
    }

    /// The aggregate of the rows added so far.
    pub(crate) fn finish(&self) -> Value {
        self.acc.finish()
    }
}

struct GroupState {
    accs: Vec<Acc>,
    distinct: Vec<Option<HashSet<ValueKey>>>,
}

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
    let new_group = || GroupState {
        accs: aggregates.iter().map(Acc::new).collect(),
        distinct: aggregates
            .iter()
            .map(|a| a.distinct.then(HashSet::new))
            .collect(),
    };
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
            if let (Some(a), false, AggregateFunction::Count | AggregateFunction::CountStar) =
                (&arg, agg.distinct, agg.func)
            {
                for (i, g) in group_ids.iter().enumerate() {
                    if !crate::scalar::is_null_at(a.as_ref(), i) {
                        if let Acc::Count(c) = &mut groups[*g].accs[k] {
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
                        if let Acc::SumInt(s) = &mut groups[*g].accs[k] {
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
                let state = &mut groups[*g];
                if let Some(seen) = &mut state.distinct[k] {
                    match value_key(&v) {
                        Some(key) => {
                            if !seen.insert(key) {
                                continue;
                            }
                        }
                        None => continue,
                    }
                }
                state.accs[k].update(agg, v)?;
            }
        }
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, t) in key_types.iter().enumerate() {
        let vals: Vec<Value> = keys.iter().map(|k| k[i].clone()).collect();
        columns.push(array_from_values(t, &vals)?);
    }
    for (k, field) in schema.fields()[group_by.len()..].iter().enumerate() {
        let vals: Vec<Value> = groups.iter().map(|g| g.accs[k].finish()).collect();
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
