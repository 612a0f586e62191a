//! String functions with PostgreSQL/DuckDB semantics: padding, splitting,
//! prefixes, code points and regular expressions. Any NULL argument gives
//! NULL, except the values CONCAT_WS skips.

use std::cell::RefCell;
use std::collections::HashMap;

use llkv_plan::{Error, Result, ScalarFunction, Value};
use regex::{Regex, RegexBuilder};

use crate::scalar::{value_to_i64, value_to_text};

/// The longest string REPEAT/LPAD/RPAD may build (1 GiB), so a typo in a
/// count becomes an error rather than an out-of-memory abort.
const MAX_STRING_BYTES: usize = 1 << 30;

/// Applies a string function to one row's argument values.
pub(super) fn apply(func: ScalarFunction, args: &[Value]) -> Result<Value> {
    use ScalarFunction as F;
    if func == F::ConcatWs {
        return Ok(concat_ws(args));
    }
    let (min, max) = match func {
        F::Reverse | F::Ascii | F::Chr => (1, 1),
        F::LPad | F::RPad => (2, 3),
        F::RegexpMatches | F::RegexpExtract => (2, 3),
        F::RegexpReplace => (3, 4),
        F::SplitPart => (3, 3),
        _ => (2, 2),
    };
    if args.len() < min || args.len() > max {
        return Err(Error::programming(format!(
            "wrong number of arguments to function {func:?}"
        )));
    }
    if args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    let text = |i: usize| value_to_text(&args[i]).unwrap_or_default();
    let int = |i: usize| {
        value_to_i64(&args[i])
            .ok_or_else(|| Error::data(format!("{func:?}: argument {} must be an integer", i + 1)))
    };
    Ok(match func {
        F::Left | F::Right => {
            let s: Vec<char> = text(0).chars().collect();
            let n = int(1)?;
            let len = s.len() as i64;
            let keep = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
            let part = if func == F::Left {
                &s[..keep]
            } else {
                &s[s.len() - keep..]
            };
            Value::from(part.iter().collect::<String>())
        }
        F::LPad | F::RPad => {
            let fill = if args.len() == 3 {
                text(2)
            } else {
                " ".to_string()
            };
            Value::from(pad(&text(0), int(1)?, &fill, func == F::LPad)?)
        }
        F::Reverse => Value::from(text(0).chars().rev().collect::<String>()),
        F::Repeat => {
            let s = text(0);
            let n = int(1)?.max(0) as usize;
            if s.len().saturating_mul(n) > MAX_STRING_BYTES {
                return Err(Error::data("repeat(): result is too large"));
            }
            Value::from(s.repeat(n))
        }
        F::SplitPart => {
            let s = text(0);
            let delimiter = text(1);
            let n = int(2)?;
            if n == 0 {
                return Err(Error::data("split_part(): field position must not be zero"));
            }
            let fields: Vec<&str> = if delimiter.is_empty() {
                vec![s.as_str()]
            } else {
                s.split(delimiter.as_str()).collect()
            };
            let index = if n > 0 {
                n - 1
            } else {
                fields.len() as i64 + n
            };
            let field = usize::try_from(index)
                .ok()
                .and_then(|i| fields.get(i))
                .copied()
                .unwrap_or("");
            Value::from(field)
        }
        F::StartsWith => Value::Boolean(text(0).starts_with(text(1).as_str())),
        F::EndsWith => Value::Boolean(text(0).ends_with(text(1).as_str())),
        F::Ascii => Value::Integer(text(0).chars().next().map_or(0, |c| c as i64)),
        F::Chr => {
            let code = int(0)?;
            let c = u32::try_from(code)
                .ok()
                .and_then(char::from_u32)
                .filter(|c| *c != '\0')
                .ok_or_else(|| Error::data(format!("chr(): invalid code point {code}")))?;
            Value::from(c.to_string())
        }
        F::RegexpMatches => {
            let options = if args.len() == 3 {
                text(2)
            } else {
                String::new()
            };
            with_regex(&text(1), &options, |re| {
                Ok(Value::Boolean(re.is_match(&text(0))))
            })?
        }
        F::RegexpReplace => {
            let options = if args.len() == 4 {
                text(3)
            } else {
                String::new()
            };
            let replacement = replacement_template(&text(2));
            let global = options.contains('g');
            with_regex(&text(1), &options, |re| {
                let s = text(0);
                let out = if global {
                    re.replace_all(&s, replacement.as_str())
                } else {
                    re.replace(&s, replacement.as_str())
                };
                Ok(Value::from(out.into_owned()))
            })?
        }
        F::RegexpExtract => {
            let group = if args.len() == 3 { int(2)? } else { 0 };
            with_regex(&text(1), "", |re| {
                let s = text(0);
                let Some(caps) = re.captures(&s) else {
                    return Ok(Value::from(""));
                };
                let group = usize::try_from(group)
                    .ok()
                    .filter(|g| *g < caps.len())
                    .ok_or_else(|| {
                        Error::data(format!("regexp_extract(): no capture group {group}"))
                    })?;
                Ok(Value::from(caps.get(group).map_or("", |m| m.as_str())))
            })?
        }
        other => return Err(Error::internal(format!("{other:?} is no string function"))),
    })
}

/// `CONCAT_WS`: NULL when the separator is NULL; NULL values are skipped.
fn concat_ws(args: &[Value]) -> Value {
    let Some(sep) = args.first().and_then(value_to_text) else {
        return Value::Null;
    };
    let parts: Vec<String> = args[1..].iter().filter_map(value_to_text).collect();
    Value::from(parts.join(&sep))
}

/// Pads `s` on the left or right with `fill` to `len` characters, or cuts
/// it to `len` when it is longer (as PostgreSQL does).
fn pad(s: &str, len: i64, fill: &str, left: bool) -> Result<String> {
    let len = len.max(0) as usize;
    if len.saturating_mul(4) > MAX_STRING_BYTES {
        return Err(Error::data("pad(): result is too large"));
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.len() >= len || fill.is_empty() {
        return Ok(chars.iter().take(len).collect());
    }
    let padding: String = fill.chars().cycle().take(len - chars.len()).collect();
    Ok(if left {
        padding + s
    } else {
        s.to_string() + &padding
    })
}

/// Turns a PostgreSQL replacement (`\1` a group, `\&` the match, `\\` a
/// backslash) into the `regex` crate's template syntax.
fn replacement_template(replacement: &str) -> String {
    let mut out = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d @ '0'..='9') => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('&') => {
                    chars.next();
                    out.push_str("${0}");
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

thread_local! {
    /// Compiled patterns by (pattern, options): a column is usually matched
    /// against one constant pattern, compiled once per thread.
    static REGEX_CACHE: RefCell<HashMap<(String, String), Regex>> = RefCell::new(HashMap::new());
}

/// Runs `f` with the compiled `pattern`; options `i` (case-insensitive),
/// `c` (case-sensitive), `s` (dot matches newline), `m`/`n` (multi-line)
/// and `g` (global, read by the caller).
fn with_regex<T>(pattern: &str, options: &str, f: impl FnOnce(&Regex) -> Result<T>) -> Result<T> {
    let key = (pattern.to_string(), options.to_string());
    let cached = REGEX_CACHE.with(|c| c.borrow().get(&key).cloned());
    let re = match cached {
        Some(re) => re,
        None => {
            let mut builder = RegexBuilder::new(pattern);
            for o in options.chars() {
                match o {
                    'i' => builder.case_insensitive(true),
                    'c' => builder.case_insensitive(false),
                    's' => builder.dot_matches_new_line(true),
                    'm' | 'n' => builder.multi_line(true),
                    'g' => &mut builder,
                    other => {
                        return Err(Error::data(format!(
                            "unknown regular expression option '{other}'"
                        )))
                    }
                };
            }
            let re = builder
                .size_limit(1 << 24)
                .build()
                .map_err(|e| Error::data(format!("invalid regular expression '{pattern}': {e}")))?;
            REGEX_CACHE.with(|c| {
                let mut cache = c.borrow_mut();
                if cache.len() >= 64 {
                    cache.clear();
                }
                cache.insert(key, re.clone());
            });
            re
        }
    };
    f(&re)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(func: ScalarFunction, args: &[Value]) -> Value {
        apply(func, args).unwrap()
    }

    #[test]
    fn padding_cuts_long_strings() {
        assert_eq!(pad("abc", 5, "xy", true).unwrap(), "xyabc");
        assert_eq!(pad("abc", 5, "xy", false).unwrap(), "abcxy");
        assert_eq!(pad("abcdef", 3, "x", true).unwrap(), "abc");
        assert_eq!(pad("abc", -1, "x", true).unwrap(), "");
    }

    #[test]
    fn split_part_counts_from_either_end() {
        let f = |n: i64| {
            call(
                ScalarFunction::SplitPart,
                &["a,b,c".into(), ",".into(), n.into()],
            )
        };
        assert_eq!(f(2), Value::from("b"));
        assert_eq!(f(-1), Value::from("c"));
        assert_eq!(f(4), Value::from(""));
        assert!(apply(
            ScalarFunction::SplitPart,
            &["a".into(), ",".into(), 0.into()]
        )
        .is_err());
    }

    #[test]
    fn replacement_groups_use_backslashes() {
        assert_eq!(replacement_template(r"\1-$\\"), "${1}-$$\\");
        let v = call(
            ScalarFunction::RegexpReplace,
            &[
                "a1b22".into(),
                "([0-9]+)".into(),
                r"<\1>".into(),
                "g".into(),
            ],
        );
        assert_eq!(v, Value::from("a<1>b<22>"));
    }

    #[test]
    fn bad_patterns_are_data_errors() {
        let e = apply(ScalarFunction::RegexpMatches, &["a".into(), "(".into()]).unwrap_err();
        assert_eq!(e.kind, llkv_plan::ErrorKind::Data);
    }
}
