"""A connection keeps the plans of the queries it ran and reuses them with
new parameters; a kept plan never outlives what it was bound from (the
tables' definitions, registered Arrow data, the dialect)."""

import decimal

import pyarrow as pa
import pytest

import llkv


def test_registered_data_replaced_under_the_same_name(con: llkv.Connection) -> None:
    sql = "SELECT sum(a) FROM data WHERE a > ?"
    con.register("data", pa.table({"a": [1, 2, 3]}))
    assert con.execute(sql, [1]).to_pylist() == [{"sum(a)": 5}]
    con.register("data", pa.table({"a": [10, 20]}))
    assert con.execute(sql, [1]).to_pylist() == [{"sum(a)": 30}]
    con.unregister("data")
    with pytest.raises(llkv.ProgrammingError, match="no such table"):
        con.execute(sql, [1])


def test_dialect_switch_between_runs(con: llkv.Connection) -> None:
    # `1.5` is a DOUBLE in SQLite and a DECIMAL(2, 1) in DuckDB.
    sql = "SELECT ? + 1.5 AS q"
    assert con.execute(sql, [7]).to_pylist() == [{"q": 8.5}]
    con.execute("PRAGMA dialect = duckdb")
    assert con.execute(sql, [7]).to_pylist() == [{"q": decimal.Decimal("8.5")}]


def test_other_connections_ddl_and_own_transaction(tmp_path: object) -> None:
    path = f"{tmp_path}/db.llkv"
    a, b = llkv.connect(path), llkv.connect(path)
    try:
        a.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        a.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
        sql = "SELECT * FROM t WHERE id = ?"
        assert a.execute(sql, [1]).to_pylist() == [{"id": 1, "v": "one"}]
        b.execute("ALTER TABLE t ADD COLUMN w INTEGER DEFAULT 0")
        assert a.execute(sql, [2]).to_pylist() == [{"id": 2, "v": "two", "w": 0}]
        a.execute("BEGIN")
        a.execute("ALTER TABLE t DROP COLUMN v")
        assert a.execute(sql, [2]).to_pylist() == [{"id": 2, "w": 0}]
        a.execute("ROLLBACK")
        assert a.execute(sql, [2]).to_pylist() == [{"id": 2, "v": "two", "w": 0}]
    finally:
        a.close()
        b.close()


def test_many_parameter_values_and_types(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE n (k INTEGER PRIMARY KEY, r DOUBLE, s TEXT)")
    con.executemany("INSERT INTO n VALUES (?, ?, ?)", [(i, i / 4, f"s{i % 7}") for i in range(200)])
    cur = con.cursor()
    sql = "SELECT count(*) FROM n WHERE r >= ? AND s = ?"
    for low in range(0, 50, 7):
        for text in ("s0", "s3", "none"):
            want = sum(1 for i in range(200) if i / 4 >= low and f"s{i % 7}" == text)
            assert cur.execute(sql, [low, text]).fetchone() == (want,)
            assert cur.execute(sql, [float(low), text]).fetchone() == (want,)
    assert cur.execute(sql, [None, "s0"]).fetchone() == (0,)
