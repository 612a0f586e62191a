//! EXPLAIN and EXPLAIN ANALYZE output: the logical plan tree, and the
//! physical operators that run it (with the rows and time each produced,
//! once measured).

use llkv_plan::explain::{plan_lines, PlanLine};
use llkv_plan::{JoinKind, LogicalPlan, TableId};

use crate::context::ExecContext;

/// The operator that runs `line`'s node: the access path of a scan, hash or
/// nested-loop join, and so on.
fn physical_name(
    line: &PlanLine<'_>,
    ctx: &ExecContext<'_>,
    table_name: &dyn Fn(TableId) -> String,
) -> String {
    match line.node {
        LogicalPlan::Scan {
            table,
            columns,
            filters,
            ..
        } => format!(
            "{} {}",
            ctx.provider.describe_scan(*table, columns, filters),
            table_name(*table)
        ),
        LogicalPlan::Batches { .. } => "ArrowScan".into(),
        LogicalPlan::External { source, .. } => format!("FileScan {}", source.describe()),
        LogicalPlan::Aggregate {
            group_by,
            grouping_sets,
            ..
        } => match (group_by.is_empty(), grouping_sets.is_empty()) {
            (true, _) => "UngroupedAggregate".into(),
            (false, true) => "HashAggregate".into(),
            (false, false) => "HashAggregate (grouping sets)".into(),
        },
        LogicalPlan::Join {
            on,
            kind: JoinKind::Semi,
            ..
        } if !on.is_empty() => "HashSemiJoin (build right)".into(),
        LogicalPlan::Join {
            on,
            kind: JoinKind::Anti,
            ..
        } if !on.is_empty() => "HashAntiJoin (build right)".into(),
        LogicalPlan::Join {
            on,
            kind: JoinKind::Mark,
            ..
        } if !on.is_empty() => "HashMarkJoin (build right)".into(),
        LogicalPlan::Join {
            kind: JoinKind::Mark,
            ..
        } => "NestedLoopMarkJoin".into(),
        LogicalPlan::Join { on, .. } if !on.is_empty() => "HashJoin (build right)".into(),
        LogicalPlan::Join { .. } => "NestedLoopJoin".into(),
        LogicalPlan::Window { .. } => "Window (sort per partition)".into(),
        LogicalPlan::Distinct { .. } => "HashDistinct".into(),
        LogicalPlan::SetOp { .. } => "HashSetOp".into(),
        LogicalPlan::RecursiveCte { .. } => "RecursiveUnion".into(),
        LogicalPlan::WorkingTable { .. } => "WorkingTableScan".into(),
        _ => line.name.to_string(),
    }
}

/// The lines of EXPLAIN for `plan` and its subqueries: (section, text)
/// pairs, the section `logical_plan` or `physical_plan`. With `analyzed`,
/// the plan has run under `ctx`'s profiling and physical lines carry what
/// each node produced.
pub fn explain_lines(
    plan: &LogicalPlan,
    subqueries: &[LogicalPlan],
    ctx: &ExecContext<'_>,
    table_name: &dyn Fn(TableId) -> String,
    analyzed: bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let trees: Vec<(String, &LogicalPlan)> = std::iter::once((String::new(), plan))
        .chain(
            subqueries
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("subquery {i}: "), p)),
        )
        .collect();
    for (title, tree) in &trees {
        for (k, line) in plan_lines(tree, table_name).iter().enumerate() {
            let head = if k == 0 { title.as_str() } else { "" };
            let text = format!("{head}{}{}", "  ".repeat(line.depth), line.name);
            out.push(("logical_plan".to_string(), with_detail(text, &line.detail)));
        }
    }
    for (title, tree) in &trees {
        for (k, line) in plan_lines(tree, table_name).iter().enumerate() {
            let head = if k == 0 { title.as_str() } else { "" };
            let mut text = format!(
                "{head}{}{}",
                "  ".repeat(line.depth),
                physical_name(line, ctx, table_name)
            );
            if analyzed {
                match ctx.stats(line.node) {
                    Some(s) => text.push_str(&format!(
                        " (rows={}, batches={}, time={:.3} ms)",
                        s.rows,
                        s.batches,
                        s.elapsed.as_secs_f64() * 1000.0
                    )),
                    None => text.push_str(" (never run)"),
                }
            }
            out.push(("physical_plan".to_string(), text));
        }
    }
    out
}

fn with_detail(text: String, detail: &str) -> String {
    if detail.is_empty() {
        text
    } else {
        format!("{text}: {detail}")
    }
}
