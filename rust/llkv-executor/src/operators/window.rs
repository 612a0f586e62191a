//! Window calls: buffer the input, and for each call sort row positions by
//! (partition keys, order keys), walk the partitions and peer groups, and
//! compute every row's value over its frame. The output keeps the input's
//! columns, adds one column per call, and comes in the last call's order
//! (as SQLite's does).

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_row::{RowConverter, Rows, SortField};
use arrow_schema::{SchemaRef, SortOptions};
use llkv_plan::{
    AggregateExpr, Error, FrameBound, FrameExclude, FrameUnits, LogicalPlan, Result, Value,
    WindowExpr, WindowFunction,
};

use super::accumulator::Accumulator;
use super::sort::concat_all;
use crate::context::ExecContext;
use crate::eval::{arrow_err, conform, evaluate};
use crate::scalar::{array_from_values, value_at, value_to_f64, value_to_i64};

/// Runs a Window node to completion.
pub fn execute_window(
    input: &LogicalPlan,
    functions: &[WindowExpr],
    schema: &SchemaRef,
    ctx: &ExecContext<'_>,
) -> Result<Vec<RecordBatch>> {
    let in_schema = input.schema();
    let batches = super::execute_buffered(input, ctx, None, "a window function")?;
    if batches.is_empty() {
        return Ok(vec![]);
    }
    let batch = concat_all(&in_schema, &batches)?;
    let mut columns = batch.columns().to_vec();
    let width = in_schema.fields().len();
    // Calls with the same PARTITION BY and ORDER BY share one sort.
    let mut layouts: Vec<(&WindowExpr, Layout)> = Vec::new();
    let mut last = 0;
    for (w, field) in functions.iter().zip(&schema.fields()[width..]) {
        let found = layouts
            .iter()
            .position(|(o, _)| o.partition_by == w.partition_by && o.order_by == w.order_by);
        last = match found {
            Some(i) => i,
            None => {
                layouts.push((w, Layout::new(w, &batch, ctx)?));
                layouts.len() - 1
            }
        };
        let values = compute(w, &layouts[last].1, &batch, ctx)?;
        columns.push(conform(
            array_from_values(field.data_type(), &values)?,
            field.data_type(),
        )?);
    }
    let last_order = layouts.into_iter().nth(last).map(|(_, l)| l.order);
    let n = batch.num_rows();
    if let Some(order) = last_order.filter(|o| o.iter().enumerate().any(|(i, &r)| i != r)) {
        let indices = UInt32Array::from_iter_values(order.iter().map(|&i| i as u32));
        columns = columns
            .iter()
            .map(|c| arrow_select::take::take(c.as_ref(), &indices, None).map_err(arrow_err))
            .collect::<Result<Vec<_>>>()?;
    }
    let out = RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(n)),
    )
    .map_err(arrow_err)?;
    Ok(vec![out])
}

/// Row positions of one call in window order, with its partitions and
/// peer groups. Positions below index the sorted order; `order[k]` is the
/// input row at sorted position `k`.
struct Layout {
    order: Vec<usize>,
    /// Partition [start, end) of each sorted position.
    partition: Vec<(usize, usize)>,
    /// Peer group [start, end) of each sorted position.
    peers: Vec<(usize, usize)>,
    /// Peer group number of each position within its partition.
    group: Vec<usize>,
}

fn encode(arrays: &[ArrayRef], options: &[SortOptions]) -> Result<Option<Rows>> {
    if arrays.is_empty() {
        return Ok(None);
    }
    // -0.0 and 0.0 are one value: the same partition, peers.
    let arrays: Vec<ArrayRef> = arrays.iter().map(super::rows::positive_zero).collect();
    let arrays = &arrays[..];
    let fields = arrays
        .iter()
        .zip(options)
        .map(|(a, o)| SortField::new_with_options(a.data_type().clone(), *o))
        .collect();
    let converter = RowConverter::new(fields).map_err(arrow_err)?;
    converter
        .convert_columns(arrays)
        .map(Some)
        .map_err(arrow_err)
}

fn same(rows: &Option<Rows>, a: usize, b: usize) -> bool {
    rows.as_ref().is_none_or(|r| r.row(a) == r.row(b))
}

impl Layout {
    fn new(w: &WindowExpr, batch: &RecordBatch, ctx: &ExecContext<'_>) -> Result<Layout> {
        let n = batch.num_rows();
        let parts = w
            .partition_by
            .iter()
            .map(|e| evaluate(e, batch, ctx))
            .collect::<Result<Vec<_>>>()?;
        let keys = w
            .order_by
            .iter()
            .map(|k| evaluate(&k.expr, batch, ctx))
            .collect::<Result<Vec<_>>>()?;
        let part_rows = encode(&parts, &vec![SortOptions::default(); parts.len()])?;
        let key_options: Vec<SortOptions> = w
            .order_by
            .iter()
            .map(|k| SortOptions {
                descending: k.descending,
                nulls_first: k.nulls_first,
            })
            .collect();
        let key_rows = encode(&keys, &key_options)?;
        let order = if parts.is_empty() && keys.is_empty() {
            (0..n).collect()
        } else {
            let all: Vec<ArrayRef> = parts.iter().chain(&keys).cloned().collect();
            let options: Vec<SortOptions> = vec![SortOptions::default(); parts.len()]
                .into_iter()
                .chain(key_options)
                .collect();
            let rows = encode(&all, &options)?.ok_or_else(|| Error::internal("window keys"))?;
            super::rows::sorted_positions(&rows)
        };
        let mut partition = vec![(0, 0); n];
        let mut peers = vec![(0, 0); n];
        let mut group = vec![0; n];
        let mut start = 0;
        while start < n {
            let mut end = start + 1;
            while end < n && same(&part_rows, order[start], order[end]) {
                end += 1;
            }
            let mut g = start;
            let mut number = 0;
            while g < end {
                let mut h = g + 1;
                while h < end && same(&key_rows, order[g], order[h]) {
                    h += 1;
                }
                for k in g..h {
                    peers[k] = (g, h);
                    group[k] = number;
                }
                number += 1;
                g = h;
            }
            partition[start..end].fill((start, end));
            start = end;
        }
        Ok(Layout {
            order,
            partition,
            peers,
            group,
        })
    }
}

/// Evaluates an optional argument over the batch.
fn arg(
    w: &WindowExpr,
    i: usize,
    batch: &RecordBatch,
    ctx: &ExecContext<'_>,
) -> Result<Option<ArrayRef>> {
    let a = w.args.get(i).map(|e| evaluate(e, batch, ctx)).transpose()?;
    if let Some(a) = &a {
        crate::eval::refuse_nested(&[a], "a window function")?;
    }
    Ok(a)
}

/// One value per input row (in input order) for call `w`.
fn compute(
    w: &WindowExpr,
    layout: &Layout,
    batch: &RecordBatch,
    ctx: &ExecContext<'_>,
) -> Result<Vec<Value>> {
    let n = batch.num_rows();
    let mut out = vec![Value::Null; n];
    let order = &layout.order;
    match &w.func {
        WindowFunction::RowNumber => {
            for k in 0..n {
                out[order[k]] = Value::Integer((k - layout.partition[k].0 + 1) as i64);
            }
        }
        WindowFunction::Rank => {
            for k in 0..n {
                out[order[k]] =
                    Value::Integer((layout.peers[k].0 - layout.partition[k].0 + 1) as i64);
            }
        }
        WindowFunction::DenseRank => {
            for k in 0..n {
                out[order[k]] = Value::Integer(layout.group[k] as i64 + 1);
            }
        }
        WindowFunction::PercentRank => {
            for k in 0..n {
                let (ps, pe) = layout.partition[k];
                let v = if pe - ps <= 1 {
                    0.0
                } else {
                    (layout.peers[k].0 - ps) as f64 / (pe - ps - 1) as f64
                };
                out[order[k]] = Value::Real(v);
            }
        }
        WindowFunction::CumeDist => {
            for k in 0..n {
                let (ps, pe) = layout.partition[k];
                out[order[k]] = Value::Real((layout.peers[k].1 - ps) as f64 / (pe - ps) as f64);
            }
        }
        WindowFunction::Ntile => {
            let buckets = arg(w, 0, batch, ctx)?.ok_or_else(|| Error::internal("ntile"))?;
            for k in 0..n {
                // The bucket count is read once per partition, at its first row.
                let (ps, pe) = layout.partition[k];
                let Some(b) = value_to_i64(&value_at(buckets.as_ref(), order[ps])) else {
                    continue;
                };
                if b <= 0 {
                    return Err(Error::data("argument of ntile must be greater than zero"));
                }
                out[order[k]] = Value::Integer(ntile((k - ps) as i64, (pe - ps) as i64, b));
            }
        }
        WindowFunction::Lag | WindowFunction::Lead => {
            let lead = w.func == WindowFunction::Lead;
            let values = arg(w, 0, batch, ctx)?.ok_or_else(|| Error::internal("lag"))?;
            let offsets = arg(w, 1, batch, ctx)?;
            let defaults = arg(w, 2, batch, ctx)?;
            for k in 0..n {
                let offset = match &offsets {
                    Some(o) => match value_to_i64(&value_at(o.as_ref(), order[k])) {
                        Some(o) => o,
                        None => continue,
                    },
                    None => 1,
                };
                let (offset, forward) = if offset < 0 {
                    (offset.unsigned_abs(), !lead)
                } else {
                    (offset as u64, lead)
                };
                let found = shifted(values.as_ref(), layout, k, offset, forward, w.ignore_nulls);
                out[order[k]] = match found {
                    Some(p) => value_at(values.as_ref(), order[p]),
                    None => match &defaults {
                        Some(d) => value_at(d.as_ref(), order[k]),
                        None => Value::Null,
                    },
                };
            }
        }
        WindowFunction::FirstValue | WindowFunction::LastValue | WindowFunction::NthValue => {
            let values = arg(w, 0, batch, ctx)?.ok_or_else(|| Error::internal("value"))?;
            let nth = arg(w, 1, batch, ctx)?;
            let frames = Frames::new(w, layout, batch, ctx)?;
            for k in 0..n {
                let wanted = match (&w.func, &nth) {
                    (WindowFunction::NthValue, Some(a)) => {
                        match value_to_i64(&value_at(a.as_ref(), order[k])) {
                            None => continue,
                            Some(i) if i <= 0 => {
                                return Err(Error::data(
                                    "argument of nth_value must be greater than zero",
                                ))
                            }
                            Some(i) => i as usize,
                        }
                    }
                    _ => 1,
                };
                let found = if w.ignore_nulls || w.frame.exclude != FrameExclude::NoOthers {
                    let mut rows = frames.iter(k)?.filter(|&p| {
                        !w.ignore_nulls || !crate::scalar::is_null_at(values.as_ref(), order[p])
                    });
                    if w.func == WindowFunction::LastValue {
                        rows.next_back()
                    } else {
                        rows.nth(wanted - 1)
                    }
                } else {
                    // The frame is one run of positions: index it directly.
                    let (start, end) = frames.span(k)?;
                    if w.func == WindowFunction::LastValue {
                        end.checked_sub(1).filter(|&p| p >= start)
                    } else {
                        start.checked_add(wanted - 1).filter(|&p| p < end)
                    }
                };
                if let Some(p) = found {
                    out[order[k]] = value_at(values.as_ref(), order[p]);
                }
            }
        }
        WindowFunction::Aggregate(agg) => {
            let frames = Frames::new(w, layout, batch, ctx)?;
            aggregate(w, agg, &frames, batch, ctx, &mut out)?;
        }
    }
    Ok(out)
}

/// NTILE's bucket (from 1) of 0-based row `i` of `size` rows in `b` buckets.
fn ntile(i: i64, size: i64, b: i64) -> i64 {
    let per = size / b;
    let extra = size % b;
    if per == 0 {
        return i + 1;
    }
    if i < extra * (per + 1) {
        i / (per + 1) + 1
    } else {
        extra + (i - extra * (per + 1)) / per + 1
    }
}

/// The sorted position `offset` rows before (or after) `k` in its
/// partition, counting only non-NULL values when `ignore_nulls`.
fn shifted(
    values: &dyn Array,
    layout: &Layout,
    k: usize,
    offset: u64,
    forward: bool,
    ignore_nulls: bool,
) -> Option<usize> {
    let (ps, pe) = layout.partition[k];
    if !ignore_nulls {
        let offset = usize::try_from(offset).ok()?;
        return if forward {
            k.checked_add(offset).filter(|&p| p < pe)
        } else {
            k.checked_sub(offset).filter(|&p| p >= ps)
        };
    }
    if offset == 0 {
        return Some(k);
    }
    let mut left = offset;
    let mut p = k;
    loop {
        p = if forward {
            Some(p + 1).filter(|&q| q < pe)?
        } else {
            p.checked_sub(1).filter(|&q| q >= ps)?
        };
        if !crate::scalar::is_null_at(values, layout.order[p]) {
            left -= 1;
            if left == 0 {
                return Some(p);
            }
        }
    }
}

/// Feeds each row's frame into the aggregate: incrementally while frames
/// only grow at the end (the usual running total), from scratch otherwise,
/// and reusing the last value while the frame stays the same.
fn aggregate(
    w: &WindowExpr,
    agg: &AggregateExpr,
    frames: &Frames<'_>,
    batch: &RecordBatch,
    ctx: &ExecContext<'_>,
    out: &mut [Value],
) -> Result<()> {
    let values = agg
        .arg
        .as_ref()
        .map(|e| evaluate(e, batch, ctx))
        .transpose()?;
    if let Some(v) = &values {
        crate::eval::refuse_nested(&[v], "a window function")?;
    }
    let order = &frames.layout.order;
    let keys = agg
        .key
        .as_ref()
        .map(|e| evaluate(e, batch, ctx))
        .transpose()?;
    let value = |p: usize| match &values {
        Some(a) => value_at(a.as_ref(), order[p]),
        None => Value::Integer(1),
    };
    let key = |p: usize| match &keys {
        Some(a) => value_at(a.as_ref(), order[p]),
        None => Value::Null,
    };
    let sorts = agg
        .order_by
        .iter()
        .map(|k| evaluate(&k.expr, batch, ctx))
        .collect::<Result<Vec<_>>>()?;
    let sort = |p: usize| -> Vec<Value> {
        sorts
            .iter()
            .map(|a| value_at(a.as_ref(), order[p]))
            .collect()
    };
    let incremental = w.frame.start == FrameBound::UnboundedPreceding
        && w.frame.exclude == FrameExclude::NoOthers;
    // Frames that run to the partition's end grow as rows go backwards;
    // order-sensitive aggregates (GROUP_CONCAT, ANY_VALUE, ties of
    // ARG_MIN/ARG_MAX) must see rows in order, so they are not fed
    // backwards.
    if !incremental
        && w.frame.end == FrameBound::UnboundedFollowing
        && w.frame.exclude == FrameExclude::NoOthers
        && !agg.func.is_order_sensitive()
    {
        let mut acc = Accumulator::new(agg);
        let mut added = (usize::MAX, usize::MAX);
        for k in (0..order.len()).rev() {
            let (_, pe) = frames.layout.partition[k];
            let (fs, _) = frames.span(k)?;
            if added.0 != pe || fs > added.1 {
                acc = Accumulator::new(agg);
                added = (pe, pe);
            }
            for p in (fs..added.1).rev() {
                acc.add(agg, value(p), key(p), sort(p))?;
            }
            added.1 = added.1.min(fs);
            out[order[k]] = acc.finish(agg)?;
        }
        return Ok(());
    }
    let mut acc = Accumulator::new(agg);
    let mut added = (usize::MAX, 0);
    let mut last: Option<(Vec<usize>, Value)> = None;
    for k in 0..order.len() {
        if incremental {
            let (ps, _) = frames.layout.partition[k];
            let (_, fe) = frames.span(k)?;
            if added.0 != ps || fe < added.1 {
                acc = Accumulator::new(agg);
                added = (ps, ps);
            }
            for p in added.1..fe.max(added.1) {
                acc.add(agg, value(p), key(p), sort(p))?;
            }
            added.1 = added.1.max(fe);
            out[order[k]] = acc.finish(agg)?;
            continue;
        }
        let rows = frames.rows(k)?;
        if let Some((prev, v)) = &last {
            if *prev == rows {
                out[order[k]] = v.clone();
                continue;
            }
        }
        let mut acc = Accumulator::new(agg);
        for &p in &rows {
            acc.add(agg, value(p), key(p), sort(p))?;
        }
        let v = acc.finish(agg)?;
        out[order[k]] = v.clone();
        last = Some((rows, v));
    }
    Ok(())
}

/// Frame bounds of one call, row by row.
struct Frames<'a> {
    w: &'a WindowExpr,
    layout: &'a Layout,
    start: Option<ArrayRef>,
    end: Option<ArrayRef>,
    /// The single ORDER BY key as numbers, by sorted position (RANGE with
    /// an offset only).
    keys: Vec<Option<f64>>,
    /// The [start, end) of non-NULL keys of each position's partition (they
    /// are contiguous: NULLs sort first or last).
    non_null: Vec<(usize, usize)>,
    descending: bool,
}

impl<'a> Frames<'a> {
    fn new(
        w: &'a WindowExpr,
        layout: &'a Layout,
        batch: &RecordBatch,
        ctx: &ExecContext<'_>,
    ) -> Result<Frames<'a>> {
        let offset = |b: &FrameBound| -> Result<Option<ArrayRef>> {
            match b {
                FrameBound::Preceding(e) | FrameBound::Following(e) => {
                    evaluate(e, batch, ctx).map(Some)
                }
                _ => Ok(None),
            }
        };
        let start = offset(&w.frame.start)?;
        let end = offset(&w.frame.end)?;
        let mut keys = Vec::new();
        let mut descending = false;
        if w.frame.units == FrameUnits::Range && (start.is_some() || end.is_some()) {
            let key = w
                .order_by
                .first()
                .ok_or_else(|| Error::programming("RANGE with an offset needs one ORDER BY key"))?;
            descending = key.descending;
            let a = evaluate(&key.expr, batch, ctx)?;
            keys = layout
                .order
                .iter()
                .map(|&r| match value_at(a.as_ref(), r) {
                    Value::Null => Ok(None),
                    v @ (Value::Integer(_)
                    | Value::Real(_)
                    | Value::Decimal(_)
                    | Value::Date(_)
                    | Value::Timestamp(_)) => Ok(value_to_f64(&v)),
                    other => Err(Error::data(format!(
                        "RANGE with an offset needs numeric ORDER BY values, got {other}"
                    ))),
                })
                .collect::<Result<_>>()?;
        }
        let mut non_null = Vec::new();
        if !keys.is_empty() {
            non_null = vec![(0, 0); keys.len()];
            let mut k = 0;
            while k < keys.len() {
                let (ps, pe) = layout.partition[k];
                let lo = (ps..pe).find(|&p| keys[p].is_some()).unwrap_or(pe);
                let hi = (lo..pe).find(|&p| keys[p].is_none()).unwrap_or(pe);
                non_null[ps..pe].fill((lo, hi));
                k = pe;
            }
        }
        Ok(Frames {
            w,
            layout,
            start,
            end,
            keys,
            non_null,
            descending,
        })
    }

    fn offset(&self, a: &Option<ArrayRef>, k: usize, is_start: bool) -> Result<f64> {
        let a = a.as_ref().ok_or_else(|| Error::internal("frame offset"))?;
        let v = value_at(a.as_ref(), self.layout.order[k]);
        let which = if is_start { "starting" } else { "ending" };
        let units = match self.w.frame.units {
            FrameUnits::Rows => "ROWS",
            FrameUnits::Range => "RANGE",
            FrameUnits::Groups => "GROUPS",
        };
        let x = match (&v, self.w.frame.units) {
            (Value::Null, _) => None,
            (_, FrameUnits::Range) => value_to_f64(&v),
            (Value::Integer(i), _) => Some(*i as f64),
            _ => None,
        }
        .ok_or_else(|| {
            Error::data(format!(
                "frame {which} offset of {units} must be a non-NULL {}",
                if self.w.frame.units == FrameUnits::Range {
                    "number"
                } else {
                    "integer"
                }
            ))
        })?;
        if x < 0.0 {
            return Err(Error::data(format!(
                "frame {which} offset must not be negative (invalid {units} value)"
            )));
        }
        Ok(x)
    }

    /// The frame [start, end) of sorted position `k`, before exclusion.
    fn span(&self, k: usize) -> Result<(usize, usize)> {
        let (ps, pe) = self.layout.partition[k];
        let start = self.bound(&self.w.frame.start, k, true)?.clamp(ps, pe);
        let end = self.bound(&self.w.frame.end, k, false)?.clamp(ps, pe);
        Ok((start, end.max(start)))
    }

    /// A frame edge as a sorted position: the first row for a start, one
    /// past the last row for an end.
    fn bound(&self, b: &FrameBound, k: usize, is_start: bool) -> Result<usize> {
        let (ps, pe) = self.layout.partition[k];
        let (gs, ge) = self.layout.peers[k];
        let preceding = match b {
            FrameBound::UnboundedPreceding => return Ok(ps),
            FrameBound::UnboundedFollowing => return Ok(pe),
            FrameBound::CurrentRow => {
                return Ok(match self.w.frame.units {
                    FrameUnits::Rows if is_start => k,
                    FrameUnits::Rows => k + 1,
                    _ if is_start => gs,
                    _ => ge,
                })
            }
            FrameBound::Preceding(_) => true,
            FrameBound::Following(_) => false,
        };
        let raw = self.offset(if is_start { &self.start } else { &self.end }, k, is_start)?;
        match self.w.frame.units {
            FrameUnits::Rows => {
                let n = raw.min(pe as f64) as usize;
                Ok(match (preceding, is_start) {
                    (true, true) => k.saturating_sub(n),
                    (true, false) => (k + 1).saturating_sub(n),
                    (false, true) => k + n,
                    (false, false) => k + n + 1,
                })
            }
            FrameUnits::Groups => {
                let n = raw.min(pe as f64) as usize;
                let g = self.layout.group[k];
                let target = if preceding {
                    match g.checked_sub(n) {
                        Some(t) => t,
                        None => return Ok(ps),
                    }
                } else {
                    g + n
                };
                Ok(self.group_edge(ps, pe, target, is_start))
            }
            FrameUnits::Range => {
                let Some(v) = self.keys[k] else {
                    // NULL keys: the frame is the NULL peer group.
                    return Ok(if is_start { gs } else { ge });
                };
                let delta = if preceding != self.descending {
                    -raw
                } else {
                    raw
                };
                let target = v + delta;
                let (lo, hi) = self.non_null[k];
                let slice = &self.keys[lo..hi];
                let before = |x: f64| {
                    if self.descending {
                        if is_start {
                            x > target
                        } else {
                            x >= target
                        }
                    } else if is_start {
                        x < target
                    } else {
                        x <= target
                    }
                };
                Ok(lo + slice.partition_point(|x| x.is_some_and(before)))
            }
        }
    }

    /// Start (or end) of peer group number `target` of the partition.
    fn group_edge(&self, ps: usize, pe: usize, target: usize, is_start: bool) -> usize {
        let groups = &self.layout.group[ps..pe];
        if is_start {
            ps + groups.partition_point(|&g| g < target)
        } else {
            ps + groups.partition_point(|&g| g <= target)
        }
    }

    /// The sorted positions of `k`'s frame, after exclusion.
    fn rows(&self, k: usize) -> Result<Vec<usize>> {
        Ok(self.iter(k)?.collect())
    }

    /// The sorted positions of `k`'s frame, after exclusion, lazily (from
    /// either end).
    fn iter(&self, k: usize) -> Result<impl DoubleEndedIterator<Item = usize> + '_> {
        let (start, end) = self.span(k)?;
        let (gs, ge) = self.layout.peers[k];
        let exclude = self.w.frame.exclude;
        Ok((start..end).filter(move |p| match exclude {
            FrameExclude::NoOthers => true,
            FrameExclude::CurrentRow => *p != k,
            FrameExclude::Group => !(gs..ge).contains(p),
            FrameExclude::Ties => *p == k || !(gs..ge).contains(p),
        }))
    }
}
