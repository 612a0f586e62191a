"""Connection.register: Arrow data queryable by name, read in place."""

import numpy as np
import numpy.typing as npt
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
    with pytest.raises(llkv.ProgrammingError, match="must not be empty"):
        con.register(" ", pa.table({"a": [1]}))
    with pytest.raises(llkv.ProgrammingError, match="register needs Arrow data"):
        con.register("x", {"a": [1]})
    with pytest.raises(llkv.NotSupportedError, match="Arrow type"):
        con.register("x", pa.table({"a": pa.array([[1]], pa.list_(pa.int64()))}))
    con.register("small", pa.table({"a": pa.array([1, 2], pa.int8())}))
    assert con.execute("SELECT typeof(a) AS t FROM small LIMIT 1").to_pylist() == [{"t": "integer"}]


class StreamOnly:
    """An Arrow producer known only by the PyCapsule stream protocol."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self.table.__arrow_c_stream__(requested_schema)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda t: t, id="table"),
        pytest.param(lambda t: t.to_batches()[0], id="record_batch"),
        pytest.param(
            lambda t: pa.RecordBatchReader.from_batches(t.schema, t.to_batches()), id="reader"
        ),
        pytest.param(StreamOnly, id="arrow_c_stream"),
        pytest.param(lambda t: t.to_pandas(), id="pandas"),
        pytest.param(pl.from_arrow, id="polars"),
    ],
)
def test_every_arrow_producer_registers(con: llkv.Connection, make: object) -> None:
    table = pa.table({"a": pa.array([3, 1, 2], pa.int64()), "b": ["x", None, "z"]})
    con.register("r", make(table))  # type: ignore[operator]
    assert con.execute("SELECT a, b FROM r ORDER BY a").to_pylist() == [
        {"a": 1, "b": None},
        {"a": 2, "b": "z"},
        {"a": 3, "b": "x"},
    ]


def numpy_address(array: npt.NDArray[np.int64]) -> int:
    """Address of an array's first element."""
    return int(array.__array_interface__["data"][0])


def test_numpy_backed_pandas_columns_register_without_copying(con: llkv.Connection) -> None:
    values = np.arange(100_000, dtype=np.int64)
    frame = pd.DataFrame({"x": values, "y": values.astype(np.float64)})
    con.register("frame", frame)
    result = con.cursor().execute("SELECT x, y FROM frame").arrow()
    x, y = result.column("x").chunks[0], result.column("y").chunks[0]
    assert int(x.buffers()[1].address) == numpy_address(frame["x"].to_numpy())
    assert int(y.buffers()[1].address) == numpy_address(frame["y"].to_numpy())


def test_fetchnumpy_hands_out_the_registered_memory(con: llkv.Connection) -> None:
    values = np.arange(50_000, dtype=np.int64)
    frame = pd.DataFrame({"x": values, "f": values / 2})
    con.register("frame", frame)
    arrays = con.cursor().execute("SELECT x, f FROM frame").fetchnumpy()
    # NumPy in, NumPy out, through a query: one buffer all the way.
    assert numpy_address(arrays["x"]) == numpy_address(frame["x"].to_numpy())
    assert arrays["f"].dtype == np.float64
    np.testing.assert_array_equal(arrays["f"], values / 2)
