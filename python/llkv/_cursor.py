"""The PEP 249 cursor: rows as tuples, plus Arrow, pandas, polars and NumPy views.

A :class:`Cursor` comes from :meth:`Connection.cursor`. It runs statements
through the connection; a query's rows are computed by the engine one Arrow
record batch at a time as they are fetched, and converted to Python tuples
only as they are fetched.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast, final

import pyarrow as pa

from llkv._llkv import Connection, ProgrammingError, ResultStream
from llkv._result_set import ResultSet, to_rows

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

#: Rows a notebook shows of a result (:meth:`Cursor._repr_html_`).
_HTML_ROWS = 20


def _require(module: str, method: str) -> None:
    """Raise a helpful ImportError when the optional dependency ``module`` is missing."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"Cursor.{method}() requires {module}; install it with `pip install {module}`"
        ) from exc


def _rechunk(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """``batches`` cut into zero-copy slices of at most ``size`` rows."""
    for batch in batches:
        for start in range(0, batch.num_rows, size):
            yield batch if size >= batch.num_rows else batch.slice(start, size)


@final
class Cursor:
    """A PEP 249 cursor over a :class:`Connection`.

    Create one with :meth:`Connection.cursor`. :meth:`execute` runs a
    statement; a query's rows are then read with :meth:`fetchone`,
    :meth:`fetchmany`, :meth:`fetchall` or by iterating over the cursor, each
    row a tuple of plain Python values. A query's result is not computed
    up front: the engine produces it one Arrow record batch at a time as rows
    are fetched (the first batch during :meth:`execute`, so most errors are
    raised there), from the database state the query started in, whatever
    runs on the connection afterwards. Rows become tuples only as they are
    fetched.

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
        "_closed",
        "_connection",
        "_description",
        "_results",
        "_rowcount",
    )

    _connection: Connection
    _closed: bool
    _arraysize: int
    _results: ResultSet | None
    _description: tuple[_ColumnDescription, ...] | None
    _rowcount: int

    def __init__(self, connection: Connection) -> None:
        """Create a cursor on ``connection``; :meth:`Connection.cursor` calls this."""
        self._connection = connection
        self._closed = False
        self._arraysize = 1
        self._reset()

    def _reset(self) -> None:
        """Forget the previous statement's result (stopping its query)."""
        results = getattr(self, "_results", None)
        if results is not None:
            results.close()
        self._results = None
        self._description = None
        self._rowcount = -1

    def _check_open(self) -> None:
        """Raise ProgrammingError when the cursor or its connection is closed."""
        if self._closed:
            raise ProgrammingError("cannot operate on a closed cursor")
        if self._connection.closed:
            raise ProgrammingError("cannot operate on a closed connection")

    def _result(self) -> ResultSet:
        """The result set of the last statement; raise if closed or if there is none."""
        self._check_open()
        if self._results is None:
            raise ProgrammingError(
                "no result set: execute() a statement that returns rows before fetching"
            )
        return self._results

    def _run(self, sql: str, params: _Params | None) -> tuple[pa.Table | ResultStream, int]:
        """Execute one statement: its rows (a query's as a stream) and row count."""
        if isinstance(params, Mapping) and not isinstance(params, dict):
            params = dict(params)  # the native side takes named parameters as a dict
        return self._connection._execute_cursor(sql, params)

    def _set_result(self, source: pa.Table | ResultStream, rowcount: int) -> None:
        """Keep ``source`` as the result set if the statement produced one."""
        # INSERT, UPDATE and DELETE report their row count in a `count` column
        # that is not a result set; DDL returns a table without columns.
        if isinstance(source, pa.Table) and (rowcount >= 0 or source.num_columns == 0):
            return
        results = ResultSet(source)
        self._results = results
        results.start()

    # -- PEP 249 attributes ---------------------------------------------------

    @property
    def description(self) -> tuple[_ColumnDescription, ...] | None:
        """The result columns, or None when the last statement returned no rows.

        One 7-item tuple per column: ``(name, type_code, None, None, None,
        None, None)`` where ``type_code`` is the column's ``pyarrow.DataType``.
        """
        if self._description is None and self._results is not None:
            # Built on first use: most point queries never ask.
            self._description = tuple(
                (field.name, field.type, None, None, None, None, None)
                for field in self._results.schema
            )
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
        source, rowcount = self._run(sql, params)
        self._rowcount = rowcount
        self._set_result(source, rowcount)
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
        last: tuple[pa.Table | ResultStream, int] | None = None
        for params in seq_of_params:
            if isinstance(last, tuple) and isinstance(last[0], ResultStream):
                last[0].close()
            last = self._run(sql, params)
            rowcount = last[1]
            total = total + rowcount if total >= 0 and rowcount >= 0 else -1
        if last is not None:
            self._rowcount = total
            self._set_result(last[0], last[1])
        return self

    def close(self) -> None:
        """Close the cursor and release its result (stopping a query still
        being read); closing again does nothing.

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
        return self._result().fetchone()

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """The next ``size`` rows (default :attr:`arraysize`) as a list of tuples.

        Fewer rows are returned when fewer remain; an empty list when none do.
        """
        results = self._result()
        if size is None:
            size = self._arraysize
        elif size < 0:
            raise ValueError(f"fetchmany() size must not be negative, got {size}")
        return results.fetchmany(size)

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All remaining rows as a list of tuples."""
        return self._result().fetchmany(None)

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
        return self._result().table()

    def arrow(self) -> pa.Table:
        """The remaining rows as a ``pyarrow.Table``, and mark them fetched.

        The table's chunks are the engine's record batches, without a copy
        (the first one sliced past the rows already fetched).
        """
        return self._take_remaining()

    def fetch_record_batch(self, rows_per_batch: int = 1_000_000) -> pa.RecordBatchReader:
        """The remaining rows as a ``pyarrow.RecordBatchReader``, and mark them fetched.

        The reader streams: the engine computes each batch when the reader
        asks for it, so a large result is never held whole. Each batch holds
        at most ``rows_per_batch`` rows (zero-copy slices of the engine's
        batches, so one may be shorter where an engine batch ends). The
        reader keeps working after the cursor moves on or is closed.
        """
        if isinstance(rows_per_batch, bool) or not isinstance(rows_per_batch, int):
            raise TypeError(f"rows_per_batch must be an int, got {type(rows_per_batch).__name__}")
        if rows_per_batch < 1:
            raise ValueError(f"rows_per_batch must be at least 1, got {rows_per_batch}")
        results = self._result()
        return pa.RecordBatchReader.from_batches(
            results.schema, _rechunk(results.take_batches(), rows_per_batch)
        )

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
        directly, batch by batch as the engine computes it.
        """
        return self.fetch_record_batch().__arrow_c_stream__(requested_schema)

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
        (NULL for missing values) and how many rows remain, when that is
        known without computing more of the result; showing fetches nothing.
        None (plain ``repr``) without a result set, or when computing the
        first rows failed (the fetch that reaches the error raises it).
        """
        if self._closed or self._connection.closed or self._results is None:
            return None
        head = self._results.head(_HTML_ROWS)
        if head is None:
            return None
        shown_table, count = head
        shown = to_rows(shown_table)
        head_cells = "".join(
            f"<th>{html.escape(field.name)}<br><small>{html.escape(str(field.type))}</small></th>"
            for field in shown_table.schema
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
        if count is None:
            summary = f"first {len(shown)} rows; more follow"
        else:
            more = f", {count - len(shown)} not shown" if count > len(shown) else ""
            summary = f"{count} {'row' if count == 1 else 'rows'}{more}"
        return (
            f"<table><thead><tr>{head_cells}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>{summary}</p>"
        )
