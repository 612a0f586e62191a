//! Hash aggregation of large inputs on all cores.
//!
//! For aggregates whose partial states merge (COUNT, SUM, AVG, MIN, MAX
//! without DISTINCT or ORDER BY), the input's batches are read and their
//! key and argument columns computed on the calling thread. The first
//! batch is grouped there too; when it shows few groups for its rows, the
//! following batches are grouped in waves: each wave of two batches per
//! thread is split between per-thread group tables, which are merged into
//! the main table at the end. Once the groups are many next to the rows,
//! the rest of the input is grouped on the calling thread (merging many
//! groups costs what the threads saved). An input shorter than one wave is
//! aggregated on the calling thread alone, exactly as the serial path
//! does, so small queries keep their group order and floating-point sums.

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::DataType;
use llkv_plan::{AggregateExpr, Error, Expr, Result, TableId, Value};
use rayon::prelude::*;

use super::aggregate::{refuse_nested_argument, GroupTable};
use super::aggregate_update::{typed_update, GroupState};
use super::apply_filters;
use crate::context::{BatchIter, ExecContext, TableProvider};
use crate::eval::{conform, evaluate};
use crate::scalar::{array_from_values, value_at};

/// Batches per thread in one wave.
const BATCHES_PER_THREAD: usize = 2;

/// Waves continue while the per-thread tables hold fewer groups than one
/// in this many rows of the last wave.
const MAX_GROUP_SHARE: usize = 16;

/// A batch's grouping keys and aggregate arguments, computed.
struct Prepared {
    rows: usize,
    terms: Vec<ArrayRef>,
    args: Vec<Option<ArrayRef>>,
}

/// What an aggregation computes: its GROUP BY terms (of `key_types`) and
/// its aggregate calls.
pub(super) struct Plan<'a> {
    /// The GROUP BY terms.
    pub terms: &'a [Expr],
    /// Their types.
    pub key_types: &'a [DataType],
    /// The aggregate calls, all mergeable.
    pub aggregates: &'a [AggregateExpr],
    /// Conjuncts the input's rows must pass first (a Filter node's, taken
    /// into the aggregation so that threads apply them too); all
    /// [`self_contained`], like the terms and arguments when not empty.
    pub filters: &'a [Expr],
}

impl Plan<'_> {
    /// Aggregates `source` into `table`.
    pub(super) fn run(
        &self,
        source: BatchIter<'_>,
        table: &mut GroupTable,
        new_group: &(impl Fn() -> GroupState + Sync),
        ctx: &ExecContext<'_>,
    ) -> Result<()> {
        let threads = rayon::current_num_threads();
        let wave_len = threads * BATCHES_PER_THREAD;
        let mut partials: Vec<GroupTable> = Vec::new();
        let mut wave: Vec<RecordBatch> = Vec::with_capacity(wave_len);
        let mut groups_held = table.groups.len();
        // Decided on the first batch, grouped on this thread.
        let mut parallel: Option<bool> = None;
        for batch in source {
            let batch = batch?;
            if batch.num_rows() == 0 {
                continue;
            }
            if parallel != Some(true) {
                let rows = self.group_here(table, batch, new_group, ctx)?;
                if parallel.is_none() && rows > 0 {
                    parallel = Some(table.groups.len() * MAX_GROUP_SHARE < rows);
                }
                continue;
            }
            wave.push(batch);
            if wave.len() < wave_len {
                continue;
            }
            ctx.check_interrupt()?;
            if partials.is_empty() {
                partials = (0..threads)
                    .map(|_| GroupTable::new(self.key_types))
                    .collect::<Result<_>>()?;
            }
            // Each thread filters, evaluates and groups its batches with a
            // context of its own (`self_contained` plans need nothing of
            // the statement's).
            let samples = partials
                .par_iter_mut()
                .zip(wave.par_chunks(BATCHES_PER_THREAD))
                .map(|(part, batches)| {
                    let detached = ExecContext::new(&NoTables, &[]);
                    let mut sample = Sample::default();
                    for batch in batches {
                        let batch = apply_filters(batch.clone(), self.filters, &detached)?;
                        if batch.num_rows() == 0 {
                            continue;
                        }
                        let p = self.prepare(&batch, &detached)?;
                        self.absorb(part, &p, new_group)?;
                        sample.add(p.sample());
                    }
                    Ok(sample)
                })
                .collect::<Result<Vec<Sample>>>()?;
            let mut sample = Sample::default();
            samples.into_iter().for_each(|s| sample.add(s));
            let groups: usize = partials.iter().map(|p| p.groups.len()).sum();
            self.hold(ctx, sample, groups.saturating_sub(groups_held))?;
            groups_held = groups_held.max(groups);
            // Many groups make the merge cost what the threads saved: the
            // rest of the input goes to the main table.
            parallel = Some(groups * MAX_GROUP_SHARE < sample.rows);
            wave.clear();
        }
        for part in partials {
            self.merge(table, part, new_group)?;
        }
        for batch in wave {
            self.group_here(table, batch, new_group, ctx)?;
        }
        Ok(())
    }

    /// Filters and groups `batch` into `table` on the calling thread;
    /// returns the rows that passed the filters.
    fn group_here(
        &self,
        table: &mut GroupTable,
        batch: RecordBatch,
        new_group: &(impl Fn() -> GroupState + Sync),
        ctx: &ExecContext<'_>,
    ) -> Result<usize> {
        let batch = apply_filters(batch, self.filters, ctx)?;
        if batch.num_rows() == 0 {
            return Ok(0);
        }
        let p = self.prepare(&batch, ctx)?;
        let before = table.groups.len();
        self.absorb(table, &p, new_group)?;
        self.hold(ctx, p.sample(), table.groups.len() - before)?;
        Ok(p.rows)
    }

    /// Computes a batch's keys and arguments (on the calling thread, which
    /// owns the execution context).
    fn prepare(&self, batch: &RecordBatch, ctx: &ExecContext<'_>) -> Result<Prepared> {
        let terms = self
            .terms
            .iter()
            .zip(self.key_types)
            .map(|(e, t)| conform(evaluate(e, batch, ctx)?, t))
            .collect::<Result<Vec<_>>>()?;
        let args = self
            .aggregates
            .iter()
            .map(|agg| {
                let arg = match &agg.arg {
                    Some(e) => Some(evaluate(e, batch, ctx)?),
                    None => None,
                };
                refuse_nested_argument(agg, arg.as_ref())?;
                Ok(arg)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Prepared {
            rows: batch.num_rows(),
            terms,
            args,
        })
    }

    /// Adds a prepared batch to `table`.
    fn absorb(
        &self,
        table: &mut GroupTable,
        p: &Prepared,
        new_group: &(impl Fn() -> GroupState + Sync),
    ) -> Result<()> {
        let ids = [table.group_ids(&p.terms, p.rows, new_group)?];
        for (k, agg) in self.aggregates.iter().enumerate() {
            let arg = p.args[k].as_ref();
            if typed_update(agg, arg, &ids, &mut table.groups, k)? {
                continue;
            }
            let mut rows = Vec::with_capacity(p.rows);
            ids[0].for_each(|i, g| rows.push((i, g)));
            for (i, g) in rows {
                let v = arg.map_or(Value::Integer(1), |a| value_at(a.as_ref(), i));
                table.groups[g][k].add(agg, v, Value::Null, vec![])?;
            }
        }
        Ok(())
    }

    /// Adds the groups of `part` to `table`.
    fn merge(
        &self,
        table: &mut GroupTable,
        part: GroupTable,
        new_group: &(impl Fn() -> GroupState + Sync),
    ) -> Result<()> {
        let GroupTable { keys, groups, .. } = part;
        if groups.is_empty() {
            return Ok(());
        }
        let key_arrays = self
            .key_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let values: Vec<Value> = keys.iter().map(|k| k[i].clone()).collect();
                array_from_values(t, &values)
            })
            .collect::<Result<Vec<_>>>()?;
        let ids = table.group_ids(&key_arrays, keys.len(), new_group)?;
        let mut pairs = Vec::with_capacity(keys.len());
        ids.for_each(|i, g| pairs.push((i, g)));
        for (i, g) in pairs {
            for (k, agg) in self.aggregates.iter().enumerate() {
                table.groups[g][k].merge(agg, &groups[i][k])?;
            }
        }
        Ok(())
    }

    /// Accounts `new_groups` groups against the statement's memory limit
    /// (sized from `sample`'s keys, as the serial path does).
    fn hold(&self, ctx: &ExecContext<'_>, sample: Sample, new_groups: usize) -> Result<()> {
        if new_groups == 0 {
            return Ok(());
        }
        let per_group = sample.key_bytes / sample.rows.max(1) + 64 * (self.aggregates.len() + 1);
        ctx.hold_bytes(new_groups * per_group, "an aggregation's groups")
    }
}

impl Prepared {
    fn sample(&self) -> Sample {
        Sample {
            rows: self.rows,
            key_bytes: self.terms.iter().map(|a| a.get_array_memory_size()).sum(),
        }
    }
}

/// Rows grouped and the memory of their key columns, to size groups by.
#[derive(Default, Clone, Copy)]
struct Sample {
    rows: usize,
    key_bytes: usize,
}

impl Sample {
    fn add(&mut self, other: Sample) {
        self.rows += other.rows;
        self.key_bytes += other.key_bytes;
    }
}

/// The provider of a worker thread's context: plans evaluated there are
/// self-contained (see [`self_contained`]), so it is never asked for rows.
struct NoTables;

impl TableProvider for NoTables {
    fn scan(&self, _table: TableId, _columns: &[usize]) -> Result<BatchIter<'_>> {
        Err(Error::internal("a worker thread's expression read a table"))
    }
}

/// Whether `expr` evaluates the same under any context: it reads no
/// subquery and no enclosing row.
pub(super) fn self_contained(expr: &Expr) -> bool {
    let mut alone = true;
    expr.visit(&mut |e| {
        if matches!(e, Expr::Subquery { .. } | Expr::OuterColumn { .. }) {
            alone = false;
        }
    });
    alone
}
