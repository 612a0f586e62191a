//! Queries: WITH, compound SELECTs, SELECT with GROUP BY/HAVING, ORDER BY
//! (by ordinal, output alias or expression), LIMIT/OFFSET and VALUES.

use arrow_schema::DataType;
use llkv_executor::{empty_rows_batch, ExecContext, TableProvider};
use llkv_plan::types::common_type;
use llkv_plan::{Error, Expr, LogicalPlan, Result, SetOpKind, SortKey, TableId, Value};
use sqlparser::ast;

use super::expr::{contains_aggregate, AggContext, ExprContext};
use super::from::remap;
use super::scope::{Scope, ScopeColumn};
use super::window::WINDOW_BASE;
use super::{object_name, schema_of, type_of, Binder};

struct NoTables;

impl TableProvider for NoTables {
    fn scan(&self, _: TableId, _: &[usize]) -> Result<llkv_executor::BatchIter<'_>> {
        Err(Error::programming("LIMIT/OFFSET must be constant"))
    }
}

/// A resolved ORDER BY item before it is turned into a sort key.
struct OrderItem {
    expr: Expr,
    descending: bool,
    nulls_first: Option<bool>,
}

impl Binder<'_> {
    /// Binds a full query (WITH, body, ORDER BY, LIMIT).
    pub fn bind_query(&self, q: &ast::Query) -> Result<LogicalPlan> {
        let recursive_before = self.recursive_ctes.borrow().len();
        let mut pushed = 0;
        let mut bound = Ok(());
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                if with.recursive {
                    match self.bind_recursive_cte(cte) {
                        Ok(Some(plan)) => {
                            self.recursive_ctes.borrow_mut().push((
                                cte.alias.name.value.to_ascii_lowercase(),
                                super::recursive::BoundCte::Plan(plan),
                            ));
                            continue;
                        }
                        Ok(None) => {}
                        Err(e) => {
                            bound = Err(e);
                            break;
                        }
                    }
                }
                let mut query = (*cte.query).clone();
                if !cte.alias.columns.is_empty() {
                    // Carry the column list as a derived-table alias.
                    query = wrap_with_columns(query, &cte.alias);
                }
                self.ctes
                    .borrow_mut()
                    .push((cte.alias.name.value.to_ascii_lowercase(), query));
                pushed += 1;
            }
        }
        let out = bound.and_then(|()| self.bind_query_body(q));
        for _ in 0..pushed {
            self.ctes.borrow_mut().pop();
        }
        self.recursive_ctes.borrow_mut().truncate(recursive_before);
        out
    }

    fn bind_query_body(&self, q: &ast::Query) -> Result<LogicalPlan> {
        if !q.locks.is_empty() {
            return Err(Error::not_supported(
                "FOR UPDATE / FOR SHARE row locks are not supported: a transaction \
                 that writes a row another one changed fails with a conflict instead",
            ));
        }
        let order: Vec<ast::OrderByExpr> = match &q.order_by {
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(v) => v.clone(),
                ast::OrderByKind::All(_) => {
                    return Err(Error::not_supported("ORDER BY ALL is not supported yet"))
                }
            },
            None => vec![],
        };
        let (limit, offset) = self.bind_limit(q)?;
        let (mut plan, visible) = match q.body.as_ref() {
            ast::SetExpr::Select(s) => self.bind_select(s, &order)?,
            body => {
                let plan = self.bind_set_expr(body)?;
                let width = plan.schema().fields().len();
                let plan = if order.is_empty() {
                    plan
                } else {
                    let schema = plan.schema();
                    let mut keys = Vec::new();
                    for o in &order {
                        let idx = match output_position(&o.expr, &schema, self.wide_ordinals)? {
                            Some(idx) => idx,
                            None => branch_position(&o.expr, &plan)?.ok_or_else(|| {
                                Error::programming(
                                    "ORDER BY term does not match any column in the result set",
                                )
                            })?,
                        };
                        keys.push(sort_key(Expr::Column(idx), o));
                    }
                    LogicalPlan::Sort {
                        input: Box::new(plan),
                        keys,
                    }
                };
                (plan, width)
            }
        };
        if limit.is_some() || offset > 0 {
            plan = LogicalPlan::Limit {
                input: Box::new(plan),
                offset,
                limit,
            };
        }
        let schema = plan.schema();
        if schema.fields().len() > visible {
            let names: Vec<String> = schema.fields()[..visible]
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let types: Vec<DataType> = schema.fields()[..visible]
                .iter()
                .map(|f| f.data_type().clone())
                .collect();
            plan = LogicalPlan::Project {
                input: Box::new(plan),
                exprs: (0..visible).map(Expr::Column).collect(),
                schema: schema_of(&names, &types),
            };
        }
        Ok(plan)
    }

    pub(super) fn constant(&self, e: &ast::Expr) -> Result<Value> {
        // No window calls in LIMIT/OFFSET.
        self.without_windows(|| self.constant_value(e))
    }

    fn constant_value(&self, e: &ast::Expr) -> Result<Value> {
        let scope = Scope::default();
        let bound = self.bind_expr(
            e,
            &mut ExprContext {
                scope: &scope,
                agg: None,
            },
        )?;
        let bound = self.param_values(bound);
        let provider = NoTables;
        let ctx = ExecContext::new(&provider, &[]);
        let arr = llkv_executor::eval::evaluate(&bound, &empty_rows_batch(1), &ctx)?;
        Ok(llkv_executor::scalar::value_at(arr.as_ref(), 0))
    }

    pub(super) fn bind_limit(&self, q: &ast::Query) -> Result<(Option<usize>, usize)> {
        let to_count = |v: Value, what: &str| -> Result<Option<usize>> {
            match v {
                Value::Integer(i) if i < 0 => Ok(None),
                Value::Integer(i) => Ok(Some(i as usize)),
                Value::Null => Ok(None),
                other => Err(Error::data(format!(
                    "{what} must be an integer, got {other}"
                ))),
            }
        };
        if let Some(fetch) = &q.fetch {
            // `[OFFSET n ROWS] FETCH FIRST m ROWS ONLY`.
            if fetch.with_ties || fetch.percent {
                return Err(Error::not_supported(
                    "FETCH FIRST ... WITH TIES / PERCENT is not supported yet",
                ));
            }
            let limit = match &fetch.quantity {
                Some(e) => to_count(self.constant(e)?, "FETCH FIRST")?,
                None => Some(1),
            };
            let offset = match &q.limit_clause {
                None => 0,
                Some(ast::LimitClause::LimitOffset {
                    limit: None,
                    offset: Some(o),
                    ..
                }) => to_count(self.constant(&o.value)?, "OFFSET")?.unwrap_or(0),
                Some(_) => {
                    return Err(Error::programming(
                        "FETCH FIRST cannot be combined with LIMIT",
                    ))
                }
            };
            return Ok((limit, offset));
        }
        match &q.limit_clause {
            None => Ok((None, 0)),
            Some(ast::LimitClause::LimitOffset { limit, offset, .. }) => {
                let l = match limit {
                    Some(e) => to_count(self.constant(e)?, "LIMIT")?,
                    None => None,
                };
                let o = match offset {
                    Some(o) => to_count(self.constant(&o.value)?, "OFFSET")?.unwrap_or(0),
                    None => 0,
                };
                Ok((l, o))
            }
            Some(ast::LimitClause::OffsetCommaLimit { offset, limit }) => {
                let l = to_count(self.constant(limit)?, "LIMIT")?;
                let o = to_count(self.constant(offset)?, "OFFSET")?.unwrap_or(0);
                Ok((l, o))
            }
        }
    }

    pub(super) fn bind_set_expr(&self, body: &ast::SetExpr) -> Result<LogicalPlan> {
        match body {
            ast::SetExpr::Select(s) => Ok(self.bind_select(s, &[])?.0),
            ast::SetExpr::Query(q) => self.bind_query(q),
            ast::SetExpr::Values(v) => self.bind_values(v),
            ast::SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                if self.compounds_left_to_right {
                    return self.bind_compound_left_to_right(body);
                }
                let l = self.bind_set_expr(left)?;
                let r = self.bind_set_expr(right)?;
                set_operation(l, r, op, set_quantifier)
            }
            other => Err(Error::not_supported(format!(
                "query form not supported: {other}"
            ))),
        }
    }

    /// Binds a chain of compound operators as SQLite reads it: all of one
    /// precedence, applied left to right, so `A UNION B INTERSECT C` is
    /// `(A UNION B) INTERSECT C`. (sqlparser builds the standard tree, where
    /// INTERSECT binds tighter; a parenthesised operand stays one operand.)
    fn bind_compound_left_to_right(&self, body: &ast::SetExpr) -> Result<LogicalPlan> {
        fn flatten<'q>(
            e: &'q ast::SetExpr,
            operands: &mut Vec<&'q ast::SetExpr>,
            ops: &mut Vec<(&'q ast::SetOperator, &'q ast::SetQuantifier)>,
        ) {
            match e {
                ast::SetExpr::SetOperation {
                    op,
                    set_quantifier,
                    left,
                    right,
                } => {
                    flatten(left, operands, ops);
                    ops.push((op, set_quantifier));
                    flatten(right, operands, ops);
                }
                operand => operands.push(operand),
            }
        }
        let (mut operands, mut ops) = (Vec::new(), Vec::new());
        flatten(body, &mut operands, &mut ops);
        let mut plan = self.bind_set_expr(operands[0])?;
        for ((op, quantifier), operand) in ops.into_iter().zip(&operands[1..]) {
            let right = self.bind_set_expr(operand)?;
            plan = set_operation(plan, right, op, quantifier)?;
        }
        Ok(plan)
    }

    fn bind_values(&self, v: &ast::Values) -> Result<LogicalPlan> {
        self.without_windows(|| self.bind_values_rows(v))
    }

    fn bind_values_rows(&self, v: &ast::Values) -> Result<LogicalPlan> {
        let scope = Scope::default();
        let mut rows = Vec::with_capacity(v.rows.len());
        let mut width = None;
        for row in &v.rows {
            let bound = row
                .iter()
                .map(|e| {
                    self.bind_expr(
                        e,
                        &mut ExprContext {
                            scope: &scope,
                            agg: None,
                        },
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            if *width.get_or_insert(bound.len()) != bound.len() {
                return Err(Error::programming(
                    "all VALUES must have the same number of terms",
                ));
            }
            rows.push(bound);
        }
        let width = width.unwrap_or(0);
        let types: Vec<DataType> = (0..width)
            .map(|i| {
                let ts: Vec<DataType> = rows.iter().map(|r| type_of(&r[i], &scope)).collect();
                common_type(&ts)
            })
            .collect();
        Ok(LogicalPlan::Values {
            rows,
            schema: schema_of(&self.values_column_names(width), &types),
        })
    }

    /// The column names of `width` VALUES terms: SQLite's column1,
    /// column2, ...; DuckDB's col0, col1, ...
    pub(super) fn values_column_names(&self, width: usize) -> Vec<String> {
        if self.duckdb_rules {
            (0..width).map(|i| format!("col{i}")).collect()
        } else {
            (1..=width).map(|i| format!("column{i}")).collect()
        }
    }

    /// Binds a SELECT with its ORDER BY. Returns the plan (whose trailing
    /// columns may be hidden sort keys) and the number of visible columns.
    fn bind_select(
        &self,
        s: &ast::Select,
        order: &[ast::OrderByExpr],
    ) -> Result<(LogicalPlan, usize)> {
        self.push_window_scope(s)?;
        let out = self.bind_select_in_window_scope(s, order);
        self.pop_window_scope();
        out
    }

    fn bind_select_in_window_scope(
        &self,
        s: &ast::Select,
        order: &[ast::OrderByExpr],
    ) -> Result<(LogicalPlan, usize)> {
        if s.into.is_some() {
            return Err(Error::not_supported(
                "SELECT ... INTO is not supported; use CREATE TABLE ... AS SELECT",
            ));
        }
        // DuckDB's `FROM t` without a SELECT list means `SELECT * FROM t`.
        let star;
        let s = if s.projection.is_empty() && s.flavor == ast::SelectFlavor::FromFirstNoSelect {
            star = ast::Select {
                projection: vec![ast::SelectItem::Wildcard(Default::default())],
                ..s.clone()
            };
            &star
        } else {
            s
        };
        if s.projection.is_empty() {
            return Err(Error::programming(
                "syntax error: SELECT needs at least one result column",
            ));
        }
        let distinct_on;
        let s = match &s.distinct {
            Some(ast::Distinct::On(keys)) => {
                distinct_on = first_row_per_key(s, keys, order);
                &distinct_on
            }
            _ => s,
        };
        let (input, scope) = self.bind_from_where(&s.from, s.selection.as_ref())?;
        let group_exprs: Vec<ast::Expr> = match &s.group_by {
            ast::GroupByExpr::Expressions(v, modifiers) => {
                super::grouping_sets::apply_modifiers(v, modifiers)?
            }
            ast::GroupByExpr::All(_) => return Err(Error::not_supported("GROUP BY ALL")),
        };
        let select_has_agg = s.projection.iter().any(|item| match item {
            ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
                contains_aggregate(e)
            }
            _ => false,
        });
        let window_has_agg = s.named_window.iter().any(|d| match &d.1 {
            ast::NamedWindowExpr::WindowSpec(spec) => {
                spec.partition_by.iter().any(contains_aggregate)
                    || spec.order_by.iter().any(|o| contains_aggregate(&o.expr))
            }
            _ => false,
        });
        let is_agg = !group_exprs.is_empty()
            || select_has_agg
            || window_has_agg
            || s.qualify.as_ref().is_some_and(contains_aggregate)
            || s.having.is_some()
            || order.iter().any(|o| contains_aggregate(&o.expr));
        let mut agg = if is_agg {
            let mut group_sql = Vec::new();
            let (group_by, grouping_sets) = match super::grouping_sets::expand(&group_exprs)? {
                None => {
                    let mut group_by = Vec::new();
                    for g in &group_exprs {
                        group_by.push(self.group_term(g, s, &scope)?);
                        group_sql.push(group_term_sql(g, s, &scope));
                    }
                    (group_by, vec![])
                }
                Some(sets) => {
                    let bound = sets
                        .iter()
                        .map(|set| {
                            set.iter()
                                .map(|g| self.group_term(g, s, &scope))
                                .collect::<Result<Vec<_>>>()
                        })
                        .collect::<Result<Vec<_>>>()?;
                    let (mut terms, sets) = super::grouping_sets::index_sets(bound);
                    if terms.len() > 62 {
                        return Err(Error::programming(
                            "GROUPING SETS may hold at most 62 distinct terms",
                        ));
                    }
                    terms.push(super::grouping_sets::GROUPING_ID);
                    (terms, sets)
                }
            };
            Some(AggContext {
                input: scope.clone(),
                group_by,
                aggregates: vec![],
                grouping_sets,
                group_sql,
            })
        } else {
            None
        };
        // Scope that subqueries above the aggregation see: the grouped columns.
        let post_scope = match &agg {
            Some(ac) => Scope {
                columns: ac
                    .group_by
                    .iter()
                    .enumerate()
                    .map(|(i, g)| match g {
                        Expr::Column(c) if *c < scope.columns.len() => scope.columns[*c].clone(),
                        _ => ScopeColumn {
                            table: None,
                            name: String::new(),
                            data_type: ac.output_type(i),
                            merged: false,
                            using_value: None,
                            hidden: false,
                        },
                    })
                    .collect(),
            },
            None => scope.clone(),
        };
        let expr_scope = if agg.is_some() { &scope } else { &post_scope };
        self.allow_windows(true);
        // Projection.
        let mut exprs = Vec::new();
        let mut names = Vec::new();
        for item in &s.projection {
            match item {
                ast::SelectItem::UnnamedExpr(e) => {
                    let b = self.bind_in(e, expr_scope, &post_scope, agg.as_mut())?;
                    names.push(output_name(e));
                    exprs.push(b);
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let b = self.bind_in(expr, expr_scope, &post_scope, agg.as_mut())?;
                    names.push(alias.value.clone());
                    exprs.push(b);
                }
                ast::SelectItem::Wildcard(_) => {
                    if scope.columns.is_empty() {
                        return Err(Error::programming("no tables specified"));
                    }
                    for (i, c) in scope.columns.iter().enumerate() {
                        if c.merged || c.hidden {
                            continue;
                        }
                        let i = c.using_value.unwrap_or(i);
                        exprs.push(self.star_column(i, agg.as_mut(), &scope)?);
                        names.push(c.name.clone());
                    }
                }
                ast::SelectItem::QualifiedWildcard(kind, _) => {
                    let t = match kind {
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n) => object_name(n),
                        _ => return Err(Error::not_supported("wildcard on an expression")),
                    };
                    if !scope.has_table(&t) {
                        return Err(Error::programming(format!("no such table: {t}")));
                    }
                    for (i, c) in scope.columns.iter().enumerate() {
                        if !c.hidden
                            && c.table
                                .as_deref()
                                .is_some_and(|x| x.eq_ignore_ascii_case(&t))
                        {
                            exprs.push(self.star_column(i, agg.as_mut(), &scope)?);
                            names.push(c.name.clone());
                        }
                    }
                }
                other => {
                    return Err(Error::not_supported(format!(
                        "select item not supported: {other}"
                    )))
                }
            }
        }
        self.allow_windows(false);
        let having = match &s.having {
            Some(h) => Some(self.bind_in(h, expr_scope, &post_scope, agg.as_mut())?),
            None => None,
        };
        self.allow_windows(true);
        let qualify = match &s.qualify {
            Some(q) => {
                let q = with_select_aliases(q, &s.projection, &scope);
                Some(self.bind_in(&q, expr_scope, &post_scope, agg.as_mut())?)
            }
            None => None,
        };
        // ORDER BY.
        let visible = exprs.len();
        let mut order_items = Vec::new();
        for o in order {
            let (descending, nulls_first) = sort_options(o);
            let expr = match ordinal_or_alias(&o.expr, &names, self.wide_ordinals)? {
                Some(i) => Expr::Column(i),
                None => {
                    let b = self.bind_in(&o.expr, expr_scope, &post_scope, agg.as_mut())?;
                    match exprs.iter().position(|e| *e == b) {
                        Some(i) => Expr::Column(i),
                        None => {
                            exprs.push(b);
                            names.push(format!("__order{}", exprs.len()));
                            Expr::Column(exprs.len() - 1)
                        }
                    }
                }
            };
            order_items.push(OrderItem {
                expr,
                descending,
                nulls_first,
            });
        }
        self.allow_windows(false);
        let windows = self.take_window_calls();
        if qualify.is_some() && windows.is_empty() {
            return Err(Error::programming("QUALIFY clause needs a window function"));
        }
        // Assemble.
        let (mut plan, mut proj_scope) = match agg {
            Some(ac) => {
                let width = ac.group_by.len() + ac.aggregates.len();
                let types: Vec<DataType> = (0..width).map(|i| ac.output_type(i)).collect();
                let anames: Vec<String> = (0..width).map(|i| format!("__agg{i}")).collect();
                let plan = LogicalPlan::Aggregate {
                    input: Box::new(input),
                    group_by: ac.group_by,
                    grouping_sets: ac.grouping_sets,
                    aggregates: ac.aggregates,
                    schema: schema_of(&anames, &types),
                };
                let ps = Scope {
                    columns: types
                        .into_iter()
                        .map(|t| ScopeColumn {
                            table: None,
                            name: String::new(),
                            data_type: t,
                            merged: false,
                            using_value: None,
                            hidden: false,
                        })
                        .collect(),
                };
                (plan, ps)
            }
            None => (input, scope.clone()),
        };
        if let Some(h) = having {
            plan = LogicalPlan::Filter {
                input: Box::new(plan),
                predicate: h,
            };
        }
        if !windows.is_empty() {
            let base = proj_scope.columns.len();
            let to_output = |i: usize| {
                if i >= WINDOW_BASE {
                    base + (i - WINDOW_BASE)
                } else {
                    i
                }
            };
            let input_schema = plan.schema();
            let mut wnames: Vec<String> = input_schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let mut wtypes: Vec<DataType> = input_schema
                .fields()
                .iter()
                .map(|f| f.data_type().clone())
                .collect();
            for (i, w) in windows.iter().enumerate() {
                wnames.push(format!("__window{i}"));
                wtypes.push(w.data_type.clone());
                proj_scope.columns.push(ScopeColumn {
                    table: None,
                    name: String::new(),
                    data_type: w.data_type.clone(),
                    merged: false,
                    using_value: None,
                    hidden: false,
                });
            }
            plan = LogicalPlan::Window {
                input: Box::new(plan),
                functions: windows,
                schema: schema_of(&wnames, &wtypes),
            };
            if let Some(q) = qualify {
                plan = LogicalPlan::Filter {
                    input: Box::new(plan),
                    predicate: remap(q, &to_output),
                };
            }
            exprs = exprs.into_iter().map(|e| remap(e, &to_output)).collect();
        }
        let types: Vec<DataType> = exprs.iter().map(|e| type_of(e, &proj_scope)).collect();
        plan = LogicalPlan::Project {
            input: Box::new(plan),
            exprs,
            schema: schema_of(&names, &types),
        };
        let distinct = matches!(s.distinct, Some(ast::Distinct::Distinct));
        let sort_keys: Vec<SortKey> = order_items
            .into_iter()
            .map(|o| SortKey {
                expr: o.expr,
                descending: o.descending,
                nulls_first: o.nulls_first.unwrap_or(!o.descending),
            })
            .collect();
        let width = plan.schema().fields().len();
        if distinct && width > visible {
            // ORDER BY terms outside a DISTINCT select list: sort first, then
            // drop them and keep each distinct row at its first place (one
            // row per distinct value, as SQLite and DuckDB answer).
            plan = LogicalPlan::Sort {
                input: Box::new(plan),
                keys: sort_keys,
            };
            let schema = plan.schema();
            let fields = schema.fields()[..visible].to_vec();
            plan = LogicalPlan::Project {
                input: Box::new(plan),
                exprs: (0..visible).map(Expr::Column).collect(),
                schema: std::sync::Arc::new(arrow_schema::Schema::new(fields)),
            };
            plan = LogicalPlan::Distinct {
                input: Box::new(plan),
            };
            return Ok((plan, visible));
        }
        if distinct {
            plan = LogicalPlan::Distinct {
                input: Box::new(plan),
            };
        }
        if !sort_keys.is_empty() {
            plan = LogicalPlan::Sort {
                input: Box::new(plan),
                keys: sort_keys,
            };
        }
        Ok((plan, visible))
    }

    fn bind_in(
        &self,
        e: &ast::Expr,
        scope: &Scope,
        post_scope: &Scope,
        agg: Option<&mut AggContext>,
    ) -> Result<Expr> {
        match agg {
            Some(ac) => {
                let _ = post_scope;
                self.bind_expr(
                    e,
                    &mut ExprContext {
                        scope,
                        agg: Some(ac),
                    },
                )
            }
            None => self.bind_expr(e, &mut ExprContext { scope, agg: None }),
        }
    }

    fn star_column(&self, i: usize, agg: Option<&mut AggContext>, scope: &Scope) -> Result<Expr> {
        match agg {
            None => Ok(Expr::Column(i)),
            Some(ac) => {
                let id = ast::Ident::new(scope.columns[i].name.clone());
                let e = match &scope.columns[i].table {
                    Some(t) => ast::Expr::CompoundIdentifier(vec![ast::Ident::new(t.clone()), id]),
                    None => ast::Expr::Identifier(id),
                };
                self.bind_expr(
                    &e,
                    &mut ExprContext {
                        scope,
                        agg: Some(ac),
                    },
                )
            }
        }
    }

    fn group_term(&self, g: &ast::Expr, s: &ast::Select, scope: &Scope) -> Result<Expr> {
        // GROUP BY <ordinal> and GROUP BY <output alias> refer to select items.
        if let Some(k) = integer_literal(g) {
            let item = usize::try_from(k)
                .ok()
                .and_then(|k| s.projection.get(k.wrapping_sub(1)))
                .ok_or_else(|| {
                    Error::programming(format!(
                        "GROUP BY term out of range - should be between 1 and {}",
                        s.projection.len()
                    ))
                })?;
            if let ast::SelectItem::UnnamedExpr(e)
            | ast::SelectItem::ExprWithAlias { expr: e, .. } = item
            {
                return self.bind_expr(e, &mut ExprContext { scope, agg: None });
            }
        }
        match self.bind_expr(g, &mut ExprContext { scope, agg: None }) {
            Ok(e) => Ok(e),
            Err(err) => {
                if let ast::Expr::Identifier(id) = g {
                    for item in &s.projection {
                        if let ast::SelectItem::ExprWithAlias { expr, alias } = item {
                            if alias.value.eq_ignore_ascii_case(&id.value) {
                                return self.bind_expr(expr, &mut ExprContext { scope, agg: None });
                            }
                        }
                    }
                }
                Err(err)
            }
        }
    }
}

/// The SQL a GROUP BY term stands for: the select item it numbers or
/// names (an output alias that is not an input column), else itself.
fn group_term_sql(g: &ast::Expr, s: &ast::Select, scope: &Scope) -> ast::Expr {
    let item_expr = |item: &ast::SelectItem| match item {
        ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
            Some(e.clone())
        }
        _ => None,
    };
    if let Some(k) = integer_literal(g) {
        if let Some(e) = usize::try_from(k)
            .ok()
            .and_then(|k| s.projection.get(k.wrapping_sub(1)))
            .and_then(item_expr)
        {
            return e;
        }
    }
    if let ast::Expr::Identifier(id) = g {
        let is_column = scope
            .columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(&id.value));
        if !is_column {
            for item in &s.projection {
                if let ast::SelectItem::ExprWithAlias { expr, alias } = item {
                    if alias.value.eq_ignore_ascii_case(&id.value) {
                        return expr.clone();
                    }
                }
            }
        }
    }
    g.clone()
}

fn sort_options(o: &ast::OrderByExpr) -> (bool, Option<bool>) {
    let descending = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
    (descending, o.options.nulls_first)
}

pub(super) fn sort_key(expr: Expr, o: &ast::OrderByExpr) -> SortKey {
    let (descending, nulls_first) = sort_options(o);
    SortKey {
        expr,
        descending,
        nulls_first: nulls_first.unwrap_or(!descending),
    }
}

/// `SELECT DISTINCT ON (keys) ... ORDER BY o` as `SELECT ... QUALIFY
/// row_number() OVER (PARTITION BY keys ORDER BY o) = 1`: the first row of
/// each key in the query's order. ORDER BY ordinals become the items they
/// name (aliases are resolved in QUALIFY).
fn first_row_per_key(
    s: &ast::Select,
    keys: &[ast::Expr],
    order: &[ast::OrderByExpr],
) -> ast::Select {
    // An ordinal names a select item.
    let item = |e: &ast::Expr| -> ast::Expr {
        let named = integer_literal(e)
            .and_then(|k| usize::try_from(k).ok())
            .and_then(|k| s.projection.get(k.wrapping_sub(1)));
        match named {
            Some(
                ast::SelectItem::UnnamedExpr(x) | ast::SelectItem::ExprWithAlias { expr: x, .. },
            ) => x.clone(),
            _ => e.clone(),
        }
    };
    let keys: Vec<ast::Expr> = keys.iter().map(item).collect();
    let order_by = order
        .iter()
        .map(|o| ast::OrderByExpr {
            expr: item(&o.expr),
            ..o.clone()
        })
        .collect();
    let row_number = ast::Expr::Function(ast::Function {
        name: ast::ObjectName::from(vec![ast::Ident::new("row_number")]),
        uses_odbc_syntax: false,
        parameters: ast::FunctionArguments::None,
        args: ast::FunctionArguments::List(ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: Some(ast::WindowType::WindowSpec(ast::WindowSpec {
            window_name: None,
            partition_by: keys,
            order_by,
            window_frame: None,
        })),
        within_group: vec![],
    });
    let first = ast::Expr::BinaryOp {
        left: Box::new(row_number),
        op: ast::BinaryOperator::Eq,
        right: Box::new(ast::Expr::value(ast::Value::Number("1".into(), false))),
    };
    let qualify = match &s.qualify {
        Some(q) => ast::Expr::BinaryOp {
            left: Box::new(ast::Expr::Nested(Box::new(q.clone()))),
            op: ast::BinaryOperator::And,
            right: Box::new(first),
        },
        None => first,
    };
    ast::Select {
        distinct: None,
        qualify: Some(qualify),
        ..s.clone()
    }
}

/// `e` with each bare name that is no input column but a select-list alias
/// replaced by the aliased expression (QUALIFY may name output columns, as
/// in DuckDB).
fn with_select_aliases(e: &ast::Expr, projection: &[ast::SelectItem], scope: &Scope) -> ast::Expr {
    use sqlparser::ast::VisitMut;
    struct Aliases<'a> {
        projection: &'a [ast::SelectItem],
        scope: &'a Scope,
    }
    impl ast::VisitorMut for Aliases<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, x: &mut ast::Expr) -> std::ops::ControlFlow<()> {
            if let ast::Expr::Identifier(id) = x {
                if matches!(
                    self.scope.lookup(None, &id.value),
                    super::scope::Lookup::Missing
                ) {
                    let aliased = self.projection.iter().find_map(|item| match item {
                        ast::SelectItem::ExprWithAlias { expr, alias }
                            if alias.value.eq_ignore_ascii_case(&id.value) =>
                        {
                            Some(expr.clone())
                        }
                        _ => None,
                    });
                    if let Some(expr) = aliased {
                        *x = ast::Expr::Nested(Box::new(expr));
                    }
                }
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let mut out = e.clone();
    let _ = out.visit(&mut Aliases { projection, scope });
    out
}

/// The value of an integer literal (optionally signed), which GROUP BY and
/// ORDER BY read as a column ordinal; other constants are expressions.
/// (Wide enough that `-9223372036854775808` is an ordinal, out of range,
/// not an expression.)
fn integer_literal(e: &ast::Expr) -> Option<i128> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        ast::Expr::UnaryOp {
            op: ast::UnaryOperator::Minus,
            expr,
        } => integer_literal(expr).and_then(i128::checked_neg),
        ast::Expr::UnaryOp {
            op: ast::UnaryOperator::Plus,
            expr,
        } => integer_literal(expr),
        ast::Expr::Nested(inner) => integer_literal(inner),
        _ => None,
    }
}

/// Resolves an ORDER BY term given as an ordinal or an output alias.
fn ordinal_or_alias(e: &ast::Expr, names: &[String], wide: bool) -> Result<Option<usize>> {
    let ordinal = integer_literal(e).filter(|k| wide || i32::try_from(*k).is_ok());
    if let Some(k) = ordinal {
        if k < 1 || k > names.len() as i128 {
            return Err(Error::programming(format!(
                "ORDER BY term out of range - should be between 1 and {}",
                names.len()
            )));
        }
        return Ok(Some(k as usize - 1));
    }
    if let ast::Expr::Identifier(id) = e {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(&id.value)) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// ORDER BY over a compound query: by ordinal, output name, or a column
/// reference naming an output column.
fn output_position(
    e: &ast::Expr,
    schema: &arrow_schema::Schema,
    wide_ordinals: bool,
) -> Result<Option<usize>> {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    if let Some(i) = ordinal_or_alias(e, &names, wide_ordinals)? {
        return Ok(Some(i));
    }
    if let ast::Expr::CompoundIdentifier(parts) = e {
        if let Some(last) = parts.last() {
            return Ok(names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(&last.value)));
        }
    }
    let text = e.to_string();
    Ok(names.iter().position(|n| n.eq_ignore_ascii_case(&text)))
}

/// The name of an unaliased output column: the column name for column
/// references, else the expression's SQL text.
pub(crate) fn output_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(id) => id.value.clone(),
        ast::Expr::CompoundIdentifier(parts) => {
            parts.last().map(|p| p.value.clone()).unwrap_or_default()
        }
        other => other.to_string(),
    }
}

fn wrap_with_columns(q: ast::Query, alias: &ast::TableAlias) -> ast::Query {
    let select = ast::Select {
        select_token: ast::helpers::attached_token::AttachedToken::empty(),
        optimizer_hints: vec![],
        distinct: None,
        select_modifiers: None,
        top: None,
        top_before_distinct: false,
        projection: vec![ast::SelectItem::Wildcard(
            ast::WildcardAdditionalOptions::default(),
        )],
        exclude: None,
        into: None,
        from: vec![ast::TableWithJoins {
            relation: ast::TableFactor::Derived {
                lateral: false,
                subquery: Box::new(q),
                alias: Some(alias.clone()),
                sample: None,
            },
            joins: vec![],
        }],
        lateral_views: vec![],
        prewhere: None,
        selection: None,
        connect_by: vec![],
        group_by: ast::GroupByExpr::Expressions(vec![], vec![]),
        cluster_by: vec![],
        distribute_by: vec![],
        sort_by: vec![],
        having: None,
        named_window: vec![],
        qualify: None,
        window_before_qualify: false,
        value_table_mode: None,
        flavor: ast::SelectFlavor::Standard,
    };
    ast::Query {
        with: None,
        body: Box::new(ast::SetExpr::Select(Box::new(select))),
        order_by: None,
        limit_clause: None,
        fetch: None,
        locks: vec![],
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: vec![],
    }
}

/// `left op right` for a compound operator, with each column's common type
/// and the left side's names.
fn set_operation(
    left: LogicalPlan,
    right: LogicalPlan,
    op: &ast::SetOperator,
    quantifier: &ast::SetQuantifier,
) -> Result<LogicalPlan> {
    let (ls, rs) = (left.schema(), right.schema());
    if ls.fields().len() != rs.fields().len() {
        return Err(Error::programming(format!(
            "SELECTs to the left and right of {op} do not have the same number of result columns"
        )));
    }
    let names: Vec<String> = ls.fields().iter().map(|f| f.name().clone()).collect();
    let types: Vec<DataType> = ls
        .fields()
        .iter()
        .zip(rs.fields())
        .map(|(a, b)| common_type([a.data_type(), b.data_type()]))
        .collect();
    let kind = match op {
        ast::SetOperator::Union => SetOpKind::Union,
        ast::SetOperator::Intersect => SetOpKind::Intersect,
        ast::SetOperator::Except | ast::SetOperator::Minus => SetOpKind::Except,
    };
    Ok(LogicalPlan::SetOp {
        left: Box::new(left),
        right: Box::new(right),
        op: kind,
        all: matches!(quantifier, ast::SetQuantifier::All),
        schema: schema_of(&names, &types),
    })
}

/// The result column an ORDER BY name of a compound query stands for when
/// it names no result column: the column of that name in one of the
/// compound's SELECTs (DuckDB looks there too), if every SELECT that has
/// one puts it at the same position.
fn branch_position(term: &ast::Expr, plan: &LogicalPlan) -> Result<Option<usize>> {
    let ast::Expr::Identifier(ident) = term else {
        return Ok(None);
    };
    let mut found: Option<usize> = None;
    let mut stack = vec![plan];
    while let Some(node) = stack.pop() {
        if let LogicalPlan::SetOp { left, right, .. } = node {
            stack.push(right);
            stack.push(left);
            continue;
        }
        let schema = node.schema();
        let Some(at) = schema
            .fields()
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(&ident.value))
        else {
            continue;
        };
        if found.is_some_and(|f| f != at) {
            return Err(Error::programming(format!(
                "ORDER BY term {} is ambiguous: the compound's SELECTs have it at different \
                 positions",
                ident.value
            )));
        }
        found = Some(at);
    }
    Ok(found)
}
