//! Bound scalar expressions: names are resolved to column positions of the
//! operator's input, so the executor never looks anything up by name.

use arrow_schema::DataType;

use crate::Value;

/// A scalar expression evaluated over the rows of one input batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Column `index` of the input batch.
    Column(usize),
    /// Column `index` of the current row of an enclosing query: `depth` 0 is the
    /// query immediately around the subquery this expression lives in.
    OuterColumn {
        /// How many query levels out.
        depth: usize,
        /// Column position in that query's input.
        index: usize,
        /// Its type.
        data_type: DataType,
    },
    /// A constant.
    Literal(Value),
    /// Statement parameter `index` (0-based) of a plan kept for reuse
    /// (`llkv-sql`'s plan cache). It stands for a constant of type
    /// `data_type` and is replaced by a [`Expr::Literal`] with the
    /// parameter's value before the plan runs; the executor never sees one.
    Param {
        /// Which parameter.
        index: usize,
        /// The type of the parameter's value.
        data_type: DataType,
    },
    /// A unary operator.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Its operand.
        expr: Box<Expr>,
    },
    /// A binary operator.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `expr IS [NOT] NULL`.
    IsNull {
        /// The tested expression.
        expr: Box<Expr>,
        /// True for IS NOT NULL.
        negated: bool,
    },
    /// `CAST(expr AS type)`.
    Cast {
        /// The converted expression.
        expr: Box<Expr>,
        /// Target type.
        to: DataType,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
    Case {
        /// Compared against each WHEN value when present.
        operand: Option<Box<Expr>>,
        /// (WHEN, THEN) pairs in order.
        branches: Vec<(Expr, Expr)>,
        /// ELSE result; NULL when absent.
        else_expr: Option<Box<Expr>>,
    },
    /// `expr [NOT] IN (list)`.
    InList {
        /// The tested expression.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// True for NOT IN.
        negated: bool,
    },
    /// `expr [NOT] LIKE/GLOB pattern [ESCAPE c]`.
    Like {
        /// The matched text.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// Escape character, if any.
        escape: Option<char>,
        /// True for NOT LIKE.
        negated: bool,
        /// True for ILIKE (and SQLite's ASCII case-insensitive LIKE).
        case_insensitive: bool,
        /// True for GLOB (`*`, `?` wildcards, case sensitive).
        glob: bool,
    },
    /// A scalar function call.
    Function {
        /// The function.
        func: ScalarFunction,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// A STRUCT value built from named fields: a table name used as a
    /// value (`SELECT t FROM t`) is the struct of its columns.
    Struct {
        /// The field names, in order.
        names: Vec<String>,
        /// The field values.
        fields: Vec<Expr>,
    },
    /// A subquery used as a value.
    Subquery {
        /// Index into the statement's subquery table.
        id: usize,
        /// How its result is used.
        kind: SubqueryKind,
        /// True when it references columns of enclosing queries.
        correlated: bool,
        /// Type of the value (BOOLEAN for EXISTS/IN).
        data_type: DataType,
    },
}

/// How a subquery's rows become a value.
#[derive(Debug, Clone, PartialEq)]
pub enum SubqueryKind {
    /// The first column of the single row (NULL when empty).
    Scalar,
    /// `[NOT] EXISTS (subquery)`.
    Exists {
        /// True for NOT EXISTS.
        negated: bool,
    },
    /// `expr [NOT] IN (subquery)`.
    In {
        /// The tested expression.
        expr: Box<Expr>,
        /// True for NOT IN.
        negated: bool,
    },
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// Arithmetic negation.
    Neg,
    /// Logical NOT (three-valued).
    Not,
    /// Bitwise NOT.
    BitNot,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (integer division for two integers, as SQLite does).
    Div,
    /// `%`
    Mod,
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `IS NOT DISTINCT FROM` / SQLite `IS`.
    IsNotDistinctFrom,
    /// `IS DISTINCT FROM` / SQLite `IS NOT`.
    IsDistinctFrom,
    /// `AND` (three-valued).
    And,
    /// `OR` (three-valued).
    Or,
    /// `||`
    Concat,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `<<`
    ShiftLeft,
    /// `>>`
    ShiftRight,
}

impl BinaryOp {
    /// True for the six ordering/equality comparisons.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    }

    /// The comparison with its operands swapped (`a < b` ⇔ `b > a`).
    pub fn commute(self) -> BinaryOp {
        match self {
            BinaryOp::Lt => BinaryOp::Gt,
            BinaryOp::LtEq => BinaryOp::GtEq,
            BinaryOp::Gt => BinaryOp::Lt,
            BinaryOp::GtEq => BinaryOp::LtEq,
            other => other,
        }
    }
}

/// Built-in scalar functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarFunction {
    /// ABS(x)
    Abs,
    /// COALESCE(a, b, ...)
    Coalesce,
    /// NULLIF(a, b)
    NullIf,
    /// IFNULL(a, b)
    IfNull,
    /// LENGTH(s)
    Length,
    /// LOWER(s)
    Lower,
    /// UPPER(s)
    Upper,
    /// SUBSTR(s, start [, len])
    Substr,
    /// TRIM(s [, chars])
    Trim,
    /// LTRIM(s [, chars])
    LTrim,
    /// RTRIM(s [, chars])
    RTrim,
    /// REPLACE(s, from, to)
    Replace,
    /// INSTR(s, needle)
    Instr,
    /// ROUND(x [, digits])
    Round,
    /// TYPEOF(x)
    TypeOf,
    /// Scalar MIN(a, b, ...) (SQLite; NULL if any argument is NULL).
    MinOf,
    /// Scalar MAX(a, b, ...)
    MaxOf,
    /// GREATEST(a, b, ...) (ignores NULLs)
    Greatest,
    /// LEAST(a, b, ...) (ignores NULLs)
    Least,
    /// SIGN(x)
    Sign,
    /// IIF(cond, a, b)
    Iif,
    /// CONCAT(a, b, ...) (NULLs ignored)
    ConcatFn,
    /// HEX(x)
    Hex,
    /// FLOOR(x)
    Floor,
    /// CEIL(x)
    Ceil,
    /// SQRT(x)
    Sqrt,
    /// POWER(x, y)
    Power,
    /// MOD(x, y)
    ModFn,
    /// `EXTRACT(field FROM x)` / `date_part('field', x)` of a DATE or
    /// TIMESTAMP: an integer (a real for `epoch`).
    DatePart(crate::temporal::DateField),
    /// `date_trunc('field', x)`: the start of the field's period.
    DateTrunc(crate::temporal::DateField),
    /// `strftime(x, format)` (arguments in that order once bound).
    Strftime,
    /// `CURRENT_DATE`.
    CurrentDate,
    /// `CURRENT_TIMESTAMP` / `now()` (UTC).
    CurrentTimestamp,
    /// `CONCAT_WS(sep, a, b, ...)`: NULL arguments are skipped.
    ConcatWs,
    /// `LEFT(s, n)`: the first `n` characters (all but the last `-n` when negative).
    Left,
    /// `RIGHT(s, n)`: the last `n` characters (all but the first `-n` when negative).
    Right,
    /// `LPAD(s, len [, fill])`
    LPad,
    /// `RPAD(s, len [, fill])`
    RPad,
    /// `REVERSE(s)`
    Reverse,
    /// `REPEAT(s, n)`
    Repeat,
    /// `SPLIT_PART(s, delimiter, n)` (1-based; negative counts from the end).
    SplitPart,
    /// `STARTS_WITH(s, prefix)`
    StartsWith,
    /// `ENDS_WITH(s, suffix)`
    EndsWith,
    /// `ASCII(s)`: the code point of the first character.
    Ascii,
    /// `CHR(n)`: the character with code point `n`.
    Chr,
    /// `REGEXP_MATCHES(s, pattern [, options])`: true when the pattern
    /// matches anywhere in `s` (DuckDB's boolean form).
    RegexpMatches,
    /// `REGEXP_REPLACE(s, pattern, replacement [, options])`: the first
    /// match (every match with option `g`); `\1` names a group.
    RegexpReplace,
    /// `REGEXP_EXTRACT(s, pattern [, group])`: the matched text ('' when
    /// there is no match).
    RegexpExtract,
    /// A one-argument math function returning a REAL.
    Math(MathFunction),
    /// `LOG(x)` (base 10) or `LOG(b, x)`.
    Log,
    /// `ATAN2(y, x)`
    Atan2,
    /// `TRUNC(x [, digits])`: rounds toward zero.
    Trunc,
    /// `PI()`
    Pi,
    /// `RANDOM()`: a REAL in [0, 1), a new one per row.
    Random,
    /// `x + INTERVAL '...'` (a DATE counts as its midnight): a TIMESTAMP.
    AddInterval(crate::interval::Interval),
}

/// One-argument math functions over REAL (a domain error is a data error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MathFunction {
    /// `EXP(x)`
    Exp,
    /// `LN(x)`
    Ln,
    /// `LOG10(x)`
    Log10,
    /// `LOG2(x)`
    Log2,
    /// `CBRT(x)`
    Cbrt,
    /// `SIN(x)`
    Sin,
    /// `COS(x)`
    Cos,
    /// `TAN(x)`
    Tan,
    /// `ASIN(x)`
    Asin,
    /// `ACOS(x)`
    Acos,
    /// `ATAN(x)`
    Atan,
    /// `COT(x)`
    Cot,
    /// `DEGREES(x)`
    Degrees,
    /// `RADIANS(x)`
    Radians,
}

impl MathFunction {
    /// The function called `name` (lower case), if any.
    pub fn from_name(name: &str) -> Option<MathFunction> {
        use MathFunction as M;
        Some(match name {
            "exp" => M::Exp,
            "ln" => M::Ln,
            "log10" => M::Log10,
            "log2" => M::Log2,
            "cbrt" => M::Cbrt,
            "sin" => M::Sin,
            "cos" => M::Cos,
            "tan" => M::Tan,
            "asin" => M::Asin,
            "acos" => M::Acos,
            "atan" => M::Atan,
            "cot" => M::Cot,
            "degrees" => M::Degrees,
            "radians" => M::Radians,
            _ => return None,
        })
    }
}

impl Expr {
    /// A column reference.
    pub fn col(index: usize) -> Expr {
        Expr::Column(index)
    }

    /// A literal.
    pub fn lit(value: impl Into<Value>) -> Expr {
        Expr::Literal(value.into())
    }

    /// Builds `left op right`.
    pub fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        Expr::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        }
    }

    /// The static type this expression produces, given the types of the
    /// input's columns. The binder declares result columns with it and the
    /// executor conforms computed arrays to it, so both always agree.
    pub fn data_type(&self, column: &dyn Fn(usize) -> DataType) -> DataType {
        use crate::types::{binary_type, common_type, function_type, negate_type};
        let t = |e: &Expr| e.data_type(column);
        match self {
            Expr::Column(i) => column(*i),
            Expr::OuterColumn { data_type, .. }
            | Expr::Subquery { data_type, .. }
            | Expr::Param { data_type, .. } => data_type.clone(),
            Expr::Literal(v) => v.data_type(),
            Expr::Unary { op, expr } => match op {
                UnaryOp::Neg => negate_type(&t(expr)),
                UnaryOp::Not => DataType::Boolean,
                UnaryOp::BitNot => DataType::Int64,
            },
            Expr::Binary { op, left, right } => binary_type(*op, &t(left), &t(right)),
            Expr::IsNull { .. } | Expr::InList { .. } | Expr::Like { .. } => DataType::Boolean,
            Expr::Cast { to, .. } => to.clone(),
            Expr::Case {
                branches,
                else_expr,
                ..
            } => {
                let mut types: Vec<DataType> = branches.iter().map(|(_, e)| t(e)).collect();
                types.extend(else_expr.iter().map(|e| t(e)));
                common_type(&types)
            }
            Expr::Function { func, args } => {
                let types: Vec<DataType> = args.iter().map(t).collect();
                function_type(*func, &types)
            }
            Expr::Struct { names, fields } => DataType::Struct(
                names
                    .iter()
                    .zip(fields)
                    .map(|(name, e)| arrow_schema::Field::new(name, t(e), true))
                    .collect(),
            ),
        }
    }

    /// True when the expression reads nothing from its input row or any
    /// enclosing row (it may still be non-deterministic in future functions).
    pub fn is_constant(&self) -> bool {
        let mut constant = true;
        self.visit(&mut |e| {
            if matches!(
                e,
                Expr::Column(_) | Expr::OuterColumn { .. } | Expr::Subquery { .. }
            ) {
                constant = false;
            }
        });
        constant
    }

    /// Calls `f` on this node and every node below it, pre-order. Subquery
    /// bodies are not entered (they are separate plans).
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Column(_) | Expr::OuterColumn { .. } | Expr::Literal(_) | Expr::Param { .. } => {}
            Expr::Unary { expr, .. } | Expr::IsNull { expr, .. } | Expr::Cast { expr, .. } => {
                expr.visit(f)
            }
            Expr::Binary { left, right, .. } => {
                left.visit(f);
                right.visit(f);
            }
            Expr::Case {
                operand,
                branches,
                else_expr,
            } => {
                if let Some(o) = operand {
                    o.visit(f);
                }
                for (w, t) in branches {
                    w.visit(f);
                    t.visit(f);
                }
                if let Some(e) = else_expr {
                    e.visit(f);
                }
            }
            Expr::InList { expr, list, .. } => {
                expr.visit(f);
                for e in list {
                    e.visit(f);
                }
            }
            Expr::Like { expr, pattern, .. } => {
                expr.visit(f);
                pattern.visit(f);
            }
            Expr::Function { args, .. } | Expr::Struct { fields: args, .. } => {
                for a in args {
                    a.visit(f);
                }
            }
            Expr::Subquery { kind, .. } => {
                if let SubqueryKind::In { expr, .. } = kind {
                    expr.visit(f);
                }
            }
        }
    }

    /// Rewrites the tree bottom-up: `f` is applied to every node after its
    /// children were rewritten.
    pub fn transform(self, f: &mut impl FnMut(Expr) -> Expr) -> Expr {
        let rebuilt = match self {
            Expr::Unary { op, expr } => Expr::Unary {
                op,
                expr: Box::new(expr.transform(f)),
            },
            Expr::IsNull { expr, negated } => Expr::IsNull {
                expr: Box::new(expr.transform(f)),
                negated,
            },
            Expr::Cast { expr, to } => Expr::Cast {
                expr: Box::new(expr.transform(f)),
                to,
            },
            Expr::Binary { op, left, right } => Expr::Binary {
                op,
                left: Box::new(left.transform(f)),
                right: Box::new(right.transform(f)),
            },
            Expr::Case {
                operand,
                branches,
                else_expr,
            } => Expr::Case {
                operand: operand.map(|o| Box::new(o.transform(f))),
                branches: branches
                    .into_iter()
                    .map(|(w, t)| (w.transform(f), t.transform(f)))
                    .collect(),
                else_expr: else_expr.map(|e| Box::new(e.transform(f))),
            },
            Expr::InList {
                expr,
                list,
                negated,
            } => Expr::InList {
                expr: Box::new(expr.transform(f)),
                list: list.into_iter().map(|e| e.transform(f)).collect(),
                negated,
            },
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
                case_insensitive,
                glob,
            } => Expr::Like {
                expr: Box::new(expr.transform(f)),
                pattern: Box::new(pattern.transform(f)),
                escape,
                negated,
                case_insensitive,
                glob,
            },
            Expr::Function { func, args } => Expr::Function {
                func,
                args: args.into_iter().map(|e| e.transform(f)).collect(),
            },
            Expr::Struct { names, fields } => Expr::Struct {
                names,
                fields: fields.into_iter().map(|e| e.transform(f)).collect(),
            },
            Expr::Subquery {
                id,
                kind,
                correlated,
                data_type,
            } => Expr::Subquery {
                id,
                kind: match kind {
                    SubqueryKind::In { expr, negated } => SubqueryKind::In {
                        expr: Box::new(expr.transform(f)),
                        negated,
                    },
                    other => other,
                },
                correlated,
                data_type,
            },
            leaf => leaf,
        };
        f(rebuilt)
    }

    /// Replaces every [`Expr::Param`] by a literal of its value in
    /// `params` (NULL when `params` is short; callers check the count).
    pub fn bind_params(self, params: &[Value]) -> Expr {
        self.transform(&mut |e| match e {
            Expr::Param { index, .. } => {
                Expr::Literal(params.get(index).cloned().unwrap_or(Value::Null))
            }
            other => other,
        })
    }

    /// The number of [`Expr::Param`] nodes in the tree.
    pub fn param_count(&self) -> usize {
        let mut n = 0;
        self.visit(&mut |e| n += usize::from(matches!(e, Expr::Param { .. })));
        n
    }

    /// Column positions of the input this expression reads.
    pub fn columns(&self) -> Vec<usize> {
        let mut out = Vec::new();
        self.visit(&mut |e| {
            if let Expr::Column(i) = e {
                out.push(*i);
            }
        });
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Splits a conjunction into its conjuncts.
    pub fn split_conjunction(self) -> Vec<Expr> {
        match self {
            Expr::Binary {
                op: BinaryOp::And,
                left,
                right,
            } => {
                let mut v = left.split_conjunction();
                v.extend(right.split_conjunction());
                v
            }
            other => vec![other],
        }
    }

    /// Splits a disjunction into its disjuncts.
    pub fn split_disjunction(self) -> Vec<Expr> {
        match self {
            Expr::Binary {
                op: BinaryOp::Or,
                left,
                right,
            } => {
                let mut v = left.split_disjunction();
                v.extend(right.split_disjunction());
                v
            }
            other => vec![other],
        }
    }

    /// Rewrites one conjunct `(a AND b) OR (a AND c)` into the conjuncts
    /// `a` and `b OR c`, so that a join condition repeated in every branch
    /// of an OR (TPC-H Q19) becomes a join key. AND distributes over OR in
    /// SQL's three-valued logic, so the result is the same. Conjuncts that
    /// call a volatile function are not shared (each branch calls it anew).
    pub fn factor_disjunction(self) -> Vec<Expr> {
        if !matches!(
            self,
            Expr::Binary {
                op: BinaryOp::Or,
                ..
            }
        ) {
            return vec![self];
        }
        let branches: Vec<Vec<Expr>> = self
            .clone()
            .split_disjunction()
            .into_iter()
            .map(Expr::split_conjunction)
            .collect();
        let common: Vec<Expr> = branches[0]
            .iter()
            .filter(|c| !c.is_volatile() && branches[1..].iter().all(|b| b.contains(c)))
            .fold(Vec::new(), |mut acc, c| {
                if !acc.contains(c) {
                    acc.push(c.clone());
                }
                acc
            });
        if common.is_empty() {
            return vec![self];
        }
        let rest: Vec<Option<Expr>> = branches
            .into_iter()
            .map(|b| Expr::conjunction(b.into_iter().filter(|c| !common.contains(c)).collect()))
            .collect();
        let mut out = common;
        // A branch left empty is TRUE, which makes the whole OR TRUE.
        if rest.iter().all(Option::is_some) {
            let disjuncts: Vec<Expr> = rest.into_iter().flatten().collect();
            if let Some(or) = disjuncts
                .into_iter()
                .reduce(|a, b| Expr::binary(BinaryOp::Or, a, b))
            {
                out.push(or);
            }
        }
        out
    }

    /// True when the expression calls a function whose value changes from
    /// call to call (`random()`), so it must not be moved or shared.
    pub fn is_volatile(&self) -> bool {
        let mut volatile = false;
        self.visit(&mut |x| {
            if let Expr::Function {
                func: ScalarFunction::Random,
                ..
            } = x
            {
                volatile = true;
            }
        });
        volatile
    }

    /// Joins conjuncts with AND; `None` for an empty list.
    pub fn conjunction(exprs: Vec<Expr>) -> Option<Expr> {
        exprs
            .into_iter()
            .reduce(|a, b| Expr::binary(BinaryOp::And, a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(a: usize, b: i64) -> Expr {
        Expr::binary(BinaryOp::Eq, Expr::col(a), Expr::lit(b))
    }

    fn and(a: Expr, b: Expr) -> Expr {
        Expr::binary(BinaryOp::And, a, b)
    }

    fn or(a: Expr, b: Expr) -> Expr {
        Expr::binary(BinaryOp::Or, a, b)
    }

    #[test]
    fn factor_disjunction_pulls_out_shared_conjuncts() {
        let e = or(and(eq(0, 1), eq(1, 2)), and(eq(1, 3), eq(0, 1)));
        assert_eq!(
            e.factor_disjunction(),
            vec![eq(0, 1), or(eq(1, 2), eq(1, 3))]
        );
    }

    #[test]
    fn factor_disjunction_drops_an_or_with_an_empty_branch() {
        // (a) OR (a AND b) is a.
        let e = or(eq(0, 1), and(eq(0, 1), eq(1, 2)));
        assert_eq!(e.factor_disjunction(), vec![eq(0, 1)]);
    }

    #[test]
    fn factor_disjunction_keeps_unshared_and_volatile_terms() {
        let plain = or(eq(0, 1), eq(1, 2));
        assert_eq!(plain.clone().factor_disjunction(), vec![plain]);
        let random = Expr::Function {
            func: ScalarFunction::Random,
            args: vec![],
        };
        let coin = Expr::binary(BinaryOp::Lt, random, Expr::lit(0.5));
        let e = or(and(coin.clone(), eq(0, 1)), and(coin, eq(1, 2)));
        assert_eq!(e.clone().factor_disjunction(), vec![e]);
    }
}
