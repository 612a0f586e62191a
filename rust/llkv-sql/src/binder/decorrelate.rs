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
//!
//! Likewise a correlated scalar subquery `(SELECT f(agg(x)) FROM t WHERE
//! t.k = outer.k AND …)` whose aggregates are SUM/AVG/MIN/MAX becomes a
//! LEFT join with `t` grouped by `k`: each group's value is computed once,
//! and an outer row without a group gets NULL, which is what those
//! aggregates give over no rows (COUNT, which gives 0, is left alone).

use std::sync::Arc;

use arrow_schema::{Field, Schema};
use llkv_plan::{AggregateFunction, BinaryOp, Expr, JoinKind, LogicalPlan, SubqueryKind};

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

/// A LEFT join that answers a correlated scalar subquery: the right input
/// (the key columns, then the subquery's value), the key pairs (outer
/// expression over the left input, key column of the right) and the
/// column of the right that holds the value.
pub(super) struct ScalarJoin {
    pub right: LogicalPlan,
    pub on: Vec<(Expr, Expr)>,
    pub value: usize,
}

/// The join that computes scalar subquery `plan` per key group, when it
/// is an ungrouped SUM/AVG/MIN/MAX over one table whose correlated
/// conjuncts are all `inner = outer` equalities.
pub(super) fn scalar_aggregate_join(plan: &LogicalPlan) -> Option<ScalarJoin> {
    let (value, node) = match plan {
        LogicalPlan::Project { input, exprs, .. } => (exprs.first()?.clone(), &**input),
        other => (Expr::Column(0), other),
    };
    let LogicalPlan::Aggregate {
        input,
        group_by,
        grouping_sets,
        aggregates,
        schema: agg_schema,
    } = node
    else {
        return None;
    };
    let null_on_empty = |a: &llkv_plan::AggregateExpr| {
        use AggregateFunction as A;
        matches!(a.func, A::Sum | A::Avg | A::Min | A::Max)
    };
    if !group_by.is_empty() || !grouping_sets.is_empty() || !aggregates.iter().all(null_on_empty) {
        return None;
    }
    let reads_inner_only = |e: &Expr| References::of(e).is_some_and(|r| !r.outer);
    let arguments_inner = aggregates.iter().all(|a| {
        a.arg.iter().chain(&a.key).all(reads_inner_only)
            && a.order_by.iter().all(|k| reads_inner_only(&k.expr))
    });
    if !arguments_inner || !reads_inner_only(&value) {
        return None;
    }
    let (scan, predicates) = filtered_scan(input)?;
    let LogicalPlan::Scan {
        table,
        columns,
        filters,
        schema: scan_schema,
    } = scan
    else {
        return None;
    };
    let mut inner = Vec::new();
    let mut on = Vec::new();
    for p in predicates.into_iter().chain(filters.iter().cloned()) {
        if !References::of(&p)?.outer {
            inner.push(p);
        } else {
            // Another correlated condition cannot be answered per group.
            on.push(key_pair(&p)?);
        }
    }
    if on.is_empty() {
        return None;
    }
    let keys: Vec<Expr> = on.iter().map(|(_, k)| k.clone()).collect();
    let key_fields: Vec<Arc<Field>> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let t = k.data_type(&|c| scan_schema.field(c).data_type().clone());
            Arc::new(Field::new(format!("key{i}"), t, true))
        })
        .collect();
    let grouped_schema = Arc::new(Schema::new(
        key_fields
            .iter()
            .cloned()
            .chain(agg_schema.fields().iter().cloned())
            .collect::<Vec<_>>(),
    ));
    let grouped = LogicalPlan::Aggregate {
        input: Box::new(LogicalPlan::Scan {
            table: *table,
            columns: columns.clone(),
            filters: inner,
            schema: scan_schema.clone(),
        }),
        group_by: keys,
        grouping_sets: Vec::new(),
        aggregates: aggregates.clone(),
        schema: grouped_schema.clone(),
    };
    let n = on.len();
    let value = value.transform(&mut |x| match x {
        Expr::Column(i) => Expr::Column(n + i),
        other => other,
    });
    let value_type = value.data_type(&|c| grouped_schema.field(c).data_type().clone());
    let mut exprs: Vec<Expr> = (0..n).map(Expr::Column).collect();
    exprs.push(value);
    let right = LogicalPlan::Project {
        input: Box::new(grouped),
        exprs,
        schema: Arc::new(Schema::new(
            key_fields
                .into_iter()
                .chain(std::iter::once(Arc::new(Field::new(
                    "value", value_type, true,
                ))))
                .collect::<Vec<_>>(),
        )),
    };
    let on = on
        .into_iter()
        .enumerate()
        .map(|(i, (outer, _))| (outer, Expr::Column(i)))
        .collect();
    Some(ScalarJoin {
        right,
        on,
        value: n,
    })
}

/// The scan under filters only, with the filters' conjuncts.
fn filtered_scan(plan: &LogicalPlan) -> Option<(&LogicalPlan, Vec<Expr>)> {
    let mut node = plan;
    let mut predicates = Vec::new();
    while let LogicalPlan::Filter { input, predicate } = node {
        predicates.extend(predicate.clone().split_conjunction());
        node = input;
    }
    matches!(node, LogicalPlan::Scan { .. }).then_some((node, predicates))
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
