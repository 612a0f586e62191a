//! Checking a query's rendered result against a record's expected text:
//! sort modes, the md5 hash of large results, and the two corpora's
//! expected-value layouts.

use md5::{Digest, Md5};
use sqllogictest::SortMode;

use crate::dialect::Dialect;

/// One rendered result cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The cell's text in the corpus dialect.
    pub text: String,
    /// The value when the cell came from a float column; only such cells may
    /// match with a tolerance, and only in the DuckDB dialect.
    pub float: Option<f64>,
}

impl Cell {
    /// A cell that must match its expected text exactly.
    pub fn exact(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            float: None,
        }
    }
}

/// Largest relative difference accepted between two DuckDB floats.
pub const DUCKDB_FLOAT_TOLERANCE: f64 = 1e-9;

/// The md5 of `values` as sqllogictest computes it: each value followed by
/// a newline, lower-case hex.
///
/// ```
/// assert_eq!(llkv_slt::compare::md5_hex(["1", "2"]), "6ddb4095eb719e2a9f0a3f95677d24e0");
/// ```
pub fn md5_hex<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let mut md5 = Md5::new();
    for value in values {
        md5.update(value.as_bytes());
        md5.update(b"\n");
    }
    md5.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

/// Applies a sort mode to the rows and flattens them into values.
pub fn sort_and_flatten(mut rows: Vec<Vec<Cell>>, sort_mode: SortMode) -> Vec<Cell> {
    match sort_mode {
        SortMode::NoSort => rows.into_iter().flatten().collect(),
        SortMode::RowSort => {
            rows.sort_by(|a, b| {
                let a = a.iter().map(|c| c.text.as_str());
                let b = b.iter().map(|c| c.text.as_str());
                a.cmp(b)
            });
            rows.into_iter().flatten().collect()
        }
        SortMode::ValueSort => {
            let mut values: Vec<Cell> = rows.into_iter().flatten().collect();
            values.sort_by(|a, b| a.text.cmp(&b.text));
            values
        }
    }
}

/// The expected values of a record, flattened.
///
/// SQLite files list one value per line. DuckDB files list a row per line
/// with tab-separated columns, or one value per line, and some lines end in
/// a stray tab; an empty field never carries a value there (the empty
/// string is written `(empty)`), so empty fields are dropped.
pub fn expected_values(dialect: Dialect, lines: &[String]) -> Vec<String> {
    match dialect {
        Dialect::Sqlite => lines.to_vec(),
        Dialect::DuckDb => lines
            .iter()
            .flat_map(|line| line.split('\t'))
            .filter(|field| !field.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// Compares a query result with a record's expected lines.
///
/// `rows` are the rendered rows, `columns` the number of columns,
/// `hash_threshold` the current `hash-threshold` (0: never hash). Returns
/// a description of the first difference.
pub fn check_query_result(
    dialect: Dialect,
    rows: Vec<Vec<Cell>>,
    columns: usize,
    sort_mode: SortMode,
    hash_threshold: u64,
    expected_lines: &[String],
) -> Result<(), String> {
    let actual = sort_and_flatten(rows, sort_mode);
    if hash_threshold > 0 && actual.len() as u64 > hash_threshold {
        let line = format!(
            "{} values hashing to {}",
            actual.len(),
            md5_hex(actual.iter().map(|c| c.text.as_str()))
        );
        return match expected_lines {
            [expected] if expected.trim_end() == line => Ok(()),
            _ => Err(format!(
                "result mismatch: expected {}, got {line}",
                describe_lines(expected_lines)
            )),
        };
    }
    if let [line] = expected_lines {
        if let Some((count, _)) = line.split_once(" values hashing to ") {
            return Err(format!(
                "result mismatch: expected {count} values (hashed), got {}: {}",
                actual.len(),
                describe_values(&actual)
            ));
        }
    }
    let mut expected = expected_values(dialect, expected_lines);
    match sort_mode {
        // Row order carries no meaning under these modes, so the expected
        // side is put in the same order as the actual side.
        SortMode::RowSort if columns > 0 => {
            if !expected.chunks_exact(columns).remainder().is_empty() {
                return Err(format!(
                    "result mismatch: {} expected values do not form rows of {columns} columns",
                    expected.len()
                ));
            }
            let mut rows: Vec<&[String]> = expected.chunks(columns).collect();
            rows.sort();
            expected = rows.concat();
        }
        SortMode::ValueSort => expected.sort(),
        _ => {}
    }
    if expected.len() != actual.len() {
        return Err(format!(
            "result mismatch: expected {} values, got {}: {}",
            expected.len(),
            actual.len(),
            describe_values(&actual)
        ));
    }
    for (i, (want, got)) in expected.iter().zip(&actual).enumerate() {
        if !values_match(dialect, want, got) {
            return Err(format!(
                "result mismatch at value {} (row {}, column {}): expected {want:?}, got {:?}",
                i + 1,
                i / columns.max(1) + 1,
                i % columns.max(1) + 1,
                got.text
            ));
        }
    }
    Ok(())
}

/// Exact text equality, except that in the DuckDB dialect a float cell may
/// differ from an expected float spelling by a relative 1e-9.
fn values_match(dialect: Dialect, expected: &str, actual: &Cell) -> bool {
    if expected == actual.text {
        return true;
    }
    let (Dialect::DuckDb, Some(got)) = (dialect, actual.float) else {
        return false;
    };
    // An integer spelling (`6`) never matches a float (`6.0`).
    let looks_float = expected.contains(['.', 'e', 'E']);
    match expected.parse::<f64>() {
        Ok(want) if looks_float && want.is_finite() && got.is_finite() => {
            let scale = want.abs().max(got.abs());
            (want - got).abs() <= DUCKDB_FLOAT_TOLERANCE * scale
        }
        _ => false,
    }
}

const SHOWN_VALUES: usize = 12;

fn describe_values(values: &[Cell]) -> String {
    let shown: Vec<&str> = values
        .iter()
        .take(SHOWN_VALUES)
        .map(|c| c.text.as_str())
        .collect();
    let more = if values.len() > SHOWN_VALUES {
        " ..."
    } else {
        ""
    };
    format!("[{}{more}]", shown.join(", "))
}

fn describe_lines(lines: &[String]) -> String {
    match lines {
        [] => "no values".to_owned(),
        [one] => format!("{one:?}"),
        _ => format!("{} lines starting {:?}", lines.len(), lines[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[&str]) -> Vec<Cell> {
        values.iter().map(|v| Cell::exact(*v)).collect()
    }

    fn lines(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn md5_matches_md5sum() {
        // printf '1\n2\n' | md5sum
        assert_eq!(md5_hex(["1", "2"]), "6ddb4095eb719e2a9f0a3f95677d24e0");
        // printf 'a\nNULL\n(empty)\n' | md5sum
        assert_eq!(
            md5_hex(["a", "NULL", "(empty)"]),
            "72b876ccbd3d5d4fafd6e014287fa23c"
        );
    }

    #[test]
    fn hashes_above_threshold_after_sorting() {
        let rows = vec![row(&["2"]), row(&["1"])];
        let expected = lines(&["2 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0"]);
        assert_eq!(
            check_query_result(
                Dialect::Sqlite,
                rows.clone(),
                1,
                SortMode::RowSort,
                1,
                &expected
            ),
            Ok(())
        );
        // Unsorted, the hash differs.
        assert!(check_query_result(
            Dialect::Sqlite,
            rows.clone(),
            1,
            SortMode::NoSort,
            1,
            &expected
        )
        .is_err());
        // At or below the threshold the values are compared, not hashed.
        let err = check_query_result(Dialect::Sqlite, rows, 1, SortMode::RowSort, 2, &expected)
            .expect_err("two values are not hashed at threshold 2");
        assert!(err.contains("expected 2 values (hashed), got 2"), "{err}");
    }

    #[test]
    fn rowsort_keeps_rows_together() {
        let rows = vec![row(&["b", "1"]), row(&["a", "2"])];
        let good = lines(&["a", "2", "b", "1"]);
        let torn = lines(&["a", "1", "b", "2"]);
        assert_eq!(
            check_query_result(
                Dialect::Sqlite,
                rows.clone(),
                2,
                SortMode::RowSort,
                0,
                &good
            ),
            Ok(())
        );
        assert!(check_query_result(
            Dialect::Sqlite,
            rows.clone(),
            2,
            SortMode::RowSort,
            0,
            &torn
        )
        .is_err());
        assert_eq!(
            check_query_result(Dialect::Sqlite, rows, 2, SortMode::ValueSort, 0, &torn),
            Ok(())
        );
    }

    #[test]
    fn nosort_checks_order() {
        let rows = vec![row(&["1"]), row(&["2"])];
        assert!(check_query_result(
            Dialect::Sqlite,
            rows,
            1,
            SortMode::NoSort,
            0,
            &lines(&["2", "1"])
        )
        .is_err());
    }

    #[test]
    fn duckdb_accepts_both_layouts_and_stray_tabs() {
        let rows = vec![row(&["1", "A", "(empty)"]), row(&["2", "B", "x"])];
        let row_wise = lines(&["1\tA\t(empty)\t", "2\tB\tx"]);
        let value_wise = lines(&["1", "A", "(empty)", "2", "B", "x"]);
        for expected in [&row_wise, &value_wise] {
            assert_eq!(
                check_query_result(
                    Dialect::DuckDb,
                    rows.clone(),
                    3,
                    SortMode::NoSort,
                    0,
                    expected
                ),
                Ok(())
            );
        }
        // The SQLite dialect is value-wise only.
        assert!(
            check_query_result(Dialect::Sqlite, rows, 3, SortMode::NoSort, 0, &row_wise).is_err()
        );
    }

    #[test]
    fn float_tolerance_only_for_duckdb_floats() {
        let near = Cell {
            text: "0.30000000000000004".into(),
            float: Some(0.1 + 0.2),
        };
        let expected = lines(&["0.3"]);
        assert_eq!(
            check_query_result(
                Dialect::DuckDb,
                vec![vec![near.clone()]],
                1,
                SortMode::NoSort,
                0,
                &expected
            ),
            Ok(())
        );
        assert!(check_query_result(
            Dialect::Sqlite,
            vec![vec![near]],
            1,
            SortMode::NoSort,
            0,
            &expected
        )
        .is_err());
        // Integers never match float spellings, and floats never integers.
        let six = Cell {
            text: "6.0".into(),
            float: Some(6.0),
        };
        assert!(check_query_result(
            Dialect::DuckDb,
            vec![vec![six]],
            1,
            SortMode::NoSort,
            0,
            &lines(&["6"])
        )
        .is_err());
        let far = Cell {
            text: "1.000001".into(),
            float: Some(1.000001),
        };
        assert!(check_query_result(
            Dialect::DuckDb,
            vec![vec![far]],
            1,
            SortMode::NoSort,
            0,
            &lines(&["1.0"])
        )
        .is_err());
    }

    #[test]
    fn missing_and_extra_rows_fail() {
        let rows = vec![row(&["1"])];
        assert!(
            check_query_result(Dialect::Sqlite, rows.clone(), 1, SortMode::NoSort, 0, &[]).is_err()
        );
        assert!(check_query_result(
            Dialect::Sqlite,
            vec![],
            1,
            SortMode::NoSort,
            0,
            &lines(&["1"])
        )
        .is_err());
        assert_eq!(
            check_query_result(Dialect::Sqlite, vec![], 1, SortMode::NoSort, 0, &[]),
            Ok(())
        );
    }
}
