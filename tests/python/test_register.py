"""Connection.register: Arrow data queryable by name, read in place."""

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import llkv


def test_query_a_registered_arrow_table_without_copying(con: llkv.Connection) -> None:
    data = pa.table(
        {"a": pa.array(range(1000), pa.int64()), "b": [str(i % 7) for i in range(1000)]}
    )
    con.register("nums", data)
    result = con.execute("SELECT count(*) AS n, sum(a) AS s FROM nums WHERE b = '3'")
    assert result.to_pylist() == [{"n": 143, "s": sum(i for i in range(1000) if i % 7 == 3)}]
    table, addresses = con._execute_debug_addresses("SELECT a FROM nums")
    source = data.column("a").chunks[0].buffers()[1]
    assert source is not None
    assert addresses == [source.address]
    assert table.column("a").chunks[0].buffers()[1].address == source.address


def test_pandas_and_polars_join_stored_tables(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO names VALUES (1, 'one'), (2, 'two')")
    con.register("pdf", pd.DataFrame({"id": [1, 2, 2], "x": [0.5, 1.5, 2.5]}))
    con.register("plf", pl.DataFrame({"id": [2], "tag": ["t"]}))
    rows = con.execute(
        "SELECT n.name, sum(p.x) AS x, max(q.tag) AS tag FROM names n "
        "JOIN pdf p ON p.id = n.id LEFT JOIN plf q ON q.id = n.id GROUP BY n.name ORDER BY n.name"
    ).to_pylist()
    assert rows == [{"name": "one", "x": 0.5, "tag": None}, {"name": "two", "x": 4.0, "tag": "t"}]


def test_registered_names_shadow_tables_and_are_read_only(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("INSERT INTO t VALUES (1)")
    con.register("t", pa.table({"a": [10, 20]}))
    assert con.execute("SELECT sum(a) AS s FROM t").to_pylist() == [{"s": 30}]
    # INSERT goes to the stored table, which the registration hides.
    con.execute("INSERT INTO t VALUES (2)")
    con.unregister("t")
    assert con.execute("SELECT sum(a) AS s FROM t").to_pylist() == [{"s": 3}]
    with pytest.raises(llkv.ProgrammingError, match="nothing is registered as t"):
        con.unregister("t")


def test_registrations_belong_to_one_connection(con: llkv.Connection) -> None:
    con.register("r", pa.table({"a": [1]}))
    other = con.duplicate()
    with pytest.raises(llkv.ProgrammingError, match="no such table: r"):
        other.execute("SELECT * FROM r")
    # Stored data can be made from registered data.
    con.execute("CREATE TABLE copy AS SELECT a * 2 AS a FROM r")
    assert other.execute("SELECT a FROM copy").to_pylist() == [{"a": 2}]
    other.close()


def test_register_rejects_bad_data(con: llkv.Connection) -> None:
    with pytest.raises(llkv.ProgrammingError, match="register needs Arrow data"):
        con.register("x", {"a": [1]})
    with pytest.raises(llkv.NotSupportedError, match="Arrow type"):
        con.register("x", pa.table({"a": pa.array([[1]], pa.list_(pa.int64()))}))
    con.register("small", pa.table({"a": pa.array([1, 2], pa.int8())}))
    assert con.execute("SELECT typeof(a) AS t FROM small LIMIT 1").to_pylist() == [{"t": "integer"}]
