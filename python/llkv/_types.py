"""PEP 249 type objects and constructors.

The constructors build the Python values llkv binds to placeholders
(``Date`` → DATE, ``Timestamp`` → TIMESTAMP, ``Binary`` → BLOB). The type
objects compare equal to the type codes in :attr:`Cursor.description`,
which are ``pyarrow.DataType``\\ s: ``cur.description[0][1] == llkv.NUMBER``.
"""

from __future__ import annotations

import datetime
import time

import pyarrow as pa

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Date",
    "DateFromTicks",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
]

#: PEP 249: a DATE value.
Date = datetime.date
#: PEP 249: a time-of-day value (llkv has no TIME column type yet, so
#: binding one raises ``NotSupportedError``).
Time = datetime.time
#: PEP 249: a TIMESTAMP value.
Timestamp = datetime.datetime


def DateFromTicks(ticks: float) -> datetime.date:
    """The local date of ``ticks`` seconds since the epoch."""
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:
    """The local time of day of ``ticks`` seconds since the epoch."""
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:
    """The local date and time of ``ticks`` seconds since the epoch."""
    return Timestamp(*time.localtime(ticks)[:6])


def Binary(data: bytes | bytearray | memoryview) -> bytes:
    """A BLOB value."""
    return bytes(data)


class DBAPITypeObject:
    """A PEP 249 type object: equal to every Arrow type of its class."""

    def __init__(self, name: str, *checks: str) -> None:
        self._name = name
        # Older pyarrow lacks some predicates (is_string_view): skip those.
        found = (getattr(pa.types, check, None) for check in checks)
        self._checks = [check for check in found if check is not None]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return other is self
        if isinstance(other, pa.DataType):
            return any(check(other) for check in self._checks)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f"llkv.{self._name}"


#: Text columns.
STRING = DBAPITypeObject("STRING", "is_string", "is_large_string", "is_string_view")
#: BLOB columns.
BINARY = DBAPITypeObject("BINARY", "is_binary", "is_large_binary", "is_fixed_size_binary")
#: Integer, real, DECIMAL and BOOLEAN columns.
NUMBER = DBAPITypeObject("NUMBER", "is_integer", "is_floating", "is_decimal", "is_boolean")
#: DATE and TIMESTAMP columns.
DATETIME = DBAPITypeObject("DATETIME", "is_date", "is_timestamp", "is_time")
#: Row id columns: llkv exposes none, so nothing compares equal to it.
ROWID = DBAPITypeObject("ROWID")
