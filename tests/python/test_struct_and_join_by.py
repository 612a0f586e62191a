"""STRUCT values (a table name used as a value) reach Python as Arrow
structs, and DuckDB's JOIN BY (TYPE ...) joins fail with the right
exception classes."""

import pyarrow as pa
import pytest

import llkv


@pytest.fixture
def people(con: llkv.Connection) -> llkv.Connection:
    con.execute("CREATE TABLE p(id INTEGER, name TEXT)")
    con.execute("INSERT INTO p VALUES (1, 'ann'), (2, NULL)")
    return con


def test_a_table_as_a_value_is_an_arrow_struct(people: llkv.Connection) -> None:
    table = people.execute("SELECT p FROM p ORDER BY id")
    assert table.schema.field("p").type == pa.struct(
        [pa.field("id", pa.int64()), pa.field("name", pa.string())]
    )
    assert table.column("p").to_pylist() == [
        {"id": 1, "name": "ann"},
        {"id": 2, "name": None},
    ]


def test_the_cursor_returns_structs_as_dicts(people: llkv.Connection) -> None:
    cur = people.cursor()
    rows = cur.execute("SELECT id, p FROM p WHERE p = p ORDER BY id").fetchall()
    assert rows == [(1, {"id": 1, "name": "ann"}), (2, {"id": 2, "name": None})]
    frame = cur.execute("SELECT p FROM p ORDER BY id").df()
    assert frame["p"].tolist() == [{"id": 1, "name": "ann"}, {"id": 2, "name": None}]


def test_struct_operations_llkv_lacks_are_refused(people: llkv.Connection) -> None:
    with pytest.raises(llkv.NotSupportedError, match="STRUCT"):
        people.execute("SELECT coalesce(p, p) FROM p")
    with pytest.raises(llkv.NotSupportedError, match="STRUCT"):
        people.execute("SELECT min(p) FROM p")
    with pytest.raises(llkv.NotSupportedError):
        people.execute("CREATE TABLE q AS SELECT p FROM p")
    # The failed statement left no table behind.
    with pytest.raises(llkv.ProgrammingError, match="no such table"):
        people.execute("SELECT * FROM q")


def test_join_by_errors(people: llkv.Connection) -> None:
    people.execute("CREATE TABLE r(id INTEGER)")
    people.execute("INSERT INTO r VALUES (1), (1)")
    with pytest.raises(llkv.DataError, match="more than one row"):
        people.execute("SELECT * FROM p JOIN BY (TYPE single) r ON p.id = r.id")
    with pytest.raises(llkv.ProgrammingError, match="unknown join type"):
        people.execute("SELECT * FROM p JOIN BY (TYPE sideways) r ON p.id = r.id")
    marked = people.execute(
        "SELECT p.id, __mark_join_marker AS m FROM p JOIN BY (TYPE mark) r "
        "ON p.id = r.id ORDER BY p.id"
    )
    assert marked.to_pylist() == [{"id": 1, "m": True}, {"id": 2, "m": False}]
