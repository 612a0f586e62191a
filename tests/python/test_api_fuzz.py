"""Python API fuzzing (hypothesis): random sequences of connect, execute,
executemany, fetch (rows, Arrow tables, streamed record batches, pandas),
insert_arrow and register of random Arrow data, commit, rollback, interrupt
and close on several connections to one database file, with random
parameters. Nothing may crash or hang, every error must be a PEP 249 class
(never InternalError, which means an engine bug), and afterwards the
reopened file must pass PRAGMA integrity_check. Seeded (derandomized) so a
failure reproduces."""

import datetime
import tempfile
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pyarrow as pa
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import llkv

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, s TEXT, f DOUBLE, b BLOB)",
    "CREATE TABLE IF NOT EXISTS u (k TEXT UNIQUE, v INTEGER NOT NULL CHECK (v >= 0))",
]

# Statements the machine picks from: valid and invalid, with 0-3 `?`.
STATEMENTS = [
    "SELECT * FROM t ORDER BY id",
    "SELECT count(*), sum(f), max(s) FROM t WHERE id > ?",
    "SELECT ? , ?",
    "INSERT INTO t VALUES (?, ?, ?, ?)",
    "INSERT INTO t (id, s) VALUES (?, ?)",
    "INSERT INTO u VALUES (?, ?)",
    "UPDATE t SET s = ? WHERE id = ?",
    "UPDATE u SET v = v - 1",
    "DELETE FROM t WHERE id < ?",
    "DELETE FROM u WHERE k = ?",
    "INSERT INTO t SELECT id + 1000, s, f, b FROM t WHERE id < 1000",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT sp",
    "ROLLBACK TO sp",
    "RELEASE sp",
    "CREATE TABLE IF NOT EXISTS extra (x INTEGER)",
    "DROP TABLE IF EXISTS extra",
    "ALTER TABLE t ADD COLUMN n INTEGER",
    "SELECT * FROM missing_table",
    "SELEC 1",
    "SELECT 1 / ?",
    "SELECT CAST(? AS INTEGER)",
    "VACUUM",
    "SELECT * FROM r",
    "SELECT count(*), min(id) FROM r JOIN t USING (id)",
    "INSERT INTO t (id, s) SELECT id, s FROM r",
    "SELECT * FROM a_new",
]

# Arrow types insert_arrow and register meet: ones llkv stores, ones it
# widens, and ones it must refuse (a clear error, not a crash).
UTC = datetime.UTC
ARROW_VALUES: dict[str, tuple[pa.DataType, st.SearchStrategy[Any]]] = {
    "int8": (pa.int8(), st.integers(-128, 127)),
    "int64": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "uint64": (pa.uint64(), st.integers(0, 2**64 - 1)),
    "float32": (pa.float32(), st.floats(width=32)),
    "float64": (pa.float64(), st.floats()),
    "string": (pa.string(), st.text(max_size=8)),
    "large_string": (pa.large_string(), st.text(max_size=8)),
    "binary": (pa.binary(), st.binary(max_size=8)),
    "bool": (pa.bool_(), st.booleans()),
    "date32": (pa.date32(), st.dates()),
    "timestamp_tz": (
        pa.timestamp("ns", tz="UTC"),
        st.datetimes(
            min_value=datetime.datetime(1700, 1, 1),
            max_value=datetime.datetime(2200, 1, 1),
            timezones=st.just(UTC),
        ),
    ),
    "list": (pa.list_(pa.int64()), st.lists(st.integers(-5, 5), max_size=2)),
    "null": (pa.null(), st.none()),
}
COLUMN_NAMES = ["id", "s", "f", "b", "k", "v", "extra"]


@st.composite
def arrow_data(draw: st.DrawFn) -> Any:
    """A random pyarrow Table, RecordBatch or RecordBatchReader (0-4 rows,
    1-4 columns of random names and types, nulls anywhere)."""
    rows = draw(st.integers(0, 4))
    names = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=1, max_size=4, unique=True))
    columns = []
    for _ in names:
        arrow_type, values = ARROW_VALUES[draw(st.sampled_from(sorted(ARROW_VALUES)))]
        items = draw(st.lists(st.none() | values, min_size=rows, max_size=rows))
        columns.append(pa.array(items, type=arrow_type))
    table = pa.table(columns, names=names)
    form = draw(st.sampled_from(["table", "batch", "reader"]))
    if form == "batch":
        return table.combine_chunks().to_batches()[0] if rows else table
    if form == "reader":
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    return table


PARAM = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
PARAMS = st.one_of(st.none(), st.lists(PARAM, max_size=4), st.tuples(PARAM, PARAM))


def check_error(error: BaseException) -> None:
    """Errors must be PEP 249 classes (or a TypeError for a parameter
    container that is not a sequence), never an engine bug."""
    if isinstance(error, llkv.Error):
        assert not isinstance(error, llkv.InternalError), repr(error)
        return
    assert isinstance(error, TypeError), repr(error)


class ApiMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "fuzz.llkv"
        self.connections: list[llkv.Connection] = []
        self.cursors: list[llkv.Cursor] = []
        first = llkv.connect(self.path)
        for sql in SCHEMA:
            first.execute(sql)
        self.connections.append(first)

    def attempt(self, action: Any, *args: Any) -> None:
        try:
            action(*args)
        except Exception as error:
            check_error(error)

    @rule()
    def connect(self) -> None:
        if len(self.connections) < 4:
            self.connections.append(llkv.connect(self.path))

    @precondition(lambda self: self.connections)
    @rule(i=st.integers(0, 3), sql=st.sampled_from(STATEMENTS), params=PARAMS)
    def execute(self, i: int, sql: str, params: Any) -> None:
        con = self.connections[i % len(self.connections)]
        self.attempt(con.execute, sql, params)

    @precondition(lambda self: self.connections)
    @rule(
        i=st.integers(0, 3),
        sql=st.sampled_from(STATEMENTS),
        rows=st.lists(st.lists(PARAM, max_size=4), max_size=4),
    )
    def executemany(self, i: int, sql: str, rows: list[list[Any]]) -> None:
        con = self.connections[i % len(self.connections)]
        self.attempt(con.executemany, sql, rows)

    @precondition(lambda self: self.connections)
    @rule(i=st.integers(0, 3), sql=st.sampled_from(STATEMENTS), params=PARAMS)
    def open_cursor(self, i: int, sql: str, params: Any) -> None:
        con = self.connections[i % len(self.connections)]
        try:
            cur = con.cursor()
            cur.execute(sql, params)
            self.cursors.append(cur)
        except Exception as error:
            check_error(error)

    @precondition(lambda self: self.cursors)
    @rule(
        i=st.integers(0, 7),
        how=st.sampled_from(["one", "many", "all", "arrow", "batches", "df", "close"]),
        n=st.integers(-1, 3),
    )
    def fetch(self, i: int, how: str, n: int) -> None:
        cur = self.cursors[i % len(self.cursors)]
        try:
            if how == "one":
                row = cur.fetchone()
                assert row is None or isinstance(row, tuple)
            elif how == "many":
                rows = cur.fetchmany(n)
                assert isinstance(rows, list)
            elif how == "all":
                assert isinstance(cur.fetchall(), list)
            elif how == "arrow":
                assert isinstance(cur.arrow(), pa.Table)
            elif how == "batches":
                # Streamed: batches are computed as they are read, possibly
                # after other statements changed the database.
                reader = cur.fetch_record_batch(max(n, 1))
                for batch in reader:
                    assert 0 < batch.num_rows <= max(n, 1)
            elif how == "df":
                assert len(cur.df().columns) == len(cur.description or [])
            else:
                cur.close()
        except Exception as error:
            check_error(error)

    @precondition(lambda self: self.connections)
    @rule(
        i=st.integers(0, 3),
        table=st.sampled_from(["t", "u", "a_new", "missing"]),
        data=arrow_data(),
        create=st.booleans(),
    )
    def insert_arrow(self, i: int, table: str, data: Any, create: bool) -> None:
        con = self.connections[i % len(self.connections)]
        try:
            added = con.insert_arrow(table, data, create=create)
            assert isinstance(added, int) and added >= 0
        except Exception as error:
            check_error(error)

    @precondition(lambda self: self.connections)
    @rule(i=st.integers(0, 3), data=arrow_data(), drop=st.booleans())
    def register(self, i: int, data: Any, drop: bool) -> None:
        con = self.connections[i % len(self.connections)]
        if drop:
            self.attempt(con.unregister, "r")
        else:
            self.attempt(con.register, "r", data)

    @precondition(lambda self: self.connections)
    @rule(i=st.integers(0, 3))
    def interrupt(self, i: int) -> None:
        # Nothing runs between rules, so this must not disturb later statements.
        self.connections[i % len(self.connections)].interrupt()

    @precondition(lambda self: self.connections)
    @rule(i=st.integers(0, 3), what=st.sampled_from(["commit", "rollback", "close"]))
    def finish(self, i: int, what: str) -> None:
        con = self.connections[i % len(self.connections)]
        self.attempt(getattr(con, what))
        if what == "close":
            self.connections.remove(con)

    @invariant()
    def closed_connections_refuse_work(self) -> None:
        for con in self.connections:
            assert con.closed is False

    def teardown(self) -> None:
        for con in self.connections:
            con.close()
        with llkv.connect(self.path) as con:
            check = con.execute("PRAGMA integrity_check").column(0).to_pylist()
            assert check == ["ok"], check
            ids = con.execute("SELECT id FROM t").column(0).to_pylist()
            assert len(ids) == len(set(ids)), "primary key repeated"
            values = con.execute("SELECT v FROM u").column(0).to_pylist()
            assert all(v is not None and v >= 0 for v in values)
        self.dir.cleanup()


ApiMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
test_api_sequences = ApiMachine.TestCase


def test_closed_connection_raises_programming_error() -> None:
    con = llkv.connect()
    con.close()
    for action in (lambda: con.execute("SELECT 1"), con.cursor, con.commit):
        try:
            action()
        except llkv.ProgrammingError:
            continue
        raise AssertionError("a closed connection accepted work")
