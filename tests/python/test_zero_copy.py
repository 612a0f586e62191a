"""Results reach pyarrow without copying: the buffer addresses pyarrow sees
are the ones the engine produced (checked through a private debug hook)."""

from pathlib import Path

import pyarrow as pa

import llkv

ROWS = 5000


def fill(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    values = ", ".join(f"({i}, 'row {i}')" for i in range(ROWS))
    con.execute(f"INSERT INTO t VALUES {values}")


def assert_same_buffers(con: llkv.Connection, sql: str) -> pa.Table:
    table, addresses = con._execute_debug_addresses(sql)
    assert isinstance(table, pa.Table)
    chunks = table.column(0).chunks
    assert len(chunks) == len(addresses) >= 1
    for chunk, address in zip(chunks, addresses, strict=True):
        assert address != 0
        # buffers()[0] is the validity bitmap, [1] the values (or offsets).
        assert chunk.buffers()[1].address == address
    return table


def test_in_memory_result_is_not_copied() -> None:
    with llkv.connect() as con:
        fill(con)
        table = assert_same_buffers(con, "SELECT a, b FROM t")
        assert table.num_rows == ROWS
        assert sorted(table.column("a").to_pylist()) == list(range(ROWS))
        assert_same_buffers(con, "SELECT b FROM t")


def test_file_result_is_not_copied(tmp_path: Path) -> None:
    path = tmp_path / "zc.llkv"
    with llkv.connect(path) as con:
        fill(con)
    with llkv.connect(path) as con:
        table = assert_same_buffers(con, "SELECT a FROM t")
        assert table.num_rows == ROWS
        assert table.schema.field("a").type == pa.int64()
