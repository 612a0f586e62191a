"""Concurrency stress: bank transfers between accounts from several threads.

Each thread has its own connection to one database file (all connections in
the process share one engine) and moves money between accounts in explicit
transactions, retrying on ``TransactionConflictError``. Under snapshot
isolation with first-updater-wins, no transfer may be lost or applied twice,
a transaction never sees a torn state (the total is always 1000), and a
read-only transaction reads the same snapshot however often it looks.

The transfers each thread makes are drawn from a seeded ``random.Random``
before any retry, so the final balance of every account is deterministic,
whatever the interleaving.
"""

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import llkv

N_THREADS = 4
TRANSFERS_PER_THREAD = 150
N_READERS = 2
N_ACCOUNTS = 10
INITIAL_BALANCE = 100
TOTAL = N_ACCOUNTS * INITIAL_BALANCE
SEED = 20240601
# A transfer that keeps conflicting this many times means the threads livelock.
MAX_ATTEMPTS = 1000
# Threads that have not finished by then are reported as hung.
TIMEOUT_S = 60.0

Transfer = tuple[int, int, int]  # (from account, to account, amount)


@dataclass
class WriterStats:
    commits: int = 0
    conflicts: int = 0
    # Which statement raised each conflict: "UPDATE", "COMMIT", ...
    conflict_sites: dict[str, int] = field(default_factory=dict)


@dataclass
class ReaderStats:
    snapshots: int = 0


def plan_transfers(thread_index: int) -> list[Transfer]:
    """The transfers thread ``thread_index`` makes, fixed by the seed."""
    rng = random.Random(SEED * 100 + thread_index)
    plan: list[Transfer] = []
    for _ in range(TRANSFERS_PER_THREAD):
        src, dst = rng.sample(range(1, N_ACCOUNTS + 1), 2)
        plan.append((src, dst, rng.randint(1, 30)))
    return plan


def expected_balances(plans: list[list[Transfer]]) -> dict[int, int]:
    balances = dict.fromkeys(range(1, N_ACCOUNTS + 1), INITIAL_BALANCE)
    for plan in plans:
        for src, dst, amount in plan:
            balances[src] -= amount
            balances[dst] += amount
    return balances


def balances_of(con: llkv.Connection) -> dict[int, int]:
    rows: list[dict[str, Any]] = con.execute(
        "SELECT id, balance FROM accounts ORDER BY id"
    ).to_pylist()
    return {row["id"]: row["balance"] for row in rows}


def total_of(con: llkv.Connection) -> int:
    total: int = con.execute("SELECT SUM(balance) AS s FROM accounts").to_pylist()[0]["s"]
    return total


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[Path]:
    """A database file with the accounts table; one connection holds it open."""
    path = tmp_path / "bank.llkv"
    with llkv.connect(path) as setup:
        setup.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER)")
        setup.execute(
            "INSERT INTO accounts (id, balance) VALUES "
            + ", ".join(f"({i}, {INITIAL_BALANCE})" for i in range(1, N_ACCOUNTS + 1))
        )
        assert total_of(setup) == TOTAL
        yield path


def transfer_once(con: llkv.Connection, src: int, dst: int, amount: int, site: list[str]) -> None:
    """One attempt at a transfer; ``site`` names the statement being run."""
    site[0] = "BEGIN"
    con.execute("BEGIN")
    site[0] = "SELECT"
    rows: list[dict[str, Any]] = con.execute(
        "SELECT id, balance FROM accounts WHERE id = ? OR id = ?", [src, dst]
    ).to_pylist()
    before = {row["id"]: row["balance"] for row in rows}
    assert set(before) == {src, dst}
    site[0] = "UPDATE"
    count = con.execute(
        "UPDATE accounts SET balance = balance - ? WHERE id = ?", [amount, src]
    ).to_pylist()
    assert count == [{"count": 1}]
    count = con.execute(
        "UPDATE accounts SET balance = balance + ? WHERE id = ?", [amount, dst]
    ).to_pylist()
    assert count == [{"count": 1}]
    site[0] = "SELECT"
    # The transaction sees its own writes, applied to the values it read...
    after = balances_of(con)
    assert after[src] == before[src] - amount
    assert after[dst] == before[dst] + amount
    # ...and a consistent snapshot: money is moved, never created or lost.
    assert sum(after.values()) == TOTAL
    assert total_of(con) == TOTAL
    site[0] = "COMMIT"
    con.execute("COMMIT")
    assert con.in_transaction is False


def run_writer(
    path: Path, plan: list[Transfer], start: threading.Barrier, stats: WriterStats
) -> None:
    with llkv.connect(path) as con:
        start.wait()
        for src, dst, amount in plan:
            for _attempt in range(MAX_ATTEMPTS):
                site = [""]
                try:
                    transfer_once(con, src, dst, amount, site)
                except llkv.TransactionConflictError:
                    stats.conflicts += 1
                    stats.conflict_sites[site[0]] = stats.conflict_sites.get(site[0], 0) + 1
                    if con.in_transaction:
                        con.execute("ROLLBACK")
                    assert con.in_transaction is False
                else:
                    stats.commits += 1
                    break
            else:
                pytest.fail(f"transfer {src}->{dst} still conflicting after {MAX_ATTEMPTS} tries")


def run_reader(
    path: Path, start: threading.Barrier, stop: threading.Event, stats: ReaderStats
) -> None:
    with llkv.connect(path) as con:
        start.wait()
        while not stop.is_set():
            con.execute("BEGIN")
            first = total_of(con)
            rows = balances_of(con)
            # Give writers a chance to commit between the two reads.
            time.sleep(0.001)
            second = total_of(con)
            assert balances_of(con) == rows, "a snapshot changed inside a read-only transaction"
            con.execute("COMMIT")
            assert (first, second) == (TOTAL, TOTAL)
            assert sum(rows.values()) == TOTAL
            stats.snapshots += 1


def wait_all(futures: list[Future[None]]) -> None:
    """Re-raise the first failure of any thread (AssertionError included)."""
    deadline = time.monotonic() + TIMEOUT_S
    for fut in futures:
        fut.result(timeout=max(0.0, deadline - time.monotonic()))


def check_final_state(path: Path, writers: list[WriterStats], plans: list[list[Transfer]]) -> None:
    assert sum(w.commits for w in writers) == N_THREADS * TRANSFERS_PER_THREAD
    for stats in writers:
        assert stats.commits == TRANSFERS_PER_THREAD
    expected = expected_balances(plans)
    assert sum(expected.values()) == TOTAL
    with llkv.connect(path) as fresh:
        assert fresh.in_transaction is False
        assert total_of(fresh) == TOTAL
        assert balances_of(fresh) == expected
        assert fresh.execute("PRAGMA integrity_check").column(0).to_pylist() == ["ok"]


def run_bank(path: Path, with_readers: bool) -> tuple[list[WriterStats], list[ReaderStats]]:
    plans = [plan_transfers(i) for i in range(N_THREADS)]
    writers = [WriterStats() for _ in range(N_THREADS)]
    readers = [ReaderStats() for _ in range(N_READERS if with_readers else 0)]
    start = threading.Barrier(len(writers) + len(readers))
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=len(writers) + len(readers)) as pool:
        reader_futures = [pool.submit(run_reader, path, start, stop, stats) for stats in readers]
        writer_futures = [
            pool.submit(run_writer, path, plan, start, stats)
            for plan, stats in zip(plans, writers, strict=True)
        ]
        try:
            wait_all(writer_futures)
        finally:
            stop.set()
            # Frees any thread still waiting to start if another one failed early.
            start.abort()
        wait_all(reader_futures)
    check_final_state(path, writers, plans)
    return writers, readers


def test_concurrent_transfers_conserve_money(bank: Path) -> None:
    """N threads x M transfers: every transfer commits exactly once (after
    retries on conflicts), the total stays 1000 in every transaction, and each
    account ends at the balance the seeded plan prescribes."""
    writers, _ = run_bank(bank, with_readers=False)
    commits = sum(w.commits for w in writers)
    conflicts = sum(w.conflicts for w in writers)
    print(f"commits={commits} conflicts={conflicts}")
    # The threads really did overlap (thousands of conflicts in practice).
    assert conflicts > 0


def test_concurrent_transfers_with_snapshot_readers(bank: Path) -> None:
    """Transfers as above, while reader threads run
    ``BEGIN; SELECT SUM(balance); ...; SELECT SUM(balance); COMMIT``: both sums
    are 1000 and the two full reads of the table are identical (snapshot
    stability while writers commit)."""
    writers, readers = run_bank(bank, with_readers=True)
    assert all(r.snapshots > 0 for r in readers)
    print(
        f"commits={sum(w.commits for w in writers)}"
        f" conflicts={sum(w.conflicts for w in writers)}"
        f" reader snapshots={sum(r.snapshots for r in readers)}"
    )


def test_reopened_file_keeps_transfers(tmp_path: Path) -> None:
    """After every connection is closed, reopening the file shows the same
    committed balances (the transfers reached the file)."""
    path = tmp_path / "bank.llkv"
    with llkv.connect(path) as setup:
        setup.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER)")
        setup.execute(
            "INSERT INTO accounts (id, balance) VALUES "
            + ", ".join(f"({i}, {INITIAL_BALANCE})" for i in range(1, N_ACCOUNTS + 1))
        )
    run_bank(path, with_readers=False)
    plans = [plan_transfers(i) for i in range(N_THREADS)]
    with llkv.connect(path) as reopened:
        assert total_of(reopened) == TOTAL
        assert balances_of(reopened) == expected_balances(plans)
        assert reopened.execute("PRAGMA integrity_check").column(0).to_pylist() == ["ok"]
