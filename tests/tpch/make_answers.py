"""Writes DuckDB's answers to the 22 TPC-H queries on this generator's data.

Run once after changing the generator or a query; the JSON files it writes
under ``tests/tpch/answers/`` are checked in and read by
``tests/python/test_tpch.py``. Needs the ``duckdb`` package (dev only).

    python tests/tpch/make_answers.py            # scale factor 0.1
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tpch import ANSWERS, QUERIES, SCALE, to_json_value  # noqa: E402
from tpch.dbgen import generate  # noqa: E402


def main() -> None:
    """Generates the data, runs every query in DuckDB and writes the answers."""
    import duckdb

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=SCALE)
    args = parser.parse_args()
    con = duckdb.connect()
    for name, table in generate(args.scale).items():
        con.register(f"{name}_arrow", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    ANSWERS.mkdir(exist_ok=True)
    for path in sorted(QUERIES.glob("q*.sql")):
        result = con.execute(path.read_text())
        columns = [d[0] for d in result.description]
        rows = [[to_json_value(v) for v in row] for row in result.fetchall()]
        answer = {"duckdb": duckdb.__version__, "scale": args.scale, "columns": columns}
        answer["rows"] = rows
        (ANSWERS / f"{path.stem}.json").write_text(json.dumps(answer, indent=1) + "\n")
        print(f"{path.stem}: {len(rows)} rows")


if __name__ == "__main__":
    main()
