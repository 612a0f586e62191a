"""A real ``kill -9``: a child process commits in a loop and is killed at a
random moment; every commit it acknowledged must be in the reopened file,
and nothing it did not attempt."""

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import llkv

WRITER = r"""
import sys
import llkv

con = llkv.connect(sys.argv[1], synchronous=sys.argv[2])
con.execute("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, payload TEXT)")
con.execute("CREATE TABLE IF NOT EXISTS pairs (id INTEGER PRIMARY KEY, twin INTEGER)")
i = int(sys.argv[3])
while True:
    # One autocommit insert, then a two-row transaction: both must be atomic.
    con.execute("INSERT INTO log VALUES (?, ?)", [i, "x" * (i % 200)])
    con.execute("BEGIN")
    con.execute("INSERT INTO pairs VALUES (?, ?)", [2 * i, 2 * i + 1])
    con.execute("INSERT INTO pairs VALUES (?, ?)", [2 * i + 1, 2 * i])
    if i % 10 == 0:
        con.execute("DELETE FROM log WHERE id = ?", [i - 5])
    con.execute("COMMIT")
    print(i, flush=True)
    i += 1
"""


def run_and_kill(path: Path, level: str, start: int, seed: int) -> int:
    """Starts a writer, kills it after a random number of acknowledged
    iterations; returns the last acknowledged iteration."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), level, str(start)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    wanted = random.Random(seed).randrange(5, 60)
    last = start - 1
    deadline = time.monotonic() + 60
    while last - start + 1 < wanted and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        last = int(line)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    # The writer may have acknowledged more iterations than were read
    # before the kill landed: they wait in the pipe.
    for line in child.stdout.read().splitlines():
        last = int(line)
    assert last - start + 1 >= wanted, "the writer stopped early"
    return last


@pytest.mark.parametrize("level", ["full", "normal"])
def test_acknowledged_commits_survive_kill_9(tmp_path: Path, level: str) -> None:
    path = tmp_path / "killed.llkv"
    start = 1
    for round_ in range(3):
        last = run_and_kill(path, level, start, seed=round_)
        with llkv.connect(path) as con:
            ids = {r["id"] for r in con.execute("SELECT id FROM log").to_pylist()}
            pairs = con.execute("SELECT id, twin FROM pairs").to_pylist()
            check = con.execute("PRAGMA integrity_check").column(0).to_pylist()
        assert check == ["ok"]
        # Every acknowledged iteration is there (minus the rows it deleted);
        # at most the one in flight beyond it.
        # (the iteration in flight may have committed its delete too)
        deleted = {i - 5 for i in range(start, last + 2) if i % 10 == 0}
        acked = set(range(start, last + 1)) - deleted
        assert acked <= ids
        assert max(ids) <= last + 1
        # Transactions are atomic: every pair row has its twin.
        twins = {p["id"]: p["twin"] for p in pairs}
        assert all(twins.get(t) == i for i, t in twins.items())
        assert {2 * i for i in range(start, last + 1)} <= set(twins)
        start = max(ids | {last}) + 1


def test_torn_tail_after_last_commit_keeps_committed_data(tmp_path: Path) -> None:
    """What a kill in the middle of a write can leave at the end of the file
    (part of a payload ending in zero padding, no metadata) must not hide the
    committed data: the file is cut back to where the last commit ended."""
    path = tmp_path / "torn.llkv"
    with llkv.connect(path) as con:
        con.execute("CREATE TABLE log (id INTEGER)")
        con.execute("INSERT INTO log VALUES (1), (2)")
    with path.open("ab") as f:
        f.write(b"\x07" * 13 + b"\x00" * 40)
    with llkv.connect(path) as con:
        assert con.execute("SELECT id FROM log ORDER BY id").column("id").to_pylist() == [1, 2]
        con.execute("INSERT INTO log VALUES (3)")
    with llkv.connect(path) as con:
        assert con.execute("SELECT count(*) AS n FROM log").column("n")[0].as_py() == 3
