"""llkv quickstart: a file database, parameters, GROUP BY, JOIN, ORDER BY/LIMIT,
and data that survives closing and reopening.

Run from anywhere after `pip install .`:

    python examples/quickstart.py
"""

import random
import tempfile
from pathlib import Path

import pyarrow as pa

import llkv


def show(title: str, table: pa.Table) -> None:
    """Print a result table: its schema and its rows."""
    print(f"\n== {title} ({table.num_rows} rows)")
    print("   schema:", ", ".join(f"{f.name}: {f.type}" for f in table.schema))
    for row in table.to_pylist():
        print("  ", row)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="llkv-quickstart-") as workdir:
        run(Path(workdir) / "quickstart.llkv")


def run(path: Path) -> None:
    """Create, fill and query the database at `path`, then reopen it."""
    print(f"database file: {path}")

    rng = random.Random(42)
    cities = ["Berlin", "Lisbon", "Oslo", "Kyoto", "Lima"]

    with llkv.connect(path) as con:
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
        con.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER,"
            " amount DOUBLE, paid BOOLEAN)"
        )

        # Inserts with ? parameters, inside one explicit transaction.
        con.execute("BEGIN")
        for cid in range(1, 51):
            con.execute(
                "INSERT INTO customers VALUES (?, ?, ?)",
                [cid, f"customer {cid:02d}", cities[cid % len(cities)]],
            )
        inserted = 0
        for oid in range(1, 401):
            result = con.execute(
                "INSERT INTO orders VALUES (?, ?, ?, ?)",
                (oid, rng.randint(1, 50), round(rng.uniform(5, 500), 2), rng.random() < 0.8),
            )
            inserted += result.column("count")[0].as_py()
        con.execute("COMMIT")
        print(f"inserted 50 customers and {inserted} orders")

        show(
            "orders per city (GROUP BY + JOIN)",
            con.execute(
                "SELECT c.city, COUNT(*) AS orders, ROUND(SUM(o.amount), 2) AS revenue"
                " FROM orders AS o JOIN customers AS c ON o.customer_id = c.id"
                " GROUP BY c.city ORDER BY revenue DESC"
            ),
        )
        show(
            "top 5 unpaid orders over 100 (WHERE with ?, ORDER BY, LIMIT)",
            con.execute(
                "SELECT o.id, c.name, o.amount FROM orders AS o"
                " JOIN customers AS c ON o.customer_id = c.id"
                " WHERE o.paid = ? AND o.amount > ? ORDER BY o.amount DESC LIMIT 5",
                [False, 100.0],
            ),
        )

        try:
            con.execute("SELECT nope FROM orders")
        except llkv.ProgrammingError as err:
            print(f"\nProgrammingError, as expected: {err}")

    # Reopen the file: everything committed is still there.
    with llkv.connect(path) as con:
        show(
            "after reopening",
            con.execute(
                "SELECT COUNT(*) AS orders, ROUND(SUM(amount), 2) AS revenue,"
                " COUNT(DISTINCT customer_id) AS customers FROM orders"
            ),
        )


if __name__ == "__main__":
    main()
