"""The PEP 249 cursor: rows as tuples, plus Arrow, pandas, polars and NumPy views.

A :class:`Cursor` comes from :meth:`Connection.cursor`. It runs statements
through the connection and keeps the result as a ``pyarrow.Table``; rows are
converted to Python tuples only as they are fetched, one slice at a time.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast, final

import pyarrow as pa

from llkv._llkv import Connection, ProgrammingError

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas
    import polars

__all__ = ["Cursor"]

if TYPE_CHECKING:
    #: A value that can be bound to a placeholder: the stub's definition.
    from llkv._llkv import _ParamValue

    #: Statement parameters: a sequence for ``?``, ``?NNN`` and ``$NNN``
    #: placeholders, a mapping for named ones (``:name``).
    _Params: TypeAlias = Sequence[_ParamValue] | Mapping[str, _ParamValue]
#: One entry of :attr:`Cursor.description`.
_ColumnDescription: TypeAlias = tuple[str, pa.DataType, None, None, None, None, None]

#: Rows converted ahead at a time by :meth:`Cursor.fetchone` and iteration.
_ROW_CHUNK = 1024

#: Rows a notebook shows of a result (:meth:`Cursor._repr_html_`).
_HTML_ROWS = 20


def _to_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """Convert ``table`` to a list of row tuples, one column at a time."""
    columns = [column.to_pylist() for column in table.columns]
    return list(zip(*columns, strict=True))


def _require(module: str, method: str) -> None:
    """Raise a helpful ImportError when the optional dependency ``module`` is missing."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"Cursor.{method}() requires {module}; install it with `pip install {module}`"
        ) from exc


@final
class Cursor:
    """A PEP 249 cursor over a :class:`Connection`.

    Create one with :meth:`Connection.cursor`. :meth:`execute` runs a
    statement; a query's rows are then read with :meth:`fetchone`,
    :meth:`fetchmany`, :meth:`fetchall` or by iterating over the cursor, each
    row a tuple of plain Python values. The result is held as a
    ``pyarrow.Table`` and converted to tuples lazily, only as rows are fetched.

    The remaining (not yet fetched) rows can also be taken all at once as
    Arrow data (:meth:`arrow`, :meth:`fetch_record_batch`, the Arrow PyCapsule
    stream interface), as a pandas or polars DataFrame (:meth:`df`,
    :meth:`pl`) or as NumPy arrays (:meth:`fetchnumpy`). Like
    :meth:`fetchall`, these consume the rows they return.

    Fetching when the last statement produced no result set (DDL, INSERT,
    UPDATE, DELETE without RETURNING, or no statement yet) raises
    ``ProgrammingError``, as does any use of a closed cursor, or of a cursor
    whose connection is closed. As a context manager
    (``with con.cursor() as cur:``) the cursor is closed at the end of the block.
    """

    __slots__ = (
        "_arraysize",
        "_buffer",
        "_buffer_start",
        "_closed",
        "_connection",
        "_description",
        "_position",
        "_rowcount",
        "_table",
    )

    _connection: Connection
    _closed: bool
    _arraysize: int
    _table: pa.Table | None
    _description: tuple[_ColumnDescription, ...] | None
    _rowcount: int
    _position: int
    _buffer: list[tuple[Any, ...]]
    _buffer_start: int

    def __init__(self, connection: Connection) -> None:
        """Create a cursor on ``connection``; :meth:`Connection.cursor` calls this."""
        self._connection = connection
        self._closed = False
        self._arraysize = 1
        self._reset()

    def _reset(self) -> None:
        """Forget the previous statement's result."""
        self._table = None
        self._description = None
        self._rowcount = -1
        self._position = 0
        # Rows converted ahead by fetchone(); _buffer[i] is row _buffer_start + i.
        self._buffer = []
        self._buffer_start = 0

    def _check_open(self) -> None:
        """Raise ProgrammingError when the cursor or its connection is closed."""
        if self._closed:
            raise ProgrammingError("cannot operate on a closed cursor")
        if self._connection.closed:
            raise ProgrammingError("cannot operate on a closed connection")

    def _result(self) -> pa.Table:
        """The result set of the last statement; raise if closed or if there is none."""
        self._check_open()
        if self._table is None:
            raise ProgrammingError(
                "no result set: execute() a statement that returns rows before fetching"
            )
        return self._table

    def _run(self, sql: str, params: _Params | None) -> tuple[pa.Table, int]:
        """Execute one statement and return its result table and row count."""
        if isinstance(params, Mapping) and not isinstance(params, dict):
            params = dict(params)  # the native side takes named parameters as a dict
        return self._connection._execute_cursor(sql, params)

    def _set_result(self, table: pa.Table, rowcount: int) -> None:
        """Keep ``table`` as the result set if the statement produced one."""
        # INSERT, UPDATE and DELETE report their row count in a `count` column
        # that is not a result set; DDL returns a table without columns.
        if rowcount < 0 and table.num_columns > 0:
            self._table = table
            self._description = tuple(
                (field.name, field.type, None, None, None, None, None) for field in table.schema
            )

    # -- PEP 249 attributes ---------------------------------------------------

    @property
    def description(self) -> tuple[_ColumnDescription, ...] | None:
        """The result columns, or None when the last statement returned no rows.

        One 7-item tuple per column: ``(name, type_code, None, None, None,
        None, None)`` where ``type_code`` is the column's ``pyarrow.DataType``.
        """
        return self._description

    @property
    def rowcount(self) -> int:
        """Rows changed by the last INSERT, UPDATE or DELETE; -1 otherwise.

        After :meth:`executemany` this is the total over all parameter sets.
        It is -1 before any statement, for queries (including DML with
        RETURNING) and for other statements such as DDL.
        """
        return self._rowcount

    @property
    def arraysize(self) -> int:
        """The number of rows :meth:`fetchmany` returns by default (initially 1)."""
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"arraysize must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"arraysize must be at least 1, got {value}")
        self._arraysize = value

    @property
    def lastrowid(self) -> None:
        """Always None: llkv tables have no implicit row id to report.

        Use ``INSERT ... RETURNING`` to get values of the inserted rows.
        """
        return None

    @property
    def connection(self) -> Connection:
        """The connection this cursor was created from."""
        return self._connection

    @property
    def closed(self) -> bool:
        """True once the cursor, or the connection it belongs to, is closed."""
        return self._closed or self._connection.closed

    # -- Running statements -----------------------------------------------------

    def execute(self, sql: str, params: _Params | None = None) -> Cursor:
        """Execute ``sql`` with its placeholders bound from ``params``.

        ``params`` is a list or tuple for ``?``, ``?NNN`` and ``$NNN``
        placeholders, or a dict (any mapping) for named ``:name``
        placeholders. Any rows
        not fetched from the previous statement are discarded. Returns the
        cursor itself, so that ``cur.execute(sql).fetchall()`` works.
        """
        self._check_open()
        self._reset()
        table, rowcount = self._run(sql, params)
        self._rowcount = rowcount
        self._set_result(table, rowcount)
        return self

    def executemany(self, sql: str, seq_of_params: Iterable[_Params]) -> Cursor:
        """Execute ``sql`` once for each parameter set in ``seq_of_params``.

        :attr:`rowcount` becomes the total number of rows changed (or -1 if
        any execution was not an INSERT, UPDATE or DELETE, or if
        ``seq_of_params`` is empty). If the statement returns rows, the result
        set is that of the last execution. Returns the cursor itself.
        """
        self._check_open()
        self._reset()
        total = 0
        last: tuple[pa.Table, int] | None = None
        for params in seq_of_params:
            last = self._run(sql, params)
            rowcount = last[1]
            total = total + rowcount if total >= 0 and rowcount >= 0 else -1
        if last is not None:
            self._rowcount = total
            self._set_result(last[0], last[1])
        return self

    def close(self) -> None:
        """Close the cursor and release its result; closing again does nothing.

        Any later use of the cursor raises ``ProgrammingError``. The
        connection stays open.
        """
        self._closed = True
        self._reset()

    def setinputsizes(self, sizes: object) -> None:
        """Do nothing (PEP 249 lets implementations ignore this hint)."""
        self._check_open()

    def setoutputsize(self, size: int, column: int | None = None) -> None:
        """Do nothing (PEP 249 lets implementations ignore this hint)."""
        self._check_open()

    # -- Fetching rows as tuples ------------------------------------------------

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row as a tuple, or None when no rows remain."""
        table = self._result()
        index = self._position - self._buffer_start
        if index >= len(self._buffer):
            if self._position >= table.num_rows:
                return None
            self._buffer = _to_rows(table.slice(self._position, _ROW_CHUNK))
            self._buffer_start = self._position
            index = 0
        self._position += 1
        return self._buffer[index]

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """The next ``size`` rows (default :attr:`arraysize`) as a list of tuples.

        Fewer rows are returned when fewer remain; an empty list when none do.
        """
        table = self._result()
        if size is None:
            size = self._arraysize
        elif size < 0:
            raise ValueError(f"fetchmany() size must not be negative, got {size}")
        return self._take(table, min(self._position + size, table.num_rows))

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All remaining rows as a list of tuples."""
        table = self._result()
        return self._take(table, table.num_rows)

    def _take(self, table: pa.Table, stop: int) -> list[tuple[Any, ...]]:
        """Rows from the current position up to ``stop``; advance past them."""
        start = self._position
        buffered_stop = self._buffer_start + len(self._buffer)
        rows: list[tuple[Any, ...]] = []
        if start < buffered_stop:
            end = min(stop, buffered_stop)
            rows = self._buffer[start - self._buffer_start : end - self._buffer_start]
            start = end
        if start < stop:
            rows.extend(_to_rows(table.slice(start, stop - start)))
        self._position = stop
        if stop >= buffered_stop:
            self._buffer = []
            self._buffer_start = stop
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        """Return the cursor itself: iterating yields the remaining rows."""
        self._check_open()
        return self

    def __next__(self) -> tuple[Any, ...]:
        """The next row as a tuple; StopIteration when no rows remain."""
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    # -- Fetching rows as Arrow, DataFrames and arrays --------------------------

    def _take_remaining(self) -> pa.Table:
        """The rows not fetched yet, as a table (zero copy); they count as fetched."""
        table = self._result()
        remaining = table if self._position == 0 else table.slice(self._position)
        self._position = table.num_rows
        self._buffer = []
        self._buffer_start = table.num_rows
        return remaining

    def arrow(self) -> pa.Table:
        """The remaining rows as a ``pyarrow.Table``, and mark them fetched.

        For a result nothing has been fetched from yet this is the table the
        engine produced, without a copy; otherwise a zero-copy slice of it.
        """
        return self._take_remaining()

    def fetch_record_batch(self, rows_per_batch: int = 1_000_000) -> pa.RecordBatchReader:
        """The remaining rows as a ``pyarrow.RecordBatchReader``, and mark them fetched.

        Each batch holds at most ``rows_per_batch`` rows (batches are zero-copy
        slices of the result, so one may be shorter where the result's own
        chunks end).
        """
        if rows_per_batch < 1:
            raise ValueError(f"rows_per_batch must be at least 1, got {rows_per_batch}")
        remaining = self._take_remaining()
        batches = remaining.to_batches(max_chunksize=rows_per_batch)
        return pa.RecordBatchReader.from_batches(remaining.schema, batches)

    def df(self) -> pandas.DataFrame:
        """The remaining rows as a pandas DataFrame, and mark them fetched.

        Requires pandas (``pip install pandas``); raises ImportError otherwise.
        """
        _require("pandas", "df")
        return cast("pandas.DataFrame", self._take_remaining().to_pandas())

    def pl(self) -> polars.DataFrame:
        """The remaining rows as a polars DataFrame, and mark them fetched.

        Requires polars (``pip install polars``); raises ImportError otherwise.
        """
        _require("polars", "pl")
        import polars

        # A Table always becomes a DataFrame (only an Array becomes a Series).
        return cast("polars.DataFrame", polars.from_arrow(self._take_remaining()))

    def fetchnumpy(self) -> dict[str, npt.NDArray[Any]]:
        """The remaining rows as one NumPy array per column, and mark them fetched.

        Numeric columns become arrays of the matching dtype (int64, float64,
        ...); strings and other values become object arrays. Columns with nulls
        become float (NaN) or object (None) arrays, as ``pyarrow`` converts them.
        """
        _require("numpy", "fetchnumpy")
        remaining = self._take_remaining()
        arrays: dict[str, npt.NDArray[Any]] = {}
        for name, column in zip(remaining.column_names, remaining.columns, strict=True):
            arrays[name] = column.to_numpy(zero_copy_only=False)
        return arrays

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Export the remaining rows as an Arrow C stream PyCapsule, and mark them fetched.

        This is the Arrow PyCapsule interface, so ``pyarrow.table(cur)``,
        ``polars.DataFrame(cur)`` and other Arrow consumers read the result
        directly.
        """
        return self._take_remaining().__arrow_c_stream__(requested_schema)

    # -- Context manager and repr ------------------------------------------------

    def __enter__(self) -> Cursor:
        """Return the cursor itself."""
        self._check_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        """Close the cursor; exceptions propagate."""
        self.close()
        return False

    def __repr__(self) -> str:
        """``<llkv.Cursor>``, or ``<llkv.Cursor (closed)>`` once closed."""
        return "<llkv.Cursor (closed)>" if self.closed else "<llkv.Cursor>"

    def _repr_html_(self) -> str | None:
        """The rows not fetched yet as an HTML table, for Jupyter.

        Shows the column names and types and the first 20 remaining rows
        (NULL for missing values) and says how many rows there are; showing
        fetches nothing. None (plain ``repr``) without a result set.
        """
        if self._closed or self._connection.closed or self._table is None:
            return None
        remaining = self._table.slice(self._position)
        shown = _to_rows(remaining.slice(0, _HTML_ROWS))
        head = "".join(
            f"<th>{html.escape(field.name)}<br><small>{html.escape(str(field.type))}</small></th>"
            for field in remaining.schema
        )
        body = "".join(
            "<tr>"
            + "".join(
                "<td><i>NULL</i></td>" if value is None else f"<td>{html.escape(str(value))}</td>"
                for value in row
            )
            + "</tr>"
            for row in shown
        )
        count = remaining.num_rows
        more = f", {count - len(shown)} not shown" if count > len(shown) else ""
        noun = "row" if count == 1 else "rows"
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>{count} {noun}{more}</p>"
        )
