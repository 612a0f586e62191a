"""Deeply nested SQL on threads with small stacks: a clear error or the right
answer, never a crashed interpreter."""

import threading

import pytest

import llkv


def run_on_small_stack(sqls: list[str], stack_kib: int) -> list[object]:
    """Runs each statement on a thread with a `stack_kib` KiB stack; returns
    each first value or the exception raised."""
    con = llkv.connect()
    out: list[object] = []

    def work() -> None:
        for sql in sqls:
            try:
                out.append(con.execute(sql).column(0)[0].as_py())
            except llkv.Error as e:
                out.append(e)

    old = threading.stack_size(stack_kib * 1024)
    try:
        t = threading.Thread(target=work)
        t.start()
        t.join()
    finally:
        threading.stack_size(old)
        con.close()
    return out


def test_deep_sql_on_a_256_kib_thread_stack() -> None:
    nested = "SELECT " + "(" * 150 + "7" + ")" * 150
    calls = "SELECT " + "abs(" * 150 + "-7" + ")" * 150
    cases = "SELECT " + "CASE WHEN 1 THEN " * 100 + "7" + " END" * 100
    subqueries = "SELECT " + "(SELECT " * 60 + "7" + ")" * 60
    too_deep = "SELECT " + "(" * 5000 + "1" + ")" * 5000
    too_long_chain = "SELECT " + " + ".join(["1"] * 1000)
    results = run_on_small_stack(
        [nested, calls, cases, subqueries, too_deep, too_long_chain], stack_kib=256
    )
    assert results[:4] == [7, 7, 7, 7]
    assert isinstance(results[4], llkv.ProgrammingError)
    assert isinstance(results[5], llkv.ProgrammingError)
    assert "nested too deeply" in str(results[5])


@pytest.mark.parametrize("sql", ["SELECT", "SELECT -- 1", "SELECT FROM (SELECT 1)"])
def test_select_without_result_columns_is_a_syntax_error(con: llkv.Connection, sql: str) -> None:
    # `--` starts a comment, so the second one is a bare SELECT too.
    with pytest.raises(llkv.ProgrammingError, match="result column"):
        con.execute(sql)


def test_recursive_cte_that_never_ends_hits_the_round_limit() -> None:
    con = llkv.connect()
    # Every round adds the same row again (UNION ALL), so it would never end.
    sql = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n FROM r) SELECT count(*) FROM r"
    with pytest.raises(llkv.OperationalError, match="recursion limit"):
        con.execute(sql)
    # The connection is still usable.
    assert con.execute("SELECT 1 AS one").to_pylist() == [{"one": 1}]


def test_memory_limit_turns_a_large_sort_into_an_operational_error() -> None:
    con = llkv.connect(memory_limit="1MB")
    try:
        con.execute("CREATE TABLE big AS SELECT x FROM range(300000) t(x)")
        # A scan streams: no limit applies.
        assert con.execute("SELECT count(*) FROM big").column(0)[0].as_py() == 300_000
        with pytest.raises(
            llkv.OperationalError, match="memory_limit of 1000000 bytes exceeded: a sort"
        ):
            con.execute("SELECT x FROM big ORDER BY x DESC")
        # The connection stays usable, and the limit can be lifted.
        con.execute("PRAGMA memory_limit = 'unlimited'")
        top = con.execute("SELECT x FROM big ORDER BY x DESC LIMIT 1")
        assert top.column(0)[0].as_py() == 299_999
    finally:
        con.close()
    with llkv.connect(memory_limit=2048) as small:
        assert small.execute("PRAGMA memory_limit").column(0)[0].as_py() == "2048 bytes"
    with pytest.raises(TypeError, match="memory_limit"):
        llkv.connect(memory_limit=1.5)  # type: ignore[arg-type]
    with pytest.raises(llkv.ProgrammingError, match="cannot read"):
        llkv.connect(memory_limit="lots")


def test_sql_text_and_table_width_limits(con: llkv.Connection) -> None:
    # 256 MiB of SQL is the most accepted: a longer text fails before it is
    # tokenized.
    huge = "SELECT 1 " + " " * (256 << 20)
    with pytest.raises(llkv.ProgrammingError, match="longer than the limit"):
        con.execute(huge)
    del huge
    widest = ", ".join(f"c{i} INTEGER" for i in range(32_767))
    con.execute(f"CREATE TABLE wide ({widest})")
    assert con.execute("SELECT count(*) FROM wide").column(0)[0].as_py() == 0
    with pytest.raises(llkv.ProgrammingError, match="at most 32767"):
        con.execute("ALTER TABLE wide ADD COLUMN one_more INTEGER")
    with pytest.raises(llkv.ProgrammingError, match="at most 32767"):
        con.execute(f"CREATE TABLE wider ({widest}, c32767 INTEGER)")
