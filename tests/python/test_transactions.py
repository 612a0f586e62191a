"""Explicit transactions: BEGIN / COMMIT / ROLLBACK."""

from pathlib import Path

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
