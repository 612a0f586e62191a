//! DuckDB's `JOIN BY (TYPE <kind>)`, which names one of its internal join
//! kinds and which sqlparser does not parse. Before parsing, the tokens
//! `JOIN BY ( TYPE kind )` are replaced:
//!
//! - by the standard join keywords for the kinds SQL can spell (`inner`,
//!   `left`, `right`, `full`/`outer`, `semi`, `anti`);
//! - for `mark` and `single`, by a plain `JOIN` whose right side is wrapped
//!   as `( right CROSS JOIN "__llkv_join_mark" )` (or `..._single`): the
//!   binder recognises the marker table (see [`marked_join`]), binds the
//!   right side without it and the join with that kind. (An alias on the
//!   parentheses would not do: sqlparser moves it onto a lone table.) The
//!   rewritten statement prints as SQL that parses back to the same tree,
//!   so a view over such a join keeps its meaning.
//!
//! A kind name may carry a `_join` suffix and is case-insensitive; any
//! other name is a syntax error. No word becomes reserved: `JOIN BY` is the
//! only trigger, and it is not otherwise valid SQL.

use sqlparser::ast;
use sqlparser::keywords::Keyword;
use sqlparser::parser::ParserError;
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace, Word};

/// Alias prefix of a wrapped right side: the kind follows it.
const MARKER: &str = "__llkv_join_";

/// The join kinds only `JOIN BY` can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkedJoin {
    /// The left rows, each with the three-valued answer to "does a right
    /// row match" in a column `__mark_join_marker`.
    Mark,
    /// A left outer join in which a left row may match at most one right
    /// row.
    Single,
}

/// The kind a wrapped right side asks for, and the right side without
/// the marker.
pub(crate) fn marked_join(f: &ast::TableFactor) -> Option<(MarkedJoin, ast::TableWithJoins)> {
    let ast::TableFactor::NestedJoin {
        table_with_joins,
        alias: None,
    } = f
    else {
        return None;
    };
    let (last, rest) = table_with_joins.joins.split_last()?;
    let ast::TableFactor::Table {
        name, alias: None, ..
    } = &last.relation
    else {
        return None;
    };
    let [ast::ObjectNamePart::Identifier(id)] = name.0.as_slice() else {
        return None;
    };
    let kind = match id.value.strip_prefix(MARKER)? {
        "mark" => MarkedJoin::Mark,
        "single" => MarkedJoin::Single,
        _ => return None,
    };
    let right = ast::TableWithJoins {
        relation: table_with_joins.relation.clone(),
        joins: rest.to_vec(),
    };
    Some((kind, right))
}

/// Rewrites every `JOIN BY ( TYPE kind )` (see the module docs).
pub(crate) fn rewrite_join_by(
    tokens: Vec<TokenWithSpan>,
) -> Result<Vec<TokenWithSpan>, ParserError> {
    if !tokens
        .iter()
        .any(|t| keyword(&t.token) == Some(Keyword::JOIN))
    {
        return Ok(tokens);
    }
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len() + 8);
    let mut i = 0;
    while i < tokens.len() {
        let Some((kind, after)) = join_by_clause(&tokens, i)? else {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        };
        let span = tokens[i].span;
        let word = |k: Keyword, text: &str| {
            TokenWithSpan::new(
                Token::Word(Word {
                    value: text.to_owned(),
                    quote_style: None,
                    keyword: k,
                }),
                span,
            )
        };
        let space = || TokenWithSpan::new(Token::Whitespace(Whitespace::Space), span);
        let keywords: &[(Keyword, &str)] = match kind.as_str() {
            "inner" => &[(Keyword::JOIN, "JOIN")],
            "left" => &[(Keyword::LEFT, "LEFT"), (Keyword::JOIN, "JOIN")],
            "right" => &[(Keyword::RIGHT, "RIGHT"), (Keyword::JOIN, "JOIN")],
            "full" | "outer" => &[(Keyword::FULL, "FULL"), (Keyword::JOIN, "JOIN")],
            "semi" => &[(Keyword::SEMI, "SEMI"), (Keyword::JOIN, "JOIN")],
            "anti" => &[(Keyword::ANTI, "ANTI"), (Keyword::JOIN, "JOIN")],
            "right_semi" => &[
                (Keyword::RIGHT, "RIGHT"),
                (Keyword::SEMI, "SEMI"),
                (Keyword::JOIN, "JOIN"),
            ],
            "right_anti" => &[
                (Keyword::RIGHT, "RIGHT"),
                (Keyword::ANTI, "ANTI"),
                (Keyword::JOIN, "JOIN"),
            ],
            "mark" | "single" => {
                // JOIN ( right CROSS JOIN "__llkv_join_<kind>" )
                let end = right_side_end(&tokens, after);
                out.extend([word(Keyword::JOIN, "JOIN"), space()]);
                out.push(TokenWithSpan::new(Token::LParen, span));
                out.extend(tokens[after..end].iter().cloned());
                out.extend([space(), word(Keyword::CROSS, "CROSS"), space()]);
                out.extend([word(Keyword::JOIN, "JOIN"), space()]);
                out.push(TokenWithSpan::new(
                    Token::Word(Word {
                        value: format!("{MARKER}{kind}"),
                        quote_style: Some('"'),
                        keyword: Keyword::NoKeyword,
                    }),
                    span,
                ));
                out.push(TokenWithSpan::new(Token::RParen, span));
                out.push(space());
                i = end;
                continue;
            }
            other => {
                return Err(ParserError::ParserError(format!(
                    "unknown join type {other:?} in JOIN BY (TYPE ...): expected inner, \
                     left, right, full, outer, semi, anti, right_semi, right_anti, mark \
                     or single"
                )))
            }
        };
        for (k, text) in keywords {
            out.extend([word(*k, text), space()]);
        }
        i = after;
    }
    Ok(out)
}

/// The `JOIN BY ( TYPE kind )` clause starting at `tokens[i]`: the kind
/// (lower case, without a `_join` suffix) and the index after the `)`.
/// None when `tokens[i]` does not start `JOIN BY`; an error when `JOIN BY`
/// is not followed by `( TYPE word )`.
fn join_by_clause(
    tokens: &[TokenWithSpan],
    i: usize,
) -> Result<Option<(String, usize)>, ParserError> {
    if keyword(&tokens[i].token) != Some(Keyword::JOIN) {
        return Ok(None);
    }
    let by = next_solid(tokens, i + 1);
    if tokens.get(by).and_then(|t| keyword(&t.token)) != Some(Keyword::BY) {
        return Ok(None);
    }
    let malformed = || ParserError::ParserError("expected JOIN BY (TYPE <join type>)".to_owned());
    let open = next_solid(tokens, by + 1);
    let ty = next_solid(tokens, open + 1);
    let name = next_solid(tokens, ty + 1);
    let close = next_solid(tokens, name + 1);
    let token = |j: usize| tokens.get(j).map(|t| &t.token);
    if token(open) != Some(&Token::LParen)
        || tokens.get(ty).and_then(|t| keyword(&t.token)) != Some(Keyword::TYPE)
        || token(close) != Some(&Token::RParen)
    {
        return Err(malformed());
    }
    let Some(Token::Word(w)) = token(name) else {
        return Err(malformed());
    };
    let lower = w.value.to_ascii_lowercase();
    let kind = lower.strip_suffix("_join").unwrap_or(&lower).to_owned();
    Ok(Some((kind, close + 1)))
}

/// Index just past the right side of a join that starts at `start`: the
/// first token at the same parenthesis depth that ends a table factor (ON,
/// USING, a clause or join keyword, a comma, a closing parenthesis or the
/// end of the statement).
fn right_side_end(tokens: &[TokenWithSpan], start: usize) -> usize {
    const ENDS: &[Keyword] = &[
        Keyword::ON,
        Keyword::USING,
        Keyword::WHERE,
        Keyword::GROUP,
        Keyword::HAVING,
        Keyword::WINDOW,
        Keyword::QUALIFY,
        Keyword::ORDER,
        Keyword::LIMIT,
        Keyword::OFFSET,
        Keyword::FETCH,
        Keyword::UNION,
        Keyword::EXCEPT,
        Keyword::INTERSECT,
        Keyword::JOIN,
        Keyword::INNER,
        Keyword::LEFT,
        Keyword::RIGHT,
        Keyword::FULL,
        Keyword::CROSS,
        Keyword::NATURAL,
        Keyword::SEMI,
        Keyword::ANTI,
        Keyword::ASOF,
    ];
    let mut depth = 0usize;
    let mut end = start;
    for (j, t) in tokens.iter().enumerate().skip(start) {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen if depth == 0 => return end,
            Token::RParen => depth -= 1,
            Token::Comma | Token::SemiColon | Token::EOF if depth == 0 => return end,
            other if depth == 0 && keyword(other).is_some_and(|k| ENDS.contains(&k)) => return end,
            _ => {}
        }
        if !matches!(t.token, Token::Whitespace(_)) {
            end = j + 1;
        }
    }
    end
}

fn keyword(t: &Token) -> Option<Keyword> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
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

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::tokenizer::Tokenizer;

    fn rewrite(sql: &str) -> Result<String, ParserError> {
        let dialect = sqlparser::dialect::GenericDialect {};
        let tokens = Tokenizer::new(&dialect, sql)
            .tokenize_with_location()
            .unwrap();
        Ok(rewrite_join_by(tokens)?
            .iter()
            .map(|t| t.token.to_string())
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "))
    }

    #[test]
    fn spellable_kinds_become_join_keywords() {
        assert_eq!(
            rewrite("SELECT * FROM t1 JOIN BY (TYPE SeMi_Join) t2 ON a = b").unwrap(),
            "SELECT * FROM t1 SEMI JOIN t2 ON a = b"
        );
        assert_eq!(
            rewrite("FROM t1 join by ( type outer ) t2 USING (a)").unwrap(),
            "FROM t1 FULL JOIN t2 USING (a)"
        );
    }

    #[test]
    fn mark_and_single_wrap_the_right_side() {
        assert_eq!(
            rewrite("FROM t1 JOIN BY (TYPE mark) t2 AS x ON (a = b) WHERE 1").unwrap(),
            "FROM t1 JOIN ( t2 AS x CROSS JOIN \"__llkv_join_mark\") ON (a = b) WHERE 1"
        );
        assert_eq!(
            rewrite("(SELECT 1 FROM t1 JOIN BY (TYPE single) (SELECT b FROM t2 JOIN t3 ON c))")
                .unwrap(),
            "(SELECT 1 FROM t1 JOIN ( (SELECT b FROM t2 JOIN t3 ON c) CROSS JOIN \"__llkv_join_single\") )"
        );
    }

    #[test]
    fn other_text_is_untouched_and_bad_kinds_are_errors() {
        for sql in [
            "SELECT mark, single FROM mark",
            "SELECT * FROM t JOIN u ON t.a = u.b GROUP BY 1",
        ] {
            assert_eq!(rewrite(sql).unwrap(), sql);
        }
        assert!(rewrite("FROM t1 JOIN BY (TYPE bogus) t2 ON a = b").is_err());
        assert!(rewrite("FROM t1 JOIN BY (TYPE invalid) t2 ON a = b").is_err());
        assert!(rewrite("FROM t1 JOIN BY t2 ON a = b").is_err());
    }
}
