//! Date and time functions over DATE and TIMESTAMP values (and text that
//! spells one).

use llkv_plan::temporal::{self, DateField, MICROS_PER_DAY};
use llkv_plan::{Error, Result, ScalarFunction, Value};

use crate::scalar::{value_to_text, value_to_timestamp};

/// The timestamp an argument stands for; `None` for NULL, an error for a
/// value that is not a date or time.
fn micros(v: &Value) -> Result<Option<i64>> {
    match v {
        Value::Null => Ok(None),
        Value::Date(_) | Value::Timestamp(_) | Value::Text(_) => value_to_timestamp(v)
            .map(Some)
            .ok_or_else(|| Error::data(format!("not a date or timestamp: {v}"))),
        other => Err(Error::data(format!("not a date or timestamp: {other}"))),
    }
}

/// Microseconds since the epoch, now.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Evaluates one of the date/time functions on one row's arguments.
pub fn apply(func: ScalarFunction, args: &[Value]) -> Result<Value> {
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
    Ok(match func {
        ScalarFunction::CurrentDate => Value::Date(now().div_euclid(MICROS_PER_DAY) as i32),
        ScalarFunction::CurrentTimestamp => Value::Timestamp(now()),
        ScalarFunction::DatePart(field) => match micros(&arg(0))? {
            None => Value::Null,
            Some(t) => {
                let x = temporal::extract(field, t);
                if field == DateField::Epoch {
                    Value::Real(x)
                } else {
                    Value::Integer(x.trunc() as i64)
                }
            }
        },
        // A TIMESTAMP for dates too, as in PostgreSQL and DuckDB.
        ScalarFunction::DateTrunc(field) => {
            match micros(&arg(0))? {
                None => Value::Null,
                Some(t) => Value::Timestamp(temporal::truncate(field, t).ok_or_else(|| {
                    Error::data(format!("date_trunc cannot truncate to {field:?}"))
                })?),
            }
        }
        ScalarFunction::Strftime => match (micros(&arg(0))?, value_to_text(&arg(1))) {
            (Some(t), Some(format)) => Value::from(temporal::strftime(&format, t)),
            _ => Value::Null,
        },
        ScalarFunction::AddInterval(interval) => match micros(&arg(0))? {
            None => Value::Null,
            Some(t) => Value::Timestamp(
                llkv_plan::interval::add_to_timestamp(t, interval).ok_or_else(|| {
                    Error::data("timestamp out of range after adding an interval")
                })?,
            ),
        },
        other => return Err(Error::internal(format!("{other:?} is not a date function"))),
    })
}
