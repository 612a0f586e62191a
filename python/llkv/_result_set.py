"""A cursor's result set: Arrow batches read as needed, rows converted as fetched.

A query's rows come from the engine one record batch at a time
(:class:`llkv._llkv.ResultStream`), so a cursor holds at most the batch it is
reading from; other statements' results come complete, as a ``pyarrow.Table``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, cast, final

import pyarrow as pa

from llkv._llkv import ResultStream

__all__ = ["ResultSet"]

#: Rows converted to tuples ahead at a time by :meth:`ResultSet.fetchone`.
_ROW_CHUNK = 1024


def _END() -> None:
    """The reader of a result with nothing left."""
    return None


def _resume(
    batches: list[pa.RecordBatch],
    error: Exception | None,
    then: Callable[[], pa.RecordBatch | None],
) -> Callable[[], pa.RecordBatch | None]:
    """A reader returning ``batches``, then raising ``error`` (if any), then reading ``then``."""
    pending = iter(batches)

    def read() -> pa.RecordBatch | None:
        nonlocal error
        batch = next(pending, None)
        if batch is not None:
            return batch
        if error is not None:
            raised, error = error, None
            raise raised
        return then()

    return read


def _reader(batches: Iterator[pa.RecordBatch]) -> Callable[[], pa.RecordBatch | None]:
    """A function returning the next of ``batches`` on each call, then None."""
    return lambda: next(batches, None)


def to_rows(data: pa.Table | pa.RecordBatch) -> list[tuple[Any, ...]]:
    """Convert ``data`` to a list of row tuples, one column at a time."""
    columns = [column.to_pylist() for column in data.columns]
    return list(zip(*columns, strict=True))


@final
class ResultSet:
    """The rows of one result, consumed from the front.

    ``_batch[_offset:]`` are the first rows not fetched yet; ``_rows`` caches
    tuples of some of them (``_rows[_row_index:]`` are rows ``_offset`` on).

    While no batch was read into Python (``_direct`` is set), rows of plain
    types are fetched as tuples the engine builds itself, without pyarrow:
    the fast path for small results.
    """

    __slots__ = (
        "_batch",
        "_direct",
        "_next",
        "_offset",
        "_row_index",
        "_rows",
        "_schema",
        "_stream",
    )

    _schema: pa.Schema | None
    _stream: ResultStream | None
    #: The stream, while rows are fetched from it as tuples directly.
    _direct: ResultStream | None
    #: Reads the next batch (None at the end).
    _next: Callable[[], pa.RecordBatch | None]
    _batch: pa.RecordBatch | None
    _offset: int
    _rows: list[tuple[Any, ...]]
    _row_index: int

    def __init__(self, source: pa.Table | ResultStream) -> None:
        """A result set reading ``source``: a complete table, or a query's stream."""
        if isinstance(source, ResultStream):
            self._schema = None  # asked of the stream only when needed
            self._stream = source
            self._direct = source if source.native_rows else None
            self._next = source.read_next
        else:
            self._schema = source.schema
            self._stream = None
            self._direct = None
            self._next = _reader(iter(source.to_batches()))
        self._batch = None
        self._offset = 0
        self._rows = []
        self._row_index = 0

    @property
    def schema(self) -> pa.Schema:
        """The schema of the result."""
        if self._schema is None:
            batch = None if self._direct is not None else self._current()
            self._schema = (
                batch.schema if batch is not None else cast(ResultStream, self._stream).schema
            )
        return self._schema

    def close(self) -> None:
        """Stop reading: release the query's snapshot and any rows held."""
        if self._stream is not None:
            self._stream.close()
        self._next = _END
        self._direct = None
        self._batch = None
        self._rows = []

    def _current(self) -> pa.RecordBatch | None:
        """The batch holding the next row to fetch (reading one if needed), or None at the end."""
        self._direct = None
        while self._batch is None or self._offset >= self._batch.num_rows:
            self._batch = self._next()
            self._offset = 0
            self._rows = []
            self._row_index = 0
            if self._batch is None:
                return None
        return self._batch

    def start(self) -> None:
        """Read the first batch, so that errors computing it surface now
        (the engine computed a stream's first batch already)."""
        if self._direct is None:
            self._current()

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None when no rows remain."""
        if self._direct is not None:
            rows = self._direct.fetch_rows(1)
            return rows[0] if rows else None
        if self._row_index >= len(self._rows):
            batch = self._current()
            if batch is None:
                return None
            if self._offset == 0 and batch.num_rows <= _ROW_CHUNK:
                self._rows = to_rows(batch)
            else:
                self._rows = to_rows(batch.slice(self._offset, _ROW_CHUNK))
            self._row_index = 0
        row = self._rows[self._row_index]
        self._row_index += 1
        self._offset += 1
        return row

    def fetchmany(self, size: int | None) -> list[tuple[Any, ...]]:
        """The next ``size`` rows (all remaining ones for None)."""
        if self._direct is not None:
            return self._direct.fetch_rows(size)
        out: list[tuple[Any, ...]] = []
        while size is None or len(out) < size:
            cached = len(self._rows) - self._row_index
            if cached > 0:
                take = cached if size is None else min(cached, size - len(out))
                out.extend(self._rows[self._row_index : self._row_index + take])
                self._row_index += take
                self._offset += take
                continue
            batch = self._current()
            if batch is None:
                break
            available = batch.num_rows - self._offset
            take = available if size is None else min(available, size - len(out))
            out.extend(to_rows(batch.slice(self._offset, take)))
            self._offset += take
        return out

    def take_batches(self) -> Iterator[pa.RecordBatch]:
        """The remaining rows as record batches, read as the iterator is.

        The rows count as fetched at once: the result set is empty afterwards,
        and the iterator keeps reading the query even if the result set is
        closed. Batches are the engine's own (zero-copy) or slices of them.
        """
        schema = self.schema
        self._direct = None
        batch = self._batch
        head: list[pa.RecordBatch] = []
        if batch is not None and self._offset < batch.num_rows:
            head = [batch if self._offset == 0 else batch.slice(self._offset)]
        rest = iter(self._next, None)
        self._schema = schema
        self._next = _END
        self._batch = None
        self._rows = []
        self._stream = None
        return itertools.chain(head, rest)

    def table(self) -> pa.Table:
        """The remaining rows as a table; they count as fetched."""
        return pa.Table.from_batches(list(self.take_batches()), schema=self.schema)

    def head(self, n: int) -> tuple[pa.Table, int | None] | None:
        """The next ``n`` rows without fetching them, and how many rows remain.

        Reads only as many batches of a query ahead as it takes to find
        ``n + 1`` rows; the count is None when more rows follow that were not
        computed. An error met
        reading ahead is raised by the fetch that reaches it, not here: then
        the rows before it are returned, or None if there are none.
        """
        try:
            batch = self._current()
        except Exception as failure:
            self._next = _resume([], failure, self._next)
            return None
        if batch is None:
            return pa.Table.from_batches([], schema=self.schema), 0
        pieces = [batch.slice(self._offset)]
        count = pieces[0].num_rows
        ahead: list[pa.RecordBatch] = []
        error: Exception | None = None
        ended = False
        while count <= n or self._stream is None:
            try:
                more = self._next()
            except Exception as e:
                error = e
                break
            if more is None:
                ended = True
                break
            ahead.append(more)
            count += more.num_rows
        if ahead or error is not None:
            self._next = _resume(ahead, error, self._next)
        elif ended:
            self._next = _END
        shown = pa.Table.from_batches(pieces + ahead, schema=self.schema).slice(0, n)
        return shown, (count if ended else None)
