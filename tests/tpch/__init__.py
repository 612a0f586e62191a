"""TPC-H for the tests: a data generator, the 22 queries and DuckDB's answers."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERIES = HERE / "queries"
ANSWERS = HERE / "answers"
SCALE = 0.1
"""The scale factor the checked-in answers were computed at."""


def to_json_value(value: object) -> object:
    """A result value as JSON: dates as ISO strings, decimals as floats."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value
