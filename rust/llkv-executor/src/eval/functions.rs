//! Scalar functions, evaluated row by row over their argument arrays.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, StringArray};
use arrow_schema::DataType;
use llkv_plan::types::function_type;
use llkv_plan::{Error, Result, ScalarFunction, Value};

use super::compare::compare_values;
use crate::scalar::{array_from_values, value_at, value_to_f64, value_to_i64, value_to_text};

/// `a || b`: text concatenation, NULL if either side is NULL.
pub fn concat_pair(l: &ArrayRef, r: &ArrayRef) -> Result<ArrayRef> {
    let out: StringArray = (0..l.len())
        .map(|i| {
            let a = value_to_text(&value_at(l.as_ref(), i))?;
            let b = value_to_text(&value_at(r.as_ref(), i))?;
            Some(a + &b)
        })
        .collect();
    Ok(Arc::new(out))
}

/// Evaluates `func` over argument arrays of `n` rows.
pub fn evaluate_function(func: ScalarFunction, args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let types: Vec<DataType> = args.iter().map(|a| a.data_type().clone()).collect();
    use ScalarFunction as F;
    let numeric = matches!(
        func,
        F::Abs
            | F::Sign
            | F::Round
            | F::Floor
            | F::Ceil
            | F::Sqrt
            | F::Power
            | F::ModFn
            | F::Math(_)
            | F::Log
            | F::Atan2
            | F::Trunc
    );
    if let Some(t) = types
        .iter()
        .find(|t| numeric && llkv_plan::types::is_temporal(t))
    {
        return Err(Error::data(format!(
            "{func:?}() of {} is not defined",
            llkv_plan::types::sql_name(t)
        )));
    }
    let out_type = function_type(func, &types);
    let mut out = Vec::with_capacity(n);
    let mut row = Vec::with_capacity(args.len());
    for i in 0..n {
        row.clear();
        row.extend(args.iter().map(|a| value_at(a.as_ref(), i)));
        out.push(apply(func, &row)?);
    }
    if returns_an_argument(func) {
        // The value of the chosen argument keeps its own type, as in SQLite.
        super::dynamic::dynamic_array(&out, &out_type)
    } else {
        array_from_values(&out_type, &out)
    }
}

/// Functions whose result is one of their arguments (or its magnitude), so
/// its numeric type is that argument's, row by row.
fn returns_an_argument(func: ScalarFunction) -> bool {
    use ScalarFunction as F;
    matches!(
        func,
        F::Coalesce
            | F::IfNull
            | F::NullIf
            | F::Iif
            | F::MinOf
            | F::MaxOf
            | F::Greatest
            | F::Least
            | F::Abs
            | F::Sign
    )
}

fn arity(func: ScalarFunction, args: &[Value], min: usize, max: usize) -> Result<()> {
    if args.len() < min || args.len() > max {
        return Err(Error::programming(format!(
            "wrong number of arguments to function {func:?}"
        )));
    }
    Ok(())
}

fn apply(func: ScalarFunction, args: &[Value]) -> Result<Value> {
    use ScalarFunction as F;
    let null = Value::Null;
    let a0 = args.first().unwrap_or(&null);
    Ok(match func {
        F::Abs => match a0 {
            Value::Decimal(d) => Value::Decimal(llkv_plan::Decimal {
                value: d.value.abs(),
                ..*d
            }),
            Value::Integer(i) => Value::Integer(
                i.checked_abs()
                    .ok_or_else(|| Error::data("integer overflow in abs()"))?,
            ),
            Value::Null => Value::Null,
            v => Value::Real(value_to_f64(v).unwrap_or(0.0).abs()),
        },
        F::Sign => match a0 {
            Value::Null => Value::Null,
            Value::Decimal(d) => Value::Integer(d.value.signum() as i64),
            Value::Integer(i) => Value::Integer(i.signum()),
            v => {
                let f = value_to_f64(v).unwrap_or(0.0);
                Value::Real(if f > 0.0 {
                    1.0
                } else if f < 0.0 {
                    -1.0
                } else {
                    0.0
                })
            }
        },
        F::Coalesce | F::IfNull => args
            .iter()
            .find(|v| !v.is_null())
            .cloned()
            .unwrap_or(Value::Null),
        F::NullIf => {
            arity(func, args, 2, 2)?;
            if !a0.is_null()
                && !args[1].is_null()
                && compare_values(a0, &args[1]) == Ordering::Equal
            {
                Value::Null
            } else {
                a0.clone()
            }
        }
        F::Iif => {
            arity(func, args, 3, 3)?;
            if crate::scalar::value_to_bool(a0).unwrap_or(false) {
                args[1].clone()
            } else {
                args[2].clone()
            }
        }
        F::MinOf | F::MaxOf => {
            if args.iter().any(|v| v.is_null()) {
                Value::Null
            } else {
                pick(args, func == F::MaxOf)
            }
        }
        F::Greatest | F::Least => {
            let vals: Vec<Value> = args.iter().filter(|v| !v.is_null()).cloned().collect();
            if vals.is_empty() {
                Value::Null
            } else {
                pick(&vals, func == F::Greatest)
            }
        }
        F::Length => match a0 {
            Value::Null => Value::Null,
            Value::Blob(b) => Value::Integer(b.len() as i64),
            v => Value::Integer(value_to_text(v).unwrap_or_default().chars().count() as i64),
        },
        F::Lower => text_map(a0, |s| s.to_lowercase()),
        F::Upper => text_map(a0, |s| s.to_uppercase()),
        F::Substr => {
            arity(func, args, 2, 3)?;
            if args.iter().any(|v| v.is_null()) {
                Value::Null
            } else {
                let s: Vec<char> = value_to_text(a0).unwrap_or_default().chars().collect();
                let start = value_to_i64(&args[1]).unwrap_or(0);
                let len = args.get(2).and_then(value_to_i64);
                Value::from(substr(&s, start, len))
            }
        }
        F::Trim | F::LTrim | F::RTrim => {
            if args.iter().any(|v| v.is_null()) {
                Value::Null
            } else {
                let s = value_to_text(a0).unwrap_or_default();
                let chars: Vec<char> = match args.get(1) {
                    Some(c) => value_to_text(c).unwrap_or_default().chars().collect(),
                    None => vec![' '],
                };
                let f = |c: char| chars.contains(&c);
                Value::from(match func {
                    F::Trim => s.trim_matches(f).to_string(),
                    F::LTrim => s.trim_start_matches(f).to_string(),
                    _ => s.trim_end_matches(f).to_string(),
                })
            }
        }
        F::Replace => {
            arity(func, args, 3, 3)?;
            if args.iter().any(|v| v.is_null()) {
                Value::Null
            } else {
                let s = value_to_text(a0).unwrap_or_default();
                let from = value_to_text(&args[1]).unwrap_or_default();
                let to = value_to_text(&args[2]).unwrap_or_default();
                if from.is_empty() {
                    Value::from(s)
                } else {
                    Value::from(s.replace(&from, &to))
                }
            }
        }
        F::Instr => {
            arity(func, args, 2, 2)?;
            if args.iter().any(|v| v.is_null()) {
                Value::Null
            } else {
                let s = value_to_text(a0).unwrap_or_default();
                let needle = value_to_text(&args[1]).unwrap_or_default();
                Value::Integer(match s.find(&needle) {
                    Some(byte) => s[..byte].chars().count() as i64 + 1,
                    None => 0,
                })
            }
        }
        F::Round => {
            arity(func, args, 1, 2)?;
            if args.iter().any(|v| v.is_null()) {
                Value::Null
            } else if let Value::Decimal(d) = a0 {
                // Exact: round to the digits asked for, keep the type.
                let digits = args
                    .get(1)
                    .and_then(value_to_i64)
                    .unwrap_or(0)
                    .clamp(-38, 38) as i8;
                let rounded = llkv_plan::decimal::rescale(d.value, d.scale, digits.min(d.scale))
                    .and_then(|v| llkv_plan::decimal::rescale(v, digits.min(d.scale), d.scale))
                    .filter(|v| llkv_plan::decimal::fits(*v, d.precision))
                    .ok_or_else(|| Error::data("numeric overflow in round()"))?;
                Value::Decimal(llkv_plan::Decimal {
                    value: rounded,
                    ..*d
                })
            } else {
                let x = value_to_f64(a0).unwrap_or(0.0);
                let d = args.get(1).and_then(value_to_i64).unwrap_or(0).clamp(0, 30) as i32;
                let m = 10f64.powi(d);
                let r = (x * m).abs().round() / m;
                Value::Real(if x < 0.0 { -r } else { r })
            }
        }
        F::DatePart(_)
        | F::DateTrunc(_)
        | F::Strftime
        | F::CurrentDate
        | F::CurrentTimestamp
        | F::AddInterval(_) => super::temporal::apply(func, args)?,
        F::ConcatWs
        | F::Left
        | F::Right
        | F::LPad
        | F::RPad
        | F::Reverse
        | F::Repeat
        | F::SplitPart
        | F::StartsWith
        | F::EndsWith
        | F::Ascii
        | F::Chr
        | F::RegexpMatches
        | F::RegexpReplace
        | F::RegexpExtract => super::text_functions::apply(func, args)?,
        F::Math(_) | F::Log | F::Atan2 | F::Trunc | F::Pi | F::Random => {
            super::math_functions::apply(func, args)?
        }
        F::TypeOf => Value::from(match a0 {
            Value::Null => "null",
            Value::Integer(_) | Value::Boolean(_) => "integer",
            Value::Real(_) => "real",
            Value::Text(_) => "text",
            Value::Blob(_) => "blob",
            Value::Date(_) => "date",
            Value::Timestamp(_) => "timestamp",
            Value::Decimal(_) => "decimal",
        }),
        F::ConcatFn => Value::from(
            args.iter()
                .filter_map(value_to_text)
                .collect::<Vec<_>>()
                .concat(),
        ),
        F::Hex => match a0 {
            Value::Null => Value::from(""),
            v => Value::from(
                crate::scalar::value_to_blob(v)
                    .unwrap_or_default()
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<String>(),
            ),
        },
        F::Floor | F::Ceil => match a0 {
            Value::Null => Value::Null,
            Value::Integer(i) => Value::Integer(*i),
            Value::Boolean(b) => Value::Integer(*b as i64),
            v => {
                let f = value_to_f64(v).unwrap_or(0.0);
                Value::Real(if func == F::Floor {
                    f.floor()
                } else {
                    f.ceil()
                })
            }
        },
        F::Sqrt => match value_to_f64(a0) {
            Some(f) if f >= 0.0 => Value::Real(f.sqrt()),
            _ => Value::Null,
        },
        F::Power => {
            arity(func, args, 2, 2)?;
            match (value_to_f64(a0), value_to_f64(&args[1])) {
                (Some(x), Some(y)) => Value::Real(x.powf(y)),
                _ => Value::Null,
            }
        }
        F::ModFn => {
            arity(func, args, 2, 2)?;
            match (a0, &args[1]) {
                (Value::Null, _) | (_, Value::Null) => Value::Null,
                (Value::Integer(x), Value::Integer(y)) => {
                    if *y == 0 {
                        Value::Null
                    } else {
                        Value::Integer(x.wrapping_rem(*y))
                    }
                }
                (x, y) => {
                    let (x, y) = (
                        value_to_f64(x).unwrap_or(0.0),
                        value_to_f64(y).unwrap_or(0.0),
                    );
                    if y == 0.0 {
                        Value::Null
                    } else {
                        Value::Real(x % y)
                    }
                }
            }
        }
    })
}

fn pick(vals: &[Value], max: bool) -> Value {
    let mut best = vals[0].clone();
    for v in &vals[1..] {
        let ord = compare_values(v, &best);
        if (max && ord == Ordering::Greater) || (!max && ord == Ordering::Less) {
            best = v.clone();
        }
    }
    best
}

fn text_map(v: &Value, f: impl Fn(&str) -> String) -> Value {
    match value_to_text(v) {
        Some(s) => Value::from(f(&s)),
        None => Value::Null,
    }
}

/// SQLite's SUBSTR with 1-based (or negative, from the end) start.
fn substr(s: &[char], start: i64, len: Option<i64>) -> String {
    let n = s.len() as i64;
    let mut begin = if start > 0 {
        start - 1
    } else if start < 0 {
        n + start
    } else {
        -1
    };
    let mut count = match len {
        Some(l) => l,
        None => n - begin.max(0),
    };
    if len.is_none() && start == 0 {
        count = n;
        begin = 0;
    } else if start == 0 {
        count -= 1;
        begin = 0;
    }
    if count < 0 {
        begin += count;
        count = -count;
    }
    if begin < 0 {
        count += begin;
        begin = 0;
    }
    let end = (begin + count.max(0)).min(n);
    if begin >= n || end <= begin {
        return String::new();
    }
    s[begin as usize..end as usize].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(s: &str, a: i64, b: Option<i64>) -> String {
        substr(&s.chars().collect::<Vec<_>>(), a, b)
    }

    #[test]
    fn substr_matches_sqlite() {
        assert_eq!(sub("hello", 2, Some(3)), "ell");
        assert_eq!(sub("hello", 2, None), "ello");
        assert_eq!(sub("hello", -3, None), "llo");
        assert_eq!(sub("hello", -3, Some(2)), "ll");
        assert_eq!(sub("hello", 0, Some(2)), "h");
        assert_eq!(sub("hello", 10, Some(2)), "");
    }
}
