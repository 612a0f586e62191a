"""ORDER BY ... LIMIT k (the top-k path, which drops rows that cannot enter
the first k before sorting) returns the first k rows of the full sort, with
ties, NULLs, both directions and input spread over many batches."""

import numpy as np
import pyarrow as pa
import pytest

import llkv

#: Above the engine's top-k limit (16,384): this LIMIT sorts everything.
FULL_SORT = 100_000


@pytest.fixture(scope="module")
def con() -> llkv.Connection:
    """A connection with ``t`` registered: 40,000 rows in 20 batches, few
    distinct values (many ties) and NULLs in every key column."""
    rng = np.random.default_rng(3)
    n, batches = 40_000, 20

    def with_nulls(values: np.ndarray, kind: pa.DataType) -> pa.Array:
        return pa.array(values, kind, mask=rng.random(n) < 0.05)

    table = pa.table(
        {
            "id": pa.array(np.arange(n), pa.int64()),
            "i": with_nulls(rng.integers(0, 50, n), pa.int64()),
            "x": with_nulls(np.round(rng.normal(size=n), 1), pa.float64()),
            "s": with_nulls(rng.choice(["a", "b", "c", "ab", ""], n), pa.string()),
        }
    )
    connection = llkv.connect(dialect="duckdb")
    connection.register("t", pa.Table.from_batches(table.to_batches(n // batches)))
    return connection


@pytest.mark.parametrize(
    "order",
    [
        "i DESC, id",
        "i, id DESC",
        "x DESC NULLS FIRST, id",
        "x NULLS FIRST, s, id",
        "s DESC NULLS LAST, x, id",
        "s NULLS FIRST, i DESC NULLS LAST, id",
    ],
)
@pytest.mark.parametrize("k", [1, 10, 2_500])
def test_top_k_equals_the_full_sort_prefix(con: llkv.Connection, order: str, k: int) -> None:
    top = con.execute(f"SELECT id, i, x, s FROM t ORDER BY {order} LIMIT {k}")
    full = con.execute(f"SELECT id, i, x, s FROM t ORDER BY {order} LIMIT {FULL_SORT}")
    assert top.num_rows == k
    assert top.to_pylist() == full.slice(0, k).to_pylist()


def test_ties_beyond_k_keep_input_order(con: llkv.Connection) -> None:
    # Ordered by the first key alone, rows with equal keys come in input
    # order (the sort is stable), so the top k are the earliest ids.
    top = con.execute("SELECT id, i FROM t WHERE i = 7 ORDER BY i LIMIT 5")
    ids = con.execute("SELECT id FROM t WHERE i = 7 LIMIT 5").column("id").to_pylist()
    assert top.column("id").to_pylist() == ids
