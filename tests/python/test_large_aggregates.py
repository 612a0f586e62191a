"""Aggregations over inputs of many batches, checked against pyarrow.

Inputs this large take the engine's batch-at-a-time paths: dense state
vectors, small-range integer keys looked up by position, and (with two or
more cores) grouping in parallel waves whose per-thread tables are merged.
Each answer here is recomputed by pyarrow's own group-by.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import llkv

ROWS = 300_000
"""Several of the engine's 64k-row batches: enough for parallel waves."""


@pytest.fixture(scope="module")
def data() -> pa.Table:
    """Two grouping keys, integers and reals with NULLs, one all-NULL group."""
    rng = np.random.default_rng(7)
    a = rng.integers(0, 7, ROWS)
    b = rng.integers(0, 10, ROWS)
    v = rng.integers(-1_000_000, 1_000_000, ROWS)
    x = rng.random(ROWS) * 100 - 50
    x_null = rng.random(ROWS) < 0.1
    # Group ('a6', 9) has no non-NULL x at all.
    x_null |= (a == 6) & (b == 9)
    return pa.table(
        {
            "a": pa.array([f"a{i}" for i in a]),
            "b": pa.array(b, pa.int64()),
            "v": pa.array(v, pa.int64()),
            "x": pa.array(x, pa.float64(), mask=x_null),
            "id": pa.array(np.arange(ROWS), pa.int64()),
        }
    )


@pytest.fixture(scope="module")
def db(data: pa.Table) -> llkv.Connection:
    """A database holding `data` as table t."""
    con = llkv.connect()
    con.execute("CREATE TABLE t(a TEXT, b BIGINT, v BIGINT, x DOUBLE, id BIGINT)")
    con.register("src", data)
    con.execute("INSERT INTO t SELECT * FROM src")
    return con


def by_key(table: pa.Table, keys: list[str]) -> dict[tuple[object, ...], dict[str, object]]:
    """Rows of `table` keyed by their `keys` values."""
    out: dict[tuple[object, ...], dict[str, object]] = {}
    for row in table.to_pylist():
        out[tuple(row[k] for k in keys)] = row
    return out


def assert_close(got: object, want: object) -> None:
    """Equal, or for reals equal to 1e-9 relative (sums add in another order)."""
    if isinstance(want, float) and isinstance(got, float):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-6), (got, want)
    else:
        assert got == want


def test_grouping_by_two_keys_matches_pyarrow(db: llkv.Connection, data: pa.Table) -> None:
    got = db.execute(
        "SELECT a, b, count(*) AS n, count(x) AS nx, sum(v) AS sv, sum(x) AS sx,"
        " avg(x) AS ax, min(v) AS lo, max(x) AS hi FROM t GROUP BY a, b"
    )
    want = data.group_by(["a", "b"]).aggregate(
        [
            ([], "count_all"),
            ("x", "count"),
            ("v", "sum"),
            ("x", "sum"),
            ("x", "mean"),
            ("v", "min"),
            ("x", "max"),
        ]
    )
    got_rows = by_key(got, ["a", "b"])
    want_rows = by_key(want, ["a", "b"])
    assert got_rows.keys() == want_rows.keys()
    assert len(got_rows) == 70
    for key, w in want_rows.items():
        g = got_rows[key]
        assert g["n"] == w["count_all"]
        assert g["nx"] == w["x_count"]
        assert g["sv"] == w["v_sum"]
        assert g["lo"] == w["v_min"]
        if w["x_count"] == 0:
            assert (g["sx"], g["ax"], g["hi"]) == (None, None, None)
        else:
            assert_close(g["sx"], w["x_sum"])
            assert_close(g["ax"], w["x_mean"])
            assert_close(g["hi"], w["x_max"])


def test_ungrouped_and_integer_keyed_aggregates_match_pyarrow(
    db: llkv.Connection, data: pa.Table
) -> None:
    row = db.execute(
        "SELECT count(*), count(x), sum(v), sum(x), avg(v), min(x), max(v) FROM t"
    ).to_pylist()[0]
    values = list(row.values())
    assert values[0] == ROWS
    assert values[1] == ROWS - data["x"].null_count
    assert values[2] == pc.sum(data["v"]).as_py()
    assert_close(values[3], pc.sum(data["x"]).as_py())
    assert_close(values[4], pc.mean(data["v"]).as_py())
    assert values[5] == pc.min(data["x"]).as_py()
    assert values[6] == pc.max(data["v"]).as_py()
    got = by_key(db.execute("SELECT b, sum(v) AS s, min(x) AS m FROM t GROUP BY b"), ["b"])
    want = by_key(data.group_by("b").aggregate([("v", "sum"), ("x", "min")]), ["b"])
    assert {k: (g["s"], g["m"]) for k, g in got.items()} == {
        k: (w["v_sum"], w["x_min"]) for k, w in want.items()
    }


def test_many_groups_by_two_keys_match_pyarrow(db: llkv.Connection, data: pa.Table) -> None:
    # One group per row or so: grouped on one thread after the first batch.
    got = by_key(db.execute("SELECT id, a, sum(v) AS s FROM t GROUP BY id, a"), ["id", "a"])
    assert len(got) == ROWS
    for i in (0, 65_535, 65_536, ROWS - 1):
        key = (i, data["a"][i].as_py())
        assert got[key]["s"] == data["v"][i].as_py()


def test_a_sum_overflow_fails_on_every_path(con: llkv.Connection) -> None:
    big = pa.table(
        {
            "k": pa.array([f"k{i % 3}" for i in range(ROWS)]),
            "j": pa.array([i % 2 for i in range(ROWS)], pa.int64()),
            "v": pa.array([2**62] * ROWS, pa.int64()),
        }
    )
    con.execute("CREATE TABLE big(k TEXT, j BIGINT, v BIGINT)")
    con.register("big_src", big)
    con.execute("INSERT INTO big SELECT * FROM big_src")
    for sql in (
        "SELECT sum(v) FROM big",
        "SELECT j, sum(v) FROM big GROUP BY j",
        "SELECT k, j, sum(v) FROM big GROUP BY k, j",
    ):
        with pytest.raises(llkv.DataError, match="overflow"):
            con.execute(sql)
