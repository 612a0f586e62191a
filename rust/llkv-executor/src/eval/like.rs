//! LIKE (with `%`, `_`, optional ESCAPE; ASCII case folding when asked) and
//! GLOB (`*`, `?`, `[...]`) pattern matching.

use arrow_array::{Array, ArrayRef, BooleanArray};
use llkv_plan::Result;

use crate::scalar::{value_at, value_to_text};

/// Matches each row of `text` against the pattern in the same row.
pub fn evaluate_like(
    text: &ArrayRef,
    pattern: &ArrayRef,
    escape: Option<char>,
    case_insensitive: bool,
    glob: bool,
) -> Result<BooleanArray> {
    let out: BooleanArray = (0..text.len())
        .map(|i| {
            let t = value_to_text(&value_at(text.as_ref(), i))?;
            let p = value_to_text(&value_at(pattern.as_ref(), i))?;
            let t: Vec<char> = t.chars().collect();
            let p: Vec<char> = p.chars().collect();
            Some(if glob {
                glob_match(&p, &t)
            } else {
                like_match(&p, &t, escape, case_insensitive)
            })
        })
        .collect();
    Ok(out)
}

fn fold(c: char, ci: bool) -> char {
    if ci {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

/// LIKE matching by backtracking over `%`.
pub fn like_match(p: &[char], t: &[char], escape: Option<char>, ci: bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            let c = p[pi];
            if Some(c) == escape && pi + 1 < p.len() {
                if fold(p[pi + 1], ci) == fold(t[ti], ci) {
                    pi += 2;
                    ti += 1;
                    continue;
                }
            } else if c == '%' {
                star = Some((pi, ti));
                pi += 1;
                continue;
            } else if c == '_' || fold(c, ci) == fold(t[ti], ci) {
                pi += 1;
                ti += 1;
                continue;
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

/// GLOB matching (case sensitive).
pub fn glob_match(p: &[char], t: &[char]) -> bool {
    if p.is_empty() {
        return t.is_empty();
    }
    match p[0] {
        '*' => (0..=t.len()).any(|k| glob_match(&p[1..], &t[k..])),
        '?' => !t.is_empty() && glob_match(&p[1..], &t[1..]),
        '[' => {
            if t.is_empty() {
                return false;
            }
            let mut i = 1;
            let negate = i < p.len() && p[i] == '^';
            if negate {
                i += 1;
            }
            let mut matched = false;
            let mut first = true;
            while i < p.len() && (first || p[i] != ']') {
                first = false;
                if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
                    if p[i] <= t[0] && t[0] <= p[i + 2] {
                        matched = true;
                    }
                    i += 3;
                } else {
                    if p[i] == t[0] {
                        matched = true;
                    }
                    i += 1;
                }
            }
            if i >= p.len() {
                return false;
            }
            matched != negate && glob_match(&p[i + 1..], &t[1..])
        }
        c => !t.is_empty() && t[0] == c && glob_match(&p[1..], &t[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(p: &str, t: &str) -> bool {
        let p: Vec<char> = p.chars().collect();
        let t: Vec<char> = t.chars().collect();
        like_match(&p, &t, None, true)
    }

    #[test]
    fn like_wildcards() {
        assert!(like("a%", "abc"));
        assert!(like("%c", "abc"));
        assert!(like("a_c", "ABC"));
        assert!(!like("a_c", "abbc"));
        assert!(like("%", ""));
        assert!(like("%b%", "abc"));
        assert!(!like("b%", "abc"));
    }

    #[test]
    fn glob_classes() {
        let g = |p: &str, t: &str| {
            glob_match(
                &p.chars().collect::<Vec<_>>(),
                &t.chars().collect::<Vec<_>>(),
            )
        };
        assert!(g("a*", "abc"));
        assert!(!g("A*", "abc"));
        assert!(g("[a-c]?", "bz"));
        assert!(g("[^a-c]?", "dz"));
    }
}
