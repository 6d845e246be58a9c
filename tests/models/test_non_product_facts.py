"""``sku_facts``: the per-SKU percentiles and distinct counts that DuckDB can spill, checked
against hand arithmetic and against the ``quantile_cont`` / ``count(DISTINCT ...)`` query they
replaced."""

from __future__ import annotations

import math
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesradar.models.non_product import sku_facts

# (invoice, customer, sku, quantity, net revenue)
Line = tuple[str | None, str | None, str | None, float | None, float | None]

# The query sku_facts ran before its aggregates were made to spill: DuckDB's own quantile_cont
# and count(DISTINCT ...), kept here as the reference.
REFERENCE = """
WITH t AS (
  SELECT sku, customer_id, abs(CAST(net_revenue AS DOUBLE) / quantity) AS unit,
         CASE WHEN net_revenue > 0 THEN invoice_id END AS sale_invoice,
         CASE WHEN abs(quantity) = 1.0 THEN 1.0 ELSE 0.0 END AS one
  FROM lines WHERE quantity IS NOT NULL AND quantity <> 0
), per_sku AS (
  SELECT sku, count(*) AS lines, count(DISTINCT sale_invoice) AS invoices,
         count(DISTINCT customer_id) AS customers, avg(one) AS quantity_one_share,
         quantile_cont(unit, 0.1) AS p10, quantile_cont(unit, 0.9) AS p90,
         count(DISTINCT round(unit, 2)) AS prices
  FROM t GROUP BY sku
), totals AS (
  SELECT count(DISTINCT sale_invoice) AS all_invoices, count(DISTINCT sku) AS all_skus,
         avg(one) AS all_quantity_one_share FROM t
)
SELECT sku, lines, invoices, CAST(invoices AS DOUBLE) / greatest(all_invoices, 1) AS invoice_share,
       customers, quantity_one_share,
       CASE WHEN p10 > 0 THEN p90 / p10 END AS price_spread, prices,
       all_invoices, all_skus, all_quantity_one_share
FROM per_sku CROSS JOIN totals ORDER BY sku NULLS FIRST
"""


def _table(rows: Sequence[Line]) -> tuple[ir.Table, ibis.BaseBackend]:
    """The lines as a DuckDB table with the canonical types (revenue DECIMAL(18,4))."""
    con = ibis.duckdb.connect()
    con.raw_sql("CREATE TABLE lines (invoice_id VARCHAR, customer_id VARCHAR, sku VARCHAR, "
                "quantity DOUBLE, net_revenue DECIMAL(18,4))")
    data = pa.table({
        "invoice_id": pa.array([r[0] for r in rows], pa.string()),
        "customer_id": pa.array([r[1] for r in rows], pa.string()),
        "sku": pa.array([r[2] for r in rows], pa.string()),
        "quantity": pa.array([r[3] for r in rows], pa.float64()),
        "net_revenue": pa.array([r[4] for r in rows], pa.float64()),
    })
    con.con.register("staged", data)
    con.raw_sql("INSERT INTO lines SELECT * FROM staged")
    return con.table("lines"), con


def _facts(rows: Sequence[Line]) -> dict[str | None, dict[str, object]]:
    table, _ = _table(rows)
    return {r["sku"]: r for r in sku_facts(table).to_pyarrow().to_pylist()}


def _cont(values: Sequence[float], q: float) -> float:
    """DuckDB's quantile_cont of doubles, by hand: position h = (n - 1) * q in the sorted values;
    the value at h when h is whole, else lo * (1 - d) + hi * d with d = h - floor(h)."""
    v = sorted(values)
    h = (len(v) - 1) * q
    lo, hi = v[math.floor(h)], v[math.ceil(h)]
    if math.floor(h) == math.ceil(h):
        return lo
    d = h - math.floor(h)
    return lo * (1.0 - d) + hi * d


def _sales(sku: str, prices: Sequence[float]) -> list[Line]:
    """One line of quantity 1 per price, each on its own invoice of customer C1."""
    return [(f"{sku}-{i}", "C1", sku, 1.0, p) for i, p in enumerate(prices)]


def test_percentiles_by_hand() -> None:
    rows = (
        _sales("ODD", [5.0, 1.0, 4.0, 2.0, 3.0])  # n = 5: h = 0.4 and 3.6
        + _sales("EVEN", [40.0, 10.0, 30.0, 20.0])  # n = 4: h = 0.3 and 2.7
        + _sales("TIES", [2.0, 2.0, 8.0, 2.0, 2.0])  # the 90th between the 2s and the 8
        + _sales("ONE", [7.0])  # a single line: both percentiles are it
        + _sales("WHOLE", [float(k) for k in range(1, 12)])  # n = 11: h = 1.0 and 9.0
        + _sales("N31", [float(k) for k in range(31, 0, -1)])
        + _sales("ZERO", [0.0, 0.0, 5.0])  # 10th percentile 0: no spread
    )
    # |revenue / quantity|: returns and credit notes count by their size
    rows += [("R1", "C2", "NEG", -2.0, 10.0), ("R2", "C2", "NEG", 1.0, -4.0),
             ("R3", "C2", "NEG", 2.0, 6.0)]  # units 5, 4, 3
    # lines without revenue have no unit price: left out of the percentiles, not the lines
    rows += [("N1", "C3", "NULLS", 1.0, None), ("N2", "C3", "NULLS", 1.0, 3.0),
             ("N3", "C3", "NULLS", 2.0, 12.0), ("N4", None, "NULLS", 1.0, None)]
    rows += [("A1", "C4", "ALLNULL", 1.0, None)]
    facts = _facts(rows)

    def spread(p10: float, p90: float) -> float:
        return p90 / p10

    h10, h90 = 4 * 0.1, 4 * 0.9  # 0.4, 3.6
    assert facts["ODD"]["price_spread"] == spread(
        1.0 * (1.0 - h10) + 2.0 * h10, 4.0 * (1.0 - (h90 - 3)) + 5.0 * (h90 - 3))
    h10, h90 = 3 * 0.1, 3 * 0.9  # 0.30000000000000004 in doubles (as DuckDB), 2.7
    assert facts["EVEN"]["price_spread"] == spread(
        10.0 * (1.0 - h10) + 20.0 * h10, 30.0 * (1.0 - (h90 - 2)) + 40.0 * (h90 - 2))
    h10, h90 = 4 * 0.1, 4 * 0.9
    assert facts["TIES"]["price_spread"] == spread(
        2.0 * (1.0 - h10) + 2.0 * h10, 2.0 * (1.0 - (h90 - 3)) + 8.0 * (h90 - 3))
    assert facts["ONE"]["price_spread"] == 1.0
    assert facts["WHOLE"]["price_spread"] == 10.0 / 2.0
    assert facts["N31"]["price_spread"] == 28.0 / 4.0  # h = 3.0 and 27.0: the 4th and 28th
    assert facts["ZERO"]["price_spread"] is None
    h10, h90 = 2 * 0.1, 2 * 0.9  # 0.2, 1.8
    assert facts["NEG"]["price_spread"] == spread(
        3.0 * (1.0 - h10) + 4.0 * h10, 4.0 * (1.0 - (h90 - 1)) + 5.0 * (h90 - 1))
    # two prices: h = 0.1 and 0.9; p10 = 3.3000000000000003 (lo + (hi - lo) * d gives 3.3)
    h10, h90 = 1 * 0.1, 1 * 0.9
    assert facts["NULLS"]["price_spread"] == spread(
        3.0 * (1.0 - h10) + 6.0 * h10, 3.0 * (1.0 - h90) + 6.0 * h90)
    assert facts["ALLNULL"]["price_spread"] is None
    # the hand rule above is DuckDB's
    for sku, values in [("ODD", [1.0, 2.0, 3.0, 4.0, 5.0]), ("N31", range(1, 32)),
                        ("TIES", [2.0, 2.0, 2.0, 2.0, 8.0]), ("NULLS", [3.0, 6.0])]:
        assert facts[sku]["price_spread"] == _cont(values, 0.9) / _cont(values, 0.1)


def test_distinct_counts_and_totals() -> None:
    rows: list[Line] = [
        ("I1", "C1", "A", 1.0, 3.004), ("I1", "C1", "A", 1.0, 3.001),  # one cent price: 3.00
        ("I2", "C2", "A", 2.0, 7.0), ("I3", None, "A", 1.0, -1.0),  # I3: a credit, no sale
        ("I4", "C2", "A", 0.0, 5.0), ("I5", "C9", "A", None, 5.0),  # no quantity: not counted
        ("I2", "C2", "B", 3.0, 9.0), ("I6", "C3", "B", 1.0, None), ("I6", "C3", "B", 4.0, 8.0),
    ]
    facts = _facts(rows)
    a, b = facts["A"], facts["B"]
    # prices to the cent: A 3.00, 3.50, 1.00; B 3.00, 2.00
    assert (a["lines"], a["invoices"], a["customers"], a["prices"]) == (4, 2, 2, 3)
    assert (b["lines"], b["invoices"], b["customers"], b["prices"]) == (3, 2, 2, 2)
    assert a["quantity_one_share"] == 3 / 4 and b["quantity_one_share"] == 1 / 3
    assert a["all_invoices"] == 3 and a["all_skus"] == 2  # sales invoices I1, I2, I6
    assert a["invoice_share"] == 2 / 3
    assert a["all_quantity_one_share"] == 4 / 7


PRICE = st.one_of(st.none(), st.sampled_from([0.0, -3.5, 10.0, 10.0, 2.25, 1000.0]),
                  st.floats(-500, 500, allow_nan=False).map(lambda x: round(x, 4)))
LINE = st.tuples(
    st.sampled_from(["I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8"]),
    st.sampled_from([None, "C1", "C2", "C3"]),
    st.sampled_from([None, "S1", "S2", "S3", "S4"]),
    st.sampled_from([None, 0.0, 1.0, -1.0, 2.0, 3.0, -7.0, 0.5]),
    PRICE,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, max_size=60))
def test_same_as_duckdb_quantile_cont_and_count_distinct(rows: list[Line]) -> None:
    table, con = _table(rows)
    got = sku_facts(table).order_by(ibis.asc("sku", nulls_first=True)).to_pyarrow()
    want = con.con.sql(REFERENCE).to_arrow_table()
    assert got.column_names == want.column_names
    for name in got.column_names:
        assert got[name].to_pylist() == want[name].to_pylist(), name


@pytest.mark.parametrize("n", [1, 2, 3, 10, 11, 21, 31, 41, 100])
def test_running_counts_place_every_position(n: int) -> None:
    """Many lines per price: the percentiles fall inside runs of equal prices and on their
    edges, as DuckDB finds them."""
    prices = [float(1 + (k * 7) % 5) * (1 + k // 5) for k in range(n)]
    rows = _sales("S", prices)
    table, con = _table(rows)
    got = sku_facts(table).to_pyarrow().to_pylist()
    want = con.con.sql(REFERENCE).to_arrow_table().to_pylist()
    assert got == want
    assert got[0]["price_spread"] == _cont(prices, 0.9) / _cont(prices, 0.1)
