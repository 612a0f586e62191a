"""The ``llkv`` command line: run SQL against a database file or memory.

Usage::

    llkv [DB] [-c SQL] [-f FILE] [--format table|csv|json|arrow]

With ``-c`` or ``-f`` (or SQL piped on stdin) the statements run and the
results are printed; otherwise an interactive shell starts, with history,
pretty tables and the meta commands ``.tables``, ``.schema [TABLE]``,
``.help`` and ``.quit``. Errors are printed as ``Error: ...`` without a
traceback; a failing script exits with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

import llkv
from llkv._llkv import split_sql
from llkv._result_set import ResultSet

FORMATS = ("table", "csv", "json", "arrow")
HISTORY_FILE = Path.home() / ".llkv_history"


def _cell(value: Any) -> str:
    """How one value is shown in a table."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return "x'" + value.hex() + "'"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def format_table(table: pa.Table) -> str:
    """A box-drawn table with a header; numbers are right-aligned."""
    names = table.column_names
    numeric = [pa.types.is_integer(t) or pa.types.is_floating(t) for t in table.schema.types]
    rows = [[_cell(v) for v in row.values()] for row in table.to_pylist()]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]

    def line(cells: Sequence[str], align: Sequence[bool]) -> str:
        parts = [
            c.rjust(w) if right else c.ljust(w)
            for c, w, right in zip(cells, widths, align, strict=True)
        ]
        return "│ " + " │ ".join(parts) + " │"

    top = "┌─" + "─┬─".join("─" * w for w in widths) + "─┐"
    mid = "├─" + "─┼─".join("─" * w for w in widths) + "─┤"
    bottom = "└─" + "─┴─".join("─" * w for w in widths) + "─┘"
    out = [top, line(names, [False] * len(names)), mid]
    out += [line(r, numeric) for r in rows]
    out.append(bottom)
    count = table.num_rows
    out.append(f"{count} row{'' if count == 1 else 's'}")
    return "\n".join(out)


def _text(value: object) -> str:
    """A value as CSV text: empty for NULL, hex for a BLOB, ISO 8601 for dates."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _json_value(value: object) -> object:
    """A value as JSON: numbers, strings, booleans and null as themselves;
    DECIMAL as a string (exact), dates in ISO 8601, BLOBs in hex."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return _text(value)


def write_result(table: pa.Table, fmt: str, out: IO[str]) -> None:
    """Prints one statement's result in ``fmt``; statements without result
    columns print nothing."""
    if table.num_columns == 0:
        return
    if fmt == "table":
        out.write(format_table(table) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow([_text(v) for v in row.values()])
    elif fmt == "json":
        rows = [{k: _json_value(v) for k, v in row.items()} for row in table.to_pylist()]
        out.write(json.dumps(rows) + "\n")
    elif fmt == "arrow":
        out.flush()
        sink = sys.stdout.buffer
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        sink.flush()


class Shell:
    """Runs statements and meta commands on one connection."""

    def __init__(self, con: llkv.Connection, fmt: str, out: IO[str], err: IO[str]) -> None:
        self.con = con
        self.fmt = fmt
        self.out = out
        self.err = err

    def run_sql(self, sql: str) -> bool:
        """Runs every statement of ``sql`` in order, printing each result;
        stops at the first error. Returns False after an error."""
        try:
            statements = split_sql(sql)
        except llkv.Error as e:
            self.err.write(f"Error: {e}\n")
            return False
        for statement in statements:
            try:
                result, rowcount = self.con._execute_cursor(statement)
                if rowcount < 0:  # DML without RETURNING prints nothing, as sqlite3's shell
                    write_result(ResultSet(result).table(), self.fmt, self.out)
            except llkv.Error as e:
                self.err.write(f"Error: {e}\n")
                return False
            except KeyboardInterrupt:
                # Ctrl-C cancelled the statement (the engine polls for it):
                # report it like an error, without a traceback.
                self.err.write("Error: interrupted\n")
                return False
        return True

    def run_script(self, text: str) -> bool:
        """Runs a script as the interactive shell would: a line starting
        with ``.`` between statements is a meta command, the rest is SQL.
        Stops at the first error or ``.quit``; returns False after an error."""
        buffer: list[str] = []
        for line in text.splitlines():
            if not "".join(buffer).strip() and line.strip().startswith("."):
                buffer.clear()
                if not self.meta(line.strip()):
                    return True
                continue
            buffer.append(line)
            sql = "\n".join(buffer)
            if sql.rstrip().endswith(";"):
                buffer.clear()
                if not self.run_sql(sql):
                    return False
        rest = "\n".join(buffer)
        return self.run_sql(rest) if rest.strip() else True

    def meta(self, command: str) -> bool:
        """Runs a ``.command``; returns False to leave the shell."""
        words = command.split()
        name, args = words[0].lower(), words[1:]
        if name in (".quit", ".exit"):
            return False
        if name == ".help":
            self.out.write(
                ".tables            list tables and views\n"
                ".schema [TABLE]    show CREATE statements\n"
                ".format [FORMAT]   show or set the output format (table, csv, json)\n"
                ".quit              leave\n"
            )
        elif name == ".tables":
            rows = self.con.execute(
                "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name"
            ).column("name")
            self.out.write("  ".join(str(n) for n in rows.to_pylist()) + "\n")
        elif name == ".schema":
            sql = "SELECT sql FROM sqlite_schema WHERE sql <> ''"
            params: list[str] = []
            if args:
                sql += " AND lower(tbl_name) = lower(?)"
                params.append(args[0])
            order = " ORDER BY tbl_name, CASE type WHEN 'table' THEN 0 ELSE 1 END, name"
            for text in self.con.execute(sql + order, params).column("sql").to_pylist():
                self.out.write(f"{text};\n")
        elif name == ".format":
            if not args:
                self.out.write(self.fmt + "\n")
            elif args[0] in FORMATS[:3]:
                self.fmt = args[0]
            else:
                self.err.write(f"Error: unknown format {args[0]!r}; use table, csv or json\n")
        else:
            self.err.write(f"Error: unknown command {name}; try .help\n")
        return True

    def interactive(self) -> None:
        """The read-eval-print loop; a statement ends with ``;``."""
        try:
            import readline

            if HISTORY_FILE.exists():
                readline.read_history_file(HISTORY_FILE)
        except (ImportError, OSError):
            readline = None  # type: ignore[assignment]
        self.out.write(f"llkv {llkv.__version__}; .help for help, .quit to leave\n")
        buffer: list[str] = []
        while True:
            try:
                line = input("  ...> " if buffer else "llkv> ")
            except EOFError:
                self.out.write("\n")
                break
            except KeyboardInterrupt:
                self.out.write("^C\n")
                buffer.clear()
                continue
            if not buffer and line.strip().startswith("."):
                if not self.meta(line.strip()):
                    break
                continue
            buffer.append(line)
            text = "\n".join(buffer)
            if text.strip() and text.rstrip().endswith(";"):
                buffer.clear()
                self.run_sql(text)
        if readline is not None:
            with contextlib.suppress(OSError):
                readline.write_history_file(HISTORY_FILE)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``llkv`` command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="llkv", description="Run SQL on an llkv database.")
    parser.add_argument("database", nargs="?", help="database file (default: in memory)")
    parser.add_argument("-c", "--command", help="SQL to run, then exit")
    parser.add_argument("-f", "--file", help="file of SQL to run, then exit")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    args = parser.parse_args(argv)
    try:
        con = llkv.connect(args.database)
    except llkv.Error as e:
        sys.stderr.write(f"Error: {e}\n")
        return 1
    shell = Shell(con, args.format, sys.stdout, sys.stderr)
    try:
        if args.command is not None or args.file is not None:
            ok = True
            if args.file is not None:
                try:
                    ok = shell.run_script(Path(args.file).read_text())
                except OSError as e:
                    sys.stderr.write(f"Error: {e}\n")
                    ok = False
            if ok and args.command is not None:
                ok = shell.run_script(args.command)
            return 0 if ok else 1
        if not sys.stdin.isatty():
            return 0 if shell.run_script(sys.stdin.read()) else 1
        shell.interactive()
        return 0
    finally:
        con.close()


if __name__ == "__main__":
    sys.exit(main())
