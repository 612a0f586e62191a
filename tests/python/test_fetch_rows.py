"""Rows fetched as tuples built by the engine (the small-result path) equal
the rows pyarrow's ``to_pylist`` gives for the same result, whatever mix of
fetch calls and Arrow reads consumes them."""

from typing import Any

import pyarrow as pa
import pytest

import llkv


def pylist_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """The rows of ``table`` converted by pyarrow."""
    return list(zip(*(c.to_pylist() for c in table.columns), strict=True))


#: Arrow data whose values are plain Python scalars, with NULLs and edge
#: values (registered, the integers become BIGINT, the floats DOUBLE).
PLAIN = pa.table(
    {
        "i8": pa.array([-128, None, 127], pa.int8()),
        "i16": pa.array([-32768, 0, None], pa.int16()),
        "i32": pa.array([None, -(2**31), 2**31 - 1], pa.int32()),
        "i64": pa.array([-(2**63), 2**63 - 1, None], pa.int64()),
        "u8": pa.array([0, 255, None], pa.uint8()),
        "u64": pa.array([2**63 - 1, None, 0], pa.uint64()),
        "f32": pa.array([0.1, None, float("inf")], pa.float32()),
        "f64": pa.array([-0.0, 1e308, None], pa.float64()),
        "b": pa.array([True, False, None], pa.bool_()),
        "s": pa.array(["", None, "é ✓ \x00 ok"], pa.string()),
        "ls": pa.array(["x" * 1000, "y", None], pa.large_string()),
        "bin": pa.array([b"", b"\x00\xff", None], pa.binary()),
        "lbin": pa.array([None, b"abc", b"\x01"], pa.large_binary()),
    }
)


@pytest.fixture
def plain(con: llkv.Connection) -> llkv.Connection:
    """``con`` with PLAIN registered as ``plain``."""
    con.register("plain", PLAIN)
    return con


def test_plain_types_match_pyarrow(plain: llkv.Connection) -> None:
    sql = "SELECT *, NULL AS n FROM plain"
    expected = pylist_rows(plain.execute(sql))
    assert plain.cursor().execute(sql).fetchall() == expected
    cur = plain.cursor().execute(sql)
    assert [cur.fetchone() for _ in range(4)] == [*expected, None]
    # The same values, of the same Python types (bool stays bool, not int).
    got = plain.cursor().execute(sql).fetchall()
    for row, want in zip(got, expected, strict=True):
        assert [type(v) for v in row] == [type(v) for v in want]


def test_other_types_keep_the_pyarrow_path(con: llkv.Connection) -> None:
    sql = (
        "SELECT 1.25::DECIMAL(5, 2) AS d, DATE '2024-02-29' AS day, "
        "TIMESTAMP '2024-01-01 12:00:00' AS ts, 'x' AS s, NULL AS n"
    )
    expected = pylist_rows(con.execute(sql))
    assert con.cursor().execute(sql).fetchall() == expected
    assert [type(v).__name__ for v in expected[0]] == [
        "Decimal",
        "date",
        "datetime",
        "str",
        "NoneType",
    ]


def test_fetches_across_batches_then_arrow(con: llkv.Connection) -> None:
    # A registered table of several batches streams batch by batch.
    batches = [
        pa.record_batch({"a": pa.array(range(start, start + 700), pa.int64())})
        for start in range(0, 2100, 700)
    ]
    con.register("many", pa.Table.from_batches(batches))
    cur = con.cursor().execute("SELECT a, a * 2 AS b FROM many")
    got = [cur.fetchone(), cur.fetchone()]
    got += cur.fetchmany(697)  # to the end of the first batch
    got += cur.fetchmany(2)  # across into the second
    assert got == [(i, 2 * i) for i in range(701)]
    rest = cur.arrow()
    assert rest.column("a").to_pylist() == list(range(701, 2100))
    assert cur.fetchall() == []


def test_description_and_head_after_fetching(plain: llkv.Connection) -> None:
    cur = plain.cursor().execute("SELECT i64, s FROM plain")
    assert cur.fetchone() == (-(2**63), "")
    description = cur.description
    assert description is not None
    assert [(d[0], d[1]) for d in description] == [("i64", pa.int64()), ("s", pa.string())]
    # A notebook preview reads ahead through pyarrow; fetching goes on after it.
    html = cur._repr_html_()
    assert html is not None
    assert "<table" in html
    assert cur.fetchall() == [(2**63 - 1, None), (None, "é ✓ \x00 ok")]


def test_fetchmany_sizes_and_empty_results(plain: llkv.Connection) -> None:
    cur = plain.cursor().execute("SELECT u8 FROM plain")
    assert cur.fetchmany(0) == []
    assert cur.fetchmany(2) == [(0,), (255,)]
    assert cur.fetchmany(5) == [(None,)]
    assert cur.fetchmany(5) == []
    cur.execute("SELECT u8 FROM plain WHERE u8 > 1000")
    assert cur.fetchone() is None
    assert cur.fetchall() == []
    assert cur.description is not None


def test_repeated_point_queries_see_each_parameter_and_change(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)")
    con.executemany("INSERT INTO kv VALUES (?, ?)", [(i, f"v{i}") for i in range(50)])
    cur = con.cursor()
    sql = "SELECT v FROM kv WHERE k = ?"
    assert [cur.execute(sql, [i]).fetchone() for i in range(50)] == [(f"v{i}",) for i in range(50)]
    con.execute("UPDATE kv SET v = 'new' WHERE k = 7")
    assert cur.execute(sql, [7]).fetchone() == ("new",)
    # A parameter of another type, and a schema change, between runs.
    assert cur.execute(sql, ["7"]).fetchone() == ("new",)
    con.execute("ALTER TABLE kv RENAME COLUMN v TO w")
    with pytest.raises(llkv.ProgrammingError, match="no such column"):
        cur.execute(sql, [7])
    assert cur.execute("SELECT w FROM kv WHERE k = ?", [7]).fetchone() == ("new",)
