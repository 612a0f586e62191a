"""UPDATE keeps a row's place: a scan returns the new version where the old
one was, across segments, snapshots, reopen and VACUUM (the order SQLite and
DuckDB give without ORDER BY, which pandas users rely on)."""

from pathlib import Path

import pyarrow as pa

import llkv

ROWS = 200_000


def keys(con: llkv.Connection, sql: str = "SELECT k FROM t") -> list[int]:
    column = con.execute(sql).column("k").to_pylist()
    return [int(v) for v in column]


def load(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (k BIGINT, v BIGINT)")
    table = pa.table(
        {"k": pa.array(range(ROWS), pa.int64()), "v": pa.array([0] * ROWS, pa.int64())}
    )
    con.insert_arrow("t", table)


def test_scattered_updates_keep_order_across_segments(any_con: llkv.Connection) -> None:
    load(any_con)
    # Many small commits, each moving rows of several segments to the tail.
    for start in range(0, 70):
        any_con.execute("UPDATE t SET v = v + 1 WHERE k % 997 = ?", [start])
    any_con.execute("UPDATE t SET v = -1 WHERE k BETWEEN 65530 AND 65545")
    assert keys(any_con) == list(range(ROWS))
    values = any_con.execute("SELECT v FROM t").column("v").to_pylist()
    assert values[65_536] == -1 and values[997 * 3 + 5] == 1 and values[997 * 3 + 80] == 0
    # Aggregates see every row once.
    counts = any_con.execute("SELECT count(*) AS n, count(DISTINCT k) AS d FROM t")
    assert counts.to_pylist() == [{"n": ROWS, "d": ROWS}]
    assert any_con.execute("PRAGMA integrity_check").column(0).to_pylist() == ["ok"]


def test_old_snapshot_sees_old_version_in_place(db_path: Path) -> None:
    with llkv.connect(db_path) as writer, llkv.connect(db_path) as reader:
        writer.execute("CREATE TABLE t (k INTEGER, v TEXT)")
        writer.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        reader.execute("BEGIN")
        assert reader.execute("SELECT v FROM t").column("v").to_pylist() == ["a", "b", "c"]
        writer.execute("UPDATE t SET v = 'B' WHERE k = 2")
        writer.execute("UPDATE t SET v = 'A' WHERE k = 1")
        # The open transaction keeps its snapshot, in the same order.
        assert reader.execute("SELECT v FROM t").column("v").to_pylist() == ["a", "b", "c"]
        reader.execute("COMMIT")
        assert reader.execute("SELECT v FROM t").column("v").to_pylist() == ["A", "B", "c"]


def test_order_survives_reopen_and_vacuum(db_path: Path) -> None:
    with llkv.connect(db_path) as con:
        con.execute("CREATE TABLE t (k INTEGER, v TEXT)")
        con.execute("INSERT INTO t SELECT i, 'x' FROM generate_series(0, 999) AS s(i)")
        con.execute("UPDATE t SET v = 'y' WHERE k % 10 = 3")
        con.execute("BEGIN")
        con.execute("UPDATE t SET v = 'z' WHERE k % 100 = 3")
        con.execute("INSERT INTO t VALUES (1000, 'new')")
        con.execute("UPDATE t SET v = 'w' WHERE k = 1000")
        con.execute("COMMIT")
    with llkv.connect(db_path) as con:
        assert keys(con) == list(range(1001))
        values = con.execute("SELECT v FROM t").column("v").to_pylist()
        assert values[3] == "z" and values[13] == "y" and values[14] == "x" and values[1000] == "w"
        con.execute("DELETE FROM t WHERE k % 10 = 5")
        con.execute("VACUUM")
        expected = [k for k in range(1001) if k % 10 != 5]
        assert keys(con) == expected
        assert con.execute("PRAGMA integrity_check").column(0).to_pylist() == ["ok"]
    with llkv.connect(db_path) as con:
        assert keys(con) == expected


def test_rolled_back_update_leaves_no_trace(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (k INTEGER)")
    con.execute("INSERT INTO t VALUES (1), (2), (3)")
    con.execute("BEGIN")
    con.execute("UPDATE t SET k = k * 10 WHERE k = 1")
    assert keys(con) == [10, 2, 3]
    con.execute("ROLLBACK")
    assert keys(con) == [1, 2, 3]
    con.execute("INSERT INTO t VALUES (4)")
    assert keys(con) == [1, 2, 3, 4]


def test_update_of_rows_loaded_from_arrow_in_the_same_transaction(con: llkv.Connection) -> None:
    # The loaded batch keeps its own (non-nullable) schema until commit,
    # where it is ordered together with the UPDATE's new versions.
    con.execute("CREATE TABLE t (k BIGINT, v BIGINT)")
    con.execute("INSERT INTO t VALUES (0, 0)")
    schema = pa.schema([pa.field("k", pa.int64(), nullable=False), pa.field("v", pa.int64())])
    con.execute("BEGIN")
    con.insert_arrow("t", pa.table({"k": [1, 2, 3], "v": [0, 0, 0]}, schema=schema))
    con.execute("UPDATE t SET v = 1 WHERE k IN (0, 2)")
    con.execute("INSERT INTO t VALUES (4, NULL)")
    con.execute("UPDATE t SET v = 2 WHERE k = 1")
    con.execute("COMMIT")
    assert con.execute("SELECT k, v FROM t").to_pylist() == [
        {"k": 0, "v": 1},
        {"k": 1, "v": 2},
        {"k": 2, "v": 1},
        {"k": 3, "v": 0},
        {"k": 4, "v": None},
    ]
    assert con.execute("PRAGMA integrity_check").column(0).to_pylist() == ["ok"]
