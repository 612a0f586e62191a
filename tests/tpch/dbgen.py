"""A deterministic TPC-H data generator in numpy, producing pyarrow tables.

It follows the value domains of the TPC-H specification (revision 3, clause
4.2): table cardinalities per scale factor, sparse order keys, the partsupp
supplier formula, retail prices, phone numbers by nation, the date rules that
derive ship, commit and receipt dates, return flags and line status, order
status and total price from the line items, and "Customer ... Complaints"
supplier comments. Free text is cut from a pool of random sentences over
dbgen's vocabulary, as dbgen itself does. The random streams differ from
dbgen's, so the rows are not byte-identical to DuckDB's ``dbgen``; the answers
the tests compare against come from DuckDB running the same queries on these
same tables (``tests/tpch/make_answers.py``).

Money columns are DOUBLE (llkv has no DECIMAL yet); dates are DATE.

    tables = generate(0.1)   # {"lineitem": pa.Table, ...}
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa


def _words(text: str) -> list[str]:
    return text.split()


REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
NATIONS = [
    ("ALGERIA", 0), ("ARGENTINA", 1), ("BRAZIL", 1), ("CANADA", 1), ("EGYPT", 4),
    ("ETHIOPIA", 0), ("FRANCE", 3), ("GERMANY", 3), ("INDIA", 2), ("INDONESIA", 2),
    ("IRAN", 4), ("IRAQ", 4), ("JAPAN", 2), ("JORDAN", 4), ("KENYA", 0),
    ("MOROCCO", 0), ("MOZAMBIQUE", 0), ("PERU", 1), ("CHINA", 2), ("ROMANIA", 3),
    ("SAUDI ARABIA", 4), ("VIETNAM", 2), ("RUSSIA", 3), ("UNITED KINGDOM", 3),
    ("UNITED STATES", 1),
]  # fmt: skip
COLORS = _words(
    "almond antique aquamarine azure beige bisque black blanched blue blush brown "
    "burlywood burnished chartreuse chiffon chocolate coral cornflower cornsilk cream "
    "cyan dark deep dim dodger drab firebrick floral forest frosted gainsboro ghost "
    "goldenrod green grey honeydew hot indian ivory khaki lace lavender lawn lemon "
    "light lime linen magenta maroon medium metallic midnight mint misty moccasin "
    "navajo navy olive orange orchid pale papaya peach peru pink plum powder puff "
    "purple red rose rosy royal saddle salmon sandy seashell sienna sky slate smoke "
    "snow spring steel tan thistle tomato turquoise violet wheat white yellow"
)
TYPE_SYLLABLES = (
    ["STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"],
    ["ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"],
    ["TIN", "NICKEL", "BRASS", "STEEL", "COPPER"],
)
CONTAINER_SYLLABLES = (
    ["SM", "LG", "MED", "JUMBO", "WRAP"],
    ["CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"],
)
SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"]
PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
INSTRUCTIONS = ["DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"]
MODES = ["REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"]

# dbgen's text grammar, reduced to its word lists.
NOUNS = _words(
    "foxes ideas theodolites pinto beans instructions dependencies excuses platelets "
    "asymptotes courts dolphins multipliers sauternes warthogs frets dinos attainments "
    "somas Tiresias patterns forges braids hockey players frays warhorses dugouts "
    "notornis epitaphs pearls tithes waters orbits gifts sheaves depths sentiments "
    "decoys realms pains grouches escapades packages requests accounts deposits"
)
VERBS = _words(
    "sleep wake are cajole haggle nag use boost affix detect integrate maintain nod "
    "was lose sublate solve thrash promise engage hinder print x-ray breach eat grow "
    "impress mold poach serve run dazzle snooze doze unwind kindle play hang believe "
    "doubt"
)
ADJECTIVES = _words(
    "special pending unusual express furious sly careful blithe quick fluffy slow "
    "quiet ruthless thin close dogged daring brave stealthy permanent enticing idle "
    "busy regular final ironic even bold silent"
)
ADVERBS = _words(
    "sometimes always never furiously slyly carefully blithely quickly fluffily "
    "slowly quietly ruthlessly thinly closely doggedly daringly bravely stealthily "
    "permanently enticingly idly busily regularly finally ironically evenly boldly "
    "silently"
)
PREPOSITIONS = _words(
    "about above according to across after against along alongside of among around "
    "at atop before behind beneath beside besides between beyond by despite during "
    "except for from in place of inside instead of into near of on outside over past "
    "since through throughout to toward under until up upon without with within"
)

START_DATE = dt.date(1992, 1, 1)
CURRENT_DATE = dt.date(1995, 6, 17)
END_DATE = dt.date(1998, 12, 31)
TEXT_POOL_CHARS = 1 << 20


def generate(scale: float, seed: int = 20261126) -> dict[str, pa.Table]:
    """All eight TPC-H tables at ``scale`` (0.1 has 600k line items)."""
    rng = np.random.default_rng(seed)
    pool = _text_pool(rng)
    n_part = max(int(200_000 * scale), 1)
    n_supp = max(int(10_000 * scale), 4)
    n_cust = max(int(150_000 * scale), 3)
    n_orders = max(int(1_500_000 * scale), 1)
    tables = {
        "region": _region(rng, pool),
        "nation": _nation(rng, pool),
        "part": _part(rng, pool, n_part),
        "supplier": _supplier(rng, pool, n_supp, scale),
        "partsupp": _partsupp(rng, pool, n_part, n_supp),
        "customer": _customer(rng, pool, n_cust),
    }
    retail = np.asarray(tables["part"].column("p_retailprice").to_numpy())
    orders, lineitem = _orders_and_lineitem(rng, pool, n_orders, n_cust, n_part, n_supp, retail)
    tables["orders"] = orders
    tables["lineitem"] = lineitem
    return tables


def _text_pool(rng: np.random.Generator) -> str:
    """Random sentences over dbgen's vocabulary, from which comments are cut."""
    parts: list[str] = []
    size = 0
    while size < TEXT_POOL_CHARS:
        words = [
            ADVERBS[rng.integers(len(ADVERBS))] if rng.random() < 0.3 else "",
            ADJECTIVES[rng.integers(len(ADJECTIVES))],
            NOUNS[rng.integers(len(NOUNS))],
            VERBS[rng.integers(len(VERBS))],
            ADVERBS[rng.integers(len(ADVERBS))] if rng.random() < 0.5 else "",
            PREPOSITIONS[rng.integers(len(PREPOSITIONS))],
            "the",
            ADJECTIVES[rng.integers(len(ADJECTIVES))],
            NOUNS[rng.integers(len(NOUNS))],
        ]
        sentence = " ".join(w for w in words if w) + (". " if rng.random() < 0.7 else "; ")
        parts.append(sentence)
        size += len(sentence)
    return "".join(parts)


def _text(rng: np.random.Generator, pool: str, n: int, lo: int, hi: int) -> list[str]:
    """``n`` comments of ``lo..hi`` characters cut from the pool."""
    lengths = rng.integers(lo, hi + 1, n)
    starts = rng.integers(0, len(pool) - hi, n)
    return [pool[s : s + k].strip() for s, k in zip(starts.tolist(), lengths.tolist(), strict=True)]


def _vstring(rng: np.random.Generator, n: int, lo: int, hi: int) -> list[str]:
    """Random alphanumeric strings (addresses)."""
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,. "))
    lengths = rng.integers(lo, hi + 1, n)
    chars = alphabet[rng.integers(0, len(alphabet), int(lengths.sum()))]
    flat = "".join(chars.tolist())
    ends = np.cumsum(lengths)
    return [flat[e - k : e] for e, k in zip(ends.tolist(), lengths.tolist(), strict=True)]


def _money(rng: np.random.Generator, n: int, lo_cents: int, hi_cents: int) -> np.ndarray:
    return rng.integers(lo_cents, hi_cents + 1, n) / 100.0


def _phones(rng: np.random.Generator, nations: np.ndarray) -> list[str]:
    a = rng.integers(100, 1000, len(nations))
    b = rng.integers(100, 1000, len(nations))
    c = rng.integers(1000, 10000, len(nations))
    return [
        f"{n + 10}-{x}-{y}-{z}"
        for n, x, y, z in zip(nations.tolist(), a.tolist(), b.tolist(), c.tolist(), strict=True)
    ]


def _keyed_names(prefix: str, keys: np.ndarray) -> list[str]:
    return [f"{prefix}#{k:09d}" for k in keys.tolist()]


def _region(rng: np.random.Generator, pool: str) -> pa.Table:
    return pa.table(
        {
            "r_regionkey": pa.array(range(len(REGIONS)), pa.int32()),
            "r_name": REGIONS,
            "r_comment": _text(rng, pool, len(REGIONS), 31, 115),
        }
    )


def _nation(rng: np.random.Generator, pool: str) -> pa.Table:
    return pa.table(
        {
            "n_nationkey": pa.array(range(len(NATIONS)), pa.int32()),
            "n_name": [name for name, _ in NATIONS],
            "n_regionkey": pa.array([region for _, region in NATIONS], pa.int32()),
            "n_comment": _text(rng, pool, len(NATIONS), 31, 114),
        }
    )


def _part(rng: np.random.Generator, pool: str, n: int) -> pa.Table:
    keys = np.arange(1, n + 1, dtype=np.int64)
    colors = np.array(COLORS)
    picks = np.argsort(rng.random((n, len(COLORS))), axis=1)[:, :5]
    names = [" ".join(row) for row in colors[picks].tolist()]
    mfgr = rng.integers(1, 6, n)
    brand = rng.integers(1, 6, n)
    types = [
        f"{a} {b} {c}"
        for a, b, c in zip(
            np.array(TYPE_SYLLABLES[0])[rng.integers(0, 6, n)].tolist(),
            np.array(TYPE_SYLLABLES[1])[rng.integers(0, 5, n)].tolist(),
            np.array(TYPE_SYLLABLES[2])[rng.integers(0, 5, n)].tolist(),
            strict=True,
        )
    ]
    containers = [
        f"{a} {b}"
        for a, b in zip(
            np.array(CONTAINER_SYLLABLES[0])[rng.integers(0, 5, n)].tolist(),
            np.array(CONTAINER_SYLLABLES[1])[rng.integers(0, 8, n)].tolist(),
            strict=True,
        )
    ]
    retail = (90000 + ((keys // 10) % 20001) + 100 * (keys % 1000)) / 100.0
    return pa.table(
        {
            "p_partkey": pa.array(keys, pa.int64()),
            "p_name": names,
            "p_mfgr": [f"Manufacturer#{m}" for m in mfgr.tolist()],
            "p_brand": [
                f"Brand#{m}{b}" for m, b in zip(mfgr.tolist(), brand.tolist(), strict=True)
            ],
            "p_type": types,
            "p_size": pa.array(rng.integers(1, 51, n), pa.int32()),
            "p_container": containers,
            "p_retailprice": pa.array(retail, pa.float64()),
            "p_comment": _text(rng, pool, n, 5, 22),
        }
    )


def _supplier(rng: np.random.Generator, pool: str, n: int, scale: float) -> pa.Table:
    keys = np.arange(1, n + 1, dtype=np.int64)
    nations = rng.integers(0, 25, n)
    comments = _text(rng, pool, n, 25, 100)
    # Clause 4.2.3: SF*5 rows complain, SF*5 recommend.
    marked = rng.choice(n, size=min(2 * max(int(10 * scale), 1), n), replace=False)
    for i, row in enumerate(marked.tolist()):
        word = "Complaints" if i % 2 == 0 else "Recommends"
        text = comments[row]
        cut = len(text) // 3
        comments[row] = f"{text[:cut]} Customer {text[cut : 2 * cut]} {word} {text[2 * cut :]}"
    return pa.table(
        {
            "s_suppkey": pa.array(keys, pa.int64()),
            "s_name": _keyed_names("Supplier", keys),
            "s_address": _vstring(rng, n, 10, 40),
            "s_nationkey": pa.array(nations, pa.int32()),
            "s_phone": _phones(rng, nations),
            "s_acctbal": pa.array(_money(rng, n, -99999, 999999), pa.float64()),
            "s_comment": comments,
        }
    )


def _partsupp_suppliers(partkeys: np.ndarray, i: np.ndarray | int, n_supp: int) -> np.ndarray:
    """Clause 4.2.3: the i-th (0..3) supplier of each part."""
    suppkeys: np.ndarray = (partkeys + i * (n_supp // 4 + (partkeys - 1) // n_supp)) % n_supp + 1
    return suppkeys


def _partsupp(rng: np.random.Generator, pool: str, n_part: int, n_supp: int) -> pa.Table:
    partkeys = np.repeat(np.arange(1, n_part + 1, dtype=np.int64), 4)
    i = np.tile(np.arange(4, dtype=np.int64), n_part)
    n = len(partkeys)
    return pa.table(
        {
            "ps_partkey": pa.array(partkeys, pa.int64()),
            "ps_suppkey": pa.array(_partsupp_suppliers(partkeys, i, n_supp), pa.int64()),
            "ps_availqty": pa.array(rng.integers(1, 10000, n), pa.int32()),
            "ps_supplycost": pa.array(_money(rng, n, 100, 100000), pa.float64()),
            "ps_comment": _text(rng, pool, n, 49, 198),
        }
    )


def _customer(rng: np.random.Generator, pool: str, n: int) -> pa.Table:
    keys = np.arange(1, n + 1, dtype=np.int64)
    nations = rng.integers(0, 25, n)
    return pa.table(
        {
            "c_custkey": pa.array(keys, pa.int64()),
            "c_name": _keyed_names("Customer", keys),
            "c_address": _vstring(rng, n, 10, 40),
            "c_nationkey": pa.array(nations, pa.int32()),
            "c_phone": _phones(rng, nations),
            "c_acctbal": pa.array(_money(rng, n, -99999, 999999), pa.float64()),
            "c_mktsegment": np.array(SEGMENTS)[rng.integers(0, 5, n)].tolist(),
            "c_comment": _text(rng, pool, n, 29, 116),
        }
    )


def _orders_and_lineitem(
    rng: np.random.Generator,
    pool: str,
    n_orders: int,
    n_cust: int,
    n_part: int,
    n_supp: int,
    retail: np.ndarray,
) -> tuple[pa.Table, pa.Table]:
    index = np.arange(n_orders, dtype=np.int64)
    orderkeys = (index // 8) * 32 + index % 8 + 1  # clause 4.2.3: sparse keys
    # Customers whose key is a multiple of three place no orders.
    custkeys = rng.integers(1, n_cust + 1, n_orders)
    custkeys = np.where(custkeys % 3 == 0, np.maximum(custkeys - 1, 1), custkeys)
    epoch = np.datetime64(START_DATE, "D")
    last_order_day = (END_DATE - START_DATE).days - 151
    orderdays = rng.integers(0, last_order_day + 1, n_orders)

    lines = rng.integers(1, 8, n_orders)
    n_lines = int(lines.sum())
    owner = np.repeat(np.arange(n_orders), lines)
    starts = np.cumsum(lines) - lines
    linenumber = np.arange(n_lines) - np.repeat(starts, lines) + 1
    partkeys = rng.integers(1, n_part + 1, n_lines)
    suppkeys = _partsupp_suppliers(partkeys, rng.integers(0, 4, n_lines), n_supp)
    quantity = rng.integers(1, 51, n_lines)
    extended = np.round(quantity * retail[partkeys - 1], 2)
    discount = rng.integers(0, 11, n_lines) / 100.0
    tax = rng.integers(0, 9, n_lines) / 100.0
    l_orderday = orderdays[owner]
    shipday = l_orderday + rng.integers(1, 122, n_lines)
    commitday = l_orderday + rng.integers(30, 91, n_lines)
    receiptday = shipday + rng.integers(1, 31, n_lines)
    current = (CURRENT_DATE - START_DATE).days
    returned = np.where(rng.random(n_lines) < 0.5, "R", "A")
    returnflag = np.where(receiptday <= current, returned, "N")
    linestatus = np.where(shipday > current, "O", "F")

    line_total = np.round(extended * (1 + tax) * (1 - discount), 2)
    totalprice = np.round(np.bincount(owner, weights=line_total, minlength=n_orders), 2)
    open_lines = np.bincount(owner, weights=(linestatus == "O"), minlength=n_orders)
    status = np.where(open_lines == lines, "O", np.where(open_lines == 0, "F", "P"))

    def dates(days: np.ndarray) -> pa.Array:
        return pa.array(epoch + days.astype("timedelta64[D]"), pa.date32())

    orders = pa.table(
        {
            "o_orderkey": pa.array(orderkeys, pa.int64()),
            "o_custkey": pa.array(custkeys, pa.int64()),
            "o_orderstatus": status.tolist(),
            "o_totalprice": pa.array(totalprice, pa.float64()),
            "o_orderdate": dates(orderdays),
            "o_orderpriority": np.array(PRIORITIES)[rng.integers(0, 5, n_orders)].tolist(),
            "o_clerk": _keyed_names(
                "Clerk", rng.integers(1, max(n_orders // 1500, 1) + 1, n_orders)
            ),
            "o_shippriority": pa.array(np.zeros(n_orders, dtype=np.int32), pa.int32()),
            "o_comment": _text(rng, pool, n_orders, 19, 78),
        }
    )
    lineitem = pa.table(
        {
            "l_orderkey": pa.array(orderkeys[owner], pa.int64()),
            "l_partkey": pa.array(partkeys, pa.int64()),
            "l_suppkey": pa.array(suppkeys, pa.int64()),
            "l_linenumber": pa.array(linenumber, pa.int32()),
            "l_quantity": pa.array(quantity.astype(np.float64), pa.float64()),
            "l_extendedprice": pa.array(extended, pa.float64()),
            "l_discount": pa.array(discount, pa.float64()),
            "l_tax": pa.array(tax, pa.float64()),
            "l_returnflag": returnflag.tolist(),
            "l_linestatus": linestatus.tolist(),
            "l_shipdate": dates(shipday),
            "l_commitdate": dates(commitday),
            "l_receiptdate": dates(receiptday),
            "l_shipinstruct": np.array(INSTRUCTIONS)[rng.integers(0, 4, n_lines)].tolist(),
            "l_shipmode": np.array(MODES)[rng.integers(0, 7, n_lines)].tolist(),
            "l_comment": _text(rng, pool, n_lines, 10, 43),
        }
    )
    return orders, lineitem
