"""Bulk ingest: Connection.insert_arrow(table, data, create=False)."""

from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import llkv


def test_creates_a_table_from_an_arrow_table(con: llkv.Connection) -> None:
    data = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "name": ["a", None, "c"],
            "score": pa.array([0.5, 1.5, None], pa.float32()),
            "ok": [True, False, None],
            "raw": pa.array([b"\x00", None, b"zz"], pa.large_binary()),
        }
    )
    assert con.insert_arrow("t", data, create=True) == 3
    result = con.execute("SELECT id, name, score, ok, raw FROM t ORDER BY id")
    assert result.schema.types == [pa.int64(), pa.string(), pa.float64(), pa.bool_(), pa.binary()]
    assert result.to_pylist() == [
        {"id": 1, "name": "a", "score": 0.5, "ok": True, "raw": b"\x00"},
        {"id": 2, "name": None, "score": 1.5, "ok": False, "raw": None},
        {"id": 3, "name": "c", "score": None, "ok": None, "raw": b"zz"},
    ]


def test_appends_by_column_name_with_defaults(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT DEFAULT 'dflt', c REAL)")
    batch = pa.record_batch({"c": [1.0, 2.0], "a": [10, 20]})
    assert con.insert_arrow("t", batch) == 2
    assert con.execute("SELECT a, b, c FROM t ORDER BY a").to_pylist() == [
        {"a": 10, "b": "dflt", "c": 1.0},
        {"a": 20, "b": "dflt", "c": 2.0},
    ]


def test_accepts_pandas_polars_and_readers(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    assert con.insert_arrow("t", pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})) == 2
    assert con.insert_arrow("t", pl.DataFrame({"a": [3], "b": ["z"]})) == 1
    table = pa.table({"a": [4, 5, 6], "b": ["p", "q", "r"]})
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1))
    assert con.insert_arrow("t", reader) == 3
    assert con.execute("SELECT count(*) AS n, sum(a) AS s FROM t").to_pylist() == [
        {"n": 6, "s": 21}
    ]


def test_constraint_violations_change_nothing(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b INTEGER NOT NULL CHECK (b > 0))")
    con.execute("INSERT INTO t VALUES (1, 1)")
    with pytest.raises(llkv.IntegrityError, match="UNIQUE"):
        con.insert_arrow("t", pa.table({"a": [2, 1], "b": [1, 1]}))
    with pytest.raises(llkv.IntegrityError, match="NOT NULL"):
        con.insert_arrow("t", pa.table({"a": [3], "b": pa.array([None], pa.int64())}))
    with pytest.raises(llkv.IntegrityError, match="CHECK"):
        con.insert_arrow("t", pa.table({"a": [4], "b": [-1]}))
    assert con.execute("SELECT a FROM t").to_pylist() == [{"a": 1}]


def test_bad_input_raises_the_right_errors(con: llkv.Connection) -> None:
    with pytest.raises(llkv.ProgrammingError, match="no such table"):
        con.insert_arrow("missing", pa.table({"a": [1]}))
    con.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(llkv.ProgrammingError, match="no column named b"):
        con.insert_arrow("t", pa.table({"b": [1]}))
    with pytest.raises(llkv.DataError, match="column a"):
        con.insert_arrow("t", pa.table({"a": pa.array([2**63], pa.uint64())}))
    with pytest.raises(llkv.NotSupportedError, match="Arrow type"):
        con.insert_arrow("t", pa.table({"a": pa.array([[1]], pa.list_(pa.int64()))}))
    with pytest.raises(llkv.ProgrammingError, match=r"needs Arrow data.*got list"):
        con.insert_arrow("t", [1, 2, 3])


def test_runs_inside_the_open_transaction(tmp_path: Path) -> None:
    with llkv.connect(tmp_path / "ingest.llkv") as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("BEGIN")
        con.insert_arrow("t", pa.table({"a": list(range(1000))}))
        assert con.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 1000}]
        con.rollback()
        assert con.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 0}]
        con.insert_arrow("t", pa.table({"a": list(range(100_000))}))
    with llkv.connect(tmp_path / "ingest.llkv") as con:
        assert con.execute("SELECT count(*) AS n, sum(a) AS s FROM t").to_pylist() == [
            {"n": 100_000, "s": sum(range(100_000))}
        ]
