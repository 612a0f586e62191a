"""Parquet and CSV files: read_parquet/read_csv in FROM, COPY ... TO/FROM, allow_file_access."""

import contextlib
import datetime
import math
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import llkv

DENIED = "file access is disabled on this connection"


def lit(path: Path | str) -> str:
    """``path`` as a SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def rows(con: llkv.Connection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    """The rows of ``sql`` as dicts."""
    result: list[dict[str, Any]] = con.execute(sql, params).to_pylist()
    return result


def count_of(result: pa.Table) -> int:
    """The ``count`` a COPY returned, checking the result's shape."""
    assert result.schema.names == ["count"]
    assert result.schema.types == [pa.int64()]
    assert result.num_rows == 1
    value: int = result.column("count")[0].as_py()
    return value


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` byte for byte (no newline translation)."""
    path.write_bytes(text.encode())
    return path


@pytest.fixture
def people(tmp_path: Path) -> Path:
    """A small Parquet file: id int32, name, score float32."""
    path = tmp_path / "people.parquet"
    pq.write_table(
        pa.table(
            {
                "id": pa.array([1, 2, 3, 4], pa.int32()),
                "name": ["ann", "bob", None, "dee"],
                "score": pa.array([1.5, None, 3.25, 4.0], pa.float32()),
            }
        ),
        path,
    )
    return path


@pytest.fixture
def typed_table(con: llkv.Connection) -> llkv.Connection:
    """``con`` with table t of every engine type, NULLs and edge values."""
    con.execute(
        "CREATE TABLE t (i INTEGER, f DOUBLE, s TEXT, b BOOLEAN, d DATE, ts TIMESTAMP, bl BLOB)"
    )
    con.execute(
        "INSERT INTO t VALUES "
        "(1, 1.5, 'plain', true, '2024-02-29', '2024-02-29 23:59:59.123456', x'00ff'), "
        "(NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
        "(?, -0.0, 'é, \"q\"\nline', false, '0001-01-01', '1969-12-31 23:59:59.5', x''), "
        "(9223372036854775807, 1e300, '', true, '9999-12-31', '9999-12-31 23:59:59.999999', "
        "x'01')",
        [-(2**63)],
    )
    return con


TYPED_ROWS: list[dict[str, Any]] = [
    {
        "i": 1,
        "f": 1.5,
        "s": "plain",
        "b": True,
        "d": datetime.date(2024, 2, 29),
        "ts": datetime.datetime(2024, 2, 29, 23, 59, 59, 123456),
        "bl": b"\x00\xff",
    },
    {"i": None, "f": None, "s": None, "b": None, "d": None, "ts": None, "bl": None},
    {
        "i": -(2**63),
        "f": -0.0,
        "s": 'é, "q"\nline',
        "b": False,
        "d": datetime.date(1, 1, 1),
        "ts": datetime.datetime(1969, 12, 31, 23, 59, 59, 500000),
        "bl": b"",
    },
    {
        "i": 2**63 - 1,
        "f": 1e300,
        "s": "",
        "b": True,
        "d": datetime.date(9999, 12, 31),
        "ts": datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
        "bl": b"\x01",
    },
]

ENGINE_TYPES = [
    pa.int64(),
    pa.float64(),
    pa.string(),
    pa.bool_(),
    pa.date32(),
    pa.timestamp("us"),
    pa.binary(),
]


# --- Parquet ---------------------------------------------------------------


def test_copy_table_to_parquet_round_trips_every_type(
    typed_table: llkv.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "t.parquet"
    assert count_of(typed_table.execute(f"COPY t TO {lit(path)}")) == 4
    written = pq.read_table(path)
    assert written.schema.names == ["i", "f", "s", "b", "d", "ts", "bl"]
    assert written.schema.types == ENGINE_TYPES
    assert written.to_pylist() == TYPED_ROWS
    assert math.copysign(1.0, written.column("f")[2].as_py()) == -1.0
    result = typed_table.execute(f"SELECT * FROM read_parquet({lit(path)})")
    assert result.schema.types == ENGINE_TYPES
    assert result.to_pylist() == TYPED_ROWS


def test_copy_query_to_parquet_keeps_order_and_names(con: llkv.Connection, tmp_path: Path) -> None:
    path = tmp_path / "q.parquet"
    result = con.execute(
        f"COPY (SELECT 3 AS n, 'c' AS tag UNION ALL SELECT 1, 'a' ORDER BY n) TO {lit(path)}"
    )
    assert count_of(result) == 2
    assert pq.read_table(path).to_pydict() == {"n": [1, 3], "tag": ["a", "c"]}


def test_read_parquet_widens_arrow_types(con: llkv.Connection, tmp_path: Path) -> None:
    utc = datetime.UTC
    path = tmp_path / "types.parquet"
    pq.write_table(
        pa.table(
            {
                "i8": pa.array([-128, None], pa.int8()),
                "i16": pa.array([32767, None], pa.int16()),
                "i32": pa.array([-(2**31), None], pa.int32()),
                "u8": pa.array([255, None], pa.uint8()),
                "u32": pa.array([2**32 - 1, None], pa.uint32()),
                "u64": pa.array([2**63 - 1, None], pa.uint64()),
                "f16": pa.array([1.5, None], pa.float16()),
                "f32": pa.array([-0.25, None], pa.float32()),
                "ls": pa.array(["large", None], pa.large_string()),
                "sv": pa.array(["view", None], pa.string_view()),
                "lb": pa.array([b"\x00", None], pa.large_binary()),
                "d64": pa.array([datetime.date(1900, 2, 28), None], pa.date64()),
                "ts_s": pa.array([datetime.datetime(2020, 1, 1, 1, 2, 3), None], pa.timestamp("s")),
                "ts_ms": pa.array(
                    [datetime.datetime(2020, 1, 1, 1, 2, 3, 4000), None], pa.timestamp("ms")
                ),
                "ts_ns": pa.array([1_500, None], pa.timestamp("ns")),
                "ts_tz": pa.array(
                    [datetime.datetime(2020, 6, 1, 12, tzinfo=utc), None],
                    pa.timestamp("us", tz="America/New_York"),
                ),
                "dict": pa.array(["x", None]).dictionary_encode(),
            }
        ),
        path,
    )
    result = con.execute(f"SELECT * FROM read_parquet({lit(path)})")
    assert result.schema.types == [pa.int64()] * 6 + [pa.float64()] * 2 + [
        pa.string(),
        pa.string(),
        pa.binary(),
        pa.date32(),
        pa.timestamp("us"),
        pa.timestamp("us"),
        pa.timestamp("us"),
        pa.timestamp("us"),
        pa.string(),
    ]
    assert result.to_pylist()[0] == {
        "i8": -128,
        "i16": 32767,
        "i32": -(2**31),
        "u8": 255,
        "u32": 2**32 - 1,
        "u64": 2**63 - 1,
        "f16": 1.5,
        "f32": -0.25,
        "ls": "large",
        "sv": "view",
        "lb": b"\x00",
        "d64": datetime.date(1900, 2, 28),
        "ts_s": datetime.datetime(2020, 1, 1, 1, 2, 3),
        "ts_ms": datetime.datetime(2020, 1, 1, 1, 2, 3, 4000),
        "ts_ns": datetime.datetime(1970, 1, 1, 0, 0, 0, 1),
        "ts_tz": datetime.datetime(2020, 6, 1, 12),
        "dict": "x",
    }
    assert set(result.to_pylist()[1].values()) == {None}


def test_read_parquet_uint64_beyond_int64_is_data_error(
    con: llkv.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "u64.parquet"
    pq.write_table(pa.table({"u": pa.array([1, 2**63], pa.uint64())}), path)
    with pytest.raises(llkv.DataError, match="9223372036854775808"):
        con.execute(f"SELECT sum(u) FROM read_parquet({lit(path)})")


@pytest.mark.parametrize(
    ("column", "type_name"),
    [
        (pa.array([[1, 2]], pa.list_(pa.int64())), "List"),
        (pa.array([{"x": 1}]), "Struct"),
        (pa.array([datetime.time(1, 2, 3)], pa.time64("us")), "Time64"),
    ],
    ids=["list", "struct", "time"],
)
def test_unsupported_arrow_types_are_not_supported(
    con: llkv.Connection, tmp_path: Path, column: pa.Array, type_name: str
) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"ok": [1], "bad": column}), path)
    with pytest.raises(llkv.NotSupportedError, match=f"column bad: Arrow type {type_name}"):
        con.execute(f"SELECT ok FROM read_parquet({lit(path)})")


def test_parquet_scan_alias_labels_and_column_aliases(con: llkv.Connection, people: Path) -> None:
    assert rows(con, f"SELECT max(id) AS m FROM parquet_scan({lit(people)})") == [{"m": 4}]
    assert rows(con, f"SELECT read_parquet.name FROM read_parquet({lit(people)}) WHERE id = 2") == [
        {"name": "bob"}
    ]
    assert rows(con, f"SELECT p.name FROM read_parquet({lit(people)}) AS p WHERE p.id = 4") == [
        {"name": "dee"}
    ]
    assert rows(
        con, f"SELECT k, who FROM read_parquet({lit(people)}) AS f(k, who) WHERE k < 3 ORDER BY k"
    ) == [{"k": 1, "who": "ann"}, {"k": 2, "who": "bob"}]


def test_read_parquet_path_can_be_a_parameter(con: llkv.Connection, people: Path) -> None:
    assert rows(
        con,
        "SELECT ? AS tag, id FROM read_parquet(?) WHERE id > ? ORDER BY id",
        ["t", str(people), 2],
    ) == [{"tag": "t", "id": 3}, {"tag": "t", "id": 4}]
    assert rows(
        con,
        "SELECT count(*) AS n FROM read_parquet(:path) WHERE id >= :low",
        {"path": str(people), "low": 2},
    ) == [{"n": 3}]
    assert rows(con, "SELECT $2 AS x, count(*) AS n FROM read_parquet($1)", [str(people), 9]) == [
        {"x": 9, "n": 4}
    ]


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT * FROM read_parquet(?)", [42]),
        ("SELECT * FROM read_parquet(NULL)", None),
        ("SELECT * FROM read_parquet(1)", None),
        ("SELECT * FROM read_parquet()", None),
    ],
    ids=["int-param", "null", "int-literal", "no-args"],
)
def test_read_parquet_path_must_be_a_string(
    con: llkv.Connection, sql: str, params: list[Any] | None
) -> None:
    with pytest.raises(llkv.ProgrammingError, match="needs the file's path as a string"):
        con.execute(sql, params)


def test_read_parquet_takes_no_csv_options(con: llkv.Connection, people: Path) -> None:
    with pytest.raises(llkv.ProgrammingError, match="read_parquet: unknown option header"):
        con.execute(f"SELECT * FROM read_parquet({lit(people)}, header = true)")


def test_large_parquet_file_streams_in_batches_with_exact_sums(
    con: llkv.Connection, tmp_path: Path
) -> None:
    n = 200_000
    path = tmp_path / "big.parquet"
    pq.write_table(
        pa.table({"a": pa.array(range(n), pa.int64()), "g": pa.array([i % 3 for i in range(n)])}),
        path,
        row_group_size=50_000,
    )
    result = con.execute(f"SELECT a FROM read_parquet({lit(path)})")
    chunks = result.column("a").chunks
    assert len(chunks) > 1
    assert sum(len(c) for c in chunks) == n
    assert max(len(c) for c in chunks) <= 64 * 1024
    assert rows(con, f"SELECT count(*) AS c, sum(a) AS s FROM read_parquet({lit(path)})") == [
        {"c": n, "s": n * (n - 1) // 2}
    ]
    assert rows(
        con,
        f"SELECT g, count(*) AS c, sum(a) AS s FROM read_parquet({lit(path)}) "
        "GROUP BY g ORDER BY g",
    ) == [{"g": g, "c": len(range(g, n, 3)), "s": sum(range(g, n, 3))} for g in range(3)]
    plan = "\n".join(
        con.execute(f"EXPLAIN ANALYZE SELECT count(*) FROM read_parquet({lit(path)})")
        .column("plan")
        .to_pylist()
    )
    scan = re.search(r"FileScan read_parquet\('.*'\) \(rows=(\d+), batches=(\d+)", plan)
    assert scan is not None
    assert int(scan.group(1)) == n
    assert int(scan.group(2)) > 1


def test_filters_limit_and_offset_over_a_large_file(con: llkv.Connection, tmp_path: Path) -> None:
    n = 150_000
    path = tmp_path / "seq.parquet"
    pq.write_table(pa.table({"a": pa.array(range(n), pa.int64())}), path)
    src = f"read_parquet({lit(path)})"
    assert rows(con, f"SELECT a FROM {src} WHERE a >= {n - 2} ORDER BY a") == [
        {"a": n - 2},
        {"a": n - 1},
    ]
    assert rows(con, f"SELECT a FROM {src} LIMIT 2 OFFSET 100000") == [{"a": 100000}, {"a": 100001}]
    assert rows(con, f"SELECT count(*) AS c FROM {src} WHERE a % 1000 = 0") == [{"c": 150}]


def test_join_and_group_by_over_parquet_and_csv_files(
    con: llkv.Connection, tmp_path: Path, people: Path
) -> None:
    orders = write_text(tmp_path / "orders.csv", "pid,amount\n2,10\n3,5\n3,7\n4,1\n9,100\n")
    result = rows(
        con,
        f"SELECT p.name, count(o.amount) AS n, sum(o.amount) AS total "
        f"FROM read_parquet({lit(people)}) p LEFT JOIN read_csv({lit(orders)}) o ON o.pid = p.id "
        f"GROUP BY p.name ORDER BY p.name",
    )
    assert result == [
        {"name": None, "n": 2, "total": 12},
        {"name": "ann", "n": 0, "total": None},
        {"name": "bob", "n": 1, "total": 10},
        {"name": "dee", "n": 1, "total": 1},
    ]


def test_join_a_file_with_a_stored_table(con: llkv.Connection, people: Path) -> None:
    con.execute("CREATE TABLE bonus (id INTEGER PRIMARY KEY, pct DOUBLE)")
    con.execute("INSERT INTO bonus VALUES (1, 0.5), (4, 0.25)")
    assert rows(
        con,
        f"SELECT p.name, p.score * (1 + b.pct) AS paid FROM read_parquet({lit(people)}) p "
        f"JOIN bonus b ON b.id = p.id ORDER BY p.id",
    ) == [{"name": "ann", "paid": 2.25}, {"name": "dee", "paid": 5.0}]


def test_subqueries_ctes_and_set_operations_over_files(
    con: llkv.Connection, tmp_path: Path, people: Path
) -> None:
    ids = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"id": [2, 4, 6]}), ids)
    p, i = f"read_parquet({lit(people)})", f"read_parquet({lit(ids)})"
    assert rows(con, f"SELECT name FROM {p} WHERE id IN (SELECT id FROM {i}) ORDER BY id") == [
        {"name": "bob"},
        {"name": "dee"},
    ]
    assert rows(
        con,
        f"SELECT x.id, (SELECT count(*) FROM {i} y WHERE y.id <= x.id) AS c FROM {p} x ORDER BY 1",
    ) == [{"id": 1, "c": 0}, {"id": 2, "c": 1}, {"id": 3, "c": 1}, {"id": 4, "c": 2}]
    assert rows(con, f"WITH w AS (SELECT id FROM {i}) SELECT sum(id) AS s FROM w") == [{"s": 12}]
    assert rows(con, f"SELECT id FROM {i} EXCEPT SELECT id FROM {p} ORDER BY id") == [{"id": 6}]
    assert rows(con, f"SELECT count(*) AS n FROM {p} a, {p} b") == [{"n": 16}]


def test_update_from_and_delete_using_a_file(
    con: llkv.Connection, tmp_path: Path, people: Path
) -> None:
    con.execute("CREATE TABLE t (id INTEGER, note TEXT)")
    con.execute("INSERT INTO t VALUES (1, 'x'), (2, 'y'), (7, 'z')")
    src = f"read_parquet({lit(people)})"
    assert count_of(con.execute(f"UPDATE t SET note = p.name FROM {src} p WHERE p.id = t.id")) == 2
    assert count_of(con.execute(f"DELETE FROM t USING {src} p WHERE p.id = t.id AND p.id = 2")) == 1
    assert rows(con, "SELECT * FROM t ORDER BY id") == [
        {"id": 1, "note": "ann"},
        {"id": 7, "note": "z"},
    ]


def test_explain_shows_the_file_scan(con: llkv.Connection, tmp_path: Path) -> None:
    folder = tmp_path / "it's here"
    folder.mkdir()
    path = folder / "ü.parquet"
    pq.write_table(pa.table({"a": [1]}), path)
    shown = str(path).replace("'", "''")
    plan = con.execute(f"EXPLAIN SELECT a FROM read_parquet({lit(path)})").to_pylist()
    logical = [r["plan"].strip() for r in plan if r["plan_type"] == "logical_plan"]
    physical = [r["plan"].strip() for r in plan if r["plan_type"] == "physical_plan"]
    assert f"File: read_parquet('{shown}')" in logical
    assert f"FileScan read_parquet('{shown}')" in physical
    csv_path = write_text(tmp_path / "e.csv", "a\n1\n")
    csv_plan = con.execute("EXPLAIN SELECT * FROM read_csv(?)", [str(csv_path)])
    assert f"FileScan read_csv('{csv_path}')" in [
        p.strip() for p in csv_plan.column("plan").to_pylist()
    ]


def test_create_table_as_select_from_a_file(
    con: llkv.Connection, tmp_path: Path, people: Path
) -> None:
    con.execute(
        f"CREATE TABLE p AS SELECT id, name, score, id > 2 AS big FROM read_parquet({lit(people)})"
    )
    os.remove(people)
    result = con.execute("SELECT * FROM p ORDER BY id")
    assert result.schema.types == [pa.int64(), pa.string(), pa.float64(), pa.bool_()]
    assert result.to_pylist() == [
        {"id": 1, "name": "ann", "score": 1.5, "big": False},
        {"id": 2, "name": "bob", "score": None, "big": False},
        {"id": 3, "name": None, "score": 3.25, "big": True},
        {"id": 4, "name": "dee", "score": 4.0, "big": True},
    ]


def test_create_table_as_select_from_a_file_keeps_dates_timestamps_and_blobs(
    typed_table: llkv.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "t.parquet"
    typed_table.execute(f"COPY t TO {lit(path)}")
    typed_table.execute(f"CREATE TABLE c AS SELECT * FROM read_parquet({lit(path)})")
    result = typed_table.execute("SELECT * FROM c")
    assert result.schema.types == ENGINE_TYPES
    assert result.to_pylist() == TYPED_ROWS


def test_insert_select_from_a_file_into_typed_columns(
    typed_table: llkv.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "t.parquet"
    typed_table.execute(f"COPY t TO {lit(path)}")
    typed_table.execute(
        "CREATE TABLE c (i INTEGER, f DOUBLE, s TEXT, b BOOLEAN, d DATE, ts TIMESTAMP, bl BLOB)"
    )
    result = typed_table.execute(f"INSERT INTO c SELECT * FROM read_parquet({lit(path)})")
    assert count_of(result) == 4
    assert typed_table.execute("SELECT * FROM c").to_pylist() == TYPED_ROWS


def test_view_over_a_file_reads_its_current_contents(con: llkv.Connection, tmp_path: Path) -> None:
    path = tmp_path / "live.parquet"
    pq.write_table(pa.table({"a": [1]}), path)
    con.execute(f"CREATE VIEW v AS SELECT * FROM read_parquet({lit(path)})")
    pq.write_table(pa.table({"a": [10, 20], "b": ["x", "y"]}), path)
    assert rows(con, "SELECT * FROM v ORDER BY a") == [{"a": 10, "b": "x"}, {"a": 20, "b": "y"}]
    path.unlink()
    with pytest.raises(llkv.OperationalError, match=re.escape(str(path))):
        con.execute("SELECT * FROM v")


def test_empty_parquet_file_keeps_its_schema(con: llkv.Connection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    path = tmp_path / "empty.parquet"
    assert count_of(con.execute(f"COPY t TO {lit(path)}")) == 0
    assert pq.read_table(path).schema.types == [pa.int64(), pa.string()]
    result = con.execute(f"SELECT * FROM read_parquet({lit(path)})")
    assert result.num_rows == 0
    assert result.schema.names == ["a", "b"]
    assert count_of(con.execute(f"COPY t FROM {lit(path)}")) == 0


def test_pandas_written_parquet_and_csv_are_readable(con: llkv.Connection, tmp_path: Path) -> None:
    frame = pd.DataFrame({"k": ["a", "b", "a"], "v": [1.0, 2.5, 4.0]})
    frame.to_parquet(tmp_path / "f.parquet", index=False)
    frame.to_csv(tmp_path / "f.csv", index=False)
    for fn, name in [("read_parquet", "f.parquet"), ("read_csv", "f.csv")]:
        assert rows(
            con, f"SELECT k, sum(v) AS s FROM {fn}({lit(tmp_path / name)}) GROUP BY k ORDER BY k"
        ) == [{"k": "a", "s": 5.0}, {"k": "b", "s": 2.5}]


# --- CSV -------------------------------------------------------------------


def test_read_csv_infers_types_with_a_header_by_default(
    con: llkv.Connection, tmp_path: Path
) -> None:
    path = write_text(
        tmp_path / "typed.csv",
        "i,f,s,b,d,ts\n"
        "1,1.5,x,true,2024-01-02,2024-01-02T03:04:05.25\n"
        ",,,,,\n"
        "-3,2e3,y z,False,1969-07-20,1969-07-20 20:17:40\n",
    )
    for sql in (
        f"SELECT * FROM read_csv({lit(path)})",
        f"SELECT * FROM read_csv({lit(path)}, header = true)",
        f"SELECT * FROM read_csv_auto({lit(path)}, HEADER = 1)",
    ):
        result = con.execute(sql)
        assert result.schema.types == ENGINE_TYPES[:6]
        assert result.to_pylist() == [
            {
                "i": 1,
                "f": 1.5,
                "s": "x",
                "b": True,
                "d": datetime.date(2024, 1, 2),
                "ts": datetime.datetime(2024, 1, 2, 3, 4, 5, 250000),
            },
            {"i": None, "f": None, "s": None, "b": None, "d": None, "ts": None},
            {
                "i": -3,
                "f": 2000.0,
                "s": "y z",
                "b": False,
                "d": datetime.date(1969, 7, 20),
                "ts": datetime.datetime(1969, 7, 20, 20, 17, 40),
            },
        ]


@pytest.mark.parametrize("header", ["false", "0"])
def test_read_csv_without_a_header_names_columns(
    con: llkv.Connection, tmp_path: Path, header: str
) -> None:
    path = write_text(tmp_path / "nohead.csv", "1,a\n2,b\n")
    result = con.execute(f"SELECT * FROM read_csv({lit(path)}, header = {header})")
    assert result.schema.names == ["column_1", "column_2"]
    assert result.schema.types == [pa.int64(), pa.string()]
    assert result.to_pylist() == [
        {"column_1": 1, "column_2": "a"},
        {"column_1": 2, "column_2": "b"},
    ]


def test_read_csv_header_row_read_as_data_makes_strings(
    con: llkv.Connection, tmp_path: Path
) -> None:
    path = write_text(tmp_path / "h.csv", "n,when\n1,2024-01-01\n")
    assert rows(con, f"SELECT * FROM read_csv({lit(path)}, header = false)") == [
        {"column_1": "n", "column_2": "when"},
        {"column_1": "1", "column_2": "2024-01-01"},
    ]


@pytest.mark.parametrize(
    ("option", "sql_delim", "delim"),
    [
        ("delim", "';'", ";"),
        ("delimiter", "'|'", "|"),
        ("sep", "'\\t'", "\t"),
        ("DELIM", "'\t'", "\t"),
    ],
    ids=["delim-semicolon", "delimiter-pipe", "sep-escaped-tab", "upper-literal-tab"],
)
def test_read_csv_delimiter_options(
    con: llkv.Connection, tmp_path: Path, option: str, sql_delim: str, delim: str
) -> None:
    path = write_text(tmp_path / "d.csv", f"a{delim}b\n1{delim}x, y\n2{delim}z\n")
    assert rows(con, f"SELECT * FROM read_csv({lit(path)}, {option} = {sql_delim})") == [
        {"a": 1, "b": "x, y"},
        {"a": 2, "b": "z"},
    ]


def test_read_csv_quoted_fields_hold_delimiters_quotes_and_newlines(
    con: llkv.Connection, tmp_path: Path
) -> None:
    path = write_text(
        tmp_path / "q.csv",
        'id,txt\n1,"a,b"\n2,"line1\nline2"\n3,"say ""hi"""\n4,\n5,"  padded  "\n',
    )
    assert rows(con, f"SELECT * FROM read_csv({lit(path)})") == [
        {"id": 1, "txt": "a,b"},
        {"id": 2, "txt": "line1\nline2"},
        {"id": 3, "txt": 'say "hi"'},
        {"id": 4, "txt": None},
        {"id": 5, "txt": "  padded  "},
    ]


def test_read_csv_custom_quote_character(con: llkv.Connection, tmp_path: Path) -> None:
    path = write_text(tmp_path / "sq.csv", "id;txt\n1;'a;b'\n2;'x\ny'\n3;'it''s'\n")
    assert rows(con, f"SELECT * FROM read_csv({lit(path)}, delim = ';', quote = '''')") == [
        {"id": 1, "txt": "a;b"},
        {"id": 2, "txt": "x\ny"},
        {"id": 3, "txt": "it's"},
    ]


def test_read_csv_options_can_be_parameters(con: llkv.Connection, tmp_path: Path) -> None:
    path = write_text(tmp_path / "p.tsv", "x\ty\n1\thello, world\n")
    assert rows(
        con,
        "SELECT ? AS t, * FROM read_csv(?, delim = ?, header = ?)",
        ["k", str(path), "\t", True],
    ) == [{"t": "k", "x": 1, "y": "hello, world"}]
    assert rows(con, f"SELECT * FROM read_csv({lit(path)}, header => true, sep => '\t')") == [
        {"x": 1, "y": "hello, world"}
    ]


def test_read_csv_infers_types_over_the_whole_file(con: llkv.Connection, tmp_path: Path) -> None:
    n = 70_000
    lines = ["a,b"] + [f"{i},{i}" for i in range(n)] + ["0.5,late text"]
    path = write_text(tmp_path / "late.csv", "\n".join(lines) + "\n")
    result = con.execute(
        f"SELECT sum(a) AS s, count(b) AS c, max(b) AS m FROM read_csv({lit(path)})"
    )
    assert result.to_pylist() == [{"s": n * (n - 1) / 2 + 0.5, "c": n + 1, "m": "late text"}]
    assert con.execute(f"SELECT * FROM read_csv({lit(path)}) LIMIT 1").schema.types == [
        pa.float64(),
        pa.string(),
    ]


def test_read_csv_line_endings(con: llkv.Connection, tmp_path: Path) -> None:
    expected = [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]
    crlf = write_text(tmp_path / "crlf.csv", "id,v\r\n1,a\r\n2,b\r\n")
    no_eol = write_text(tmp_path / "noeol.csv", "id,v\n1,a\n2,b")
    assert rows(con, f"SELECT * FROM read_csv({lit(crlf)})") == expected
    assert rows(con, f"SELECT * FROM read_csv({lit(no_eol)})") == expected


def test_read_csv_all_empty_column_is_null(con: llkv.Connection, tmp_path: Path) -> None:
    path = write_text(tmp_path / "nulls.csv", "id,v\n1,\n2,\n")
    assert rows(
        con, f"SELECT id, v, v IS NULL AS n, coalesce(v, 'd') AS c FROM read_csv({lit(path)})"
    ) == [{"id": 1, "v": None, "n": True, "c": "d"}, {"id": 2, "v": None, "n": True, "c": "d"}]
    con.execute("CREATE TABLE t (id INTEGER, v TEXT)")
    assert count_of(con.execute(f"COPY t FROM {lit(path)}")) == 2
    assert rows(con, "SELECT * FROM t ORDER BY id") == [{"id": 1, "v": None}, {"id": 2, "v": None}]


def test_read_csv_of_a_pyarrow_written_file(con: llkv.Connection, tmp_path: Path) -> None:
    path = tmp_path / "pa.csv"
    pacsv.write_csv(
        pa.table({"n": [1, None, 3], "s": ['a,"b"', "c\nd", None], "f": [0.5, 1.0, None]}), path
    )
    assert rows(con, f"SELECT * FROM read_csv({lit(path)})") == [
        {"n": 1, "s": 'a,"b"', "f": 0.5},
        {"n": None, "s": "c\nd", "f": 1.0},
        {"n": 3, "s": None, "f": None},
    ]


def test_copy_to_csv_quotes_what_needs_quoting(con: llkv.Connection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE t (id INTEGER, txt TEXT)")
    con.execute(
        "INSERT INTO t VALUES (1, 'a,b'), (2, 'x\ny'), (3, 'say \"hi\"'), (4, 'plain'), (5, NULL)"
    )
    path = tmp_path / "out.csv"
    assert count_of(con.execute(f"COPY t TO {lit(path)}")) == 5
    assert path.read_bytes() == b'id,txt\n1,"a,b"\n2,"x\ny"\n3,"say ""hi"""\n4,plain\n5,\n'
    expected = {"id": [1, 2, 3, 4, 5], "txt": ["a,b", "x\ny", 'say "hi"', "plain", None]}
    nullable = pacsv.ConvertOptions(strings_can_be_null=True)
    assert pacsv.read_csv(path, convert_options=nullable).to_pydict() == expected
    assert con.execute(f"SELECT * FROM read_csv({lit(path)})").to_pydict() == expected


def test_copy_to_csv_without_header_with_a_delimiter(con: llkv.Connection, tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    result = con.execute(
        f"COPY (SELECT 1 AS a, 'x;y' AS b UNION ALL SELECT 2, 'z') TO {lit(path)} "
        "(FORMAT csv, HEADER false, DELIMITER ';')"
    )
    assert count_of(result) == 2
    assert path.read_bytes() == b'1;"x;y"\n2;z\n'
    assert rows(con, f"SELECT * FROM read_csv({lit(path)}, header = false, delim = ';')") == [
        {"column_1": 1, "column_2": "x;y"},
        {"column_1": 2, "column_2": "z"},
    ]


def test_copy_to_csv_with_a_quote_character(con: llkv.Connection, tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    con.execute(
        f"COPY (SELECT 'a' AS x, 'it''s|x' AS y) TO {lit(path)} (DELIMITER '|', QUOTE '''')"
    )
    assert path.read_bytes() == b"x|y\na|'it''s|x'\n"
    assert rows(con, f"SELECT * FROM read_csv({lit(path)}, delim = '|', quote = '''')") == [
        {"x": "a", "y": "it's|x"}
    ]


def test_copy_to_csv_with_a_tab_delimiter(con: llkv.Connection, tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    con.execute(f"COPY (SELECT 1 AS a, 'b c' AS b) TO {lit(path)} (HEADER true, DELIMITER E'\\t')")
    assert path.read_bytes() == b"a\tb\n1\tb c\n"


def test_copy_csv_round_trips_dates_timestamps_and_floats(
    con: llkv.Connection, tmp_path: Path
) -> None:
    con.insert_arrow(
        "t",
        pa.table(
            {
                "d": [datetime.date(1, 1, 1), datetime.date(9999, 12, 31), None],
                "ts": [
                    datetime.datetime(1969, 12, 31, 23, 59, 59, 1),
                    datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
                    None,
                ],
                "f": [float("inf"), float("-inf"), 1e-300],
                "b": [True, False, None],
            }
        ),
        create=True,
    )
    path = tmp_path / "dt.csv"
    con.execute(f"COPY t TO {lit(path)}")
    result = con.execute(f"SELECT * FROM read_csv({lit(path)})")
    assert result.schema.types == [pa.date32(), pa.timestamp("us"), pa.float64(), pa.bool_()]
    assert result.to_pylist() == con.execute("SELECT * FROM t").to_pylist()


def test_copy_csv_round_trips_nan(con: llkv.Connection, tmp_path: Path) -> None:
    con.insert_arrow("t", pa.table({"x": [float("nan"), 2.0]}), create=True)
    path = tmp_path / "nan.csv"
    con.execute(f"COPY t TO {lit(path)}")
    values = con.execute(f"SELECT x FROM read_csv({lit(path)})").column("x").to_pylist()
    assert math.isnan(values[0])
    assert values[1] == 2.0


def test_copy_empty_result_to_csv_writes_only_the_header(
    con: llkv.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "empty.csv"
    assert count_of(con.execute(f"COPY (SELECT 1 AS a, 'x' AS b WHERE false) TO {lit(path)}")) == 0
    assert path.read_bytes() == b"a,b\n"
    result = con.execute(f"SELECT * FROM read_csv({lit(path)})")
    assert result.schema.names == ["a", "b"]
    assert result.num_rows == 0


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="CSV writes '' and NULL the same way (an empty field), so an empty string comes "
    "back as NULL and a NOT NULL text column cannot be copied back in",
)
def test_copy_csv_round_trips_empty_strings(con: llkv.Connection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE t (id INTEGER, s TEXT NOT NULL)")
    con.execute("INSERT INTO t VALUES (1, ''), (2, 'x')")
    path = tmp_path / "e.csv"
    con.execute(f"COPY t TO {lit(path)}")
    assert rows(con, f"SELECT * FROM read_csv({lit(path)})") == [
        {"id": 1, "s": ""},
        {"id": 2, "s": "x"},
    ]


def test_copy_empty_table_through_headerless_csv(con: llkv.Connection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    path = tmp_path / "empty.csv"
    assert count_of(con.execute(f"COPY t TO {lit(path)} (HEADER false)")) == 0
    assert path.read_bytes() == b""
    assert count_of(con.execute(f"COPY t FROM {lit(path)} (HEADER false)")) == 0
    with pytest.raises(llkv.DataError, match="has no columns"):
        con.execute(f"SELECT * FROM read_csv({lit(path)}, header = false)")


# --- COPY ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "parquet"),
    [
        ("x.parquet", True),
        ("x.pq", True),
        ("X.PARQUET", True),
        ("x.csv", False),
        ("x.txt", False),
        ("x", False),
    ],
)
def test_copy_format_follows_the_extension(
    con: llkv.Connection, tmp_path: Path, name: str, parquet: bool
) -> None:
    path = tmp_path / name
    assert count_of(con.execute(f"COPY (SELECT 7 AS n) TO {lit(path)}")) == 1
    if parquet:
        assert pq.read_table(path).to_pydict() == {"n": [7]}
    else:
        assert path.read_bytes() == b"n\n7\n"


@pytest.mark.parametrize(
    ("name", "option", "parquet"),
    [
        ("x.csv", "FORMAT parquet", True),
        ("x.txt", "FORMAT 'parquet'", True),
        ("x.dat", "FORMAT PARQUET", True),
        ("x.parquet", "FORMAT csv", False),
        ("x.pq", "FORMAT CSV, HEADER false", False),
    ],
)
def test_copy_format_option_overrides_the_extension(
    con: llkv.Connection, tmp_path: Path, name: str, option: str, parquet: bool
) -> None:
    path = tmp_path / name
    con.execute(f"COPY (SELECT 7 AS n) TO {lit(path)} ({option})")
    if parquet:
        assert pq.read_table(path).to_pydict() == {"n": [7]}
        assert rows(con, f"SELECT n FROM read_parquet({lit(path)})") == [{"n": 7}]
    else:
        assert path.read_bytes().endswith(b"7\n")
        with pytest.raises(llkv.DataError, match="as Parquet"):
            con.execute(f"SELECT * FROM read_parquet({lit(path)})")


def test_copy_table_with_a_column_list_to_a_file(con: llkv.Connection, tmp_path: Path) -> None:
    con.execute('CREATE TABLE "Odd Name" (id INTEGER, "a b" TEXT, skip DOUBLE)')
    con.execute("INSERT INTO \"Odd Name\" VALUES (1, 'x', 0.5), (2, 'y', 1.5)")
    path = tmp_path / "cols.csv"
    assert count_of(con.execute(f'COPY "Odd Name" ("a b", id) TO {lit(path)}')) == 2
    assert path.read_bytes() == b"a b,id\nx,1\ny,2\n"


def test_copy_query_with_parameters(con: llkv.Connection, tmp_path: Path, people: Path) -> None:
    path = tmp_path / "p.parquet"
    result = con.execute(
        f"COPY (SELECT ? AS tag, id FROM read_parquet(?) WHERE id > ?) TO {lit(path)}",
        ["t", str(people), 2],
    )
    assert count_of(result) == 2
    assert pq.read_table(path).to_pydict() == {"tag": ["t", "t"], "id": [3, 4]}
    with pytest.raises(llkv.ProgrammingError, match="incorrect number of bindings"):
        con.execute(f"COPY (SELECT ? AS x) TO {lit(path)}", [1, 2])


def test_copy_to_replaces_an_existing_file(con: llkv.Connection, tmp_path: Path) -> None:
    path = write_text(tmp_path / "old.csv", "old,content,here\n1,2,3\n4,5,6\n")
    assert count_of(con.execute(f"COPY (SELECT 1 AS x) TO {lit(path)}")) == 1
    assert path.read_bytes() == b"x\n1\n"


def test_copy_to_with_a_failing_query_leaves_the_file_alone(
    con: llkv.Connection, tmp_path: Path
) -> None:
    path = write_text(tmp_path / "keep.csv", "keep\n")
    with pytest.raises(llkv.DataError, match="overflow"):
        con.execute(f"COPY (SELECT abs(-9223372036854775807 - 1) AS x) TO {lit(path)}")
    assert path.read_bytes() == b"keep\n"


def test_copy_to_can_rewrite_the_file_it_reads(con: llkv.Connection, tmp_path: Path) -> None:
    path = tmp_path / "self.parquet"
    pq.write_table(pa.table({"x": [1, 2, 3]}), path)
    src = f"read_parquet({lit(path)})"
    assert count_of(con.execute(f"COPY (SELECT x * 10 AS x FROM {src}) TO {lit(path)}")) == 3
    assert pq.read_table(path).to_pydict() == {"x": [10, 20, 30]}


def test_relative_paths_are_relative_to_the_working_directory(
    con: llkv.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    con.execute("COPY (SELECT 42 AS x) TO 'rel.parquet'")
    assert pq.read_table(tmp_path / "rel.parquet").to_pydict() == {"x": [42]}
    assert rows(con, "SELECT x FROM read_parquet('rel.parquet')") == [{"x": 42}]


def test_copy_to_a_missing_directory_is_an_operational_error(
    con: llkv.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "no" / "such" / "dir.csv"
    with pytest.raises(llkv.OperationalError, match=re.escape(f"cannot create {path}")):
        con.execute(f"COPY (SELECT 1 AS x) TO {lit(path)}")


@pytest.mark.parametrize("function", ["read_parquet", "read_csv"])
def test_reading_a_directory_is_an_operational_error(
    con: llkv.Connection, tmp_path: Path, function: str
) -> None:
    with pytest.raises(llkv.OperationalError, match="it is a directory"):
        con.execute(f"SELECT * FROM {function}({lit(tmp_path)})")


def test_copy_from_matches_columns_by_position(con: llkv.Connection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE t (id INTEGER, name TEXT, score DOUBLE)")
    path = write_text(tmp_path / "in.csv", "x,y,z\n1,ann,0.5\n2,bob,\n")
    assert count_of(con.execute(f"COPY t FROM {lit(path)}")) == 2
    assert rows(con, "SELECT * FROM t ORDER BY id") == [
        {"id": 1, "name": "ann", "score": 0.5},
        {"id": 2, "name": "bob", "score": None},
    ]


def test_copy_from_parquet_widens_and_appends(
    con: llkv.Connection, people: Path, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE t (id INTEGER, name TEXT, score DOUBLE)")
    con.execute("INSERT INTO t VALUES (0, 'zero', 0.0)")
    # A file named like CSV, read as Parquet because FORMAT says so.
    renamed = tmp_path / "people.csv"
    renamed.write_bytes(people.read_bytes())
    assert count_of(con.execute(f"COPY t FROM {lit(people)}")) == 4
    assert count_of(con.execute(f"COPY t FROM {lit(renamed)} (FORMAT parquet)")) == 4
    assert rows(con, "SELECT count(*) AS n, sum(id) AS s, sum(score) AS f FROM t") == [
        {"n": 9, "s": 20, "f": 17.5}
    ]


def test_copy_from_with_a_column_list_fills_defaults(con: llkv.Connection, tmp_path: Path) -> None:
    con.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, v DOUBLE DEFAULT 7.5, "
        "note TEXT)"
    )
    path = write_text(tmp_path / "rev.csv", "three|3\nfour|4\n")
    result = con.execute(f"COPY t (name, ID) FROM {lit(path)} (HEADER false, DELIMITER '|')")
    assert count_of(result) == 2
    assert rows(con, "SELECT * FROM t ORDER BY id") == [
        {"id": 3, "name": "three", "v": 7.5, "note": None},
        {"id": 4, "name": "four", "v": 7.5, "note": None},
    ]


def test_copy_from_a_header_only_file_adds_nothing(con: llkv.Connection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    path = write_text(tmp_path / "head.csv", "a,b\n")
    assert count_of(con.execute(f"COPY t FROM {lit(path)}")) == 0
    assert rows(con, "SELECT count(*) AS n FROM t") == [{"n": 0}]


@pytest.mark.parametrize(
    ("columns", "data", "message"),
    [
        ("", "5,five,1\n1,again,1\n", "UNIQUE"),
        ("(id, name)", "5,five\n5,twice\n", "UNIQUE"),
        ("(id, name)", "5,\n", "NOT NULL"),
        ("(name, id)", "minus,-5\n", "CHECK"),
        ("", "5,five,1\n6,six,9\n", "FOREIGN KEY"),
    ],
    ids=["pk-existing", "pk-within-file", "not-null", "check", "foreign-key"],
)
def test_copy_from_constraint_violation_adds_nothing(
    con: llkv.Connection, tmp_path: Path, columns: str, data: str, message: str
) -> None:
    con.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    con.execute("INSERT INTO parent VALUES (1)")
    con.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "pid INTEGER REFERENCES parent(id), CHECK (id > 0))"
    )
    con.execute("INSERT INTO t VALUES (1, 'one', 1), (2, 'two', NULL)")
    before = rows(con, "SELECT * FROM t ORDER BY id")
    path = write_text(tmp_path / "bad.csv", data)
    with pytest.raises(llkv.IntegrityError, match=message):
        con.execute(f"COPY t {columns} FROM {lit(path)} (HEADER false)")
    assert rows(con, "SELECT * FROM t ORDER BY id") == before


def test_copy_from_violation_in_a_later_batch_keeps_the_transaction(
    con: llkv.Connection, tmp_path: Path
) -> None:
    n = 100_000
    ids = list(range(1, n + 1))
    ids[90_000] = 5
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.table({"id": ids}), path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (-1)")
    with pytest.raises(llkv.IntegrityError, match="UNIQUE"):
        con.execute(f"COPY t FROM {lit(path)}")
    assert rows(con, "SELECT count(*) AS n FROM t") == [{"n": 1}]
    con.commit()
    assert rows(con, "SELECT id FROM t") == [{"id": -1}]


def test_copy_from_column_count_mismatch_is_data_error(
    con: llkv.Connection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT, c DOUBLE)")
    path = write_text(tmp_path / "two.csv", "a,b\n1,x\n")
    with pytest.raises(llkv.DataError, match="has 2 columns but COPY into t expects 3"):
        con.execute(f"COPY t FROM {lit(path)}")
    with pytest.raises(llkv.DataError, match="has 2 columns but COPY into t expects 1"):
        con.execute(f"COPY t (a) FROM {lit(path)}")
    assert rows(con, "SELECT count(*) AS n FROM t") == [{"n": 0}]


def test_copy_from_a_bad_value_is_data_error(con: llkv.Connection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    path = write_text(tmp_path / "bad.csv", "a,b\n1,x\nabc,y\n")
    with pytest.raises(llkv.DataError, match='column "a" of table t is INTEGER'):
        con.execute(f"COPY t FROM {lit(path)}")
    assert rows(con, "SELECT count(*) AS n FROM t") == [{"n": 0}]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("t (a, nosuch)", "table t has no column named nosuch"),
        ("t (a, A)", "given twice"),
        ("nosuch", "no such table: nosuch"),
        ("v", "no such table: v"),
    ],
)
def test_copy_from_bad_targets_are_programming_errors(
    con: llkv.Connection, tmp_path: Path, target: str, message: str
) -> None:
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    con.execute("CREATE VIEW v AS SELECT a, b FROM t")
    path = write_text(tmp_path / "in.csv", "a,b\n1,x\n")
    with pytest.raises(llkv.ProgrammingError, match=message):
        con.execute(f"COPY {target} FROM {lit(path)}")


def test_copy_to_an_unknown_table_is_a_programming_error(
    con: llkv.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    with pytest.raises(llkv.ProgrammingError, match="no such table: nosuch"):
        con.execute(f"COPY nosuch TO {lit(path)}")
    assert not path.exists()


def test_copy_from_in_a_transaction_commits_and_rolls_back(
    con: llkv.Connection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    path = write_text(tmp_path / "a.csv", "a\n1\n2\n")
    con.execute("BEGIN")
    con.execute(f"COPY t FROM {lit(path)}")
    assert rows(con, "SELECT count(*) AS n FROM t") == [{"n": 2}]
    con.rollback()
    assert rows(con, "SELECT count(*) AS n FROM t") == [{"n": 0}]
    con.execute("BEGIN")
    con.execute(f"COPY t FROM {lit(path)}")
    con.commit()
    assert rows(con, "SELECT sum(a) AS s FROM t") == [{"s": 3}]


def test_copy_to_sees_the_open_transaction_but_others_do_not(
    con: llkv.Connection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    other = con.duplicate()
    try:
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (1), (2)")
        mine, theirs = tmp_path / "mine.csv", tmp_path / "theirs.csv"
        assert count_of(con.execute(f"COPY t TO {lit(mine)}")) == 2
        assert count_of(other.execute(f"COPY t TO {lit(theirs)}")) == 0
        con.rollback()
    finally:
        other.close()


def test_copy_to_works_in_a_read_only_transaction_copy_from_does_not(
    con: llkv.Connection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("INSERT INTO t VALUES (1), (2)")
    con.execute("BEGIN READ ONLY")
    query_out, table_out = tmp_path / "q.parquet", tmp_path / "t.csv"
    assert count_of(con.execute(f"COPY (SELECT a * 2 AS a FROM t) TO {lit(query_out)}")) == 2
    assert count_of(con.execute(f"COPY t TO {lit(table_out)}")) == 2
    with pytest.raises(llkv.OperationalError, match="read-only"):
        con.execute(f"COPY t FROM {lit(table_out)}")
    con.rollback()
    assert pq.read_table(query_out).to_pydict() == {"a": [2, 4]}
    assert rows(con, "SELECT sum(a) AS s FROM t") == [{"s": 3}]


@pytest.mark.parametrize(
    "change",
    [
        "DELETE FROM t RETURNING a",
        "UPDATE t SET a = a + 1 RETURNING a",
        "INSERT INTO t VALUES (9) RETURNING a",
    ],
)
def test_copy_to_a_data_change_is_not_supported(
    con: llkv.Connection, tmp_path: Path, change: str
) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("INSERT INTO t VALUES (1)")
    con.execute("BEGIN READ ONLY")
    path = tmp_path / "x.csv"
    with pytest.raises(llkv.NotSupportedError):
        con.execute(f"COPY ({change}) TO {lit(path)}")
    con.rollback()
    assert not path.exists()
    assert rows(con, "SELECT a FROM t") == [{"a": 1}]


def test_copy_from_persists_in_a_database_file(db_path: Path, tmp_path: Path) -> None:
    path = write_text(tmp_path / "in.csv", "a,b\n1,x\n2,y\n")
    with llkv.connect(db_path) as con:
        con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        con.execute(f"COPY t FROM {lit(path)}")
    with llkv.connect(db_path) as con:
        assert rows(con, "SELECT * FROM t ORDER BY a") == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


# --- Errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * FROM read_parquet({path})",
        "SELECT * FROM read_csv({path})",
        "COPY t FROM {path}",
        "COPY t FROM {path} (FORMAT parquet)",
    ],
)
def test_a_missing_file_is_an_operational_error_naming_it(
    con: llkv.Connection, tmp_path: Path, template: str
) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    path = tmp_path / "missing.file"
    with pytest.raises(llkv.OperationalError, match=re.escape(f"cannot open {path}")):
        con.execute(template.format(path=lit(path)))


def test_a_file_that_is_not_parquet_is_a_data_error(con: llkv.Connection, tmp_path: Path) -> None:
    path = write_text(tmp_path / "fake.parquet", "a,b\n1,2\n")
    with pytest.raises(llkv.DataError, match=re.escape(f"cannot read {path} as Parquet")):
        con.execute(f"SELECT * FROM read_parquet({lit(path)})")
    con.execute("CREATE TABLE t (a INTEGER, b INTEGER)")
    with pytest.raises(llkv.DataError, match="as Parquet"):
        con.execute(f"COPY t FROM {lit(path)}")


def test_a_corrupt_parquet_page_is_a_data_error(con: llkv.Connection, tmp_path: Path) -> None:
    path = tmp_path / "corrupt.parquet"
    pq.write_table(pa.table({"s": [f"value {i}" for i in range(5000)]}), path)
    data = bytearray(path.read_bytes())
    data[100:140] = b"\xff" * 40
    path.write_bytes(bytes(data))
    with pytest.raises(llkv.DataError, match="as Parquet"):
        con.execute(f"SELECT count(*) FROM read_parquet({lit(path)})")


def test_a_ragged_csv_is_a_data_error(con: llkv.Connection, tmp_path: Path) -> None:
    path = write_text(tmp_path / "ragged.csv", "a,b\n1,2\n3\n")
    with pytest.raises(llkv.DataError, match=re.escape(f"cannot read {path} as CSV")):
        con.execute(f"SELECT * FROM read_csv({lit(path)})")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("bogus = 1", "unknown CSV option bogus"),
        ("header = 'yes'", "CSV option header must be true or false"),
        ("delim = ';;'", "CSV option delimiter must be a one-character string"),
        ("quote = ''", "CSV option quote must be a one-character string"),
        ("'positional'", "read_csv: unexpected argument"),
    ],
)
def test_bad_csv_options_are_programming_errors(
    con: llkv.Connection, tmp_path: Path, options: str, message: str
) -> None:
    path = write_text(tmp_path / "ok.csv", "a\n1\n")
    with pytest.raises(llkv.ProgrammingError, match=message):
        con.execute(f"SELECT * FROM read_csv({lit(path)}, {options})")


def test_an_unknown_table_function_is_a_programming_error(con: llkv.Connection) -> None:
    with pytest.raises(llkv.ProgrammingError, match="no such table function: read_json"):
        con.execute("SELECT * FROM read_json('x.json')")


@pytest.mark.parametrize("direction", ["TO", "FROM"])
def test_format_json_is_not_supported(con: llkv.Connection, tmp_path: Path, direction: str) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    path = tmp_path / "x.json"
    with pytest.raises(llkv.NotSupportedError, match="file format json is not supported"):
        con.execute(f"COPY t {direction} {lit(path)} (FORMAT json)")
    assert not path.exists()


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("COPY t TO STDOUT", "STDOUT"),
        ("COPY t FROM STDIN", "STDIN"),
        ("COPY t TO PROGRAM 'cat'", "PROGRAM"),
        ("COPY t FROM PROGRAM 'cat /etc/passwd'", "PROGRAM"),
    ],
)
def test_copy_without_a_file_is_not_supported(con: llkv.Connection, sql: str, message: str) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(llkv.NotSupportedError, match=message):
        con.execute(sql)


@pytest.mark.parametrize("option", ["NULL 'NA'", "FORCE_QUOTE (a)", "ESCAPE '\\'"])
def test_unsupported_copy_options_are_not_supported(
    con: llkv.Connection, tmp_path: Path, option: str
) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    path = tmp_path / "x.csv"
    with pytest.raises(llkv.NotSupportedError, match="COPY option"):
        con.execute(f"COPY t TO {lit(path)} (FORMAT csv, {option})")
    assert not path.exists()


# --- allow_file_access=False -----------------------------------------------


@pytest.fixture
def denied() -> Iterator[llkv.Connection]:
    """A connection to a fresh in-memory database without file access."""
    connection = llkv.connect(allow_file_access=False)
    yield connection
    connection.close()


DENIED_STATEMENTS = [
    "SELECT * FROM read_parquet({parquet})",
    "SELECT * FROM parquet_scan({parquet})",
    "SELECT * FROM read_csv({csv})",
    "SELECT * FROM read_csv_auto({csv}, header = true)",
    "SELECT * FROM read_csv({csv}, bogus = 1)",
    "SELECT * FROM read_parquet({missing})",
    "SELECT (SELECT max(a) FROM read_parquet({parquet})) AS m",
    "WITH w AS (SELECT * FROM read_parquet({parquet})) SELECT * FROM w",
    "SELECT * FROM t WHERE a IN (SELECT a FROM read_parquet({parquet}))",
    "EXPLAIN SELECT * FROM read_parquet({parquet})",
    "CREATE TABLE c AS SELECT * FROM read_parquet({parquet})",
    "CREATE VIEW cv AS SELECT * FROM read_parquet({parquet})",
    "INSERT INTO t SELECT * FROM read_parquet({parquet})",
    "UPDATE t SET a = p.a FROM read_parquet({parquet}) p WHERE p.a = t.a",
    "DELETE FROM t WHERE a IN (SELECT a FROM read_csv({csv}))",
    "COPY t TO {out}",
    "COPY (SELECT 1 AS x) TO {out}",
    "COPY t (a) TO {out} (FORMAT parquet)",
    "COPY t FROM {csv}",
    "COPY t TO STDOUT",
]


@pytest.mark.parametrize("template", DENIED_STATEMENTS)
def test_denied_connection_refuses_every_file_statement(
    denied: llkv.Connection, tmp_path: Path, template: str
) -> None:
    parquet, csv, out = tmp_path / "in.parquet", tmp_path / "in.csv", tmp_path / "out.csv"
    pq.write_table(pa.table({"a": [1, 2]}), parquet)
    write_text(csv, "a\n1\n")
    denied.execute("CREATE TABLE t (a INTEGER)")
    denied.execute("INSERT INTO t VALUES (1)")
    sql = template.format(
        parquet=lit(parquet), csv=lit(csv), out=lit(out), missing=lit(tmp_path / "none")
    )
    with pytest.raises(llkv.ProgrammingError, match=DENIED):
        denied.execute(sql)
    assert not out.exists()
    assert rows(denied, "SELECT a FROM t") == [{"a": 1}]
    for name in ("c", "cv"):
        with pytest.raises(llkv.ProgrammingError, match=f"no such table: {name}"):
            denied.execute(f"SELECT * FROM {name}")


def test_denied_path_parameter_is_refused(denied: llkv.Connection, people: Path) -> None:
    with pytest.raises(llkv.ProgrammingError, match=DENIED):
        denied.execute("SELECT * FROM read_parquet(?)", [str(people)])


def test_denied_connection_runs_other_sql_and_arrow_ingest(denied: llkv.Connection) -> None:
    denied.execute("CREATE TABLE t (a INTEGER)")
    denied.insert_arrow("t", pa.table({"a": [1, 2]}))
    denied.register("r", pa.table({"a": [10]}))
    assert rows(denied, "SELECT sum(a) AS s FROM (SELECT a FROM t UNION ALL SELECT a FROM r)") == [
        {"s": 13}
    ]
    with pytest.raises(llkv.ProgrammingError, match="no such table function: read_json"):
        denied.execute("SELECT * FROM read_json('x')")


def test_denied_cursor_and_executemany(denied: llkv.Connection, tmp_path: Path) -> None:
    denied.execute("CREATE TABLE t (a INTEGER)")
    out = tmp_path / "c.csv"
    cursor = denied.cursor()
    with pytest.raises(llkv.ProgrammingError, match=DENIED):
        cursor.execute(f"COPY t TO {lit(out)}")
    with pytest.raises(llkv.ProgrammingError, match=DENIED):
        denied.executemany("SELECT * FROM read_csv(?)", [(str(out),)])
    assert not out.exists()


def test_duplicate_inherits_file_access(tmp_path: Path, people: Path) -> None:
    query = f"SELECT count(*) AS n FROM read_parquet({lit(people)})"
    with llkv.connect(allow_file_access=False) as denied:
        copy = denied.duplicate()
        try:
            with pytest.raises(llkv.ProgrammingError, match=DENIED):
                copy.execute(query)
            with pytest.raises(llkv.ProgrammingError, match=DENIED):
                copy.execute(f"COPY (SELECT 1 AS x) TO {lit(tmp_path / 'x.csv')}")
            grandchild = copy.duplicate()
            with pytest.raises(llkv.ProgrammingError, match=DENIED):
                grandchild.execute(query)
            grandchild.close()
        finally:
            copy.close()
    with llkv.connect() as allowed:
        copy = allowed.duplicate()
        assert rows(copy, query) == [{"n": 4}]
        copy.close()


def test_view_over_a_file_is_denied_on_a_denied_connection(people: Path) -> None:
    name = f":memory:files_{uuid.uuid4().hex}"
    allowed = llkv.connect(name)
    denied = llkv.connect(name, allow_file_access=False)
    try:
        allowed.execute(f"CREATE VIEW v AS SELECT * FROM read_parquet({lit(people)})")
        allowed.execute("CREATE TABLE loaded AS SELECT id FROM v")
        assert rows(allowed, "SELECT count(*) AS n FROM v") == [{"n": 4}]
        for sql in (
            "SELECT * FROM v",
            "SELECT count(*) FROM (SELECT * FROM v) q",
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM v)",
            "EXPLAIN SELECT * FROM v",
        ):
            with pytest.raises(llkv.ProgrammingError, match=DENIED):
                denied.execute(sql)
        # Data already loaded into a table is just data.
        assert rows(denied, "SELECT count(*) AS n FROM loaded") == [{"n": 4}]
    finally:
        denied.close()
        allowed.close()


def test_trigger_reading_a_file_is_denied_on_a_denied_connection(people: Path) -> None:
    name = f":memory:files_{uuid.uuid4().hex}"
    allowed = llkv.connect(name)
    denied = llkv.connect(name, allow_file_access=False)
    try:
        allowed.execute("CREATE TABLE t (a INTEGER)")
        allowed.execute("CREATE TABLE log (id INTEGER)")
        allowed.execute(
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN "
            f"INSERT INTO log SELECT id FROM read_parquet({lit(people)}); END"
        )
        allowed.execute("INSERT INTO t VALUES (1)")
        assert rows(allowed, "SELECT count(*) AS n FROM log") == [{"n": 4}]
        with pytest.raises(llkv.ProgrammingError, match=DENIED):
            denied.execute("INSERT INTO t VALUES (2)")
        assert rows(denied, "SELECT count(*) AS n FROM t") == [{"n": 1}]
        assert rows(denied, "SELECT count(*) AS n FROM log") == [{"n": 4}]
    finally:
        denied.close()
        allowed.close()


def test_view_in_a_database_file_is_denied_after_reopening(db_path: Path, people: Path) -> None:
    with llkv.connect(db_path) as con:
        con.execute(f"CREATE VIEW v AS SELECT * FROM read_parquet({lit(people)})")
    with (
        llkv.connect(db_path, allow_file_access=False) as con,
        pytest.raises(llkv.ProgrammingError, match=DENIED),
    ):
        con.execute("SELECT * FROM v")
    with llkv.connect(db_path) as con:
        assert rows(con, "SELECT count(*) AS n FROM v") == [{"n": 4}]


@pytest.mark.parametrize(
    "statement",
    [
        "PRAGMA allow_file_access = 1",
        "PRAGMA allow_file_access = true",
        "PRAGMA allow_file_access('on')",
        "SET allow_file_access = true",
        "PRAGMA enable_external_access = true",
        "SET enable_external_access = true",
        "PRAGMA dialect = duckdb",
        "ATTACH 'other.llkv' AS other",
    ],
)
def test_no_sql_turns_file_access_back_on(
    denied: llkv.Connection, people: Path, statement: str
) -> None:
    with contextlib.suppress(llkv.Error):
        denied.execute(statement)
    denied.execute("BEGIN")
    denied.execute("COMMIT")
    with pytest.raises(llkv.ProgrammingError, match=DENIED):
        denied.execute(f"SELECT * FROM read_parquet({lit(people)})")


@pytest.mark.parametrize(
    "statement",
    [
        "PRAGMA allow_file_access = 1",
        "SET allow_file_access = true",
        "PRAGMA enable_external_access = true",
    ],
)
def test_file_access_pragmas_fail(denied: llkv.Connection, statement: str) -> None:
    with pytest.raises(llkv.Error):
        denied.execute(statement)
