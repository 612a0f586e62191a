//! Batch-at-a-time updates of the hash aggregation's states for the common
//! calls (COUNT, SUM, AVG, MIN, MAX over integers and reals, COUNT
//! DISTINCT over integers and text): typed loops over the Arrow arrays
//! instead of a [`Value`] per row.
//!
//! A batch's rows are folded into a dense vector of the call's states (one
//! per group, read out of the accumulators and written back once per
//! batch), so the per-row work is an indexed add. Results are the row
//! path's: integer sums stay exact and fail on overflow where the row path
//! would; only an ungrouped SUM/AVG of reals adds in lanes (as every
//! vectorised engine does), which may change the last bits.

use std::collections::HashMap;

use ahash::RandomState;
use arrow_arith::aggregate;
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;
use llkv_plan::decimal::MAX_PRECISION;
use llkv_plan::{AggregateExpr, AggregateFunction as F, Error, Result, Value};

use super::accumulator::{Acc, Accumulator, ValueKey};
use super::key_codes::pack_text;

/// The accumulators of one group, one per aggregate call.
pub(super) type GroupState = Vec<Accumulator>;

/// Which group each row of a batch belongs to.
pub(super) enum GroupIds {
    /// Every row is in the one group of an aggregate without GROUP BY.
    Single(usize),
    /// Row `i` is in group `ids[i]`.
    Each(Vec<usize>),
}

impl GroupIds {
    /// Calls `f(row, group)` for every row.
    pub(super) fn for_each(&self, mut f: impl FnMut(usize, usize)) {
        match self {
            GroupIds::Single(rows) => (0..*rows).for_each(|i| f(i, 0)),
            GroupIds::Each(ids) => ids.iter().enumerate().for_each(|(i, g)| f(i, *g)),
        }
    }
}

/// Adds a batch to COUNT, SUM, AVG, MIN and MAX states straight from typed
/// arrays; false when `agg` has no such path (then the caller adds row by
/// row). Not for DISTINCT or ordered calls.
pub(super) fn typed_update(
    agg: &AggregateExpr,
    arg: Option<&ArrayRef>,
    ids_per_set: &[GroupIds],
    groups: &mut [GroupState],
    k: usize,
) -> Result<bool> {
    if agg.distinct || !agg.order_by.is_empty() {
        return Ok(false);
    }
    for ids in ids_per_set {
        if !update_set(agg, arg, ids, groups, k)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// [`typed_update`] for one grouping set's rows.
fn update_set(
    agg: &AggregateExpr,
    arg: Option<&ArrayRef>,
    ids: &GroupIds,
    groups: &mut [GroupState],
    k: usize,
) -> Result<bool> {
    let Some(a) = arg else {
        if agg.func != F::CountStar {
            return Ok(false);
        }
        return dense(groups, k, ids, count_of, put_count, |counts, ids| {
            match ids {
                GroupIds::Single(rows) => counts[0] += *rows as i64,
                GroupIds::Each(ids) => ids.iter().for_each(|g| counts[*g] += 1),
            }
            Ok(())
        });
    };
    match (agg.func, a.data_type()) {
        (F::Count | F::CountStar, _) => {
            if a.data_type() == &DataType::Null {
                return Ok(true);
            }
            dense(groups, k, ids, count_of, put_count, |counts, ids| {
                match ids {
                    GroupIds::Single(_) => counts[0] += (a.len() - a.null_count()) as i64,
                    GroupIds::Each(ids) => {
                        fold(ids, &vec![(); a.len()], a.nulls(), counts, |c, _| *c += 1)
                    }
                }
                Ok(())
            })
        }
        (F::Sum, DataType::Int64) => {
            let ints = a.as_primitive::<Int64Type>();
            let mut overflow = false;
            let done = dense(groups, k, ids, sum_int_of, put_sum_int, |sums, ids| {
                let step = |s: &mut Option<i64>, v: i64| {
                    let (t, o) = s.unwrap_or(0).overflowing_add(v);
                    overflow |= o;
                    *s = Some(t);
                };
                fold_primitive(ids, ints, sums, step);
                Ok(())
            })?;
            if overflow {
                return Err(Error::data("integer overflow"));
            }
            Ok(done)
        }
        (F::Sum, DataType::Float64) if agg.data_type == DataType::Float64 => {
            let reals = a.as_primitive::<Float64Type>();
            dense(groups, k, ids, sum_float_of, put_sum_float, |sums, ids| {
                match ids {
                    GroupIds::Single(_) => {
                        if let Some(total) = aggregate::sum(reals) {
                            sums[0] = Some(sums[0].unwrap_or(0.0) + total);
                        }
                    }
                    GroupIds::Each(_) => {
                        fold_primitive(ids, reals, sums, |s, v| *s = Some(s.unwrap_or(0.0) + v))
                    }
                }
                Ok(())
            })
        }
        (F::Avg, DataType::Float64 | DataType::Int64) => {
            let reals = crate::eval::cast_array(a, &DataType::Float64)?;
            let reals = reals.as_primitive::<Float64Type>();
            dense(groups, k, ids, avg_of, put_avg, |states, ids| {
                match ids {
                    GroupIds::Single(_) => {
                        let (s, c) = &mut states[0];
                        *s += aggregate::sum(reals).unwrap_or(0.0);
                        *c += (reals.len() - reals.null_count()) as i64;
                    }
                    GroupIds::Each(_) => fold_primitive(ids, reals, states, |(s, c), v| {
                        *s += v;
                        *c += 1;
                    }),
                }
                Ok(())
            })
        }
        (F::Min | F::Max, DataType::Int64) => {
            let ints = a.as_primitive::<Int64Type>();
            let (get, put) = (extreme_int_of, put_extreme_int);
            fold_extreme(agg.func == F::Max, ints, ids, groups, k, get, put)
        }
        // As the row path compares: NaN neither beats nor is beaten.
        (F::Min | F::Max, DataType::Float64) => {
            let reals = a.as_primitive::<Float64Type>();
            let (get, put) = (extreme_float_of, put_extreme_float);
            fold_extreme(agg.func == F::Max, reals, ids, groups, k, get, put)
        }
        // Argument and sum share the scale: add the unscaled values.
        (F::Sum, DataType::Decimal128(_, scale))
            if agg.data_type == DataType::Decimal128(MAX_PRECISION, *scale) =>
        {
            let units = a.as_primitive::<Decimal128Type>();
            let mut overflow = false;
            let done = dense(
                groups,
                k,
                ids,
                sum_decimal_of,
                put_sum_decimal,
                |sums, ids| {
                    fold_primitive(ids, units, sums, |s, v| {
                        match s.unwrap_or(0).checked_add(v) {
                            Some(t) if llkv_plan::decimal::fits(t, MAX_PRECISION) => *s = Some(t),
                            _ => overflow = true,
                        }
                    });
                    Ok(())
                },
            )?;
            if overflow {
                return Err(Error::data("numeric overflow in SUM"));
            }
            Ok(done)
        }
        _ => Ok(false),
    }
}

/// MIN (or, with `max`, MAX) of `values` into the groups' states, read
/// and written by `get` and `put`.
fn fold_extreme<P: ArrowPrimitiveType>(
    max: bool,
    values: &PrimitiveArray<P>,
    ids: &GroupIds,
    groups: &mut [GroupState],
    k: usize,
    get: impl Fn(&Acc) -> Option<Option<P::Native>>,
    put: impl Fn(&mut Acc, Option<P::Native>),
) -> Result<bool>
where
    P::Native: PartialOrd,
{
    dense(groups, k, ids, get, put, |best, ids| {
        fold_primitive(ids, values, best, |b, v| {
            if b.is_none_or(|b| if max { v > b } else { v < b }) {
                *b = Some(v);
            }
        });
        Ok(())
    })
}

/// Runs `f` over call `k`'s states of the groups `ids` names, read out of
/// the accumulators as a dense vector of `T` by `get` and written back by
/// `put`; false (and `f` not run) when some state has no `T` form. `f`
/// gets the rows' positions in that vector: the group ids themselves, or,
/// when the batch has fewer rows than there are groups, positions among
/// the groups it touches (so a batch costs its rows, not all groups).
fn dense<T>(
    groups: &mut [GroupState],
    k: usize,
    ids: &GroupIds,
    get: impl Fn(&Acc) -> Option<T>,
    put: impl Fn(&mut Acc, T),
    f: impl FnOnce(&mut [T], &GroupIds) -> Result<()>,
) -> Result<bool> {
    if let GroupIds::Each(each) = ids {
        if each.len() < groups.len() {
            let mut local: HashMap<usize, usize, RandomState> = HashMap::default();
            let mut touched = Vec::new();
            let positions: Vec<usize> = each
                .iter()
                .map(|g| {
                    *local.entry(*g).or_insert_with(|| {
                        touched.push(*g);
                        touched.len() - 1
                    })
                })
                .collect();
            let Some(mut states) = touched
                .iter()
                .map(|g| get(groups[*g][k].state_mut()))
                .collect::<Option<Vec<T>>>()
            else {
                return Ok(false);
            };
            let outcome = f(&mut states, &GroupIds::Each(positions));
            for (g, s) in touched.iter().zip(states) {
                put(groups[*g][k].state_mut(), s);
            }
            return outcome.map(|()| true);
        }
    }
    let Some(mut states) = groups
        .iter_mut()
        .map(|g| get(g[k].state_mut()))
        .collect::<Option<Vec<T>>>()
    else {
        return Ok(false);
    };
    let outcome = f(&mut states, ids);
    for (g, s) in groups.iter_mut().zip(states) {
        put(g[k].state_mut(), s);
    }
    outcome.map(|()| true)
}

/// Folds the non-NULL values of `values` into the states of their rows'
/// groups.
fn fold_primitive<P: ArrowPrimitiveType, T>(
    ids: &GroupIds,
    values: &PrimitiveArray<P>,
    states: &mut [T],
    step: impl FnMut(&mut T, P::Native),
) {
    match ids {
        GroupIds::Single(_) => {
            let mut step = step;
            let state = &mut states[0];
            match values.nulls().filter(|n| n.null_count() > 0) {
                None => values.values().iter().for_each(|v| step(state, *v)),
                Some(n) => values
                    .values()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| n.is_valid(*i))
                    .for_each(|(_, v)| step(state, *v)),
            }
        }
        GroupIds::Each(ids) => fold(ids, values.values(), values.nulls(), states, step),
    }
}

/// Folds `values[i]` into `states[ids[i]]` for each row `i` not NULL.
fn fold<V: Copy, T>(
    ids: &[usize],
    values: &[V],
    nulls: Option<&NullBuffer>,
    states: &mut [T],
    mut step: impl FnMut(&mut T, V),
) {
    match nulls.filter(|n| n.null_count() > 0) {
        None => {
            for (g, v) in ids.iter().zip(values) {
                step(&mut states[*g], *v);
            }
        }
        Some(n) => {
            for (i, (g, v)) in ids.iter().zip(values).enumerate() {
                if n.is_valid(i) {
                    step(&mut states[*g], *v);
                }
            }
        }
    }
}

fn count_of(a: &Acc) -> Option<i64> {
    match a {
        Acc::Count(c) => Some(*c),
        _ => None,
    }
}

fn put_count(a: &mut Acc, c: i64) {
    *a = Acc::Count(c);
}

fn sum_int_of(a: &Acc) -> Option<Option<i64>> {
    match a {
        Acc::SumInt(s) => Some(*s),
        _ => None,
    }
}

fn put_sum_int(a: &mut Acc, s: Option<i64>) {
    *a = Acc::SumInt(s);
}

fn sum_float_of(a: &Acc) -> Option<Option<f64>> {
    match a {
        Acc::SumFloat(s) => Some(*s),
        _ => None,
    }
}

fn put_sum_float(a: &mut Acc, s: Option<f64>) {
    *a = Acc::SumFloat(s);
}

fn sum_decimal_of(a: &Acc) -> Option<Option<i128>> {
    match a {
        Acc::SumDecimal(s, _) => Some(*s),
        _ => None,
    }
}

fn put_sum_decimal(a: &mut Acc, s: Option<i128>) {
    if let Acc::SumDecimal(slot, _) = a {
        *slot = s;
    }
}

fn avg_of(a: &Acc) -> Option<(f64, i64)> {
    match a {
        Acc::Avg(s, c) => Some((*s, *c)),
        _ => None,
    }
}

fn put_avg(a: &mut Acc, (s, c): (f64, i64)) {
    *a = Acc::Avg(s, c);
}

fn extreme_int_of(a: &Acc) -> Option<Option<i64>> {
    match a {
        Acc::Extreme(None) => Some(None),
        Acc::Extreme(Some(Value::Integer(i))) => Some(Some(*i)),
        _ => None,
    }
}

fn put_extreme_int(a: &mut Acc, best: Option<i64>) {
    *a = Acc::Extreme(best.map(Value::Integer));
}

fn extreme_float_of(a: &Acc) -> Option<Option<f64>> {
    match a {
        Acc::Extreme(None) => Some(None),
        Acc::Extreme(Some(Value::Real(f))) => Some(Some(*f)),
        _ => None,
    }
}

fn put_extreme_float(a: &mut Acc, best: Option<f64>) {
    *a = Acc::Extreme(best.map(Value::Real));
}

/// Adds a batch to COUNT(DISTINCT x) states straight from an integer or
/// text array (keys as `value_key` makes them, without a `Value` per row);
/// false for other calls and types.
pub(super) fn count_distinct_update(
    agg: &AggregateExpr,
    arg: Option<&ArrayRef>,
    ids_per_set: &[GroupIds],
    groups: &mut [GroupState],
    k: usize,
) -> bool {
    let (F::Count, Some(a), true, true) = (agg.func, arg, agg.distinct, agg.order_by.is_empty())
    else {
        return false;
    };
    match a.data_type() {
        DataType::Int64 => {
            let ints = a.as_primitive::<Int64Type>();
            for ids in ids_per_set {
                ids.for_each(|i, g| {
                    if ints.is_valid(i) {
                        groups[g][k].count_distinct(ValueKey::Int(ints.value(i)));
                    }
                });
            }
        }
        DataType::Utf8 => {
            let texts = a.as_string::<i32>();
            let (offsets, data) = (texts.value_offsets(), texts.value_data());
            for ids in ids_per_set {
                ids.for_each(|i, g| {
                    if texts.is_valid(i) {
                        let packed = pack_text(data, offsets[i] as usize, offsets[i + 1] as usize);
                        groups[g][k].count_distinct_text(texts.value(i), packed);
                    }
                });
            }
        }
        _ => return false,
    }
    true
}
