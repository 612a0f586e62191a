//! Column pruning: scans read, and joins and filters carry, only the
//! columns that some operator above them reads. A join then copies a few
//! key and payload columns per matched pair instead of every column of both
//! tables (TPC-H's joins carry comment strings they never use).
//!
//! The pass is conservative. An operator whose expressions hold a
//! correlated subquery keeps every input column, because the subquery reads
//! the row being evaluated by position ([`Expr::OuterColumn`]). Operators
//! whose output is every input column (DISTINCT, set operations, window
//! calls) keep all of them, and recursive CTEs are left alone. The root
//! keeps its output schema exactly.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};

use crate::expr::Expr;
use crate::plan::{AggregateExpr, JoinKind, LogicalPlan, SortKey};

/// For each column of a node's old output, its position in the new output
/// (`None`: dropped).
type Mapping = Vec<Option<usize>>;

/// The plan of a query and of its subqueries, each pruned.
pub fn prune_query(
    plan: LogicalPlan,
    subqueries: Vec<LogicalPlan>,
) -> (LogicalPlan, Vec<LogicalPlan>) {
    (
        prune_columns(plan),
        subqueries.into_iter().map(prune_columns).collect(),
    )
}

/// `plan` with the columns no operator reads removed below its root; the
/// root's output is unchanged.
pub fn prune_columns(plan: LogicalPlan) -> LogicalPlan {
    let width = plan.schema().fields().len();
    prune(plan, &(0..width).collect()).0
}

fn prune(plan: LogicalPlan, required: &BTreeSet<usize>) -> (LogicalPlan, Mapping) {
    match plan {
        LogicalPlan::Scan {
            table,
            columns,
            filters,
            schema,
        } => {
            if filters.iter().any(has_correlated_subquery) {
                let plan = LogicalPlan::Scan {
                    table,
                    columns,
                    filters,
                    schema,
                };
                return identity(plan);
            }
            let mut need = required.clone();
            filters.iter().for_each(|f| need.extend(f.columns()));
            let (keep, map) = keep_at_least_one(&need, columns.len());
            let filters = filters.into_iter().map(|f| remap(f, &map)).collect();
            let plan = LogicalPlan::Scan {
                table,
                columns: keep.iter().map(|i| columns[*i]).collect(),
                filters,
                schema: select_fields(&schema, &keep),
            };
            (plan, map)
        }
        LogicalPlan::Filter { input, predicate } => {
            if has_correlated_subquery(&predicate) {
                return barrier(LogicalPlan::Filter { input, predicate });
            }
            let mut need = required.clone();
            need.extend(predicate.columns());
            let (input, map) = prune(*input, &need);
            let plan = LogicalPlan::Filter {
                input: Box::new(input),
                predicate: remap(predicate, &map),
            };
            (plan, map)
        }
        LogicalPlan::Project {
            input,
            exprs,
            schema,
        } => {
            if exprs.iter().any(has_correlated_subquery) {
                return barrier(LogicalPlan::Project {
                    input,
                    exprs,
                    schema,
                });
            }
            // Only the outputs read above are computed.
            let (keep, out_map) = keep_at_least_one(required, exprs.len());
            let exprs: Vec<Expr> = keep.iter().map(|i| exprs[*i].clone()).collect();
            let mut need = BTreeSet::new();
            exprs.iter().for_each(|e| need.extend(e.columns()));
            let (input, map) = prune(*input, &need);
            let plan = LogicalPlan::Project {
                input: Box::new(input),
                exprs: exprs.into_iter().map(|e| remap(e, &map)).collect(),
                schema: select_fields(&schema, &keep),
            };
            (plan, out_map)
        }
        LogicalPlan::Aggregate {
            input,
            group_by,
            grouping_sets,
            aggregates,
            schema,
        } => {
            // The grouping-id placeholder (last term with grouping sets) is
            // no column of the input.
            let terms = group_by.len() - usize::from(!grouping_sets.is_empty());
            let mut exprs: Vec<&Expr> = group_by[..terms].iter().collect();
            for a in &aggregates {
                exprs.extend(a.arg.iter().chain(&a.key));
                exprs.extend(a.order_by.iter().map(|k| &k.expr));
            }
            if exprs.iter().any(|e| has_correlated_subquery(e)) {
                return barrier(LogicalPlan::Aggregate {
                    input,
                    group_by,
                    grouping_sets,
                    aggregates,
                    schema,
                });
            }
            let mut need = BTreeSet::new();
            exprs.iter().for_each(|e| need.extend(e.columns()));
            let (input, map) = prune(*input, &need);
            let group_by = group_by
                .into_iter()
                .enumerate()
                .map(|(i, e)| if i < terms { remap(e, &map) } else { e })
                .collect();
            let aggregates = aggregates
                .into_iter()
                .map(|a| AggregateExpr {
                    arg: a.arg.map(|e| remap(e, &map)),
                    key: a.key.map(|e| remap(e, &map)),
                    order_by: remap_keys(a.order_by, &map),
                    ..a
                })
                .collect();
            let plan = LogicalPlan::Aggregate {
                input: Box::new(input),
                group_by,
                grouping_sets,
                aggregates,
                schema: schema.clone(),
            };
            (plan, (0..schema.fields().len()).map(Some).collect())
        }
        LogicalPlan::Join {
            left,
            right,
            kind,
            on,
            filter,
            schema,
        } => {
            let correlated = filter.iter().any(has_correlated_subquery)
                || on
                    .iter()
                    .any(|(l, r)| has_correlated_subquery(l) || has_correlated_subquery(r));
            if correlated {
                return barrier(LogicalPlan::Join {
                    left,
                    right,
                    kind,
                    on,
                    filter,
                    schema,
                });
            }
            let left_width = left.schema().fields().len();
            let mut need_left: BTreeSet<usize> = BTreeSet::new();
            let mut need_right: BTreeSet<usize> = BTreeSet::new();
            let mut need = |i: usize| {
                if i < left_width {
                    need_left.insert(i);
                } else {
                    need_right.insert(i - left_width);
                }
            };
            // A mark join's marker (at `left_width`) is made, not read.
            required
                .iter()
                .filter(|i| kind != JoinKind::Mark || **i < left_width)
                .for_each(|i| need(*i));
            filter.iter().flat_map(|f| f.columns()).for_each(&mut need);
            for (l, r) in &on {
                need_left.extend(l.columns());
                need_right.extend(r.columns());
            }
            let (left, lmap) = prune(*left, &need_left);
            let (right, rmap) = prune(*right, &need_right);
            let new_left_width = left.schema().fields().len();
            // Position of an old pair column in the new pair layout.
            let pair_map: Mapping = lmap
                .iter()
                .copied()
                .chain(rmap.iter().map(|r| r.map(|r| r + new_left_width)))
                .collect();
            let on = on
                .into_iter()
                .map(|(l, r)| (remap(l, &lmap), remap(r, &rmap)))
                .collect();
            let filter = filter.map(|f| remap(f, &pair_map));
            let out_map: Mapping = match kind {
                k if k.filters_left() => lmap,
                // The marker follows the left columns, and is always kept.
                JoinKind::Mark => lmap.iter().copied().chain([Some(new_left_width)]).collect(),
                _ => pair_map,
            };
            let keep: Vec<usize> = (0..out_map.len())
                .filter(|i| out_map[*i].is_some())
                .collect();
            let plan = LogicalPlan::Join {
                left: Box::new(left),
                right: Box::new(right),
                kind,
                on,
                filter,
                schema: select_fields(&schema, &keep),
            };
            (plan, out_map)
        }
        LogicalPlan::Sort { input, keys } => {
            if keys.iter().any(|k| has_correlated_subquery(&k.expr)) {
                return barrier(LogicalPlan::Sort { input, keys });
            }
            let mut need = required.clone();
            keys.iter().for_each(|k| need.extend(k.expr.columns()));
            let (input, map) = prune(*input, &need);
            let plan = LogicalPlan::Sort {
                input: Box::new(input),
                keys: remap_keys(keys, &map),
            };
            (plan, map)
        }
        LogicalPlan::Limit {
            input,
            offset,
            limit,
        } => {
            let (input, map) = prune(*input, required);
            let plan = LogicalPlan::Limit {
                input: Box::new(input),
                offset,
                limit,
            };
            (plan, map)
        }
        plan @ (LogicalPlan::Window { .. }
        | LogicalPlan::Distinct { .. }
        | LogicalPlan::SetOp { .. }) => barrier(plan),
        plan @ (LogicalPlan::Batches { .. }
        | LogicalPlan::External { .. }
        | LogicalPlan::Values { .. }
        | LogicalPlan::RecursiveCte { .. }
        | LogicalPlan::WorkingTable { .. }) => identity(plan),
    }
}

/// A node that keeps every column of its inputs; the inputs are pruned
/// below their own roots only.
fn barrier(plan: LogicalPlan) -> (LogicalPlan, Mapping) {
    let whole = |p: Box<LogicalPlan>| Box::new(prune_columns(*p));
    let plan = match plan {
        LogicalPlan::Filter { input, predicate } => LogicalPlan::Filter {
            input: whole(input),
            predicate,
        },
        LogicalPlan::Project {
            input,
            exprs,
            schema,
        } => LogicalPlan::Project {
            input: whole(input),
            exprs,
            schema,
        },
        LogicalPlan::Aggregate {
            input,
            group_by,
            grouping_sets,
            aggregates,
            schema,
        } => LogicalPlan::Aggregate {
            input: whole(input),
            group_by,
            grouping_sets,
            aggregates,
            schema,
        },
        LogicalPlan::Join {
            left,
            right,
            kind,
            on,
            filter,
            schema,
        } => LogicalPlan::Join {
            left: whole(left),
            right: whole(right),
            kind,
            on,
            filter,
            schema,
        },
        LogicalPlan::Sort { input, keys } => LogicalPlan::Sort {
            input: whole(input),
            keys,
        },
        LogicalPlan::Window {
            input,
            functions,
            schema,
        } => LogicalPlan::Window {
            input: whole(input),
            functions,
            schema,
        },
        LogicalPlan::Distinct { input } => LogicalPlan::Distinct {
            input: whole(input),
        },
        LogicalPlan::SetOp {
            left,
            right,
            op,
            all,
            schema,
        } => LogicalPlan::SetOp {
            left: whole(left),
            right: whole(right),
            op,
            all,
            schema,
        },
        other => other,
    };
    identity(plan)
}

fn identity(plan: LogicalPlan) -> (LogicalPlan, Mapping) {
    let width = plan.schema().fields().len();
    (plan, (0..width).map(Some).collect())
}

/// The columns to keep (sorted; at least one when there are any, so a
/// node never has zero columns) and the mapping from old positions.
fn keep_at_least_one(need: &BTreeSet<usize>, width: usize) -> (Vec<usize>, Mapping) {
    let mut keep: Vec<usize> = need.iter().copied().filter(|i| *i < width).collect();
    if keep.is_empty() && width > 0 {
        keep.push(0);
    }
    let mut map = vec![None; width];
    for (new, old) in keep.iter().enumerate() {
        map[*old] = Some(new);
    }
    (keep, map)
}

fn select_fields(schema: &SchemaRef, keep: &[usize]) -> SchemaRef {
    if keep.len() == schema.fields().len() {
        return schema.clone();
    }
    let fields: Vec<_> = keep.iter().map(|i| schema.field(*i).clone()).collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Column references renumbered by `map` (every referenced column is kept).
fn remap(e: Expr, map: &Mapping) -> Expr {
    e.transform(&mut |x| match x {
        Expr::Column(i) => {
            // Every node adds the columns its expressions read to what it
            // requires of its input, so a referenced column is always kept.
            debug_assert!(map.get(i).is_some_and(Option::is_some), "column {i} pruned");
            Expr::Column(map.get(i).copied().flatten().unwrap_or(i))
        }
        other => other,
    })
}

fn remap_keys(keys: Vec<SortKey>, map: &Mapping) -> Vec<SortKey> {
    keys.into_iter()
        .map(|k| SortKey {
            expr: remap(k.expr, map),
            ..k
        })
        .collect()
}

fn has_correlated_subquery(e: &Expr) -> bool {
    let mut found = false;
    e.visit(&mut |x| {
        if matches!(
            x,
            Expr::Subquery {
                correlated: true,
                ..
            }
        ) {
            found = true;
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use arrow_schema::{DataType, Field};

    use super::*;
    use crate::expr::BinaryOp;

    fn scan(table: u32, names: &[&str]) -> LogicalPlan {
        let fields: Vec<Field> = names
            .iter()
            .map(|n| Field::new(*n, DataType::Int64, true))
            .collect();
        LogicalPlan::Scan {
            table,
            columns: (0..names.len()).collect(),
            filters: vec![],
            schema: Arc::new(Schema::new(fields)),
        }
    }

    #[test]
    fn join_under_projection_reads_only_used_columns() {
        // SELECT a.x + b.z FROM a JOIN b ON a.k = b.k, a: [k, x, pad], b: [k, pad, z]
        let a = scan(1, &["k", "x", "pad"]);
        let b = scan(2, &["k", "pad", "z"]);
        let mut fields: Vec<_> = a.schema().fields().iter().cloned().collect();
        fields.extend(b.schema().fields().iter().cloned());
        let join = LogicalPlan::Join {
            left: Box::new(a),
            right: Box::new(b),
            kind: JoinKind::Inner,
            on: vec![(Expr::col(0), Expr::col(0))],
            filter: None,
            schema: Arc::new(Schema::new(fields)),
        };
        let project = LogicalPlan::Project {
            input: Box::new(join),
            exprs: vec![Expr::binary(BinaryOp::Add, Expr::col(1), Expr::col(5))],
            schema: Arc::new(Schema::new(vec![Field::new("s", DataType::Int64, true)])),
        };
        let LogicalPlan::Project { input, exprs, .. } = prune_columns(project) else {
            panic!("root changed");
        };
        assert_eq!(
            exprs,
            vec![Expr::binary(BinaryOp::Add, Expr::col(1), Expr::col(3))]
        );
        let LogicalPlan::Join {
            left, right, on, ..
        } = *input
        else {
            panic!("join changed");
        };
        let columns = |p: &LogicalPlan| match p {
            LogicalPlan::Scan { columns, .. } => columns.clone(),
            _ => vec![],
        };
        assert_eq!(columns(&left), vec![0, 1]);
        assert_eq!(columns(&right), vec![0, 2]);
        assert_eq!(on, vec![(Expr::col(0), Expr::col(0))]);
    }

    #[test]
    fn root_output_is_kept() {
        let plan = scan(1, &["a", "b", "c"]);
        let pruned = prune_columns(plan.clone());
        assert_eq!(pruned.schema(), plan.schema());
    }
}
