//! Running state of one aggregate call over one group (or window frame):
//! counts and sums, extremes, text concatenation, boolean folds, moments
//! for variance, the kept values of quantiles and the best row of
//! ARG_MIN/ARG_MAX. DISTINCT is a set of seen values in front of it.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use arrow_schema::DataType;
use llkv_plan::{AggregateExpr, AggregateFunction, Error, Result, Value};

use super::key_codes::pack_text;
use crate::eval::compare::compare_values;
use llkv_plan::decimal::{fits, Decimal, MAX_PRECISION};

use crate::scalar::{value_to_bool, value_to_decimal, value_to_f64, value_to_i64, value_to_text};

/// A hashable form of a value, for DISTINCT aggregates.
#[derive(Hash, PartialEq, Eq)]
pub(super) enum ValueKey {
    Int(i64),
    Float(u64),
    Text(Arc<str>),
    Blob(Arc<[u8]>),
    Date(i32),
    Timestamp(i64),
    /// A DECIMAL with a fraction, as (unscaled, scale) without trailing
    /// zeros, so 1.50 and 1.5 are one value.
    Decimal(i128, i8),
}

/// The key of a non-NULL value (integral reals key like integers, so
/// `1` and `1.0` are one distinct value).
pub(super) fn value_key(v: &Value) -> Option<ValueKey> {
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
        Value::Decimal(d) => {
            let (mut value, mut scale) = (d.value, d.scale);
            while scale > 0 && value % 10 == 0 {
                value /= 10;
                scale -= 1;
            }
            match i64::try_from(value) {
                Ok(i) if scale == 0 => Some(ValueKey::Int(i)),
                _ => Some(ValueKey::Decimal(value, scale)),
            }
        }
    }
}

/// Running state of one aggregate over one group.
#[derive(Debug, Clone)]
pub(super) enum Acc {
    Count(i64),
    SumInt(Option<i64>),
    SumFloat(Option<f64>),
    /// An exact sum of DECIMAL values at the result's scale.
    SumDecimal(Option<i128>, i8),
    Avg(f64, i64),
    Extreme(Option<Value>),
    Concat(Option<String>),
    Any(Option<Value>),
    Bool(Option<bool>),
    /// Count, mean and sum of squared deviations (Welford's method).
    Moments(i64, f64, f64),
    /// Every non-NULL value, sorted when the quantile is taken.
    Values(Vec<Value>),
    /// The (key, value) of the best row so far.
    Best(Option<(Value, Value)>),
}

impl Acc {
    fn new(agg: &AggregateExpr) -> Acc {
        use AggregateFunction as A;
        match agg.func {
            A::CountStar | A::Count => Acc::Count(0),
            A::Sum => match agg.data_type {
                DataType::Int64 => Acc::SumInt(None),
                DataType::Decimal128(_, scale) => Acc::SumDecimal(None, scale),
                _ => Acc::SumFloat(None),
            },
            A::Total => Acc::SumFloat(Some(0.0)),
            A::Avg => Acc::Avg(0.0, 0),
            A::Min | A::Max => Acc::Extreme(None),
            A::GroupConcat => Acc::Concat(None),
            A::AnyValue => Acc::Any(None),
            A::BoolAnd | A::BoolOr => Acc::Bool(None),
            A::StddevSamp | A::StddevPop | A::VarSamp | A::VarPop => Acc::Moments(0, 0.0, 0.0),
            A::Median | A::QuantileCont | A::QuantileDisc => Acc::Values(Vec::new()),
            A::ArgMin | A::ArgMax => Acc::Best(None),
        }
    }

    /// Adds one row: its argument value and, for ARG_MIN/ARG_MAX, its key.
    fn update(&mut self, agg: &AggregateExpr, v: Value, key: Value) -> Result<()> {
        if v.is_null() && agg.func != AggregateFunction::CountStar {
            if let Acc::Any(slot @ None) = self {
                *slot = Some(Value::Null);
            }
            return Ok(());
        }
        match self {
            Acc::Count(c) => *c += 1,
            Acc::SumInt(s) => {
                let x = value_to_i64(&v).unwrap_or(0);
                *s = Some(
                    s.unwrap_or(0)
                        .checked_add(x)
                        .ok_or_else(|| Error::data("integer overflow"))?,
                );
            }
            Acc::SumFloat(s) => *s = Some(s.unwrap_or(0.0) + value_to_f64(&v).unwrap_or(0.0)),
            Acc::SumDecimal(s, scale) => {
                let x = value_to_decimal(&v, MAX_PRECISION, *scale)?.unwrap_or(0);
                *s = Some(
                    s.unwrap_or(0)
                        .checked_add(x)
                        .filter(|t| fits(*t, MAX_PRECISION))
                        .ok_or_else(|| Error::data("numeric overflow in SUM"))?,
                );
            }
            Acc::Avg(s, c) => {
                *s += value_to_f64(&v).unwrap_or(0.0);
                *c += 1;
            }
            Acc::Extreme(best) => {
                if best
                    .as_ref()
                    .is_none_or(|b| improves(agg.func == AggregateFunction::Max, &v, b))
                {
                    *best = Some(v);
                }
            }
            Acc::Concat(s) => {
                let text = value_to_text(&v).unwrap_or_default();
                match s {
                    None => *s = Some(text),
                    Some(acc) => {
                        // No separator is a comma; a NULL one is empty.
                        let sep = match &agg.param {
                            None => ",".to_string(),
                            Some(p) => value_to_text(p).unwrap_or_default(),
                        };
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
            Acc::Bool(state) => {
                let b = value_to_bool(&v)
                    .ok_or_else(|| Error::data(format!("{:?} needs boolean values", agg.func)))?;
                *state = Some(match (agg.func, *state) {
                    (AggregateFunction::BoolAnd, Some(s)) => s && b,
                    (_, Some(s)) => s || b,
                    (_, None) => b,
                });
            }
            Acc::Moments(n, mean, m2) => {
                let x = value_to_f64(&v).unwrap_or(0.0);
                *n += 1;
                let delta = x - *mean;
                *mean += delta / *n as f64;
                *m2 += delta * (x - *mean);
            }
            Acc::Values(values) => values.push(v),
            Acc::Best(best) => {
                if key.is_null() {
                    return Ok(());
                }
                let max = agg.func == AggregateFunction::ArgMax;
                if best.as_ref().is_none_or(|(k, _)| improves(max, &key, k)) {
                    *best = Some((key, v));
                }
            }
        }
        Ok(())
    }

    fn finish(&self, agg: &AggregateExpr) -> Value {
        use AggregateFunction as A;
        match self {
            Acc::Count(c) => Value::Integer(*c),
            Acc::SumInt(s) => s.map(Value::Integer).unwrap_or(Value::Null),
            Acc::SumFloat(s) => s.map(Value::Real).unwrap_or(Value::Null),
            Acc::SumDecimal(s, scale) => s
                .map(|value| {
                    Value::Decimal(Decimal {
                        value,
                        precision: MAX_PRECISION,
                        scale: *scale,
                    })
                })
                .unwrap_or(Value::Null),
            Acc::Avg(s, c) => {
                if *c == 0 {
                    Value::Null
                } else {
                    Value::Real(s / *c as f64)
                }
            }
            Acc::Extreme(v) | Acc::Any(v) => v.clone().unwrap_or(Value::Null),
            Acc::Concat(s) => s.clone().map(Value::from).unwrap_or(Value::Null),
            Acc::Bool(b) => b.map(Value::Boolean).unwrap_or(Value::Null),
            Acc::Moments(n, _, m2) => {
                let sample = matches!(agg.func, A::StddevSamp | A::VarSamp);
                let divisor = if sample { *n - 1 } else { *n };
                if divisor <= 0 {
                    return Value::Null;
                }
                let variance = m2 / divisor as f64;
                Value::Real(if matches!(agg.func, A::StddevSamp | A::StddevPop) {
                    variance.sqrt()
                } else {
                    variance
                })
            }
            Acc::Values(values) => quantile(agg, values),
            Acc::Best(best) => best.as_ref().map_or(Value::Null, |(_, v)| v.clone()),
        }
    }
}

/// True when `candidate` beats `best` (larger for a maximum); ties keep
/// the earlier row.
fn improves(max: bool, candidate: &Value, best: &Value) -> bool {
    let ord = compare_values(candidate, best);
    if max {
        ord == Ordering::Greater
    } else {
        ord == Ordering::Less
    }
}

/// The quantile `agg` asks for of `values`: interpolated for numbers under
/// MEDIAN/QUANTILE_CONT, otherwise the value at the fraction's position.
fn quantile(agg: &AggregateExpr, values: &[Value]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(compare_values);
    let p = match agg.func {
        AggregateFunction::Median => 0.5,
        _ => agg.param.as_ref().and_then(value_to_f64).unwrap_or(0.5),
    };
    let continuous =
        agg.func != AggregateFunction::QuantileDisc && agg.data_type == DataType::Float64;
    let last = (sorted.len() - 1) as f64;
    if continuous {
        let position = p * last;
        let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
        let a = value_to_f64(&sorted[lo]).unwrap_or(0.0);
        let b = value_to_f64(&sorted[hi]).unwrap_or(0.0);
        return Value::Real(a + (b - a) * (position - lo as f64));
    }
    // The smallest value whose cumulative share is at least p.
    let index = ((p * sorted.len() as f64).ceil() as usize).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)].clone()
}

/// One aggregate's running state, DISTINCT included: what a group or a
/// window frame feeds its rows into.
pub(crate) struct Accumulator {
    acc: Acc,
    seen: Option<HashSet<ValueKey, ahash::RandomState>>,
    /// The distinct text values seen (kept apart from `seen` so that a
    /// value already seen is looked up without allocating).
    seen_text: Option<TextSet>,
    /// Rows of an `agg(x ORDER BY k)` call, fed in order at the end: (sort
    /// values, value, key).
    ordered: Option<Vec<OrderedRow>>,
}

type OrderedRow = (Vec<Value>, Value, Value);

impl Accumulator {
    /// An empty state for `agg`.
    pub(crate) fn new(agg: &AggregateExpr) -> Accumulator {
        Accumulator {
            acc: Acc::new(agg),
            seen: agg.distinct.then(HashSet::default),
            seen_text: agg.distinct.then(TextSet::default),
            ordered: (!agg.order_by.is_empty()).then(Vec::new),
        }
    }

    /// Adds one row: its argument value (any non-NULL value for COUNT(*)),
    /// its ordering key (NULL unless ARG_MIN/ARG_MAX) and the values of the
    /// call's ORDER BY (empty without one).
    pub(crate) fn add(
        &mut self,
        agg: &AggregateExpr,
        v: Value,
        key: Value,
        sort: Vec<Value>,
    ) -> Result<()> {
        if let Value::Text(text) = &v {
            if let Some(seen) = &mut self.seen_text {
                if !seen.insert(text, pack_text(text.as_bytes(), 0, text.len())) {
                    return Ok(());
                }
            }
        } else if let Some(seen) = &mut self.seen {
            let new = value_key(&v).is_some_and(|key| seen.insert(key));
            if !new {
                return Ok(());
            }
        }
        match &mut self.ordered {
            Some(rows) => {
                rows.push((sort, v, key));
                Ok(())
            }
            None => self.acc.update(agg, v, key),
        }
    }

    /// COUNT(DISTINCT ...) of one non-NULL value given by its key, for the
    /// hash aggregation's typed fast path (no `Value` per row).
    pub(super) fn count_distinct(&mut self, key: ValueKey) {
        if let (Some(seen), Acc::Count(c)) = (&mut self.seen, &mut self.acc) {
            if seen.insert(key) {
                *c += 1;
            }
        }
    }

    /// COUNT(DISTINCT ...) of one non-NULL text value, for the hash
    /// aggregation's typed fast path.
    /// `packed` is `text` as [`pack_text`] packs it, None when too long.
    pub(super) fn count_distinct_text(&mut self, text: &str, packed: Option<u128>) {
        if let (Some(seen), Acc::Count(c)) = (&mut self.seen_text, &mut self.acc) {
            if seen.insert(text, packed) {
                *c += 1;
            }
        }
    }

    /// The state itself, for the hash aggregation's typed fast paths (which
    /// only run without DISTINCT).
    pub(super) fn state_mut(&mut self) -> &mut Acc {
        &mut self.acc
    }

    /// Whether [`Accumulator::merge`] can combine two states of `agg`
    /// (computed over different rows) into the state of all their rows.
    pub(super) fn mergeable(agg: &AggregateExpr) -> bool {
        use AggregateFunction as A;
        !agg.distinct
            && agg.order_by.is_empty()
            && agg.key.is_none()
            && matches!(
                agg.func,
                A::CountStar | A::Count | A::Sum | A::Total | A::Avg | A::Min | A::Max
            )
    }

    /// Adds the rows `other` has seen to this state (see
    /// [`Accumulator::mergeable`]).
    pub(super) fn merge(&mut self, agg: &AggregateExpr, other: &Accumulator) -> Result<()> {
        let add_int = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(x), Some(y)) => x
                .checked_add(y)
                .map(Some)
                .ok_or_else(|| Error::data("integer overflow")),
            (x, y) => Ok(x.or(y)),
        };
        self.acc = match (&self.acc, &other.acc) {
            (Acc::Count(a), Acc::Count(b)) => Acc::Count(a + b),
            (Acc::SumInt(a), Acc::SumInt(b)) => Acc::SumInt(add_int(*a, *b)?),
            (Acc::SumFloat(a), Acc::SumFloat(b)) => Acc::SumFloat(match (a, b) {
                (Some(x), Some(y)) => Some(x + y),
                (x, y) => x.or(*y),
            }),
            (Acc::SumDecimal(a, scale), Acc::SumDecimal(b, _)) => {
                let sum = match (a, b) {
                    (Some(x), Some(y)) => Some(
                        x.checked_add(*y)
                            .filter(|t| fits(*t, MAX_PRECISION))
                            .ok_or_else(|| Error::data("numeric overflow in SUM"))?,
                    ),
                    (x, y) => x.or(*y),
                };
                Acc::SumDecimal(sum, *scale)
            }
            (Acc::Avg(s, c), Acc::Avg(t, d)) => Acc::Avg(s + t, c + d),
            (Acc::Extreme(a), Acc::Extreme(b)) => Acc::Extreme(match (a, b) {
                (Some(x), Some(y)) => {
                    let max = agg.func == AggregateFunction::Max;
                    Some(if improves(max, y, x) { y } else { x }.clone())
                }
                (x, y) => x.clone().or_else(|| y.clone()),
            }),
            _ => return Err(Error::internal("merging unlike aggregate states")),
        };
        Ok(())
    }

    /// The aggregate of the rows added so far.
    pub(crate) fn finish(&self, agg: &AggregateExpr) -> Result<Value> {
        let Some(rows) = &self.ordered else {
            return Ok(self.acc.finish(agg));
        };
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&a, &b| compare_sort_values(agg, &rows[a].0, &rows[b].0));
        let mut acc = Acc::new(agg);
        for i in order {
            let (_, v, key) = &rows[i];
            acc.update(agg, v.clone(), key.clone())?;
        }
        Ok(acc.finish(agg))
    }
}

/// Orders two rows by an aggregate call's ORDER BY keys.
fn compare_sort_values(agg: &AggregateExpr, a: &[Value], b: &[Value]) -> Ordering {
    for (k, (x, y)) in agg.order_by.iter().zip(a.iter().zip(b)) {
        let ord = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) if k.nulls_first => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, true) if k.nulls_first => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) if k.descending => compare_values(y, x),
            (false, false) => compare_values(x, y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// A set of texts: short ones packed into integers (see [`pack_text`]),
/// so that they are neither hashed as strings nor copied.
#[derive(Default)]
pub(super) struct TextSet {
    short: HashSet<u128, ahash::RandomState>,
    long: HashSet<Box<str>, ahash::RandomState>,
}

impl TextSet {
    /// Adds `text`, given `packed` as [`pack_text`] makes it; true when
    /// it was not there.
    #[inline]
    fn insert(&mut self, text: &str, packed: Option<u128>) -> bool {
        match packed {
            Some(p) => self.short.insert(p),
            None if self.long.contains(text) => false,
            None => self.long.insert(text.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_sets_count_short_and_long_texts_once_each() {
        let mut set = TextSet::default();
        let long = "longer than fifteen bytes, kept as a string";
        let texts = ["a", "", "a", long, "a\0", long, "", "b"];
        let added: Vec<bool> = texts
            .iter()
            .map(|t| set.insert(t, pack_text(t.as_bytes(), 0, t.len())))
            .collect();
        assert_eq!(added, [true, true, false, true, true, false, false, true]);
    }

    fn agg(func: AggregateFunction, data_type: DataType, param: Option<f64>) -> AggregateExpr {
        AggregateExpr {
            func,
            arg: None,
            distinct: false,
            key: None,
            param: param.map(Value::Real),
            order_by: vec![],
            data_type,
        }
    }

    fn run(a: &AggregateExpr, rows: &[(i64, i64)]) -> Value {
        let mut acc = Accumulator::new(a);
        for (v, k) in rows {
            acc.add(a, Value::Integer(*v), Value::Integer(*k), vec![])
                .unwrap();
        }
        acc.finish(a).unwrap()
    }

    #[test]
    fn quantiles_interpolate_or_pick() {
        let rows: Vec<(i64, i64)> = [1, 2, 3, 4].iter().map(|v| (*v, 0)).collect();
        let median = agg(AggregateFunction::Median, DataType::Float64, None);
        assert_eq!(run(&median, &rows), Value::Real(2.5));
        let cont = agg(
            AggregateFunction::QuantileCont,
            DataType::Float64,
            Some(0.25),
        );
        assert_eq!(run(&cont, &rows), Value::Real(1.75));
        let disc = agg(AggregateFunction::QuantileDisc, DataType::Int64, Some(0.5));
        assert_eq!(run(&disc, &rows), Value::Integer(2));
        assert_eq!(run(&disc, &[]), Value::Null);
    }

    #[test]
    fn variance_of_one_value_is_null_for_samples() {
        let samp = agg(AggregateFunction::VarSamp, DataType::Float64, None);
        let pop = agg(AggregateFunction::VarPop, DataType::Float64, None);
        assert_eq!(run(&samp, &[(5, 0)]), Value::Null);
        assert_eq!(run(&pop, &[(5, 0)]), Value::Real(0.0));
        assert_eq!(run(&samp, &[(2, 0), (4, 0)]), Value::Real(2.0));
    }

    #[test]
    fn arg_min_keeps_the_first_of_ties() {
        let a = agg(AggregateFunction::ArgMin, DataType::Int64, None);
        assert_eq!(run(&a, &[(10, 3), (20, 1), (30, 1)]), Value::Integer(20));
        let b = agg(AggregateFunction::ArgMax, DataType::Int64, None);
        assert_eq!(run(&b, &[(10, 3), (20, 1), (30, 3)]), Value::Integer(10));
    }
}
