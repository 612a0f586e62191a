"""Stopping a running statement: `Connection.interrupt()` and Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import pyarrow as pa
import pytest

import llkv

# 10^9 joined rows: minutes of work, so returning within seconds means the
# statement was stopped.
ENDLESS = "SELECT count(*) FROM n AS a, n AS b, n AS c WHERE a.x + b.x + c.x >= 0"


def numbers(con: llkv.Connection) -> None:
    con.insert_arrow("n", pa.table({"x": pa.array(range(1000), pa.int64())}), create=True)


def after(delay: float, action: Callable[[], object]) -> threading.Timer:
    timer = threading.Timer(delay, action)
    timer.start()
    return timer


def test_interrupt_from_another_thread_stops_the_statement() -> None:
    con = llkv.connect()
    numbers(con)
    start = time.monotonic()
    timer = after(0.3, con.interrupt)
    with pytest.raises(llkv.OperationalError, match=r"^interrupted$"):
        con.execute(ENDLESS)
    timer.join()
    assert time.monotonic() - start < 30
    # The connection is usable, and the next statement is not interrupted.
    assert con.execute("SELECT count(*) FROM n").column(0).to_pylist() == [1000]


def test_interrupt_undoes_the_statement_and_keeps_the_transaction() -> None:
    con = llkv.connect()
    numbers(con)
    con.execute("CREATE TABLE log (v INTEGER)")
    con.execute("BEGIN")
    con.execute("INSERT INTO log VALUES (1)")
    timer = after(0.3, con.interrupt)
    with pytest.raises(llkv.OperationalError, match="interrupted"):
        con.execute(
            "INSERT INTO log SELECT a.x FROM n AS a, n AS b, n AS c WHERE a.x + b.x + c.x < 0"
        )
    timer.join()
    assert con.in_transaction
    con.execute("COMMIT")
    assert con.execute("SELECT v FROM log").column(0).to_pylist() == [1]


def test_interrupt_with_nothing_running_does_not_cancel_the_next_statement() -> None:
    con = llkv.connect()
    con.interrupt()
    assert con.execute("SELECT 42 AS x").column(0).to_pylist() == [42]


def test_interrupt_stops_a_correlated_subquery_per_row_loop() -> None:
    con = llkv.connect()
    numbers(con)
    timer = after(0.3, con.interrupt)
    with pytest.raises(llkv.OperationalError, match="interrupted"):
        con.execute(
            "SELECT count(*) FROM n AS a WHERE a.x < "
            "(SELECT count(*) FROM n AS b, n AS c WHERE b.x + c.x > a.x)"
        )
    timer.join()


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")
def test_ctrl_c_raises_keyboard_interrupt_and_keeps_the_connection() -> None:
    assert threading.current_thread() is threading.main_thread()
    con = llkv.connect()
    numbers(con)
    start = time.monotonic()
    timer = after(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    with pytest.raises(KeyboardInterrupt):
        con.execute(ENDLESS)
    timer.join()
    assert time.monotonic() - start < 30
    assert con.execute("SELECT count(*) FROM n").column(0).to_pylist() == [1000]
