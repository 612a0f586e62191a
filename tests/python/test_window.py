"""Window functions, checked against pandas and SQLite on the same data."""

import sqlite3

import pandas as pd

import llkv

ROWS = [
    (1, "a", 3.0),
    (2, "a", 1.0),
    (3, "b", None),
    (4, "a", 3.0),
    (5, "b", 7.5),
    (6, "c", 2.0),
    (7, "b", 7.5),
]


def test_running_totals_match_pandas(con: llkv.Connection) -> None:
    frame = pd.DataFrame(ROWS, columns=["id", "g", "v"])
    con.register("f", frame)
    got = con.execute(
        "SELECT id, sum(v) OVER (PARTITION BY g ORDER BY id "
        "ROWS UNBOUNDED PRECEDING) AS run FROM f ORDER BY id"
    ).to_pandas()
    expected = frame.sort_values("id").assign(
        run=frame.sort_values("id").groupby("g")["v"].cumsum()
    )
    # pandas' cumsum leaves NULL rows NULL; SQL's running SUM carries on.
    for (_, want), run in zip(expected.iterrows(), got["run"], strict=True):
        if pd.isna(want["v"]):
            continue
        assert run == want["run"]


def test_ranking_and_offsets_match_sqlite(con: llkv.Connection) -> None:
    sql = (
        "SELECT id, rank() OVER w, dense_rank() OVER w, row_number() OVER w, "
        "lag(id) OVER w, lead(v, 1, -1) OVER w, ntile(2) OVER w, "
        "first_value(id) OVER w, count(*) OVER (PARTITION BY g) "
        "FROM t WINDOW w AS (PARTITION BY g ORDER BY v DESC, id) ORDER BY id"
    )
    lite = sqlite3.connect(":memory:")
    for engine in (lite, con):
        engine.execute("CREATE TABLE t (id INTEGER, g TEXT, v REAL)")
    lite.executemany("INSERT INTO t VALUES (?, ?, ?)", ROWS)
    con.cursor().executemany("INSERT INTO t VALUES (?, ?, ?)", ROWS)
    want = lite.execute(sql).fetchall()
    cur = con.cursor()
    cur.execute(sql)
    assert cur.fetchall() == want


def test_parameters_are_numbered_in_text_order(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (x INTEGER)")
    con.execute("INSERT INTO t VALUES (1), (2), (3), (4)")
    # The WHERE and LIMIT placeholders come after the select list's.
    got = con.execute("SELECT ? AS tag, x FROM t WHERE x > ? ORDER BY x LIMIT ?", ["t", 1, 2])
    assert got.to_pylist() == [{"tag": "t", "x": 2}, {"tag": "t", "x": 3}]
    # OFFSET before LIMIT in the text takes the first parameter.
    got = con.execute("SELECT x FROM t ORDER BY x OFFSET ? LIMIT ?", [1, 2])
    assert got.column("x").to_pylist() == [2, 3]
    # A named window used twice reads its parameter once.
    got = con.execute(
        "SELECT sum(x) OVER w AS s, count(*) OVER w AS c FROM t "
        "WINDOW w AS (ORDER BY x ROWS ? PRECEDING) ORDER BY x",
        [1],
    )
    assert got.to_pylist() == [
        {"s": 1, "c": 1},
        {"s": 3, "c": 2},
        {"s": 5, "c": 2},
        {"s": 7, "c": 2},
    ]
