//! Text forms of expressions and plans, for `EXPLAIN`.
//!
//! A column is shown by the name its input gives it (`#i` when the input
//! has no useful name, as for aggregate outputs), so a line reads like the
//! SQL it came from.

use std::fmt::Write;

use arrow_schema::SchemaRef;

use crate::expr::{BinaryOp, Expr, SubqueryKind, UnaryOp};
use crate::plan::{AggregateExpr, JoinKind, LogicalPlan, SetOpKind, SortKey};
use crate::value::Value;
use crate::window::WindowExpr;

/// Names columns of one input for [`format_expr`].
pub struct ColumnNames<'a> {
    schema: Option<&'a SchemaRef>,
}

impl<'a> ColumnNames<'a> {
    /// Columns named after `schema`'s fields.
    pub fn of(schema: &'a SchemaRef) -> Self {
        ColumnNames {
            schema: Some(schema),
        }
    }

    /// Columns shown by position only.
    pub fn positional() -> Self {
        ColumnNames { schema: None }
    }

    fn name(&self, i: usize) -> String {
        match self.schema.and_then(|s| s.fields().get(i)) {
            Some(f) if !f.name().is_empty() && !f.name().starts_with("__") => f.name().clone(),
            _ => format!("#{i}"),
        }
    }
}

/// `e` as SQL-like text.
pub fn format_expr(e: &Expr, names: &ColumnNames<'_>) -> String {
    let f = |x: &Expr| format_expr(x, names);
    match e {
        Expr::Column(i) => names.name(*i),
        Expr::OuterColumn { depth, index, .. } => format!("outer{depth}.#{index}"),
        Expr::Literal(v) => format_value(v),
        Expr::Param { index, .. } => format!("${}", index + 1),
        Expr::Unary { op, expr } => match op {
            UnaryOp::Neg => format!("-{}", f(expr)),
            UnaryOp::Not => format!("NOT {}", f(expr)),
            UnaryOp::BitNot => format!("~{}", f(expr)),
        },
        Expr::Binary { op, left, right } => {
            format!("({} {} {})", f(left), binary_symbol(*op), f(right))
        }
        Expr::IsNull { expr, negated } => {
            format!("{} IS {}NULL", f(expr), if *negated { "NOT " } else { "" })
        }
        Expr::Cast { expr, to } => {
            format!("CAST({} AS {})", f(expr), crate::types::sql_name(to))
        }
        Expr::Case {
            operand,
            branches,
            else_expr,
        } => {
            let mut s = String::from("CASE");
            if let Some(o) = operand {
                let _ = write!(s, " {}", f(o));
            }
            for (when, then) in branches {
                let _ = write!(s, " WHEN {} THEN {}", f(when), f(then));
            }
            if let Some(e) = else_expr {
                let _ = write!(s, " ELSE {}", f(e));
            }
            s + " END"
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => format!(
            "{} {}IN ({})",
            f(expr),
            if *negated { "NOT " } else { "" },
            join(list.iter().map(f))
        ),
        Expr::Like {
            expr,
            pattern,
            negated,
            case_insensitive,
            glob,
            ..
        } => {
            let op = match (glob, case_insensitive) {
                (true, _) => "GLOB",
                (false, true) => "ILIKE",
                (false, false) => "LIKE",
            };
            let not = if *negated { "NOT " } else { "" };
            format!("{} {not}{op} {}", f(expr), f(pattern))
        }
        Expr::Function { func, args } => format!(
            "{}({})",
            format!("{func:?}").to_lowercase(),
            join(args.iter().map(f))
        ),
        Expr::Struct { names, fields } => format!(
            "struct_pack({})",
            join(
                names
                    .iter()
                    .zip(fields)
                    .map(|(name, e)| format!("{name} := {}", f(e)))
            )
        ),
        Expr::Subquery { id, kind, .. } => match kind {
            SubqueryKind::Scalar => format!("(subquery {id})"),
            SubqueryKind::Exists { negated } => {
                format!(
                    "{}EXISTS (subquery {id})",
                    if *negated { "NOT " } else { "" }
                )
            }
            SubqueryKind::In { expr, negated } => format!(
                "{} {}IN (subquery {id})",
                f(expr),
                if *negated { "NOT " } else { "" }
            ),
        },
    }
}

fn format_value(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Blob(b) => format!(
            "X'{}'",
            b.iter().map(|x| format!("{x:02X}")).collect::<String>()
        ),
        Value::Date(d) => format!("DATE '{}'", crate::temporal::format_date(*d)),
        Value::Timestamp(t) => {
            format!("TIMESTAMP '{}'", crate::temporal::format_timestamp(*t))
        }
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => format!("{r:?}"),
        Value::Boolean(b) => b.to_string(),
        Value::Decimal(d) => d.to_string(),
    }
}

fn binary_symbol(op: BinaryOp) -> &'static str {
    use BinaryOp as B;
    match op {
        B::Add => "+",
        B::Sub => "-",
        B::Mul => "*",
        B::Div => "/",
        B::Mod => "%",
        B::Eq => "=",
        B::NotEq => "<>",
        B::Lt => "<",
        B::LtEq => "<=",
        B::Gt => ">",
        B::GtEq => ">=",
        B::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
        B::IsDistinctFrom => "IS DISTINCT FROM",
        B::And => "AND",
        B::Or => "OR",
        B::Concat => "||",
        B::BitAnd => "&",
        B::BitOr => "|",
        B::ShiftLeft => "<<",
        B::ShiftRight => ">>",
    }
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn format_sort_keys(keys: &[SortKey], names: &ColumnNames<'_>) -> String {
    join(keys.iter().map(|k| {
        format!(
            "{}{}{}",
            format_expr(&k.expr, names),
            if k.descending { " DESC" } else { "" },
            match (k.descending, k.nulls_first) {
                (false, false) => " NULLS LAST",
                (true, true) => " NULLS FIRST",
                _ => "",
            }
        )
    }))
}

fn format_aggregate(a: &AggregateExpr, names: &ColumnNames<'_>) -> String {
    let mut args: Vec<String> = a
        .arg
        .iter()
        .chain(&a.key)
        .map(|e| format_expr(e, names))
        .collect();
    if args.is_empty() {
        args.push("*".into());
    }
    if let Some(p) = &a.param {
        args.push(format_value(p));
    }
    let mut s = format!(
        "{}({}{})",
        format!("{:?}", a.func).to_lowercase(),
        if a.distinct { "DISTINCT " } else { "" },
        args.join(", ")
    );
    if !a.order_by.is_empty() {
        s.pop();
        let _ = write!(s, " ORDER BY {})", format_sort_keys(&a.order_by, names));
    }
    s
}

fn format_window(w: &WindowExpr, names: &ColumnNames<'_>) -> String {
    let call = match &w.func {
        crate::window::WindowFunction::Aggregate(a) => format_aggregate(a, names),
        other => format!(
            "{}({})",
            format!("{other:?}").to_lowercase(),
            join(w.args.iter().map(|e| format_expr(e, names)))
        ),
    };
    let mut over = Vec::new();
    if !w.partition_by.is_empty() {
        over.push(format!(
            "PARTITION BY {}",
            join(w.partition_by.iter().map(|e| format_expr(e, names)))
        ));
    }
    if !w.order_by.is_empty() {
        over.push(format!("ORDER BY {}", format_sort_keys(&w.order_by, names)));
    }
    format!("{call} OVER ({})", over.join(" "))
}

/// One line of a plan tree: its depth, the node's name and its details.
pub struct PlanLine<'p> {
    /// Nesting depth (0 for the root).
    pub depth: usize,
    /// The plan node.
    pub node: &'p LogicalPlan,
    /// The node's logical name (`Filter`, `Join`, ...).
    pub name: &'static str,
    /// What it does, in SQL-like text.
    pub detail: String,
}

/// The lines of `plan`'s tree in pre-order, `table_name` naming scanned
/// tables.
pub fn plan_lines<'p>(
    plan: &'p LogicalPlan,
    table_name: &dyn Fn(crate::plan::TableId) -> String,
) -> Vec<PlanLine<'p>> {
    let mut out = Vec::new();
    walk(plan, 0, table_name, &mut out);
    out
}

fn walk<'p>(
    plan: &'p LogicalPlan,
    depth: usize,
    table_name: &dyn Fn(crate::plan::TableId) -> String,
    out: &mut Vec<PlanLine<'p>>,
) {
    let input_names = |input: &LogicalPlan| input.schema();
    let (name, detail, children): (&'static str, String, Vec<&LogicalPlan>) = match plan {
        LogicalPlan::Scan {
            table,
            filters,
            schema,
            ..
        } => {
            let names = ColumnNames::of(schema);
            let columns = join(schema.fields().iter().map(|f| f.name().clone()));
            let mut d = format!("{} [{columns}]", table_name(*table));
            if !filters.is_empty() {
                let _ = write!(
                    d,
                    " filters: {}",
                    filters
                        .iter()
                        .map(|e| format_expr(e, &names))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                );
            }
            ("Scan", d, vec![])
        }
        LogicalPlan::Batches { batches, .. } => (
            "Arrow",
            format!("{} registered batch(es)", batches.len()),
            vec![],
        ),
        LogicalPlan::External { source, .. } => ("File", source.describe(), vec![]),
        LogicalPlan::Values { rows, .. } => ("Values", format!("{} row(s)", rows.len()), vec![]),
        LogicalPlan::Filter { input, predicate } => {
            let s = input_names(input);
            (
                "Filter",
                format_expr(predicate, &ColumnNames::of(&s)),
                vec![input.as_ref()],
            )
        }
        LogicalPlan::Project { input, exprs, .. } => {
            let s = input_names(input);
            let names = ColumnNames::of(&s);
            (
                "Project",
                join(exprs.iter().map(|e| format_expr(e, &names))),
                vec![input.as_ref()],
            )
        }
        LogicalPlan::Aggregate {
            input,
            group_by,
            grouping_sets,
            aggregates,
            ..
        } => {
            let s = input_names(input);
            let names = ColumnNames::of(&s);
            let terms = group_by.len() - usize::from(!grouping_sets.is_empty());
            let mut d = String::new();
            if terms > 0 {
                let _ = write!(
                    d,
                    "group by: {}",
                    join(group_by[..terms].iter().map(|e| format_expr(e, &names)))
                );
            }
            if !grouping_sets.is_empty() {
                let _ = write!(d, " ({} grouping sets)", grouping_sets.len());
            }
            if !aggregates.is_empty() {
                if !d.is_empty() {
                    d.push_str("; ");
                }
                d.push_str(&join(
                    aggregates.iter().map(|a| format_aggregate(a, &names)),
                ));
            }
            ("Aggregate", d, vec![input.as_ref()])
        }
        LogicalPlan::Join {
            left,
            right,
            kind,
            on,
            filter,
            schema,
        } => {
            let (ls, rs) = (left.schema(), right.schema());
            // The filter of a semi, anti or mark join reads both sides,
            // though only the left one is output.
            let filter_schema: SchemaRef = if !kind.outputs_right() {
                let mut fields: Vec<_> = ls.fields().iter().cloned().collect();
                fields.extend(rs.fields().iter().cloned());
                std::sync::Arc::new(arrow_schema::Schema::new(fields))
            } else {
                schema.clone()
            };
            let (ln, rn, all) = (
                ColumnNames::of(&ls),
                ColumnNames::of(&rs),
                ColumnNames::of(&filter_schema),
            );
            let mut d = match kind {
                JoinKind::Inner => "inner",
                JoinKind::Left => "left",
                JoinKind::Right => "right",
                JoinKind::Full => "full",
                JoinKind::Semi => "semi",
                JoinKind::Anti => "anti",
                JoinKind::Mark => "mark",
                JoinKind::Single => "single",
            }
            .to_string();
            if !on.is_empty() {
                let _ = write!(
                    d,
                    " on {}",
                    on.iter()
                        .map(|(l, r)| format!("{} = {}", format_expr(l, &ln), format_expr(r, &rn)))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                );
            }
            if let Some(f) = filter {
                let _ = write!(d, " filter {}", format_expr(f, &all));
            }
            ("Join", d, vec![left.as_ref(), right.as_ref()])
        }
        LogicalPlan::Window {
            input, functions, ..
        } => {
            let s = input_names(input);
            let names = ColumnNames::of(&s);
            (
                "Window",
                join(functions.iter().map(|w| format_window(w, &names))),
                vec![input.as_ref()],
            )
        }
        LogicalPlan::Sort { input, keys } => {
            let s = input_names(input);
            (
                "Sort",
                format_sort_keys(keys, &ColumnNames::of(&s)),
                vec![input.as_ref()],
            )
        }
        LogicalPlan::Limit {
            input,
            offset,
            limit,
        } => {
            let mut d = match limit {
                Some(l) => format!("limit {l}"),
                None => "no limit".to_string(),
            };
            if *offset > 0 {
                let _ = write!(d, " offset {offset}");
            }
            ("Limit", d, vec![input.as_ref()])
        }
        LogicalPlan::Distinct { input } => ("Distinct", String::new(), vec![input.as_ref()]),
        LogicalPlan::SetOp {
            left,
            right,
            op,
            all,
            ..
        } => {
            let name = match op {
                SetOpKind::Union => "UNION",
                SetOpKind::Intersect => "INTERSECT",
                SetOpKind::Except => "EXCEPT",
            };
            (
                "SetOp",
                format!("{name}{}", if *all { " ALL" } else { "" }),
                vec![left.as_ref(), right.as_ref()],
            )
        }
        LogicalPlan::RecursiveCte {
            name,
            anchor,
            recursive,
            all,
            ..
        } => (
            "RecursiveCte",
            format!("{name} (UNION{})", if *all { " ALL" } else { "" }),
            vec![anchor.as_ref(), recursive.as_ref()],
        ),
        LogicalPlan::WorkingTable { id, .. } => {
            ("WorkingTable", format!("of recursive CTE {id}"), vec![])
        }
    };
    out.push(PlanLine {
        depth,
        node: plan,
        name,
        detail,
    });
    for child in children {
        walk(child, depth + 1, table_name, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_read_like_sql() {
        let e = Expr::binary(
            BinaryOp::And,
            Expr::binary(BinaryOp::Gt, Expr::Column(0), Expr::lit(3i64)),
            Expr::IsNull {
                expr: Box::new(Expr::Column(1)),
                negated: true,
            },
        );
        assert_eq!(
            format_expr(&e, &ColumnNames::positional()),
            "((#0 > 3) AND #1 IS NOT NULL)"
        );
        assert_eq!(
            format_expr(&Expr::lit("it's"), &ColumnNames::positional()),
            "'it''s'"
        );
    }
}
