"""Type stubs for the native module ``llkv._llkv`` (Rust, via PyO3)."""

import datetime
import decimal
import os
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any, Literal, TypeAlias, final

import numpy as np
import pyarrow as pa

from llkv._cursor import Cursor

__all__ = [
    "Connection",
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "ResultStream",
    "TransactionConflictError",
    "Warning",
    "connect",
    "split_sql",
]

#: A value that can be bound to a placeholder.
_ParamValue: TypeAlias = (
    bool
    | int
    | float
    | str
    | bytes
    | bytearray
    | memoryview
    | decimal.Decimal
    | datetime.date
    | np.generic
    | None
)
#: Parameters: a sequence for ``?``, ``?NNN`` and ``$NNN`` placeholders, a dict
#: for named ``:name`` placeholders.
_Params: TypeAlias = Sequence[_ParamValue] | dict[str, _ParamValue]

@final
class Connection:
    """A connection to an llkv database.

    Statements run in autocommit mode unless a transaction is opened with
    ``BEGIN``; end it with :meth:`commit` / :meth:`rollback` (or ``COMMIT`` /
    ``ROLLBACK``). As a context manager (``with llkv.connect(path) as con:``)
    it commits an open transaction when the block succeeds, rolls it back when
    the block raises, and closes the connection.
    """

    def execute(self, sql: str, params: _Params | None = None) -> pa.Table:
        """Execute SQL with its placeholders bound from ``params``.

        ``sql`` is one statement, or several separated by ``;`` (the result of
        the last is returned). ``params`` is a list or tuple of None, bool,
        int, float, str, bytes, ``decimal.Decimal`` (DECIMAL, keeping its
        digits), ``datetime.date`` (DATE) or
        ``datetime.datetime`` (TIMESTAMP; an aware one is converted to UTC)
        for ``?``, ``?NNN`` and ``$NNN`` placeholders, or a dict of them for
        named ``:name`` placeholders.
        Returns a ``pyarrow.Table``: the rows of a query; for INSERT, UPDATE
        and DELETE one int64 column ``count`` holding the number of rows
        affected; an empty table for other statements. The GIL is released
        while the statement runs.
        """

    def _execute_cursor(
        self, sql: str, params: _Params | None = None
    ) -> tuple[pa.Table | ResultStream, int]:
        """Private hook of :class:`Cursor`: execute like :meth:`execute`, except
        that a single query returns a :class:`ResultStream` that computes its
        rows as they are read, and also return the PEP 249 row count (rows
        changed by INSERT, UPDATE or DELETE without RETURNING; -1 for
        anything else)."""

    def insert_arrow(self, table: str, data: object, create: bool = False) -> int:
        """Append Arrow data to ``table`` by column name; return the rows added.

        The fast way to load data. ``data`` is anything that exports Arrow:
        a pyarrow Table, RecordBatch or RecordBatchReader, a pandas or polars
        DataFrame, or any object with ``__arrow_c_stream__`` /
        ``__arrow_c_array__``. Columns missing from ``data`` get their
        defaults; integer, float, string, binary, boolean, date and timestamp
        Arrow types are widened to the column type (timestamps to
        microseconds; one with a time zone becomes UTC). With ``create=True`` a missing table is
        created from the data's schema. Rows are checked like INSERT rows
        (``IntegrityError``, ``DataError``) and land in the open transaction,
        or commit on their own; on error nothing is added.
        """

    def register(self, name: str, data: object) -> None:
        """Make Arrow data queryable as the read-only table ``name``.

        ``data`` is anything :meth:`insert_arrow` takes. Columns of types llkv
        computes on (int64, float64, string, bool, binary, date32,
        timestamp[us]) are read in place, without a copy; other integer,
        float, string, binary, date and timestamp types are widened. The
        registration belongs to this connection and shadows a stored table of
        the same name until :meth:`unregister`.
        """

    def unregister(self, name: str) -> None:
        """Forget a registration; ``ProgrammingError`` if there is none."""

    def cursor(self) -> Cursor:
        """A new PEP 249 :class:`Cursor` on this connection.

        Raises ``ProgrammingError`` when the connection is closed.
        """

    def executemany(self, sql: str, seq_of_params: Iterable[_Params]) -> Cursor:
        """Run ``sql`` once per parameter set (as ``sqlite3`` does) on a new
        cursor, which is returned."""

    def _execute_debug_addresses(
        self, sql: str, params: Sequence[_ParamValue] | None = None
    ) -> tuple[pa.Table, list[int]]:
        """Private debug hook: execute ``sql`` and also return the data-buffer
        address of the first column of each result batch, taken on the Rust side
        before export (to test that results reach pyarrow without a copy)."""

    def commit(self) -> None:
        """Commit the open transaction; do nothing when none is open.

        A commit that loses to a concurrent transaction raises
        ``TransactionConflictError`` and rolls the transaction back.
        """

    def rollback(self) -> None:
        """Roll the open transaction back; do nothing when none is open."""

    def duplicate(self) -> Connection:
        """A new connection to the same database with its own transaction.

        For an in-memory database this is the way to a second connection.
        It follows the same dialect as this one, and has file access only
        if this one has.
        """

    def interrupt(self) -> None:
        """Stop the statement running on this connection (call it from
        another thread).

        The statement fails with ``OperationalError("interrupted")``, its
        changes are undone and the connection stays usable; with no
        statement running this does nothing. Ctrl-C (SIGINT) in the main
        thread stops a running statement the same way and raises
        ``KeyboardInterrupt``.
        """

    def close(self) -> None:
        """Close the connection; an open transaction is rolled back.

        Closing an already closed connection does nothing. Any other use of a
        closed connection raises ``ProgrammingError``.
        """

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""

    @property
    def in_transaction(self) -> bool:
        """True while an explicit transaction (``BEGIN``) is open."""

    def __enter__(self) -> Connection:
        """Return the connection itself; raise ProgrammingError when it is closed."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        """Commit (or, if the block raised, roll back) an open transaction,
        then close the connection; exceptions propagate."""

@final
class ResultStream:
    """The rows of a query, read one Arrow record batch at a time.

    Made by :meth:`Cursor.execute`; the batches come from the state the query
    started in, whatever runs on the connection afterwards.
    """

    @property
    def schema(self) -> pa.Schema:
        """The schema of the result."""

    def read_next(self) -> pa.RecordBatch | None:
        """The next batch of rows (never empty, no copy), or None once all were
        read. An error ends the stream."""

    @property
    def native_rows(self) -> bool:
        """True when :meth:`fetch_rows` can convert this result's columns
        (NULL, BOOLEAN, BIGINT, DOUBLE, TEXT and BLOB ones)."""

    def fetch_rows(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """The next ``size`` rows (all remaining ones for None) as tuples
        built without pyarrow; fewer at the end. Only when :attr:`native_rows`."""

    def close(self) -> None:
        """Stop the query and release what it holds; closing again does nothing."""

    @property
    def closed(self) -> bool:
        """True once the stream is done, failed or closed."""

def split_sql(sql: str) -> list[str]:
    """Split SQL text into its statements, each rendered back as SQL.

    Uses llkv's own parser, so ``;`` inside strings, comments and trigger
    bodies do not split; raises ``ProgrammingError`` on a syntax error.
    """

def connect(
    path: str | os.PathLike[str] | None = None,
    synchronous: Literal["full", "normal", "off"] | None = None,
    dialect: Literal["sqlite", "duckdb"] | None = None,
    allow_file_access: bool = True,
    memory_limit: int | str | None = None,
) -> Connection:
    """Open a connection to an llkv database.

    ``path`` names a database file, created if absent; None or ``":memory:"``
    opens a new private in-memory database; ``":memory:NAME"`` opens the
    in-memory database NAME shared by all its connections in this process.
    Connections to the same file in one process share one database (each has
    its own transaction). Raises ``OperationalError`` when the file cannot be
    opened or another process holds it.

    ``synchronous`` sets, for the whole database, how hard a commit works to
    reach stable storage (also ``PRAGMA synchronous = ...``): ``"full"`` (the
    default) fsyncs so that a commit survives power loss; ``"normal"`` keeps
    commits atomic and the file consistent, but a power loss may drop the
    most recent commits; ``"off"`` never fsyncs, so a power loss may corrupt
    the file. A process crash loses no commit in any mode.

    ``dialect`` chooses whose semantics this connection follows where SQLite
    and DuckDB differ (also ``PRAGMA dialect = ...``): ``"sqlite"`` (the
    default) or ``"duckdb"``, under which a failed statement aborts the
    open transaction until ROLLBACK, ``INSERT OR REPLACE`` updates the
    conflicting row in place, ``ON CONFLICT DO UPDATE`` must name its
    target when the table has several unique keys, and a number literal
    with a point (``0.06``) is an exact DECIMAL rather than a DOUBLE.

    With ``allow_file_access=False`` no statement on this connection (nor on
    its ``duplicate()``s) can read or write files: ``read_parquet``,
    ``read_csv`` and ``COPY`` raise ``ProgrammingError``, and no SQL turns
    access back on.

    ``memory_limit`` (bytes as an int, or a size such as ``"512MB"`` or
    ``"2GiB"``) bounds what a statement's sorts, hash joins, aggregations,
    window functions and set operations may buffer; a statement over it
    raises ``OperationalError``. Also ``PRAGMA memory_limit = ...``.
    """

class Warning(Exception):
    """Important warnings, such as data truncation (PEP 249)."""

class Error(Exception):
    """Base class of every llkv error (PEP 249)."""

class InterfaceError(Error):
    """Misuse of the database interface rather than of the database (PEP 249)."""

class DatabaseError(Error):
    """Errors related to the database; also raised for corrupt database files."""

class DataError(DatabaseError):
    """Bad values: numeric overflow, failed casts, division problems."""

class OperationalError(DatabaseError):
    """I/O, locking and database-state problems outside the programmer's control."""

class IntegrityError(DatabaseError):
    """A constraint was violated (NOT NULL, UNIQUE, PRIMARY KEY, FOREIGN KEY, CHECK)."""

class InternalError(DatabaseError):
    """A bug in llkv, including a caught Rust panic; please report it."""

class ProgrammingError(DatabaseError):
    """Syntax errors, unknown tables or columns, wrong parameter counts, closed connections."""

class NotSupportedError(DatabaseError):
    """Valid SQL or a parameter type that llkv does not support (yet)."""

class TransactionConflictError(OperationalError):
    """A write-write conflict with a concurrent transaction; retry the transaction."""
