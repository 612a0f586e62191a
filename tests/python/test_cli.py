"""The ``llkv`` command line (``python -m llkv``) and the sqlite_schema view."""

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

import llkv
from llkv.cli import Shell, format_table


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llkv", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_command_prints_a_table(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.llkv")
    done = run_cli(
        db, "-c", "CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (22, NULL)"
    )
    assert done.returncode == 0, done.stderr
    done = run_cli(db, "-c", "SELECT a, b FROM t ORDER BY a")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == "│ a  │ b    │"
    assert lines[3] == "│  1 │ x    │"
    assert lines[4] == "│ 22 │ NULL │"
    assert lines[-1] == "2 rows"


def test_file_runs_every_statement_and_prints_each_result(tmp_path: Path) -> None:
    script = tmp_path / "script.sql"
    script.write_text(
        "CREATE TABLE t (a INTEGER);\n"
        "INSERT INTO t VALUES (1), (2); -- a comment; with a semicolon\n"
        "SELECT count(*) AS n FROM t;\n"
        "SELECT 'x;y' AS s;\n"
    )
    done = run_cli("-f", str(script), "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "n\n2\ns\nx;y\n"


def test_json_and_arrow_formats() -> None:
    done = run_cli("-c", "SELECT 1 AS a, 'z' AS b, NULL AS c", "--format", "json")
    assert json.loads(done.stdout) == [{"a": 1, "b": "z", "c": None}]
    raw = subprocess.run(
        [sys.executable, "-m", "llkv", "-c", "SELECT 7 AS a", "--format", "arrow"],
        capture_output=True,
        timeout=60,
    )
    table = pa.ipc.open_stream(raw.stdout).read_all()
    assert table.to_pylist() == [{"a": 7}]


def test_json_and_csv_write_dates_decimals_and_blobs_as_text() -> None:
    sql = (
        "SELECT CAST('2020-01-02' AS DATE) AS d, CAST('2020-01-02 03:04:05' AS TIMESTAMP) AS t, "
        "CAST(1.25 AS DECIMAL(5, 2)) AS m, x'ab01' AS b, 1.5 AS f, true AS ok"
    )
    done = run_cli("-c", sql, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {
            "d": "2020-01-02",
            "t": "2020-01-02 03:04:05",
            "m": "1.25",
            "b": "ab01",
            "f": 1.5,
            "ok": True,
        }
    ]
    done = run_cli("-c", sql, "--format", "csv")
    assert done.stdout.splitlines() == [
        "d,t,m,b,f,ok",
        "2020-01-02,2020-01-02 03:04:05,1.25,ab01,1.5,True",
    ]


def test_meta_commands_run_from_command_and_file(tmp_path: Path) -> None:
    db = str(tmp_path / "meta.llkv")
    done = run_cli(db, "-c", "CREATE TABLE zebra (a INTEGER);\n.tables")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "zebra\n"
    script = tmp_path / "s.sql"
    script.write_text(".schema zebra\nSELECT 1 AS one;\n")
    done = run_cli(db, "-f", str(script), "--format", "csv")
    assert done.stdout == "CREATE TABLE zebra (a INTEGER);\none\n1\n", done.stderr


def test_errors_have_no_traceback_and_fail_the_run() -> None:
    done = run_cli("-c", "SELECT * FROM missing")
    assert done.returncode == 1
    assert done.stderr == "Error: no such table: missing\n"
    done = run_cli("-c", "SELEC 1")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: syntax error")
    assert "Traceback" not in done.stderr


def test_stdin_script() -> None:
    done = run_cli("--format", "csv", stdin="SELECT 40 + 2 AS answer;")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "answer\n42\n"


def test_stdin_script_runs_meta_commands_between_statements() -> None:
    done = run_cli(stdin="CREATE TABLE t (a INTEGER);\n.tables\nSELECT 1 AS one;\n.quit\nSELECT 2;")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "t"
    assert "one" in done.stdout
    assert "2" not in done.stdout.replace("one", "")


def test_ctrl_c_cancels_a_statement_without_traceback() -> None:
    """A real SIGINT to the running shell: the statement stops, the error is
    one line, and the run fails."""
    endless = (
        "CREATE TABLE n AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
        " WHERE x < 1000) SELECT x FROM c;"
        "SELECT count(*) FROM n AS a, n AS b, n AS c WHERE a.x + b.x + c.x >= 0;"
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "llkv", "-c", endless],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 1
    assert err == "Error: interrupted\n"


def test_meta_commands() -> None:
    con = llkv.connect()
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(con, "table", out, err)
    assert shell.run_sql(
        "CREATE TABLE b (x INTEGER PRIMARY KEY, y TEXT DEFAULT 'd' CHECK (y <> ''));"
        "CREATE TABLE a (p INTEGER REFERENCES b (x) ON DELETE CASCADE);"
        "CREATE INDEX a_p ON a (p);"
        "CREATE VIEW v AS SELECT x FROM b;"
    )
    assert shell.meta(".tables")
    assert out.getvalue() == "a  b  v\n"
    out.truncate(0)
    out.seek(0)
    assert shell.meta(".schema a")
    assert out.getvalue() == (
        "CREATE TABLE a (p INTEGER, FOREIGN KEY (p) REFERENCES b (x) ON DELETE CASCADE);\n"
        "CREATE INDEX a_p ON a (p);\n"
    )
    assert shell.meta(".nope")
    assert "unknown command .nope" in err.getvalue()
    assert not shell.meta(".quit")
    con.close()


def test_schema_sql_recreates_the_tables() -> None:
    con = llkv.connect()
    con.execute(
        'CREATE TABLE "odd name" (id INTEGER, k TEXT NOT NULL UNIQUE, v REAL DEFAULT 1.5, '
        "PRIMARY KEY (id, k), UNIQUE (v, k), CONSTRAINT pos CHECK (v > 0))"
    )
    sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'odd name'").to_pylist()[0]["sql"]
    other = llkv.connect()
    other.execute(sql)
    again = other.execute("SELECT sql FROM sqlite_schema WHERE type = 'table'").to_pylist()
    assert again == [{"sql": sql}]
    with pytest.raises(llkv.IntegrityError, match="pos"):
        other.execute("INSERT INTO \"odd name\" VALUES (1, 'a', -1)")


def test_format_table_of_empty_result() -> None:
    text = format_table(pa.table({"a": pa.array([], pa.int64())}))
    assert text.splitlines()[-1] == "0 rows"


def test_split_sql_keeps_trigger_bodies() -> None:
    parts = llkv.split_sql(
        "CREATE TABLE t (a INTEGER); CREATE TRIGGER g AFTER INSERT ON t BEGIN "
        "UPDATE t SET a = a + 1; DELETE FROM t WHERE a > 9; END; SELECT 1"
    )
    assert len(parts) == 3
    assert parts[1].startswith("CREATE TRIGGER g")
    with pytest.raises(llkv.ProgrammingError, match="syntax error"):
        llkv.split_sql("SELEC 1")


def test_interactive_shell_joins_lines_until_a_semicolon(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lines = iter(["SELECT 1", "  + 1 AS two;", ".tables", "SELEC;", ".quit"])

    def fake_input(prompt: str) -> str:
        return next(lines)

    monkeypatch.setattr("builtins.input", fake_input)
    monkeypatch.setattr("llkv.cli.HISTORY_FILE", tmp_path / "history")
    con = llkv.connect()
    out, err = io.StringIO(), io.StringIO()
    Shell(con, "csv", out, err).interactive()
    assert out.getvalue().splitlines()[1:] == ["two", "2", ""]
    assert err.getvalue().startswith("Error: syntax error")
    con.close()
