//! `EXCLUDE ...` in window frames, which sqlparser does not parse: before
//! parsing, `EXCLUDE CURRENT ROW | GROUP | TIES | NO OTHERS` right before a
//! window specification's closing parenthesis is removed from the tokens
//! and folded into the specification's window name (see
//! `binder::window::EXCLUDE_MARKER`), which the binder splits again.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Span, Token, TokenWithSpan, Word};

use crate::binder::window::EXCLUDE_MARKER;

/// Keywords that start a window specification's body (a word before them
/// is the name of the window it starts from).
const SPEC_KEYWORDS: [Keyword; 5] = [
    Keyword::PARTITION,
    Keyword::ORDER,
    Keyword::ROWS,
    Keyword::RANGE,
    Keyword::GROUPS,
];

fn keyword(t: &Token) -> Option<Keyword> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    }
}

/// An unquoted word, upper-cased.
fn bare_word(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// Index of the next token at or after `i` that is not whitespace.
fn next_solid(tokens: &[TokenWithSpan], mut i: usize) -> usize {
    while i < tokens.len() && matches!(tokens[i].token, Token::Whitespace(_)) {
        i += 1;
    }
    i
}

/// The EXCLUDE clause starting at `i` (the EXCLUDE keyword): its kind and
/// the index of the `)` that follows it.
fn exclude_clause(tokens: &[TokenWithSpan], i: usize) -> Option<(&'static str, usize)> {
    let a = next_solid(tokens, i + 1);
    let first = bare_word(&tokens.get(a)?.token)?;
    let (kind, last) = match first.as_str() {
        "GROUP" => ("group", a),
        "TIES" => ("ties", a),
        "CURRENT" | "NO" => {
            let b = next_solid(tokens, a + 1);
            let second = bare_word(&tokens.get(b)?.token)?;
            match (first.as_str(), second.as_str()) {
                ("CURRENT", "ROW") => ("current_row", b),
                ("NO", "OTHERS") => ("no_others", b),
                _ => return None,
            }
        }
        _ => return None,
    };
    let close = next_solid(tokens, last + 1);
    (tokens.get(close)?.token == Token::RParen).then_some((kind, close))
}

/// Rewrites the EXCLUDE clauses of window frames (see the module docs).
pub(crate) fn fold_frame_excludes(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    if !tokens
        .iter()
        .any(|t| keyword(&t.token) == Some(Keyword::EXCLUDE))
    {
        return tokens;
    }
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len() + 2);
    // Open parentheses: position in `out`, and whether they open a window
    // specification.
    let mut open: Vec<(usize, bool)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        match &t.token {
            Token::LParen => open.push((out.len(), opens_window_spec(&tokens, i, &out))),
            Token::RParen => {
                open.pop();
            }
            _ => {}
        }
        if keyword(&t.token) == Some(Keyword::EXCLUDE) {
            if let (Some((kind, close)), Some(&(paren, true))) =
                (exclude_clause(&tokens, i), open.last())
            {
                name_window(&mut out, paren, kind);
                i = close;
                continue;
            }
        }
        out.push(t.clone());
        i += 1;
    }
    out
}

/// Whether the `(` at `tokens[i]` opens a window specification: it follows
/// OVER, or it follows AS (a WINDOW clause entry) and starts like one
/// (PARTITION/ORDER/ROWS/RANGE/GROUPS, possibly after a base window name).
fn opens_window_spec(tokens: &[TokenWithSpan], i: usize, out: &[TokenWithSpan]) -> bool {
    let before = out
        .iter()
        .rev()
        .find(|t| !matches!(t.token, Token::Whitespace(_)))
        .and_then(|t| keyword(&t.token));
    match before {
        Some(Keyword::OVER) => true,
        Some(Keyword::AS) => {
            let first = next_solid(tokens, i + 1);
            let starts = |j: usize| {
                tokens
                    .get(j)
                    .and_then(|t| keyword(&t.token))
                    .is_some_and(|k| SPEC_KEYWORDS.contains(&k) || k == Keyword::EXCLUDE)
            };
            let name = matches!(
                tokens.get(first).map(|t| &t.token),
                Some(Token::Word(w)) if w.keyword == Keyword::NoKeyword || w.quote_style.is_some()
            );
            starts(first) || (name && starts(next_solid(tokens, first + 1)))
        }
        _ => false,
    }
}

/// Adds the EXCLUDE marker to the window name after the `(` at `paren`,
/// inserting a name when there is none.
fn name_window(out: &mut Vec<TokenWithSpan>, paren: usize, kind: &str) {
    let at = next_solid(out, paren + 1);
    let marker = format!("{EXCLUDE_MARKER}{kind}");
    if let Some(Token::Word(w)) = out.get_mut(at).map(|t| &mut t.token) {
        if !(w.quote_style.is_none() && SPEC_KEYWORDS.contains(&w.keyword)) {
            w.value.push_str(&marker);
            w.quote_style = Some('"');
            w.keyword = Keyword::NoKeyword;
            return;
        }
    }
    let word = Token::Word(Word {
        value: marker,
        quote_style: Some('"'),
        keyword: Keyword::NoKeyword,
    });
    out.insert(paren + 1, TokenWithSpan::new(word, Span::empty()));
    out.insert(
        paren + 2,
        TokenWithSpan::new(
            Token::Whitespace(sqlparser::tokenizer::Whitespace::Space),
            Span::empty(),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::tokenizer::Tokenizer;

    fn fold(sql: &str) -> String {
        let dialect = sqlparser::dialect::GenericDialect {};
        let tokens = Tokenizer::new(&dialect, sql)
            .tokenize_with_location()
            .unwrap();
        fold_frame_excludes(tokens)
            .iter()
            .map(|t| t.token.to_string())
            .collect()
    }

    #[test]
    fn exclude_moves_into_the_window_name() {
        assert_eq!(
            fold("sum(x) OVER (ORDER BY x ROWS 1 PRECEDING EXCLUDE CURRENT ROW)"),
            "sum(x) OVER (\"__llkv_exclude_current_row\" ORDER BY x ROWS 1 PRECEDING )"
        );
        assert_eq!(
            fold("OVER (w EXCLUDE TIES)"),
            "OVER (\"w__llkv_exclude_ties\" )"
        );
        assert_eq!(
            fold("WINDOW w AS (ORDER BY x EXCLUDE GROUP)"),
            "WINDOW w AS (\"__llkv_exclude_group\" ORDER BY x )"
        );
        // Not a frame: DuckDB's SELECT * EXCLUDE (col) is left alone, and so
        // are a column named exclude and a select of one.
        for sql in [
            "SELECT * EXCLUDE (a) FROM t",
            "CREATE TABLE t(a INTEGER, exclude ties)",
            "SELECT (SELECT exclude ties) FROM s",
            "WITH c AS (SELECT exclude group) SELECT 1",
        ] {
            assert_eq!(fold(sql), sql);
        }
    }
}
