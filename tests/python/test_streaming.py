"""Query results are streamed: a cursor's rows are computed as they are fetched.

The engine hands a query's rows over one record batch at a time. These tests
prove it from the outside: an error in a late row surfaces only when that
row's batch is read, a large result is read with bounded memory, and the
rows come from the state the query started in while the connection and
others go on changing the database.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pyarrow as pa
import pytest

import llkv

BATCH = 65_536


def multi_batch(n: int) -> pa.Table:
    """Integers 0..n-1 in chunks of BATCH rows."""
    table = pa.table({"x": pa.array(range(n), pa.int64())})
    return pa.Table.from_batches(table.to_batches(max_chunksize=BATCH))


# Overflows for x > 100_000 only, i.e. first in the second batch.
LATE_OVERFLOW = "SELECT x + 9223372036854675807 AS y FROM t"


def test_a_late_error_surfaces_when_its_batch_is_read() -> None:
    con = llkv.connect()
    con.register("t", multi_batch(300_000))
    cur = con.cursor()
    cur.execute(LATE_OVERFLOW)  # computes the first batch only: no error yet
    assert cur.fetchone() == (9223372036854675807,)
    assert len(cur.fetchmany(BATCH - 1)) == BATCH - 1
    with pytest.raises(llkv.DataError, match="integer overflow"):
        cur.fetchmany(BATCH)
    # The failed query does not hurt the connection.
    assert cur.execute("SELECT count(*) FROM t").fetchall() == [(300_000,)]


def test_a_record_batch_reader_streams_the_rows() -> None:
    con = llkv.connect()
    con.register("t", multi_batch(300_000))
    reader = con.cursor().execute(LATE_OVERFLOW).fetch_record_batch()
    first = reader.read_next_batch()
    assert first.num_rows == BATCH
    assert first.column(0)[0].as_py() == 9223372036854675807
    with pytest.raises(llkv.DataError, match="integer overflow"):
        reader.read_next_batch()


def test_an_error_in_the_first_batch_is_raised_by_execute() -> None:
    con = llkv.connect()
    con.register("t", multi_batch(10))
    with pytest.raises(llkv.DataError, match="integer overflow"):
        con.cursor().execute("SELECT x + 9223372036854775807 FROM t")


def test_fetches_cross_batch_boundaries() -> None:
    con = llkv.connect()
    con.register("t", multi_batch(3 * BATCH + 5))
    cur = con.cursor().execute("SELECT x FROM t")
    assert cur.fetchmany(BATCH - 2) == [(i,) for i in range(BATCH - 2)]
    assert cur.fetchmany(5) == [(i,) for i in range(BATCH - 2, BATCH + 3)]
    assert cur.fetchone() == (BATCH + 3,)
    rest = cur.arrow()
    assert rest.column(0).to_pylist() == list(range(BATCH + 4, 3 * BATCH + 5))
    assert cur.fetchall() == []
    assert cur.fetchone() is None


def test_rows_per_batch_cuts_the_engine_batches() -> None:
    con = llkv.connect()
    con.register("t", multi_batch(BATCH + 10))
    cur = con.cursor().execute("SELECT x FROM t")
    cur.fetchmany(3)
    sizes = [b.num_rows for b in cur.fetch_record_batch(rows_per_batch=20_000)]
    assert sizes == [20_000, 20_000, 20_000, BATCH - 3 - 60_000, 10]
    with pytest.raises(TypeError, match="rows_per_batch must be an int"):
        cur.execute("SELECT 1").fetch_record_batch(rows_per_batch=1.5)  # type: ignore[arg-type]


def data_address(array: pa.Array) -> int:
    """Address of the first value of an int64 array (its slice offset applied)."""
    return int(array.buffers()[1].address) + int(array.offset) * 8


def test_streamed_batches_are_the_registered_buffers() -> None:
    con = llkv.connect()
    data = multi_batch(3 * BATCH)
    con.register("t", data)
    reader = con.cursor().execute("SELECT x FROM t").fetch_record_batch()
    got = [data_address(b.column(0)) for b in reader]
    assert got == [data_address(c) for c in data.column(0).chunks]


def test_a_query_reads_the_state_it_started_in(tmp_path: object) -> None:
    con = llkv.connect()
    con.insert_arrow("t", multi_batch(200_000), create=True)
    other = con.duplicate()
    cur = con.cursor().execute("SELECT x FROM t")
    assert cur.fetchone() == (0,)
    # The same connection deletes everything, another one inserts: the
    # running query still returns the rows it started with.
    con.execute("DELETE FROM t")
    other.execute("INSERT INTO t VALUES (-1)")
    rest = cur.arrow().column(0).to_pylist()
    assert rest == list(range(1, 200_000))
    assert con.execute("SELECT x FROM t").column(0).to_pylist() == [-1]


def test_a_query_in_a_transaction_sees_the_transactions_writes() -> None:
    con = llkv.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (1), (2)")
    cur = con.cursor().execute("SELECT x FROM t ORDER BY x")
    con.execute("INSERT INTO t VALUES (3)")
    con.execute("ROLLBACK")
    # The result is the query's, as of when it ran: the insert after it and
    # the rollback do not change it.
    assert cur.fetchall() == [(1,), (2,)]
    assert con.execute("SELECT count(*) FROM t").column(0).to_pylist() == [0]


def test_a_dropped_table_does_not_disturb_a_running_query() -> None:
    con = llkv.connect()
    con.insert_arrow("t", multi_batch(100_000), create=True)
    cur = con.cursor().execute("SELECT x FROM t")
    con.execute("DROP TABLE t")
    assert len(cur.fetchall()) == 100_000


def test_a_reader_outlives_its_cursor() -> None:
    con = llkv.connect()
    con.register("t", multi_batch(2 * BATCH))
    cur = con.cursor().execute("SELECT x FROM t")
    reader = cur.fetch_record_batch()
    cur.close()
    with pytest.raises(llkv.ProgrammingError, match="closed cursor"):
        cur.fetchone()
    assert sum(b.num_rows for b in reader) == 2 * BATCH


def test_executing_again_discards_the_unread_rows() -> None:
    con = llkv.connect()
    con.register("t", multi_batch(2 * BATCH))
    cur = con.cursor().execute("SELECT x FROM t")
    cur.fetchone()
    assert cur.execute("SELECT 7").fetchall() == [(7,)]


def test_interrupt_stops_a_stream_between_rows() -> None:
    con = llkv.connect()
    con.insert_arrow("n", pa.table({"x": pa.array(range(1000), pa.int64())}), create=True)
    # One row comes at once; finding that no other row qualifies takes
    # minutes (10^9 combinations), so the second fetch blocks until stopped.
    cur = con.cursor().execute(
        "SELECT a.x, b.x, c.x FROM n AS a, n AS b, n AS c WHERE a.x + b.x + c.x = 0"
    )
    assert cur.fetchone() == (0, 0, 0)
    timer = threading.Timer(0.3, con.interrupt)
    timer.start()
    with pytest.raises(llkv.OperationalError, match=r"^interrupted$"):
        cur.fetchone()
    timer.join()
    assert con.execute("SELECT count(*) FROM n").column(0).to_pylist() == [1000]


# Runs in a fresh interpreter: resets the peak-RSS counter (Linux
# /proc/self/clear_refs) and reports how far it rose while reading a result
# of about 160 MB, streamed and then materialised.
MEMORY_PROBE = textwrap.dedent(
    """
    import sys
    import pyarrow as pa
    import pyarrow.compute as pc
    import llkv

    def kib(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
        raise RuntimeError(field)

    def reset_peak():
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")

    n = 4_000_000
    x = pa.array(range(n), pa.int64())
    t = pa.Table.from_batches(
        pa.table({"x": x, "s": pc.cast(x, pa.string())}).to_batches(max_chunksize=65_536)
    )
    con = llkv.connect()
    if sys.argv[1] == "stored":
        con.insert_arrow("t", t, create=True)
    else:
        con.register("t", t)
    sql = "SELECT x * 2 AS a, x + 1 AS b, s || '-' || s || '-' || s AS c FROM t"

    reset_peak()
    base = kib("VmRSS")
    streamed = 0
    for batch in con.cursor().execute(sql).fetch_record_batch():
        streamed += batch.nbytes
    stream_peak = kib("VmHWM") - base

    reset_peak()
    base = kib("VmRSS")
    table = con.cursor().execute(sql).arrow()
    full_peak = kib("VmHWM") - base
    print(streamed // 1024, table.nbytes // 1024, stream_peak, full_peak)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("source", ["registered", "stored"])
def test_a_large_result_streams_in_bounded_memory(source: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, source], capture_output=True, text=True, check=True
    )
    streamed, total, stream_peak, full_peak = map(int, out.stdout.split())
    assert streamed == total > 100_000  # KiB: the same rows both ways
    # Materialised, the whole result is resident at once; streamed, only a
    # few batches are.
    assert full_peak > total * 0.8
    assert stream_peak < total * 0.25


def test_notebook_display_reads_ahead_only_a_little_and_keeps_errors() -> None:
    con = llkv.connect()
    con.register("t", multi_batch(300_000))
    cur = con.cursor().execute(LATE_OVERFLOW)
    page = cur._repr_html_()
    assert page is not None and page.endswith("<p>first 20 rows; more follow</p>")
    # Displaying computed nothing past the first batch: the overflow in the
    # second batch is raised by the fetch that reaches it, not lost.
    assert len(cur.fetchmany(BATCH)) == BATCH
    with pytest.raises(llkv.DataError, match="integer overflow"):
        cur.fetchone()


def test_fetch_record_batch_returns_before_computing_more() -> None:
    con = llkv.connect()
    con.insert_arrow("n", pa.table({"x": pa.array(range(1000), pa.int64())}), create=True)
    cur = con.cursor().execute(
        "SELECT a.x, b.x, c.x FROM n AS a, n AS b, n AS c WHERE a.x + b.x + c.x = 0"
    )
    assert cur.fetchone() == (0, 0, 0)
    # The next batch takes minutes to compute: getting the reader must not
    # wait for it (the reader is closed unread).
    reader = cur.fetch_record_batch()
    assert reader.schema.names == ["x", "x", "x"]
    reader.close()


def test_a_large_stored_table_streams() -> None:
    con = llkv.connect()
    n = 5 * BATCH + 7
    table = pa.table({"x": pa.array(range(n), pa.int64())})
    con.insert_arrow("t", table, create=True)  # one stored segment
    reader = con.cursor().execute("SELECT x FROM t").fetch_record_batch()
    sizes = [b.num_rows for b in reader]
    assert sizes == [BATCH] * 5 + [7]
