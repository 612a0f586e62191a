//! Math functions over REAL with PostgreSQL/DuckDB semantics: a logarithm
//! of zero or a negative number, or an argument outside a function's
//! domain, is a data error rather than a silent NULL.

use std::cell::Cell;

use llkv_plan::{Error, MathFunction, Result, ScalarFunction, Value};

use crate::scalar::{value_to_f64, value_to_i64};

/// Applies a math function to one row's argument values.
pub(super) fn apply(func: ScalarFunction, args: &[Value]) -> Result<Value> {
    use ScalarFunction as F;
    let (min, max) = match func {
        F::Pi | F::Random => (0, 0),
        F::Log | F::Trunc => (1, 2),
        F::Atan2 => (2, 2),
        _ => (1, 1),
    };
    if args.len() < min || args.len() > max {
        return Err(Error::programming(format!(
            "wrong number of arguments to function {func:?}"
        )));
    }
    match func {
        F::Pi => return Ok(Value::Real(std::f64::consts::PI)),
        F::Random => return Ok(Value::Real(next_random())),
        _ => {}
    }
    if args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    let real = |i: usize| {
        value_to_f64(&args[i])
            .ok_or_else(|| Error::data(format!("{func:?}: argument is not a number")))
    };
    Ok(match func {
        F::Math(m) => Value::Real(unary(m, real(0)?)?),
        F::Log => {
            if args.len() == 1 {
                Value::Real(logarithm(real(0)?, f64::log10)?)
            } else {
                let base = logarithm(real(0)?, f64::ln)?;
                if base == 0.0 {
                    return Err(Error::data("log(): base must not be 1"));
                }
                Value::Real(logarithm(real(1)?, f64::ln)? / base)
            }
        }
        F::Atan2 => Value::Real(real(0)?.atan2(real(1)?)),
        F::Trunc => {
            let digits = match args.get(1) {
                Some(d) => value_to_i64(d).unwrap_or(0).clamp(-30, 30) as i32,
                None => 0,
            };
            match &args[0] {
                Value::Integer(i) if digits >= 0 => Value::Integer(*i),
                Value::Boolean(b) if digits >= 0 => Value::Integer(*b as i64),
                Value::Integer(i) => {
                    let m = 10i64.checked_pow((-digits) as u32).unwrap_or(i64::MAX);
                    Value::Integer(i / m * m)
                }
                _ => {
                    let m = 10f64.powi(digits);
                    Value::Real((real(0)? * m).trunc() / m)
                }
            }
        }
        other => return Err(Error::internal(format!("{other:?} is no math function"))),
    })
}

fn logarithm(x: f64, log: fn(f64) -> f64) -> Result<f64> {
    if x == 0.0 {
        Err(Error::data("cannot take logarithm of zero"))
    } else if x < 0.0 {
        Err(Error::data("cannot take logarithm of a negative number"))
    } else {
        Ok(log(x))
    }
}

fn unary(m: MathFunction, x: f64) -> Result<f64> {
    use MathFunction as M;
    let inverse_trig = |f: fn(f64) -> f64, name: &str| {
        if (-1.0..=1.0).contains(&x) {
            Ok(f(x))
        } else {
            Err(Error::data(format!(
                "{name}(): input {x} is out of range [-1, 1]"
            )))
        }
    };
    Ok(match m {
        M::Exp => x.exp(),
        M::Ln => logarithm(x, f64::ln)?,
        M::Log10 => logarithm(x, f64::log10)?,
        M::Log2 => logarithm(x, f64::log2)?,
        M::Cbrt => x.cbrt(),
        M::Sin => x.sin(),
        M::Cos => x.cos(),
        M::Tan => x.tan(),
        M::Asin => inverse_trig(f64::asin, "asin")?,
        M::Acos => inverse_trig(f64::acos, "acos")?,
        M::Atan => x.atan(),
        M::Cot => 1.0 / x.tan(),
        M::Degrees => x.to_degrees(),
        M::Radians => x.to_radians(),
    })
}

thread_local! {
    /// xorshift64* state, seeded from the clock and the thread.
    static RANDOM_STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let local = 0u8;
    // The address of a stack slot differs between threads.
    (nanos ^ (&local as *const u8 as u64).rotate_left(32)) | 1
}

/// A uniformly distributed REAL in [0, 1) (not for cryptography).
fn next_random() -> f64 {
    RANDOM_STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logarithms_refuse_non_positive_input() {
        let ln = |x: f64| apply(ScalarFunction::Math(MathFunction::Ln), &[Value::Real(x)]);
        assert_eq!(ln(1.0).unwrap(), Value::Real(0.0));
        assert!(ln(0.0).is_err());
        assert!(ln(-1.0).is_err());
        let log = apply(ScalarFunction::Log, &[Value::Integer(2), Value::Integer(8)]).unwrap();
        assert!(matches!(log, Value::Real(x) if (x - 3.0).abs() < 1e-12));
        assert!(apply(ScalarFunction::Log, &[Value::Integer(1), Value::Integer(8)]).is_err());
    }

    #[test]
    fn trunc_rounds_toward_zero() {
        let t = |x: Value, d: i64| apply(ScalarFunction::Trunc, &[x, Value::Integer(d)]).unwrap();
        assert_eq!(t(Value::Real(-2.57), 1), Value::Real(-2.5));
        assert_eq!(t(Value::Integer(1234), -2), Value::Integer(1200));
    }

    #[test]
    fn random_stays_in_the_unit_interval() {
        let values: Vec<f64> = (0..1000).map(|_| next_random()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let distinct: std::collections::HashSet<u64> = values.iter().map(|v| v.to_bits()).collect();
        assert!(distinct.len() > 990);
    }
}
