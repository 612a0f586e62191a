//! Binding scalar expressions: names to column positions (or enclosing
//! rows), literals and parameters to values, SQL operators and functions to
//! plan operators, with SQLite's dialect rules.

use std::sync::Arc;

use arrow_schema::DataType;
use llkv_plan::{
    AggregateExpr, AggregateFunction, BinaryOp, Error, Expr, Result, ScalarFunction, SubqueryKind,
    UnaryOp, Value,
};
use sqlparser::ast;

use super::scope::{Lookup, Scope};
use super::Binder;

/// Aggregation state while binding the expressions of an aggregate query.
pub struct AggContext {
    /// The scope rows have before aggregation.
    pub input: Scope,
    /// Bound GROUP BY expressions (over `input`).
    pub group_by: Vec<Expr>,
    /// Aggregates collected so far.
    pub aggregates: Vec<AggregateExpr>,
    /// GROUPING SETS as indexes into `group_by` (empty for an ordinary
    /// GROUP BY); `group_by` then ends with the grouping-id placeholder.
    pub grouping_sets: Vec<Vec<usize>>,
    /// The SQL each `group_by` term was bound from (ordinary GROUP BY
    /// only): an expression written the same way above the aggregation is
    /// that term, even where binding it again gives a different expression
    /// (a subquery gets a new id each time it is bound).
    pub group_sql: Vec<ast::Expr>,
}

impl AggContext {
    fn output_index_of_agg(&mut self, agg: AggregateExpr) -> usize {
        let pos = match self.aggregates.iter().position(|a| *a == agg) {
            Some(p) => p,
            None => {
                self.aggregates.push(agg);
                self.aggregates.len() - 1
            }
        };
        self.group_by.len() + pos
    }

    /// Output type of column `i` of the aggregate.
    pub fn output_type(&self, i: usize) -> DataType {
        if i + 1 == self.group_by.len() && !self.grouping_sets.is_empty() {
            DataType::Int64
        } else if i < self.group_by.len() {
            type_of(&self.group_by[i], &self.input)
        } else {
            self.aggregates[i - self.group_by.len()].data_type.clone()
        }
    }
}

/// Where an expression is being bound.
pub struct ExprContext<'s> {
    /// Columns visible by name.
    pub scope: &'s Scope,
    /// Set when binding above an aggregation.
    pub agg: Option<&'s mut AggContext>,
}

/// The type a bound expression produces over `scope`'s columns.
pub fn type_of(expr: &Expr, scope: &Scope) -> DataType {
    expr.data_type(&|i| {
        scope
            .columns
            .get(i)
            .map(|c| c.data_type.clone())
            .unwrap_or(DataType::Null)
    })
}

/// The value of a number literal: an integer when it is one, else a
/// DOUBLE, or with `decimal_literals` (DuckDB) a number with a point and no
/// exponent is an exact DECIMAL whose precision counts every digit written
/// (`0.06` is DECIMAL(3,2)).
fn parse_number(s: &str, decimal_literals: bool) -> Result<Value> {
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Value::Integer(i));
    }
    if decimal_literals && s.contains('.') && !s.contains(['e', 'E']) {
        let written = s.bytes().filter(u8::is_ascii_digit).count();
        if let (Some(d), Ok(precision)) = (llkv_plan::Decimal::parse(s), u8::try_from(written)) {
            if precision <= llkv_plan::decimal::MAX_PRECISION {
                return Ok(Value::Decimal(llkv_plan::Decimal {
                    precision: precision.max(1),
                    ..d
                }));
            }
        }
    }
    s.parse::<f64>()
        .map(Value::Real)
        .map_err(|_| Error::programming(format!("invalid number literal: {s}")))
}

/// Maps a SQL type name to the Arrow type values are converted to.
pub fn cast_target(dt: &ast::DataType) -> Result<DataType> {
    let name = dt.to_string().to_ascii_uppercase();
    let base = name.split('(').next().unwrap_or("").trim().to_string();
    Ok(match base.as_str() {
        "INT" | "INTEGER" | "BIGINT" | "SMALLINT" | "TINYINT" | "INT8" | "INT4" | "INT2"
        | "MEDIUMINT" | "SIGNED" | "UNSIGNED" | "HUGEINT" | "UBIGINT" | "UINTEGER" => {
            DataType::Int64
        }
        "NUMERIC" | "DECIMAL" | "DEC" => match decimal_type(dt)? {
            Some(t) => t,
            None => DataType::Float64,
        },
        "REAL" | "FLOAT" | "DOUBLE" | "DOUBLE PRECISION" | "FLOAT8" | "FLOAT4" => DataType::Float64,
        "TEXT" | "VARCHAR" | "CHAR" | "STRING" | "CHARACTER" | "CHARACTER VARYING" | "CLOB"
        | "NVARCHAR" | "NCHAR" | "VARYING CHARACTER" | "NATIVE CHARACTER" => DataType::Utf8,
        "BOOLEAN" | "BOOL" => DataType::Boolean,
        "BLOB" | "BYTEA" | "BINARY" | "VARBINARY" => DataType::Binary,
        "DATE" => DataType::Date32,
        t if t.starts_with("TIMESTAMP") || t == "DATETIME" => {
            DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, None)
        }
        other => {
            return Err(Error::not_supported(format!(
                "type {other} is not supported yet"
            )))
        }
    })
}

/// The Arrow type of `DECIMAL(p, s)` / `NUMERIC(p)` (scale 0); None for a
/// bare `DECIMAL`/`NUMERIC`, which keeps SQLite's meaning (a float). A
/// precision outside 1..=38 or a scale above it is an error.
pub fn decimal_type(dt: &ast::DataType) -> Result<Option<DataType>> {
    use ast::ExactNumberInfo as E;
    let info = match dt {
        ast::DataType::Decimal(i) | ast::DataType::Numeric(i) | ast::DataType::Dec(i) => i,
        _ => return Ok(None),
    };
    let (precision, scale) = match *info {
        E::None => return Ok(None),
        E::Precision(p) => (p, 0),
        E::PrecisionAndScale(p, s) => (p, s),
    };
    let max = u64::from(llkv_plan::decimal::MAX_PRECISION);
    if precision == 0 || precision > max || scale < 0 || scale as u64 > precision {
        return Err(Error::programming(format!(
            "invalid type {dt}: precision must be 1..={max} and scale 0..=precision"
        )));
    }
    Ok(Some(DataType::Decimal128(precision as u8, scale as i8)))
}

/// The bytes of a `X'..'` literal.
fn hex_blob(hex: &str) -> Result<Value> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(Error::programming(format!(
            "malformed blob literal X'{hex}': odd number of hex digits"
        )));
    }
    let nibble = |c: u8| {
        (c as char)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or_else(|| Error::programming(format!("malformed blob literal X'{hex}'")))
    };
    let bytes = digits
        .chunks(2)
        .map(|pair| Ok(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect::<Result<Vec<u8>>>()?;
    Ok(Value::from(bytes))
}

pub(super) fn scalar_function(name: &str, nargs: usize) -> Option<ScalarFunction> {
    use ScalarFunction as F;
    Some(match name {
        "abs" => F::Abs,
        "coalesce" => F::Coalesce,
        "nullif" => F::NullIf,
        "ifnull" => F::IfNull,
        "length" | "char_length" | "character_length" => F::Length,
        "lower" => F::Lower,
        "upper" => F::Upper,
        "substr" | "substring" => F::Substr,
        "trim" => F::Trim,
        "ltrim" => F::LTrim,
        "rtrim" => F::RTrim,
        "replace" => F::Replace,
        "instr" => F::Instr,
        "round" => F::Round,
        "typeof" => F::TypeOf,
        "min" if nargs >= 2 => F::MinOf,
        "max" if nargs >= 2 => F::MaxOf,
        "greatest" => F::Greatest,
        "least" => F::Least,
        "sign" => F::Sign,
        "iif" => F::Iif,
        "concat" => F::ConcatFn,
        "hex" => F::Hex,
        "floor" => F::Floor,
        "ceil" | "ceiling" => F::Ceil,
        "sqrt" => F::Sqrt,
        "power" | "pow" => F::Power,
        "strftime" if nargs == 2 => F::Strftime,
        "current_date" | "today" if nargs == 0 => F::CurrentDate,
        "current_timestamp" | "now" | "localtimestamp" if nargs == 0 => F::CurrentTimestamp,
        "year" | "quarter" | "month" | "day" | "hour" | "minute" | "second" | "dayofweek"
        | "dayofyear" | "week" | "epoch"
            if nargs == 1 =>
        {
            F::DatePart(llkv_plan::temporal::DateField::from_name(name)?)
        }
        "mod" => F::ModFn,
        "concat_ws" => F::ConcatWs,
        "left" => F::Left,
        "right" => F::Right,
        "lpad" => F::LPad,
        "rpad" => F::RPad,
        "reverse" => F::Reverse,
        "repeat" => F::Repeat,
        "split_part" => F::SplitPart,
        "starts_with" | "prefix" => F::StartsWith,
        "ends_with" | "suffix" => F::EndsWith,
        "ascii" => F::Ascii,
        "chr" => F::Chr,
        "strpos" => F::Instr,
        "regexp_matches" | "regexp_like" => F::RegexpMatches,
        "regexp_replace" => F::RegexpReplace,
        "regexp_extract" => F::RegexpExtract,
        "log" => F::Log,
        "atan2" => F::Atan2,
        "trunc" => F::Trunc,
        "pi" if nargs == 0 => F::Pi,
        "random" if nargs == 0 => F::Random,
        _ => F::Math(llkv_plan::MathFunction::from_name(name)?),
    })
}

pub(super) fn aggregate_function(name: &str, nargs: usize) -> Option<AggregateFunction> {
    use AggregateFunction as A;
    Some(match name {
        "count" => A::Count,
        "sum" => A::Sum,
        "total" => A::Total,
        "avg" => A::Avg,
        "min" if nargs <= 1 => A::Min,
        "max" if nargs <= 1 => A::Max,
        "group_concat" | "string_agg" => A::GroupConcat,
        "any_value" => A::AnyValue,
        "bool_and" | "every" => A::BoolAnd,
        "bool_or" => A::BoolOr,
        "stddev" | "stddev_samp" => A::StddevSamp,
        "stddev_pop" => A::StddevPop,
        "variance" | "var_samp" => A::VarSamp,
        "var_pop" => A::VarPop,
        "median" => A::Median,
        "quantile_cont" | "percentile_cont" => A::QuantileCont,
        "quantile_disc" | "quantile" | "percentile_disc" => A::QuantileDisc,
        "arg_min" | "argmin" | "min_by" => A::ArgMin,
        "arg_max" | "argmax" | "max_by" => A::ArgMax,
        _ => return None,
    })
}

/// Refuses sums and averages of dates and times (they are no numbers).
/// With `strict` (DuckDB's types), also of text, and averages and
/// deviations of booleans (a boolean still sums, as a count of trues).
pub(super) fn check_aggregate_input(
    func: AggregateFunction,
    arg_type: &DataType,
    strict: bool,
) -> Result<()> {
    use AggregateFunction as A;
    let numeric = matches!(
        func,
        A::Sum | A::Total | A::Avg | A::StddevSamp | A::StddevPop | A::VarSamp | A::VarPop
    );
    let refused = llkv_plan::types::is_temporal(arg_type)
        || (strict
            && (matches!(arg_type, DataType::Utf8 | DataType::LargeUtf8)
                || (*arg_type == DataType::Boolean && !matches!(func, A::Sum | A::Total))));
    if numeric && refused {
        return Err(Error::programming(format!(
            "{func:?} of {} is not defined",
            llkv_plan::types::sql_name(arg_type)
        )));
    }
    Ok(())
}

/// The result type of aggregate `func` over arguments of type `arg_type`.
pub(super) fn aggregate_type(func: AggregateFunction, arg_type: DataType) -> DataType {
    match func {
        AggregateFunction::Count | AggregateFunction::CountStar => DataType::Int64,
        AggregateFunction::Sum => match arg_type {
            DataType::Int64 | DataType::Boolean | DataType::Null => DataType::Int64,
            DataType::Decimal128(_, scale) => {
                DataType::Decimal128(llkv_plan::decimal::MAX_PRECISION, scale)
            }
            _ => DataType::Float64,
        },
        AggregateFunction::Total | AggregateFunction::Avg => DataType::Float64,
        AggregateFunction::GroupConcat => DataType::Utf8,
        AggregateFunction::BoolAnd | AggregateFunction::BoolOr => DataType::Boolean,
        AggregateFunction::StddevSamp
        | AggregateFunction::StddevPop
        | AggregateFunction::VarSamp
        | AggregateFunction::VarPop => DataType::Float64,
        // Numbers interpolate; other types take the value at the position.
        AggregateFunction::Median | AggregateFunction::QuantileCont => match arg_type {
            DataType::Int64 | DataType::Float64 | DataType::Boolean | DataType::Null => {
                DataType::Float64
            }
            other => other,
        },
        _ => arg_type,
    }
}

/// The value of an `INTERVAL '...' [unit]` constant.
fn interval_constant(i: &ast::Interval) -> Result<llkv_plan::interval::Interval> {
    let text = match i.value.as_ref() {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::Number(s, _) => s.clone(),
            _ => String::new(),
        },
        ast::Expr::UnaryOp {
            op: ast::UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::Number(s, _) => format!("-{s}"),
                _ => String::new(),
            },
            _ => String::new(),
        },
        _ => {
            return Err(Error::not_supported(
                "INTERVAL takes a constant ('2 days', or a number and a unit)",
            ))
        }
    };
    if i.last_field.is_some() {
        return Err(Error::not_supported("INTERVAL ... TO ... ranges"));
    }
    let unit = i.leading_field.as_ref().map(|f| f.to_string());
    llkv_plan::interval::parse_interval(&text, unit.as_deref())
        .ok_or_else(|| Error::data(format!("invalid interval: '{text}'")))
}

fn interval_misuse() -> Error {
    Error::not_supported("an INTERVAL can only be added to or subtracted from a DATE or TIMESTAMP")
}

/// A quantile's fraction: a constant number between 0 and 1.
fn quantile_fraction(e: &Expr) -> Result<Value> {
    let p = match e {
        Expr::Literal(Value::Integer(i)) => *i as f64,
        Expr::Literal(Value::Real(f)) => *f,
        _ => {
            return Err(Error::programming(
                "a quantile's fraction must be a constant number",
            ))
        }
    };
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::programming(format!(
            "a quantile's fraction must be between 0 and 1, not {p}"
        )));
    }
    Ok(Value::Real(p))
}

pub(super) fn function_name(f: &ast::Function) -> String {
    f.name.to_string().to_ascii_lowercase()
}

/// Finds aggregate calls (or window calls) of the current query level (not
/// inside subqueries).
struct AggregateFinder {
    depth: usize,
    found: bool,
    /// Look for window calls instead of aggregates.
    windows: bool,
}

impl ast::Visitor for AggregateFinder {
    type Break = ();

    fn pre_visit_query(&mut self, _: &ast::Query) -> std::ops::ControlFlow<()> {
        self.depth += 1;
        std::ops::ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &ast::Query) -> std::ops::ControlFlow<()> {
        self.depth -= 1;
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, x: &ast::Expr) -> std::ops::ControlFlow<()> {
        if self.depth == 0 {
            if let ast::Expr::Function(f) = x {
                if f.over.is_some() {
                    if self.windows {
                        self.found = true;
                        return std::ops::ControlFlow::Break(());
                    }
                    return std::ops::ControlFlow::Continue(());
                }
                if self.windows {
                    return std::ops::ControlFlow::Continue(());
                }
                let nargs = match &f.args {
                    ast::FunctionArguments::List(l) => l.args.len(),
                    _ => 0,
                };
                if aggregate_function(&function_name(f), nargs).is_some() {
                    self.found = true;
                    return std::ops::ControlFlow::Break(());
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// True when the AST expression contains an aggregate call at this query level.
pub fn contains_aggregate(e: &ast::Expr) -> bool {
    use sqlparser::ast::Visit;
    let mut finder = AggregateFinder {
        depth: 0,
        found: false,
        windows: false,
    };
    let _ = e.visit(&mut finder);
    finder.found
}

/// True when the AST expression contains a window call at this query level.
pub fn contains_window(e: &ast::Expr) -> bool {
    use sqlparser::ast::Visit;
    let mut finder = AggregateFinder {
        depth: 0,
        found: false,
        windows: true,
    };
    let _ = e.visit(&mut finder);
    finder.found
}

impl Binder<'_> {
    /// Binds `e` in `ctx`.
    pub fn bind_expr(&self, e: &ast::Expr, ctx: &mut ExprContext<'_>) -> Result<Expr> {
        // A literal or placeholder outside an aggregate (every term of a
        // multi-row INSERT) needs none of the general binding's checks.
        if let (ast::Expr::Value(v), None) = (e, &ctx.agg) {
            return self.bind_leaf(&v.value);
        }
        self.check_depth()?;
        self.depth.set(self.depth.get() + 1);
        let out = self.bind_expr_inner(e, ctx);
        self.depth.set(self.depth.get() - 1);
        out
    }

    fn bind_expr_inner(&self, e: &ast::Expr, ctx: &mut ExprContext<'_>) -> Result<Expr> {
        if let ast::Expr::Function(f) = e {
            if let Some(over) = &f.over {
                return self.bind_window_call(f, over, ctx);
            }
        }
        if ctx.agg.is_some() && !matches!(e, ast::Expr::Nested(_)) {
            if let Some(bound) = self.bind_grouped(e, ctx)? {
                return Ok(bound);
            }
        }
        use ast::Expr as E;
        Ok(match e {
            E::Identifier(id) => self.bind_column(None, id, ctx)?,
            E::CompoundIdentifier(parts) => {
                let n = parts.len();
                if n < 2 {
                    return Err(Error::programming("bad identifier"));
                }
                self.bind_column(Some(&parts[n - 2].value), &parts[n - 1], ctx)?
            }
            E::Value(v) => self.bind_leaf(&v.value)?,
            E::Nested(inner) => self.bind_expr(inner, ctx)?,
            E::UnaryOp { op, expr } => {
                let inner = self.bind_expr(expr, ctx)?;
                match op {
                    ast::UnaryOperator::Minus => match inner {
                        Expr::Literal(Value::Integer(i)) if i != i64::MIN => {
                            Expr::Literal(Value::Integer(-i))
                        }
                        Expr::Literal(Value::Real(f)) => Expr::Literal(Value::Real(-f)),
                        other => Expr::Unary {
                            op: UnaryOp::Neg,
                            expr: Box::new(other),
                        },
                    },
                    ast::UnaryOperator::Plus => inner,
                    ast::UnaryOperator::Not => Expr::Unary {
                        op: UnaryOp::Not,
                        expr: Box::new(inner),
                    },
                    ast::UnaryOperator::BitwiseNot => Expr::Unary {
                        op: UnaryOp::BitNot,
                        expr: Box::new(inner),
                    },
                    other => {
                        return Err(Error::not_supported(format!(
                            "unary operator {other} is not supported"
                        )))
                    }
                }
            }
            E::BinaryOp { left, op, right }
                if super::quantified::row_constructor(left).is_some()
                    || super::quantified::row_constructor(right).is_some() =>
            {
                let side = |e: &ast::Expr| {
                    Box::new(super::quantified::row_constructor(e).unwrap_or_else(|| e.clone()))
                };
                let rewritten = E::BinaryOp {
                    left: side(left),
                    op: op.clone(),
                    right: side(right),
                };
                self.bind_expr(&rewritten, ctx)?
            }
            E::BinaryOp { left, op, right }
                if matches!((left.as_ref(), right.as_ref()), (E::Tuple(_), E::Tuple(_))) =>
            {
                let rewritten = self.row_value_comparison(left, op, right)?;
                self.bind_expr(&rewritten, ctx)?
            }
            E::BinaryOp { left, op, right }
                if matches!(left.as_ref(), E::Interval(_))
                    || matches!(right.as_ref(), E::Interval(_)) =>
            {
                let (base, interval) = match (left.as_ref(), op, right.as_ref()) {
                    (x, ast::BinaryOperator::Plus, E::Interval(i)) => (x, interval_constant(i)?),
                    (x, ast::BinaryOperator::Minus, E::Interval(i)) => (
                        x,
                        interval_constant(i)?
                            .negated()
                            .ok_or_else(|| Error::data("interval out of range"))?,
                    ),
                    (E::Interval(i), ast::BinaryOperator::Plus, x) => (x, interval_constant(i)?),
                    _ => return Err(interval_misuse()),
                };
                let base = self.bind_expr(base, ctx)?;
                let base_type = type_of(&base, ctx.scope);
                if !llkv_plan::types::is_temporal(&base_type)
                    && !matches!(base_type, DataType::Null | DataType::Utf8)
                {
                    return Err(interval_misuse());
                }
                Expr::Function {
                    func: ScalarFunction::AddInterval(interval),
                    args: vec![base],
                }
            }
            E::Interval(_) => return Err(interval_misuse()),
            E::BinaryOp { left, op, right } => {
                let l = self.bind_expr(left, ctx)?;
                let r = self.bind_expr(right, ctx)?;
                use ast::BinaryOperator as B;
                let integers = || {
                    let is_int = |t: DataType| t.is_integer() || t == DataType::Null;
                    is_int(type_of(&l, ctx.scope)) && is_int(type_of(&r, ctx.scope))
                };
                let op = match op {
                    B::Plus => BinaryOp::Add,
                    B::Minus => BinaryOp::Sub,
                    B::Multiply => BinaryOp::Mul,
                    // DuckDB's `/` divides integers as DOUBLEs (`//` is the
                    // integer division); SQLite's truncates.
                    B::Divide if self.duckdb_rules && integers() => {
                        let real = |e: Expr| Expr::Cast {
                            expr: Box::new(e),
                            to: DataType::Float64,
                        };
                        return Ok(Expr::binary(BinaryOp::Div, real(l), real(r)));
                    }
                    B::Divide => BinaryOp::Div,
                    B::DuckIntegerDivide if integers() => BinaryOp::Div,
                    B::DuckIntegerDivide => {
                        return Err(Error::not_supported(
                            "// (integer division) is supported for integers only",
                        ))
                    }
                    B::Modulo => BinaryOp::Mod,
                    B::StringConcat => BinaryOp::Concat,
                    B::Eq => BinaryOp::Eq,
                    B::NotEq => BinaryOp::NotEq,
                    B::Lt => BinaryOp::Lt,
                    B::LtEq => BinaryOp::LtEq,
                    B::Gt => BinaryOp::Gt,
                    B::GtEq => BinaryOp::GtEq,
                    B::And => BinaryOp::And,
                    B::Or => BinaryOp::Or,
                    B::BitwiseAnd => BinaryOp::BitAnd,
                    B::BitwiseOr => BinaryOp::BitOr,
                    B::PGBitwiseShiftLeft => BinaryOp::ShiftLeft,
                    B::PGBitwiseShiftRight => BinaryOp::ShiftRight,
                    B::Glob => {
                        return Ok(Expr::Like {
                            expr: Box::new(l),
                            pattern: Box::new(r),
                            escape: None,
                            negated: false,
                            case_insensitive: false,
                            glob: true,
                        })
                    }
                    other => {
                        return Err(Error::not_supported(format!(
                            "operator {other} is not supported"
                        )))
                    }
                };
                Expr::binary(op, l, r)
            }
            E::IsNull(x) => Expr::IsNull {
                expr: Box::new(self.bind_expr(x, ctx)?),
                negated: false,
            },
            E::IsNotNull(x) => Expr::IsNull {
                expr: Box::new(self.bind_expr(x, ctx)?),
                negated: true,
            },
            E::IsDistinctFrom(a, b) => Expr::binary(
                BinaryOp::IsDistinctFrom,
                self.bind_expr(a, ctx)?,
                self.bind_expr(b, ctx)?,
            ),
            E::IsNotDistinctFrom(a, b) => Expr::binary(
                BinaryOp::IsNotDistinctFrom,
                self.bind_expr(a, ctx)?,
                self.bind_expr(b, ctx)?,
            ),
            E::IsTrue(x) | E::IsNotFalse(x) => {
                let b = self.bind_expr(x, ctx)?;
                let t = Expr::binary(BinaryOp::IsNotDistinctFrom, b, Expr::lit(true));
                if matches!(e, E::IsNotFalse(_)) {
                    Expr::Unary {
                        op: UnaryOp::Not,
                        expr: Box::new(Expr::binary(
                            BinaryOp::IsNotDistinctFrom,
                            self.bind_expr(x, ctx)?,
                            Expr::lit(false),
                        )),
                    }
                } else {
                    t
                }
            }
            E::IsFalse(x) | E::IsNotTrue(x) => {
                let b = self.bind_expr(x, ctx)?;
                if matches!(e, E::IsNotTrue(_)) {
                    Expr::Unary {
                        op: UnaryOp::Not,
                        expr: Box::new(Expr::binary(
                            BinaryOp::IsNotDistinctFrom,
                            b,
                            Expr::lit(true),
                        )),
                    }
                } else {
                    Expr::binary(BinaryOp::IsNotDistinctFrom, b, Expr::lit(false))
                }
            }
            E::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.bind_expr(expr, ctx)?;
                let lo = self.bind_expr(low, ctx)?;
                let hi = self.bind_expr(high, ctx)?;
                let both = Expr::binary(
                    BinaryOp::And,
                    Expr::binary(BinaryOp::GtEq, x.clone(), lo),
                    Expr::binary(BinaryOp::LtEq, x, hi),
                );
                if *negated {
                    Expr::Unary {
                        op: UnaryOp::Not,
                        expr: Box::new(both),
                    }
                } else {
                    both
                }
            }
            E::In {
                expr,
                target,
                negated,
                ..
            } => match target {
                ast::InTarget::List(list) => Expr::InList {
                    expr: Box::new(self.bind_expr(expr, ctx)?),
                    list: list
                        .iter()
                        .map(|x| self.bind_expr(x, ctx))
                        .collect::<Result<_>>()?,
                    negated: *negated,
                },
                ast::InTarget::Subquery(subquery) => {
                    self.bind_in_subquery(expr, subquery, *negated, ctx)?
                }
                ast::InTarget::Table { name, .. } => {
                    // SQLite's `x IN table` means `x IN (SELECT * FROM table)`.
                    let q = super::from::select_star_from(name);
                    self.bind_in_subquery(expr, &q, *negated, ctx)?
                }
                other => return Err(Error::not_supported(format!("IN {other}"))),
            },
            E::Exists { subquery, negated } => {
                let (id, correlated, _) = self.bind_subquery(subquery, ctx.scope, false)?;
                Expr::Subquery {
                    id,
                    kind: SubqueryKind::Exists { negated: *negated },
                    correlated,
                    data_type: DataType::Boolean,
                }
            }
            E::Subquery(q) => {
                let (id, correlated, data_type) = self.bind_subquery(q, ctx.scope, true)?;
                Expr::Subquery {
                    id,
                    kind: SubqueryKind::Scalar,
                    correlated,
                    data_type,
                }
            }
            E::Case {
                operand,
                conditions,
                else_result,
                ..
            } => Expr::Case {
                operand: match operand {
                    Some(o) => Some(Box::new(self.bind_expr(o, ctx)?)),
                    None => None,
                },
                branches: conditions
                    .iter()
                    .map(|c| {
                        Ok((
                            self.bind_expr(&c.condition, ctx)?,
                            self.bind_expr(&c.result, ctx)?,
                        ))
                    })
                    .collect::<Result<_>>()?,
                else_expr: match else_result {
                    Some(x) => Some(Box::new(self.bind_expr(x, ctx)?)),
                    None => None,
                },
            },
            E::Cast {
                expr, data_type, ..
            } => Expr::Cast {
                expr: Box::new(self.bind_expr(expr, ctx)?),
                to: cast_target(data_type)?,
            },
            E::Like {
                negated,
                expr,
                pattern,
                escape_char,
                ..
            }
            | E::ILike {
                negated,
                expr,
                pattern,
                escape_char,
                ..
            } => {
                let escape = match escape_char.as_deref() {
                    Some(ast::Expr::Value(v)) => match &v.value {
                        ast::Value::SingleQuotedString(s) => s.chars().next(),
                        _ => None,
                    },
                    _ => None,
                };
                Expr::Like {
                    expr: Box::new(self.bind_expr(expr, ctx)?),
                    pattern: Box::new(self.bind_expr(pattern, ctx)?),
                    escape,
                    negated: *negated,
                    case_insensitive: true,
                    glob: false,
                }
            }
            E::Function(f) => self.bind_function(f, ctx)?,
            E::TypedString(ts) => {
                let text = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s,
                    other => return Err(Error::programming(format!("bad typed literal {other}"))),
                };
                let to = cast_target(&ts.data_type)?;
                match &to {
                    DataType::Date32 => Expr::Literal(Value::Date(
                        llkv_plan::temporal::parse_date(text)
                            .ok_or_else(|| Error::data(format!("invalid date: '{text}'")))?,
                    )),
                    DataType::Timestamp(..) => Expr::Literal(Value::Timestamp(
                        llkv_plan::temporal::parse_timestamp(text)
                            .ok_or_else(|| Error::data(format!("invalid timestamp: '{text}'")))?,
                    )),
                    _ => Expr::Cast {
                        expr: Box::new(Expr::Literal(Value::from(text.as_str()))),
                        to,
                    },
                }
            }
            E::Extract { field, expr, .. } => {
                let name = field.to_string();
                let field = llkv_plan::temporal::DateField::from_name(&name)
                    .ok_or_else(|| Error::programming(format!("unknown date field {name}")))?;
                Expr::Function {
                    func: ScalarFunction::DatePart(field),
                    args: vec![self.bind_expr(expr, ctx)?],
                }
            }
            E::Tuple(items) if items.len() == 1 => self.bind_expr(&items[0], ctx)?,
            E::Position { expr, r#in } => Expr::Function {
                func: ScalarFunction::Instr,
                args: vec![self.bind_expr(r#in, ctx)?, self.bind_expr(expr, ctx)?],
            },
            E::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![
                    self.bind_expr(expr, ctx)?,
                    match substring_from {
                        Some(from) => self.bind_expr(from, ctx)?,
                        None => Expr::Literal(Value::Integer(1)),
                    },
                ];
                if let Some(len) = substring_for {
                    args.push(self.bind_expr(len, ctx)?);
                }
                Expr::Function {
                    func: ScalarFunction::Substr,
                    args,
                }
            }
            E::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => {
                let func = match trim_where {
                    Some(ast::TrimWhereField::Leading) => ScalarFunction::LTrim,
                    Some(ast::TrimWhereField::Trailing) => ScalarFunction::RTrim,
                    _ => ScalarFunction::Trim,
                };
                let mut args = vec![self.bind_expr(expr, ctx)?];
                let characters = trim_what
                    .as_deref()
                    .or(trim_characters.as_ref().and_then(|c| c.first()));
                if let Some(c) = characters {
                    args.push(self.bind_expr(c, ctx)?);
                }
                Expr::Function { func, args }
            }
            E::AnyOp {
                left,
                compare_op,
                right,
                ..
            } => {
                let rewritten = self.quantified_comparison(left, compare_op, right, false)?;
                self.bind_expr(&rewritten, ctx)?
            }
            E::AllOp {
                left,
                compare_op,
                right,
            } => {
                let rewritten = self.quantified_comparison(left, compare_op, right, true)?;
                self.bind_expr(&rewritten, ctx)?
            }
            other => {
                return Err(Error::not_supported(format!(
                    "expression not supported yet: {other}"
                )))
            }
        })
    }

    /// In an aggregate query: binds aggregate calls and GROUP BY matches to
    /// aggregate output columns; `None` when `e` needs ordinary recursion.
    fn bind_grouped(&self, e: &ast::Expr, ctx: &mut ExprContext<'_>) -> Result<Option<Expr>> {
        if let ast::Expr::Function(f) = e {
            if matches!(function_name(f).as_str(), "grouping" | "grouping_id") {
                return self.bind_grouping_call(f, ctx).map(Some);
            }
            let nargs = match &f.args {
                ast::FunctionArguments::List(l) => l.args.len(),
                _ => 0,
            };
            if let Some(func) = aggregate_function(&function_name(f), nargs) {
                let agg = self.bind_aggregate(func, f, ctx)?;
                let ac = ctx
                    .agg
                    .as_deref_mut()
                    .ok_or_else(|| Error::internal("no agg"))?;
                return Ok(Some(Expr::Column(ac.output_index_of_agg(agg))));
            }
        }
        // Written as a GROUP BY term: that term (a subquery bound again
        // would be a new subquery, evaluated over the grouped rows).
        if let Some(g) = ctx
            .agg
            .as_deref()
            .and_then(|ac| ac.group_sql.iter().position(|g| g == e))
        {
            return Ok(Some(Expr::Column(g)));
        }
        if matches!(
            e,
            ast::Expr::Subquery(_)
                | ast::Expr::Exists { .. }
                | ast::Expr::In { .. }
                | ast::Expr::AnyOp { .. }
                | ast::Expr::AllOp { .. }
        ) || contains_aggregate(e)
            || contains_window(e)
        {
            return Ok(None);
        }
        let Some(ac) = ctx.agg.as_deref() else {
            return Ok(None);
        };
        if ac.group_by.is_empty()
            && !matches!(
                e,
                ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_)
            )
        {
            return Ok(None);
        }
        let saved = self.param_index.get();
        let input = ac.input.clone();
        let mut plain = ExprContext {
            scope: &input,
            agg: None,
        };
        let bound = match self.bind_expr(e, &mut plain) {
            Ok(b) => b,
            Err(_) => {
                self.param_index.set(saved);
                return Ok(None);
            }
        };
        let ac = ctx
            .agg
            .as_deref_mut()
            .ok_or_else(|| Error::internal("no agg"))?;
        if let Some(g) = ac.group_by.iter().position(|g| *g == bound) {
            return Ok(Some(Expr::Column(g)));
        }
        if let Expr::Column(_) = bound {
            if self.duckdb_rules {
                let name = match e {
                    ast::Expr::CompoundIdentifier(parts) => {
                        parts.last().map(|p| p.value.clone()).unwrap_or_default()
                    }
                    other => other.to_string(),
                };
                return Err(Error::programming(format!(
                    "column \"{name}\" must appear in the GROUP BY clause or must be part \
                     of an aggregate function"
                )));
            }
            let data_type = type_of(&bound, &ac.input);
            let agg = AggregateExpr {
                func: AggregateFunction::AnyValue,
                arg: Some(bound),
                distinct: false,
                key: None,
                param: None,
                order_by: vec![],
                data_type,
            };
            return Ok(Some(Expr::Column(ac.output_index_of_agg(agg))));
        }
        // Reads nothing of the row: the same over the grouped rows. A
        // correlated subquery reads the row although `columns` does not
        // say so: its parts are bound one by one instead.
        let correlated = {
            let mut found = false;
            bound.visit(&mut |x| {
                found |= matches!(
                    x,
                    Expr::Subquery {
                        correlated: true,
                        ..
                    }
                );
            });
            found
        };
        if bound.columns().is_empty() && !matches!(bound, Expr::OuterColumn { .. }) && !correlated {
            return Ok(Some(bound));
        }
        self.param_index.set(saved);
        Ok(None)
    }

    /// Binds `probe [NOT] IN (subquery)`.
    fn bind_in_subquery(
        &self,
        probe: &ast::Expr,
        subquery: &ast::Query,
        negated: bool,
        ctx: &mut ExprContext<'_>,
    ) -> Result<Expr> {
        let probe = self.bind_expr(probe, ctx)?;
        let (id, correlated, _) = self.bind_subquery(subquery, ctx.scope, true)?;
        Ok(Expr::Subquery {
            id,
            kind: SubqueryKind::In {
                expr: Box::new(probe),
                negated,
            },
            correlated,
            data_type: DataType::Boolean,
        })
    }

    fn bind_aggregate(
        &self,
        func: AggregateFunction,
        f: &ast::Function,
        ctx: &mut ExprContext<'_>,
    ) -> Result<AggregateExpr> {
        let ac = ctx
            .agg
            .as_deref()
            .ok_or_else(|| Error::programming("misuse of aggregate function"))?;
        let input = ac.input.clone();
        let mut inner = ExprContext {
            scope: &input,
            agg: None,
        };
        // Window calls may not hide in an aggregate's arguments or FILTER.
        let windows = self.allow_windows(false);
        let agg = self.aggregate_call(func, f, &mut inner, false);
        self.allow_windows(windows);
        let mut agg = agg?;
        let arg_type = agg
            .arg
            .as_ref()
            .map(|a| type_of(a, &input))
            .unwrap_or(DataType::Null);
        check_aggregate_input(agg.func, &arg_type, self.duckdb_rules)?;
        agg.data_type = aggregate_type(agg.func, arg_type);
        Ok(agg)
    }

    /// Binds an aggregate call's arguments in `ctx` (aggregates nested in
    /// them allowed only when `nested_ok`, as in window calls of grouped
    /// queries). The result type is left NULL: see [`aggregate_type`].
    pub(super) fn aggregate_call(
        &self,
        func: AggregateFunction,
        f: &ast::Function,
        ctx: &mut ExprContext<'_>,
        nested_ok: bool,
    ) -> Result<AggregateExpr> {
        let (args, distinct, clauses) = match &f.args {
            ast::FunctionArguments::List(l) => (
                l.args.clone(),
                matches!(
                    l.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                ),
                l.clauses.as_slice(),
            ),
            _ => (vec![], false, &[][..]),
        };
        let mut order_by = Vec::new();
        for clause in clauses {
            match clause {
                ast::FunctionArgumentClause::OrderBy(keys) => {
                    for k in keys {
                        let expr = self.bind_expr(&k.expr, ctx)?;
                        order_by.push(super::query::sort_key(expr, k));
                    }
                }
                other => {
                    return Err(Error::not_supported(format!(
                        "{other} in an aggregate call is not supported"
                    )))
                }
            }
        }
        if !func.is_order_sensitive() {
            // The order cannot change the result.
            order_by.clear();
        }
        if distinct && matches!(func, AggregateFunction::ArgMin | AggregateFunction::ArgMax) {
            return Err(Error::programming(format!(
                "DISTINCT is not allowed in {}()",
                function_name(f)
            )));
        }
        let first_arg = args.first().and_then(|a| match a {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => Some(x),
            _ => None,
        });
        if distinct
            && clauses.iter().any(|c| match c {
                ast::FunctionArgumentClause::OrderBy(keys) => {
                    keys.iter().any(|k| Some(&k.expr) != first_arg)
                }
                _ => false,
            })
        {
            return Err(Error::programming(
                "in an aggregate with DISTINCT, ORDER BY expressions must appear in the argument list",
            ));
        }
        let mut bound = Vec::new();
        let mut star = false;
        for a in &args {
            match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => {
                    if !nested_ok && contains_aggregate(x) {
                        return Err(Error::programming("misuse of aggregate function"));
                    }
                    bound.push(self.bind_expr(x, ctx)?)
                }
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => star = true,
                _ => return Err(Error::not_supported("named aggregate arguments")),
            }
        }
        if star && (distinct || !bound.is_empty() || func != AggregateFunction::Count) {
            return Err(Error::programming(format!(
                "wrong use of * in {}()",
                function_name(f)
            )));
        }
        let within_group = !f.within_group.is_empty();
        if within_group {
            // `percentile_cont(p) WITHIN GROUP (ORDER BY x)` is
            // `quantile_cont(x, p)`.
            if !matches!(
                func,
                AggregateFunction::QuantileCont | AggregateFunction::QuantileDisc
            ) || f.within_group.len() != 1
                || bound.len() != 1
            {
                return Err(Error::programming(format!(
                    "WITHIN GROUP needs one ordering and one fraction in {}()",
                    function_name(f)
                )));
            }
            let order = &f.within_group[0];
            if matches!(order.options.sort, Some(ast::OrderBySort::Desc)) {
                return Err(Error::not_supported(
                    "WITHIN GROUP (ORDER BY ... DESC) is not supported yet",
                ));
            }
            bound.insert(0, self.bind_expr(&order.expr, ctx)?);
        }
        let max_args = match func {
            // SQLite allows no separator with DISTINCT; STRING_AGG does.
            AggregateFunction::GroupConcat if !distinct || function_name(f) == "string_agg" => 2,
            AggregateFunction::ArgMin
            | AggregateFunction::ArgMax
            | AggregateFunction::QuantileCont
            | AggregateFunction::QuantileDisc => 2,
            _ => 1,
        };
        let min_args = if max_args == 2 && func != AggregateFunction::GroupConcat {
            2
        } else {
            0
        };
        if bound.len() < min_args {
            return Err(Error::programming(format!(
                "wrong number of arguments to function {}",
                function_name(f)
            )));
        }
        if bound.len() > max_args {
            return Err(Error::programming(format!(
                "wrong number of arguments to function {}{}",
                function_name(f),
                if distinct {
                    " (DISTINCT aggregates must have exactly one argument)"
                } else {
                    ""
                }
            )));
        }
        let func = if func == AggregateFunction::Count && (star || bound.is_empty()) {
            AggregateFunction::CountStar
        } else {
            func
        };
        let mut arg = bound.first().cloned();
        if func != AggregateFunction::CountStar && arg.is_none() {
            return Err(Error::programming(format!(
                "wrong number of arguments to function {}",
                function_name(f)
            )));
        }
        let mut key = None;
        let mut param = None;
        match (func, bound.get(1)) {
            (_, None) => {}
            (AggregateFunction::ArgMin | AggregateFunction::ArgMax, Some(k)) => {
                key = Some(k.clone())
            }
            (AggregateFunction::GroupConcat, Some(Expr::Literal(v))) => param = Some(v.clone()),
            (AggregateFunction::GroupConcat, Some(_)) => {
                return Err(Error::not_supported("non-constant GROUP_CONCAT separator"))
            }
            (_, Some(p)) => param = Some(quantile_fraction(p)?),
        }
        let mut func = func;
        if let Some(filter) = &f.filter {
            // `agg(x) FILTER (WHERE c)` is `agg(CASE WHEN c THEN x END)`:
            // every aggregate but COUNT(*) skips NULLs.
            if !nested_ok && contains_aggregate(filter) {
                return Err(Error::programming("misuse of aggregate function"));
            }
            let cond = self.bind_expr(filter, ctx)?;
            let value = arg.take().unwrap_or(Expr::Literal(Value::Integer(1)));
            if func == AggregateFunction::CountStar {
                func = AggregateFunction::Count;
            }
            if let Some(k) = key.take() {
                key = Some(Expr::Case {
                    operand: None,
                    branches: vec![(cond.clone(), k)],
                    else_expr: None,
                });
            }
            arg = Some(Expr::Case {
                operand: None,
                branches: vec![(cond, value)],
                else_expr: None,
            });
        }
        Ok(AggregateExpr {
            func,
            arg,
            distinct,
            key,
            param,
            order_by,
            data_type: DataType::Null,
        })
    }

    fn bind_function(&self, f: &ast::Function, ctx: &mut ExprContext<'_>) -> Result<Expr> {
        let name = function_name(f);
        let args: Vec<ast::Expr> = match &f.args {
            ast::FunctionArguments::List(l) => l
                .args
                .iter()
                .map(|a| match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => Ok(x.clone()),
                    _ => Err(Error::not_supported(format!("arguments of {name}"))),
                })
                .collect::<Result<_>>()?,
            ast::FunctionArguments::None => vec![],
            ast::FunctionArguments::Subquery(_) => {
                return Err(Error::not_supported("subquery as function argument"))
            }
        };
        if aggregate_function(&name, args.len()).is_some() {
            return Err(Error::programming(format!(
                "misuse of aggregate function {name}()"
            )));
        }
        if let Some(e) = self.bind_date_function(&name, &args, ctx)? {
            return Ok(e);
        }
        if self.duckdb_rules && matches!(name.as_str(), "min" | "max") {
            // DuckDB's MIN and MAX are aggregates of one argument only
            // (GREATEST and LEAST take several).
            return Err(Error::programming(format!(
                "no function {name} of {} arguments: {name} is an aggregate of one; use {} for \
                 several values",
                args.len(),
                if name == "min" { "LEAST" } else { "GREATEST" }
            )));
        }
        let func = scalar_function(&name, args.len())
            .ok_or_else(|| Error::programming(format!("no such function: {name}")))?;
        if let Some(now) = self.clock(func) {
            return Ok(Expr::Literal(now));
        }
        let bound = args
            .iter()
            .map(|a| self.bind_expr(a, ctx))
            .collect::<Result<Vec<_>>>()?;
        Ok(Expr::Function { func, args: bound })
    }

    /// `now()`/`current_timestamp` and `current_date` as constants of the
    /// statement's one clock reading; `None` for other functions.
    fn clock(&self, func: ScalarFunction) -> Option<Value> {
        if !matches!(
            func,
            ScalarFunction::CurrentDate | ScalarFunction::CurrentTimestamp
        ) {
            return None;
        }
        let now = *self.now.get().get_or_insert_with(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(0)
        });
        self.now.set(Some(now));
        Some(if func == ScalarFunction::CurrentDate {
            Value::Date(now.div_euclid(llkv_plan::temporal::MICROS_PER_DAY) as i32)
        } else {
            Value::Timestamp(now)
        })
    }

    /// `date_part('field', x)`, `date_trunc('field', x)` (the field a
    /// literal) and `strftime`, whose SQLite form puts the format first.
    fn bind_date_function(
        &self,
        name: &str,
        args: &[ast::Expr],
        ctx: &mut ExprContext<'_>,
    ) -> Result<Option<Expr>> {
        let literal = |e: &ast::Expr| match e {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        };
        match (name, args) {
            ("date_part" | "datepart" | "date_trunc" | "datetrunc", [field, x]) => {
                let text = literal(field).ok_or_else(|| {
                    Error::programming(format!("{name}() needs the field as a string literal"))
                })?;
                let field = llkv_plan::temporal::DateField::from_name(&text)
                    .ok_or_else(|| Error::programming(format!("unknown date field '{text}'")))?;
                let func = if name.starts_with("date_p") || name == "datepart" {
                    ScalarFunction::DatePart(field)
                } else {
                    ScalarFunction::DateTrunc(field)
                };
                Ok(Some(Expr::Function {
                    func,
                    args: vec![self.bind_expr(x, ctx)?],
                }))
            }
            ("strftime", [a, b]) => {
                // SQLite: strftime(format, time); DuckDB: strftime(time, format).
                let (x, format) = match literal(a) {
                    Some(f) if f.contains('%') => (b, a),
                    _ => (a, b),
                };
                Ok(Some(Expr::Function {
                    func: ScalarFunction::Strftime,
                    args: vec![self.bind_expr(x, ctx)?, self.bind_expr(format, ctx)?],
                }))
            }
            _ => Ok(None),
        }
    }

    /// A table name (or alias) used as a value, where no column has that
    /// name: the STRUCT of the table's columns, as DuckDB reads
    /// `SELECT t FROM t`. Searches the query's own tables, then those of
    /// enclosing queries (a correlated reference).
    fn table_as_struct(&self, name: &str, ctx: &ExprContext<'_>) -> Option<Expr> {
        let of_table = |scope: &Scope| -> Vec<usize> {
            (0..scope.columns.len())
                .filter(|i| {
                    let c = &scope.columns[*i];
                    !c.hidden
                        && c.table
                            .as_deref()
                            .is_some_and(|t| t.eq_ignore_ascii_case(name))
                })
                .collect()
        };
        let build = |scope: &Scope, cols: Vec<usize>, field: &dyn Fn(usize) -> Expr| Expr::Struct {
            names: cols
                .iter()
                .map(|i| scope.columns[*i].name.clone())
                .collect(),
            fields: cols.into_iter().map(field).collect(),
        };
        let own = of_table(ctx.scope);
        if !own.is_empty() {
            return Some(build(ctx.scope, own, &Expr::Column));
        }
        let outer = self.outer.borrow();
        for (depth, scope) in outer.iter().rev().enumerate() {
            let cols = of_table(scope);
            if cols.is_empty() {
                continue;
            }
            self.mark_correlated(depth);
            let field = |index: usize| Expr::OuterColumn {
                depth,
                index,
                data_type: scope.columns[index].data_type.clone(),
            };
            return Some(build(scope, cols, &field));
        }
        None
    }

    fn bind_column(
        &self,
        table: Option<&str>,
        id: &ast::Ident,
        ctx: &mut ExprContext<'_>,
    ) -> Result<Expr> {
        let name = id.value.as_str();
        match ctx.scope.lookup(table, name) {
            Lookup::Found(i) => return Ok(Expr::Column(i)),
            Lookup::Ambiguous => {
                return Err(Error::programming(format!("ambiguous column name: {name}")))
            }
            Lookup::Missing => {}
        }
        let outer = self.outer.borrow();
        for (depth, scope) in outer.iter().rev().enumerate() {
            match scope.lookup(table, name) {
                Lookup::Found(index) => {
                    self.mark_correlated(depth);
                    return Ok(Expr::OuterColumn {
                        depth,
                        index,
                        data_type: scope.columns[index].data_type.clone(),
                    });
                }
                Lookup::Ambiguous => {
                    return Err(Error::programming(format!("ambiguous column name: {name}")))
                }
                Lookup::Missing => {}
            }
        }
        drop(outer);
        if table.is_none() {
            if let Some(row) = self.table_as_struct(name, ctx) {
                if ctx.agg.is_some() {
                    return Err(Error::not_supported(format!(
                        "using the table {name} as a value in a grouped query is not supported"
                    )));
                }
                return Ok(row);
            }
        }
        if table.is_none() && id.quote_style == Some('"') {
            return Ok(Expr::Literal(Value::Text(Arc::from(name))));
        }
        Err(Error::programming(match table {
            Some(t) => format!("no such column: {t}.{name}"),
            None => format!("no such column: {name}"),
        }))
    }

    /// Binds a literal value or parameter.
    pub fn bind_value(&self, v: &ast::Value) -> Result<Value> {
        Ok(match v {
            ast::Value::Number(s, _) => parse_number(s, self.decimal_literals)?,
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => {
                Value::Text(Arc::from(s.as_str()))
            }
            ast::Value::Boolean(b) => Value::Boolean(*b),
            ast::Value::Null => Value::Null,
            ast::Value::HexStringLiteral(h) => hex_blob(h)?,
            ast::Value::Placeholder(p) => self.param(p)?.1,
            other => {
                return Err(Error::not_supported(format!(
                    "literal not supported yet: {other}"
                )))
            }
        })
    }

    /// A literal, or a placeholder: its value, or a slot for it when
    /// binding a plan to cache.
    fn bind_leaf(&self, v: &ast::Value) -> Result<Expr> {
        Ok(match v {
            ast::Value::Placeholder(p) if self.param_slots => {
                let (index, value) = self.param(p)?;
                // A NULL parameter's value is all its type says.
                match value {
                    Value::Null => Expr::Literal(Value::Null),
                    value => {
                        self.slots_made.set(self.slots_made.get() + 1);
                        Expr::Param {
                            index,
                            data_type: value.data_type(),
                        }
                    }
                }
            }
            other => Expr::Literal(self.bind_value(other)?),
        })
    }

    /// The 0-based index and the value of placeholder `p`.
    fn param(&self, p: &str) -> Result<(usize, Value)> {
        let index = if p == "?" {
            let i = self.param_index.get();
            self.param_index.set(i + 1);
            i
        } else if let Some(n) = p.strip_prefix('?').or_else(|| p.strip_prefix('$')) {
            n.parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .ok_or_else(|| Error::programming(format!("bad parameter {p}")))?
        } else {
            return Err(Error::programming(format!(
                "placeholder {p} is named: pass the parameters as a dict (and do not mix it with ? placeholders)"
            )));
        };
        self.max_param.set(self.max_param.get().max(index + 1));
        let value = self.params.get(index).cloned().ok_or_else(|| {
            Error::programming(format!(
                "incorrect number of bindings supplied: the statement uses parameter {}, {} supplied",
                index + 1,
                self.params.len()
            ))
        })?;
        Ok((index, value))
    }
}
