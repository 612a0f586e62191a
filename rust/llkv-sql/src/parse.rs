//! Parsing: SQL text into statements, with our grammar (sqlparser's generic
//! one, slightly changed: see `grammar.rs`) first and
//! SQLite's as a fallback, plus the few commands sqlparser has no node for.

use llkv_plan::{Error, Result};
use sqlparser::ast;
use sqlparser::parser::Parser;

use crate::grammar::LlkvGrammar;

/// Deepest expression nesting the parser accepts.
const PARSER_RECURSION_LIMIT: usize = 400;

/// One parsed statement: sqlparser's, or one of the few SQLite commands
/// sqlparser has no node for.
#[derive(Clone)]
pub(crate) enum Command {
    /// Any statement sqlparser knows.
    Sql(Box<ast::Statement>),
    /// `REINDEX [name]`: rebuild the indexes of a table, or one index.
    Reindex(Option<ast::ObjectName>),
    /// `PRAGMA name [= value]` (value as written: a word, number or string).
    Pragma {
        /// The setting.
        name: String,
        /// The new value, if one is given.
        value: Option<String>,
    },
}

/// Parses SQL text: the generic grammar first, then SQLite's (which accepts
/// forms such as `x IN ()`), then PostgreSQL's (`INSERT INTO t AS alias`).
pub(crate) fn parse_commands(sql: &str) -> Result<Vec<Command>> {
    crate::limits::check_sql_length(sql)?;
    let parse = |dialect: &dyn sqlparser::dialect::Dialect| {
        let tokens = sqlparser::tokenizer::Tokenizer::new(dialect, sql)
            .with_unescape(true)
            .tokenize_with_location()?;
        let mut parser = Parser::new(dialect)
            .with_recursion_limit(PARSER_RECURSION_LIMIT)
            .with_tokens_with_locations(crate::frame_exclude::fold_frame_excludes(
                crate::join_by::rewrite_join_by(tokens)?,
            ));
        parse_command_list(&mut parser)
    };
    let mut commands = match parse(&LlkvGrammar::default()) {
        Ok(s) => s,
        Err(first) => parse(&sqlparser::dialect::SQLiteDialect {})
            .or_else(|_| parse(&sqlparser::dialect::PostgreSqlDialect {}))
            .map_err(|_| Error::programming(format!("syntax error: {first}")))?,
    };
    // Anonymous `?`s take their numbers from their place in the text, not
    // from the order the binder happens to visit clauses in (it binds FROM
    // and WHERE before the select list, LIMIT first), and a clause bound
    // twice (a named window used by two calls) reads the same parameter.
    for c in &mut commands {
        if let Command::Sql(stmt) = c {
            crate::named_params::number_anonymous(stmt.as_mut(), 0);
        }
    }
    Ok(commands)
}

/// Parses SQL text that must hold only statements sqlparser knows.
pub(crate) fn parse_statements(sql: &str) -> Result<Vec<ast::Statement>> {
    parse_commands(sql)?
        .into_iter()
        .map(|c| match c {
            Command::Sql(s) => Ok(*s),
            Command::Reindex(_) | Command::Pragma { .. } => Err(Error::programming(
                "REINDEX and PRAGMA are not allowed here",
            )),
        })
        .collect()
}

/// `;`-separated commands, like sqlparser's own statement loop.
fn parse_command_list(
    p: &mut Parser<'_>,
) -> std::result::Result<Vec<Command>, sqlparser::parser::ParserError> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::Token;
    let mut out = Vec::new();
    loop {
        while p.consume_token(&Token::SemiColon) {}
        if p.peek_token_ref().token == Token::EOF {
            break;
        }
        if p.parse_keyword(Keyword::REINDEX) {
            let name = match p.peek_token_ref().token {
                Token::EOF | Token::SemiColon => None,
                _ => Some(p.parse_object_name(false)?),
            };
            out.push(Command::Reindex(name));
        } else if p.parse_keyword(Keyword::PRAGMA) {
            let name = p.parse_identifier()?.value;
            let value = if p.consume_token(&Token::Eq) || p.peek_token_ref().token == Token::LParen
            {
                Some(setting_value(p)?)
            } else {
                None
            };
            out.push(Command::Pragma { name, value });
        } else if is_create_recursive_view(p) {
            out.push(Command::Sql(Box::new(parse_recursive_view(p)?)));
        } else if is_set_memory_limit(p) {
            // `SET memory_limit = '1GB'` (DuckDB's form) is the PRAGMA.
            p.expect_keyword(Keyword::SET)?;
            let name = p.parse_identifier()?.value;
            if !p.consume_token(&Token::Eq) {
                p.expect_keyword(Keyword::TO)?;
            }
            let value = Some(setting_value(p)?);
            out.push(Command::Pragma { name, value });
        } else {
            out.push(Command::Sql(Box::new(p.parse_statement()?)));
        }
        match p.peek_token_ref().token {
            Token::EOF | Token::SemiColon => {}
            _ => return p.expected_ref("end of statement", p.peek_token_ref()),
        }
    }
    Ok(out)
}

/// True when the next tokens are `CREATE [OR REPLACE] RECURSIVE VIEW`.
fn is_create_recursive_view(p: &Parser<'_>) -> bool {
    use sqlparser::tokenizer::Token;
    let word = |i: usize| match &p.peek_nth_token_ref(i).token {
        Token::Word(w) => w.value.to_ascii_uppercase(),
        _ => String::new(),
    };
    word(0) == "CREATE"
        && ((word(1) == "RECURSIVE" && word(2) == "VIEW")
            || (word(1) == "OR" && word(2) == "REPLACE" && word(3) == "RECURSIVE"))
}

/// `CREATE [OR REPLACE] RECURSIVE VIEW v (cols) AS query`, which sqlparser
/// does not know, as the standard defines it: `CREATE VIEW v AS WITH
/// RECURSIVE v (cols) AS (query) SELECT * FROM v`.
fn parse_recursive_view(
    p: &mut Parser<'_>,
) -> std::result::Result<ast::Statement, sqlparser::parser::ParserError> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::Token;
    p.expect_keyword(Keyword::CREATE)?;
    let or_replace = p.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    p.expect_keyword(Keyword::RECURSIVE)?;
    p.expect_keyword(Keyword::VIEW)?;
    let name = p.parse_object_name(false)?;
    let mut columns = Vec::new();
    if p.consume_token(&Token::LParen) {
        loop {
            columns.push(p.parse_identifier()?.to_string());
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        p.expect_token(&Token::RParen)?;
    }
    p.expect_keyword(Keyword::AS)?;
    let query = p.parse_query()?;
    let cte = name
        .0
        .last()
        .map(|part| part.to_string())
        .unwrap_or_default();
    let columns = if columns.is_empty() {
        String::new()
    } else {
        format!("({})", columns.join(", "))
    };
    let text = format!(
        "CREATE {}VIEW {name} AS WITH RECURSIVE {cte}{columns} AS ({query}) SELECT * FROM {cte}",
        if or_replace { "OR REPLACE " } else { "" }
    );
    Parser::new(&LlkvGrammar::default())
        .try_with_sql(&text)?
        .parse_statement()
}

/// True when the next tokens are `SET memory_limit`.
fn is_set_memory_limit(p: &Parser<'_>) -> bool {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::Token;
    let [set, name] = p.peek_tokens();
    matches!(set, Token::Word(w) if w.keyword == Keyword::SET)
        && matches!(name, Token::Word(w) if w.value.eq_ignore_ascii_case("memory_limit"))
}

/// The value of a PRAGMA or SET: a word, number (maybe negative) or
/// string, maybe in parentheses.
fn setting_value(
    p: &mut Parser<'_>,
) -> std::result::Result<String, sqlparser::parser::ParserError> {
    use sqlparser::tokenizer::{Token, TokenWithSpan};
    let parens = p.consume_token(&Token::LParen);
    let value = match p.next_token().token {
        Token::Word(w) => w.value,
        Token::Number(n, _) => n,
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => s,
        Token::Minus => match p.next_token().token {
            Token::Number(n, _) => format!("-{n}"),
            other => return p.expected("a value", TokenWithSpan::wrap(other)),
        },
        other => return p.expected("a value", TokenWithSpan::wrap(other)),
    };
    if parens {
        p.expect_token(&Token::RParen)?;
    }
    Ok(value)
}

/// Parses one expression stored as SQL text in the catalog (a DEFAULT or
/// CHECK expression).
pub(crate) fn parse_stored_expr(sql: &str) -> Result<ast::Expr> {
    Parser::new(&LlkvGrammar::default())
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| Error::internal(format!("bad stored expression {sql:?}: {e}")))
}

/// Splits SQL text into its statements, each rendered back as SQL (for
/// tools that run a script one statement at a time, like the CLI).
pub fn split_statements(sql: &str) -> Result<Vec<String>> {
    Ok(parse_commands(sql)?
        .into_iter()
        .map(|c| match c {
            Command::Sql(stmt) => stmt.to_string(),
            Command::Reindex(None) => "REINDEX".to_owned(),
            Command::Reindex(Some(name)) => format!("REINDEX {name}"),
            Command::Pragma { name, value: None } => format!("PRAGMA {name}"),
            Command::Pragma {
                name,
                value: Some(v),
            } => format!("PRAGMA {name} = '{}'", v.replace('\'', "''")),
        })
        .collect())
}

/// Recently parsed SQL texts of one session, so that a statement run again
/// and again (a point lookup, a single-row INSERT with parameters) is
/// parsed once. Parsing depends on the text alone, so entries never go
/// stale; long texts (bulk literal INSERTs) are not kept.
#[derive(Default)]
pub(crate) struct ParseCache {
    entries: std::collections::HashMap<String, std::sync::Arc<Vec<Command>>, ahash::RandomState>,
    /// Total length of the texts kept.
    bytes: usize,
}

/// Texts kept at most; the cache is emptied when it is full.
const PARSE_CACHE_ENTRIES: usize = 128;
/// Longest text kept, in bytes (a 1000-row `INSERT ... VALUES (?, ?, ?, ?)`
/// with placeholders, repeated with new parameters, is about 14 KB).
const PARSE_CACHE_MAX_SQL: usize = 64 * 1024;
/// Total text length kept at most; the cache is emptied when it is full.
const PARSE_CACHE_BYTES: usize = 1024 * 1024;

impl ParseCache {
    /// The commands of `sql`, parsed now or earlier.
    pub(crate) fn commands(&mut self, sql: &str) -> Result<std::sync::Arc<Vec<Command>>> {
        if let Some(hit) = self.entries.get(sql) {
            return Ok(hit.clone());
        }
        let parsed = std::sync::Arc::new(parse_commands(sql)?);
        if sql.len() <= PARSE_CACHE_MAX_SQL {
            if self.entries.len() >= PARSE_CACHE_ENTRIES
                || self.bytes + sql.len() > PARSE_CACHE_BYTES
            {
                self.entries.clear();
                self.bytes = 0;
            }
            self.bytes += sql.len();
            self.entries.insert(sql.to_owned(), parsed.clone());
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_parses_a_text_once_and_skips_long_texts() {
        let mut cache = ParseCache::default();
        let a = cache.commands("SELECT ?").unwrap();
        let b = cache.commands("SELECT ?").unwrap();
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        let long = format!("SELECT {}", vec!["1"; 20_000].join(" + "));
        let c = cache.commands(&long).unwrap();
        let d = cache.commands(&long).unwrap();
        assert!(!std::sync::Arc::ptr_eq(&c, &d));
        assert!(cache.commands("SELEC 1").is_err());
    }
}
