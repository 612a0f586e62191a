"""File databases: data survives close and reopen."""

import subprocess
import sys
from pathlib import Path

import pytest

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


def test_schemas_survive_reopen(db_path: Path) -> None:
    with llkv.connect(db_path) as con:
        con.execute("CREATE SCHEMA sales")
        con.execute("CREATE TABLE sales.t (a INTEGER)")
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("INSERT INTO sales.t VALUES (1)")
        con.execute("INSERT INTO t VALUES (2)")
    with llkv.connect(db_path) as con:
        assert con.execute("SELECT a FROM sales.t").to_pylist() == [{"a": 1}]
        assert con.execute("SELECT a FROM main.t").to_pylist() == [{"a": 2}]
        with pytest.raises(llkv.ProgrammingError, match="already exists"):
            con.execute("CREATE SCHEMA sales")
        with pytest.raises(llkv.ProgrammingError, match="no such schema: other"):
            con.execute("CREATE TABLE other.t (a INTEGER)")


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


@pytest.mark.parametrize("level", ["full", "normal", "off"])
def test_synchronous_levels_keep_committed_data(db_path: Path, level: str) -> None:
    with llkv.connect(db_path, synchronous=level) as con:  # type: ignore[arg-type]
        con.execute("CREATE TABLE t (a INTEGER)")
        for i in range(20):
            con.execute("INSERT INTO t VALUES (?)", [i])
        code = {"full": 2, "normal": 1, "off": 0}[level]
        assert con.execute("PRAGMA synchronous").to_pylist() == [{"synchronous": code}]
    with llkv.connect(db_path) as con:
        assert con.execute("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 20}]


def test_synchronous_pragma_and_bad_values(db_path: Path) -> None:
    with llkv.connect(db_path) as con:
        assert con.execute("PRAGMA synchronous").to_pylist() == [{"synchronous": 2}]
        con.execute("PRAGMA synchronous = NORMAL")
        assert con.execute("PRAGMA synchronous").to_pylist() == [{"synchronous": 1}]
        con.execute("PRAGMA synchronous = 0")
        assert con.execute("PRAGMA synchronous").to_pylist() == [{"synchronous": 0}]
        with pytest.raises(llkv.ProgrammingError, match="full, normal or off"):
            con.execute("PRAGMA synchronous = sometimes")
        with pytest.raises(llkv.NotSupportedError, match="PRAGMA"):
            con.execute("PRAGMA no_such_setting")
    with pytest.raises(llkv.ProgrammingError, match="full, normal or off"):
        llkv.connect(db_path, synchronous="always")  # type: ignore[arg-type]


def test_vacuum_keeps_live_rows(db_path: Path) -> None:
    con = llkv.connect(db_path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    con.execute("INSERT INTO t VALUES (1, 0), (2, 0), (3, 0)")
    con.close()
    # Between checkpoints new versions live in the log and in memory, where
    # a later version replaces an earlier one before it reaches the data
    # file. A clean close checkpoints: each round leaves its versions in
    # the data file, and the next round's supersede them there.
    for i in range(10):
        con = llkv.connect(db_path)
        con.execute("UPDATE t SET v = ? WHERE id = 2", [i * 10])
        con.execute("UPDATE t SET v = ? WHERE id = 2", [i * 10 + 9])
        con.close()
    with llkv.connect(db_path) as con:
        con.execute("DELETE FROM t WHERE id = 3")
        before = db_path.stat().st_size
        con.execute("VACUUM")
        # The space of the superseded versions (and their catalog roots)
        # goes back to the file system.
        assert db_path.stat().st_size * 4 < before
        assert con.execute("SELECT id, v FROM t ORDER BY id").to_pylist() == [
            {"id": 1, "v": 0},
            {"id": 2, "v": 99},
        ]
        con.execute("INSERT INTO t VALUES (4, 4)")
        with pytest.raises(llkv.OperationalError, match="VACUUM"):
            con.execute("BEGIN")
            try:
                con.execute("VACUUM")
            finally:
                con.rollback()
    with llkv.connect(db_path) as con:
        assert con.execute("SELECT id, v FROM t ORDER BY id").to_pylist() == [
            {"id": 1, "v": 0},
            {"id": 2, "v": 99},
            {"id": 4, "v": 4},
        ]


def file_mappings(path: Path) -> list[tuple[int, int]]:
    """Address ranges of this process's memory mappings of `path`."""
    target = str(path.resolve())
    ranges = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5] == target:
            lo, hi = fields[0].split("-")
            ranges.append((int(lo, 16), int(hi, 16)))
    return ranges


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_query_results_point_into_the_mapped_data_file(db_path: Path) -> None:
    import pyarrow as pa

    con = llkv.connect(db_path)
    con.insert_arrow("t", pa.table({"x": pa.array(range(100_000), pa.int64())}), create=True)
    con.execute("INSERT INTO t VALUES (-1)")
    con.close()
    con = llkv.connect(db_path)
    try:
        table = con.execute("SELECT x FROM t")
        assert table.num_rows == 100_001
        mappings = file_mappings(db_path)
        assert mappings, "the data file is mapped"
        # Every value buffer pyarrow holds lies inside the file's mapping:
        # no byte was copied between the file and the result.
        for chunk in table.column("x").chunks:
            address = int(chunk.buffers()[1].address)
            assert any(lo <= address < hi for lo, hi in mappings), hex(address)
    finally:
        con.close()
