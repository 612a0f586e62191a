"""Peer benchmark: the same workloads on llkv and its peers, side by side.

Engines (each skipped, and said so, when its package is missing):
llkv in memory and on a file; Python's sqlite3 in memory and on a file in
WAL mode with synchronous=FULL; DuckDB in memory and on a file; polars SQL
and DataFusion (analytic workloads only). Each workload runs a warm-up and
then ``--repeat`` timed repetitions per engine; the table shows each
engine's median and, for llkv, the ratio of its median to the best peer's
(< 1: llkv is faster). ``--json`` also writes every repetition's time.

    pip install duckdb datafusion polars      # the peers (dev only)
    python benchmarks/peers.py                # 1M rows, TPC-H SF1
    python benchmarks/peers.py --quick        # seconds: the CI smoke run

Speed goals live here, never in timed unit tests; ``--quick`` checks that
every workload runs and answers alike on every engine, not how fast.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import llkv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from tpch import QUERIES as TPCH_QUERIES  # noqa: E402
from tpch.dbgen import generate as tpch_generate  # noqa: E402

Rows = list[tuple[Any, ...]]

MAIN_DDL = "CREATE TABLE {name} (id BIGINT PRIMARY KEY, k BIGINT, v BIGINT, x DOUBLE, s VARCHAR)"
DIM_DDL = "CREATE TABLE d (k BIGINT PRIMARY KEY, name VARCHAR)"


class Engine:
    """One database under test. Subclasses implement the operations their
    engine has; ``oltp`` is False for the engines that only answer queries
    over Arrow data (no transactions, no updates)."""

    name = ""
    oltp = True
    # Whether it runs the TPC-H queries (their DATE and INTERVAL literals).
    tpch = True

    def __init__(self, path: Path | None) -> None:
        """Open the engine on the database file ``path``, or in memory."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """All rows of ``sql`` as Python tuples."""
        raise NotImplementedError

    def arrow(self, sql: str) -> pa.Table:
        """The rows of ``sql`` as a pyarrow Table."""
        raise NotImplementedError

    def load(self, name: str, ddl: str | None, data: pa.Table) -> None:
        """Create table ``name`` (with ``ddl``, if given) holding ``data``,
        by the engine's fastest route from Arrow."""
        raise NotImplementedError

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Execute a statement, discarding any result."""
        self.query(sql, params)

    def close(self) -> None:
        pass


class Llkv(Engine):
    def __init__(self, path: Path | None) -> None:
        self.name = "llkv-file" if path else "llkv-mem"
        self.con = llkv.connect(path, dialect="duckdb")
        self.cur = self.con.cursor()

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        # Rows through the DB-API cursor, as the sqlite3 and duckdb peers do.
        return self.cur.execute(sql, list(params)).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.con.execute(sql, list(params))

    def arrow(self, sql: str) -> pa.Table:
        return self.con.execute(sql)

    def load(self, name: str, ddl: str | None, data: pa.Table) -> None:
        if ddl:
            self.con.execute(ddl)
        self.con.insert_arrow(name, data, create=ddl is None)

    def close(self) -> None:
        self.con.close()


class Sqlite(Engine):
    tpch = False

    def __init__(self, path: Path | None) -> None:
        self.name = "sqlite-file" if path else "sqlite-mem"
        self.con = sqlite3.connect(path or ":memory:", isolation_level=None)
        if path:
            self.con.execute("PRAGMA journal_mode=WAL")
            self.con.execute("PRAGMA synchronous=FULL")

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return self.con.execute(sql, tuple(params)).fetchall()

    def arrow(self, sql: str) -> pa.Table:
        cur = self.con.execute(sql)
        names = [d[0] for d in cur.description]
        columns = list(zip(*cur.fetchall(), strict=True)) or [()] * len(names)
        return pa.table(dict(zip(names, (pa.array(c) for c in columns), strict=True)))

    def load(self, name: str, ddl: str | None, data: pa.Table) -> None:
        # sqlite3 has no Arrow input: executemany in one transaction is its bulk path.
        if ddl:
            self.con.execute(ddl)
        marks = ", ".join("?" * data.num_columns)
        self.con.execute("BEGIN")
        self.con.executemany(
            f"INSERT INTO {name} VALUES ({marks})",
            zip(*(c.to_pylist() for c in data.columns), strict=True),
        )
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()


class Duck(Engine):
    def __init__(self, path: Path | None) -> None:
        import duckdb

        self.name = "duckdb-file" if path else "duckdb-mem"
        self.con = duckdb.connect(str(path) if path else ":memory:")

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        rows: Rows = self.con.execute(sql, list(params)).fetchall()
        return rows

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.con.execute(sql, list(params))

    def arrow(self, sql: str) -> pa.Table:
        table: pa.Table = self.con.sql(sql).to_arrow_table()
        return table

    def load(self, name: str, ddl: str | None, data: pa.Table) -> None:
        self.con.register("arrow_input", data)
        if ddl:
            self.con.execute(ddl)
            self.con.execute(f"INSERT INTO {name} SELECT * FROM arrow_input")
        else:
            self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM arrow_input")
        self.con.unregister("arrow_input")

    def close(self) -> None:
        self.con.close()


class Polars(Engine):
    oltp = False

    def __init__(self, path: Path | None) -> None:
        import polars

        self.name = "polars"
        self.pl = polars
        self.ctx = polars.SQLContext()

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return [tuple(r.values()) for r in self.arrow(sql).to_pylist()]

    def arrow(self, sql: str) -> pa.Table:
        frame = self.ctx.execute(sql, eager=True)
        return frame.to_arrow()

    def load(self, name: str, ddl: str | None, data: pa.Table) -> None:
        self.ctx.register(name, self.pl.from_arrow(data))


class DataFusion(Engine):
    oltp = False

    def __init__(self, path: Path | None) -> None:
        import datafusion

        self.name = "datafusion"
        self.ctx = datafusion.SessionContext()

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return [tuple(r.values()) for r in self.arrow(sql).to_pylist()]

    def arrow(self, sql: str) -> pa.Table:
        table: pa.Table = self.ctx.sql(sql).to_arrow_table()
        return table

    def load(self, name: str, ddl: str | None, data: pa.Table) -> None:
        if self.ctx.table_exist(name):
            self.ctx.deregister_table(name)
        self.ctx.register_record_batches(name, [data.to_batches()])


ENGINE_CLASSES: list[tuple[type[Engine], bool]] = [
    (Llkv, False),
    (Llkv, True),
    (Sqlite, False),
    (Sqlite, True),
    (Duck, False),
    (Duck, True),
    (Polars, False),
    (DataFusion, False),
]


@dataclass
class Config:
    rows: int
    repeat: int
    warmup: int
    lookups: int
    updates: int
    commits: int
    insert_rows: int
    tpch_scale: float
    tpch_queries: tuple[str, ...]


def main_table(rows: int) -> pa.Table:
    """The big table: a key, 100 groups, ints, doubles and 5000 distinct strings."""
    rng = np.random.default_rng(42)
    ids = np.arange(rows, dtype=np.int64)
    return pa.table(
        {
            "id": ids,
            "k": ids % 100,
            "v": (ids * 7) % 1000,
            "x": rng.random(rows),
            "s": pa.array([f"str{i % 5000}" for i in range(rows)], pa.string()),
        }
    )


def dim_table() -> pa.Table:
    return pa.table(
        {
            "k": pa.array(range(100), pa.int64()),
            "name": pa.array([f"group {i % 10}" for i in range(100)], pa.string()),
        }
    )


# A workload: ``prepare(engine, rep)`` does untimed setup for repetition
# ``rep`` and returns the timed action, whose result (a value that must be
# equal on every engine, or None) is checked across engines.
Prepare = Callable[[Engine, int], Callable[[], object]]


@dataclass
class Workload:
    name: str
    oltp_only: bool
    prepare: Prepare


def workloads(cfg: Config, big: pa.Table, tpch: dict[str, pa.Table] | None) -> list[Workload]:
    rng = np.random.default_rng(7)
    ids = [int(i) for i in rng.integers(0, cfg.rows, cfg.lookups)]
    update_ids = [int(i) for i in rng.integers(0, cfg.rows, cfg.updates)]
    out: list[Workload] = []

    def bulk(engine: Engine, rep: int) -> Callable[[], object]:
        name = f"load_{rep}"
        return lambda: engine.load(name, MAIN_DDL.format(name=name), big)

    # polars and DataFusion only reference registered Arrow data: no load.
    out.append(Workload(f"load {cfg.rows:,} rows from Arrow", True, bulk))

    def insert_values(engine: Engine, rep: int) -> Callable[[], object]:
        name = f"ins_{rep}"
        engine.run(MAIN_DDL.format(name=name))
        batch = 1000
        statements = []
        for start in range(0, cfg.insert_rows, batch):
            n = min(batch, cfg.insert_rows - start)
            params: list[Any] = []
            for i in range(start, start + n):
                params += [i, i % 100, i * 7 % 1000, i / 7, f"str{i % 5000}"]
            statements.append(
                (f"INSERT INTO {name} VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * n), params)
            )

        def run() -> object:
            engine.run("BEGIN")
            for sql, params in statements:
                engine.run(sql, params)
            engine.run("COMMIT")
            return engine.query(f"SELECT count(*) FROM {name}")

        return run

    out.append(
        Workload(f"{cfg.insert_rows:,} rows, 1000-row INSERT VALUES, one txn", True, insert_values)
    )

    def lookups(engine: Engine, rep: int) -> Callable[[], object]:
        def run() -> object:
            total = 0
            for i in ids:
                total += engine.query("SELECT v FROM t WHERE id = ?", [i])[0][0]
            return None  # v changes under the UPDATE workload's repetitions

        return run

    out.append(Workload(f"{cfg.lookups:,} primary-key point selects", True, lookups))

    def updates(engine: Engine, rep: int) -> Callable[[], object]:
        def run() -> object:
            for i in update_ids:
                engine.run("UPDATE t SET v = v + 1 WHERE id = ?", [i])
            return None

        return run

    out.append(Workload(f"{cfg.updates:,} autocommit single-row UPDATEs", True, updates))

    def commits(engine: Engine, rep: int) -> Callable[[], object]:
        name = f"log_{rep}"
        engine.run(f"CREATE TABLE {name} (id BIGINT, msg VARCHAR)")

        def run() -> object:
            for i in range(cfg.commits):
                engine.run(f"INSERT INTO {name} VALUES (?, ?)", [i, "hello"])
            return engine.query(f"SELECT count(*) FROM {name}")

        return run

    out.append(Workload(f"{cfg.commits:,} single-row INSERT commits", True, commits))

    def analytic(name: str, sql: str, *, as_arrow: bool = False) -> None:
        def prepare(engine: Engine, rep: int) -> Callable[[], object]:
            if as_arrow:
                return lambda: engine.arrow(sql).num_rows
            return lambda: normalize(engine.query(sql))

        out.append(Workload(name, False, prepare))

    analytic("SELECT * to pyarrow", "SELECT * FROM t", as_arrow=True)
    analytic("SUM", "SELECT sum(x) FROM t")
    analytic(
        "GROUP BY, 100 groups",
        "SELECT k, count(*), sum(x), avg(x) FROM t GROUP BY k ORDER BY k",
    )
    analytic("filtered COUNT", "SELECT count(*) FROM t WHERE x > 0.5")
    analytic(
        "join 100-row dimension + GROUP BY",
        "SELECT d.name, count(*), sum(t.x) FROM t JOIN d ON t.k = d.k GROUP BY d.name "
        "ORDER BY d.name",
    )
    analytic("ORDER BY LIMIT 10", "SELECT id, x FROM t ORDER BY x DESC, id LIMIT 10")
    analytic("COUNT(DISTINCT string)", "SELECT count(DISTINCT s) FROM t")
    if tpch is not None:
        for q in cfg.tpch_queries:
            sql = (TPCH_QUERIES / f"{q}.sql").read_text()
            analytic(f"TPC-H SF{cfg.tpch_scale:g} {q.upper()}", sql)
    return out


def normalize(rows: Rows) -> object:
    """Rows comparable across engines: numbers as floats to 6 significant
    digits (engines sum in different orders and types), the rest as text."""

    def cell(v: object) -> object:
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int | float) or type(v).__name__ == "Decimal":
            f = float(v)  # type: ignore[arg-type]
            return float(f"{f:.6g}") if math.isfinite(f) else f
        return str(v)

    return [tuple(cell(v) for v in row) for row in rows]


@dataclass
class Result:
    times: list[float] = field(default_factory=list)
    error: str | None = None
    answer: object = None

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan


def bench_engine(
    engine: Engine, cfg: Config, big: pa.Table, tpch: dict[str, pa.Table] | None
) -> dict[str, Result]:
    """Every workload on one engine, the shared tables loaded first (untimed)."""
    engine.load("t", MAIN_DDL.format(name="t") if engine.oltp else None, big)
    engine.load("d", DIM_DDL if engine.oltp else None, dim_table())
    if tpch is not None and engine.tpch:
        for name, table in tpch.items():
            engine.load(name, None, table)
    results: dict[str, Result] = {}
    for work in workloads(cfg, big, tpch):
        if work.oltp_only and not engine.oltp:
            continue
        if work.name.startswith("TPC-H") and (tpch is None or not engine.tpch):
            continue
        result = Result()
        results[work.name] = result
        try:
            for rep in range(cfg.warmup + cfg.repeat):
                action = work.prepare(engine, rep)
                start = time.perf_counter()
                answer = action()
                elapsed = time.perf_counter() - start
                if rep >= cfg.warmup:
                    result.times.append(elapsed)
                result.answer = answer
        except Exception as error:  # a peer's SQL gap is reported, not fatal
            result.error = f"{type(error).__name__}: {str(error).splitlines()[0][:100]}"
    return results


def make_engines(tmp: Path, only: set[str] | None) -> list[Engine]:
    engines: list[Engine] = []
    for cls, on_file in ENGINE_CLASSES:
        path = tmp / f"{cls.__name__.lower()}.db" if on_file else None
        try:
            engine = cls(path)
        except ImportError as error:
            if not on_file:
                print(f"skipped {cls.__name__}: {error}")
            continue
        if only is None or engine.name in only:
            engines.append(engine)
        else:
            engine.close()
    return engines


def ratio_cells(results: dict[str, dict[str, Result]], work: str) -> list[str]:
    """llkv's medians divided by the best peer's."""
    peers = [
        r.median
        for name, rs in results.items()
        if not name.startswith("llkv") and (r := rs.get(work)) and not r.error and r.times
    ]
    best = min(peers, default=math.nan)
    cells = []
    for name in ("llkv-mem", "llkv-file"):
        r = results.get(name, {}).get(work)
        cells.append(f"{r.median / best:.2f}" if r and not r.error and best == best else "")
    return cells


def markdown(results: dict[str, dict[str, Result]]) -> str:
    names = list(results)
    works = list(dict.fromkeys(w for rs in results.values() for w in rs))
    head = ["workload (median seconds)", *names, "llkv-mem / best peer", "llkv-file / best peer"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for work in works:
        cells = [work]
        for name in names:
            r = results[name].get(work)
            if r is None:
                cells.append("")
            elif r.error:
                cells.append("error")
            else:
                cells.append(f"{r.median:.4g}")
        cells += ratio_cells(results, work)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def disagreements(results: dict[str, dict[str, Result]]) -> tuple[list[str], list[str]]:
    """Workloads on which engines answered differently: those where llkv
    differs from the reference peer (DuckDB, else SQLite), and all others."""
    llkv_wrong, others = [], []
    works = dict.fromkeys(w for rs in results.values() for w in rs)
    for work in works:
        answers = {
            name: json.dumps(rs[work].answer, default=str)
            for name, rs in results.items()
            if work in rs and not rs[work].error and rs[work].answer is not None
        }
        if len(set(answers.values())) < 2:
            continue
        line = f"{work}: " + "; ".join(f"{n}={a[:80]}" for n, a in answers.items())
        reference = answers.get("duckdb-mem", answers.get("sqlite-mem"))
        llkv_answers = {a for n, a in answers.items() if n.startswith("llkv")}
        if reference is not None and llkv_answers - {reference}:
            llkv_wrong.append(line)
        else:
            others.append(line)
    return llkv_wrong, others


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tpch-scale", type=float, default=1.0)
    parser.add_argument("--no-tpch", action="store_true", help="skip the TPC-H queries")
    parser.add_argument("--engines", help="comma-separated engine names (default: all installed)")
    parser.add_argument("--json", type=Path, help="write all timings here")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, one repetition: a smoke test"
    )
    args = parser.parse_args(argv)
    if args.quick:
        cfg = Config(20_000, 1, 0, 200, 50, 50, 2_000, 0.01, ("q01", "q03", "q05", "q06", "q10"))
    else:
        cfg = Config(
            args.rows,
            args.repeat,
            1,
            10_000,
            2_000,
            2_000,
            100_000,
            args.tpch_scale,
            ("q01", "q03", "q05", "q06", "q10"),
        )
    only = set(args.engines.split(",")) if args.engines else None
    big = main_table(cfg.rows)
    tpch = None if args.no_tpch else tpch_generate(cfg.tpch_scale)
    results: dict[str, dict[str, Result]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in make_engines(Path(tmp), only):
            began = time.perf_counter()
            results[engine.name] = bench_engine(engine, cfg, big, tpch)
            engine.close()
            print(f"{engine.name}: {time.perf_counter() - began:.1f} s", file=sys.stderr)
    print(
        f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{cfg.rows:,} rows, {cfg.repeat} repetitions after {cfg.warmup} warm-up\n"
    )
    print(markdown(results))
    errors = [
        f"{name} / {work}: {r.error}"
        for name, rs in results.items()
        for work, r in rs.items()
        if r.error
    ]
    differ, peers_differ = disagreements(results)
    for line in errors:
        print(f"error: {line}")
    for line in differ:
        print(f"llkv differs from its reference peer: {line}")
    for line in peers_differ:
        print(f"peers differ (not llkv's answer): {line}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "config": cfg.__dict__,
                    "machine": {"arch": platform.machine(), "cores": os.cpu_count()},
                    "results": {
                        name: {
                            w: {
                                "times": r.times,
                                "median": r.median,
                                "min": min(r.times, default=None),
                                "error": r.error,
                            }
                            for w, r in rs.items()
                        }
                        for name, rs in results.items()
                    },
                },
                indent=1,
            )
        )
    # llkv must run every workload and agree with its peers; a peer's SQL
    # gap (polars, DataFusion) is only reported.
    llkv_failed = [e for e in errors if e.startswith("llkv")]
    return 1 if llkv_failed or differ else 0


if __name__ == "__main__":
    sys.exit(main())
