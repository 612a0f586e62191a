//! Hash aggregation: rows are keyed by their GROUP BY values (one integer
//! by position or hash, a few TEXT/integer/DATE columns by their column
//! codes, other keys encoded as rows) and fed into one accumulator per
//! (aggregate, group).

use std::collections::HashMap;

use ahash::RandomState;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{new_null_array, Array, ArrayRef, Int64Array, RecordBatch, RecordBatchOptions};
use arrow_row::RowConverter;
use arrow_schema::{DataType, SchemaRef};
use llkv_plan::{AggregateExpr, AggregateFunction, Error, Expr, LogicalPlan, Result, Value};

use super::accumulator::Accumulator;
use super::aggregate_parallel::self_contained;
use super::aggregate_update::{count_distinct_update, typed_update, GroupIds, GroupState};
use super::execute;
use super::key_codes::KeyCodes;
use super::rows::{converter_for, encode};
use crate::context::ExecContext;
use crate::eval::{arrow_err, conform, evaluate};
use crate::scalar::{array_from_values, value_at};

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
pub(super) struct GroupTable {
    converter: Option<RowConverter>,
    index: HashMap<Box<[u8]>, usize, RandomState>,
    /// Groups of a single INTEGER key, and the group of its NULL.
    int_index: HashMap<i64, usize, RandomState>,
    /// Groups of keys [`KeyCodes`] supports (other than one INTEGER).
    codes: Option<KeyCodes>,
    /// The group of a single INTEGER key's NULL.
    null_group: Option<usize>,
    /// Groups of a single INTEGER key by position (`key - dense_base`),
    /// while the keys seen span a small range; `int_index` holds them too.
    dense: Option<DenseInts>,
    pub(super) keys: Vec<Vec<Value>>,
    pub(super) groups: Vec<GroupState>,
}

/// A direct-mapped index of small-range integer keys: slot `key - base`
/// holds the key's group plus one (0: no group yet).
struct DenseInts {
    base: i64,
    slots: Vec<u32>,
}

/// Most slots a [`DenseInts`] index may have.
const DENSE_SLOTS: i64 = 1 << 16;

impl GroupTable {
    /// An empty table for keys of `encoded_types`.
    pub(super) fn new(encoded_types: &[DataType]) -> Result<GroupTable> {
        Ok(GroupTable {
            converter: if encoded_types.is_empty() {
                None
            } else {
                Some(converter_for(encoded_types)?)
            },
            index: HashMap::default(),
            int_index: HashMap::default(),
            codes: (KeyCodes::supports(encoded_types) && encoded_types != [DataType::Int64])
                .then(|| KeyCodes::new(encoded_types.len())),
            null_group: None,
            dense: Some(DenseInts {
                base: 0,
                slots: Vec::new(),
            }),
            keys: Vec::new(),
            groups: Vec::new(),
        })
    }

    /// The group of each row of `key_arrays`, creating new groups.
    pub(super) fn group_ids(
        &mut self,
        key_arrays: &[ArrayRef],
        rows: usize,
        new_group: impl Fn() -> GroupState,
    ) -> Result<GroupIds> {
        let Some(converter) = &self.converter else {
            // No key columns: one group.
            if self.groups.is_empty() {
                self.groups.push(new_group());
                self.keys.push(vec![]);
            }
            return Ok(GroupIds::Single(rows));
        };
        if let [key] = key_arrays {
            if key.data_type() == &DataType::Int64 {
                let key = key.as_primitive::<Int64Type>();
                if let Some(ids) = self.dense_int_group_ids(key, &new_group) {
                    return Ok(GroupIds::Each(ids));
                }
                return Ok(GroupIds::Each(self.int_group_ids(key, new_group)));
            }
        }
        if let Some(codes) = self.codes.as_mut() {
            let (keys, groups) = (&mut self.keys, &mut self.groups);
            let ids = codes.group_ids(key_arrays, rows, |i| {
                keys.push(key_arrays.iter().map(|a| value_at(a.as_ref(), i)).collect());
                groups.push(new_group());
                groups.len() - 1
            });
            return Ok(GroupIds::Each(ids));
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
        Ok(GroupIds::Each(ids))
    }

    /// [`GroupTable::group_ids`] for one INTEGER key column whose values
    /// (and those of the batches before it) lie in a range of at most
    /// [`DENSE_SLOTS`]: looks groups up by position instead of hashing.
    /// None, for good, once a batch's keys fall outside such a range.
    fn dense_int_group_ids(
        &mut self,
        key: &arrow_array::Int64Array,
        new_group: &impl Fn() -> GroupState,
    ) -> Option<Vec<usize>> {
        let dense = self.dense.as_mut()?;
        if key.is_empty() {
            return Some(Vec::new());
        }
        // The range of the batch's slots, NULLs' included (whatever they
        // hold only widens it).
        let values = key.values();
        let (lo, hi) = values
            .iter()
            .fold((i64::MAX, i64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        let (lo, hi) = if dense.slots.is_empty() {
            (lo, hi)
        } else {
            let old_hi = dense.base + dense.slots.len() as i64 - 1;
            (lo.min(dense.base), hi.max(old_hi))
        };
        if hi.checked_sub(lo).is_none_or(|span| span >= DENSE_SLOTS) {
            self.dense = None;
            return None;
        }
        if dense.slots.is_empty() || lo < dense.base || hi - lo + 1 > dense.slots.len() as i64 {
            let mut slots = vec![0u32; (hi - lo + 1) as usize];
            if !dense.slots.is_empty() {
                let shift = (dense.base - lo) as usize;
                slots[shift..shift + dense.slots.len()].copy_from_slice(&dense.slots);
            }
            dense.base = lo;
            dense.slots = slots;
        }
        let (base, mut slots) = (dense.base, std::mem::take(&mut dense.slots));
        // Known keys in one tight pass (a missing group reads as
        // usize::MAX), then the NULLs and the new keys in row order.
        let known = slots.as_slice();
        let mut ids: Vec<usize> = values
            .iter()
            .map(|v| (known[(v - base) as usize] as usize).wrapping_sub(1))
            .collect();
        let unresolved = key.null_count() > 0 || ids.contains(&usize::MAX);
        if unresolved {
            for (i, id) in ids.iter_mut().enumerate() {
                if key.is_null(i) {
                    *id = match self.null_group {
                        Some(g) => g,
                        None => {
                            let g = self.groups.len();
                            self.null_group = Some(g);
                            self.keys.push(vec![Value::Null]);
                            self.groups.push(new_group());
                            g
                        }
                    };
                } else if *id == usize::MAX {
                    let v = values[i];
                    let slot = &mut slots[(v - base) as usize];
                    if *slot == 0 {
                        let g = self.groups.len();
                        *slot = g as u32 + 1;
                        self.int_index.insert(v, g);
                        self.keys.push(vec![Value::Integer(v)]);
                        self.groups.push(new_group());
                    }
                    *id = *slot as usize - 1;
                }
            }
        }
        if let Some(dense) = self.dense.as_mut() {
            dense.slots = slots;
        }
        Some(ids)
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
    let mut table = GroupTable::new(&encoded_types)?;
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
    // Grouping by no key or one integer costs less per row than a wave's
    // hand-off to the threads; keys that are hashed or encoded pay for it.
    let costly_keys = match key_types.as_slice() {
        [] => false,
        [only] => only != &DataType::Int64,
        _ => true,
    };
    if costly_keys
        && !has_sets
        && aggregates.iter().all(Accumulator::mergeable)
        && rayon::current_num_threads() > 1
    {
        // A filter below is applied by the threads too, when it and the
        // aggregation's expressions need nothing of the statement's context
        // (and no node is being measured).
        let filter = match input {
            LogicalPlan::Filter {
                input: child,
                predicate,
            } if !ctx.profiling()
                && self_contained(predicate)
                && terms.iter().all(self_contained)
                && aggregates
                    .iter()
                    .all(|a| a.arg.as_ref().is_none_or(self_contained)) =>
            {
                Some((child.as_ref(), super::evaluation_order(predicate)))
            }
            _ => None,
        };
        let (source, filters) = match filter {
            Some((child, filters)) => (execute(child, ctx)?, filters),
            None => (execute(input, ctx)?, Vec::new()),
        };
        let plan = super::aggregate_parallel::Plan {
            terms,
            key_types: &key_types,
            aggregates,
            filters: &filters,
        };
        plan.run(source, &mut table, &new_group, ctx)?;
        return finish(table, &key_types, aggregates, schema, key_count);
    }
    let source = execute(input, ctx)?;
    for batch in source {
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
            if typed_update(agg, arg.as_ref(), &ids_per_set, groups, k)?
                || count_distinct_update(agg, arg.as_ref(), &ids_per_set, groups, k)
            {
                continue;
            }
            let mut rows = Vec::new();
            for ids in &ids_per_set {
                ids.for_each(|i, g| rows.push((i, g)));
            }
            for (i, g) in rows {
                let v = match &arg {
                    Some(a) => value_at(a.as_ref(), i),
                    None => Value::Integer(1),
                };
                let key = match &key {
                    Some(a) => value_at(a.as_ref(), i),
                    None => Value::Null,
                };
                let sort = sort.iter().map(|a| value_at(a.as_ref(), i)).collect();
                groups[g][k].add(agg, v, key, sort)?;
            }
        }
    }
    finish(table, &key_types, aggregates, schema, key_count)
}

/// The output batch of an aggregation: each group's key, then its
/// aggregates.
fn finish(
    table: GroupTable,
    key_types: &[DataType],
    aggregates: &[AggregateExpr],
    schema: &SchemaRef,
    key_count: usize,
) -> Result<Vec<RecordBatch>> {
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

/// Refuses a STRUCT argument, which accumulators (working on [`Value`]s,
/// which have no STRUCT form) would read as NULL; only a plain COUNT,
/// which looks at NULLs only, takes one.
pub(super) fn refuse_nested_argument(agg: &AggregateExpr, arg: Option<&ArrayRef>) -> Result<()> {
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
