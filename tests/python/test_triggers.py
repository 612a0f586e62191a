"""Row triggers: BEFORE/AFTER INSERT/UPDATE/DELETE with OLD/NEW, WHEN and
UPDATE OF; REINDEX."""

import pytest

import llkv


def rows(con: llkv.Connection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in con.execute(sql).to_pylist()]


@pytest.fixture
def audited(con: llkv.Connection) -> llkv.Connection:
    con.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)")
    con.execute("CREATE TABLE log (op TEXT, id INTEGER, old_bal INTEGER, new_bal INTEGER)")
    con.execute(
        "CREATE TRIGGER acct_ins AFTER INSERT ON acct BEGIN "
        "INSERT INTO log VALUES ('ins', NEW.id, NULL, NEW.bal); END"
    )
    con.execute(
        "CREATE TRIGGER acct_upd AFTER UPDATE OF bal ON acct WHEN NEW.bal <> OLD.bal BEGIN "
        "INSERT INTO log VALUES ('upd', NEW.id, OLD.bal, NEW.bal); END"
    )
    con.execute(
        "CREATE TRIGGER acct_del BEFORE DELETE ON acct BEGIN "
        "INSERT INTO log VALUES ('del', OLD.id, OLD.bal, NULL); END"
    )
    return con


def test_triggers_see_old_and_new_rows(audited: llkv.Connection) -> None:
    audited.execute("INSERT INTO acct VALUES (1, 100), (2, 50)")
    audited.execute("UPDATE acct SET bal = bal + 10 WHERE id = 1")
    audited.execute("UPDATE acct SET bal = bal WHERE id = 2")  # WHEN is false
    audited.execute("UPDATE acct SET id = id WHERE id = 2")  # not UPDATE OF bal
    audited.execute("DELETE FROM acct WHERE id = 2")
    assert rows(audited, "SELECT op, id, old_bal, new_bal FROM log") == [
        ("ins", 1, None, 100),
        ("ins", 2, None, 50),
        ("upd", 1, 100, 110),
        ("del", 2, 50, None),
    ]


def test_failing_trigger_fails_the_statement(audited: llkv.Connection) -> None:
    audited.execute(
        "CREATE TRIGGER no_neg BEFORE INSERT ON acct WHEN NEW.bal < 0 BEGIN "
        "INSERT INTO acct VALUES (NEW.id, NULL); INSERT INTO acct VALUES (NEW.id, NULL); END"
    )
    with pytest.raises(llkv.IntegrityError):
        audited.execute("INSERT INTO acct VALUES (5, -1)")
    # Neither the row nor anything its triggers did is left behind.
    assert rows(audited, "SELECT count(*) FROM acct") == [(0,)]
    assert rows(audited, "SELECT count(*) FROM log") == [(0,)]


def test_trigger_does_not_recurse_into_itself(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (n INTEGER)")
    con.execute(
        "CREATE TRIGGER again AFTER INSERT ON t BEGIN INSERT INTO t VALUES (NEW.n + 1); END"
    )
    con.execute("INSERT INTO t VALUES (1)")
    assert rows(con, "SELECT n FROM t ORDER BY n") == [(1,), (2,)]


def test_create_drop_trigger_errors(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (n INTEGER)")
    con.execute("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END")
    with pytest.raises(llkv.ProgrammingError, match="already exists"):
        con.execute("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END")
    with pytest.raises(llkv.ProgrammingError, match="no such table"):
        con.execute("CREATE TRIGGER tr2 AFTER INSERT ON missing BEGIN SELECT 1; END")
    # As in SQLite, the body is bound when the trigger fires.
    con.execute("CREATE TRIGGER tr3 AFTER INSERT ON t BEGIN SELECT NEW.zz; END")
    with pytest.raises(llkv.ProgrammingError, match="no such column"):
        con.execute("INSERT INTO t VALUES (1)")
    assert rows(con, "SELECT count(*) FROM t") == [(0,)]
    con.execute("DROP TRIGGER tr3")
    con.execute("DROP TRIGGER tr")
    con.execute("DROP TRIGGER IF EXISTS tr")
    with pytest.raises(llkv.ProgrammingError, match="no such trigger"):
        con.execute("DROP TRIGGER tr")


def test_drop_table_drops_its_triggers(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (n INTEGER)")
    con.execute("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END")
    con.execute("DROP TABLE t")
    con.execute("CREATE TABLE t (n INTEGER)")
    # The name is free again, so the old trigger is gone.
    con.execute("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END")


def test_reindex_checks_the_name(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (n INTEGER)")
    con.execute("CREATE INDEX tn ON t (n)")
    con.execute("REINDEX tn")
    con.execute("REINDEX t")
    con.execute("REINDEX")
    with pytest.raises(llkv.ProgrammingError):
        con.execute("REINDEX nothing_here")
