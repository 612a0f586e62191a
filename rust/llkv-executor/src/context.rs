//! Per-statement execution state: where tables come from, the statement's
//! subquery plans, and the stack of enclosing rows for correlated subqueries.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use llkv_plan::{LogicalPlan, Result, TableId};

/// A stream of record batches.
pub type BatchIter<'a> = Box<dyn Iterator<Item = Result<RecordBatch>> + 'a>;

/// Supplies the rows of stored tables visible to the running transaction.
pub trait TableProvider {
    /// Streams the visible rows of `table`, with the table's columns at
    /// positions `columns`, in that order.
    fn scan(&self, table: TableId, columns: &[usize]) -> Result<BatchIter<'_>>;

    /// Like [`TableProvider::scan`], told the conjuncts (over the output
    /// columns) that the caller applies to the rows afterwards, so that it
    /// may skip rows they reject (through an index). It may return more
    /// rows than the filters keep, never fewer.
    fn scan_filtered(
        &self,
        table: TableId,
        columns: &[usize],
        filters: &[llkv_plan::Expr],
    ) -> Result<BatchIter<'_>> {
        let _ = filters;
        self.scan(table, columns)
    }

    /// Like [`TableProvider::scan_filtered`], for a caller whose result
    /// does not depend on the order of the rows (an aggregate without
    /// order-sensitive functions): a provider that puts rows in a particular
    /// order may skip that work.
    fn scan_filtered_any_order(
        &self,
        table: TableId,
        columns: &[usize],
        filters: &[llkv_plan::Expr],
    ) -> Result<BatchIter<'_>> {
        self.scan_filtered(table, columns, filters)
    }

    /// How [`TableProvider::scan_filtered`] would read `table` under
    /// `filters`, for EXPLAIN (`SeqScan`, or an index scan naming its index).
    fn describe_scan(
        &self,
        table: TableId,
        columns: &[usize],
        filters: &[llkv_plan::Expr],
    ) -> String {
        let _ = (table, columns, filters);
        "SeqScan".to_string()
    }

    /// About how many rows `table` holds (for choosing a join's build
    /// side); None when unknown.
    fn estimated_rows(&self, table: TableId) -> Option<usize> {
        let _ = table;
        None
    }

    /// The cancellation state statements over this provider check.
    fn interrupt(&self) -> Option<&llkv_plan::Interrupt> {
        None
    }

    /// Most bytes a statement's blocking operators may buffer (see
    /// [`ExecContext::hold`]); None for no limit.
    fn memory_limit(&self) -> Option<usize> {
        None
    }
}

/// What EXPLAIN ANALYZE measured of one plan node.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeStats {
    /// Rows the node produced.
    pub rows: u64,
    /// Batches the node produced.
    pub batches: u64,
    /// Time spent in the node, its inputs included.
    pub elapsed: std::time::Duration,
}

/// The result of an uncorrelated subquery, computed once per statement.
#[derive(Debug, Clone)]
pub(crate) struct SubqueryRows {
    /// First column of the result (the only one used).
    pub column: ArrayRef,
}

/// Execution state of one statement.
pub struct ExecContext<'a> {
    /// Source of stored rows.
    pub provider: &'a dyn TableProvider,
    /// Subquery plans referenced by `Expr::Subquery::id`.
    pub subqueries: &'a [LogicalPlan],
    outer: RefCell<Vec<(RecordBatch, usize)>>,
    cache: RefCell<HashMap<usize, Arc<SubqueryRows>>>,
    /// The working tables of the recursive CTEs being evaluated, by id.
    working: RefCell<HashMap<usize, Arc<[RecordBatch]>>>,
    /// Per-node measurements (keyed by the node's address) when profiling.
    profile: Option<RefCell<HashMap<usize, NodeStats>>>,
    /// Checked before every batch an operator produces.
    interrupt: Option<&'a llkv_plan::Interrupt>,
    /// The connection's memory limit, and the bytes buffered so far.
    memory_limit: Option<usize>,
    held: std::cell::Cell<usize>,
    /// Set just before an operator opens an input whose row order does not
    /// matter to it; taken (and cleared) by that input's `execute`.
    any_order: std::cell::Cell<bool>,
}

impl<'a> ExecContext<'a> {
    /// Tells the next plan node opened that its consumer ignores row order
    /// (`yes`), or not.
    pub(crate) fn allow_any_order(&self, yes: bool) {
        self.any_order.set(yes);
    }

    /// Whether the node being opened may produce its rows in any order;
    /// clears the flag, so nodes below decide for themselves.
    pub(crate) fn take_any_order(&self) -> bool {
        self.any_order.replace(false)
    }

    /// A context for one statement.
    pub fn new(provider: &'a dyn TableProvider, subqueries: &'a [LogicalPlan]) -> Self {
        ExecContext {
            provider,
            subqueries,
            outer: RefCell::new(Vec::new()),
            cache: RefCell::new(HashMap::new()),
            working: RefCell::new(HashMap::new()),
            profile: None,
            interrupt: provider.interrupt(),
            memory_limit: provider.memory_limit(),
            held: std::cell::Cell::new(0),
            any_order: std::cell::Cell::new(false),
        }
    }

    /// Accounts for `batches` that an operator buffers (`what`: a sort, a
    /// hash join's build side..): fails with an OperationalError once the
    /// statement's buffers pass the connection's memory limit. Buffers
    /// count until the statement ends (an upper bound of what it holds at
    /// once).
    pub fn hold(&self, batches: &[RecordBatch], what: &str) -> Result<()> {
        if self.memory_limit.is_none() {
            return Ok(());
        }
        let bytes: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
        self.hold_bytes(bytes, what)
    }

    /// Like [`ExecContext::hold`], for `bytes` of other state (an
    /// aggregation's groups).
    pub fn hold_bytes(&self, bytes: usize, what: &str) -> Result<()> {
        let Some(limit) = self.memory_limit else {
            return Ok(());
        };
        let held = self.held.get().saturating_add(bytes);
        self.held.set(held);
        if held > limit {
            return Err(llkv_plan::Error::operational(format!(
                "memory_limit of {limit} bytes exceeded: {what} needs to hold {held} bytes \
                 (raise it with SET memory_limit = '...')"
            )));
        }
        Ok(())
    }

    /// `Err("interrupted")` once the connection asked the statement to stop.
    pub fn check_interrupt(&self) -> Result<()> {
        match self.interrupt {
            Some(interrupt) => interrupt.check(),
            None => Ok(()),
        }
    }

    /// The cancellation state, for work spread over threads (which cannot
    /// share the context itself).
    pub(crate) fn interrupt(&self) -> Option<&'a llkv_plan::Interrupt> {
        self.interrupt
    }

    /// True when statements run under a cancellation state.
    pub(crate) fn interruptible(&self) -> bool {
        self.interrupt.is_some()
    }

    /// Measures rows and time of every plan node run (EXPLAIN ANALYZE).
    pub fn with_profiling(mut self) -> Self {
        self.profile = Some(RefCell::new(HashMap::new()));
        self
    }

    /// True when nodes are measured.
    pub(crate) fn profiling(&self) -> bool {
        self.profile.is_some()
    }

    /// Adds a measurement to `node`'s totals.
    pub(crate) fn record(
        &self,
        node: &LogicalPlan,
        elapsed: std::time::Duration,
        rows: usize,
        batches: usize,
    ) {
        if let Some(profile) = &self.profile {
            let mut profile = profile.borrow_mut();
            let stats = profile
                .entry(node as *const LogicalPlan as usize)
                .or_default();
            stats.elapsed += elapsed;
            stats.rows += rows as u64;
            stats.batches += batches as u64;
        }
    }

    /// What was measured of `node` (None when it never ran or without
    /// profiling).
    pub fn stats(&self, node: &LogicalPlan) -> Option<NodeStats> {
        let profile = self.profile.as_ref()?.borrow();
        profile.get(&(node as *const LogicalPlan as usize)).copied()
    }

    /// Sets (or with None, removes) the working table of recursive CTE `id`.
    pub(crate) fn set_working_table(&self, id: usize, rows: Option<Arc<[RecordBatch]>>) {
        let mut working = self.working.borrow_mut();
        match rows {
            Some(rows) => working.insert(id, rows),
            None => working.remove(&id),
        };
    }

    /// The current working table of recursive CTE `id`.
    pub(crate) fn working_table(&self, id: usize) -> Option<Arc<[RecordBatch]>> {
        self.working.borrow().get(&id).cloned()
    }

    /// `expr` with references to enclosing rows replaced by their values.
    pub fn bind_outer_columns(&self, expr: &llkv_plan::Expr) -> llkv_plan::Expr {
        use llkv_plan::Expr;
        expr.clone().transform(&mut |e| match e {
            Expr::OuterColumn { depth, index, .. } => match self.outer_row(depth) {
                Some((batch, row)) => match batch.columns().get(index) {
                    Some(col) => Expr::Literal(crate::scalar::value_at(col.as_ref(), row)),
                    None => e,
                },
                None => e,
            },
            other => other,
        })
    }

    /// The enclosing row `depth` levels out (0 = innermost), if any.
    pub(crate) fn outer_row(&self, depth: usize) -> Option<(RecordBatch, usize)> {
        let stack = self.outer.borrow();
        let n = stack.len();
        if depth < n {
            Some(stack[n - 1 - depth].clone())
        } else {
            None
        }
    }

    /// Runs `f` with `(batch, row)` pushed as the innermost enclosing row.
    pub fn with_outer_row<T>(
        &self,
        batch: &RecordBatch,
        row: usize,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.outer.borrow_mut().push((batch.clone(), row));
        let out = f();
        self.outer.borrow_mut().pop();
        out
    }

    pub(crate) fn cached(&self, id: usize) -> Option<Arc<SubqueryRows>> {
        self.cache.borrow().get(&id).cloned()
    }

    pub(crate) fn store(&self, id: usize, rows: Arc<SubqueryRows>) {
        self.cache.borrow_mut().insert(id, rows);
    }
}
