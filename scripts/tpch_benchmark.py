"""TPC-H benchmark: the 22 queries on llkv next to DuckDB, in memory.

Generates the tables with the repository's deterministic generator
(``tests/tpch/dbgen.py``), loads them from Arrow into both engines, runs each
query once to warm up and then ``--repeat`` times, and prints a markdown
table of each engine's median time and DuckDB's time relative to llkv's
(> 1: llkv is faster). Both engines use all cores. Not part of the test gate.

    python scripts/tpch_benchmark.py --scale 0.1 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import llkv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tpch import QUERIES
from tpch.dbgen import generate


def median_time(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Median seconds of ``repeat`` runs after one warm-up, and the row count."""
    rows = run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), rows


def main() -> None:
    """Runs the benchmark and prints the table."""
    import duckdb

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="TPC-H scale factor")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query")
    args = parser.parse_args()
    tables = generate(args.scale)
    ours = llkv.connect(dialect="duckdb")
    duck = duckdb.connect()
    start = time.perf_counter()
    for name, table in tables.items():
        ours.insert_arrow(name, table, create=True)
    load_ours = time.perf_counter() - start
    start = time.perf_counter()
    for name, table in tables.items():
        duck.register(f"{name}_arrow", table)
        duck.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    load_duck = time.perf_counter() - start

    print(f"TPC-H scale factor {args.scale}, median of {args.repeat} runs (seconds)\n")
    print("| query | llkv | duckdb | duckdb/llkv |")
    print("|---|---:|---:|---:|")
    print(f"| load from Arrow | {load_ours:.3f} | {load_duck:.3f} | {load_duck / load_ours:.2f} |")
    total_ours = total_duck = 0.0
    for path in sorted(QUERIES.glob("q*.sql")):
        sql = path.read_text()

        def run_ours(sql: str = sql) -> int:
            rows: int = ours.execute(sql).num_rows
            return rows

        def run_duck(sql: str = sql) -> int:
            return len(duck.execute(sql).fetchall())

        t_ours, n_ours = median_time(run_ours, args.repeat)
        t_duck, n_duck = median_time(run_duck, args.repeat)
        total_ours += t_ours
        total_duck += t_duck
        note = "" if n_ours == n_duck else f" (rows differ: {n_ours} vs {n_duck})"
        print(f"| {path.stem} | {t_ours:.3f} | {t_duck:.3f} | {t_duck / t_ours:.2f}{note} |")
    print(f"| total | {total_ours:.3f} | {total_duck:.3f} | {total_duck / total_ours:.2f} |")


if __name__ == "__main__":
    main()
