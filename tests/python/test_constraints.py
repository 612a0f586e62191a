"""Unique keys: PRIMARY KEY, UNIQUE columns/constraints/indexes, and the
INSERT conflict clauses (OR IGNORE, OR REPLACE, ON CONFLICT DO NOTHING)."""

from pathlib import Path

import pytest

import llkv


def rows(con: llkv.Connection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in con.execute(sql).to_pylist()]


def test_duplicate_primary_key_is_an_integrity_error(any_con: llkv.Connection) -> None:
    any_con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    any_con.execute("INSERT INTO t VALUES (1, 'a')")
    with pytest.raises(llkv.IntegrityError, match=r"UNIQUE constraint failed: t\.id"):
        any_con.execute("INSERT INTO t VALUES (1, 'b')")
    # The failed statement left nothing behind.
    assert rows(any_con, "SELECT id, v FROM t") == [(1, "a")]


def test_duplicate_within_one_statement_fails_whole_statement(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    with pytest.raises(llkv.IntegrityError):
        con.execute("INSERT INTO t VALUES (1), (2), (1)")
    assert rows(con, "SELECT count(*) FROM t") == [(0,)]


def test_primary_key_is_not_null(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    with pytest.raises(llkv.IntegrityError):
        con.execute("INSERT INTO t VALUES (NULL)")


def test_unique_allows_many_nulls(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER UNIQUE)")
    con.execute("INSERT INTO t VALUES (NULL), (NULL), (1)")
    with pytest.raises(llkv.IntegrityError):
        con.execute("INSERT INTO t VALUES (1)")
    assert rows(con, "SELECT count(*) FROM t") == [(3,)]


def test_composite_unique_constraint(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT, PRIMARY KEY (a, b))")
    con.execute("INSERT INTO t VALUES (1, 'x'), (1, 'y'), (2, 'x')")
    with pytest.raises(llkv.IntegrityError):
        con.execute("INSERT INTO t VALUES (1, 'y')")


def test_update_into_existing_key_fails_and_swaps_work(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    con.execute("INSERT INTO t VALUES (1), (2)")
    with pytest.raises(llkv.IntegrityError):
        con.execute("UPDATE t SET id = 2 WHERE id = 1")
    # Every row moves at once, so shifting all keys does not collide.
    con.execute("UPDATE t SET id = id + 1")
    assert rows(con, "SELECT id FROM t ORDER BY id") == [(2,), (3,)]


def test_insert_or_replace_and_replace_into(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    con.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    con.execute("INSERT OR REPLACE INTO t VALUES (2, 'B'), (3, 'c')")
    con.execute("REPLACE INTO t VALUES (1, 'A')")
    assert rows(con, "SELECT id, v FROM t ORDER BY id") == [(1, "A"), (2, "B"), (3, "c")]


def test_insert_or_ignore_and_on_conflict_do_nothing(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    con.execute("INSERT INTO t VALUES (1, 'a')")
    con.execute("INSERT OR IGNORE INTO t VALUES (1, 'x'), (2, 'b'), (2, 'y')")
    con.execute("INSERT INTO t VALUES (3, 'c'), (1, 'z') ON CONFLICT DO NOTHING")
    assert rows(con, "SELECT id, v FROM t ORDER BY id") == [(1, "a"), (2, "b"), (3, "c")]


def test_unique_index_rejects_existing_duplicates(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("INSERT INTO t VALUES (1), (1)")
    with pytest.raises(llkv.IntegrityError):
        con.execute("CREATE UNIQUE INDEX ta ON t (a)")
    con.execute("DELETE FROM t WHERE a = 1")
    con.execute("CREATE UNIQUE INDEX ta ON t (a)")
    con.execute("INSERT INTO t VALUES (5)")
    with pytest.raises(llkv.IntegrityError):
        con.execute("INSERT INTO t VALUES (5)")


def test_concurrent_inserts_of_one_key_second_commit_fails(tmp_path: Path) -> None:
    path = tmp_path / "uniq.llkv"
    with llkv.connect(path) as a, llkv.connect(path) as b:
        a.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        a.execute("BEGIN")
        b.execute("BEGIN")
        a.execute("INSERT INTO t VALUES (7)")
        # b's snapshot does not see a's row, so the statement itself passes.
        b.execute("INSERT INTO t VALUES (7)")
        a.execute("COMMIT")
        # A retryable conflict (issue 6); the retry then sees a's row and
        # fails with the IntegrityError the insert deserves.
        with pytest.raises(llkv.TransactionConflictError, match="PRIMARY KEY"):
            b.execute("COMMIT")
        assert b.in_transaction is False
        assert rows(b, "SELECT id FROM t") == [(7,)]
        with pytest.raises(llkv.IntegrityError):
            b.execute("INSERT INTO t VALUES (7)")


def test_on_conflict_do_update(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER, note TEXT)")
    con.execute("INSERT INTO stock VALUES ('a', 1, 'x'), ('b', 2, 'y')")
    con.execute(
        "INSERT INTO stock VALUES ('a', 10, 'new'), ('c', 3, 'z'), ('a', 5, 'again') "
        "ON CONFLICT (sku) DO UPDATE SET qty = qty + excluded.qty, note = excluded.note"
    )
    # Rows apply in order: the second 'a' sees the first one's update.
    assert rows(con, "SELECT sku, qty, note FROM stock ORDER BY sku") == [
        ("a", 16, "again"),
        ("b", 2, "y"),
        ("c", 3, "z"),
    ]
    con.execute(
        "INSERT INTO stock VALUES ('b', 100, 'ignored') "
        "ON CONFLICT (sku) DO UPDATE SET qty = excluded.qty WHERE stock.qty > 50"
    )
    assert rows(con, "SELECT qty FROM stock WHERE sku = 'b'") == [(2,)]
    with pytest.raises(llkv.ProgrammingError, match="does not match"):
        con.execute("INSERT INTO stock VALUES ('a', 1, '') ON CONFLICT (qty) DO UPDATE SET qty = 0")
    returned = con.execute(
        "INSERT INTO stock VALUES ('q', 1, ''), ('a', 7, '') "
        "ON CONFLICT (sku) DO UPDATE SET qty = stock.qty + excluded.qty RETURNING sku, qty"
    )
    assert returned.column_names == ["sku", "qty"]
    assert returned.to_pylist() == [{"sku": "q", "qty": 1}, {"sku": "a", "qty": 23}]


def test_check_constraint_violation_names_table_and_expression(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE acct (id INTEGER, bal INTEGER, CONSTRAINT nonneg CHECK (bal >= 0))")
    con.execute("INSERT INTO acct VALUES (1, 5)")
    with pytest.raises(llkv.IntegrityError, match=r"CHECK constraint failed: nonneg on table acct"):
        con.execute("UPDATE acct SET bal = bal - 10")
    with pytest.raises(llkv.IntegrityError, match="CHECK"):
        con.execute("INSERT INTO acct VALUES (2, 1), (3, -1)")
    assert rows(con, "SELECT id, bal FROM acct") == [(1, 5)]
    with pytest.raises(llkv.ProgrammingError, match="subqueries"):
        con.execute("CREATE TABLE bad (x INTEGER CHECK (x IN (SELECT 1)))")


def test_foreign_key_violations_and_cascade(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute(
        "CREATE TABLE book (id INTEGER PRIMARY KEY, "
        "author INTEGER REFERENCES author (id) ON DELETE CASCADE)"
    )
    con.execute("CREATE TABLE loan (book INTEGER REFERENCES book (id))")
    con.execute("INSERT INTO author VALUES (1, 'a'), (2, 'b')")
    con.execute("INSERT INTO book VALUES (10, 1), (11, 1), (20, 2)")
    with pytest.raises(llkv.IntegrityError, match=r"FOREIGN KEY constraint failed: book\(author\)"):
        con.execute("INSERT INTO book VALUES (30, 3)")
    con.execute("INSERT INTO loan VALUES (20)")
    # Deleting author 2 would cascade into book 20, which a loan references.
    with pytest.raises(llkv.IntegrityError, match="still referenced by loan"):
        con.execute("DELETE FROM author WHERE id = 2")
    assert rows(con, "SELECT id FROM book ORDER BY id") == [(10,), (11,), (20,)]
    con.execute("DELETE FROM author WHERE id = 1")
    assert rows(con, "SELECT id FROM book ORDER BY id") == [(20,)]
    with pytest.raises(llkv.IntegrityError, match="cannot drop table book"):
        con.execute("DROP TABLE book")


def test_returning_gives_rows_with_names(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    inserted = con.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b') RETURNING id, name AS n")
    assert inserted.column_names == ["id", "n"]
    assert inserted.to_pylist() == [{"id": 1, "n": "a"}, {"id": 2, "n": "b"}]
    deleted = con.execute("DELETE FROM t WHERE id = ? RETURNING *", [2])
    assert deleted.to_pylist() == [{"id": 2, "name": "b"}]


def test_alter_table_is_transactional(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("INSERT INTO t VALUES (1)")
    con.execute("BEGIN")
    con.execute("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'")
    assert rows(con, "SELECT a, b FROM t") == [(1, "x")]
    con.rollback()
    assert con.execute("SELECT * FROM t").column_names == ["a"]
    with pytest.raises(llkv.ProgrammingError, match="no such column"):
        con.execute("ALTER TABLE t RENAME COLUMN nope TO other")
