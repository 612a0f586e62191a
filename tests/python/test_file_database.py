"""File databases: data survives close and reopen."""

from pathlib import Path

import llkv


def test_write_close_reopen(db_path: Path) -> None:
    con = llkv.connect(str(db_path))
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    con.execute("INSERT INTO t VALUES (?, ?), (?, ?)", [1, "x", 2, None])
    con.close()
    assert db_path.exists()

    con = llkv.connect(str(db_path))
    try:
        result = con.execute("SELECT a, b FROM t ORDER BY a")
        assert result.to_pylist() == [{"a": 1, "b": "x"}, {"a": 2, "b": None}]
    finally:
        con.close()


def test_with_block_persists(db_path: Path) -> None:
    with llkv.connect(db_path) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("INSERT INTO t VALUES (?)", [42])
    assert con.closed
    with llkv.connect(db_path) as con:
        assert con.execute("SELECT a FROM t").to_pylist() == [{"a": 42}]


def test_rolled_back_rows_do_not_persist(db_path: Path) -> None:
    with llkv.connect(db_path) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (2)")
        con.execute("ROLLBACK")
    with llkv.connect(db_path) as con:
        assert con.execute("SELECT a FROM t").to_pylist() == [{"a": 1}]


def test_open_transaction_is_discarded_on_close(db_path: Path) -> None:
    with llkv.connect(db_path) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (1)")
    with llkv.connect(db_path) as con:
        assert con.execute("SELECT COUNT(*) AS n FROM t").to_pylist() == [{"n": 0}]


def test_connections_to_one_file_share_it(db_path: Path) -> None:
    first = llkv.connect(db_path)
    second = llkv.connect(str(db_path))
    first.execute("CREATE TABLE t (a INTEGER)")
    first.execute("INSERT INTO t VALUES (1)")
    first.close()
    # The database stays open for the remaining connection ...
    assert second.execute("SELECT a FROM t").to_pylist() == [{"a": 1}]
    second.close()
    # ... and is released when the last one closes.
    with llkv.connect(db_path) as con:
        assert con.execute("SELECT COUNT(*) AS n FROM t").to_pylist() == [{"n": 1}]
