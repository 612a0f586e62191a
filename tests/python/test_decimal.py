"""DECIMAL(p, s) values between Python (`decimal.Decimal`), Arrow and SQL."""

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import llkv


def test_decimal_parameters_round_trip_exactly(any_con: llkv.Connection) -> None:
    any_con.execute("CREATE TABLE price (id INTEGER, amount DECIMAL(10,2))")
    any_con.executemany(
        "INSERT INTO price VALUES (?, ?)",
        [(1, Decimal("19.99")), (2, Decimal("0.10")), (3, Decimal("-7")), (4, None)],
    )
    table = any_con.execute("SELECT id, amount FROM price ORDER BY id")
    assert table.schema.field("amount").type == pa.decimal128(10, 2)
    assert table.column("amount").to_pylist() == [
        Decimal("19.99"),
        Decimal("0.10"),
        Decimal("-7.00"),
        None,
    ]
    cur = any_con.cursor()
    cur.execute("SELECT id FROM price WHERE amount = ?", [Decimal("0.1")])
    assert cur.fetchall() == [(2,)]


def test_decimal_arithmetic_is_exact(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE cents (x DECIMAL(3,2))")
    con.executemany("INSERT INTO cents VALUES (?)", [(Decimal("0.1"),), (Decimal("0.2"),)])
    total = con.execute("SELECT sum(x) AS s, sum(x) = 0.3 AS exact FROM cents").to_pylist()
    assert total == [{"s": Decimal("0.30"), "exact": True}]
    got = con.execute("SELECT ? * 3 AS p", [Decimal("1.10")])
    assert got.schema.field("p").type == pa.decimal128(22, 2)
    assert got.column("p").to_pylist() == [Decimal("3.30")]


def test_float_parameters_round_into_a_decimal_column(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE t (x DECIMAL(5,2))")
    con.execute("INSERT INTO t VALUES (?), (?)", [2.675, -1.005])
    assert con.execute("SELECT x FROM t").column("x").to_pylist() == [
        Decimal("2.68"),
        Decimal("-1.01"),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("NaN"), "not a finite number"),
        (Decimal("Infinity"), "not a finite number"),
        (Decimal("1" * 39), "at most 38 digits"),
    ],
    ids=["nan", "infinity", "39-digits"],
)
def test_unrepresentable_decimal_parameters_are_data_errors(
    con: llkv.Connection, value: Decimal, message: str
) -> None:
    with pytest.raises(llkv.DataError, match=message):
        con.execute("SELECT ?", [value])


def test_overflowing_insert_is_a_data_error_and_changes_nothing(
    any_con: llkv.Connection,
) -> None:
    any_con.execute("CREATE TABLE t (x DECIMAL(4,2))")
    any_con.execute("INSERT INTO t VALUES (1.5)")
    with pytest.raises(
        llkv.DataError, match=r"cannot convert 123.4 to DECIMAL\(4,2\): numeric overflow"
    ):
        any_con.execute("INSERT INTO t VALUES (2.5), (123.4)")
    with pytest.raises(llkv.DataError, match="numeric overflow"):
        any_con.execute("UPDATE t SET x = x * 100")
    with pytest.raises(llkv.DataError, match="not a number"):
        any_con.execute("INSERT INTO t VALUES ('cheap')")
    assert any_con.execute("SELECT x FROM t").column("x").to_pylist() == [Decimal("1.50")]


def test_invalid_decimal_types_are_programming_errors(con: llkv.Connection) -> None:
    with pytest.raises(llkv.ProgrammingError, match=r"precision must be 1\.\.=38"):
        con.execute("CREATE TABLE t (x DECIMAL(40,2))")
    with pytest.raises(llkv.ProgrammingError, match=r"scale 0\.\.=precision"):
        con.execute("SELECT CAST(1 AS NUMERIC(2,3))")


def test_decimal_columns_survive_reopen(db_path: Path) -> None:
    con = llkv.connect(db_path)
    con.execute("CREATE TABLE t (x NUMERIC(20,6))")
    con.execute("INSERT INTO t VALUES (?)", [Decimal("12345678901234.123456")])
    con.close()
    con = llkv.connect(db_path)
    table = con.execute("SELECT x FROM t")
    assert table.schema.field("x").type == pa.decimal128(20, 6)
    assert table.column("x").to_pylist() == [Decimal("12345678901234.123456")]
    assert "DECIMAL(20,6)" in con.execute("SELECT sql FROM sqlite_master").column(0)[0].as_py()
    con.close()


def test_arrow_and_parquet_decimals_load_as_decimals(con: llkv.Connection, tmp_path: Path) -> None:
    data = pa.table({"x": pa.array([Decimal("1.25"), None], pa.decimal128(7, 2))})
    assert con.insert_arrow("t", data, create=True) == 2
    assert con.execute("SELECT x FROM t").schema.field("x").type == pa.decimal128(7, 2)
    path = tmp_path / "d.parquet"
    pq.write_table(data, path)
    got = con.execute("SELECT sum(x) AS s FROM read_parquet(?)", [str(path)])
    assert got.column("s").to_pylist() == [Decimal("1.25")]
    con.register("view_t", data)
    assert con.execute("SELECT x * 2 AS y FROM view_t WHERE x IS NOT NULL").column(
        "y"
    ).to_pylist() == [Decimal("2.50")]


def test_pandas_sees_decimal_objects(con: llkv.Connection) -> None:
    cur = con.cursor()
    cur.execute("SELECT CAST('3.14' AS DECIMAL(3,2)) AS pi")
    frame = cur.df()
    assert frame["pi"].tolist() == [Decimal("3.14")]


def test_duckdb_dialect_reads_point_literals_as_decimals() -> None:
    duck = llkv.connect(dialect="duckdb")
    table = duck.execute("SELECT 0.1 + 0.2 AS s, 0.06 AS d, 1e3 AS f, 0.1 + 0.2 = 0.3 AS same")
    assert table.schema.field("d").type == pa.decimal128(3, 2)
    assert table.schema.field("f").type == pa.float64()
    assert table.to_pylist() == [
        {"s": Decimal("0.3"), "d": Decimal("0.06"), "f": 1000.0, "same": True}
    ]
    sqlite = llkv.connect()
    assert sqlite.execute("SELECT 0.06 AS d").schema.field("d").type == pa.float64()
    assert sqlite.execute("SELECT 0.1 + 0.2 = 0.3 AS same").to_pylist() == [{"same": False}]
