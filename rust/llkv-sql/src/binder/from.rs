//! FROM clauses: tables, views, CTEs and derived tables; explicit joins; and
//! the join order of comma-separated tables, chosen greedily so that each
//! new table is hash-joined on an equality with the tables before it.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_schema::{DataType, Schema};
use llkv_plan::{BinaryOp, Error, Expr, JoinKind, LogicalPlan, Result, SubqueryKind, MARK_COLUMN};
use sqlparser::ast;

use super::decorrelate;
use super::expr::ExprContext;
use super::scope::{Scope, ScopeColumn};
use super::{object_name, schema_of, Binder};
use crate::join_by::MarkedJoin;

/// Rewrites column positions through `map`.
pub fn remap(e: Expr, map: &dyn Fn(usize) -> usize) -> Expr {
    e.transform(&mut |x| match x {
        Expr::Column(i) => Expr::Column(map(i)),
        other => other,
    })
}

fn contains_subquery(e: &Expr) -> bool {
    let mut found = false;
    e.visit(&mut |x| {
        if matches!(x, Expr::Subquery { .. }) {
            found = true;
        }
    });
    found
}

struct Item {
    plan: LogicalPlan,
    offset: usize,
    width: usize,
}

impl Binder<'_> {
    /// Binds FROM and WHERE: returns a plan whose columns are the FROM
    /// items' columns in order, with WHERE applied, and its scope.
    pub fn bind_from_where(
        &self,
        from: &[ast::TableWithJoins],
        selection: Option<&ast::Expr>,
    ) -> Result<(LogicalPlan, Scope)> {
        // Unnamed derived tables are numbered per FROM clause.
        let outer = self.unnamed_subqueries.replace(0);
        let bound = self.bind_from_where_numbered(from, selection);
        self.unnamed_subqueries.set(outer);
        bound
    }

    fn bind_from_where_numbered(
        &self,
        from: &[ast::TableWithJoins],
        selection: Option<&ast::Expr>,
    ) -> Result<(LogicalPlan, Scope)> {
        if from.is_empty() {
            let plan = LogicalPlan::Values {
                rows: vec![vec![]],
                schema: Arc::new(Schema::empty()),
            };
            let scope = Scope::default();
            let plan = match selection {
                Some(w) => {
                    let pred = self.bind_expr(
                        w,
                        &mut ExprContext {
                            scope: &scope,
                            agg: None,
                        },
                    )?;
                    LogicalPlan::Filter {
                        input: Box::new(plan),
                        predicate: pred,
                    }
                }
                None => plan,
            };
            return Ok((plan, scope));
        }
        let mut items = Vec::new();
        let mut scope = Scope::default();
        for twj in from {
            let (plan, s) = self.bind_table_with_joins(twj)?;
            items.push(Item {
                plan,
                offset: scope.columns.len(),
                width: s.columns.len(),
            });
            scope = scope.join(&s);
        }
        let conjuncts = match selection {
            Some(w) => {
                if super::expr::contains_aggregate(w) {
                    return Err(Error::programming("misuse of aggregate function in WHERE"));
                }
                self.bind_expr(
                    w,
                    &mut ExprContext {
                        scope: &scope,
                        agg: None,
                    },
                )?
                .split_conjunction()
                .into_iter()
                .flat_map(Expr::factor_disjunction)
                .collect()
            }
            None => vec![],
        };
        let plan = self.plan_joins(items, conjuncts, &scope)?;
        Ok((plan, scope))
    }

    fn plan_joins(
        &self,
        items: Vec<Item>,
        conjuncts: Vec<Expr>,
        scope: &Scope,
    ) -> Result<LogicalPlan> {
        let item_of = |col: usize| {
            items
                .iter()
                .position(|it| col >= it.offset && col < it.offset + it.width)
        };
        let mut remaining: Vec<(Expr, HashSet<usize>)> = Vec::new();
        let mut top: Vec<Expr> = Vec::new();
        let mut plans: Vec<Option<LogicalPlan>> = items.iter().map(|_| None).collect();
        let mut per_item: Vec<Vec<Expr>> = items.iter().map(|_| vec![]).collect();
        let mut semi_per_item: Vec<Vec<(Expr, usize)>> = items.iter().map(|_| vec![]).collect();
        for c in conjuncts {
            let cols = c.columns();
            let used: HashSet<usize> = cols.iter().filter_map(|c| item_of(*c)).collect();
            if let (Some((probe, id)), 1) = (self.in_as_semi_join(&c, scope), used.len()) {
                // `x IN (SELECT ...)` over one item: a semi join right on
                // it, so the rows it drops never reach the other joins.
                let k = *used.iter().next().unwrap_or(&0);
                let off = items[k].offset;
                semi_per_item[k].push((remap(probe, &|i| i - off), id));
            } else if contains_subquery(&c) || used.is_empty() {
                top.push(c);
            } else if used.len() == 1 {
                let k = *used.iter().next().unwrap_or(&0);
                let off = items[k].offset;
                per_item[k].push(remap(c, &|i| i - off));
            } else {
                remaining.push((c, used));
            }
        }
        for (k, it) in items.iter().enumerate() {
            let mut plan = push_filters(it.plan.clone(), std::mem::take(&mut per_item[k]));
            for (probe, id) in std::mem::take(&mut semi_per_item[k]) {
                let right = self.subqueries.borrow()[id].clone();
                let schema = plan.schema();
                plan = LogicalPlan::Join {
                    left: Box::new(plan),
                    right: Box::new(right),
                    kind: JoinKind::Semi,
                    on: vec![(probe, Expr::Column(0))],
                    filter: None,
                    schema,
                };
            }
            plans[k] = Some(plan);
        }
        // Greedy join order: start with the first item, then prefer items
        // connected to the joined set by an equality.
        let n = items.len();
        let mut order: Vec<usize> = vec![0];
        let mut joined: HashSet<usize> = [0].into_iter().collect();
        let mut plan = plans[0]
            .take()
            .ok_or_else(|| Error::internal("missing FROM item"))?;
        while order.len() < n {
            let next = (0..n)
                .filter(|k| !joined.contains(k))
                .find(|k| {
                    remaining.iter().any(|(c, used)| {
                        used.contains(k)
                            && used.iter().all(|u| u == k || joined.contains(u))
                            && is_equi(c)
                    })
                })
                .or_else(|| (0..n).find(|k| !joined.contains(k)))
                .ok_or_else(|| Error::internal("join order"))?;
            // Layout of the current plan: items in `order`, each contiguous.
            let mut left_pos = vec![usize::MAX; scope.columns.len()];
            let mut p = 0;
            for k in &order {
                for c in 0..items[*k].width {
                    left_pos[items[*k].offset + c] = p;
                    p += 1;
                }
            }
            let left_width = p;
            let right_off = items[next].offset;
            let right_width = items[next].width;
            let in_left = |c: usize| left_pos[c] != usize::MAX;
            let in_right = |c: usize| c >= right_off && c < right_off + right_width;
            let mut on = Vec::new();
            let mut filters = Vec::new();
            let mut keep = Vec::new();
            for (c, used) in remaining.drain(..) {
                let ready = used.iter().all(|u| *u == next || joined.contains(u));
                if !ready {
                    keep.push((c, used));
                    continue;
                }
                if let Expr::Binary {
                    op: BinaryOp::Eq,
                    left,
                    right,
                } = &c
                {
                    let (lc, rc) = (left.columns(), right.columns());
                    let side = |cols: &[usize], f: &dyn Fn(usize) -> bool| {
                        !cols.is_empty() && cols.iter().all(|x| f(*x))
                    };
                    if side(&lc, &in_left) && side(&rc, &in_right) {
                        on.push((
                            remap((**left).clone(), &|i| left_pos[i]),
                            remap((**right).clone(), &|i| i - right_off),
                        ));
                        continue;
                    }
                    if side(&rc, &in_left) && side(&lc, &in_right) {
                        on.push((
                            remap((**right).clone(), &|i| left_pos[i]),
                            remap((**left).clone(), &|i| i - right_off),
                        ));
                        continue;
                    }
                }
                filters.push(remap(c, &|i| {
                    if in_right(i) {
                        left_width + i - right_off
                    } else {
                        left_pos[i]
                    }
                }));
            }
            remaining = keep;
            let right_plan = plans[next]
                .take()
                .ok_or_else(|| Error::internal("join item"))?;
            let schema = concat_schema(&plan, &right_plan);
            plan = LogicalPlan::Join {
                left: Box::new(plan),
                right: Box::new(right_plan),
                kind: JoinKind::Inner,
                on,
                filter: Expr::conjunction(filters),
                schema,
            };
            order.push(next);
            joined.insert(next);
        }
        // Restore the FROM order of columns when joins reordered them.
        if order.windows(2).any(|w| w[0] > w[1]) {
            let mut pos = vec![0usize; scope.columns.len()];
            let mut p = 0;
            for k in &order {
                for c in 0..items[*k].width {
                    pos[items[*k].offset + c] = p;
                    p += 1;
                }
            }
            let exprs: Vec<Expr> = (0..scope.columns.len())
                .map(|i| Expr::Column(pos[i]))
                .collect();
            let names: Vec<String> = scope.columns.iter().map(|c| c.name.clone()).collect();
            let types: Vec<_> = scope.columns.iter().map(|c| c.data_type.clone()).collect();
            plan = LogicalPlan::Project {
                input: Box::new(plan),
                exprs,
                schema: schema_of(&names, &types),
            };
        }
        for (c, _) in remaining {
            top.push(c);
        }
        let mut rest = Vec::new();
        for c in top {
            let join = {
                let subqueries = self.subqueries.borrow();
                decorrelate::exists_as_join(&c, &subqueries, scope.columns.len())
            };
            match join {
                Some(j) => {
                    let schema = plan.schema();
                    plan = LogicalPlan::Join {
                        left: Box::new(plan),
                        right: Box::new(j.right),
                        kind: j.kind,
                        on: j.on,
                        filter: j.filter,
                        schema,
                    };
                }
                None => rest.push(c),
            }
        }
        // Correlated scalar aggregates become LEFT joins with their groups;
        // the joined value columns are dropped again after the filter.
        let visible = plan.schema();
        let mut kept = Vec::with_capacity(rest.len());
        for c in rest {
            let (c, joined) = self.join_scalar_subqueries(c, plan);
            plan = joined;
            kept.push(c);
        }
        if let Some(pred) = Expr::conjunction(kept) {
            plan = LogicalPlan::Filter {
                input: Box::new(plan),
                predicate: pred,
            };
        }
        if plan.schema().fields().len() > visible.fields().len() {
            plan = LogicalPlan::Project {
                input: Box::new(plan),
                exprs: (0..visible.fields().len()).map(Expr::Column).collect(),
                schema: visible,
            };
        }
        Ok(plan)
    }

    /// The probe expression and subquery id of a conjunct `x IN (SELECT
    /// ...)` that a semi join answers exactly: not NOT IN (NULLs make it
    /// differ), uncorrelated, `x` free of subqueries, and `x` and the
    /// subquery's column both numbers or of one type (so equality is the
    /// join's, without SQLite's text/number affinity rules).
    fn in_as_semi_join(&self, conjunct: &Expr, scope: &Scope) -> Option<(Expr, usize)> {
        let Expr::Subquery {
            id,
            kind:
                SubqueryKind::In {
                    expr,
                    negated: false,
                },
            correlated: false,
            ..
        } = conjunct
        else {
            return None;
        };
        if contains_subquery(expr) || expr.columns().is_empty() {
            return None;
        }
        let subqueries = self.subqueries.borrow();
        let right = subqueries.get(*id)?.schema();
        let right_type = right.fields().first()?.data_type().clone();
        let left_type = super::expr::type_of(expr, scope);
        join_equality_is_exact(&left_type, &right_type).then(|| ((**expr).clone(), *id))
    }

    /// Joins `plan` with the groups of each correlated scalar subquery of
    /// `conjunct` that [`decorrelate::scalar_aggregate_join`] can answer,
    /// and returns `conjunct` reading the joined values instead.
    fn join_scalar_subqueries(&self, conjunct: Expr, plan: LogicalPlan) -> (Expr, LogicalPlan) {
        let mut ids = Vec::new();
        conjunct.visit(&mut |x| {
            if let Expr::Subquery {
                id,
                kind: SubqueryKind::Scalar,
                correlated: true,
                ..
            } = x
            {
                if !ids.contains(id) {
                    ids.push(*id);
                }
            }
        });
        let (mut conjunct, mut plan) = (conjunct, plan);
        for id in ids {
            let join = {
                let subqueries = self.subqueries.borrow();
                subqueries
                    .get(id)
                    .and_then(decorrelate::scalar_aggregate_join)
            };
            let Some(j) = join else { continue };
            let (left_schema, right_schema) = (plan.schema(), j.right.schema());
            let field_type = |schema: &arrow_schema::SchemaRef, i: usize| {
                schema
                    .fields()
                    .get(i)
                    .map_or(arrow_schema::DataType::Null, |f| f.data_type().clone())
            };
            let exact = j.on.iter().all(|(outer, inner)| {
                join_equality_is_exact(
                    &outer.data_type(&|i| field_type(&left_schema, i)),
                    &inner.data_type(&|i| field_type(&right_schema, i)),
                )
            });
            if !exact {
                continue;
            }
            let width = plan.schema().fields().len();
            let schema = concat_schema(&plan, &j.right);
            plan = LogicalPlan::Join {
                left: Box::new(plan),
                right: Box::new(j.right),
                kind: JoinKind::Left,
                on: j.on,
                filter: None,
                schema,
            };
            conjunct = conjunct.transform(&mut |x| match x {
                Expr::Subquery { id: i, .. } if i == id => Expr::Column(width + j.value),
                other => other,
            });
        }
        (conjunct, plan)
    }

    /// Binds one FROM item with its explicit joins.
    pub fn bind_table_with_joins(&self, twj: &ast::TableWithJoins) -> Result<(LogicalPlan, Scope)> {
        let (mut plan, mut scope) = self.bind_table_factor(&twj.relation)?;
        for join in &twj.joins {
            let marked = crate::join_by::marked_join(&join.relation);
            let (right, rscope) = match &marked {
                Some((_, inner)) => self.bind_table_with_joins(inner)?,
                None => self.bind_table_factor(&join.relation)?,
            };
            use ast::JoinOperator as J;
            // `l RIGHT SEMI JOIN r` is `r SEMI JOIN l` (and so for anti).
            let swap = matches!(join.join_operator, J::RightSemi(_) | J::RightAnti(_));
            let (kind, constraint) = match &join.join_operator {
                J::Join(c) | J::Inner(c) => (JoinKind::Inner, Some(c)),
                J::Left(c) | J::LeftOuter(c) => (JoinKind::Left, Some(c)),
                J::Right(c) | J::RightOuter(c) => (JoinKind::Right, Some(c)),
                J::FullOuter(c) => (JoinKind::Full, Some(c)),
                J::CrossJoin(c) => (JoinKind::Inner, Some(c)),
                J::Semi(c) | J::LeftSemi(c) => (JoinKind::Semi, Some(c)),
                J::Anti(c) | J::LeftAnti(c) => (JoinKind::Anti, Some(c)),
                J::RightSemi(c) => (JoinKind::Semi, Some(c)),
                J::RightAnti(c) => (JoinKind::Anti, Some(c)),
                other => {
                    return Err(Error::not_supported(format!(
                        "join kind not supported: {other:?}"
                    )))
                }
            };
            let kind = match (marked.map(|m| m.0), kind) {
                (None, kind) => kind,
                (Some(MarkedJoin::Mark), JoinKind::Inner) => JoinKind::Mark,
                (Some(MarkedJoin::Single), JoinKind::Inner) => JoinKind::Single,
                (Some(_), _) => {
                    return Err(Error::programming(
                        "a JOIN BY (TYPE mark|single) right side must follow a plain JOIN",
                    ))
                }
            };
            let mut joined = scope.join(&rscope);
            let lw = scope.columns.len();
            let mut conjuncts = Vec::new();
            // (left, right) positions of the columns USING/NATURAL merges.
            let mut merged: Vec<(usize, usize)> = Vec::new();
            match constraint {
                Some(ast::JoinConstraint::On(e)) => {
                    conjuncts = self
                        .bind_expr(
                            e,
                            &mut ExprContext {
                                scope: &joined,
                                agg: None,
                            },
                        )?
                        .split_conjunction();
                }
                Some(ast::JoinConstraint::Using(cols)) => {
                    for c in cols {
                        let name = object_name(c);
                        let l = match scope.lookup(None, &name) {
                            super::scope::Lookup::Found(i) => i,
                            _ => {
                                return Err(Error::programming(format!(
                                    "cannot join using column {name}"
                                )))
                            }
                        };
                        let r = match rscope.lookup(None, &name) {
                            super::scope::Lookup::Found(i) => i,
                            _ => {
                                return Err(Error::programming(format!(
                                    "cannot join using column {name}"
                                )))
                            }
                        };
                        conjuncts.push(Expr::binary(
                            BinaryOp::Eq,
                            Expr::Column(l),
                            Expr::Column(lw + r),
                        ));
                        merged.push((l, r));
                    }
                }
                Some(ast::JoinConstraint::Natural) => {
                    for (r, rc) in rscope.columns.iter().enumerate() {
                        if rc.merged || rc.hidden {
                            continue;
                        }
                        if let super::scope::Lookup::Found(l) = scope.lookup(None, &rc.name) {
                            merged.push((l, r));
                            conjuncts.push(Expr::binary(
                                BinaryOp::Eq,
                                Expr::Column(l),
                                Expr::Column(lw + r),
                            ));
                        }
                    }
                }
                _ => {}
            }
            let mut on = Vec::new();
            let mut filters = Vec::new();
            for c in conjuncts {
                if let Expr::Binary {
                    op: BinaryOp::Eq,
                    left,
                    right,
                } = &c
                {
                    let (lc, rc) = (left.columns(), right.columns());
                    let all_left = |v: &[usize]| !v.is_empty() && v.iter().all(|x| *x < lw);
                    let all_right = |v: &[usize]| !v.is_empty() && v.iter().all(|x| *x >= lw);
                    if !contains_subquery(&c) && all_left(&lc) && all_right(&rc) {
                        on.push(((**left).clone(), remap((**right).clone(), &|i| i - lw)));
                        continue;
                    }
                    if !contains_subquery(&c) && all_right(&lc) && all_left(&rc) {
                        on.push(((**right).clone(), remap((**left).clone(), &|i| i - lw)));
                        continue;
                    }
                }
                filters.push(c);
            }
            if swap {
                if filters.iter().any(contains_subquery) {
                    // Its outer references would point at the unswapped row.
                    return Err(Error::not_supported(
                        "a subquery in the condition of a RIGHT SEMI or RIGHT ANTI join",
                    ));
                }
                let rw = right.schema().fields().len();
                let swapped = |i: usize| if i < lw { i + rw } else { i - lw };
                let schema = right.schema();
                plan = LogicalPlan::Join {
                    left: Box::new(right),
                    right: Box::new(plan),
                    kind,
                    on: on.into_iter().map(|(l, r)| (r, l)).collect(),
                    filter: Expr::conjunction(filters).map(|f| remap(f, &swapped)),
                    schema,
                };
                scope = rscope;
                continue;
            }
            // A semi or anti join outputs the left rows only, a mark join
            // adds its marker to them.
            let schema = match kind {
                k if k.filters_left() => plan.schema(),
                JoinKind::Mark => {
                    let mut fields: Vec<arrow_schema::FieldRef> =
                        plan.schema().fields().iter().cloned().collect();
                    fields.push(Arc::new(arrow_schema::Field::new(
                        MARK_COLUMN,
                        arrow_schema::DataType::Boolean,
                        true,
                    )));
                    Arc::new(Schema::new(fields))
                }
                _ => concat_schema(&plan, &right),
            };
            plan = LogicalPlan::Join {
                left: Box::new(plan),
                right: Box::new(right),
                kind,
                on,
                filter: Expr::conjunction(filters),
                schema,
            };
            if kind == JoinKind::Mark {
                scope.columns.push(ScopeColumn {
                    table: None,
                    name: MARK_COLUMN.to_owned(),
                    data_type: arrow_schema::DataType::Boolean,
                    merged: false,
                    using_value: None,
                    hidden: false,
                });
            } else if kind.outputs_right() {
                // A merged column is the left one; where an outer join can
                // leave the left side NULL, COALESCE(left, right).
                if matches!(kind, JoinKind::Right | JoinKind::Full) && !merged.is_empty() {
                    let width = joined.columns.len();
                    let coalesced;
                    (plan, coalesced) = coalesce_merged(plan, &merged, lw)?;
                    for (k, (l, data_type)) in coalesced.into_iter().enumerate() {
                        joined.columns[l].using_value = Some(width + k);
                        joined.columns.push(ScopeColumn {
                            table: None,
                            name: joined.columns[l].name.clone(),
                            data_type,
                            merged: true,
                            using_value: None,
                            hidden: false,
                        });
                    }
                }
                for (_, r) in &merged {
                    joined.columns[lw + r].merged = true;
                }
                scope = joined;
            }
        }
        Ok((plan, scope))
    }

    fn bind_table_factor(&self, f: &ast::TableFactor) -> Result<(LogicalPlan, Scope)> {
        match f {
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                ..
            } => self.bind_table_function(name, args, alias),
            ast::TableFactor::Table { name, alias, .. } => {
                let short = object_name(name);
                let alias_name = alias.as_ref().map(|a| a.name.value.clone());
                let label = alias_name.clone().unwrap_or_else(|| short.clone());
                // A CTE name is never qualified: `s.t` names a table or view
                // even where a CTE `t` is in scope.
                let qualified = name.0.len() > 1;
                let tname = if qualified {
                    super::catalog_name(name)?
                } else {
                    short
                };
                if let Some(plan) = self.find_recursive_cte(&tname).filter(|_| !qualified) {
                    return Ok(derived_scope(plan, &label, alias));
                }
                if let Some((at, q)) = self.find_cte(&tname).filter(|_| !qualified) {
                    // The CTE's query sees only the CTEs defined before it:
                    // its own name means an outer CTE or table, never itself.
                    let hidden = self.ctes.borrow_mut().split_off(at);
                    let plan = self.bind_query(&q);
                    self.ctes.borrow_mut().extend(hidden);
                    return Ok(derived_scope(plan?, &label, alias));
                }
                if let Some(view) = self.catalog.views.get(&tname.to_ascii_lowercase()) {
                    let q = parse_query(&view.query)?;
                    let plan = self.bind_query(&q)?;
                    let plan = rename_columns(plan, &view.columns);
                    return Ok(derived_scope(plan, &label, alias));
                }
                if let Some(rel) = self.relation(&tname) {
                    let plan = LogicalPlan::Batches {
                        batches: rel.batches.clone(),
                        schema: rel.schema.clone(),
                    };
                    return Ok(derived_scope(plan, &label, alias));
                }
                if self.catalog.table(&tname).is_none() && super::system::is_schema_view(&tname) {
                    let plan = super::system::schema_view(self.catalog);
                    return Ok(derived_scope(plan, &label, alias));
                }
                let meta = self
                    .catalog
                    .table(&tname)
                    .ok_or_else(|| Error::programming(format!("no such table: {tname}")))?;
                let mut names: Vec<String> = meta.columns.iter().map(|c| c.name.clone()).collect();
                let mut types: Vec<_> = meta
                    .columns
                    .iter()
                    .map(|c| c.sql_type.arrow_type())
                    .collect();
                let mut columns: Vec<usize> = (0..names.len()).collect();
                let rowid = self.rowid_source(meta);
                if let Some((source, data_type)) = &rowid {
                    columns.push(*source);
                    names.push("rowid".into());
                    types.push(data_type.clone());
                }
                let scope = Scope {
                    columns: names
                        .iter()
                        .zip(&types)
                        .enumerate()
                        .map(|(i, (n, t))| ScopeColumn {
                            table: Some(label.to_ascii_lowercase()),
                            name: n.to_ascii_lowercase(),
                            data_type: t.clone(),
                            merged: false,
                            using_value: None,
                            hidden: i >= meta.columns.len(),
                        })
                        .collect(),
                };
                Ok((
                    LogicalPlan::Scan {
                        table: meta.id,
                        columns,
                        filters: vec![],
                        schema: schema_of(&names, &types),
                    },
                    scope,
                ))
            }
            ast::TableFactor::Derived {
                subquery, alias, ..
            } => {
                let plan = self.bind_query(subquery)?;
                let label = match alias {
                    Some(a) => a.name.value.clone(),
                    None => {
                        // DuckDB's names: unnamed_subquery, unnamed_subquery2, ...
                        let n = self.unnamed_subqueries.get() + 1;
                        self.unnamed_subqueries.set(n);
                        match n {
                            1 => "unnamed_subquery".to_string(),
                            n => format!("unnamed_subquery{n}"),
                        }
                    }
                };
                Ok(derived_scope(plan, &label, alias))
            }
            ast::TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.bind_table_with_joins(table_with_joins),
            other => Err(Error::not_supported(format!(
                "FROM item not supported: {other}"
            ))),
        }
    }

    /// The innermost ordinary CTE called `name`: its position in the CTE
    /// stack and its query.
    fn find_cte(&self, name: &str) -> Option<(usize, ast::Query)> {
        self.ctes
            .borrow()
            .iter()
            .rposition(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|at| (at, self.ctes.borrow()[at].1.clone()))
    }
}

fn is_equi(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Binary {
            op: BinaryOp::Eq,
            ..
        }
    )
}

/// Applies `filters` (conjuncts over `plan`'s columns) as deep in `plan`
/// as they keep their meaning: into a scan (where an index may serve them),
/// and through joins into the side whose rows they test when that side is
/// not NULL-extended (both sides of an inner join, the left of a LEFT
/// JOIN, the right of a RIGHT JOIN). A conjunct over both sides of an
/// inner join joins its condition; one that calls `random()` stays put.
fn push_filters(plan: LogicalPlan, filters: Vec<Expr>) -> LogicalPlan {
    if filters.is_empty() {
        return plan;
    }
    match plan {
        LogicalPlan::Join {
            left,
            right,
            kind,
            on,
            filter,
            schema,
        } => {
            let width = left.schema().fields().len();
            let (mut to_left, mut to_right, mut to_join, mut above) =
                (vec![], vec![], vec![], vec![]);
            for c in filters {
                let cols = c.columns();
                let left_only = cols.iter().all(|i| *i < width);
                let right_only = cols.iter().all(|i| *i >= width);
                if cols.is_empty() || c.is_volatile() {
                    above.push(c);
                } else if left_only
                    && matches!(
                        kind,
                        JoinKind::Inner
                            | JoinKind::Left
                            | JoinKind::Semi
                            | JoinKind::Anti
                            | JoinKind::Mark
                            | JoinKind::Single
                    )
                {
                    to_left.push(c);
                } else if right_only && matches!(kind, JoinKind::Inner | JoinKind::Right) {
                    to_right.push(remap(c, &|i| i - width));
                } else if kind == JoinKind::Inner {
                    to_join.push(c);
                } else {
                    above.push(c);
                }
            }
            let joined = LogicalPlan::Join {
                left: Box::new(push_filters(*left, to_left)),
                right: Box::new(push_filters(*right, to_right)),
                kind,
                on,
                filter: Expr::conjunction(filter.into_iter().chain(to_join).collect()),
                schema,
            };
            match Expr::conjunction(above) {
                Some(predicate) => LogicalPlan::Filter {
                    input: Box::new(joined),
                    predicate,
                },
                None => joined,
            }
        }
        LogicalPlan::Scan {
            table,
            columns,
            filters: mut f,
            schema,
        } => {
            f.extend(filters);
            LogicalPlan::Scan {
                table,
                columns,
                filters: f,
                schema,
            }
        }
        other => LogicalPlan::Filter {
            input: Box::new(other),
            predicate: Expr::conjunction(filters).unwrap_or(Expr::lit(true)),
        },
    }
}

/// Whether a hash join's key equality between values of these types is
/// the SQL `=` a subquery would apply: one type, or numbers on both sides
/// (not text meeting a number, which SQLite compares by affinity, nor an
/// untyped NULL-declared expression).
fn join_equality_is_exact(left: &arrow_schema::DataType, right: &arrow_schema::DataType) -> bool {
    use arrow_schema::DataType;
    let numeric =
        |t: &DataType| t.is_integer() || t.is_floating() || matches!(t, DataType::Decimal128(..));
    left != &DataType::Null
        && right != &DataType::Null
        && (left == right || (numeric(left) && numeric(right)))
}

fn concat_schema(l: &LogicalPlan, r: &LogicalPlan) -> arrow_schema::SchemaRef {
    let mut fields: Vec<arrow_schema::FieldRef> = l.schema().fields().iter().cloned().collect();
    fields.extend(r.schema().fields().iter().cloned());
    Arc::new(Schema::new(fields))
}

fn rename_columns(plan: LogicalPlan, names: &[String]) -> LogicalPlan {
    if names.is_empty() {
        return plan;
    }
    let schema = plan.schema();
    let types: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    let mut new_names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    for (i, n) in names.iter().enumerate().take(new_names.len()) {
        new_names[i] = n.clone();
    }
    LogicalPlan::Project {
        exprs: (0..types.len()).map(Expr::Column).collect(),
        input: Box::new(plan),
        schema: schema_of(&new_names, &types),
    }
}

pub(super) fn derived_scope(
    plan: LogicalPlan,
    label: &str,
    alias: &Option<ast::TableAlias>,
) -> (LogicalPlan, Scope) {
    let names: Vec<String> = alias
        .as_ref()
        .map(|a| a.columns.iter().map(|c| c.name.value.clone()).collect())
        .unwrap_or_default();
    let plan = rename_columns(plan, &names);
    let schema = plan.schema();
    let scope = Scope {
        columns: schema
            .fields()
            .iter()
            .map(|f| ScopeColumn {
                table: (!label.is_empty()).then(|| label.to_ascii_lowercase()),
                name: f.name().to_ascii_lowercase(),
                data_type: f.data_type().clone(),
                merged: false,
                using_value: None,
                hidden: false,
            })
            .collect(),
    };
    (plan, scope)
}

/// Parses SQL text of a query (stored views, and the text our rewrites
/// build), with the same grammar and nesting limit as statements.
pub fn parse_query(sql: &str) -> Result<ast::Query> {
    match crate::parse::parse_statements(sql)?.pop() {
        Some(ast::Statement::Query(q)) => Ok(*q),
        _ => Err(Error::internal("stored view is not a query")),
    }
}

/// The query `SELECT * FROM name`, built as a syntax tree (used for SQLite's
/// `x IN table` form).
pub fn select_star_from(name: &ast::ObjectName) -> ast::Query {
    let mut q = parse_query("SELECT * FROM t").expect("constant query parses");
    if let ast::SetExpr::Select(select) = q.body.as_mut() {
        if let Some(ast::TableWithJoins {
            relation: ast::TableFactor::Table { name: table, .. },
            ..
        }) = select.from.first_mut()
        {
            *table = name.clone();
        }
    }
    q
}

/// `plan` (a join whose right side starts at column `lw`) followed by one
/// `COALESCE(left, right)` column per merged pair: the value of a USING
/// column of a RIGHT or FULL join, whichever side the row came from. Also
/// returns, per added column, its left column and type.
fn coalesce_merged(
    plan: LogicalPlan,
    merged: &[(usize, usize)],
    lw: usize,
) -> Result<(LogicalPlan, Vec<(usize, DataType)>)> {
    let schema = plan.schema();
    let mut exprs: Vec<Expr> = (0..schema.fields().len()).map(Expr::Column).collect();
    let mut fields: Vec<arrow_schema::Field> =
        schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut added = Vec::new();
    for &(l, r) in merged {
        let args = [
            schema.field(l).data_type(),
            schema.field(lw + r).data_type(),
        ];
        let data_type = llkv_plan::types::common_type(args);
        exprs.push(Expr::Function {
            func: llkv_plan::ScalarFunction::Coalesce,
            args: vec![Expr::Column(l), Expr::Column(lw + r)],
        });
        fields.push(arrow_schema::Field::new(
            schema.field(l).name(),
            data_type.clone(),
            true,
        ));
        added.push((l, data_type));
    }
    let plan = LogicalPlan::Project {
        input: Box::new(plan),
        exprs,
        schema: std::sync::Arc::new(arrow_schema::Schema::new(fields)),
    };
    Ok((plan, added))
}
