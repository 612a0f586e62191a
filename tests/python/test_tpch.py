"""TPC-H: the 22 queries at scale factor 0.1 give DuckDB's answers.

The data comes from the deterministic generator in ``tests/tpch/dbgen.py``;
the answers were computed once by DuckDB on the same tables
(``tests/tpch/make_answers.py``) and are checked in. Floating-point sums may
differ in their last bits (the engines add in different orders), so floats
compare with a relative tolerance of 1e-9; everything else compares exactly,
row by row in the queries' ORDER BY order.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import llkv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tpch import ANSWERS, QUERIES, SCALE, to_json_value
from tpch.dbgen import generate

NAMES = [f"q{n:02d}" for n in range(1, 23)]

#: Queries whose answer differs from DuckDB's, with the reason (none now:
#: Q6's `0.06 + 0.01` needs the exact DECIMAL literals of the duckdb
#: dialect, which the fixture uses; in the sqlite dialect it is a DOUBLE
#: 0.06999..., which leaves out the discounts of exactly 0.07).
KNOWN_DIFFERENCES: dict[str, str] = {}


@pytest.fixture(scope="module")
def tpch() -> Iterator[llkv.Connection]:
    """An in-memory database holding the TPC-H tables, in DuckDB's dialect
    (the answers are DuckDB's)."""
    con = llkv.connect(dialect="duckdb")
    for name, table in generate(SCALE).items():
        con.insert_arrow(name, table, create=True)
    yield con
    con.close()


def same(actual: object, expected: object) -> bool:
    """Equal, with a relative tolerance when either side is a float."""
    if isinstance(actual, float) or isinstance(expected, float):
        if not isinstance(actual, (int, float)) or not isinstance(expected, (int, float)):
            return False
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)
    return actual == expected


def test_generator_is_deterministic() -> None:
    """The same seed gives the same rows, so the answers stay valid."""
    first = generate(0.01)
    second = generate(0.01)
    assert first.keys() == second.keys()
    for name, table in first.items():
        assert table.equals(second[name]), name
    assert first["lineitem"].num_rows > 50_000
    assert first["orders"].num_rows == 15_000


def test_tables_have_tpch_cardinalities(tpch: llkv.Connection) -> None:
    """Row counts follow clause 4.2.5 of the specification at SF 0.1."""
    counts = {
        name: tpch.execute(f"SELECT count(*) AS n FROM {name}").column("n")[0].as_py()
        for name in ["region", "nation", "part", "supplier", "partsupp", "customer", "orders"]
    }
    assert counts == {
        "region": 5,
        "nation": 25,
        "part": 20_000,
        "supplier": 1_000,
        "partsupp": 80_000,
        "customer": 15_000,
        "orders": 150_000,
    }


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[n]))
        if n in KNOWN_DIFFERENCES
        else n
        for n in NAMES
    ],
)
def test_query_matches_duckdb(tpch: llkv.Connection, name: str) -> None:
    """Each query returns DuckDB's rows, in order (known differences xfail strictly)."""
    answer = json.loads((ANSWERS / f"{name}.json").read_text())
    table = tpch.execute((QUERIES / f"{name}.sql").read_text())
    assert table.num_columns == len(answer["columns"])
    rows = [[to_json_value(v) for v in row.values()] for row in table.to_pylist()]
    assert len(rows) == len(answer["rows"])
    for i, (got, want) in enumerate(zip(rows, answer["rows"], strict=True)):
        assert all(same(g, w) for g, w in zip(got, want, strict=True)), f"row {i}: {got} != {want}"
