"""Random tables and queries for the differential test against sqlite3.

Everything is driven by one ``random.Random``, so a seed reproduces the same
tables and the same sequence of queries. The generator is typed: every
expression is built for a static type (INTEGER, REAL, TEXT or BOOL) from parts
that have that type on every row in SQLite too, so that SQLite's dynamic
values and llkv's statically typed Arrow columns can be compared value by value.

Constructs on which llkv and SQLite answer differently (an open llkv bug or a
deliberate difference) are named (see ``DIVERGENCES`` in
test_differential_sqlite.py) and left out through ``QueryGenerator.exclude``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

INT = "INTEGER"
REAL = "REAL"
TEXT = "TEXT"
BOOL = "BOOL"

Value = int | float | str | None

INT_VALUES: tuple[int, ...] = (-3, -2, -1, 0, 0, 1, 1, 2, 3, 4, 5)
# Exact binary fractions: sums do not depend on the order of addition.
REAL_VALUES: tuple[float, ...] = (-2.5, -1.5, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.75)
# Number-like strings (for CAST and for text/number comparison affinity) and
# mixed case (SQLite's LIKE ignores ASCII case).
TEXT_VALUES: tuple[str, ...] = (
    *("a", "b", "ab", "abc", "B", "Ab", "", "x_y", "it's"),
    *("1", "2", "10", " 3", "-2", "1.5", "3x"),
)
LIKE_PATTERNS: tuple[str, ...] = ("a%", "%b%", "_", "A_", "%", "", "a_c", "%y", "1%", "_%_")
SET_OPS = ("UNION", "UNION ALL", "EXCEPT", "INTERSECT")
COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
# A qualified column reference such as ``a1.c0``.
COLUMN_RE = re.compile(r"[a-z]+[0-9]+\.[a-z0-9]+")
# A constant made of numbers only, such as ``3``, ``(-2.5)`` or ``(-(-3))``.
NUMBER_RE = re.compile(r"[-0-9.() ]+")


def literal(value: Value) -> str:
    """SQL text of a literal; negative numbers are parenthesised."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    text = repr(float(value)) if isinstance(value, float) else str(value)
    return f"({text})" if value < 0 else text


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    rows: tuple[tuple[Value, ...], ...]

    def setup_sql(self) -> list[str]:
        cols = ", ".join(f"{name} {ty}" for name, ty in self.columns)
        stmts = [f"CREATE TABLE {self.name} ({cols})"]
        if self.rows:
            values = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in self.rows)
            stmts.append(f"INSERT INTO {self.name} VALUES {values}")
        return stmts


def random_value(rng: random.Random, ty: str, null_rate: float = 0.2) -> Value:
    if rng.random() < null_rate:
        return None
    if ty == INT:
        return rng.choice(INT_VALUES)
    if ty == REAL:
        return rng.choice(REAL_VALUES)
    return rng.choice(TEXT_VALUES)


def random_tables(rng: random.Random) -> list[Table]:
    """Two or three small tables, each with an INTEGER ``k`` in 0..3 so that joins hit."""
    tables = []
    for t in range(rng.choice((2, 3, 3))):
        columns = [("k", INT)]
        for c in range(rng.randint(2, 4)):
            columns.append((f"c{c}", rng.choice((INT, INT, REAL, TEXT))))
        if t == 0:  # every type at least once
            columns[1:4] = [("c0", INT), ("c1", REAL), ("c2", TEXT)]
        rows = []
        for _ in range(rng.choice((0, 2, 3, 4, 5, 6, 6, 7, 8, 8))):
            key = None if rng.random() < 0.1 else rng.randint(0, 3)
            rows.append((key, *(random_value(rng, ty) for _, ty in columns[1:])))
        tables.append(Table(f"t{t + 1}", tuple(columns), tuple(rows)))
    return tables


class NullTyped(str):
    """SQL text of an expression that llkv types as NULL (no other type).

    For example ``NULL``, ``COALESCE(NULL, NULL)`` or a CASE whose results
    are all NULL. Tracked for exclusions of DIVERGENCES.
    """


def null_typed(*parts: str) -> bool:
    return all(isinstance(p, NullTyped) for p in parts)


def keep_null_type(sql: str, *parts: str) -> str:
    """``sql``, marked NULL-typed when all of ``parts`` are."""
    return NullTyped(sql) if null_typed(*parts) else sql


@dataclass(frozen=True)
class Col:
    """A leaf expression: a qualified column, or a GROUP BY key."""

    sql: str
    type: str
    # False for an expression (a derived table's computed column): SQLite
    # gives only columns and CASTs a type affinity.
    affined: bool = True


@dataclass(frozen=True)
class Ctx:
    """Where an expression is generated.

    ``scope`` holds the columns that row expressions may use. In an aggregate
    context ``keys`` is not None: the leaves are GROUP BY keys, literals and
    aggregate calls (whose arguments are row expressions over ``scope``).
    """

    scope: tuple[Col, ...]
    keys: tuple[Col, ...] | None = None
    # Nesting depth of subqueries, to keep queries small.
    sub_level: int = 0
    # Whether subqueries may refer to ``scope`` (only from row contexts).
    correlate: bool = True

    @property
    def agg(self) -> bool:
        return self.keys is not None

    @property
    def leaves(self) -> tuple[Col, ...]:
        return self.keys if self.keys is not None else self.scope

    def row(self) -> Ctx:
        return Ctx(self.scope, None, self.sub_level, self.correlate)


@dataclass(frozen=True)
class Query:
    sql: str
    # True when ORDER BY determines the order of the whole result.
    ordered: bool


Option = tuple[float, Callable[[], str]]


@dataclass
class QueryGenerator:
    """Generates random SELECT statements over ``tables``.

    ``exclude`` names constructs not to generate (the names of
    DIVERGENCES); each name is checked where its construct is built.
    """

    rng: random.Random
    tables: Sequence[Table]
    exclude: frozenset[str] = frozenset()
    _alias: int = field(default=0, init=False)

    # -- helpers -----------------------------------------------------------

    def allowed(self, construct: str) -> bool:
        return construct not in self.exclude

    def coin(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, options: Sequence[Option]) -> str:
        weights = [w for w, _ in options]
        return self.rng.choices([f for _, f in options], weights)[0]()

    def fresh_alias(self, prefix: str) -> str:
        self._alias += 1
        return f"{prefix}{self._alias}"

    @staticmethod
    def table_scope(table: Table, alias: str) -> tuple[Col, ...]:
        return tuple(Col(f"{alias}.{name}", ty) for name, ty in table.columns)

    def binary(self, a: str, op: str, b: str) -> str:
        """``a op b``, usually parenthesised; bare ones test operator precedence.

        Only for comparisons, AND/OR and ``||``: a bare arithmetic operation
        could regroup a REAL expression around the negative-zero guard.
        """
        sql = f"{a} {op} {b}" if self.coin(0.15) else f"({a} {op} {b})"
        return keep_null_type(sql, a, b)

    def typed(self, sql: str, ty: str, bug: str) -> str:
        """``sql``, cast to ``ty`` if it is NULL-typed and ``bug`` is open."""
        if isinstance(sql, NullTyped) and not self.allowed(bug):
            return f"CAST({sql} AS {ty})"
        return sql

    # -- leaves ------------------------------------------------------------

    def literal_of(self, ty: str) -> str:
        if self.coin(0.06):
            return NullTyped("NULL")
        if ty == BOOL:
            return self.rng.choice(("(1 = 1)", "(1 = 0)"))
        return literal(random_value(self.rng, ty, null_rate=0.0))

    def leaf(self, ty: str, ctx: Ctx) -> str:
        cols = [c.sql for c in ctx.leaves if c.type == ty]
        if ctx.agg and (not cols or self.coin(0.6)):
            agg = self.aggregate(ty, ctx)
            if agg is not None:
                return agg
        if cols and self.coin(0.75):
            return self.rng.choice(cols)
        return self.literal_of(ty)

    # -- typed expressions -------------------------------------------------

    def expr(self, ty: str, ctx: Ctx, depth: int) -> str:
        if depth <= 0 or self.coin(0.25):
            return self.comparison(ctx, 0) if ty == BOOL else self.leaf(ty, ctx)
        d = depth - 1
        if ty == INT:
            return self.int_expr(ctx, d)
        if ty == REAL:
            return self.real_expr(ctx, d)
        if ty == TEXT:
            return self.text_expr(ctx, d)
        return self.bool_expr(ctx, d)

    def common(self, ty: str, ctx: Ctx, d: int) -> list[Option]:
        """CASE, COALESCE, NULLIF and scalar subqueries, for any result type."""

        def case(operand: str, whens: list[tuple[str, str]], other: str | None) -> str:
            results = [then for _, then in whens] + ([other] if other is not None else [])
            sql = " ".join(f"WHEN {when} THEN {then}" for when, then in whens)
            tail = f" ELSE {other}" if other is not None else ""
            return keep_null_type(f"CASE {operand}{sql}{tail} END", *results)

        def searched_case() -> str:
            n = self.rng.randint(1, 2)
            whens = [(self.expr(BOOL, ctx, d), self.expr(ty, ctx, d)) for _ in range(n)]
            return case("", whens, self.expr(ty, ctx, d) if self.coin(0.6) else None)

        def simple_case() -> str:
            op_ty = self.rng.choice((INT, INT, TEXT))
            operand = self.expr(op_ty, ctx, d)
            n = self.rng.randint(1, 3)
            whens = [(self.literal_of(op_ty), self.expr(ty, ctx, d)) for _ in range(n)]
            return case(f"{operand} ", whens, self.expr(ty, ctx, d) if self.coin(0.5) else None)

        def coalesce() -> str:
            args = [self.expr(ty, ctx, d) for _ in range(self.rng.randint(2, 3))]
            return keep_null_type(f"COALESCE({', '.join(args)})", *args)

        def nullif() -> str:
            a = self.expr(ty, ctx, d)
            return keep_null_type(f"NULLIF({a}, {self.expr(ty, ctx, d)})", a)

        options: list[Option] = [
            (1, searched_case),
            (0.7, simple_case),
            (0.7, coalesce),
            (0.5, nullif),
        ]
        if ctx.sub_level < 2:
            options.append((0.3, lambda: self.scalar_subquery(ty, ctx)))
        return options

    def unary(self, prefix: str, arg: str, suffix: str = ")") -> str:
        return keep_null_type(f"{prefix}{arg}{suffix}", arg)

    def int_expr(self, ctx: Ctx, d: int) -> str:
        def arith() -> str:
            a, b = self.expr(INT, ctx, d), self.expr(INT, ctx, d)
            op = self.rng.choice(("+", "-", "*", "/", "%"))
            return keep_null_type(f"({a} {op} {b})", a, b)

        def cast() -> str:
            src = self.rng.choice((REAL, TEXT))
            return f"CAST({self.expr(src, ctx, d)} AS INTEGER)"

        return self.pick(
            [
                (2, lambda: self.leaf(INT, ctx)),
                (3, arith),
                (0.5, lambda: self.unary("ABS(", self.expr(INT, ctx, d))),
                (0.3, lambda: self.unary("(-", self.expr(INT, ctx, d))),
                (0.8, cast),
                *self.common(INT, ctx, d),
            ]
        )

    def real_expr(self, ctx: Ctx, d: int) -> str:
        def arith() -> str:
            # Always parenthesised: regrouping could make an unguarded -0.0.
            op = self.rng.choice(("+", "-", "*", "/", "%"))
            a, b = self.rng.choice(((REAL, REAL), (REAL, INT), (INT, REAL)))
            sql = f"({self.expr(a, ctx, d)} {op} {self.expr(b, ctx, d)})"
            if op in "*/" and not self.allowed("negative_zero"):
                # x * y and x / y are -0.0 when one is zero and the other
                # negative; adding 0.0 turns -0.0 into 0.0.
                return f"({sql} + 0.0)"
            return sql

        def cast() -> str:
            src = self.rng.choice((INT, TEXT))
            return f"CAST({self.expr(src, ctx, d)} AS REAL)"

        return self.pick(
            [
                (2, lambda: self.leaf(REAL, ctx)),
                (3, arith),
                (0.5, lambda: self.unary("ABS(", self.expr(REAL, ctx, d))),
                (0.8, cast),
                *self.common(REAL, ctx, d),
            ]
        )

    def text_expr(self, ctx: Ctx, d: int) -> str:
        def cast() -> str:
            if self.coin(0.5):
                return f"CAST({self.expr(INT, ctx, d)} AS TEXT)"
            # Only exact REAL values (columns, literals) become TEXT: a
            # computed double would differ only in float formatting.
            cols = [c.sql for c in ctx.leaves if c.type == REAL and COLUMN_RE.fullmatch(c.sql)]
            exact = self.rng.choice(cols) if cols and self.coin(0.7) else self.literal_of(REAL)
            return f"CAST({exact} AS TEXT)"

        return self.pick(
            [
                (2, lambda: self.leaf(TEXT, ctx)),
                (1, lambda: self.binary(self.expr(TEXT, ctx, d), "||", self.expr(TEXT, ctx, d))),
                (1, cast),
                *self.common(TEXT, ctx, d),
            ]
        )

    # -- predicates --------------------------------------------------------

    def comparison(self, ctx: Ctx, d: int) -> str:
        op = self.rng.choice(COMPARISONS)
        if self.coin(0.1):
            # Text against a number: SQLite's comparison affinity rules.
            a, b = self.affined_number(ctx, d), self.expr(TEXT, ctx, d)
            if self.coin(0.5):
                a, b = b, a
        else:
            ty = self.rng.choice((INT, INT, REAL, TEXT))
            other = ty if ty == TEXT else self.rng.choice((INT, REAL))
            a, b = self.expr(ty, ctx, d), self.expr(other, ctx, d)
            if op == "=" and not self.allowed("join_key_cast"):
                # Equi-join keys of different types (a fixed bug's exclusion):
                # make both REAL, and give a NULL-typed one its type.
                if ty != other:
                    a, b = (f"CAST({a} AS REAL)", b) if ty == INT else (a, f"CAST({b} AS REAL)")
                a, b = self.typed(a, ty, "join_key_cast"), self.typed(b, other, "join_key_cast")
        return self.binary(a, op, b)

    def affined_number(self, ctx: Ctx, d: int) -> str:
        """A number to compare with text.

        While "text_vs_unaffined_number" is open, only numbers with INTEGER
        or REAL affinity: a table column or a CAST.
        """
        ty = self.rng.choice((INT, REAL))
        if self.allowed("text_vs_unaffined_number"):
            return self.expr(ty, ctx, d)
        cols = [c.sql for c in ctx.scope if c.type == ty and c.affined]
        if cols and not ctx.agg and self.coin(0.6):
            return self.rng.choice(cols)
        src = self.rng.choice((INT, REAL, TEXT))
        return f"CAST({self.expr(src, ctx, d)} AS {ty})"

    def bool_expr(self, ctx: Ctx, d: int) -> str:
        def logic() -> str:
            op = self.rng.choice(("AND", "OR"))
            return self.binary(self.expr(BOOL, ctx, d), op, self.expr(BOOL, ctx, d))

        def negation() -> str:
            arg = self.expr(BOOL, ctx, d)
            return f"NOT {arg}" if self.coin(0.15) else f"(NOT {arg})"

        def is_null() -> str:
            ty = self.rng.choice((INT, REAL, TEXT))
            neg = " NOT" if self.coin(0.4) else ""
            return f"({self.expr(ty, ctx, d)} IS{neg} NULL)"

        def between() -> str:
            ty = self.rng.choice((INT, REAL, TEXT))
            neg = " NOT" if self.coin(0.3) else ""
            x, lo, hi = (self.expr(ty, ctx, d) for _ in range(3))
            return f"({x}{neg} BETWEEN {lo} AND {hi})"

        def in_list() -> str:
            ty = self.rng.choice((INT, INT, REAL, TEXT))
            neg = " NOT" if self.coin(0.35) else ""
            items = [
                self.expr(ty, ctx, 0) if self.coin(0.3) else self.literal_of(ty)
                for _ in range(self.rng.randint(1, 4))
            ]
            return f"({self.expr(ty, ctx, d)}{neg} IN ({', '.join(items)}))"

        def like() -> str:
            neg = " NOT" if self.coin(0.3) else ""
            if self.coin(0.8):
                pattern = literal(self.rng.choice(LIKE_PATTERNS))
            else:
                pattern = self.expr(TEXT, ctx, 0)
            return f"({self.expr(TEXT, ctx, d)}{neg} LIKE {pattern})"

        options: list[Option] = [
            (3, lambda: self.comparison(ctx, d)),
            (2, logic),
            (0.8, negation),
            (0.8, is_null),
            (0.7, between),
            (1, in_list),
            (0.8, like),
        ]
        if ctx.sub_level < 2:
            options += [(0.7, lambda: self.in_subquery(ctx, d)), (0.7, lambda: self.exists(ctx))]
        return self.pick(options)

    # -- aggregates --------------------------------------------------------

    def aggregate(self, ty: str, ctx: Ctx) -> str | None:
        row = ctx.row()

        def arg(t: str) -> str:
            return self.expr(t, row, self.rng.randint(0, 2))

        def distinct() -> str:
            return "DISTINCT " if self.coin(0.2) else ""

        def num() -> str:
            return arg(self.rng.choice((INT, REAL)))

        def count() -> str:
            t = self.rng.choice((INT, REAL, TEXT))
            return f"count({distinct()}{self.typed(arg(t), t, 'count_untyped_null')})"

        def min_max(t: str) -> str:
            return self.unary(f"{self.rng.choice(('min', 'max'))}(", arg(t))

        if ty == INT:
            return self.pick(
                [
                    (1.5, lambda: "count(*)"),
                    (1.5, count),
                    (1.5, lambda: f"sum({distinct()}{arg(INT)})"),
                    (1, lambda: min_max(INT)),
                ]
            )
        if ty == REAL:
            return self.pick(
                [
                    (1.5, lambda: f"avg({distinct()}{num()})"),
                    (1, lambda: f"total({num()})"),
                    (1, lambda: f"sum({arg(REAL)})"),
                    (1, lambda: min_max(REAL)),
                ]
            )
        if ty == TEXT:
            return min_max(TEXT)
        return None

    # -- subqueries --------------------------------------------------------

    def sub_from(self, ctx: Ctx) -> tuple[str, tuple[Col, ...], Ctx]:
        """A one-table FROM of a subquery, its columns and its WHERE context."""
        table = self.rng.choice(self.tables)
        alias = self.fresh_alias("s")
        inner = self.table_scope(table, alias)
        outer = ctx.scope if ctx.correlate and not ctx.agg else ()
        return f"{table.name} AS {alias}", inner, Ctx(inner + outer, None, ctx.sub_level + 1)

    def sub_where(self, inner: tuple[Col, ...], where_ctx: Ctx) -> str:
        conds = []
        outer_ints = [c.sql for c in where_ctx.scope[len(inner) :] if c.type == INT]
        if outer_ints and self.coin(0.5):
            conds.append(f"{inner[0].sql} = {self.rng.choice(outer_ints)}")
        if self.coin(0.6):
            conds.append(self.expr(BOOL, where_ctx, 2))
        return f" WHERE {' AND '.join(conds)}" if conds else ""

    def in_subquery(self, ctx: Ctx, d: int) -> str:
        ty = self.rng.choice((INT, INT, REAL, TEXT))
        from_sql, inner, where_ctx = self.sub_from(ctx)
        item = self.expr(ty, Ctx(inner, None, where_ctx.sub_level), self.rng.randint(0, 1))
        lhs = self.expr(ty, ctx, d)
        neg = " NOT" if self.coin(0.35) else ""
        where = self.sub_where(inner, where_ctx)
        return f"({lhs}{neg} IN (SELECT {item} FROM {from_sql}{where}))"

    def exists(self, ctx: Ctx) -> str:
        from_sql, inner, where_ctx = self.sub_from(ctx)
        neg = "NOT " if self.coin(0.3) else ""
        return f"({neg}EXISTS (SELECT 1 FROM {from_sql}{self.sub_where(inner, where_ctx)}))"

    def scalar_subquery(self, ty: str, ctx: Ctx) -> str:
        """An aggregate subquery: always exactly one row."""
        from_sql, inner, where_ctx = self.sub_from(ctx)
        agg = self.aggregate(ty, Ctx(inner, (), where_ctx.sub_level))
        assert agg is not None
        sql = f"(SELECT {agg} FROM {from_sql}{self.sub_where(inner, where_ctx)})"
        return keep_null_type(sql, agg)

    # -- FROM --------------------------------------------------------------

    def derived_table(self, alias: str) -> tuple[str, tuple[Col, ...]]:
        """``(SELECT ...) AS alias`` over one table: its key and 1-2 expressions,
        or aggregates grouped by the key."""
        table = self.rng.choice(self.tables)
        inner_alias = self.fresh_alias("d")
        inner = self.table_scope(table, inner_alias)
        grouped = self.coin(0.35)
        ctx = Ctx(inner, (inner[0],) if grouped else None, 1)
        items = [f"{inner[0].sql} AS k"]
        cols = [Col(f"{alias}.k", INT)]
        for i, ty in enumerate(self.rng.choices((INT, REAL, TEXT), k=self.rng.randint(1, 2))):
            item = self.expr(ty, ctx, self.rng.randint(0, 2))
            items.append(f"{item} AS x{i}")
            sql = keep_null_type(f"{alias}.x{i}", item)
            cols.append(Col(sql, ty, affined=bool(COLUMN_RE.fullmatch(item))))
        distinct = "DISTINCT " if self.coin(0.2) and not grouped else ""
        sql = f"(SELECT {distinct}{', '.join(items)} FROM {table.name} AS {inner_alias}"
        sql += self.where(inner, 0.4)
        if grouped:
            sql += f" GROUP BY {inner[0].sql}"
        return f"{sql}) AS {alias}", tuple(cols)

    def from_clause(self) -> tuple[str, tuple[Col, ...]]:
        n = self.rng.choices((1, 2, 3), (0.4, 0.45, 0.15))[0]
        comma = self.coin(0.4)
        parts: list[str] = []
        scope: tuple[Col, ...] = ()
        for i in range(n):
            alias = self.fresh_alias("a")
            if self.coin(0.1):
                item, cols = self.derived_table(alias)
            else:
                table = self.rng.choice(self.tables)
                item, cols = f"{table.name} AS {alias}", self.table_scope(table, alias)
            if i == 0:
                parts.append(item)
            elif comma:
                parts.append(f", {item}")
            else:
                kind = self.rng.choice(("JOIN", "INNER JOIN", "LEFT JOIN", "LEFT JOIN"))
                conds = []
                if self.coin(0.85):
                    left = self.rng.choice([c.sql for c in scope if c.type == INT])
                    conds.append(f"{left} = {alias}.k")
                if not conds or self.coin(0.25):
                    conds.append(self.expr(BOOL, Ctx(scope + cols), 1))
                parts.append(f" {kind} {item} ON {' AND '.join(conds)}")
            scope += cols
        return "".join(parts), scope

    # -- queries -----------------------------------------------------------

    def where(self, scope: tuple[Col, ...], p: float = 0.55) -> str:
        if not self.coin(p):
            return ""
        return f" WHERE {self.expr(BOOL, Ctx(scope), self.rng.randint(1, 3))}"

    def simple_core(self, types: Sequence[str], order_by_expr: bool = False) -> str:
        from_sql, scope = self.from_clause()
        ctx = Ctx(scope)
        items = [self.expr(ty, ctx, self.rng.randint(0, 3)) for ty in types]
        distinct = "DISTINCT " if self.coin(0.2) else ""
        sql = f"SELECT {distinct}{', '.join(items)} FROM {from_sql}{self.where(scope)}"
        if order_by_expr and not distinct:
            # Any expression, so the order is not determined: no LIMIT.
            term = self.expr(self.rng.choice((INT, REAL, TEXT)), ctx, 1)
            if NUMBER_RE.fullmatch(term):  # that would be an output column number
                term = scope[0].sql
            sql += f" ORDER BY {term}{self.rng.choice(('', ' DESC'))}"
        return sql

    def aggregate_core(self, types: Sequence[str]) -> str:
        from_sql, scope = self.from_clause()
        keys: list[Col] = []
        for _ in range(self.rng.choice((0, 1, 1, 2))):
            ty = self.rng.choice((INT, INT, REAL, TEXT))
            key = self.expr(ty, Ctx(scope, correlate=True), self.rng.choice((0, 0, 1)))
            # SQLite reads an integer constant in GROUP BY as an output column
            # number (so does llkv); keep it from being one.
            if NUMBER_RE.fullmatch(key) and ty == INT:
                key, ty = self.rng.choice([c.sql for c in scope if c.type == INT]), INT
            keys.append(Col(key, ty))
        agg = Ctx(scope, tuple(keys))
        items = []
        for ty in types:
            same = [k.sql for k in keys if k.type == ty]
            if same and self.coin(0.3):
                items.append(self.rng.choice(same))
            else:
                items.append(self.expr(ty, agg, self.rng.randint(0, 2)))
        sql = f"SELECT {', '.join(items)} FROM {from_sql}{self.where(scope, 0.45)}"
        if keys:
            sql += f" GROUP BY {', '.join(k.sql for k in keys)}"
            if self.coin(0.35):
                sql += f" HAVING {self.expr(BOOL, agg, 2)}"
        return sql

    def core(self, types: Sequence[str]) -> str:
        if self.coin(0.4):
            return self.aggregate_core(types)
        return self.simple_core(types)

    def order_limit(self, n_cols: int) -> str:
        """ORDER BY every output column (which determines the order), maybe LIMIT."""
        positions = list(range(1, n_cols + 1))
        self.rng.shuffle(positions)
        terms = ", ".join(f"{p}{self.rng.choice(('', ' ASC', ' DESC'))}" for p in positions)
        sql = f" ORDER BY {terms}"
        if self.coin(0.6):
            sql += f" LIMIT {self.rng.choice((0, 1, 2, 3, 4, 5, 6, 8))}"
            if self.coin(0.4):
                sql += f" OFFSET {self.rng.randint(0, 3)}"
        return sql

    def query(self) -> Query:
        self._alias = 0
        types = self.rng.choices((INT, REAL, TEXT, BOOL), (3, 2, 2, 1), k=self.rng.randint(1, 3))
        kind = self.rng.choices(("simple", "aggregate", "compound"), (0.45, 0.3, 0.25))[0]
        ordered = self.coin(0.5)
        if kind == "compound":
            sql = self.core(types)
            ops = self.rng.choices(SET_OPS, k=self.rng.choice((1, 1, 2)))
            for op in ops:
                # SQLite compares an integer and a real operand by value.
                flipped = [{INT: REAL, REAL: INT}.get(t, t) if self.coin(0.1) else t for t in types]
                sql += f" {op} {self.core(flipped)}"
        elif kind == "aggregate":
            sql = self.aggregate_core(types)
        else:
            sql = self.simple_core(types, order_by_expr=not ordered and self.coin(0.3))
        return Query(sql + self.order_limit(len(types)) if ordered else sql, ordered)
