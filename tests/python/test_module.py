"""The module surface: PEP 249 globals, exceptions, connect/close.

None of these need the SQL engine to execute a statement.
"""

import importlib.metadata
import inspect
from pathlib import Path

import pytest

import llkv


def test_pep249_globals() -> None:
    assert llkv.apilevel == "2.0"
    assert llkv.threadsafety == 1
    assert llkv.paramstyle == "qmark"


def test_pep249_type_objects_match_description_type_codes() -> None:
    con = llkv.connect()
    cur = con.cursor()
    cur.execute(
        "SELECT 1 AS i, 1.5 AS r, CAST(2 AS DECIMAL(4,1)) AS d, TRUE AS b, 'x' AS t,"
        " X'00' AS blob, DATE '2024-01-02' AS day, TIMESTAMP '2024-01-02 03:04:05' AS ts"
    )
    assert cur.description is not None
    codes = [column[1] for column in cur.description]
    assert [c == llkv.NUMBER for c in codes] == [True, True, True, True, False, False, False, False]
    assert [c == llkv.STRING for c in codes] == [False] * 4 + [True, False, False, False]
    assert [c == llkv.BINARY for c in codes] == [False] * 5 + [True, False, False]
    assert [c == llkv.DATETIME for c in codes] == [False] * 6 + [True, True]
    assert not any(c == llkv.ROWID for c in codes)
    assert llkv.NUMBER != llkv.STRING
    assert repr(llkv.NUMBER) == "llkv.NUMBER"
    con.close()


def test_pep249_constructors_bind_as_their_sql_types() -> None:
    con = llkv.connect()
    ticks = 86_400 * 365.0
    row = con.execute(
        "SELECT typeof(?) AS d, typeof(?) AS ts, typeof(?) AS b, ? AS same_day",
        [
            llkv.Date(2024, 2, 29),
            llkv.Timestamp(2024, 2, 29, 12, 30),
            llkv.Binary(b"\x01\x02"),
            llkv.DateFromTicks(ticks),
        ],
    ).to_pylist()
    assert row == [
        {"d": "date", "ts": "timestamp", "b": "blob", "same_day": llkv.DateFromTicks(ticks)}
    ]
    assert llkv.TimestampFromTicks(ticks).date() == llkv.DateFromTicks(ticks)
    assert llkv.TimeFromTicks(ticks) == llkv.TimestampFromTicks(ticks).time()
    with pytest.raises(llkv.NotSupportedError, match="unsupported type time"):
        con.execute("SELECT ?", [llkv.Time(1, 2, 3)])  # type: ignore[list-item]
    con.close()


def test_version_is_a_string() -> None:
    assert isinstance(llkv.__version__, str)
    assert llkv.__version__[0].isdigit()
    assert llkv.__version__ == importlib.metadata.version("llkv")


def test_installed_as_an_abi3_wheel_needing_only_pyarrow() -> None:
    dist = importlib.metadata.distribution("llkv")
    tags = [
        line.split(": ", 1)[1]
        for line in (dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag: ")
    ]
    # One wheel for every CPython from 3.11 on (the stable ABI).
    assert tags and all(t.startswith("cp311-abi3-") for t in tags), tags
    assert Path(llkv._llkv.__file__ or "").name.startswith("_llkv.abi3.")
    hard = [r for r in dist.requires or [] if "extra ==" not in r]
    assert [r.split(">")[0].split("=")[0].strip() for r in hard] == ["pyarrow"]
    extras = dist.metadata.get_all("Provides-Extra") or []
    assert {"pandas", "polars"} <= set(extras)


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (llkv.Warning, Exception),
        (llkv.Error, Exception),
        (llkv.InterfaceError, llkv.Error),
        (llkv.DatabaseError, llkv.Error),
        (llkv.DataError, llkv.DatabaseError),
        (llkv.OperationalError, llkv.DatabaseError),
        (llkv.IntegrityError, llkv.DatabaseError),
        (llkv.InternalError, llkv.DatabaseError),
        (llkv.ProgrammingError, llkv.DatabaseError),
        (llkv.NotSupportedError, llkv.DatabaseError),
        (llkv.TransactionConflictError, llkv.OperationalError),
    ],
)
def test_exception_hierarchy(child: type[BaseException], parent: type[BaseException]) -> None:
    assert issubclass(child, parent)


def test_exception_tree_is_not_flat() -> None:
    assert not issubclass(llkv.Warning, llkv.Error)
    assert not issubclass(llkv.Error, llkv.DatabaseError)
    assert not issubclass(llkv.InterfaceError, llkv.DatabaseError)
    assert not issubclass(llkv.ProgrammingError, llkv.OperationalError)
    # PEP 249 Warning derives from Exception, not from the builtin Warning.
    assert not issubclass(llkv.Warning, Warning)


def test_exceptions_live_in_llkv() -> None:
    assert llkv.ProgrammingError.__module__ == "llkv"
    assert llkv.ProgrammingError.__name__ == "ProgrammingError"


def test_public_callables_are_documented() -> None:
    for obj in (llkv.connect, llkv.Connection, llkv.Connection.execute, llkv.Connection.close):
        doc = inspect.getdoc(obj)
        assert doc, f"{obj!r} has no docstring"
    connect_doc = inspect.getdoc(llkv.connect) or ""
    assert "in-memory" in connect_doc
    assert inspect.signature(llkv.connect).parameters["path"].default is None


def test_connect_in_memory() -> None:
    con = llkv.connect()
    assert isinstance(con, llkv.Connection)
    assert con.closed is False
    con.close()
    assert con.closed is True


def test_connect_memory_name() -> None:
    con = llkv.connect(":memory:")
    assert con.closed is False
    con.close()


def test_close_twice_is_harmless() -> None:
    con = llkv.connect()
    con.close()
    con.close()
    assert con.closed


def test_with_closes() -> None:
    with llkv.connect() as con:
        assert con.closed is False
    assert con.closed is True
    with pytest.raises(llkv.ProgrammingError, match="closed connection"), con:
        pass


def test_with_closes_on_error_and_propagates() -> None:
    with pytest.raises(KeyError), llkv.connect() as con:
        raise KeyError("boom")
    assert con.closed


def test_closed_connection_raises_programming_error() -> None:
    con = llkv.connect()
    con.close()
    with pytest.raises(llkv.ProgrammingError, match="cannot operate on a closed connection"):
        con.execute("SELECT 1")
    with pytest.raises(llkv.ProgrammingError, match="closed"):
        _ = con.in_transaction
    with pytest.raises(llkv.ProgrammingError, match="closed"):
        con._execute_debug_addresses("SELECT 1")


def test_repr_mentions_closed() -> None:
    con = llkv.connect()
    assert "closed" not in repr(con)
    con.close()
    assert "closed" in repr(con)


def test_unsupported_parameter_type_is_not_supported_error(con: llkv.Connection) -> None:
    with pytest.raises(llkv.NotSupportedError, match="object"):
        con.execute("SELECT ?", [object()])  # type: ignore[list-item]
    with pytest.raises(llkv.NotSupportedError, match="complex"):
        con.execute("SELECT ?", (1j,))  # type: ignore[arg-type]


def test_blobs_round_trip_as_binary(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE b (k INTEGER, v BLOB)")
    con.execute("INSERT INTO b VALUES (1, ?), (2, X'00FF'), (3, NULL)", [b"raw\x00"])
    con.execute("INSERT INTO b VALUES (4, ?)", [bytearray(b"ba")])
    con.execute("INSERT INTO b VALUES (6, ?)", [memoryview(b"xmv")[1:]])
    table = con.execute("SELECT v, typeof(v) AS t, length(v) AS n FROM b ORDER BY k")
    assert str(table.schema.field("v").type) == "binary"
    assert table.column("v").to_pylist() == [b"raw\x00", b"\x00\xff", None, b"ba", b"mv"]
    assert table.column("t").to_pylist() == ["blob", "blob", "null", "blob", "blob"]
    # Blobs compare bytewise and sort after every number and text.
    assert con.execute("SELECT X'01' > 'zzz' AS a, X'01' < X'0100' AS b").to_pylist() == [
        {"a": True, "b": True}
    ]
    assert con.execute("SELECT hex(X'00FF') AS h").to_pylist() == [{"h": "00FF"}]
    with pytest.raises(llkv.DataError):
        con.execute("INSERT INTO b VALUES (5, 42)")
    with pytest.raises(llkv.ProgrammingError, match="odd number"):
        con.execute("SELECT X'123'")


def test_int_parameter_overflow_is_data_error(con: llkv.Connection) -> None:
    with pytest.raises(llkv.DataError, match="parameter 2"):
        con.execute("SELECT ?, ?", [1, 2**63])
    with pytest.raises(llkv.DataError):
        con.execute("SELECT ?", [-(2**63) - 1])


def test_string_as_parameter_list_is_programming_error(con: llkv.Connection) -> None:
    with pytest.raises(llkv.ProgrammingError, match="list or tuple"):
        con.execute("SELECT ?", "abc")


def test_named_parameters_from_a_dict(con: llkv.Connection) -> None:
    assert con.execute("SELECT :a + :b AS s", {"a": 1, "b": 2}).to_pylist() == [{"s": 3}]
    # Unaliased columns are named by the text as written, as in sqlite3.
    names = con.execute("SELECT :a, :a + 1, :b AS c", {"a": 1, "b": 2}).schema.names
    assert names == [":a", ":a + 1", "c"]


def test_connect_to_missing_directory_is_operational_error(tmp_path: Path) -> None:
    with pytest.raises(llkv.OperationalError):
        llkv.connect(tmp_path / "no" / "such" / "dir" / "db.llkv")
