"""Peer benchmark: llkv next to sqlite3 (WAL, synchronous=FULL) and DuckDB.

Runs the same SQL workloads on file databases in a temporary directory and
prints wall-clock times and each peer's time relative to llkv (> 1: llkv is
faster). DuckDB is skipped when not installed. Not part of the test gate:
speed goals live here, never in timed unit tests.

    python scripts/peer_benchmark.py --rows 200000
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

import llkv


class Runner(Protocol):
    """The few operations every engine offers."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...

    def load_arrow(self, table: str, data: pa.Table) -> None:
        """Append ``data`` to ``table`` by the engine's fastest route from Arrow."""
        ...


class LlkvRunner:
    """llkv through its Python API."""

    def __init__(self, path: Path) -> None:
        self.con = llkv.connect(path)

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        table = self.con.execute(sql, list(params))
        return [tuple(r.values()) for r in table.to_pylist()]

    def begin(self) -> None:
        self.con.execute("BEGIN")

    def commit(self) -> None:
        self.con.commit()

    def close(self) -> None:
        self.con.close()

    def load_arrow(self, table: str, data: pa.Table) -> None:
        self.con.insert_arrow(table, data)


class SqliteRunner:
    """sqlite3 in WAL mode with synchronous=FULL (durable commits)."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, tuple(params)).fetchall()

    def begin(self) -> None:
        self.con.execute("BEGIN")

    def commit(self) -> None:
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()

    def load_arrow(self, table: str, data: pa.Table) -> None:
        # sqlite3 has no Arrow input: executemany is its bulk path.
        marks = ", ".join("?" * data.num_columns)
        self.con.execute("BEGIN")
        self.con.executemany(
            f"INSERT INTO {table} VALUES ({marks})",
            zip(*(c.to_pylist() for c in data.columns), strict=True),
        )
        self.con.execute("COMMIT")


class DuckRunner:
    """DuckDB with its defaults."""

    def __init__(self, path: Path) -> None:
        import duckdb

        self.con = duckdb.connect(str(path))

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.con.execute(sql, list(params)).fetchall()
        return rows

    def begin(self) -> None:
        self.con.execute("BEGIN")

    def commit(self) -> None:
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()

    def load_arrow(self, table: str, data: pa.Table) -> None:
        self.con.register("arrow_input", data)
        self.con.execute(f"INSERT INTO {table} SELECT * FROM arrow_input")
        self.con.unregister("arrow_input")


def file_size(path: Path) -> int:
    """Bytes used by a database and its side files (WAL, ...)."""
    return sum(p.stat().st_size for p in path.parent.iterdir() if p.name.startswith(path.name))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def workload(db: Runner, path: Path, rows: int, report: dict[str, float]) -> None:
    """Every measured step, in order, on one engine."""
    rng = random.Random(42)
    db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER, x DOUBLE)")

    batch = 1000

    def load() -> None:
        db.begin()
        for start in range(0, rows, batch):
            n = min(batch, rows - start)
            values = ", ".join(["(?, ?, ?, ?)"] * n)
            params: list[Any] = []
            for i in range(start, start + n):
                params += [i, i % 100, i * 7 % 1000, rng.random()]
            db.run(f"INSERT INTO t VALUES {values}", params)
        db.commit()

    report["bulk load (1000-row INSERTs, one txn)"] = timed(load)

    ids_column = pa.array(range(rows), pa.int64())
    arrow = pa.table(
        {
            "id": ids_column,
            "k": pa.array([i % 100 for i in range(rows)], pa.int64()),
            "v": pa.array([i * 7 % 1000 for i in range(rows)], pa.int64()),
            "x": pa.array([rng.random() for _ in range(rows)], pa.float64()),
        }
    )
    db.run("CREATE TABLE t2 (id INTEGER, k INTEGER, v INTEGER, x DOUBLE)")
    report["bulk load from Arrow (insert_arrow)"] = timed(lambda: db.load_arrow("t2", arrow))

    def durable_commits() -> None:
        db.run("CREATE TABLE log (id INTEGER, msg TEXT)")
        for i in range(200):
            db.run("INSERT INTO log VALUES (?, ?)", [i, "hello"])

    report["200 durable single-row commits"] = timed(durable_commits)

    ids = [rng.randrange(rows) for _ in range(2000)]

    def lookups() -> None:
        for i in ids:
            db.run("SELECT v FROM t WHERE id = ?", [i])

    report["2000 primary-key lookups"] = timed(lookups)

    report["group by (100 groups)"] = timed(
        lambda: db.run("SELECT k, count(*), sum(v), avg(x) FROM t GROUP BY k")
    )
    report["filtered count"] = timed(lambda: db.run("SELECT count(*) FROM t WHERE x > 0.5"))

    before = file_size(path)

    def updates() -> None:
        for i in ids[:1000]:
            db.run("UPDATE t SET v = v + 1 WHERE id = ?", [i])

    report["1000 single-row autocommit UPDATEs"] = timed(updates)
    report["file growth per UPDATE (bytes)"] = (file_size(path) - before) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the main table")
    args = parser.parse_args()
    engines: dict[str, Callable[[Path], Runner]] = {
        "llkv": LlkvRunner,
        "sqlite": SqliteRunner,
    }
    try:
        import duckdb  # noqa: F401

        engines["duckdb"] = DuckRunner
    except ImportError:
        print("duckdb not installed: skipped")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in engines.items():
            path = Path(tmp) / name / f"bench.{name}"
            os.makedirs(path.parent)
            db = make(path)
            report: dict[str, float] = {}
            workload(db, path, args.rows, report)
            db.close()
            results[name] = report
    steps = list(results["llkv"])
    names = list(results)
    print(f"rows: {args.rows}")
    header = f"{'step':42}" + "".join(f"{n:>12}" for n in names)
    header += "".join(f"{n + '/llkv':>14}" for n in names[1:])
    print(header)
    for step in steps:
        cells = "".join(f"{results[n][step]:12.4f}" for n in names)
        base = results["llkv"][step] or float("nan")
        ratios = "".join(f"{results[n][step] / base:14.2f}" for n in names[1:])
        print(f"{step:42}{cells}{ratios}")


if __name__ == "__main__":
    main()
