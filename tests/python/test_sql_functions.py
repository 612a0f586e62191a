"""String, math and statistical functions and GROUPING SETS, checked
against Python's own libraries and pandas on generated data."""

import math
import random
import re
import statistics

import pandas as pd
import pytest

import llkv


@pytest.fixture
def numbers(con: llkv.Connection) -> pd.DataFrame:
    rng = random.Random(7)
    frame = pd.DataFrame(
        {
            "g": [rng.choice("xyz") for _ in range(500)],
            "h": [rng.choice("pq") for _ in range(500)],
            "v": [rng.uniform(-100, 100) for _ in range(500)],
        }
    )
    con.execute("CREATE TABLE nums(g TEXT, h TEXT, v REAL)")
    con.insert_arrow("nums", frame)
    return frame


def test_statistics_match_pandas(con: llkv.Connection, numbers: pd.DataFrame) -> None:
    got = con.execute(
        "SELECT g, stddev(v) AS sd, var_pop(v) AS vp, median(v) AS med, "
        "quantile_cont(v, 0.9) AS q9, arg_max(h, v) AS top FROM nums GROUP BY g ORDER BY g"
    ).to_pandas()
    grouped = numbers.groupby("g")["v"]
    want = pd.DataFrame(
        {
            "sd": grouped.std(),
            "vp": grouped.var(ddof=0),
            "med": grouped.median(),
            "q9": grouped.quantile(0.9),
        }
    ).reset_index()
    for column in ["sd", "vp", "med", "q9"]:
        assert got[column].tolist() == pytest.approx(want[column].tolist(), rel=1e-9)
    tops = numbers.loc[numbers.groupby("g")["v"].idxmax()].sort_values("g")["h"]
    assert got["top"].tolist() == tops.tolist()


def test_rollup_totals_match_pandas(con: llkv.Connection, numbers: pd.DataFrame) -> None:
    got = con.execute(
        "SELECT g, h, count(*) AS n, sum(v) AS s, grouping(g, h) AS level "
        "FROM nums GROUP BY ROLLUP (g, h)"
    ).to_pandas()
    detail = numbers.groupby(["g", "h"])["v"].agg(["count", "sum"]).reset_index()
    for row in detail.itertuples(index=False):
        match = got[(got.g == row.g) & (got.h == row.h) & (got.level == 0)]
        assert match["n"].tolist() == [row.count]
        assert match["s"].tolist() == pytest.approx([row.sum])
    per_g = got[got.level == 1].set_index("g")
    assert per_g["n"].to_dict() == numbers.groupby("g").size().to_dict()
    assert per_g["h"].isna().all()
    total = got[got.level == 3]
    assert total["n"].tolist() == [500]
    assert total["s"].tolist() == pytest.approx([numbers["v"].sum()])


def test_string_functions_match_python(con: llkv.Connection) -> None:
    words = ["alpha,beta", "Gamma", "", "delta,epsilon,zeta", "x1y22z333"]
    con.execute("CREATE TABLE w(s TEXT)")
    con.executemany("INSERT INTO w VALUES (?)", [(s,) for s in words])
    rows = con.execute(
        "SELECT s, split_part(s, ',', 2) AS second, reverse(s) AS rev, "
        "lpad(s, 12, '*') AS padded, regexp_replace(s, '[0-9]+', '#', 'g') AS masked, "
        "starts_with(s, 'a') AS a FROM w"
    ).to_pylist()
    for row in rows:
        s = row["s"]
        parts = s.split(",")
        assert row["second"] == (parts[1] if len(parts) > 1 else "")
        assert row["rev"] == s[::-1]
        assert row["padded"] == s[:12].rjust(12, "*")
        assert row["masked"] == re.sub("[0-9]+", "#", s)
        assert row["a"] == s.startswith("a")


def test_math_functions_match_python(con: llkv.Connection) -> None:
    row = con.execute(
        "SELECT exp(1.5) AS e, ln(10) AS l, log(2, 1024) AS b, cbrt(-8) AS c, "
        "atan2(1, 2) AS t, degrees(1) AS d, trunc(-7.9) AS tr"
    ).to_pylist()[0]
    assert row["e"] == pytest.approx(math.exp(1.5))
    assert row["l"] == pytest.approx(math.log(10))
    assert row["b"] == pytest.approx(10.0)
    assert row["c"] == pytest.approx(-2.0)
    assert row["t"] == pytest.approx(math.atan2(1, 2))
    assert row["d"] == pytest.approx(math.degrees(1))
    assert row["tr"] == -7.0


def test_random_is_uniform_enough(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE many(i INTEGER)")
    con.executemany("INSERT INTO many VALUES (?)", [(i,) for i in range(2000)])
    values = con.execute("SELECT random() AS x FROM many").column("x").to_pylist()
    assert all(0.0 <= x < 1.0 for x in values)
    assert len(set(values)) == len(values)
    assert statistics.mean(values) == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT ln(0)", llkv.DataError),
        ("SELECT regexp_matches('a', '(')", llkv.DataError),
        ("SELECT chr(-5)", llkv.DataError),
        ("SELECT repeat('ab', 2000000000)", llkv.DataError),
        ("SELECT quantile_cont(1, 2)", llkv.ProgrammingError),
        ("SELECT DATE '2024-01-01' + INTERVAL '1 lightyear'", llkv.DataError),
        ("SELECT INTERVAL '1 day'", llkv.NotSupportedError),
        ("SELECT grouping(1)", llkv.ProgrammingError),
    ],
)
def test_bad_input_raises_the_right_class(con: llkv.Connection, sql: str, error: type) -> None:
    with pytest.raises(error):
        con.execute(sql)
