"""DATE and TIMESTAMP values between Python, Arrow and SQL."""

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import llkv


def test_date_and_datetime_parameters_round_trip(any_con: llkv.Connection) -> None:
    any_con.execute("CREATE TABLE ev (d DATE, ts TIMESTAMP)")
    day = dt.date(2024, 2, 29)
    moment = dt.datetime(2023, 12, 25, 23, 59, 59, 500_000)
    any_con.execute("INSERT INTO ev VALUES (?, ?)", [day, moment])
    table = any_con.execute("SELECT d, ts, d + 1 AS next_day FROM ev")
    assert table.schema.field("d").type == pa.date32()
    assert table.schema.field("ts").type == pa.timestamp("us")
    assert table.to_pylist() == [{"d": day, "ts": moment, "next_day": dt.date(2024, 3, 1)}]
    cur = any_con.cursor()
    cur.execute("SELECT d, ts FROM ev WHERE d = ? AND ts > ?", [day, dt.datetime(2023, 1, 1)])
    assert cur.fetchone() == (day, moment)


def test_an_aware_datetime_is_stored_as_utc(con: llkv.Connection) -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))
    local = dt.datetime(2024, 1, 1, 12, 0, tzinfo=berlin)
    got = con.execute("SELECT CAST(? AS TIMESTAMP) AS t", [local]).column("t").to_pylist()
    assert got == [dt.datetime(2024, 1, 1, 11, 0)]


def test_text_that_is_no_date_is_a_data_error(con: llkv.Connection) -> None:
    con.execute("CREATE TABLE ev (d DATE)")
    with pytest.raises(llkv.DataError, match="DATE"):
        con.execute("INSERT INTO ev VALUES ('2023-02-29')")
    with pytest.raises(llkv.DataError, match="invalid or out-of-range date"):
        con.execute("SELECT CAST('soon' AS DATE)")
    with pytest.raises(llkv.DataError, match="cannot compare DATE with INTEGER"):
        con.execute("SELECT DATE '2024-01-01' = 1")
    assert con.execute("SELECT count(*) AS n FROM ev").to_pylist() == [{"n": 0}]


def test_arrow_dates_and_zoned_timestamps_load(tmp_path: Path) -> None:
    con = llkv.connect(tmp_path / "t.llkv")
    data = pa.table(
        {
            "d": pa.array([dt.date(2024, 1, 31), None], pa.date32()),
            "ts": pa.array(
                [dt.datetime(2024, 1, 31, 10, 0), dt.datetime(2024, 7, 1, 0, 0)],
                pa.timestamp("ns", tz="UTC"),
            ).cast(pa.timestamp("ns", tz="Europe/Berlin")),
        }
    )
    assert con.insert_arrow("ev", data, create=True) == 2
    con.close()
    con = llkv.connect(tmp_path / "t.llkv")
    rows = con.execute("SELECT d, ts FROM ev ORDER BY ts").to_pylist()
    # The instant is kept (stored as UTC), not the Berlin wall-clock time.
    assert rows == [
        {"d": dt.date(2024, 1, 31), "ts": dt.datetime(2024, 1, 31, 10, 0)},
        {"d": None, "ts": dt.datetime(2024, 7, 1, 0, 0)},
    ]
    con.close()


def test_numpy_and_pandas_missing_times_bind(con: llkv.Connection) -> None:
    import numpy as np

    ns = np.datetime64("2024-01-01T10:00:00.123456789")
    params: list[Any] = [ns, pd.NaT]
    got = con.execute("SELECT CAST(? AS TIMESTAMP) AS t, ? AS missing", params)
    assert got.to_pylist() == [{"t": dt.datetime(2024, 1, 1, 10, 0, 0, 123456), "missing": None}]


def test_pandas_datetimes_group_by_month(con: llkv.Connection) -> None:
    frame = pd.DataFrame(
        {
            "at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03", "2024-03-09"]),
            "amount": [10, 20, 5, 7],
        }
    )
    con.register("sales", frame)
    got = con.execute(
        "SELECT date_trunc('month', at) AS month, sum(amount) AS total "
        "FROM sales GROUP BY 1 ORDER BY 1"
    ).to_pandas()
    expected = (
        frame.groupby(frame["at"].dt.to_period("M").dt.start_time)["amount"].sum().reset_index()
    )
    assert got["month"].tolist() == expected["at"].tolist()
    assert got["total"].tolist() == expected["amount"].tolist()
