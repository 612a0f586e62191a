"""EXPLAIN and EXPLAIN ANALYZE: plan text, access paths and measured rows."""

import pytest

import llkv


def plan(con: llkv.Connection, sql: str, kind: str) -> list[str]:
    table = con.execute(sql)
    assert table.column_names == ["plan_type", "plan"]
    return [r["plan"] for r in table.to_pylist() if r["plan_type"] == kind]


@pytest.fixture
def shop(any_con: llkv.Connection) -> llkv.Connection:
    any_con.execute("CREATE TABLE item(id INTEGER PRIMARY KEY, cat TEXT, price REAL)")
    any_con.executemany(
        "INSERT INTO item VALUES (?, ?, ?)",
        [(i, "abc"[i % 3], float(i)) for i in range(1, 301)],
    )
    any_con.execute("CREATE TABLE cat(cat TEXT, label TEXT)")
    any_con.execute("INSERT INTO cat VALUES ('a', 'A'), ('b', 'B'), ('c', 'C')")
    return any_con


def test_logical_plan_reads_like_the_query(shop: llkv.Connection) -> None:
    lines = plan(
        shop,
        "EXPLAIN SELECT cat, sum(price) FROM item WHERE price > 10 GROUP BY cat ORDER BY cat",
        "logical_plan",
    )
    names = [line.strip().split(":")[0] for line in lines]
    assert names == ["Sort", "Project", "Aggregate", "Scan"]
    assert "group by: cat" in lines[2] and "sum(price)" in lines[2]
    assert lines[3].strip().startswith("Scan: item [")
    assert lines[3].endswith("] filters: (price > 10)")
    # children are indented under their parent
    assert [len(line) - len(line.lstrip()) for line in lines] == [0, 2, 4, 6]


def test_physical_plan_names_access_paths_and_join_kinds(shop: llkv.Connection) -> None:
    point = plan(shop, "EXPLAIN SELECT * FROM item WHERE id = 7", "physical_plan")
    assert point[-1].strip() == "IndexScan using PRIMARY KEY (point lookup) item"
    full = plan(shop, "EXPLAIN SELECT * FROM item WHERE price = 7", "physical_plan")
    assert full[-1].strip() == "SeqScan item"
    joined = plan(
        shop,
        "EXPLAIN SELECT label FROM item JOIN cat ON item.cat = cat.cat",
        "physical_plan",
    )
    assert any(line.strip().startswith("HashJoin") for line in joined)
    cross = plan(
        shop,
        "EXPLAIN SELECT label FROM item JOIN cat ON item.cat < cat.cat",
        "physical_plan",
    )
    assert any(line.strip().startswith("NestedLoopJoin") for line in cross)


def test_explain_analyze_counts_each_operators_rows(shop: llkv.Connection) -> None:
    lines = plan(
        shop,
        "EXPLAIN ANALYZE SELECT label, count(*) FROM item JOIN cat ON item.cat = cat.cat "
        "WHERE price <= 30 GROUP BY label",
        "physical_plan",
    )
    rows = {line.strip().split(" (")[0]: line for line in lines}
    assert "(rows=3," in rows["HashAggregate"]
    # the WHERE test runs inside the scan, below the join
    assert "Filter" not in rows
    assert "(rows=30," in rows["SeqScan item"]
    assert "(rows=3," in rows["SeqScan cat"]
    assert "(rows=30," in rows["HashJoin"]
    assert all("time=" in line for line in lines)


def test_explain_shows_subqueries_and_does_not_run_them(shop: llkv.Connection) -> None:
    lines = plan(
        shop,
        "EXPLAIN SELECT id FROM item WHERE cat IN (SELECT cat FROM cat WHERE label = 'B')",
        "logical_plan",
    )
    assert any(line.startswith("subquery 0: Project") for line in lines)
    physical = plan(
        shop,
        "EXPLAIN SELECT id FROM item WHERE cat IN (SELECT cat FROM cat)",
        "physical_plan",
    )
    assert not any("rows=" in line for line in physical)


def test_explain_of_a_change_is_refused_and_changes_nothing(shop: llkv.Connection) -> None:
    with pytest.raises(llkv.NotSupportedError):
        shop.execute("EXPLAIN DELETE FROM item")
    with pytest.raises(llkv.NotSupportedError):
        shop.execute("EXPLAIN ANALYZE INSERT INTO cat VALUES ('d', 'D')")
    assert shop.execute("SELECT count(*) AS n FROM item").to_pylist() == [{"n": 300}]
    assert shop.execute("SELECT count(*) AS n FROM cat").to_pylist() == [{"n": 3}]
