"""The GIL is released while a statement runs: another Python thread keeps
ticking in the middle of a long statement. (With the GIL held, no Python code
could run at all until the statement returned.)"""

import threading
import time

import llkv


class Ticker(threading.Thread):
    """Records a timestamp about every millisecond until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.ticks: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.ticks.append(time.perf_counter())
            time.sleep(0.001)


def test_other_threads_run_during_a_long_statement() -> None:
    with llkv.connect() as con:
        con.execute("CREATE TABLE g (x INTEGER)")
        con.execute("INSERT INTO g VALUES " + ", ".join(f"({i})" for i in range(1000)))
        con.execute("CREATE TABLE s (y INTEGER)")
        con.execute("INSERT INTO s VALUES " + ", ".join(f"({i})" for i in range(10)))
        # Grow the query until it runs long enough to observe; the WHERE keeps
        # the engine from answering the COUNT from row counts alone.
        queries = [
            "SELECT COUNT(*) AS n FROM g AS a, g AS b WHERE a.x + b.x >= 0",
            "SELECT COUNT(*) AS n FROM g AS a, g AS b, s WHERE a.x + b.x + s.y >= 0",
            "SELECT COUNT(*) AS n FROM g AS a, g AS b, s AS c, s AS d"
            " WHERE a.x + b.x + c.y + d.y >= 0",
        ]
        expected = [1000**2, 1000**2 * 10, 1000**2 * 100]
        ticker = Ticker()
        ticker.start()
        try:
            for sql, n in zip(queries, expected, strict=True):
                start = time.perf_counter()
                result = con.execute(sql)
                end = time.perf_counter()
                assert result.to_pylist() == [{"n": n}]
                if end - start >= 0.1:
                    break
        finally:
            ticker.stop.set()
            ticker.join()
    elapsed = end - start
    assert elapsed >= 0.02, f"statement too fast to observe ({elapsed:.4f} s)"
    lo, hi = start + elapsed * 0.25, start + elapsed * 0.75
    in_middle = [t for t in ticker.ticks if lo <= t <= hi]
    assert in_middle, "no Python thread ran while the statement executed"
