"""Writes tests/slt/llkv/window.slt: window-function queries with the
results SQLite (Python's sqlite3, >= 3.28) gives, so llkv is checked against
a reference engine rather than against itself.

Run from the repository root: python3 tests/slt/tools/window_from_sqlite.py
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

SETUP = [
    "CREATE TABLE w(id INTEGER, g TEXT, v INTEGER, f REAL)",
    "INSERT INTO w VALUES (1, 'a', 3, 1.5), (2, 'a', 1, NULL), (3, 'a', 3, 2.5), "
    "(4, 'b', NULL, 0.5), (5, 'b', 7, 7.25), (6, 'b', 2, -1.0), (7, 'c', 5, 5.0), "
    "(8, 'a', NULL, 3.0), (9, 'b', 7, 0.0), (10, 'c', 4, 4.5)",
    "CREATE TABLE empty(id INTEGER, v INTEGER)",
]

# (comment, column types, query); every query orders its output unless the
# comment says why not.
QUERIES: list[tuple[str, str, str]] = [
    ("ranking functions with ties and partitions", "IIIIIRR",
     "SELECT id, v, row_number() OVER win, rank() OVER win, dense_rank() OVER win, "
     "percent_rank() OVER win, cume_dist() OVER win FROM w "
     "WINDOW win AS (PARTITION BY g ORDER BY v) ORDER BY g, v, id"),
    ("ranking over the whole table, NULLs sort first ascending", "IIII",
     "SELECT id, rank() OVER (ORDER BY v), dense_rank() OVER (ORDER BY v DESC), "
     "row_number() OVER (ORDER BY v DESC, id) FROM w ORDER BY id"),
    ("without ORDER BY every row is a peer", "IIIR",
     "SELECT id, rank() OVER (PARTITION BY g), dense_rank() OVER (), cume_dist() OVER () "
     "FROM w ORDER BY id"),
    ("ntile with more, fewer and as many buckets as rows", "IIII",
     "SELECT id, ntile(3) OVER (ORDER BY id), ntile(1) OVER (ORDER BY id), "
     "ntile(20) OVER (PARTITION BY g ORDER BY id) FROM w ORDER BY id"),
    ("ntile of four rows in three buckets: the first bucket is larger", "II",
     "SELECT id, ntile(3) OVER (ORDER BY id) FROM w WHERE g = 'a' ORDER BY id"),
    ("lag and lead with offsets and defaults", "IIIIIII",
     "SELECT id, lag(v) OVER (ORDER BY id), lead(v) OVER (ORDER BY id), "
     "lag(v, 2, -1) OVER (ORDER BY id), lead(v, 3, id * 100) OVER (ORDER BY id), "
     "lag(v, 0) OVER (ORDER BY id), lag(id) OVER (PARTITION BY g ORDER BY id) "
     "FROM w ORDER BY id"),
    ("first, last and nth value with the default frame", "IIII",
     "SELECT id, first_value(id) OVER win, last_value(id) OVER win, "
     "nth_value(id, 2) OVER win FROM w WINDOW win AS (PARTITION BY g ORDER BY v) "
     "ORDER BY id"),
    ("first, last and nth value over the whole partition", "IIIII",
     "SELECT id, first_value(v) OVER win, last_value(v) OVER win, nth_value(v, 3) OVER win, "
     "nth_value(v, 9) OVER win FROM w WINDOW win AS (PARTITION BY g ORDER BY id "
     "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) ORDER BY id"),
    ("running aggregates (default frame: peers included)", "IIIIRT",
     "SELECT id, sum(v) OVER win, count(v) OVER win, count(*) OVER win, avg(v) OVER win, "
     "group_concat(id, '-') OVER win FROM w WINDOW win AS (ORDER BY v) ORDER BY v, id"),
    ("aggregates over the whole partition", "IIIII",
     "SELECT id, sum(v) OVER (PARTITION BY g), min(v) OVER (PARTITION BY g), "
     "max(v) OVER (PARTITION BY g), count(*) OVER () FROM w ORDER BY id"),
    ("sliding ROWS frame", "IIIR",
     "SELECT id, sum(v) OVER win, count(*) OVER win, avg(f) OVER win FROM w "
     "WINDOW win AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) ORDER BY id"),
    ("ROWS frames that lie wholly before or after the row", "III",
     "SELECT id, sum(id) OVER (ORDER BY id ROWS BETWEEN 3 PRECEDING AND 2 PRECEDING), "
     "sum(id) OVER (ORDER BY id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) "
     "FROM w ORDER BY id"),
    ("RANGE frame by value distance, NULL keys frame only their peers", "IIII",
     "SELECT id, v, sum(id) OVER (ORDER BY v RANGE BETWEEN 2 PRECEDING AND 1 FOLLOWING), "
     "count(*) OVER (ORDER BY v RANGE BETWEEN CURRENT ROW AND 3 FOLLOWING) "
     "FROM w ORDER BY v, id"),
    ("RANGE frame over a descending key", "III",
     "SELECT id, v, sum(id) OVER (ORDER BY v DESC RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING) "
     "FROM w ORDER BY v DESC, id"),
    ("RANGE frame over a real key", "IRI",
     "SELECT id, f, count(*) OVER (ORDER BY f RANGE BETWEEN 1.5 PRECEDING AND 0.5 FOLLOWING) "
     "FROM w ORDER BY f, id"),
    ("GROUPS frames count peer groups", "IIII",
     "SELECT id, v, sum(id) OVER (ORDER BY v GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW), "
     "count(*) OVER (ORDER BY v GROUPS BETWEEN CURRENT ROW AND 1 FOLLOWING) "
     "FROM w ORDER BY v, id"),
    ("EXCLUDE CURRENT ROW, GROUP and TIES", "IIIII",
     "SELECT id, v, sum(id) OVER (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND "
     "UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW), "
     "sum(id) OVER (ORDER BY v RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP), "
     "sum(id) OVER (ORDER BY v GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES) "
     "FROM w ORDER BY v, id"),
    ("FILTER on a window aggregate", "III",
     "SELECT id, count(*) FILTER (WHERE v > 2) OVER (ORDER BY id), "
     "sum(v) FILTER (WHERE g <> 'b') OVER (PARTITION BY g) FROM w ORDER BY id"),
    ("FILTER on a plain aggregate", "TIII",
     "SELECT g, count(*) FILTER (WHERE v > 2), sum(v) FILTER (WHERE id % 2 = 0), count(*) "
     "FROM w GROUP BY g ORDER BY g"),
    ("a named window refined by the call", "III",
     "SELECT id, sum(id) OVER (base ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING), "
     "row_number() OVER base FROM w WINDOW base AS (PARTITION BY g ORDER BY id) ORDER BY id"),
    ("window calls over grouped rows", "TIII",
     "SELECT g, sum(v), rank() OVER (ORDER BY sum(v) DESC), "
     "sum(sum(v)) OVER (ORDER BY g) FROM w GROUP BY g ORDER BY g"),
    ("a window call in ORDER BY", "I",
     "SELECT id FROM w ORDER BY row_number() OVER (ORDER BY v DESC, id DESC)"),
    ("top two per group through a derived table", "TII",
     "SELECT g, id, v FROM (SELECT g, id, v, row_number() OVER (PARTITION BY g ORDER BY v DESC, id) "
     "AS rn FROM w) WHERE rn <= 2 ORDER BY g, rn"),
    ("window calls in expressions and with DISTINCT", "II",
     "SELECT DISTINCT g = 'a', count(*) OVER (PARTITION BY g = 'a') * 10 FROM w ORDER BY 1"),
    ("no rows in, no rows out", "II",
     "SELECT id, row_number() OVER (ORDER BY v) FROM empty"),
    ("a window over the single row of a FROM-less SELECT", "IIR",
     "SELECT row_number() OVER (), count(*) OVER (), avg(42) OVER ()"),
    ("without an outer ORDER BY rows come out in the last window's order", "II",
     "SELECT id, row_number() OVER (ORDER BY v DESC, id) FROM w"),
]

ERRORS: list[tuple[str, str]] = [
    ("window call in WHERE", "SELECT id FROM w WHERE row_number() OVER () > 1"),
    ("window call in GROUP BY", "SELECT count(*) FROM w GROUP BY row_number() OVER ()"),
    ("window call in HAVING", "SELECT g FROM w GROUP BY g HAVING rank() OVER () > 0"),
    ("nested window calls", "SELECT sum(row_number() OVER ()) OVER () FROM w"),
    ("a scalar function is not a window function", "SELECT abs(v) OVER () FROM w"),
    ("unknown window function", "SELECT no_such_fn(v) OVER () FROM w"),
    ("unknown named window", "SELECT row_number() OVER nope FROM w"),
    ("negative ROWS offset", "SELECT sum(v) OVER (ORDER BY id ROWS -1 PRECEDING) FROM w"),
    ("RANGE offset needs exactly one ORDER BY key",
     "SELECT sum(v) OVER (ORDER BY id, v RANGE 1 PRECEDING) FROM w"),
    ("frame that starts after it ends",
     "SELECT sum(v) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM w"),
    ("ntile needs a positive bucket count", "SELECT ntile(0) OVER (ORDER BY id) FROM w"),
    ("wrong argument count", "SELECT lag() OVER (ORDER BY id) FROM w"),
]


def render(value: object, letter: str) -> str:
    if value is None:
        return "NULL"
    if letter == "I":
        return str(int(value))  # type: ignore[call-overload]
    if letter == "R":
        return f"{float(value):.3f}"  # type: ignore[arg-type]
    text = str(value)
    return text if text else "(empty)"


def main() -> int:
    con = sqlite3.connect(":memory:")
    out = [
        "# Window functions. Generated by tests/slt/tools/window_from_sqlite.py: the",
        f"# expected rows are SQLite {sqlite3.sqlite_version}'s answers to the same queries.",
        "",
        "hash-threshold 0",
        "",
    ]
    for stmt in SETUP:
        con.execute(stmt)
        out += ["statement ok", stmt, ""]
    for comment, types, sql in QUERIES:
        rows = con.execute(sql).fetchall()
        out += [f"# {comment}", f"query {types}", sql, "----"]
        for row in rows:
            assert len(row) == len(types), (sql, row)
            out += [render(v, t) for v, t in zip(row, types)]
        out.append("")
    for comment, sql in ERRORS:
        try:
            con.execute(sql).fetchall()
        except sqlite3.Error:
            out += [f"# {comment}", "statement error", sql, ""]
        else:
            print(f"SQLite accepts: {sql}", file=sys.stderr)
            return 1
    Path("tests/slt/llkv/window.slt").write_text("\n".join(out).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
