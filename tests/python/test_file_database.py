"""File databases: data survives close and reopen."""

import subprocess
import sys
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
    con = llkv.connect(db_path)
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (1)")
    con.close()
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


def test_second_process_gets_operational_error(db_path: Path) -> None:
    """Only one process may write a database file; another one is told so."""
    with llkv.connect(db_path) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        probe = (
            "import sys, llkv\n"
            "try:\n"
            "    llkv.connect(sys.argv[1])\n"
            "except llkv.OperationalError as e:\n"
            "    print('OperationalError:', e)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", probe, str(db_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        assert out.startswith("OperationalError:")
        assert "locked" in out and str(db_path) in out
    # Once this process has closed it, another process may open it.
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, llkv; print(llkv.connect(sys.argv[1]).execute('SELECT 1 AS x').num_rows)",
            str(db_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.strip() == "1"
