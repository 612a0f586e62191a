"""Statements through Connection.execute: results are pyarrow tables."""

from typing import Any

import pyarrow as pa
import pytest

import llkv


def test_ddl_returns_empty_table(any_con: llkv.Connection) -> None:
    result = any_con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    assert isinstance(result, pa.Table)
    assert result.num_rows == 0


def test_insert_returns_rows_affected(any_con: llkv.Connection) -> None:
    any_con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    result = any_con.execute("INSERT INTO t VALUES (?, ?), (?, ?)", [1, "x", 2, "y"])
    assert isinstance(result, pa.Table)
    assert result.column_names == ["count"]
    assert result.schema.field("count").type == pa.int64()
    assert result.to_pylist() == [{"count": 2}]

    result = any_con.execute("INSERT INTO t VALUES (?, ?)", (3, "z"))
    assert result.to_pylist() == [{"count": 1}]


def test_update_and_delete_return_rows_affected(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    con.execute("INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'z')")
    assert con.execute("UPDATE t SET b = ? WHERE a >= ?", ["w", 2]).to_pylist() == [{"count": 2}]
    assert con.execute("DELETE FROM t WHERE a = ?", [1]).to_pylist() == [{"count": 1}]
    assert con.execute("SELECT a, b FROM t ORDER BY a").to_pylist() == [
        {"a": 2, "b": "w"},
        {"a": 3, "b": "w"},
    ]


def test_update_from_keeps_parameter_positions(con: llkv.Connection) -> None:
    # UPDATE ... FROM copies the WHERE clause into subqueries; each `?`
    # must still read its own parameter.
    con.execute("CREATE TABLE t (id INTEGER, v INTEGER)")
    con.execute("CREATE TABLE d (id INTEGER, add_v INTEGER)")
    con.execute("INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)")
    con.execute("INSERT INTO d VALUES (1, 1), (2, 2), (3, 3)")
    result = con.execute(
        "UPDATE t SET v = v + add_v * ? FROM d WHERE d.id = t.id AND d.id >= ?", [100, 2]
    )
    assert result.to_pylist() == [{"count": 2}]
    assert con.execute("SELECT id, v FROM t ORDER BY id").to_pylist() == [
        {"id": 1, "v": 10},
        {"id": 2, "v": 220},
        {"id": 3, "v": 330},
    ]


def test_cte_before_a_data_change_keeps_parameter_positions(con: llkv.Connection) -> None:
    # The CTE is copied into each query of the statement; its `?` must
    # still be the first parameter.
    con.execute("CREATE TABLE t (id INTEGER, v TEXT)")
    con.execute("INSERT INTO t VALUES (5, 'x'), (5, 'y'), (6, 'x')")
    con.execute(
        "WITH c(k) AS (SELECT ?) DELETE FROM t WHERE v = ? AND id IN (SELECT k FROM c)",
        [5, "x"],
    )
    con.execute(
        "WITH c(k, nv) AS (SELECT ?, ?) UPDATE t SET v = c.nv FROM c WHERE t.id = c.k AND t.v = ?",
        [6, "z", "x"],
    )
    assert con.execute("SELECT id, v FROM t ORDER BY id").to_pylist() == [
        {"id": 5, "v": "y"},
        {"id": 6, "v": "z"},
    ]


def test_quantified_comparison_keeps_parameter_positions(con: llkv.Connection) -> None:
    # The left side of ANY/ALL is copied into the rewritten comparison;
    # each `?` must still read its own parameter, before and after it.
    con.execute("CREATE TABLE t (a INTEGER, b INTEGER)")
    con.execute("INSERT INTO t VALUES (1, 10), (2, 20)")
    sql = "SELECT (?, ?) < ANY(SELECT a, b FROM t WHERE a >= ?) AS hit"
    assert con.execute(sql, [2, 19, 2]).to_pylist() == [{"hit": True}]
    assert con.execute(sql, [2, 20, 2]).to_pylist() == [{"hit": False}]
    assert con.execute(sql, [1, 50, 2]).to_pylist() == [{"hit": True}]


def test_select_with_qmark_parameter(any_con: llkv.Connection) -> None:
    any_con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    any_con.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, NULL)")
    result = any_con.execute("SELECT a, b FROM t WHERE a > ? ORDER BY a", [1])
    assert isinstance(result, pa.Table)
    assert result.schema == pa.schema([("a", pa.int64()), ("b", pa.string())])
    assert result.column("a").to_pylist() == [2, 3]
    assert result.column("b").to_pylist() == ["two", None]


def test_column_types_and_null_round_trip(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE v (i INTEGER, s TEXT, d DOUBLE, b BOOLEAN)")
    rows = [
        (1, "a", 1.5, True),
        (-(2**63), "é ✓", -0.25, False),
        (2**63 - 1, "", 1e300, True),
        (None, None, None, None),
    ]
    for row in rows:
        assert con.execute("INSERT INTO v VALUES (?, ?, ?, ?)", row).to_pylist() == [{"count": 1}]
    result = con.execute("SELECT i, s, d, b FROM v")
    assert result.schema.types == [pa.int64(), pa.string(), pa.float64(), pa.bool_()]
    got = sorted(result.to_pylist(), key=lambda r: (r["i"] is None, r["i"] or 0))
    expected = sorted(
        ({"i": i, "s": s, "d": d, "b": b} for i, s, d, b in rows),
        key=lambda r: (r["i"] is None, r["i"] or 0),
    )
    assert got == expected
    assert result.column("i").null_count == 1


def test_null_parameter_is_sql_null(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    con.execute("INSERT INTO t VALUES (?, ?)", [None, "n"])
    assert con.execute("SELECT COUNT(*) AS n FROM t WHERE a IS NULL").column("n").to_pylist() == [1]


def test_bool_parameter_is_not_an_integer(con: llkv.Connection) -> None:
    result = con.execute("SELECT ? AS x, ? AS y", [True, 1])
    assert result.schema.field("x").type == pa.bool_()
    assert result.schema.field("y").type == pa.int64()
    assert result.to_pylist() == [{"x": True, "y": 1}]


def test_aggregate_and_group_by(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (k TEXT, v INTEGER)")
    for i in range(30):
        con.execute("INSERT INTO t VALUES (?, ?)", ["abc"[i % 3], i])
    result = con.execute("SELECT k, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY k ORDER BY k")
    assert result.to_pylist() == [
        {"k": "a", "n": 10, "s": sum(range(0, 30, 3))},
        {"k": "b", "n": 10, "s": sum(range(1, 30, 3))},
        {"k": "c", "n": 10, "s": sum(range(2, 30, 3))},
    ]


def test_result_interoperates_with_pandas_and_polars(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    con.execute("INSERT INTO t VALUES (1, 'x'), (2, 'y')")
    table = con.execute("SELECT a, b FROM t ORDER BY a")
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    assert pd.DataFrame(table.to_pandas())["a"].tolist() == [1, 2]
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    assert frame["b"].to_list() == ["x", "y"]


class TestErrors:
    def test_syntax_error_is_programming_error(self, con: llkv.Connection) -> None:
        with pytest.raises(llkv.ProgrammingError):
            con.execute("SELEC 1")

    def test_unknown_table_is_programming_error(self, con: llkv.Connection) -> None:
        with pytest.raises(llkv.ProgrammingError, match="nope"):
            con.execute("SELECT * FROM nope")

    def test_unknown_column_is_programming_error(self, con: llkv.Connection) -> None:
        con.execute("CREATE TABLE t (a INTEGER)")
        with pytest.raises(llkv.ProgrammingError, match="zzz"):
            con.execute("SELECT zzz FROM t")

    def test_wrong_parameter_count_is_programming_error(self, con: llkv.Connection) -> None:
        con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        with pytest.raises(llkv.ProgrammingError):
            con.execute("INSERT INTO t VALUES (?, ?)", [1])
        with pytest.raises(llkv.ProgrammingError):
            con.execute("INSERT INTO t VALUES (?, ?)", [1, "x", 3])

    def test_not_null_violation_is_integrity_error(self, con: llkv.Connection) -> None:
        con.execute("CREATE TABLE n (a INTEGER NOT NULL)")
        with pytest.raises(llkv.IntegrityError):
            con.execute("INSERT INTO n VALUES (?)", [None])
        assert con.execute("SELECT COUNT(*) AS c FROM n").to_pylist() == [{"c": 0}]

    def test_connection_usable_after_error(self, con: llkv.Connection) -> None:
        with pytest.raises(llkv.ProgrammingError):
            con.execute("SELECT * FROM nope")
        con.execute("CREATE TABLE t (a INTEGER)")
        assert con.execute("INSERT INTO t VALUES (1)").to_pylist() == [{"count": 1}]


def test_numpy_scalars_are_parameters(con: llkv.Connection) -> None:
    import numpy as np

    table = con.execute(
        "SELECT ? AS i, ? AS f, ? AS b, typeof(?) AS t",
        [np.int64(7), np.float32(0.5), np.bool_(True), np.int32(3)],
    )
    assert table.to_pylist() == [{"i": 7, "f": 0.5, "b": True, "t": "integer"}]
    with pytest.raises(llkv.NotSupportedError, match="unsupported type"):
        con.execute("SELECT ?", [np.array([1, 2])])  # type: ignore[list-item]


def test_multi_row_insert_parameters_match_the_general_path(con: llkv.Connection) -> None:
    """A bare VALUES list of parameters is bound straight into columns; it
    must store what the same rows through `SELECT * FROM (VALUES ...)` do,
    and a wrong parameter count fails without storing anything."""
    import datetime
    from decimal import Decimal

    ddl = "(i BIGINT, x DOUBLE, s TEXT, b BLOB, d DATE, ts TIMESTAMP, n DECIMAL(6,2), f BOOLEAN)"
    con.execute(f"CREATE TABLE direct {ddl}")
    con.execute(f"CREATE TABLE general {ddl}")
    rows: list[list[Any]] = [
        [
            1,
            0.5,
            "a",
            b"\x00\x01",
            datetime.date(2024, 2, 29),
            datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
            Decimal("12.50"),
            True,
        ],
        [None, 2, None, None, None, None, None, None],
        [
            -7,
            -1.25,
            "",
            b"",
            datetime.date(1969, 12, 31),
            datetime.datetime(1970, 1, 1),
            Decimal("-0.01"),
            False,
        ],
    ]
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
    params = [v for row in rows for v in row]
    con.execute(f"INSERT INTO direct VALUES {values}", params)
    con.execute(f"INSERT INTO general SELECT * FROM (VALUES {values})", params)
    direct = con.execute("SELECT * FROM direct ORDER BY rowid")
    assert direct.equals(con.execute("SELECT * FROM general ORDER BY rowid"))
    assert direct.column("x").to_pylist() == [0.5, 2.0, -1.25]
    assert direct.column("n").to_pylist() == [Decimal("12.50"), None, Decimal("-0.01")]

    with pytest.raises(llkv.ProgrammingError):
        con.execute(f"INSERT INTO direct VALUES {values}", params[:-1])
    assert con.execute("SELECT count(*) AS n FROM direct").to_pylist() == [{"n": 3}]
