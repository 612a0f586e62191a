"""Peak memory of a GROUP BY over the peer benchmark's table, per engine.

Each engine runs in a fresh Python process (so one engine's allocations do
not count against the next): it builds the table as Arrow, loads it (the
Arrow table stays alive, so "data held" is what the engine keeps besides
it), then the kernel's peak-RSS mark is reset (``/proc/self/clear_refs``,
Linux) and the GROUP BY of ``peers.py`` runs once, cold. The table shows
what loading added to the resident size, the peak of the query above that,
and the process's peak (Python, pyarrow and the source table included).

    python benchmarks/peak_rss.py                 # 1M rows, all installed engines
    python benchmarks/peak_rss.py --rows 100000 --engines llkv-mem,duckdb-mem
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

QUERY = "SELECT k, count(*), sum(x), avg(x) FROM t GROUP BY k ORDER BY k"
ENGINES = ("llkv-mem", "sqlite-mem", "duckdb-mem", "polars", "datafusion")


def status_kib(field: str) -> int:
    """A ``VmRSS``/``VmHWM``-style line of ``/proc/self/status``, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(engine_name: str, rows: int) -> dict[str, object]:
    """Runs in the child process: load, reset the peak, query, measure."""
    import peers

    classes: dict[str, type[peers.Engine]] = {
        "llkv-mem": peers.Llkv,
        "sqlite-mem": peers.Sqlite,
        "duckdb-mem": peers.Duck,
        "polars": peers.Polars,
        "datafusion": peers.DataFusion,
    }
    if engine_name not in classes:
        raise SystemExit(f"unknown engine {engine_name}")
    engine = classes[engine_name](None)
    big = peers.main_table(rows)
    start = status_kib("VmRSS")
    engine.load("t", peers.MAIN_DDL.format(name="t") if engine.oltp else None, big)
    loaded = status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    groups = len(engine.query(QUERY))
    peak = status_kib("VmHWM")
    engine.close()
    return {
        "engine": engine_name,
        "groups": groups,
        "rss_start_kib": start,
        "rss_loaded_kib": loaded,
        "peak_kib": peak,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.rows)))
        return 0
    results = []
    for name in args.engines.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--child", name, "--rows", str(args.rows)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
            print(f"skipped {name}: {reason}")
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"\nGROUP BY over {args.rows:,} rows: `{QUERY}`\n")
    print("| engine | groups | data held (MiB) | query peak above it (MiB) | process peak (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        start, loaded, peak = (int(r[k]) for k in ("rss_start_kib", "rss_loaded_kib", "peak_kib"))
        print(
            f"| {r['engine']} | {r['groups']} | {(loaded - start) / 1024:.0f} "
            f"| {(peak - loaded) / 1024:.1f} | {peak / 1024:.0f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
