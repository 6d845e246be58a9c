"""Property tests on generated data, on every engine (fewer examples on the slower engines).

* revenue by rep adds up exactly (decimal) to the company total, month by month;
* a sale and its full return net out: revenue and gross profit by rep and month do not move;
* price-volume-mix effects add up to the total change of revenue and of gross profit;
* rates are null, not 0 and not an error, when their denominator is 0 (win rate against a
  plain-Python oracle; gross margin when revenue nets to 0).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesradar.metrics import compute_kpi, kpi_records, price_volume_mix

from .conftest import load_tables
from .data import arrow_table

EXAMPLES = {"duckdb": 40, "postgres": 12, "pyspark": 3}
START = date(2024, 1, 1)
REPS = ["r1", "r2", "r3", None]

line = st.tuples(
    st.integers(0, 89),  # day offset from 2024-01-01
    st.integers(1, 5),  # customer
    st.integers(1, 3),  # sku
    st.integers(-3, 10).filter(bool),  # quantity, negative for a return
    st.integers(100, 10_000),  # unit price in agorot
    st.integers(0, 100),  # cost as a percentage of revenue
    st.sampled_from(REPS),
)


def _rows(lines: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    out = []
    for n, (day, cust, sku, qty, price, pct, rep) in enumerate(lines):
        revenue = Decimal(qty * price) / 100
        out.append({
            "invoice_id": f"I{n}", "line_no": 1, "invoice_date": START + timedelta(days=day),
            "customer_id": f"c{cust}", "sku": f"s{sku}", "quantity": float(qty),
            "net_revenue": revenue, "cost": (revenue * pct / 100).quantize(Decimal("0.0001")),
            "rep_id": rep, "channel": "web",
        })
    return out


def _load(con: Any, lines: list[dict[str, Any]], **more: list[dict[str, Any]]) -> None:
    data = {"invoice_lines": arrow_table("invoice_lines", lines)}
    for name in ("deals", "targets", "reps", "products", "customers"):
        data[name] = arrow_table(name, more.get(name, []))
    load_tables(con, data)


def _values(con: Any, name: str, by: tuple[str, ...]) -> dict[tuple[Any, ...], Any]:
    table = compute_kpi(con, name, by, "month", persist=False)
    dims = ["rep_id"] if by else []
    return {(r["period"], *(r[d] for d in dims)): r["value"] for r in table.to_pylist()}


def _check(con: Any) -> Any:
    return settings(max_examples=EXAMPLES[con.name], deadline=None, database=None)


def test_revenue_by_rep_adds_up_to_company(scratch: Any) -> None:
    @_check(scratch)
    @given(st.lists(line, min_size=1, max_size=25))
    def check(lines: list[tuple[Any, ...]]) -> None:
        _load(scratch, _rows(lines))
        company = _values(scratch, "revenue", ())
        by_rep = _values(scratch, "revenue", ("rep",))
        sums: dict[Any, Decimal] = defaultdict(Decimal)
        for (period, _rep), value in by_rep.items():
            sums[(period,)] += Decimal(value)
        assert {k: Decimal(v) for k, v in company.items()} == dict(sums)

    check()


def test_returns_net_out(scratch: Any) -> None:
    @_check(scratch)
    @given(st.lists(line, min_size=1, max_size=15), st.lists(line, min_size=1, max_size=5))
    def check(base: list[tuple[Any, ...]], returned: list[tuple[Any, ...]]) -> None:
        sold = [(d, c, s, abs(q), p, pct, r) for d, c, s, q, p, pct, r in returned]
        back = [(d, c, s, -abs(q), p, pct, r) for d, c, s, q, p, pct, r in returned]
        _load(scratch, _rows(base))
        before = {k: _values(scratch, k, ("rep",)) for k in ("revenue", "gross_profit")}
        _load(scratch, _rows(base + sold + back))
        after = {k: _values(scratch, k, ("rep",)) for k in ("revenue", "gross_profit")}
        for kpi in before:
            nonzero = {k: Decimal(v) for k, v in after[kpi].items() if Decimal(v) != 0}
            assert nonzero == {k: Decimal(v) for k, v in before[kpi].items() if Decimal(v) != 0}

    check()


def test_pvm_effects_sum_to_total_change(scratch: Any) -> None:
    @_check(scratch)
    @given(st.lists(line, min_size=1, max_size=25), st.sampled_from(["product", "customer"]))
    def check(lines: list[tuple[Any, ...]], by: str) -> None:
        # a line on 30/03 keeps January and February whole in the data (pvm refuses a period
        # the data end inside); March is in neither period
        _load(scratch, _rows([*lines, (89, 1, 1, 1, 100, 50, "r1")]))
        pvm = price_volume_mix(scratch, "2024-01", "2024-02", by=by).to_pydict()
        for i in range(len(pvm["revenue_change"])):
            effects = pvm["price_effect"][i] + pvm["volume_effect"][i] + pvm["mix_effect"][i]
            assert effects == pytest.approx(pvm["revenue_change"][i], abs=1e-6)
            gp = (pvm["gp_price_effect"][i] + pvm["gp_volume_effect"][i]
                  + pvm["gp_mix_effect"][i] + pvm["gp_cost_effect"][i])
            assert gp == pytest.approx(pvm["gross_profit_change"][i], abs=1e-6)
        total = sum(pvm["price_effect"]) + sum(pvm["volume_effect"]) + sum(pvm["mix_effect"])
        assert total == pytest.approx(sum(pvm["revenue_change"]), abs=1e-6)

    check()


deal = st.tuples(
    st.integers(0, 89), st.sampled_from(["open", "won", "lost"]), st.integers(1, 1000),
    st.sampled_from(["r1", "r2"]),
)


def test_rates_are_null_when_the_denominator_is_zero(scratch: Any) -> None:
    @_check(scratch)
    @given(st.lists(deal, min_size=1, max_size=12))
    def check(deals: list[tuple[Any, ...]]) -> None:
        rows = [
            {"deal_id": f"D{n}", "owner_rep_id": rep, "amount": amount, "outcome": outcome,
             "created_at": START, "close_date": START + timedelta(days=day)}
            for n, (day, outcome, amount, rep) in enumerate(deals)
        ]
        # a sale and its return in January: revenue 0, so the margin is null
        lines = _rows([(1, 1, 1, 2, 500, 50, "r1"), (2, 1, 1, -2, 500, 50, "r1")])
        _load(scratch, lines, deals=rows)
        won: dict[tuple[str, str], int] = defaultdict(int)
        closed: dict[tuple[str, str], int] = defaultdict(int)
        for day, outcome, _amount, rep in deals:
            key = ((START + timedelta(days=day)).replace(day=1).isoformat(), rep)
            won[key] += outcome == "won"
            closed[key] += outcome != "open"
        got = {(r["period"], r["rep_id"]): r["value"] for r in kpi_records(
            compute_kpi(scratch, "win_rate", ("rep",), "month", persist=False))}
        assert set(got) == set(closed)
        for key, value in got.items():
            if closed[key] == 0:
                assert value is None
            else:
                assert value == pytest.approx(won[key] / closed[key])
        margin = kpi_records(compute_kpi(scratch, "gross_margin", (), "month", persist=False))
        assert [(r["period"], r["value"]) for r in margin] == [("2024-01-01", None)]

    check()
