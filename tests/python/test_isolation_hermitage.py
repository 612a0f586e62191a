"""Isolation anomalies, in the style of Hermitage (https://github.com/ept/hermitage).

llkv runs every explicit transaction under snapshot isolation with "first
updater wins" and no waiting: the expected outcomes are those of the
PostgreSQL "repeatable read" column of Hermitage, except that where
PostgreSQL *blocks* and then reports a serialization failure, llkv raises
``TransactionConflictError`` straight away.

Every case starts from Hermitage's table::

    create table test (id int primary key, value int);
    insert into test (id, value) values (1, 10), (2, 20);

Each transaction runs a SELECT right after its BEGIN, before any other
connection commits (as Hermitage does), so the cases hold whether the
snapshot is taken at BEGIN or at the first statement of the transaction.
Connections to the same file in one process share one engine, so each
connection below plays one transaction (T1, T2, ...).
"""

import contextlib
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import llkv

Rows = list[dict[str, Any]]

INITIAL: Rows = [{"id": 1, "value": 10}, {"id": 2, "value": 20}]


def table(*pairs: tuple[int, int]) -> Rows:
    """The rows of ``test`` holding the given (id, value) pairs."""
    return [{"id": i, "value": v} for i, v in pairs]


def query(con: llkv.Connection, sql: str, params: Sequence[int] | None = None) -> Rows:
    rows: Rows = con.execute(sql, params).to_pylist()
    return rows


def read_all(con: llkv.Connection) -> Rows:
    return query(con, "SELECT id, value FROM test ORDER BY id")


def write(con: llkv.Connection, sql: str, params: Sequence[int] | None = None) -> int:
    """Run an UPDATE/DELETE/INSERT and return the number of rows it affected."""
    count: int = con.execute(sql, params).to_pylist()[0]["count"]
    return count


def begin(con: llkv.Connection) -> Rows:
    """BEGIN, then read the whole table at once (this fixes the snapshot)."""
    con.execute("BEGIN")
    assert con.in_transaction is True
    return read_all(con)


def commit(con: llkv.Connection) -> None:
    con.execute("COMMIT")
    assert con.in_transaction is False


def rollback(con: llkv.Connection) -> None:
    con.execute("ROLLBACK")
    assert con.in_transaction is False


def committed(path: Path) -> Rows:
    """The committed contents of ``test``, read by a fresh connection."""
    with llkv.connect(path) as con:
        assert con.in_transaction is False
        rows = read_all(con)
    return rows


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    """A database file holding Hermitage's table; its engine stays open throughout."""
    path = tmp_path / "h.llkv"
    with llkv.connect(path) as setup:
        setup.execute(
            "create table test (id int primary key, value int);"
            " insert into test (id, value) values (1, 10), (2, 20);"
        )
        assert read_all(setup) == INITIAL
        yield path


# --- G0, G1a, G1b, G1c: the "read committed" requirements ---------------------


def test_g0_dirty_write(db: Path) -> None:
    """G0 (write cycles / dirty write): prevented.

    T1 updates row 1 and keeps its transaction open; T2's update of the same
    row fails at once with TransactionConflictError (PostgreSQL blocks, then
    reports a serialization failure). T1 goes on, updates row 2 and commits:
    the final table is T1's alone (1 => 11, 2 => 21), never a mix of T1 and T2.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert write(t1, "update test set value = 11 where id = 1") == 1
        with pytest.raises(llkv.TransactionConflictError):
            t2.execute("update test set value = 12 where id = 1")
        # The failed statement left T2 open, on its snapshot.
        assert t2.in_transaction is True
        assert read_all(t2) == INITIAL
        assert write(t1, "update test set value = 21 where id = 2") == 1
        assert read_all(t1) == table((1, 11), (2, 21))
        commit(t1)
        rollback(t2)
    assert committed(db) == table((1, 11), (2, 21))


def test_g1a_aborted_reads(db: Path) -> None:
    """G1a (aborted reads): prevented.

    T2 never sees the value 101 written by T1, neither while T1 is open nor
    after T1 rolls back; the table is unchanged.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert write(t1, "update test set value = 101 where id = 1") == 1
        assert read_all(t1) == table((1, 101), (2, 20))
        assert read_all(t2) == INITIAL
        rollback(t1)
        assert read_all(t2) == INITIAL
        commit(t2)
    assert committed(db) == INITIAL


def test_g1b_intermediate_reads(db: Path) -> None:
    """G1b (intermediate reads): prevented.

    T1 writes 101, then 11, then commits. T2 never sees the intermediate 101;
    under snapshot isolation it does not see the final 11 either (T1 committed
    after T2's snapshot): T2 reads 1 => 10 throughout.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert write(t1, "update test set value = 101 where id = 1") == 1
        assert read_all(t2) == INITIAL
        assert write(t1, "update test set value = 11 where id = 1") == 1
        assert read_all(t1) == table((1, 11), (2, 20))
        commit(t1)
        assert read_all(t2) == INITIAL
        commit(t2)
    assert committed(db) == table((1, 11), (2, 20))


def test_g1c_circular_information_flow(db: Path) -> None:
    """G1c (circular information flow): prevented.

    T1 updates row 1 and T2 updates row 2; each sees its own write and not the
    other's. Both commit (they wrote different rows): 1 => 11, 2 => 22.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert write(t1, "update test set value = 11 where id = 1") == 1
        assert write(t2, "update test set value = 22 where id = 2") == 1
        assert query(t1, "select id, value from test where id = 2") == table((2, 20))
        assert query(t2, "select id, value from test where id = 1") == table((1, 10))
        assert read_all(t1) == table((1, 11), (2, 20))
        assert read_all(t2) == table((1, 10), (2, 22))
        commit(t1)
        commit(t2)
    assert committed(db) == table((1, 11), (2, 22))


# --- OTV ----------------------------------------------------------------------


def test_otv_observed_transaction_vanishes(db: Path) -> None:
    """OTV (observed transaction vanishes): prevented.

    T1 updates both rows. T2's update of row 1 conflicts with T1 (immediately;
    PostgreSQL blocks and fails when T1 commits) and T2 rolls back, so T2's
    write (12) is never visible to anybody. T3, whose snapshot predates T1's
    commit, reads 10/20 before and after T2's rollback; T4, begun after T1's
    commit, reads T1's 11/19. Final: 1 => 11, 2 => 19.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2, llkv.connect(db) as t3:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert begin(t3) == INITIAL
        assert write(t1, "update test set value = 11 where id = 1") == 1
        assert write(t1, "update test set value = 19 where id = 2") == 1
        with pytest.raises(llkv.TransactionConflictError):
            t2.execute("update test set value = 12 where id = 1")
        assert read_all(t2) == INITIAL
        commit(t1)
        assert query(t3, "select id, value from test where id = 1") == table((1, 10))
        with llkv.connect(db) as t4:
            assert begin(t4) == table((1, 11), (2, 19))
            rollback(t2)
            assert query(t3, "select id, value from test where id = 2") == table((2, 20))
            assert read_all(t3) == INITIAL
            assert read_all(t4) == table((1, 11), (2, 19))
            commit(t4)
        commit(t3)
    assert committed(db) == table((1, 11), (2, 19))


# --- PMP ----------------------------------------------------------------------


def test_pmp_predicate_many_preceders_read_predicate(db: Path) -> None:
    """PMP (predicate-many-preceders), read predicate: prevented.

    T1's predicate reads return nothing, both before and after T2 inserts
    (3, 30) and commits: the row committed after T1's snapshot is not a
    phantom in T1. The insert itself is committed.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert query(t1, "select id, value from test where value = 30") == []
        assert write(t2, "insert into test (id, value) values (3, 30)") == 1
        commit(t2)
        assert query(t1, "select id, value from test where value % 3 = 0") == []
        assert read_all(t1) == INITIAL
        commit(t1)
    assert committed(db) == table((1, 10), (2, 20), (3, 30))


@pytest.mark.parametrize("t1_commits_first", [False, True], ids=["t1-open", "t1-committed"])
def test_pmp_predicate_many_preceders_write_predicate(db: Path, t1_commits_first: bool) -> None:
    """PMP (predicate-many-preceders), write predicate: prevented.

    T1 adds 10 to every row (1 => 20, 2 => 30). In T2's snapshot only row 2
    has value 20, and T1 wrote that row, so T2's ``delete ... where value =
    20`` fails with TransactionConflictError, whether T1 is still open or has
    committed after T2's snapshot (PostgreSQL RR: "could not serialize access
    due to concurrent update"). In particular T2 must not delete row 1, whose
    new value 20 it cannot see. Final: T1's update alone, 1 => 20, 2 => 30.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert write(t1, "update test set value = value + 10") == 2
        assert read_all(t1) == table((1, 20), (2, 30))
        if t1_commits_first:
            commit(t1)
        with pytest.raises(llkv.TransactionConflictError):
            t2.execute("delete from test where value = 20")
        assert read_all(t2) == INITIAL
        if not t1_commits_first:
            commit(t1)
        rollback(t2)
    assert committed(db) == table((1, 20), (2, 30))


# --- P4 -----------------------------------------------------------------------


@pytest.mark.parametrize("t1_commits_first", [False, True], ids=["t1-open", "t1-committed"])
def test_p4_lost_update(db: Path, t1_commits_first: bool) -> None:
    """P4 (lost update): prevented.

    T1 and T2 both read row 1 (10) and both set it to 11. The second updater,
    T2, gets TransactionConflictError, whether T1 is still open or committed
    after T2's snapshot (first updater wins). Final: 1 => 11, 2 => 20.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert query(t1, "select id, value from test where id = 1") == table((1, 10))
        assert query(t2, "select id, value from test where id = 1") == table((1, 10))
        assert write(t1, "update test set value = 11 where id = 1") == 1
        if t1_commits_first:
            commit(t1)
        with pytest.raises(llkv.TransactionConflictError):
            t2.execute("update test set value = 11 where id = 1")
        assert read_all(t2) == INITIAL
        if not t1_commits_first:
            commit(t1)
        rollback(t2)
    assert committed(db) == table((1, 11), (2, 20))


def test_p4_lost_update_increments(db: Path) -> None:
    """P4 (lost update) with read-modify-write increments: prevented.

    T1 and T2 both add 1 to row 1; T2's increment conflicts, so after T1
    commits and T2 retries in a new transaction the value is 12, not 11.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert write(t1, "update test set value = value + 1 where id = 1") == 1
        with pytest.raises(llkv.TransactionConflictError):
            t2.execute("update test set value = value + 1 where id = 1")
        commit(t1)
        rollback(t2)
        # The retry sees T1's commit and builds on it.
        assert begin(t2) == table((1, 11), (2, 20))
        assert write(t2, "update test set value = value + 1 where id = 1") == 1
        commit(t2)
    assert committed(db) == table((1, 12), (2, 20))


# --- G-single -----------------------------------------------------------------


def test_g_single_read_skew(db: Path) -> None:
    """G-single (read skew): prevented.

    T1 reads row 1 (10); T2 moves 1 => 12 and 2 => 18 and commits; T1 then
    reads row 2 and still gets 20 (not 18, which would not add up with the 10
    it read). Final: T2's values.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert query(t1, "select id, value from test where id = 1") == table((1, 10))
        assert query(t2, "select id, value from test where id = 1") == table((1, 10))
        assert query(t2, "select id, value from test where id = 2") == table((2, 20))
        assert write(t2, "update test set value = 12 where id = 1") == 1
        assert write(t2, "update test set value = 18 where id = 2") == 1
        commit(t2)
        assert query(t1, "select id, value from test where id = 2") == table((2, 20))
        assert query(t1, "select sum(value) as s from test") == [{"s": 30}]
        commit(t1)
    assert committed(db) == table((1, 12), (2, 18))


def test_g_single_read_skew_predicate_dependencies(db: Path) -> None:
    """G-single (read skew) through predicate reads: prevented.

    T1 reads ``value % 5 = 0`` (both rows); T2 changes 10 to 12 and commits;
    T1's ``value % 3 = 0`` still returns nothing (12 is not in its snapshot).
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert query(t1, "select id, value from test where value % 5 = 0 order by id") == INITIAL
        assert write(t2, "update test set value = 12 where value = 10") == 1
        commit(t2)
        assert query(t1, "select id, value from test where value % 3 = 0") == []
        commit(t1)
    assert committed(db) == table((1, 12), (2, 20))


@pytest.mark.parametrize(
    "t1_write",
    [
        "delete from test where value = 20",
        "update test set value = 0 where value = 20",
        "update test set value = value + 1 where id = 2",
    ],
    ids=["delete-where-value", "update-where-value", "update-where-id"],
)
def test_g_single_read_skew_write_conflict(db: Path, t1_write: str) -> None:
    """G-single (read skew) with a write by T1: prevented by a conflict.

    T1 reads row 1 (10); T2 moves 1 => 12 and 2 => 18 and commits; T1 then
    writes row 2, which it still sees as 20. Row 2 was changed by a
    transaction that committed after T1's snapshot, so T1's write fails with
    TransactionConflictError (PostgreSQL RR: "could not serialize access due
    to concurrent update"). T1 rolls back; final: T2's values.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert query(t1, "select id, value from test where id = 1") == table((1, 10))
        assert write(t2, "update test set value = 12 where id = 1") == 1
        assert write(t2, "update test set value = 18 where id = 2") == 1
        commit(t2)
        with pytest.raises(llkv.TransactionConflictError):
            t1.execute(t1_write)
        assert t1.in_transaction is True
        assert read_all(t1) == INITIAL
        rollback(t1)
    assert committed(db) == table((1, 12), (2, 18))


# --- G2-item, G2: allowed under snapshot isolation ------------------------------


def test_g2_item_write_skew_is_allowed(db: Path) -> None:
    """G2-item (write skew): ALLOWED under snapshot isolation.

    T1 and T2 both read rows 1 and 2; T1 updates row 1 and T2 updates row 2.
    Their write sets are disjoint, so both commit (PostgreSQL RR does the
    same; only SERIALIZABLE would reject T2). Final: 1 => 11, 2 => 21.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert query(t1, "select id, value from test where id in (1, 2) order by id") == INITIAL
        assert query(t2, "select id, value from test where id in (1, 2) order by id") == INITIAL
        assert write(t1, "update test set value = 11 where id = 1") == 1
        assert write(t2, "update test set value = 21 where id = 2") == 1
        commit(t1)
        assert read_all(t2) == table((1, 10), (2, 21))
        commit(t2)
    assert committed(db) == table((1, 11), (2, 21))


def test_g2_anti_dependency_cycles_are_allowed(db: Path) -> None:
    """G2 (anti-dependency cycles over predicates): ALLOWED under snapshot isolation.

    T1 and T2 both find no row with ``value % 3 = 0``, then each inserts one
    (3 => 30, 4 => 42). Neither writes a row the other wrote, so both commit
    (PostgreSQL RR does the same; SERIALIZABLE would reject T2), and the
    predicate now matches both rows.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert query(t1, "select id, value from test where value % 3 = 0") == []
        assert query(t2, "select id, value from test where value % 3 = 0") == []
        assert write(t1, "insert into test (id, value) values (3, 30)") == 1
        assert write(t2, "insert into test (id, value) values (4, 42)") == 1
        commit(t1)
        assert query(t2, "select id, value from test where value % 3 = 0") == table((4, 42))
        commit(t2)
        with llkv.connect(db) as either:
            assert query(
                either, "select id, value from test where value % 3 = 0 order by id"
            ) == table((3, 30), (4, 42))
    assert committed(db) == table((1, 10), (2, 20), (3, 30), (4, 42))


def test_g2_two_anti_dependency_edges_are_allowed(db: Path) -> None:
    """G2 with two anti-dependency edges (Fekete et al.): ALLOWED under snapshot isolation.

    T1 reads 10/20. T2 adds 5 to row 2 and commits; T3 then reads 10/25 and
    commits. T1, still reading 10/20, sets row 1 to 0 and commits: no write
    conflict (T2 wrote row 2 only), so SI accepts it, although no serial
    order explains what T1 and T3 saw (PostgreSQL SERIALIZABLE rejects T1).
    Final: 1 => 0, 2 => 25.
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2, llkv.connect(db) as t3:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert write(t2, "update test set value = value + 5 where id = 2") == 1
        commit(t2)
        assert begin(t3) == table((1, 10), (2, 25))
        commit(t3)
        assert read_all(t1) == INITIAL
        assert write(t1, "update test set value = 0 where id = 1") == 1
        assert read_all(t1) == table((1, 0), (2, 20))
        commit(t1)
    assert committed(db) == table((1, 0), (2, 25))


# --- Beyond Hermitage ----------------------------------------------------------


def test_conflicting_statement_is_atomic(db: Path) -> None:
    """A statement that hits a conflict has no effect, and the transaction's
    earlier work survives it.

    T1 updates row 2. T2 first updates row 1 on its own, then runs an UPDATE
    of every row, which conflicts on row 2: none of that statement's changes
    may remain (row 1 stays at T2's 11, not 111). T2 may still commit its
    earlier, non-conflicting work. Final: 1 => 11 (T2), 2 => 21 (T1).
    """
    with llkv.connect(db) as t1, llkv.connect(db) as t2:
        assert begin(t1) == INITIAL
        assert begin(t2) == INITIAL
        assert write(t1, "update test set value = 21 where id = 2") == 1
        assert write(t2, "update test set value = 11 where id = 1") == 1
        with pytest.raises(llkv.TransactionConflictError):
            t2.execute("update test set value = value + 100")
        assert t2.in_transaction is True
        assert read_all(t2) == table((1, 11), (2, 20))
        commit(t1)
        commit(t2)
    assert committed(db) == table((1, 11), (2, 21))


class SIModel:
    """Snapshot isolation, first updater wins, for ``test`` with rows 1..N."""

    def __init__(self, values: dict[int, int]) -> None:
        self.committed = dict(values)
        self.clock = 0
        self.last_commit = dict.fromkeys(values, 0)
        # Per open transaction (keyed by connection index): snapshot, start time, writes.
        self.snapshot: dict[int, dict[int, int]] = {}
        self.start: dict[int, int] = {}
        self.writes: dict[int, dict[int, int]] = {}

    def begin(self, tx: int) -> None:
        self.snapshot[tx] = dict(self.committed)
        self.start[tx] = self.clock
        self.writes[tx] = {}

    def view(self, tx: int) -> dict[int, int]:
        return {**self.snapshot[tx], **self.writes[tx]}

    def conflicts(self, tx: int, row: int) -> bool:
        if self.last_commit[row] > self.start[tx]:
            return True
        return any(row in w for other, w in self.writes.items() if other != tx)

    def update(self, tx: int, rows: list[int], delta: int) -> bool:
        """Add ``delta`` to ``rows``; False (and no effect) on a conflict."""
        if any(self.conflicts(tx, r) for r in rows):
            return False
        view = self.view(tx)
        for r in rows:
            self.writes[tx][r] = view[r] + delta
        return True

    def end(self, tx: int, commit: bool) -> None:
        writes = self.writes.pop(tx)
        del self.snapshot[tx], self.start[tx]
        if commit and writes:
            self.clock += 1
            for r, v in writes.items():
                self.committed[r] = v
                self.last_commit[r] = self.clock


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_interleavings_match_snapshot_isolation_model(tmp_path: Path, seed: int) -> None:
    """Random interleavings of BEGIN / SELECT / UPDATE / COMMIT / ROLLBACK (and
    autocommit UPDATEs) over four connections, checked step by step against a
    model of snapshot isolation with first-updater-wins: every read returns
    the model's snapshot plus own writes, every UPDATE conflicts exactly when
    the model says so (no missed and no spurious conflicts), and the committed
    table always matches."""
    rng = random.Random(seed)
    n_rows, n_cons, steps = 5, 4, 1500
    path = tmp_path / "model.llkv"
    values = {r: 10 * r for r in range(1, n_rows + 1)}
    model = SIModel(values)
    with contextlib.ExitStack() as stack:
        cons = [stack.enter_context(llkv.connect(path)) for _ in range(n_cons)]
        observer = stack.enter_context(llkv.connect(path))
        cons[0].execute("create table test (id int primary key, value int)")
        cons[0].execute(
            "insert into test (id, value) values "
            + ", ".join(f"({r}, {v})" for r, v in values.items())
        )
        stats = {"conflicts": 0, "commits": 0}
        for step in range(steps):
            i = rng.randrange(n_cons)
            con = cons[i]
            where = f"step {step}, connection {i}"
            rows = sorted(rng.sample(range(1, n_rows + 1), rng.choice([1, 1, 2])))
            delta = rng.randint(1, 9)
            sql = (
                "update test set value = value + ? where id in (" + ", ".join("?" * len(rows)) + ")"
            )
            params = [delta, *rows]
            if not con.in_transaction:
                action = "begin" if rng.random() < 0.8 else "autocommit-update"
            else:
                action = rng.choices(["select", "update", "commit", "rollback"], [3, 4, 2, 1])[0]
            if action == "begin":
                model.begin(i)
                assert begin(con) == table(*sorted(model.view(i).items())), where
            elif action == "autocommit-update":
                # A one-statement transaction of its own.
                model.begin(i)
                ok = model.update(i, rows, delta)
                if ok:
                    assert write(con, sql, params) == len(rows), where
                else:
                    with pytest.raises(llkv.TransactionConflictError):
                        con.execute(sql, params)
                    stats["conflicts"] += 1
                model.end(i, commit=ok)
                assert con.in_transaction is False, where
            elif action == "select":
                assert read_all(con) == table(*sorted(model.view(i).items())), where
            elif action == "update":
                if model.update(i, rows, delta):
                    assert write(con, sql, params) == len(rows), where
                else:
                    with pytest.raises(llkv.TransactionConflictError):
                        con.execute(sql, params)
                    stats["conflicts"] += 1
                    # The statement failed; the transaction is intact, then given up.
                    assert read_all(con) == table(*sorted(model.view(i).items())), where
                    model.end(i, commit=False)
                    rollback(con)
            else:
                model.end(i, commit=action == "commit")
                if action == "commit":
                    commit(con)
                    stats["commits"] += 1
                else:
                    rollback(con)
            # An autocommit reader sees exactly the committed state.
            assert read_all(observer) == table(*sorted(model.committed.items())), where
        assert stats["conflicts"] > 0
        assert stats["commits"] > 0
