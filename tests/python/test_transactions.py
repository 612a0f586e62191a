"""Explicit transactions: BEGIN / COMMIT / ROLLBACK."""

from pathlib import Path

import pytest

import llkv


def test_rollback_discards_insert(any_con: llkv.Connection) -> None:
    any_con.execute("CREATE TABLE t (a INTEGER)")
    assert any_con.in_transaction is False
    any_con.execute("BEGIN")
    assert any_con.in_transaction is True
    any_con.execute("INSERT INTO t VALUES (?)", [1])
    assert any_con.execute("SELECT a FROM t").to_pylist() == [{"a": 1}]
    any_con.execute("ROLLBACK")
    assert any_con.in_transaction is False
    assert any_con.execute("SELECT a FROM t").num_rows == 0


def test_commit_keeps_insert(any_con: llkv.Connection) -> None:
    any_con.execute("CREATE TABLE t (a INTEGER)")
    any_con.execute("BEGIN")
    any_con.execute("INSERT INTO t VALUES (?)", [7])
    any_con.execute("COMMIT")
    assert any_con.in_transaction is False
    assert any_con.execute("SELECT a FROM t").to_pylist() == [{"a": 7}]


def test_uncommitted_rows_invisible_to_other_connection(tmp_path: Path) -> None:
    # DESIGN.md: one engine per database file in a process, shared by all of
    # its connections; each connection has its own transaction.
    path = tmp_path / "iso.llkv"
    with llkv.connect(path) as writer:
        writer.execute("CREATE TABLE t (a INTEGER)")
        writer.execute("BEGIN")
        writer.execute("INSERT INTO t VALUES (1)")
        # A second connection in the same process shares the database.
        with llkv.connect(path) as reader:
            assert reader.execute("SELECT COUNT(*) AS n FROM t").to_pylist() == [{"n": 0}]
            writer.execute("COMMIT")
            assert reader.execute("SELECT COUNT(*) AS n FROM t").to_pylist() == [{"n": 1}]


def test_commit_and_rollback_methods(any_con: llkv.Connection) -> None:
    any_con.execute("CREATE TABLE t (a INTEGER)")
    any_con.commit()  # no transaction open: nothing happens (PEP 249)
    any_con.rollback()
    any_con.execute("BEGIN")
    any_con.execute("INSERT INTO t VALUES (1)")
    any_con.commit()
    assert any_con.in_transaction is False
    any_con.execute("BEGIN")
    any_con.execute("INSERT INTO t VALUES (2)")
    any_con.rollback()
    assert any_con.in_transaction is False
    assert any_con.execute("SELECT a FROM t").to_pylist() == [{"a": 1}]


def test_with_block_commits_on_success(tmp_path: Path) -> None:
    path = tmp_path / "with.llkv"
    with llkv.connect(path) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (1)")
    assert con.closed
    with llkv.connect(path) as con:
        assert con.execute("SELECT a FROM t").to_pylist() == [{"a": 1}]


def test_with_block_rolls_back_on_exception(tmp_path: Path) -> None:
    path = tmp_path / "with.llkv"
    with llkv.connect(path) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(ZeroDivisionError), llkv.connect(path) as con:
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (1)")
        _ = 1 / 0
    assert con.closed
    with llkv.connect(path) as con:
        assert con.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 0}]


def test_duplicate_shares_an_in_memory_database() -> None:
    con = llkv.connect()
    other = con.duplicate()
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (1)")
    assert other.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 0}]
    con.commit()
    assert other.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 1}]
    con.close()
    # the database lives while one of its connections does
    assert other.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 1}]
    other.close()
    with pytest.raises(llkv.ProgrammingError, match="closed"):
        other.duplicate()


def test_named_memory_databases_are_shared_by_name() -> None:
    a = llkv.connect(":memory:shared_test_db")
    b = llkv.connect(":memory:shared_test_db")
    c = llkv.connect(":memory:another_db")
    a.execute("CREATE TABLE t (a INTEGER)")
    a.execute("INSERT INTO t VALUES (5)")
    assert b.execute("SELECT a FROM t").to_pylist() == [{"a": 5}]
    with pytest.raises(llkv.ProgrammingError, match="no such table"):
        c.execute("SELECT a FROM t")
    for con in (a, b, c):
        con.close()
    # once every connection is closed, the name starts afresh
    fresh = llkv.connect(":memory:shared_test_db")
    with pytest.raises(llkv.ProgrammingError, match="no such table"):
        fresh.execute("SELECT a FROM t")
    fresh.close()


def test_savepoints(any_con: llkv.Connection) -> None:
    any_con.execute("CREATE TABLE t (a INTEGER)")
    any_con.execute("BEGIN")
    any_con.execute("INSERT INTO t VALUES (1)")
    any_con.execute("SAVEPOINT sp")
    any_con.execute("INSERT INTO t VALUES (2)")
    any_con.execute("ROLLBACK TO sp")
    any_con.execute("RELEASE sp")
    any_con.commit()
    assert any_con.execute("SELECT a FROM t").to_pylist() == [{"a": 1}]
    with pytest.raises(llkv.OperationalError, match="no such savepoint"):
        any_con.execute("ROLLBACK TO sp")


def test_connections_in_threads_see_snapshots(tmp_path: Path) -> None:
    # The snapshot of a transaction is taken at its first statement.
    path = tmp_path / "snap.llkv"
    with llkv.connect(path) as a, llkv.connect(path) as b:
        a.execute("CREATE TABLE t (a INTEGER)")
        a.execute("BEGIN")
        b.execute("INSERT INTO t VALUES (1)")
        assert a.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 1}]
        b.execute("INSERT INTO t VALUES (2)")
        assert a.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 1}]
        a.commit()
        assert a.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 2}]


def test_duckdb_dialect_aborts_the_transaction_on_error() -> None:
    con = llkv.connect(dialect="duckdb")
    con.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(llkv.IntegrityError):
        con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(llkv.OperationalError, match="transaction is aborted"):
        con.execute("SELECT 1")
    # The copy follows the same dialect; its own transaction is unaffected.
    other = con.duplicate()
    assert other.execute("PRAGMA dialect").to_pylist() == [{"dialect": "duckdb"}]
    con.commit()  # rolls back, as DuckDB does
    assert con.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 0}]


def test_unknown_dialect_is_a_programming_error() -> None:
    with pytest.raises(llkv.ProgrammingError, match="sqlite or duckdb"):
        llkv.connect(dialect="oracle")  # type: ignore[arg-type]


def test_ddl_on_a_name_another_transaction_changed_conflicts(db_path: Path) -> None:
    # First writer wins on table names as on rows: no waiting, no lost DDL.
    with llkv.connect(db_path) as a, llkv.connect(db_path) as b:
        a.execute("BEGIN")
        a.execute("CREATE TABLE t (i INTEGER)")
        with pytest.raises(llkv.TransactionConflictError, match="table t"):
            b.execute("CREATE TABLE t (j INTEGER)")
        assert b.in_transaction is False
        a.execute("COMMIT")
        # The name is free once a ended; b sees a's table.
        b.execute("DROP TABLE t")
        with pytest.raises(llkv.ProgrammingError, match="no such table"):
            a.execute("SELECT * FROM t")
