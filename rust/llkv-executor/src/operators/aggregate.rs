//! Hash aggregation: rows are keyed by their encoded GROUP BY values and fed
//! into one accumulator per (aggregate, group).

use std::collections::HashMap;

use ahash::RandomState;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Float64Type, Int64Type};
use arrow_array::{new_null_array, Array, ArrayRef, Int64Array, RecordBatch, RecordBatchOptions};
use arrow_row::RowConverter;
use arrow_schema::{DataType, SchemaRef};
use llkv_plan::decimal::MAX_PRECISION;
use llkv_plan::{AggregateExpr, AggregateFunction, Error, Expr, LogicalPlan, Result, Value};

use super::accumulator::{Acc, Accumulator};
use super::execute;
use super::rows::{converter_for, encode};
use crate::context::ExecContext;
use crate::eval::{arrow_err, conform, evaluate};
use crate::scalar::{array_from_values, value_at};

/// The accumulators of one group, one per aggregate call.
type GroupState = Vec<Accumulator>;

/// What an Aggregate node groups by: its terms and, for GROUPING SETS,
/// the sets (the last term is then the grouping-id placeholder).
pub struct Grouping<'a> {
    /// The GROUP BY terms.
    pub terms: &'a [Expr],
    /// The grouping sets as term indexes; empty for an ordinary GROUP BY.
    pub sets: &'a [Vec<usize>],
}

/// A grouping set's grouping id and position (None for an ordinary
/// GROUP BY, whose keys carry neither).
type SetTag = Option<(i64, usize)>;

/// Groups found so far, keyed by their encoded key columns (or, for one
/// integer key, by the integer itself).
struct GroupTable {
    converter: Option<RowConverter>,
    index: HashMap<Box<[u8]>, usize, RandomState>,
    /// Groups of a single INTEGER key, and the group of its NULL.
    int_index: HashMap<i64, usize, RandomState>,
    /// Groups of a single TEXT key.
    text_index: HashMap<Box<str>, usize, RandomState>,
    /// The group of a single INTEGER or TEXT key's NULL.
    null_group: Option<usize>,
    keys: Vec<Vec<Value>>,
    groups: Vec<GroupState>,
}

impl GroupTable {
    /// The group of each row of `key_arrays`, creating new groups.
    fn group_ids(
        &mut self,
        key_arrays: &[ArrayRef],
        rows: usize,
        new_group: impl Fn() -> GroupState,
    ) -> Result<Vec<usize>> {
        let Some(converter) = &self.converter else {
            // No key columns: one group.
            if self.groups.is_empty() {
                self.groups.push(new_group());
                self.keys.push(vec![]);
            }
            return Ok(vec![0; rows]);
        };
        if let [key] = key_arrays {
            if key.data_type() == &DataType::Int64 {
                return Ok(self.int_group_ids(key.as_primitive::<Int64Type>(), new_group));
            }
            if key.data_type() == &DataType::Utf8 {
                return Ok(self.text_group_ids(key.as_string::<i32>(), new_group));
            }
        }
        let encoded = encode(converter, key_arrays)?;
        let mut ids = Vec::with_capacity(rows);
        for (i, row) in encoded.iter().enumerate() {
            let id = match self.index.get(row.as_ref()) {
                Some(id) => *id,
                None => {
                    let id = self.groups.len();
                    self.index.insert(Box::from(row.as_ref()), id);
                    self.keys
                        .push(key_arrays.iter().map(|a| value_at(a.as_ref(), i)).collect());
                    self.groups.push(new_group());
                    id
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }

    /// [`GroupTable::group_ids`] for one INTEGER key column: hashes the
    /// integers, without encoding rows.
    fn int_group_ids(
        &mut self,
        key: &arrow_array::Int64Array,
        new_group: impl Fn() -> GroupState,
    ) -> Vec<usize> {
        let mut ids = Vec::with_capacity(key.len());
        for i in 0..key.len() {
            let slot = if key.is_valid(i) {
                self.int_index.get(&key.value(i)).copied()
            } else {
                self.null_group
            };
            let id = match slot {
                Some(id) => id,
                None => {
                    let id = self.groups.len();
                    if key.is_valid(i) {
                        self.int_index.insert(key.value(i), id);
                        self.keys.push(vec![Value::Integer(key.value(i))]);
                    } else {
                        self.null_group = Some(id);
                        self.keys.push(vec![Value::Null]);
                    }
                    self.groups.push(new_group());
                    id
                }
            };
            ids.push(id);
        }
        ids
    }

    /// [`GroupTable::group_ids`] for one TEXT key column: hashes the
    /// strings themselves, without encoding rows.
    fn text_group_ids(
        &mut self,
        key: &arrow_array::StringArray,
        new_group: impl Fn() -> GroupState,
    ) -> Vec<usize> {
        let mut ids = Vec::with_capacity(key.len());
        for i in 0..key.len() {
            let text = key.is_valid(i).then(|| key.value(i));
            let slot = match text {
                Some(t) => self.text_index.get(t).copied(),
                None => self.null_group,
            };
            let id = match slot {
                Some(id) => id,
                None => {
                    let id = self.groups.len();
                    match text {
                        Some(t) => {
                            self.text_index.insert(Box::from(t), id);
                            self.keys.push(vec![Value::Text(t.into())]);
                        }
                        None => {
                            self.null_group = Some(id);
                            self.keys.push(vec![Value::Null]);
                        }
                    }
                    self.groups.push(new_group());
                    id
                }
            };
            ids.push(id);
        }
        ids
    }
}

/// The key columns of grouping set `set` over `term_arrays`: terms outside
/// the set are NULL; with GROUPING SETS, the grouping id follows, then the
/// set's position (so a set listed twice yields its groups twice; it is
/// not output).
fn set_key_arrays(
    term_arrays: &[ArrayRef],
    key_types: &[DataType],
    set: &[usize],
    id: SetTag,
    rows: usize,
) -> Vec<ArrayRef> {
    let mut arrays: Vec<ArrayRef> = term_arrays
        .iter()
        .enumerate()
        .map(|(j, a)| {
            if set.contains(&j) {
                a.clone()
            } else {
                new_null_array(&key_types[j], rows)
            }
        })
        .collect();
    if let Some((id, position)) = id {
        arrays.push(Arc::new(Int64Array::from(vec![id; rows])));
        arrays.push(Arc::new(Int64Array::from(vec![position as i64; rows])));
    }
    arrays
}

/// The grouping id of a set over `terms` terms: bit `j` set when term `j`
/// is not in it.
fn grouping_id(set: &[usize], terms: usize) -> i64 {
    (0..terms)
        .filter(|j| !set.contains(j))
        .fold(0i64, |id, j| id | (1i64 << j.min(62)))
}

/// Runs an Aggregate node to completion.
pub fn execute_aggregate(
    input: &LogicalPlan,
    grouping: &Grouping<'_>,
    aggregates: &[AggregateExpr],
    schema: &SchemaRef,
    ctx: &ExecContext<'_>,
) -> Result<Vec<RecordBatch>> {
    let key_count = grouping.terms.len();
    let key_types: Vec<DataType> = schema.fields()[..key_count]
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    let has_sets = !grouping.sets.is_empty();
    // The terms evaluated over the input (not the grouping-id placeholder).
    let terms = &grouping.terms[..key_count - usize::from(has_sets)];
    let all_terms: Vec<usize> = (0..terms.len()).collect();
    let sets: Vec<(&[usize], SetTag)> = if has_sets {
        grouping
            .sets
            .iter()
            .enumerate()
            .map(|(p, s)| (s.as_slice(), Some((grouping_id(s, terms.len()), p))))
            .collect()
    } else {
        vec![(all_terms.as_slice(), None)]
    };
    let mut encoded_types = key_types.clone();
    if has_sets {
        encoded_types.push(DataType::Int64);
    }
    let mut table = GroupTable {
        converter: if encoded_types.is_empty() {
            None
        } else {
            Some(converter_for(&encoded_types)?)
        },
        index: HashMap::default(),
        int_index: HashMap::default(),
        text_index: HashMap::default(),
        null_group: None,
        keys: Vec::new(),
        groups: Vec::new(),
    };
    let new_group = || -> GroupState { aggregates.iter().map(Accumulator::new).collect() };
    // A set without terms has its one group even over no rows.
    for (set, id) in &sets {
        if set.is_empty() {
            let nulls: Vec<ArrayRef> = key_types[..terms.len()]
                .iter()
                .map(|t| new_null_array(t, 1))
                .collect();
            let arrays = set_key_arrays(&nulls, &key_types, set, *id, 1);
            table.group_ids(&arrays, 1, new_group)?;
        }
    }
    for batch in execute(input, ctx)? {
        let batch = batch?;
        let n = batch.num_rows();
        if n == 0 {
            continue;
        }
        let term_arrays = terms
            .iter()
            .zip(&key_types)
            .map(|(e, t)| conform(evaluate(e, &batch, ctx)?, t))
            .collect::<Result<Vec<_>>>()?;
        let mut ids_per_set = Vec::with_capacity(sets.len());
        let groups_before = table.groups.len();
        for (set, id) in &sets {
            let arrays = set_key_arrays(&term_arrays, &key_types, set, *id, n);
            ids_per_set.push(table.group_ids(&arrays, n, new_group)?);
        }
        let new_groups = table.groups.len() - groups_before;
        if new_groups > 0 {
            // A group holds its key (estimated from this batch's keys) and
            // one accumulator per aggregate.
            let key_bytes: usize = term_arrays.iter().map(|a| a.get_array_memory_size()).sum();
            let per_group = key_bytes / n + 64 * (aggregates.len() + 1);
            ctx.hold_bytes(new_groups * per_group, "an aggregation's groups")?;
        }
        let groups = &mut table.groups;
        for (k, agg) in aggregates.iter().enumerate() {
            let arg = match &agg.arg {
                Some(e) => Some(evaluate(e, &batch, ctx)?),
                None => None,
            };
            refuse_nested_argument(agg, arg.as_ref())?;
            let key = match &agg.key {
                Some(e) => Some(evaluate(e, &batch, ctx)?),
                None => None,
            };
            let sort = agg
                .order_by
                .iter()
                .map(|k| evaluate(&k.expr, &batch, ctx))
                .collect::<Result<Vec<_>>>()?;
            if !agg.distinct && typed_update(agg, arg.as_ref(), &ids_per_set, groups, k)? {
                continue;
            }
            if agg.distinct
                && agg.order_by.is_empty()
                && count_distinct_update(agg, arg.as_ref(), &ids_per_set, groups, k)
            {
                continue;
            }
            for (i, g) in ids_per_set.iter().flat_map(|ids| ids.iter().enumerate()) {
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
    let GroupTable { keys, groups, .. } = table;
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, t) in key_types.iter().enumerate() {
        let vals: Vec<Value> = keys.iter().map(|k| k[i].clone()).collect();
        columns.push(array_from_values(t, &vals)?);
    }
    for (k, field) in schema.fields()[key_count..].iter().enumerate() {
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

/// Adds a batch to COUNT(DISTINCT x) states straight from an integer or
/// text array (keys as `value_key` makes them, without a `Value` per row);
/// false for other calls and types.
fn count_distinct_update(
    agg: &AggregateExpr,
    arg: Option<&ArrayRef>,
    ids_per_set: &[Vec<usize>],
    groups: &mut [GroupState],
    k: usize,
) -> bool {
    use super::accumulator::ValueKey;
    let (AggregateFunction::Count, Some(a)) = (agg.func, arg) else {
        return false;
    };
    let rows = || ids_per_set.iter().flat_map(|ids| ids.iter().enumerate());
    match a.data_type() {
        DataType::Int64 => {
            let ints = a.as_primitive::<Int64Type>();
            for (i, g) in rows() {
                if ints.is_valid(i) {
                    groups[*g][k].count_distinct(ValueKey::Int(ints.value(i)));
                }
            }
        }
        DataType::Utf8 => {
            let texts = a.as_string::<i32>();
            for (i, g) in rows() {
                if texts.is_valid(i) {
                    groups[*g][k].count_distinct_text(texts.value(i));
                }
            }
        }
        _ => return false,
    }
    true
}

/// Adds a batch to COUNT, SUM and AVG states straight from typed arrays,
/// without a `Value` per row; false when `agg` has no such path (then the
/// caller adds row by row). Not for DISTINCT.
fn typed_update(
    agg: &AggregateExpr,
    arg: Option<&ArrayRef>,
    ids_per_set: &[Vec<usize>],
    groups: &mut [GroupState],
    k: usize,
) -> Result<bool> {
    let rows = || ids_per_set.iter().flat_map(|ids| ids.iter().enumerate());
    let Some(a) = arg else {
        if agg.func == AggregateFunction::CountStar {
            for (_, g) in rows() {
                if let Acc::Count(c) = groups[*g][k].state_mut() {
                    *c += 1;
                }
            }
            return Ok(true);
        }
        return Ok(false);
    };
    let func = agg.func;
    match (func, a.data_type()) {
        (AggregateFunction::Count | AggregateFunction::CountStar, _) => {
            for (i, g) in rows() {
                if !crate::scalar::is_null_at(a.as_ref(), i) {
                    if let Acc::Count(c) = groups[*g][k].state_mut() {
                        *c += 1;
                    }
                }
            }
        }
        (AggregateFunction::Sum, DataType::Int64) => {
            let ints = a.as_primitive::<Int64Type>();
            for (i, g) in rows() {
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
        }
        (AggregateFunction::Sum, DataType::Float64) if agg.data_type == DataType::Float64 => {
            let reals = a.as_primitive::<Float64Type>();
            for (i, g) in rows() {
                if reals.is_valid(i) {
                    if let Acc::SumFloat(s) = groups[*g][k].state_mut() {
                        *s = Some(s.unwrap_or(0.0) + reals.value(i));
                    }
                }
            }
        }
        (AggregateFunction::Avg, DataType::Float64 | DataType::Int64) => {
            let reals = crate::eval::cast_array(a, &DataType::Float64)?;
            let reals = reals.as_primitive::<Float64Type>();
            for (i, g) in rows() {
                if reals.is_valid(i) {
                    if let Acc::Avg(s, c) = groups[*g][k].state_mut() {
                        *s += reals.value(i);
                        *c += 1;
                    }
                }
            }
        }
        // Argument and sum share the scale: add the unscaled values.
        (AggregateFunction::Sum, DataType::Decimal128(_, scale))
            if agg.data_type == DataType::Decimal128(MAX_PRECISION, *scale) =>
        {
            let units = a.as_primitive::<Decimal128Type>();
            for (i, g) in rows() {
                if units.is_valid(i) {
                    if let Acc::SumDecimal(s, _) = groups[*g][k].state_mut() {
                        *s = Some(
                            s.unwrap_or(0)
                                .checked_add(units.value(i))
                                .filter(|t| llkv_plan::decimal::fits(*t, MAX_PRECISION))
                                .ok_or_else(|| Error::data("numeric overflow in SUM"))?,
                        );
                    }
                }
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Refuses a STRUCT argument, which accumulators (working on [`Value`]s,
/// which have no STRUCT form) would read as NULL; only a plain COUNT,
/// which looks at NULLs only, takes one.
fn refuse_nested_argument(agg: &AggregateExpr, arg: Option<&ArrayRef>) -> Result<()> {
    match arg {
        Some(a)
            if a.data_type().is_nested()
                && (agg.distinct || agg.func != AggregateFunction::Count) =>
        {
            Err(Error::not_supported(format!(
                "{:?} of a value of type {} is not supported",
                agg.func,
                llkv_plan::types::sql_name(a.data_type())
            )))
        }
        _ => Ok(()),
    }
}
