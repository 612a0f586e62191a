//! Window functions: calls evaluated over a partition of rows ordered by
//! keys, each row seeing a frame of its partition.

use arrow_schema::DataType;

use crate::expr::Expr;
use crate::plan::{AggregateExpr, SortKey};

/// What a window call computes.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowFunction {
    /// `ROW_NUMBER()`: position in the partition, from 1.
    RowNumber,
    /// `RANK()`: 1 + rows before the current row's peer group.
    Rank,
    /// `DENSE_RANK()`: number of the current row's peer group, from 1.
    DenseRank,
    /// `PERCENT_RANK()`: (rank - 1) / (partition rows - 1), 0 for one row.
    PercentRank,
    /// `CUME_DIST()`: rows up to the current row's last peer / partition rows.
    CumeDist,
    /// `NTILE(n)`: bucket 1..n, earlier buckets one row larger when uneven.
    Ntile,
    /// `LAG(x [, offset [, default]])`: x of the row `offset` before.
    Lag,
    /// `LEAD(x [, offset [, default]])`: x of the row `offset` after.
    Lead,
    /// `FIRST_VALUE(x)`: x of the frame's first row.
    FirstValue,
    /// `LAST_VALUE(x)`: x of the frame's last row.
    LastValue,
    /// `NTH_VALUE(x, n)`: x of the frame's n-th row (from 1).
    NthValue,
    /// An aggregate over the frame (its argument lives in the aggregate).
    Aggregate(Box<AggregateExpr>),
}

/// How frame offsets count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameUnits {
    /// Physical rows.
    Rows,
    /// A distance in the value of the single ORDER BY key (peers together).
    Range,
    /// Peer groups.
    Groups,
}

/// One end of a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameBound {
    /// The partition's first row.
    UnboundedPreceding,
    /// `n PRECEDING` (n evaluated per row; must not be negative or NULL).
    Preceding(Expr),
    /// `CURRENT ROW` (its peer group's edge for RANGE and GROUPS).
    CurrentRow,
    /// `n FOLLOWING`.
    Following(Expr),
    /// The partition's last row.
    UnboundedFollowing,
}

/// Rows of the frame left out again (`EXCLUDE ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameExclude {
    /// `EXCLUDE NO OTHERS` (the default).
    NoOthers,
    /// `EXCLUDE CURRENT ROW`.
    CurrentRow,
    /// `EXCLUDE GROUP`: the current row and its peers.
    Group,
    /// `EXCLUDE TIES`: the current row's peers but not the row itself.
    Ties,
}

/// The rows of its partition a window call sees from each row.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowFrame {
    /// How offsets count.
    pub units: FrameUnits,
    /// First row.
    pub start: FrameBound,
    /// Last row.
    pub end: FrameBound,
    /// Rows left out.
    pub exclude: FrameExclude,
}

impl Default for WindowFrame {
    /// `RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`: the whole
    /// partition without ORDER BY (all rows are peers), a running total
    /// with it.
    fn default() -> Self {
        WindowFrame {
            units: FrameUnits::Range,
            start: FrameBound::UnboundedPreceding,
            end: FrameBound::CurrentRow,
            exclude: FrameExclude::NoOthers,
        }
    }
}

/// One window call, bound over its operator's input columns.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowExpr {
    /// The function.
    pub func: WindowFunction,
    /// Arguments of the non-aggregate functions (value, offset, default, n).
    pub args: Vec<Expr>,
    /// `IGNORE NULLS` for LAG/LEAD/FIRST_VALUE/LAST_VALUE/NTH_VALUE.
    pub ignore_nulls: bool,
    /// `PARTITION BY` keys.
    pub partition_by: Vec<Expr>,
    /// `ORDER BY` keys within the partition.
    pub order_by: Vec<SortKey>,
    /// The frame.
    pub frame: WindowFrame,
    /// Result type.
    pub data_type: DataType,
}

impl WindowExpr {
    /// Calls `f` on every top-level expression slot of the call, as
    /// [`WindowExpr::visit`] visits them.
    pub fn for_each_expr_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        if let WindowFunction::Aggregate(a) = &mut self.func {
            a.arg
                .iter_mut()
                .chain(&mut a.key)
                .chain(a.order_by.iter_mut().map(|k| &mut k.expr))
                .for_each(&mut *f);
        }
        self.args.iter_mut().for_each(&mut *f);
        self.partition_by.iter_mut().for_each(&mut *f);
        self.order_by.iter_mut().for_each(|k| f(&mut k.expr));
        for b in [&mut self.frame.start, &mut self.frame.end] {
            if let FrameBound::Preceding(e) | FrameBound::Following(e) = b {
                f(e);
            }
        }
    }

    /// Calls `f` on every expression of the call.
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        if let WindowFunction::Aggregate(a) = &self.func {
            a.arg
                .iter()
                .chain(&a.key)
                .chain(a.order_by.iter().map(|k| &k.expr))
                .for_each(|e| e.visit(f));
        }
        self.args.iter().for_each(|e| e.visit(f));
        self.partition_by.iter().for_each(|e| e.visit(f));
        self.order_by.iter().for_each(|k| k.expr.visit(f));
        for b in [&self.frame.start, &self.frame.end] {
            if let FrameBound::Preceding(e) | FrameBound::Following(e) = b {
                e.visit(f);
            }
        }
    }
}
