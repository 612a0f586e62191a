"""llkv: an embedded, Arrow-native SQL database.

Open a database with :func:`connect` and run SQL with
:meth:`Connection.execute`; every result is a ``pyarrow.Table``::

    import llkv

    with llkv.connect("shop.llkv") as con:  # or llkv.connect() for in-memory
        con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        con.execute("INSERT INTO t VALUES (?, ?)", [1, "x"])
        table = con.execute("SELECT a, b FROM t WHERE a > ?", [0])

For the PEP 249 interface, :meth:`Connection.cursor` returns a
:class:`Cursor` that fetches rows as tuples (or as Arrow, pandas, polars or
NumPy data)::

    cur = con.cursor()
    rows = cur.execute("SELECT a, b FROM t").fetchall()  # [(1, 'x')]

Errors are raised as the PEP 249 exception classes exported here
(:class:`ProgrammingError`, :class:`IntegrityError`, ...).
"""

from importlib.metadata import PackageNotFoundError, version

from llkv._cursor import Cursor
from llkv._llkv import (
    Connection,
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    TransactionConflictError,
    Warning,
    connect,
    split_sql,
)
from llkv._types import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)

try:
    __version__: str = version("llkv")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

#: PEP 249: the DB-API level this module follows.
apilevel = "2.0"
#: PEP 249: threads may share the module but not connections.
threadsafety = 1
#: PEP 249: parameters are ``?`` placeholders bound from a list or tuple.
paramstyle = "qmark"

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "TransactionConflictError",
    "Warning",
    "__version__",
    "apilevel",
    "connect",
    "paramstyle",
    "split_sql",
    "threadsafety",
]
