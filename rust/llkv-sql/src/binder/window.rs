//! Binding window calls (`f(...) OVER (...)`) and `WINDOW` clauses.
//!
//! A SELECT collects its window calls while its select list, QUALIFY and
//! ORDER BY are bound; each call becomes a placeholder column
//! `WINDOW_BASE + i` that [`Binder::bind_select`] rewrites to the Window
//! operator's output column once the operator's input width is known.

use arrow_schema::DataType;
use llkv_plan::types::common_type;
use llkv_plan::{
    Error, Expr, FrameBound, FrameExclude, FrameUnits, Result, SortKey, Value, WindowExpr,
    WindowFrame, WindowFunction,
};
use sqlparser::ast;

use super::expr::{
    aggregate_function, aggregate_type, check_aggregate_input, function_name, scalar_function,
};
use super::scope::{Scope, ScopeColumn};
use super::{type_of, Binder, ExprContext};

/// Placeholder columns of window calls start here (far above any real
/// column position).
pub(super) const WINDOW_BASE: usize = usize::MAX / 4;

/// The parser rewrites `... EXCLUDE kind)` of a window specification into
/// a window name with this marker (sqlparser has no node for EXCLUDE).
pub(crate) const EXCLUDE_MARKER: &str = "__llkv_exclude_";

/// A window specification with its base window merged in.
#[derive(Clone, Default)]
struct Spec {
    partition_by: Vec<ast::Expr>,
    order_by: Vec<ast::OrderByExpr>,
    frame: Option<ast::WindowFrame>,
    exclude: Option<FrameExclude>,
}

/// The window calls and named windows of one SELECT being bound.
#[derive(Default)]
pub(super) struct WindowScope {
    /// Whether window calls may appear where binding is now.
    enabled: bool,
    calls: Vec<WindowExpr>,
    named: Vec<(String, Spec)>,
}

/// Splits a window name into the base window it names (if any) and the
/// EXCLUDE clause the parser folded into it.
fn split_name(name: &str) -> Result<(Option<String>, Option<FrameExclude>)> {
    let Some(at) = name.find(EXCLUDE_MARKER) else {
        return Ok((Some(name.to_ascii_lowercase()), None));
    };
    let exclude = match &name[at + EXCLUDE_MARKER.len()..] {
        "no_others" => FrameExclude::NoOthers,
        "current_row" => FrameExclude::CurrentRow,
        "group" => FrameExclude::Group,
        "ties" => FrameExclude::Ties,
        other => return Err(Error::programming(format!("bad EXCLUDE clause {other}"))),
    };
    let base = (at > 0).then(|| name[..at].to_ascii_lowercase());
    Ok((base, Some(exclude)))
}

impl Binder<'_> {
    /// Starts a SELECT's window scope: resolves its `WINDOW` clause.
    /// Window calls stay refused until [`Binder::allow_windows`].
    pub(super) fn push_window_scope(&self, s: &ast::Select) -> Result<()> {
        let mut scope = WindowScope::default();
        for ast::NamedWindowDefinition(name, expr) in &s.named_window {
            let key = name.value.to_ascii_lowercase();
            if scope.named.iter().any(|(n, _)| *n == key) {
                return Err(Error::programming(format!(
                    "window \"{}\" is already defined",
                    name.value
                )));
            }
            let spec = match expr {
                ast::NamedWindowExpr::NamedWindow(other) => {
                    lookup(&scope.named, &other.value.to_ascii_lowercase())?
                }
                ast::NamedWindowExpr::WindowSpec(spec) => resolve(&scope.named, spec)?,
            };
            scope.named.push((key, spec));
        }
        self.windows.borrow_mut().push(scope);
        Ok(())
    }

    /// Runs `f` in a scope of its own where window calls are refused (they
    /// must not land in an enclosing SELECT's scope).
    pub(super) fn without_windows<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.windows.borrow_mut().push(WindowScope::default());
        let out = f();
        self.pop_window_scope();
        out
    }

    /// Ends the innermost window scope.
    pub(super) fn pop_window_scope(&self) {
        self.windows.borrow_mut().pop();
    }

    /// Allows or refuses window calls in the innermost scope; returns the
    /// previous setting.
    pub(super) fn allow_windows(&self, on: bool) -> bool {
        match self.windows.borrow_mut().last_mut() {
            Some(s) => std::mem::replace(&mut s.enabled, on),
            None => false,
        }
    }

    /// Takes the window calls bound so far in the innermost scope.
    pub(super) fn take_window_calls(&self) -> Vec<WindowExpr> {
        match self.windows.borrow_mut().last_mut() {
            Some(s) => std::mem::take(&mut s.calls),
            None => vec![],
        }
    }

    /// Binds `f(...) OVER ...` to a placeholder column.
    pub(super) fn bind_window_call(
        &self,
        f: &ast::Function,
        over: &ast::WindowType,
        ctx: &mut ExprContext<'_>,
    ) -> Result<Expr> {
        let name = function_name(f);
        if !self.allow_windows(false) {
            return Err(Error::programming(format!(
                "misuse of window function {name}()"
            )));
        }
        let call = self.window_call(&name, f, over, ctx);
        self.allow_windows(true);
        let call = call?;
        let mut scopes = self.windows.borrow_mut();
        let scope = scopes
            .last_mut()
            .ok_or_else(|| Error::internal("no window scope"))?;
        let index = match scope.calls.iter().position(|c| *c == call) {
            Some(i) => i,
            None => {
                scope.calls.push(call);
                scope.calls.len() - 1
            }
        };
        Ok(Expr::Column(WINDOW_BASE + index))
    }

    fn window_call(
        &self,
        name: &str,
        f: &ast::Function,
        over: &ast::WindowType,
        ctx: &mut ExprContext<'_>,
    ) -> Result<WindowExpr> {
        let spec = match over {
            ast::WindowType::NamedWindow(id) => {
                let scopes = self.windows.borrow();
                let named = scopes.last().map(|s| s.named.as_slice()).unwrap_or(&[]);
                lookup(named, &id.value.to_ascii_lowercase())?
            }
            ast::WindowType::WindowSpec(spec) => {
                let scopes = self.windows.borrow();
                let named = scopes.last().map(|s| s.named.as_slice()).unwrap_or(&[]);
                resolve(named, spec)?
            }
        };
        let ignore_nulls = matches!(f.null_treatment, Some(ast::NullTreatment::IgnoreNulls))
            || matches!(&f.args, ast::FunctionArguments::List(l) if l.clauses.iter().any(|c| matches!(
                c,
                ast::FunctionArgumentClause::IgnoreOrRespectNulls(ast::NullTreatment::IgnoreNulls)
            )));
        let nargs = match &f.args {
            ast::FunctionArguments::List(l) => l.args.len(),
            _ => 0,
        };
        let (func, args) = match aggregate_function(name, nargs) {
            Some(a) => {
                let agg = self.aggregate_call(a, f, ctx, true)?;
                (WindowFunction::Aggregate(Box::new(agg)), vec![])
            }
            None => {
                let (func, min, max) = match name {
                    "row_number" => (WindowFunction::RowNumber, 0, 0),
                    "rank" => (WindowFunction::Rank, 0, 0),
                    "dense_rank" => (WindowFunction::DenseRank, 0, 0),
                    "percent_rank" => (WindowFunction::PercentRank, 0, 0),
                    "cume_dist" => (WindowFunction::CumeDist, 0, 0),
                    "ntile" => (WindowFunction::Ntile, 1, 1),
                    "lag" => (WindowFunction::Lag, 1, 3),
                    "lead" => (WindowFunction::Lead, 1, 3),
                    "first_value" => (WindowFunction::FirstValue, 1, 1),
                    "last_value" => (WindowFunction::LastValue, 1, 1),
                    "nth_value" => (WindowFunction::NthValue, 2, 2),
                    _ if scalar_function(name, nargs).is_some() => {
                        return Err(Error::programming(format!(
                            "{name}() may not be used as a window function"
                        )))
                    }
                    _ => return Err(Error::programming(format!("no such function: {name}"))),
                };
                if f.filter.is_some() {
                    return Err(Error::programming(format!(
                        "FILTER is only allowed on aggregates, not {name}()"
                    )));
                }
                let args = self.plain_arguments(name, f, ctx)?;
                if args.len() < min || args.len() > max {
                    return Err(Error::programming(format!(
                        "wrong number of arguments to function {name}()"
                    )));
                }
                (func, args)
            }
        };
        let partition_by = spec
            .partition_by
            .iter()
            .map(|e| self.bind_expr(e, ctx))
            .collect::<Result<Vec<_>>>()?;
        let mut order_by = Vec::new();
        for o in &spec.order_by {
            let expr = self.bind_expr(&o.expr, ctx)?;
            order_by.push(super::query::sort_key(expr, o));
        }
        let frame = self.bind_frame(&spec, &order_by, ctx)?;
        let types = typing_scope(ctx);
        let arg_type = |i: usize| {
            args.get(i)
                .map(|a| type_of(a, &types))
                .unwrap_or(DataType::Null)
        };
        let data_type = match &func {
            WindowFunction::RowNumber
            | WindowFunction::Rank
            | WindowFunction::DenseRank
            | WindowFunction::Ntile => DataType::Int64,
            WindowFunction::PercentRank | WindowFunction::CumeDist => DataType::Float64,
            WindowFunction::Lag | WindowFunction::Lead if args.len() == 3 => {
                common_type([&arg_type(0), &arg_type(2)])
            }
            WindowFunction::Lag
            | WindowFunction::Lead
            | WindowFunction::FirstValue
            | WindowFunction::LastValue
            | WindowFunction::NthValue => arg_type(0),
            WindowFunction::Aggregate(a) => {
                let arg = a
                    .arg
                    .as_ref()
                    .map(|x| type_of(x, &types))
                    .unwrap_or(DataType::Null);
                check_aggregate_input(a.func, &arg, self.duckdb_rules)?;
                aggregate_type(a.func, arg)
            }
        };
        let func = match func {
            WindowFunction::Aggregate(mut a) => {
                a.data_type = data_type.clone();
                WindowFunction::Aggregate(a)
            }
            other => other,
        };
        Ok(WindowExpr {
            func,
            args,
            ignore_nulls,
            partition_by,
            order_by,
            frame,
            data_type,
        })
    }

    /// Binds the plain (non-aggregate) arguments of a window function.
    fn plain_arguments(
        &self,
        name: &str,
        f: &ast::Function,
        ctx: &mut ExprContext<'_>,
    ) -> Result<Vec<Expr>> {
        let list = match &f.args {
            ast::FunctionArguments::List(l) => l,
            ast::FunctionArguments::None => return Ok(vec![]),
            ast::FunctionArguments::Subquery(_) => {
                return Err(Error::not_supported("subquery as function argument"))
            }
        };
        if list.duplicate_treatment.is_some() {
            return Err(Error::programming(format!(
                "DISTINCT is not allowed in {name}()"
            )));
        }
        list.args
            .iter()
            .map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => self.bind_expr(x, ctx),
                _ => Err(Error::programming(format!("bad argument to {name}()"))),
            })
            .collect()
    }

    fn bind_frame(
        &self,
        spec: &Spec,
        order_by: &[SortKey],
        ctx: &mut ExprContext<'_>,
    ) -> Result<WindowFrame> {
        let exclude = spec.exclude.unwrap_or(FrameExclude::NoOthers);
        let Some(frame) = &spec.frame else {
            return Ok(WindowFrame {
                exclude,
                ..WindowFrame::default()
            });
        };
        let units = match frame.units {
            ast::WindowFrameUnits::Rows => FrameUnits::Rows,
            ast::WindowFrameUnits::Range => FrameUnits::Range,
            ast::WindowFrameUnits::Groups => FrameUnits::Groups,
        };
        let mut bound = |b: &ast::WindowFrameBound, is_start: bool| -> Result<FrameBound> {
            let offset = |e: &ast::Expr, ctx: &mut ExprContext<'_>| -> Result<Expr> {
                let x = self.param_values(self.bind_expr(e, ctx)?);
                let negative = match &x {
                    Expr::Literal(Value::Integer(i)) => *i < 0,
                    Expr::Literal(Value::Real(f)) => *f < 0.0,
                    _ => false,
                };
                if negative {
                    let (which, units) = (
                        if is_start { "starting" } else { "ending" },
                        format!("{units:?}").to_ascii_uppercase(),
                    );
                    return Err(Error::data(format!(
                        "frame {which} offset must not be negative (invalid {units} value)"
                    )));
                }
                Ok(x)
            };
            Ok(match b {
                ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
                ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
                ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
                ast::WindowFrameBound::Preceding(Some(e)) => FrameBound::Preceding(offset(e, ctx)?),
                ast::WindowFrameBound::Following(Some(e)) => FrameBound::Following(offset(e, ctx)?),
            })
        };
        let start = bound(&frame.start_bound, true)?;
        let end = match &frame.end_bound {
            Some(b) => bound(b, false)?,
            None => FrameBound::CurrentRow,
        };
        let rank = |b: &FrameBound| match b {
            FrameBound::UnboundedPreceding => 0,
            FrameBound::Preceding(_) => 1,
            FrameBound::CurrentRow => 2,
            FrameBound::Following(_) => 3,
            FrameBound::UnboundedFollowing => 4,
        };
        if start == FrameBound::UnboundedFollowing {
            return Err(Error::programming(
                "frame start cannot be UNBOUNDED FOLLOWING",
            ));
        }
        if end == FrameBound::UnboundedPreceding {
            return Err(Error::programming(
                "frame end cannot be UNBOUNDED PRECEDING",
            ));
        }
        if rank(&start) > rank(&end) || (rank(&start) == 3 && rank(&end) < 3) {
            return Err(Error::programming(
                "unsupported frame specification: the frame starts after it ends",
            ));
        }
        let offset =
            |b: &FrameBound| matches!(b, FrameBound::Preceding(_) | FrameBound::Following(_));
        if units == FrameUnits::Range && (offset(&start) || offset(&end)) && order_by.len() != 1 {
            return Err(Error::programming(
                "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column",
            ));
        }
        if units == FrameUnits::Groups && order_by.is_empty() {
            return Err(Error::programming(
                "GROUPS mode requires an ORDER BY clause",
            ));
        }
        Ok(WindowFrame {
            units,
            start,
            end,
            exclude,
        })
    }
}

/// The scope window call expressions are typed in: the aggregate's
/// output in a grouped query, the input otherwise.
fn typing_scope(ctx: &ExprContext<'_>) -> Scope {
    match ctx.agg.as_deref() {
        Some(ac) => Scope {
            columns: (0..ac.group_by.len() + ac.aggregates.len())
                .map(|i| ScopeColumn {
                    table: None,
                    name: String::new(),
                    data_type: ac.output_type(i),
                    merged: false,
                    using_value: None,
                    hidden: false,
                })
                .collect(),
        },
        None => ctx.scope.clone(),
    }
}

fn lookup(named: &[(String, Spec)], name: &str) -> Result<Spec> {
    named
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s.clone())
        .ok_or_else(|| Error::programming(format!("no such window: {name}")))
}

/// Merges a specification with the named window it starts from.
fn resolve(named: &[(String, Spec)], spec: &ast::WindowSpec) -> Result<Spec> {
    let (base, exclude) = match &spec.window_name {
        Some(n) => split_name(&n.value)?,
        None => (None, None),
    };
    let mut out = match base {
        Some(b) => lookup(named, &b)?,
        None => Spec::default(),
    };
    if !spec.partition_by.is_empty() {
        if !out.partition_by.is_empty() {
            return Err(Error::programming(
                "cannot override PARTITION BY clause of a named window",
            ));
        }
        out.partition_by = spec.partition_by.clone();
    }
    if !spec.order_by.is_empty() {
        if !out.order_by.is_empty() {
            return Err(Error::programming(
                "cannot override ORDER BY clause of a named window",
            ));
        }
        out.order_by = spec.order_by.clone();
    }
    if spec.window_frame.is_some() {
        out.frame = spec.window_frame.clone();
        out.exclude = None;
    }
    if exclude.is_some() {
        out.exclude = exclude;
    }
    Ok(out)
}
