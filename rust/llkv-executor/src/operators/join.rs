//! Joins: a hash join on the equi-join keys (build on the right input, probe
//! with streamed left batches), or a block nested loop when there are none.
//! The residual filter decides matches, so outer joins stay correct. Semi
//! and anti joins output each left row at most once: the rows with (or
//! without) a match. A mark join outputs every left row once with its
//! three-valued marker; a single join is a left join that fails when a row
//! matches twice. An inner hash join with unique build keys and no residual
//! filter probes its later left batches on all cores, in order.

use arrow_array::{
    new_null_array, Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions, UInt32Array,
};
use std::collections::VecDeque;
use std::sync::Arc;

use rayon::prelude::*;

use arrow_schema::{DataType, Schema, SchemaRef};
use llkv_plan::types::common_type;
use llkv_plan::{BinaryOp, Error, Expr, JoinKind, LogicalPlan, Result};

use super::build_side::BuildSide;
use super::execute;
use super::join_table::{JoinTable, PairCursor, ProbeKeys};
use crate::context::{BatchIter, ExecContext};
use crate::eval::{arrow_err, conform, evaluate, evaluate_predicate};

/// Most candidate pairs materialised at once, and so the most rows of one
/// output batch.
const PAIR_BLOCK: usize = 64 * 1024;

/// Left batches per thread in one wave of a parallel probe.
const BATCHES_PER_THREAD: usize = 2;

struct JoinState {
    right: BuildSide,
    table: Option<JoinTable>,
    right_matched: Vec<bool>,
    key_types: Vec<DataType>,
    /// Equality pairs answered by the hash table.
    on: Vec<(Expr, Expr)>,
    /// The join filter plus equalities that cannot be hashed (see
    /// [`hashable`]), over the combined row.
    filter: Option<Expr>,
    kind: JoinKind,
    schema: SchemaRef,
    /// Schema of a candidate pair (left then right columns): the output
    /// schema, except for semi, anti and mark joins.
    pair_schema: SchemaRef,
    left_width: usize,
    /// What a mark join needs besides (only for [`JoinKind::Mark`]).
    mark: Option<MarkCondition>,
}

/// The whole condition of a mark join, whose marker is the three-valued OR
/// of the condition over all right rows: unlike the other kinds it must
/// tell a NULL outcome from false, so the hash table only narrows the
/// right rows to evaluate it on.
struct MarkCondition {
    /// The key equalities and the filter, over the combined row; None for
    /// no condition (every pair matches).
    condition: Option<Expr>,
    /// Right rows with a NULL key part: their equality is NULL, not false,
    /// so they are evaluated for every left row.
    null_key_rows: Vec<u32>,
}

/// What a join node asks for besides its inputs.
pub struct JoinSpec {
    /// The join kind.
    pub kind: JoinKind,
    /// Equality pairs (left expression, right expression).
    pub on: Vec<(Expr, Expr)>,
    /// The remaining join condition, over the combined row.
    pub filter: Option<Expr>,
    /// The consumer ignores the order of the output rows, so the inputs
    /// may come in any order too.
    pub any_order: bool,
}

/// Starts a join.
pub fn execute_join<'a>(
    left: &'a LogicalPlan,
    right: &'a LogicalPlan,
    spec: JoinSpec,
    schema: &SchemaRef,
    ctx: &'a ExecContext<'a>,
) -> Result<BatchIter<'a>> {
    if let Some(swapped) = super::join_order::swap_sides(left, right, &spec, schema, ctx) {
        return swapped;
    }
    let JoinSpec {
        kind,
        on,
        filter,
        any_order,
    } = spec;
    let right_schema = right.schema();
    ctx.allow_any_order(any_order);
    let right_batch = BuildSide::new(
        right_schema.clone(),
        super::execute_buffered(right, ctx, None, "a join's build side")?,
    );
    let left_schema = left.schema();
    let left_width = left_schema.fields().len();
    let mut hashed = Vec::with_capacity(on.len());
    let mut key_types = Vec::with_capacity(on.len());
    let mut residual: Vec<Expr> = filter.into_iter().collect();
    for pair in on {
        let lt = pair
            .0
            .data_type(&|i| left_schema.field(i).data_type().clone());
        let rt = pair
            .1
            .data_type(&|i| right_schema.field(i).data_type().clone());
        if hashable(&lt, &rt) {
            hashed.push(pair);
            key_types.push(join_key_type(&lt, &rt));
        } else {
            // Text against a number compares by SQLite's rules, not by a
            // common key type: check it on each candidate pair instead.
            let right_side = pair.1.clone().transform(&mut |e| match e {
                Expr::Column(i) => Expr::Column(i + left_width),
                other => other,
            });
            residual.push(Expr::binary(BinaryOp::Eq, pair.0.clone(), right_side));
        }
    }
    let on = hashed;
    let mut mark = (kind == JoinKind::Mark).then(|| {
        let keys = on.iter().map(|(l, r)| {
            let r = r.clone().transform(&mut |e| match e {
                Expr::Column(i) => Expr::Column(i + left_width),
                other => other,
            });
            Expr::binary(BinaryOp::Eq, l.clone(), r)
        });
        MarkCondition {
            condition: Expr::conjunction(keys.chain(residual.iter().cloned()).collect()),
            null_key_rows: Vec::new(),
        }
    });
    let filter = Expr::conjunction(residual);
    let mut right_keys = Vec::with_capacity(on.len());
    for (_, r) in &on {
        right_keys.push(right_batch.evaluate(r, ctx)?);
    }
    let table = if on.is_empty() {
        None
    } else {
        let keys = right_keys
            .iter()
            .zip(&key_types)
            .map(|(k, t)| conform(k.clone(), t))
            .collect::<Result<Vec<_>>>()?;
        let table = JoinTable::build(&keys, &key_types)?;
        if let Some(mark) = mark.as_mut() {
            mark.null_key_rows = (0..right_batch.num_rows() as u32)
                .filter(|i| keys.iter().any(|k| k.is_null(*i as usize)))
                .collect();
        }
        Some(table)
    };
    let pair_schema = if !kind.outputs_right() {
        let mut fields: Vec<_> = left_schema.fields().iter().cloned().collect();
        fields.extend(right_schema.fields().iter().cloned());
        Arc::new(Schema::new(fields))
    } else {
        schema.clone()
    };
    let state = JoinState {
        right_matched: vec![false; right_batch.num_rows()],
        pair_schema,
        right: right_batch,
        table,
        key_types,
        on,
        filter,
        kind,
        schema: schema.clone(),
        left_width,
        mark,
    };
    ctx.allow_any_order(any_order);
    let mut left_stream = execute(left, ctx)?;
    let wave_len = state
        .probes_in_parallel()
        .then(|| rayon::current_num_threads() * BATCHES_PER_THREAD);
    let mut state = Some(state);
    let mut probe: Option<Probe> = None;
    let mut finished_left = false;
    let mut first_batch = true;
    let mut ready: VecDeque<RecordBatch> = VecDeque::new();
    Ok(Box::new(std::iter::from_fn(move || loop {
        if let Some(batch) = ready.pop_front() {
            return Some(Ok(batch));
        }
        let st = state.as_mut()?;
        if let Some(p) = probe.as_mut() {
            match st.next_output(p, ctx) {
                Ok(Some(batch)) => return Some(Ok(batch)),
                Ok(None) => probe = None,
                Err(e) => {
                    state = None;
                    return Some(Err(e));
                }
            }
            continue;
        }
        if let (Some(wave_len), false, false) = (wave_len, first_batch, finished_left) {
            // After the first batch (a LIMIT above may need no more), the
            // left batches are probed in waves, one batch per task.
            let mut wave = Vec::with_capacity(wave_len);
            while wave.len() < wave_len {
                match left_stream.next() {
                    Some(Ok(batch)) => match st.start_probe(batch, ctx) {
                        Ok(p) => wave.push(p),
                        Err(e) => return Some(Err(e)),
                    },
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        finished_left = true;
                        break;
                    }
                }
            }
            match ctx.check_interrupt().and_then(|()| st.probe_wave(wave)) {
                Ok(batches) => ready.extend(batches),
                Err(e) => {
                    state = None;
                    return Some(Err(e));
                }
            }
            continue;
        }
        if !finished_left {
            first_batch = false;
            match left_stream.next() {
                Some(Ok(batch)) => match st.start_probe(batch, ctx) {
                    Ok(p) => probe = Some(p),
                    Err(e) => return Some(Err(e)),
                },
                Some(Err(e)) => return Some(Err(e)),
                None => finished_left = true,
            }
            continue;
        }
        let st = state.take()?;
        return if matches!(st.kind, JoinKind::Right | JoinKind::Full) {
            Some(st.unmatched_right())
        } else {
            None
        };
    })))
}

/// One left batch being joined: how far the enumeration of its candidate
/// pairs has come, so that its output leaves in blocks of at most
/// [`PAIR_BLOCK`] pairs (a cross join of large inputs never builds one
/// huge batch).
struct Probe {
    left: RecordBatch,
    /// The encoded key of each left row and whether it has no NULL part
    /// (hash joins only).
    keys: Option<ProbeKeys>,
    /// The left row whose candidates come next, and how many of its
    /// candidates were already enumerated.
    cursor: PairCursor,
    /// Left rows that found a match so far.
    matched: Vec<bool>,
    /// The final piece (unmatched or semi/anti rows) was returned.
    done: bool,
}

/// Whether equality of keys of these types is equality of their hashed
/// common-type values: both numeric, both text, both blobs (or a NULL side,
/// which never matches).
fn hashable(l: &DataType, r: &DataType) -> bool {
    let class = |t: &DataType| match t {
        DataType::Null => 0,
        DataType::Utf8 | DataType::LargeUtf8 => 2,
        DataType::Binary | DataType::LargeBinary => 3,
        DataType::Date32 | DataType::Timestamp(..) => 4,
        _ => 1,
    };
    let (a, b) = (class(l), class(r));
    a == 0 || b == 0 || a == b
}

fn join_key_type(l: &DataType, r: &DataType) -> DataType {
    if l == r || l == &DataType::Null {
        return r.clone();
    }
    match (l, r) {
        (DataType::Int64, DataType::Float64) | (DataType::Float64, DataType::Int64) => {
            DataType::Float64
        }
        _ => common_type([l, r]),
    }
}

impl JoinState {
    /// Whether left batches may be probed on all cores, each whole: an
    /// inner hash join with no residual filter (probing needs no execution
    /// context) and at most one right row per key (a batch's pairs are no
    /// more than its rows).
    fn probes_in_parallel(&self) -> bool {
        self.kind == JoinKind::Inner
            && self.filter.is_none()
            && self.mark.is_none()
            && self.table.as_ref().is_some_and(JoinTable::is_unique)
            && rayon::current_num_threads() > 1
    }

    /// The pairs of each probe of `wave`, probed in parallel, in wave
    /// order (only when [`JoinState::probes_in_parallel`]).
    fn probe_wave(&self, wave: Vec<Probe>) -> Result<Vec<RecordBatch>> {
        let Some(table) = &self.table else {
            return Ok(Vec::new());
        };
        let batches = wave
            .into_par_iter()
            .map(|mut p| {
                let n = p.left.num_rows();
                let (mut li, mut ri) = (Vec::with_capacity(n), Vec::with_capacity(n));
                if let Some(keys) = &p.keys {
                    table.collect_pairs(keys, n, &mut p.cursor, (&mut li, &mut ri), usize::MAX);
                }
                self.pair_batch(&p.left, &li, &ri)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(batches.into_iter().filter(|b| b.num_rows() > 0).collect())
    }

    /// Starts joining one left batch.
    fn start_probe(&self, left: RecordBatch, ctx: &ExecContext<'_>) -> Result<Probe> {
        let keys = match &self.table {
            Some(table) => {
                Some(table.probe_keys(&self.probe_key_columns(&left, ctx)?, &self.key_types)?)
            }
            None => None,
        };
        Ok(Probe {
            matched: vec![false; left.num_rows()],
            left,
            keys,
            cursor: PairCursor::default(),
            done: false,
        })
    }

    /// The right rows that are candidates for `row` of the probe: a hash
    /// table's matches, or every right row (nested loop).
    #[inline]
    fn candidates<'t>(&'t self, keys: &Option<ProbeKeys>, row: usize) -> Candidates<'t> {
        match (&self.table, keys) {
            (Some(table), Some(keys)) => Candidates::Listed(table.matches(keys, row)),
            _ => Candidates::All(self.right.num_rows()),
        }
    }

    /// The next output batch of `p`; None once it is exhausted.
    fn next_output(&mut self, p: &mut Probe, ctx: &ExecContext<'_>) -> Result<Option<RecordBatch>> {
        if p.done {
            return Ok(None);
        }
        if let Some(mark) = &self.mark {
            p.done = true;
            return self.mark_batch(mark, p, ctx).map(Some);
        }
        // A semi or anti join only needs to know which left rows match: it
        // keeps no pairs and skips the candidates of rows already matched.
        let left_only = self.kind.filters_left();
        if left_only && self.filter.is_none() && self.table.is_some() {
            // A key match is a match: no pairs to build.
            for row in 0..p.left.num_rows() {
                p.matched[row] = !self.candidates(&p.keys, row).is_empty();
            }
            p.done = true;
            return self.left_rows(&p.left, &p.matched).map(Some);
        }
        let n = p.left.num_rows();
        let mut li: Vec<u32> = Vec::new();
        let mut ri: Vec<u32> = Vec::new();
        loop {
            match (&self.table, &p.keys) {
                (Some(table), Some(keys)) if !left_only => {
                    table.collect_pairs(keys, n, &mut p.cursor, (&mut li, &mut ri), PAIR_BLOCK);
                }
                _ => self.collect_candidates(p, left_only, &mut li, &mut ri),
            }
            if li.is_empty() {
                p.done = true;
                return self.final_piece(p);
            }
            ctx.check_interrupt()?;
            let pairs = self.emit_pairs(&p.left, &li, &ri, &mut p.matched, ctx)?;
            li.clear();
            ri.clear();
            if !left_only && pairs.num_rows() > 0 {
                return Ok(Some(pairs));
            }
        }
    }

    /// Appends `p`'s candidate pairs to `li` and `ri` row by row, until
    /// [`PAIR_BLOCK`] pairs; a semi or anti join (`left_only`) skips the
    /// rows already matched.
    fn collect_candidates(
        &self,
        p: &mut Probe,
        left_only: bool,
        li: &mut Vec<u32>,
        ri: &mut Vec<u32>,
    ) {
        let n = p.left.num_rows();
        let c = &mut p.cursor;
        while c.row < n && li.len() < PAIR_BLOCK {
            let candidates = self.candidates(&p.keys, c.row);
            let count = candidates.len();
            if c.offset >= count || (left_only && p.matched[c.row]) {
                c.row += 1;
                c.offset = 0;
                continue;
            }
            let take = (count - c.offset).min(PAIR_BLOCK - li.len());
            for k in c.offset..c.offset + take {
                li.push(c.row as u32);
                ri.push(candidates.get(k));
            }
            c.offset += take;
        }
    }

    /// What a probe outputs after its pairs: the semi (anti) join's rows
    /// with (without) a match, or an outer join's unmatched left rows.
    fn final_piece(&self, p: &Probe) -> Result<Option<RecordBatch>> {
        if self.kind.filters_left() {
            return self.left_rows(&p.left, &p.matched).map(Some);
        }
        if !matches!(
            self.kind,
            JoinKind::Left | JoinKind::Full | JoinKind::Single
        ) {
            return Ok(None);
        }
        let missing: Vec<u32> = (0..p.left.num_rows() as u32)
            .filter(|i| !p.matched[*i as usize])
            .collect();
        if missing.is_empty() {
            return Ok(None);
        }
        let idx = UInt32Array::from(missing);
        let mut cols = take_all(p.left.columns(), &idx)?;
        for f in self.right.schema().fields() {
            cols.push(new_null_array(f.data_type(), idx.len()));
        }
        self.batch(cols, idx.len()).map(Some)
    }

    /// The join key columns of `left`, in the key types.
    fn probe_key_columns(
        &self,
        left: &RecordBatch,
        ctx: &ExecContext<'_>,
    ) -> Result<Vec<ArrayRef>> {
        self.on
            .iter()
            .zip(&self.key_types)
            .map(|((l, _), t)| conform(evaluate(l, left, ctx)?, t))
            .collect()
    }

    /// A semi join's matched left rows, or an anti join's unmatched ones.
    fn left_rows(&self, left: &RecordBatch, matched: &[bool]) -> Result<RecordBatch> {
        let want = self.kind == JoinKind::Semi;
        let mask = arrow_array::BooleanArray::from(
            matched.iter().map(|m| *m == want).collect::<Vec<bool>>(),
        );
        let batch = self.batch(left.columns().to_vec(), left.num_rows())?;
        crate::eval::filter_batch(&batch, &mask)
    }

    /// The candidate pairs `(li[k], ri[k])` as rows of the left then the
    /// right columns.
    fn pair_batch(&self, left: &RecordBatch, li: &[u32], ri: &[u32]) -> Result<RecordBatch> {
        let lidx = UInt32Array::from(li.to_vec());
        let ridx = UInt32Array::from(ri.to_vec());
        let mut cols = take_all(left.columns(), &lidx)?;
        cols.extend(self.right.take(&ridx)?);
        RecordBatch::try_new_with_options(
            self.pair_schema.clone(),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(li.len())),
        )
        .map_err(arrow_err)
    }

    fn emit_pairs(
        &mut self,
        left: &RecordBatch,
        li: &[u32],
        ri: &[u32],
        left_matched: &mut [bool],
        ctx: &ExecContext<'_>,
    ) -> Result<RecordBatch> {
        let combined = self.pair_batch(left, li, ri)?;
        let Some(filter) = &self.filter else {
            // Every pair is a match: nothing to filter out.
            for (&l, &r) in li.iter().zip(ri) {
                self.record_match(left_matched, l, r)?;
            }
            return Ok(combined);
        };
        let mask = evaluate_predicate(filter, &combined, ctx)?;
        let keep: Vec<bool> = (0..li.len())
            .map(|i| mask.is_valid(i) && mask.value(i))
            .collect();
        for (k, keep) in keep.iter().enumerate() {
            if *keep {
                self.record_match(left_matched, li[k], ri[k])?;
            }
        }
        let mask = arrow_array::BooleanArray::from(keep);
        crate::eval::filter_batch(&combined, &mask)
    }

    /// Notes that left row `l` matched right row `r`; a single join's
    /// left row may match once only.
    #[inline]
    fn record_match(&mut self, left_matched: &mut [bool], l: u32, r: u32) -> Result<()> {
        let seen = std::mem::replace(&mut left_matched[l as usize], true);
        if seen && self.kind == JoinKind::Single {
            return Err(Error::data(
                "more than one row matched a row of a single join \
                 (as a scalar subquery returning more than one row)",
            ));
        }
        self.right_matched[r as usize] = true;
        Ok(())
    }

    /// A mark join's output for one left batch: its rows, each with the
    /// three-valued OR of the condition over the right rows (see
    /// [`JoinKind::Mark`]). With a hash table, a left row whose key has no
    /// NULL part is tested against its key's rows and the right rows with a
    /// NULL key part only: for every other row some key part differs, so
    /// the condition is false. A left key with a NULL part is tested
    /// against every right row.
    fn mark_batch(
        &self,
        mark: &MarkCondition,
        p: &Probe,
        ctx: &ExecContext<'_>,
    ) -> Result<RecordBatch> {
        let n = p.left.num_rows();
        let mut marker: Vec<Option<bool>> = vec![Some(false); n];
        let mut li: Vec<u32> = Vec::new();
        let mut ri: Vec<u32> = Vec::new();
        let all: Vec<u32> = match (&self.table, &p.keys) {
            (Some(_), Some(keys)) if (0..n).all(|row| !keys.is_null(row)) => Vec::new(),
            _ => (0..self.right.num_rows() as u32).collect(),
        };
        for row in 0..n {
            let (listed, extra): (&[u32], &[u32]) = match (&self.table, &p.keys) {
                (Some(table), Some(keys)) if !keys.is_null(row) => {
                    (table.matches(keys, row), &mark.null_key_rows)
                }
                _ => (&all, &[]),
            };
            for &r in listed.iter().chain(extra) {
                li.push(row as u32);
                ri.push(r);
                if li.len() >= PAIR_BLOCK {
                    self.fold_marks(mark, &p.left, &li, &ri, &mut marker, ctx)?;
                    li.clear();
                    ri.clear();
                }
            }
        }
        self.fold_marks(mark, &p.left, &li, &ri, &mut marker, ctx)?;
        let mut cols = p.left.columns().to_vec();
        cols.push(Arc::new(BooleanArray::from(marker)));
        self.batch(cols, n)
    }

    /// Folds the condition's outcome on the pairs `(li[k], ri[k])` into
    /// their left rows' markers: true wins, then NULL, then false.
    fn fold_marks(
        &self,
        mark: &MarkCondition,
        left: &RecordBatch,
        li: &[u32],
        ri: &[u32],
        marker: &mut [Option<bool>],
        ctx: &ExecContext<'_>,
    ) -> Result<()> {
        if li.is_empty() {
            return Ok(());
        }
        let Some(condition) = &mark.condition else {
            for &l in li {
                marker[l as usize] = Some(true);
            }
            return Ok(());
        };
        ctx.check_interrupt()?;
        let pairs = self.pair_batch(left, li, ri)?;
        let outcome = evaluate_predicate(condition, &pairs, ctx)?;
        for (k, &l) in li.iter().enumerate() {
            let m = &mut marker[l as usize];
            if outcome.is_null(k) {
                if *m == Some(false) {
                    *m = None;
                }
            } else if outcome.value(k) {
                *m = Some(true);
            }
        }
        Ok(())
    }

    fn unmatched_right(self) -> Result<RecordBatch> {
        let missing: Vec<u32> = (0..self.right.num_rows() as u32)
            .filter(|i| !self.right_matched[*i as usize])
            .collect();
        let idx = UInt32Array::from(missing);
        let mut cols: Vec<ArrayRef> = self.schema.fields()[..self.left_width]
            .iter()
            .map(|f| new_null_array(f.data_type(), idx.len()))
            .collect();
        cols.extend(self.right.take(&idx)?);
        self.batch(cols, idx.len())
    }

    fn batch(&self, cols: Vec<ArrayRef>, rows: usize) -> Result<RecordBatch> {
        RecordBatch::try_new_with_options(
            self.schema.clone(),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(arrow_err)
    }
}

/// The right rows a left row may pair with.
enum Candidates<'t> {
    /// Those the hash table lists for the row's key.
    Listed(&'t [u32]),
    /// All `n` right rows (no equi-join key).
    All(usize),
}

impl Candidates<'_> {
    fn len(&self) -> usize {
        match self {
            Candidates::Listed(rows) => rows.len(),
            Candidates::All(n) => *n,
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, k: usize) -> u32 {
        match self {
            Candidates::Listed(rows) => rows[k],
            Candidates::All(_) => k as u32,
        }
    }
}

fn take_all(columns: &[ArrayRef], idx: &UInt32Array) -> Result<Vec<ArrayRef>> {
    columns
        .iter()
        .map(|c| arrow_select::take::take(c.as_ref(), idx, None).map_err(arrow_err))
        .collect()
}
