"""first_rows: the first n rows per group, numbered from 1, on every engine."""

from __future__ import annotations

from typing import Any

import ibis

from salesradar.metrics.ranking import first_rows


def _rows(t: Any) -> list[tuple[str, float, int]]:
    table = t.order_by(["customer_id", "_row"]).to_pyarrow()
    return list(zip(table["customer_id"].to_pylist(),
                    [float(v) for v in table["net_revenue"].to_pylist()],
                    table["_row"].to_pylist(), strict=True))


def test_first_rows_per_customer_by_revenue(backend: Any) -> None:
    # lines per customer, largest net revenue first (tests/metrics/data.py):
    # c1: 120, 100, 100, 50, -10 -> 120 then one of the two 100s
    # c2: 200, 110, 55, 40       -> 200, 110
    # c3: 40, 40, 20             -> 40, 40
    # c4: 60, 20, -20            -> 60, 20
    t = backend.table("invoice_lines").select("customer_id", "net_revenue")
    top = first_rows(t, ["customer_id"], ibis.desc(t.net_revenue), 2)
    assert _rows(top) == [
        ("c1", 120.0, 1), ("c1", 100.0, 2), ("c2", 200.0, 1), ("c2", 110.0, 2),
        ("c3", 40.0, 1), ("c3", 40.0, 2), ("c4", 60.0, 1), ("c4", 20.0, 2),
    ]


def test_first_rows_more_than_a_group_holds_and_no_groups(backend: Any) -> None:
    t = backend.table("invoice_lines").select("customer_id", "net_revenue")
    t = t.filter(t.customer_id == "c4")
    # c4 has three lines: asking for ten keeps all three, numbered 1..3 in ascending order
    every = first_rows(t, ["customer_id"], t.net_revenue, 10)
    assert _rows(every) == [("c4", -20.0, 1), ("c4", 20.0, 2), ("c4", 60.0, 3)]
    # without groups the whole table is one group: the single smallest line
    smallest = first_rows(t, [], t.net_revenue, 1)
    assert _rows(smallest) == [("c4", -20.0, 1)]


def test_first_rows_compiles_to_a_plain_row_number(backend: Any) -> None:
    # no "- 1" after ROW_NUMBER(): that is what lets DuckDB run it as a per-group top-N
    t = backend.table("invoice_lines")
    sql = str(ibis.to_sql(first_rows(t, ["customer_id"], ibis.desc(t.net_revenue), 5)))
    assert "ROW_NUMBER()" in sql.upper()
    assert "- 1" not in sql
