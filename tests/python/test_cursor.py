"""The PEP 249 cursor (llkv.Cursor): execute, fetch rows as tuples, Arrow,
pandas, polars and NumPy views, and the closed-cursor error paths."""

import inspect
import sys
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import polars
import pyarrow as pa
import pytest

import llkv

#: The rows of the table `t` made by `fill`.
ROWS = [(0, "zero", 0.5), (1, "one", 1.5), (2, "two", 2.5), (3, None, 3.5), (4, "four", None)]


def fill(con: llkv.Connection) -> None:
    """Create table t (i, s, d) holding ROWS, in one statement."""
    con.execute("CREATE TABLE t (i INTEGER, s TEXT, d DOUBLE)")
    con.execute(
        "INSERT INTO t VALUES (0, 'zero', 0.5), (1, 'one', 1.5), (2, 'two', 2.5), "
        "(3, NULL, 3.5), (4, 'four', NULL)"
    )


@pytest.fixture
def cur(con: llkv.Connection) -> Iterator[llkv.Cursor]:
    """A cursor on `con`, with table t filled."""
    fill(con)
    cursor = con.cursor()
    yield cursor
    cursor.close()


def select_all(cur: llkv.Cursor) -> llkv.Cursor:
    return cur.execute("SELECT i, s, d FROM t ORDER BY i")


# -- Attributes -----------------------------------------------------------------


def test_fresh_cursor_attributes(con: llkv.Connection) -> None:
    cur = con.cursor()
    assert isinstance(cur, llkv.Cursor)
    assert cur.connection is con
    assert cur.description is None
    assert cur.rowcount == -1
    assert cur.arraysize == 1
    assert cur.lastrowid is None
    assert cur.closed is False
    assert repr(cur) == "<llkv.Cursor>"
    cur.close()
    assert repr(cur) == "<llkv.Cursor (closed)>"


def test_cursor_class_is_exported() -> None:
    assert "Cursor" in llkv.__all__
    assert llkv.Cursor is llkv._cursor.Cursor


def test_public_methods_are_documented() -> None:
    for name, member in inspect.getmembers(llkv.Cursor):
        if name.startswith("_") and name not in ("__init__", "__iter__", "__next__"):
            continue
        assert inspect.getdoc(member), f"Cursor.{name} has no docstring"


def test_execute_returns_the_cursor(cur: llkv.Cursor) -> None:
    assert cur.execute("SELECT 1 AS one") is cur
    assert cur.execute("SELECT 1 AS one").fetchall() == [(1,)]


def test_description_names_and_types(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE v (i INTEGER, s TEXT, d DOUBLE, b BOOLEAN, x BLOB)")
    cur = con.cursor().execute("SELECT i, s, d AS renamed, b, x FROM v")
    assert cur.description is not None
    assert [column[0] for column in cur.description] == ["i", "s", "renamed", "b", "x"]
    assert [column[1] for column in cur.description] == [
        pa.int64(),
        pa.string(),
        pa.float64(),
        pa.bool_(),
        pa.binary(),
    ]
    for column in cur.description:
        assert len(column) == 7
        assert column[2:] == (None, None, None, None, None)
    # No rows, but still a result set.
    assert cur.fetchall() == []


def state(cur: llkv.Cursor) -> tuple[int, object]:
    """The cursor's rowcount and description."""
    return cur.rowcount, cur.description


def test_rowcount_and_description_per_statement(con: llkv.Connection) -> None:
    cur = con.cursor()
    cur.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    assert state(cur) == (-1, None)
    cur.execute("INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'z')")
    assert state(cur) == (3, None)
    cur.execute("UPDATE t SET b = ? WHERE a >= ?", ["w", 2])
    assert state(cur) == (2, None)
    cur.execute("UPDATE t SET b = 'q' WHERE a > 100")
    assert state(cur) == (0, None)
    cur.execute("DELETE FROM t WHERE a = 1")
    assert state(cur) == (1, None)
    cur.execute("SELECT a, b FROM t ORDER BY a")
    assert cur.rowcount == -1
    assert cur.description is not None
    assert cur.fetchall() == [(2, "w"), (3, "w")]
    cur.execute("DROP TABLE t")
    assert state(cur) == (-1, None)


def test_dml_with_returning_is_a_result_set(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    cur = con.cursor().execute("INSERT INTO t VALUES (1, 'x'), (2, 'y') RETURNING a, b")
    assert cur.rowcount == -1
    assert cur.description is not None
    assert [column[0] for column in cur.description] == ["a", "b"]
    assert cur.fetchall() == [(1, "x"), (2, "y")]


def test_query_with_a_count_column_is_a_result_set(cur: llkv.Cursor) -> None:
    cur.execute("SELECT COUNT(*) AS count FROM t")
    assert cur.rowcount == -1
    assert cur.fetchall() == [(5,)]


def test_values_are_plain_python(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE v (i INTEGER, s TEXT, d DOUBLE, b BOOLEAN, x BLOB)")
    con.execute("INSERT INTO v VALUES (?, ?, ?, ?, ?)", [7, "é ✓", -0.25, True, b"\x00\xff"])
    con.execute("INSERT INTO v VALUES (NULL, NULL, NULL, NULL, NULL)")
    cur = con.cursor().execute("SELECT i, s, d, b, x FROM v ORDER BY i NULLS LAST")
    row = cur.fetchone()
    assert row == (7, "é ✓", -0.25, True, b"\x00\xff")
    assert row is not None
    assert [type(value) for value in row] == [int, str, float, bool, bytes]
    assert cur.fetchone() == (None, None, None, None, None)
    assert cur.fetchone() is None


# -- Fetching rows --------------------------------------------------------------------


def test_fetch_methods_share_one_position(cur: llkv.Cursor) -> None:
    select_all(cur)
    assert cur.fetchone() == ROWS[0]
    assert cur.fetchmany(2) == ROWS[1:3]
    assert cur.fetchone() == ROWS[3]
    assert cur.fetchall() == ROWS[4:]
    assert cur.fetchone() is None
    assert cur.fetchmany(3) == []
    assert cur.fetchall() == []


def test_fetchall_of_a_fresh_result(cur: llkv.Cursor) -> None:
    assert select_all(cur).fetchall() == ROWS
    assert cur.fetchall() == []


def test_new_execute_discards_unfetched_rows(cur: llkv.Cursor) -> None:
    select_all(cur).fetchone()
    cur.execute("SELECT 42 AS answer")
    assert cur.fetchall() == [(42,)]


def test_fetchmany_defaults_to_arraysize(cur: llkv.Cursor) -> None:
    select_all(cur)
    assert len(cur.fetchmany()) == 1
    cur.arraysize = 3
    assert cur.arraysize == 3
    assert cur.fetchmany() == ROWS[1:4]
    assert cur.fetchmany() == ROWS[4:]
    assert cur.fetchmany() == []


def test_fetchmany_sizes(cur: llkv.Cursor) -> None:
    select_all(cur)
    assert cur.fetchmany(0) == []
    assert cur.fetchmany(100) == ROWS
    with pytest.raises(ValueError, match="negative"):
        cur.fetchmany(-1)


def test_arraysize_must_be_a_positive_int(cur: llkv.Cursor) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        cur.arraysize = 0
    with pytest.raises(TypeError, match="int"):
        cur.arraysize = "2"  # type: ignore[assignment]
    assert cur.arraysize == 1


def test_iteration_yields_remaining_rows(cur: llkv.Cursor) -> None:
    select_all(cur)
    assert iter(cur) is cur
    assert next(cur) == ROWS[0]
    assert list(cur) == ROWS[1:]
    with pytest.raises(StopIteration):
        next(cur)
    rows = []
    for row in select_all(cur):
        rows.append(row)
    assert rows == ROWS


def test_position_across_conversion_chunks(con: llkv.Connection) -> None:
    # More rows than fetchone() converts ahead at a time (1024), so that
    # fetches start and end inside and across its buffer.
    n = 3000
    con.execute("CREATE TABLE big (a INTEGER)")
    con.execute("INSERT INTO big VALUES " + ", ".join(f"({i})" for i in range(n)))
    cur = con.cursor().execute("SELECT a FROM big ORDER BY a")
    got: list[tuple[Any, ...]] = []
    for _ in range(3):
        row = cur.fetchone()
        assert row is not None
        got.append(row)
    got += cur.fetchmany(10)
    got += cur.fetchmany(1500)
    got += [next(cur) for _ in range(600)]
    got += cur.fetchmany(5)
    assert cur.arrow().column("a").to_pylist() == list(range(len(got), n))
    assert got == [(i,) for i in range(len(got))]

    cur.execute("SELECT a FROM big ORDER BY a")
    assert cur.fetchone() == (0,)
    assert cur.fetchall() == [(i,) for i in range(1, n)]


# -- No result set ------------------------------------------------------------------

FETCHES: list[tuple[str, Callable[[llkv.Cursor], object]]] = [
    ("fetchone", lambda c: c.fetchone()),
    ("fetchmany", lambda c: c.fetchmany()),
    ("fetchall", lambda c: c.fetchall()),
    ("next", lambda c: next(c)),
    ("arrow", lambda c: c.arrow()),
    ("fetch_record_batch", lambda c: c.fetch_record_batch()),
    ("df", lambda c: c.df()),
    ("pl", lambda c: c.pl()),
    ("fetchnumpy", lambda c: c.fetchnumpy()),
    ("arrow_c_stream", lambda c: pa.table(c)),
]


@pytest.mark.parametrize("fetch", [f for _, f in FETCHES], ids=[name for name, _ in FETCHES])
def test_fetch_without_result_set_raises(
    con: llkv.Connection, fetch: Callable[[llkv.Cursor], object]
) -> None:
    cur = con.cursor()
    with pytest.raises(llkv.ProgrammingError, match="no result set"):
        fetch(cur)
    cur.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(llkv.ProgrammingError, match="no result set"):
        fetch(cur)
    cur.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(llkv.ProgrammingError, match="no result set"):
        fetch(cur)


def test_failed_execute_clears_the_previous_result(cur: llkv.Cursor) -> None:
    select_all(cur)
    with pytest.raises(llkv.ProgrammingError):
        cur.execute("SELECT nope FROM t")
    assert cur.description is None
    assert cur.rowcount == -1
    with pytest.raises(llkv.ProgrammingError, match="no result set"):
        cur.fetchall()


# -- Parameters and executemany --------------------------------------------------------


def test_positional_and_numbered_parameters(cur: llkv.Cursor) -> None:
    assert cur.execute("SELECT ? + ? AS s", (1, 2)).fetchall() == [(3,)]
    assert cur.execute("SELECT $2 - $1 AS d", [1, 10]).fetchall() == [(9,)]
    assert cur.execute("SELECT ?1 + ?1 AS s", [21]).fetchall() == [(42,)]
    assert cur.execute("SELECT s FROM t WHERE i = ?", [1]).fetchall() == [("one",)]


def test_named_parameters(cur: llkv.Cursor) -> None:
    assert cur.execute("SELECT :a + :b AS s", {"a": 1, "b": 2}).fetchall() == [(3,)]
    assert cur.execute("SELECT :a * :a AS sq", {"a": 7}).fetchall() == [(49,)]
    # Any mapping works, not only a dict.
    params = MappingProxyType({"lo": 1, "hi": 3})
    cur.execute("SELECT i FROM t WHERE i BETWEEN :lo AND :hi ORDER BY i", params)
    assert cur.fetchall() == [(1,), (2,), (3,)]
    with pytest.raises(llkv.ProgrammingError):
        cur.execute("SELECT :a + :b AS s", {"a": 1})
    with pytest.raises(llkv.ProgrammingError, match="placeholder :a is named: pass the parameters"):
        cur.execute("SELECT :a AS s", [1])


def test_executemany_with_a_list_of_tuples(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    cur = con.cursor()
    assert cur.executemany("INSERT INTO t VALUES (?, ?)", [(1, "x"), (2, "y"), (3, "z")]) is cur
    assert cur.rowcount == 3
    assert cur.description is None
    # Row counts add up across parameter sets, including sets that match nothing.
    cur.executemany("UPDATE t SET b = 'u' WHERE a >= ?", [(2,), (100,), (3,)])
    assert cur.rowcount == 3
    cur.executemany("DELETE FROM t WHERE a = ?", ((a,) for a in (1, 2)))  # any iterable
    assert cur.rowcount == 2
    assert cur.execute("SELECT a, b FROM t").fetchall() == [(3, "u")]


def test_executemany_with_named_parameters(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    cur = con.cursor()
    cur.executemany("INSERT INTO t VALUES (:a, :b)", [{"a": 1, "b": "x"}, {"b": "y", "a": 2}])
    assert cur.rowcount == 2
    assert cur.execute("SELECT a, b FROM t ORDER BY a").fetchall() == [(1, "x"), (2, "y")]


def test_executemany_with_no_parameter_sets(cur: llkv.Cursor) -> None:
    select_all(cur)
    cur.executemany("INSERT INTO t VALUES (?, ?, ?)", [])
    assert cur.rowcount == -1
    assert cur.description is None
    assert cur.execute("SELECT COUNT(*) AS n FROM t").fetchall() == [(5,)]


def test_executemany_of_a_query_keeps_the_last_result(cur: llkv.Cursor) -> None:
    cur.executemany("SELECT ? AS a", [(1,), (2,)])
    assert cur.rowcount == -1
    assert cur.description is not None
    assert cur.fetchall() == [(2,)]


# -- Closing ------------------------------------------------------------------------

USES: list[tuple[str, Callable[[llkv.Cursor], object]]] = [
    *FETCHES,
    ("execute", lambda c: c.execute("SELECT 1 AS one")),
    ("executemany", lambda c: c.executemany("SELECT ? AS a", [(1,)])),
    ("iter", lambda c: iter(c)),
    ("setinputsizes", lambda c: c.setinputsizes([None])),
    ("setoutputsize", lambda c: c.setoutputsize(10)),
    ("enter", lambda c: c.__enter__()),
]


@pytest.mark.parametrize("use", [u for _, u in USES], ids=[name for name, _ in USES])
def test_closed_cursor_raises(cur: llkv.Cursor, use: Callable[[llkv.Cursor], object]) -> None:
    select_all(cur)
    cur.close()
    cur.close()  # closing again does nothing
    assert cur.closed
    with pytest.raises(llkv.ProgrammingError, match="cannot operate on a closed cursor"):
        use(cur)
    # The connection stays usable.
    assert not cur.connection.closed
    assert cur.connection.execute("SELECT 1 AS one").num_rows == 1


@pytest.mark.parametrize("use", [u for _, u in USES], ids=[name for name, _ in USES])
def test_closed_connection_makes_cursor_raise(
    cur: llkv.Cursor, use: Callable[[llkv.Cursor], object]
) -> None:
    select_all(cur)
    cur.connection.close()
    assert cur.closed
    with pytest.raises(llkv.ProgrammingError, match="closed connection"):
        use(cur)
    cur.close()  # still allowed


def test_closed_cursor_keeps_readable_attributes(cur: llkv.Cursor) -> None:
    select_all(cur)
    cur.close()
    assert cur.description is None
    assert cur.rowcount == -1
    assert cur.arraysize == 1
    assert cur.lastrowid is None


def test_cursor_of_a_closed_connection(con: llkv.Connection) -> None:
    con.close()
    with pytest.raises(llkv.ProgrammingError, match="closed connection"):
        con.cursor()


def test_context_manager_closes_the_cursor(con: llkv.Connection) -> None:
    with con.cursor() as cur:
        assert not cur.closed
        assert cur.execute("SELECT 1 AS one").fetchall() == [(1,)]
    assert cur.closed
    assert not con.closed

    with pytest.raises(ZeroDivisionError), con.cursor() as failing:
        raise ZeroDivisionError
    assert failing.closed


def test_setinputsizes_and_setoutputsize_do_nothing(cur: llkv.Cursor) -> None:
    select_all(cur)
    cur.setinputsizes([None, 10])
    cur.setoutputsize(100)
    cur.setoutputsize(100, 0)
    assert cur.fetchall() == ROWS


def test_cursors_are_independent(con: llkv.Connection) -> None:
    fill(con)
    a = con.cursor().execute("SELECT i FROM t ORDER BY i")
    b = con.cursor().execute("SELECT s FROM t WHERE i < 2 ORDER BY i")
    assert a.fetchone() == (0,)
    assert b.fetchall() == [("zero",), ("one",)]
    assert a.fetchone() == (1,)
    a.close()
    assert b.execute("SELECT 1 AS one").fetchall() == [(1,)]


def test_cursor_runs_in_the_connection_transaction(con: llkv.Connection) -> None:
    fill(con)
    cur = con.cursor()
    cur.execute("BEGIN")
    cur.execute("DELETE FROM t")
    assert cur.rowcount == 5
    con.rollback()
    assert cur.execute("SELECT COUNT(*) AS n FROM t").fetchall() == [(5,)]


# -- Arrow, pandas, polars, NumPy -----------------------------------------------


def expected_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    i, s, d = (list(column) for column in zip(*rows, strict=True)) if rows else ([], [], [])
    return pa.table(
        {
            "i": pa.array(i, pa.int64()),
            "s": pa.array(s, pa.string()),
            "d": pa.array(d, pa.float64()),
        }
    )


def test_arrow_of_a_fresh_result(cur: llkv.Cursor) -> None:
    table = select_all(cur).arrow()
    assert isinstance(table, pa.Table)
    assert table.equals(expected_table(ROWS))
    # The rows count as fetched.
    assert cur.fetchall() == []
    assert cur.arrow().equals(expected_table([]))


def test_arrow_after_partial_fetch_returns_remaining_rows(cur: llkv.Cursor) -> None:
    select_all(cur)
    cur.fetchone()
    cur.fetchmany(1)
    table = cur.arrow()
    assert table.equals(expected_table(ROWS[2:]))
    assert cur.fetchone() is None


def test_fetch_record_batch_streams_remaining_rows(cur: llkv.Cursor) -> None:
    reader = select_all(cur).fetch_record_batch(rows_per_batch=2)
    assert isinstance(reader, pa.RecordBatchReader)
    assert reader.schema == expected_table(ROWS).schema
    batches = list(reader)
    assert [batch.num_rows for batch in batches] == [2, 2, 1]
    assert pa.Table.from_batches(batches).equals(expected_table(ROWS))
    assert cur.fetchall() == []

    select_all(cur).fetchone()
    remaining = cur.fetch_record_batch().read_all()
    assert remaining.equals(expected_table(ROWS[1:]))

    with pytest.raises(ValueError, match="at least 1"):
        select_all(cur).fetch_record_batch(0)


def test_arrow_c_stream_exports_remaining_rows(cur: llkv.Cursor) -> None:
    assert pa.table(select_all(cur)).equals(expected_table(ROWS))
    select_all(cur).fetchmany(3)
    assert pa.table(cur).equals(expected_table(ROWS[3:]))
    assert cur.fetchall() == []
    reader = pa.RecordBatchReader.from_stream(select_all(cur))
    assert reader.read_all().equals(expected_table(ROWS))


def test_df_matches_pandas(cur: llkv.Cursor) -> None:
    frame = select_all(cur).df()
    expected = pd.DataFrame(
        {
            "i": [0, 1, 2, 3, 4],
            "s": ["zero", "one", "two", None, "four"],
            "d": [0.5, 1.5, 2.5, 3.5, None],
        }
    )
    pd.testing.assert_frame_equal(frame, expected)
    assert cur.fetchall() == []

    select_all(cur).fetchmany(3)
    pd.testing.assert_frame_equal(cur.df(), expected.iloc[3:].reset_index(drop=True))


def test_pl_matches_polars(cur: llkv.Cursor) -> None:
    frame = select_all(cur).pl()
    assert isinstance(frame, polars.DataFrame)
    assert frame.schema == polars.Schema(
        {"i": polars.Int64, "s": polars.String, "d": polars.Float64}
    )
    assert frame.to_dicts() == [dict(zip(("i", "s", "d"), row, strict=True)) for row in ROWS]
    assert cur.fetchall() == []

    select_all(cur).fetchone()
    assert cur.pl().to_dicts() == [dict(zip(("i", "s", "d"), row, strict=True)) for row in ROWS[1:]]


def test_fetchnumpy_dtypes(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE n (i INTEGER, d DOUBLE, s TEXT, b BOOLEAN)")
    con.execute("INSERT INTO n VALUES (1, 0.5, 'a', true), (2, 1.5, 'b', false)")
    cur = con.cursor().execute("SELECT i, d, s, b FROM n ORDER BY i")
    arrays = cur.fetchnumpy()
    assert list(arrays) == ["i", "d", "s", "b"]
    assert arrays["i"].dtype == np.int64
    assert arrays["d"].dtype == np.float64
    assert arrays["s"].dtype == np.object_
    assert arrays["b"].dtype == np.bool_
    np.testing.assert_array_equal(arrays["i"], np.array([1, 2], dtype=np.int64))
    np.testing.assert_array_equal(arrays["d"], np.array([0.5, 1.5]))
    assert arrays["s"].tolist() == ["a", "b"]
    assert arrays["b"].tolist() == [True, False]
    assert cur.fetchall() == []

    cur.execute("SELECT i FROM n ORDER BY i").fetchone()
    np.testing.assert_array_equal(cur.fetchnumpy()["i"], np.array([2], dtype=np.int64))


@pytest.mark.parametrize(
    ("module", "method"), [("pandas", "df"), ("polars", "pl"), ("numpy", "fetchnumpy")]
)
def test_missing_optional_dependency(
    cur: llkv.Cursor, monkeypatch: pytest.MonkeyPatch, module: str, method: str
) -> None:
    select_all(cur)
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ImportError, match=f"requires {module}.*pip install {module}"):
        getattr(cur, method)()
    monkeypatch.undo()
    # The failed call did not consume the rows.
    assert cur.fetchall() == ROWS


def test_repr_html_shows_remaining_rows_without_fetching() -> None:
    con = llkv.connect()
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    con.execute("INSERT INTO t VALUES (1, '<x>'), (2, NULL), (3, 'c')")
    cur = con.cursor()
    assert cur._repr_html_() is None  # no statement yet
    cur.execute("SELECT a, b FROM t ORDER BY a")
    assert cur.fetchone() == (1, "<x>")
    page = cur._repr_html_()
    assert page is not None
    assert "<th>a<br><small>int64</small></th>" in page
    assert "<td>2</td><td><i>NULL</i></td>" in page
    assert "<x>" not in page  # fetched already, and escaped anyway
    assert page.endswith("<p>2 rows</p>")
    assert cur.fetchall() == [(2, None), (3, "c")]  # showing fetched nothing


def test_repr_html_escapes_and_truncates() -> None:
    con = llkv.connect()
    cur = con.cursor()
    cur.execute(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 25) "
        "SELECT x, '<b>' || x AS s FROM n"
    )
    page = cur._repr_html_()
    assert page is not None
    assert page.count("<tr>") == 21  # the header row and 20 rows
    assert "&lt;b&gt;1" in page and "<b>1" not in page
    # The query's first batch holds 21+ rows: nothing more is computed to count.
    assert page.endswith("<p>first 20 rows; more follow</p>")
    assert len(cur.fetchall()) == 25
    cur.execute("SELECT 1 AS a UNION ALL SELECT 2")
    assert cur.fetchone() == (1,)
    assert str(cur._repr_html_()).endswith("<p>1 row</p>")
    cur.close()
    assert cur._repr_html_() is None
