//! Logical plans: trees of relational operators over bound expressions.

use arrow_schema::{DataType, SchemaRef};

use crate::expr::Expr;
use crate::window::WindowExpr;
use crate::Value;

/// Identifies a stored table in the catalog.
pub type TableId = u32;

/// Arrow data a connection registered under a name (`register`): queryable
/// like a read-only table, read in place.
#[derive(Debug, Clone)]
pub struct Relation {
    /// The name as registered.
    pub name: String,
    /// Its schema.
    pub schema: SchemaRef,
    /// Its rows.
    pub batches: std::sync::Arc<[arrow_array::RecordBatch]>,
}

/// A connection's registered relations by lower-case name.
pub type Relations = std::sync::Arc<std::collections::BTreeMap<String, Relation>>;

/// Rows that come from outside the database (a Parquet or CSV file),
/// streamed each time the plan runs.
pub trait ExternalSource: std::fmt::Debug + Send + Sync {
    /// How EXPLAIN names the source, e.g. `read_parquet('data.parquet')`.
    fn describe(&self) -> String;

    /// Starts reading: batches in the schema the source was bound with.
    fn open(
        &self,
    ) -> crate::Result<Box<dyn Iterator<Item = crate::Result<arrow_array::RecordBatch>>>>;
}

/// A relational operator tree. Every node knows its output schema.
/// The position in a [`LogicalPlan::Scan`]'s `columns` that stands for the
/// table's `rowid` pseudo-column (a row's stable identity, BIGINT) rather
/// than a table column.
pub const ROWID_COLUMN: usize = usize::MAX;

#[derive(Debug, Clone)]
pub enum LogicalPlan {
    /// Rows of a stored table visible to the running transaction.
    Scan {
        /// Which table.
        table: TableId,
        /// Table column positions to read, in output order.
        columns: Vec<usize>,
        /// Conjuncts over the *output* columns, applied while scanning.
        filters: Vec<Expr>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Arrow data registered by a connection (`register`), read in place.
    Batches {
        /// The batches, shared with the registration (no copy).
        batches: std::sync::Arc<[arrow_array::RecordBatch]>,
        /// Output schema (the batches' own).
        schema: SchemaRef,
    },
    /// Rows read from a file (`read_parquet`, `read_csv`).
    External {
        /// Where the rows come from.
        source: std::sync::Arc<dyn ExternalSource>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Literal rows (`VALUES`, and the single empty row of a FROM-less SELECT).
    Values {
        /// One vector of expressions per row (they may not read input columns).
        rows: Vec<Vec<Expr>>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Keeps rows where the predicate is TRUE.
    Filter {
        /// The input.
        input: Box<LogicalPlan>,
        /// The predicate over the input's columns.
        predicate: Expr,
    },
    /// Computes expressions over each input row.
    Project {
        /// The input.
        input: Box<LogicalPlan>,
        /// One expression per output column.
        exprs: Vec<Expr>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Groups and aggregates; output is the group keys then the aggregates.
    Aggregate {
        /// The input.
        input: Box<LogicalPlan>,
        /// Grouping expressions over the input.
        group_by: Vec<Expr>,
        /// GROUPING SETS, each the indexes of its `group_by` terms; empty
        /// for an ordinary GROUP BY. When present, the last `group_by` term
        /// is a placeholder whose output is the row's grouping id: bit `j`
        /// set when term `j` is not grouped (its output is NULL).
        grouping_sets: Vec<Vec<usize>>,
        /// Aggregate calls over the input.
        aggregates: Vec<AggregateExpr>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Joins two inputs; output is the left columns then the right columns.
    Join {
        /// Left input.
        left: Box<LogicalPlan>,
        /// Right input.
        right: Box<LogicalPlan>,
        /// Join kind.
        kind: JoinKind,
        /// Equi-join keys (left expr over left input, right expr over right input).
        on: Vec<(Expr, Expr)>,
        /// Extra condition over the concatenated columns.
        filter: Option<Expr>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Window calls: the input's columns, then one column per call.
    Window {
        /// The input.
        input: Box<LogicalPlan>,
        /// The calls, over the input's columns.
        functions: Vec<WindowExpr>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Orders rows.
    Sort {
        /// The input.
        input: Box<LogicalPlan>,
        /// Sort keys, most significant first.
        keys: Vec<SortKey>,
    },
    /// Skips and limits rows.
    Limit {
        /// The input.
        input: Box<LogicalPlan>,
        /// Rows to skip.
        offset: usize,
        /// Maximum rows to return.
        limit: Option<usize>,
    },
    /// Removes duplicate rows.
    Distinct {
        /// The input.
        input: Box<LogicalPlan>,
    },
    /// UNION / INTERSECT / EXCEPT.
    SetOp {
        /// Left input.
        left: Box<LogicalPlan>,
        /// Right input.
        right: Box<LogicalPlan>,
        /// Which operation.
        op: SetOpKind,
        /// Keep duplicates (ALL).
        all: bool,
        /// Output schema (column names from the left input).
        schema: SchemaRef,
    },
    /// `WITH RECURSIVE name AS (anchor UNION [ALL] recursive)`: the anchor's
    /// rows, then the recursive term run again and again over the rows the
    /// previous round added (its [`LogicalPlan::WorkingTable`]) until a
    /// round adds none.
    RecursiveCte {
        /// Identifies the working table the recursive term reads.
        id: usize,
        /// The CTE's name (for error messages).
        name: String,
        /// The non-recursive term.
        anchor: Box<LogicalPlan>,
        /// The term that reads the working table.
        recursive: Box<LogicalPlan>,
        /// UNION ALL keeps duplicates; UNION drops rows seen before (which
        /// also ends cycles).
        all: bool,
        /// Stop once this many rows were produced (a LIMIT on the CTE's query).
        limit: Option<usize>,
        /// Output schema (the anchor's types, the CTE's column names).
        schema: SchemaRef,
    },
    /// Inside a recursive term: the rows the previous round of recursive
    /// CTE `id` added.
    WorkingTable {
        /// The [`LogicalPlan::RecursiveCte`] it belongs to.
        id: usize,
        /// Output schema.
        schema: SchemaRef,
    },
}

/// Join kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// Inner join (and cross join with no condition).
    Inner,
    /// Left outer join.
    Left,
    /// Right outer join.
    Right,
    /// Full outer join.
    Full,
    /// Left semi join: the left rows that have a match, each once; the
    /// output has only the left columns (`EXISTS`, DuckDB's `SEMI JOIN`).
    Semi,
    /// Left anti join: the left rows without a match; the output has only
    /// the left columns (`NOT EXISTS`, DuckDB's `ANTI JOIN`).
    Anti,
    /// Mark join: every left row once, followed by a BOOLEAN column
    /// [`MARK_COLUMN`] holding the three-valued OR of the join condition
    /// over all right rows (true if one matches, NULL if none matches but
    /// one gives NULL, false otherwise; false for an empty right side):
    /// what `x IN (subquery)` answers. DuckDB's `JOIN BY (TYPE mark)`.
    Mark,
    /// Single join: a left outer join in which a left row matching a
    /// second right row is an error, as a scalar subquery returning two
    /// rows is. DuckDB's `JOIN BY (TYPE single)`.
    Single,
}

/// Name of the column a mark join adds.
pub const MARK_COLUMN: &str = "__mark_join_marker";

impl JoinKind {
    /// True for semi and anti joins, whose output is the left input's rows.
    pub fn filters_left(self) -> bool {
        matches!(self, JoinKind::Semi | JoinKind::Anti)
    }

    /// True when the output holds the right input's columns (all kinds
    /// but semi, anti and mark joins).
    pub fn outputs_right(self) -> bool {
        !matches!(self, JoinKind::Semi | JoinKind::Anti | JoinKind::Mark)
    }
}

/// Set operations of compound SELECTs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOpKind {
    /// UNION
    Union,
    /// INTERSECT
    Intersect,
    /// EXCEPT
    Except,
}

/// One ORDER BY key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// The key expression over the input.
    pub expr: Expr,
    /// Descending order.
    pub descending: bool,
    /// NULLs sort before non-NULLs.
    pub nulls_first: bool,
}

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    /// COUNT(*)
    CountStar,
    /// COUNT(x)
    Count,
    /// SUM(x): integer for integers (error on overflow), NULL for no rows.
    Sum,
    /// TOTAL(x): always a float, 0.0 for no rows.
    Total,
    /// AVG(x)
    Avg,
    /// MIN(x)
    Min,
    /// MAX(x)
    Max,
    /// GROUP_CONCAT(x [, sep]) / STRING_AGG(x, sep)
    GroupConcat,
    /// Any value of the group (SQLite's bare columns in aggregate queries).
    AnyValue,
    /// BOOL_AND(x): true when every non-NULL value is true.
    BoolAnd,
    /// BOOL_OR(x): true when some non-NULL value is true.
    BoolOr,
    /// STDDEV_SAMP(x) / STDDEV(x)
    StddevSamp,
    /// STDDEV_POP(x)
    StddevPop,
    /// VAR_SAMP(x) / VARIANCE(x)
    VarSamp,
    /// VAR_POP(x)
    VarPop,
    /// MEDIAN(x): QUANTILE_CONT(x, 0.5) of numbers, the lower middle value
    /// of other types.
    Median,
    /// QUANTILE_CONT(x, p) / PERCENTILE_CONT(p) WITHIN GROUP (ORDER BY x):
    /// interpolated between the two nearest values.
    QuantileCont,
    /// QUANTILE_DISC(x, p) / PERCENTILE_DISC(p) WITHIN GROUP (ORDER BY x):
    /// the first value whose cumulative share reaches `p`.
    QuantileDisc,
    /// ARG_MIN(x, key): `x` of the row with the smallest `key` (the first
    /// such row); rows where either is NULL are skipped.
    ArgMin,
    /// ARG_MAX(x, key): `x` of the row with the largest `key`.
    ArgMax,
}

impl AggregateFunction {
    /// True when the result depends on the order rows arrive in (ties of
    /// ARG_MIN/ARG_MAX, GROUP_CONCAT's order, ANY_VALUE's pick).
    pub fn is_order_sensitive(self) -> bool {
        matches!(
            self,
            AggregateFunction::GroupConcat
                | AggregateFunction::AnyValue
                | AggregateFunction::ArgMin
                | AggregateFunction::ArgMax
        )
    }
}

/// One aggregate call.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    /// The function.
    pub func: AggregateFunction,
    /// Its argument (absent for COUNT(*)).
    pub arg: Option<Expr>,
    /// Aggregate distinct values only.
    pub distinct: bool,
    /// The ordering key of ARG_MIN/ARG_MAX.
    pub key: Option<Expr>,
    /// The constant second argument: GROUP_CONCAT's separator or a
    /// quantile's fraction.
    pub param: Option<Value>,
    /// `agg(x ORDER BY k)`: the order rows are fed in (kept only for
    /// order-sensitive aggregates).
    pub order_by: Vec<SortKey>,
    /// Result type.
    pub data_type: DataType,
}

impl LogicalPlan {
    /// The output schema.
    pub fn schema(&self) -> SchemaRef {
        match self {
            LogicalPlan::Scan { schema, .. }
            | LogicalPlan::Batches { schema, .. }
            | LogicalPlan::External { schema, .. }
            | LogicalPlan::Values { schema, .. }
            | LogicalPlan::Project { schema, .. }
            | LogicalPlan::Aggregate { schema, .. }
            | LogicalPlan::Window { schema, .. }
            | LogicalPlan::Join { schema, .. }
            | LogicalPlan::SetOp { schema, .. }
            | LogicalPlan::RecursiveCte { schema, .. }
            | LogicalPlan::WorkingTable { schema, .. } => schema.clone(),
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::Distinct { input } => input.schema(),
        }
    }

    /// Calls `f` on every expression of this node and of all nodes below
    /// (not entering subquery plans).
    pub fn visit_exprs(&self, f: &mut impl FnMut(&Expr)) {
        match self {
            LogicalPlan::Scan { filters, .. } => filters.iter().for_each(|e| e.visit(f)),
            LogicalPlan::Batches { .. }
            | LogicalPlan::External { .. }
            | LogicalPlan::WorkingTable { .. } => {}
            LogicalPlan::Values { rows, .. } => {
                rows.iter().flatten().for_each(|e| e.visit(f));
            }
            LogicalPlan::Filter { input, predicate } => {
                predicate.visit(f);
                input.visit_exprs(f);
            }
            LogicalPlan::Project { input, exprs, .. } => {
                exprs.iter().for_each(|e| e.visit(f));
                input.visit_exprs(f);
            }
            LogicalPlan::Aggregate {
                input,
                group_by,
                grouping_sets,
                aggregates,
                ..
            } => {
                // The grouping-id placeholder is no expression over the input.
                let terms = group_by.len() - usize::from(!grouping_sets.is_empty());
                group_by[..terms].iter().for_each(|e| e.visit(f));
                aggregates
                    .iter()
                    .flat_map(|a| {
                        a.arg
                            .iter()
                            .chain(&a.key)
                            .chain(a.order_by.iter().map(|k| &k.expr))
                    })
                    .for_each(|e| e.visit(f));
                input.visit_exprs(f);
            }
            LogicalPlan::Window {
                input, functions, ..
            } => {
                functions.iter().for_each(|w| w.visit(f));
                input.visit_exprs(f);
            }
            LogicalPlan::Join {
                left,
                right,
                on,
                filter,
                ..
            } => {
                for (l, r) in on {
                    l.visit(f);
                    r.visit(f);
                }
                if let Some(e) = filter {
                    e.visit(f);
                }
                left.visit_exprs(f);
                right.visit_exprs(f);
            }
            LogicalPlan::Sort { input, keys } => {
                keys.iter().for_each(|k| k.expr.visit(f));
                input.visit_exprs(f);
            }
            LogicalPlan::Limit { input, .. } | LogicalPlan::Distinct { input } => {
                input.visit_exprs(f)
            }
            LogicalPlan::SetOp { left, right, .. } => {
                left.visit_exprs(f);
                right.visit_exprs(f);
            }
            LogicalPlan::RecursiveCte {
                anchor, recursive, ..
            } => {
                anchor.visit_exprs(f);
                recursive.visit_exprs(f);
            }
        }
    }

    /// Calls `f` on every top-level expression slot of this node and of
    /// all nodes below (not entering subquery plans), as
    /// [`LogicalPlan::visit_exprs`] visits them, so that `f` may rewrite it.
    pub fn for_each_expr_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        match self {
            LogicalPlan::Scan { filters, .. } => filters.iter_mut().for_each(&mut *f),
            LogicalPlan::Batches { .. }
            | LogicalPlan::External { .. }
            | LogicalPlan::WorkingTable { .. } => {}
            LogicalPlan::Values { rows, .. } => {
                rows.iter_mut().flatten().for_each(&mut *f);
            }
            LogicalPlan::Filter { input, predicate } => {
                f(predicate);
                input.for_each_expr_mut(f);
            }
            LogicalPlan::Project { input, exprs, .. } => {
                exprs.iter_mut().for_each(&mut *f);
                input.for_each_expr_mut(f);
            }
            LogicalPlan::Aggregate {
                input,
                group_by,
                grouping_sets,
                aggregates,
                ..
            } => {
                // The grouping-id placeholder is no expression over the input.
                let terms = group_by.len() - usize::from(!grouping_sets.is_empty());
                group_by[..terms].iter_mut().for_each(&mut *f);
                aggregates
                    .iter_mut()
                    .flat_map(|a| {
                        a.arg
                            .iter_mut()
                            .chain(&mut a.key)
                            .chain(a.order_by.iter_mut().map(|k| &mut k.expr))
                    })
                    .for_each(&mut *f);
                input.for_each_expr_mut(f);
            }
            LogicalPlan::Window {
                input, functions, ..
            } => {
                functions.iter_mut().for_each(|w| w.for_each_expr_mut(f));
                input.for_each_expr_mut(f);
            }
            LogicalPlan::Join {
                left,
                right,
                on,
                filter,
                ..
            } => {
                for (l, r) in on {
                    f(l);
                    f(r);
                }
                if let Some(e) = filter {
                    f(e);
                }
                left.for_each_expr_mut(f);
                right.for_each_expr_mut(f);
            }
            LogicalPlan::Sort { input, keys } => {
                keys.iter_mut().for_each(|k| f(&mut k.expr));
                input.for_each_expr_mut(f);
            }
            LogicalPlan::Limit { input, .. } | LogicalPlan::Distinct { input } => {
                input.for_each_expr_mut(f)
            }
            LogicalPlan::SetOp { left, right, .. } => {
                left.for_each_expr_mut(f);
                right.for_each_expr_mut(f);
            }
            LogicalPlan::RecursiveCte {
                anchor, recursive, ..
            } => {
                anchor.for_each_expr_mut(f);
                recursive.for_each_expr_mut(f);
            }
        }
    }

    /// Replaces every [`Expr::Param`] of this plan by a literal of its
    /// value in `params` (see [`Expr::bind_params`]).
    pub fn bind_params(&mut self, params: &[crate::value::Value]) {
        self.for_each_expr_mut(&mut |e| {
            let taken = std::mem::replace(e, Expr::Literal(crate::value::Value::Null));
            *e = taken.bind_params(params);
        });
    }

    /// The number of [`Expr::Param`] nodes in this plan's expressions.
    pub fn param_count(&self) -> usize {
        let mut n = 0;
        self.visit_exprs(&mut |e| n += usize::from(matches!(e, Expr::Param { .. })));
        n
    }
}

/// A planned SELECT with the subqueries its expressions refer to by id.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// The root operator.
    pub root: LogicalPlan,
    /// Subquery plans, indexed by `Expr::Subquery::id`.
    pub subqueries: Vec<LogicalPlan>,
}
