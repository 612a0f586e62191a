//! Decorrelation: a WHERE conjunct `[NOT] EXISTS (SELECT … FROM t WHERE
//! t.k = outer.k AND …)` becomes a semi (anti) hash join of the outer rows
//! with `t`, instead of one run of the subquery per outer row.
//!
//! Only the simple, common shape is rewritten: a subquery over one table
//! (projections, DISTINCT and filters above a scan), whose correlated
//! conjuncts read the immediately enclosing query only, with at least one
//! of them an equality between an inner and an outer expression (the hash
//! key). Other correlated conjuncts become the join's residual filter.
//! Anything else (aggregates, LIMIT, joins, nested subqueries, references
//! further out) keeps the per-row evaluation, which is always correct.

use llkv_plan::{BinaryOp, Expr, JoinKind, LogicalPlan, SubqueryKind};

/// A semi or anti join that replaces an EXISTS conjunct: the right input,
/// the key pairs (outer expression over the left input, inner expression)
/// and the residual filter over left then right columns.
pub(super) struct ExistsJoin {
    pub kind: JoinKind,
    pub right: LogicalPlan,
    pub on: Vec<(Expr, Expr)>,
    pub filter: Option<Expr>,
}

/// The join that answers `conjunct` over a left input `left_width` columns
/// wide, when `conjunct` is a correlated `[NOT] EXISTS` of the simple shape.
pub(super) fn exists_as_join(
    conjunct: &Expr,
    subqueries: &[LogicalPlan],
    left_width: usize,
) -> Option<ExistsJoin> {
    let Expr::Subquery {
        id,
        kind: SubqueryKind::Exists { negated },
        correlated: true,
        ..
    } = conjunct
    else {
        return None;
    };
    let (scan, mut predicates) = single_table(subqueries.get(*id)?)?;
    let LogicalPlan::Scan {
        table,
        columns,
        filters,
        schema,
    } = scan
    else {
        return None;
    };
    predicates.extend(filters.iter().cloned());
    let mut inner = Vec::new();
    let mut on = Vec::new();
    let mut residual = Vec::new();
    for p in predicates {
        let refs = References::of(&p)?;
        if !refs.outer {
            inner.push(p);
        } else if let Some(pair) = key_pair(&p) {
            on.push(pair);
        } else {
            residual.push(to_pair_columns(p, left_width));
        }
    }
    if on.is_empty() {
        return None;
    }
    Some(ExistsJoin {
        kind: if *negated {
            JoinKind::Anti
        } else {
            JoinKind::Semi
        },
        right: LogicalPlan::Scan {
            table: *table,
            columns: columns.clone(),
            filters: inner,
            schema: schema.clone(),
        },
        on,
        filter: Expr::conjunction(residual),
    })
}

/// The scan under a subquery's projections, DISTINCT and filters, with the
/// filters' conjuncts (over the scan's columns). EXISTS ignores what the
/// subquery projects and how often a row repeats.
fn single_table(plan: &LogicalPlan) -> Option<(&LogicalPlan, Vec<Expr>)> {
    let mut node = plan;
    while let LogicalPlan::Project { input, .. } | LogicalPlan::Distinct { input } = node {
        node = input;
    }
    let mut predicates = Vec::new();
    while let LogicalPlan::Filter { input, predicate } = node {
        predicates.extend(predicate.clone().split_conjunction());
        node = input;
    }
    matches!(node, LogicalPlan::Scan { .. }).then_some((node, predicates))
}

/// What an expression of the subquery reads.
struct References {
    inner: bool,
    outer: bool,
}

impl References {
    /// `None` when the expression cannot move into a join: it reads a query
    /// further out than the enclosing one, holds a subquery, or is volatile.
    fn of(e: &Expr) -> Option<References> {
        let mut refs = References {
            inner: false,
            outer: false,
        };
        let mut movable = !e.is_volatile();
        e.visit(&mut |x| match x {
            Expr::Column(_) => refs.inner = true,
            Expr::OuterColumn { depth: 0, .. } => refs.outer = true,
            Expr::OuterColumn { .. } | Expr::Subquery { .. } => movable = false,
            _ => {}
        });
        movable.then_some(refs)
    }
}

/// `inner = outer` (either way round) as a key pair (outer over the left
/// input, inner over the subquery's scan).
fn key_pair(p: &Expr) -> Option<(Expr, Expr)> {
    let Expr::Binary {
        op: BinaryOp::Eq,
        left,
        right,
    } = p
    else {
        return None;
    };
    let (l, r) = (References::of(left)?, References::of(right)?);
    let only_inner = |x: &References| x.inner && !x.outer;
    let only_outer = |x: &References| x.outer && !x.inner;
    let (outer, inner) = if only_outer(&l) && only_inner(&r) {
        (left, right)
    } else if only_inner(&l) && only_outer(&r) {
        (right, left)
    } else {
        return None;
    };
    Some((outer_to_left((**outer).clone()), (**inner).clone()))
}

/// Outer references become columns of the left input.
fn outer_to_left(e: Expr) -> Expr {
    e.transform(&mut |x| match x {
        Expr::OuterColumn {
            depth: 0, index, ..
        } => Expr::Column(index),
        other => other,
    })
}

/// An expression over a candidate pair: outer references read the left
/// columns, the subquery's columns follow them.
fn to_pair_columns(e: Expr, left_width: usize) -> Expr {
    e.transform(&mut |x| match x {
        Expr::Column(i) => Expr::Column(left_width + i),
        Expr::OuterColumn {
            depth: 0, index, ..
        } => Expr::Column(index),
        other => other,
    })
}
