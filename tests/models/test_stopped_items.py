"""Stopped items: gap probabilities by hand, flags on a planted pair and the exclusions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import cast

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

from salesradar.models import NotFittedError
from salesradar.models.stopped_items import (
    PAIR_FACTS_TABLE,
    PAIR_STAMPS_TABLE,
    StoppedItemsModel,
    find_stopped_items,
    gap_survival,
    kept_pair_facts,
)
from salesradar.workspace import Workspace

from .invoice_helpers import DAY0, day, insert, simulated, workspace

CUTOFF = day(200)


def _history(*, loyal_stops: bool = True) -> list[tuple[str, int, str, float]]:
    """C1 buys A every 10 days until day 100 and B every 10 days through day 200.

    C2 keeps buying A (so A is still sold); C3 stopped buying anything on day 100.
    """
    rows = [("C1", d, "A", 50.0) for d in range(0, 110 if loyal_stops else 210, 10)]
    rows += [("C1", d, "B", 20.0) for d in range(0, 210, 10)]
    rows += [("C2", d, "A", 10.0) for d in range(0, 210, 15)]
    rows += [("C3", d, "A", 40.0) for d in range(0, 110, 10)]
    rows += [("C3", d, "B", 40.0) for d in range(5, 105, 10)]
    return rows


def _flagged(ws: object, **settings: object) -> set[tuple[str, str]]:
    flags = StoppedItemsModel(**settings).fit(ws, CUTOFF).flags()  # type: ignore[arg-type]
    return set(zip(flags["customer_id"].to_pylist(), flags["sku"].to_pylist(), strict=True))


def test_gap_survival_matches_scipy() -> None:
    gap, mean, std = np.array([30.0, 5.0]), np.array([10.0, 10.0]), np.array([5.0, 10.0])
    n = np.array([1e9, 1e9])  # many gaps: no shrinkage toward the exponential
    got = gap_survival(gap, mean, std, n)
    shape = np.array([4.0, 1.0])
    expected = stats.gamma.sf(gap, shape, scale=mean / shape)
    np.testing.assert_allclose(got, expected, rtol=1e-7)
    assert got[1] == pytest.approx(np.exp(-0.5))  # exponential: P(gap >= 5 | mean 10)


def test_planted_pair_is_flagged_with_its_value() -> None:
    model = StoppedItemsModel(min_purchases=4).fit(workspace(_history()), CUTOFF)
    flags = model.flags()
    assert flags.num_rows == 1
    row = flags.to_pylist()[0]
    assert (row["customer_id"], row["sku"]) == ("C1", "A")
    assert row["gap_days"] == 100 and row["mean_gap"] == 10 and row["purchases"] == 11
    # the 11 purchases of 50 all fall in the year to the last purchase (day 100)
    assert row["value_at_stake"] == pytest.approx(11 * 50.0)
    assert row["p_gap"] < 1e-6
    text = model.explain("C1", "A", currency="₪")
    assert text.startswith("bought A every ~10 days (11 times); last 100 days ago")
    assert text.endswith("had a <0.1% chance; ₪550 at stake: what it bought in the 12 months "
                         "to its last purchase, net of returns")


def test_not_flagged_when_still_bought() -> None:
    assert _flagged(workspace(_history(loyal_stops=False))) == set()


def test_discontinued_sku_is_not_flagged() -> None:
    ws = workspace(_history(), products={"A": False, "B": True})
    assert _flagged(ws) == set()


def test_inactive_customer_is_not_flagged() -> None:
    # C3 stopped buying everything on day 100: a churn, not a stopped item
    assert ("C3", "A") not in _flagged(workspace(_history()))


def test_a_pause_it_came_back_from_before_is_not_a_stop() -> None:
    # C1 buys A on days 0, 10, 20, pauses 110 days (20 -> 130), buys on 130, 140, 150, 160 and
    # has been silent 40 days at the cutoff: 4 times its ~10-day median gap (the gap rule's
    # flag), shorter than the pause it came back from. D on days 0 and 200 keeps it active.
    rows = [("C1", d, "A", 50.0) for d in (0, 10, 20, 130, 140, 150, 160)]
    rows += [("C1", d, "D", 5.0) for d in (0, 200)]
    rows += [("C2", d, "A", 10.0) for d in range(0, 290, 15)]

    def pair_of(model: StoppedItemsModel) -> dict[str, object]:
        assert model.pairs_ is not None
        pairs = model.pairs_.filter(pc.and_(pc.equal(model.pairs_["customer_id"], "C1"),
                                            pc.equal(model.pairs_["sku"], "A")))
        return cast(dict[str, object], pairs.to_pylist()[0])

    model = StoppedItemsModel(min_purchases=4).fit(workspace(rows), CUTOFF)
    pair = pair_of(model)
    assert (pair["median_gap"], pair["longest_gap"], pair["gap_days"]) == (10.0, 110.0, 40.0)
    assert not pair["eligible"]
    assert model.flags().num_rows == 0 and model.baseline_flags().num_rows == 0
    # 120 days after its last purchase (cutoff day 280, the customer active on day 270): past
    # its longest pause, the gap rule flags it
    model = StoppedItemsModel(min_purchases=4).fit(workspace([*rows, ("C1", 270, "D", 5.0)]),
                                                   day(280))
    assert pair_of(model)["eligible"]
    assert model.baseline_flags()["sku"].to_pylist() == ["A"]


def test_sku_no_longer_sold_to_anyone_is_not_flagged() -> None:
    rows = [r for r in _history() if r[0] != "C2"]
    assert _flagged(workspace(rows)) == set()


def test_min_purchases_and_min_value() -> None:
    ws = workspace(_history())
    assert _flagged(ws, min_purchases=12) == set()  # C1 bought A 11 times
    assert _flagged(ws, min_value=551.0) == set()  # value at stake 550
    assert _flagged(ws, exclude_skus=["A"]) == set()


def test_baseline_rule_and_one_call() -> None:
    model = StoppedItemsModel().fit(workspace(_history()), CUTOFF)
    base = model.baseline_flags()
    assert ("C1", "A") in set(zip(base["customer_id"].to_pylist(), base["sku"].to_pylist(),
                                  strict=True))
    assert find_stopped_items(workspace(_history()), CUTOFF).num_rows == 1


def test_unfitted_use_raises() -> None:
    with pytest.raises(NotFittedError):
        StoppedItemsModel().flags()
    with pytest.raises(NotFittedError):
        StoppedItemsModel().explain("C1", "A")


def test_backtest_precision_and_planted_recall(tmp_path: Path) -> None:
    from salesradar.models.stopped_items import backtest

    # after the cutoff C1 keeps buying B but not A (a hit); C2 keeps buying A
    future = [("C1", d, "B", 20.0) for d in range(210, 290, 10)]
    future += [("C2", d, "A", 10.0) for d in range(210, 290, 15)]
    ws = workspace(_history() + future)
    (tmp_path / "dropped_pairs.csv").write_text(
        "customer_id,sku,dropped_at\nC1,A,2025-04-11\nC3,A,2025-04-11\nC1,B,2023-01-01\n"
    )
    got = {m.metric: m for m in backtest(ws, CUTOFF, 90, truth=tmp_path)}
    assert (got["precision_at_50"].value, got["precision_at_50"].n) == (1.0, 1)
    assert got["precision_at_50"].baseline_value == 1.0
    # C3 bought nothing in the horizon and the C1/B drop is older than a year: only C1/A counts
    recall = got["recall_planted_drops"]
    assert (recall.value, recall.n) == (1.0, 1)


def _pair(model: StoppedItemsModel, customer: str, sku: str) -> dict[str, object]:
    assert model.pairs_ is not None
    rows = [r for r in model.pairs_.to_pylist()
            if (r["customer_id"], r["sku"]) == (customer, sku)]
    assert len(rows) == 1
    row: dict[str, object] = rows[0]
    return row


def test_value_is_net_of_a_credit_note_after_the_last_purchase() -> None:
    # C1 bought A for 50 eleven times (days 0..100), then sent 300 of it back on day 130
    model = StoppedItemsModel().fit(workspace([*_history(), ("C1", 130, "A", -300.0)]), CUTOFF)
    row = _pair(model, "C1", "A")
    assert row["value_at_stake"] == pytest.approx(11 * 50.0 - 300.0)  # 250
    assert (row["sold_365"], row["returned_365"]) == (550.0, 300.0)
    assert row["returned_after_last"] == 300.0 and row["last_return_day"] == day(130)
    flag = model.flags().to_pylist()[0]
    assert (flag["customer_id"], flag["sku"], flag["value_at_stake"]) == ("C1", "A", 250.0)
    assert flag["returned_after_last"] == 300.0
    assert model.explain("C1", "A").endswith(
        "₪250 at stake: what it bought in the 12 months to its last purchase, net of returns; "
        "returned ₪300 of it after the last purchase (latest return 2025-05-11)"
    )
    # a return bigger than the year's sales leaves nothing at stake, never a negative amount
    model = StoppedItemsModel().fit(workspace([*_history(), ("C1", 130, "A", -900.0)]), CUTOFF)
    assert _pair(model, "C1", "A")["value_at_stake"] == 0.0


def test_burst_buyer_is_valued_at_its_year_never_scaled_up() -> None:
    # C1 bought A once on day 0 (1,000), then four times in a month (days 400..430, 500 each);
    # it keeps buying B; C2 keeps buying A
    rows = [("C1", 0, "A", 1000.0)] + [("C1", d, "A", 500.0) for d in range(400, 440, 10)]
    rows += [("C1", d, "B", 20.0) for d in range(0, 570, 10)]
    rows += [("C2", d, "A", 400.0) for d in range(0, 570, 15)]
    model = StoppedItemsModel().fit(workspace(rows), day(560))
    row = _pair(model, "C1", "A")
    # the year to the last purchase (day 430) is days 66..430: the burst only, 4 x 500;
    # no return, so nothing returned
    assert row["value_at_stake"] == pytest.approx(2000.0)
    assert (row["returned_365"], row["returned_after_last"], row["last_return_day"]) == (
        0.0, 0.0, None)


def test_money_is_summed_exactly_not_in_the_engines_float_order() -> None:
    """0.1 + 0.2 is 0.30000000000000004 in floats, whose last digit also depends on the order
    the engine's threads add in; summed as the stored decimals it is 0.3 on every run."""
    from salesradar.models.crosssell import interactions_from_lines
    from salesradar.models.stopped_items import pair_statistics

    ws = workspace([("C1", d, "A", v) for d, v in ((1, 0.1), (1, 0.2), (10, 0.1), (20, 0.2),
                                                   (30, 0.1), (40, 0.2))])
    pairs = pair_statistics(ws.table("invoice_lines"), day(40)).to_pyarrow().to_pylist()
    assert (pairs[0]["sold_365"], pairs[0]["revenue_per_purchase"]) == (0.9, 0.9 / 5)
    offered = interactions_from_lines(ws.table("invoice_lines")).to_pylist()
    assert (offered[0]["revenue"], offered[0]["revenue_365"]) == (0.9, 0.9)


def _welford(gaps: list[float]) -> float:
    """Population standard deviation added up one gap at a time, as DuckDB's aggregate does."""
    n, mean, squares = 0, 0.0, 0.0
    for gap in gaps:
        n += 1
        moved = mean + (gap - mean) / n
        squares += (gap - moved) * (gap - mean)
        mean = moved
    return float(np.sqrt(squares / n))


def test_gaps_are_between_purchase_days_in_day_order() -> None:
    # C1 buys A on days 0, 25 (two lines), 26, 49, 64 and 73, listed out of order, and sends
    # some back on day 30: six purchase days, five gaps 25, 1, 23, 15, 9
    rows = [("C1", d, "A", 10.0) for d in (49, 0, 25, 73, 26, 64, 25)] + [("C1", 30, "A", -4.0)]
    row = _pair(StoppedItemsModel().fit(workspace(rows), day(80)), "C1", "A")
    assert (row["purchases"], row["first_day"], row["last_day"]) == (6, day(0), day(73))
    assert (row["median_gap"], row["mean_gap"]) == (15.0, 73 / 5)
    # the deviation adds the gaps up in day order (the same last digit on every run); another
    # order moves the last digit
    gaps = [25.0, 1.0, 23.0, 15.0, 9.0]
    assert row["gap_std"] == _welford(gaps) != _welford(sorted(gaps))
    assert row["revenue_per_purchase"] == 70.0 / 6
    assert (row["sold_365"], row["returned_365"], row["last_return_day"]) == (70.0, 4.0, day(30))


def test_the_year_starts_365_days_before_the_last_purchase() -> None:
    rows = [("C1", d, "A", v) for d, v in ((0, 1000.0), (1, 100.0), (100, 100.0), (200, 100.0),
                                           (365, 100.0), (0, -7.0), (1, -3.0))]
    row = _pair(StoppedItemsModel().fit(workspace(rows), day(400)), "C1", "A")
    # the year is (day 0, day 400]: the sale and the return of day 0 are out of it
    assert (row["sold_365"], row["returned_365"], row["last_return_day"]) == (400.0, 3.0, day(1))
    assert (row["value_at_stake"], row["returned_after_last"]) == (397.0, 0.0)
    assert row["revenue_per_purchase"] == 1400.0 / 5


# -- facts kept between refreshes -------------------------------------------------------------

def _pairs(ws: Workspace, as_of: dt.date, facts: ir.Table | None = None) -> pa.Table:
    model = StoppedItemsModel(min_purchases=3).fit(ws, as_of, facts=facts)
    assert model.pairs_ is not None
    return model.pairs_


def _last_day(ws: Workspace) -> dt.date:
    found = ws.con.execute("SELECT max(invoice_date) FROM invoice_lines").fetchone()
    assert found is not None
    return cast(dt.date, found[0])


def _poison(ws: Workspace, *customers: str) -> None:
    """Make the kept facts of ``customers`` wrong: a fact computed again is right again."""
    ws.con.execute(f"UPDATE {PAIR_FACTS_TABLE} SET purchases = purchases + 100 "
                   "WHERE list_contains(?, customer_id)", [list(customers)])


def _poisoned(ws: Workspace) -> set[str]:
    rows = ws.con.execute(f"SELECT DISTINCT customer_id FROM {PAIR_FACTS_TABLE} "
                          "WHERE purchases > 100").fetchall()
    return {r[0] for r in rows}


def test_kept_pair_facts_equal_the_facts_of_every_line_after_each_change() -> None:
    """Facts kept from the last refresh, computed again only for the customers whose lines
    changed (added, removed, edited; a return; a new customer), give the pairs computed from
    every line, exactly; the others' facts are read as kept."""
    ws = simulated(customers=60, days=400, seed=3)
    first = _last_day(ws)
    assert _pairs(ws, first, kept_pair_facts(ws, first)) == _pairs(ws, first)
    customers = [r[0] for r in ws.con.execute(
        "SELECT DISTINCT customer_id FROM invoice_lines ORDER BY 1").fetchall()]
    steady, bought, edited, removed = customers[0], customers[1], customers[2], customers[3]
    _poison(ws, steady, bought, edited, removed)
    # a day of new lines: one customer buys again and returns something; a new customer
    sku = ws.con.execute("SELECT min(sku) FROM invoice_lines WHERE customer_id = ?",
                         [bought]).fetchone()[0]  # type: ignore[index]
    next_day = (first - DAY0).days + 1
    insert(ws, "invoice_lines", {
        "invoice_id": ["N1", "N2", "N3"], "line_no": [1, 1, 1],
        "invoice_date": pa.array([day(next_day)] * 3, type=pa.date32()),
        "customer_id": [bought, bought, "C-NEW"], "sku": [sku, "S1", "S2"],
        "quantity": [1.0, -1.0, 1.0], "net_revenue": pa.array([70.0, -30.0, 55.0]),
    })
    # an edited amount and a customer's lines removed (a corrected re-import)
    ws.con.execute("UPDATE invoice_lines SET net_revenue = net_revenue + 1 WHERE invoice_id = "
                   "(SELECT min(invoice_id) FROM invoice_lines WHERE customer_id = ?)", [edited])
    ws.con.execute("DELETE FROM invoice_lines WHERE customer_id = ?", [removed])
    latest = _last_day(ws)
    facts = kept_pair_facts(ws, latest)
    assert _poisoned(ws) == {steady}  # the changed customers' facts computed again, only theirs
    ws.con.execute(f"UPDATE {PAIR_FACTS_TABLE} SET purchases = purchases - 100 "
                   "WHERE customer_id = ?", [steady])
    assert _pairs(ws, latest, facts) == _pairs(ws, latest)
    assert removed not in set(_pairs(ws, latest, facts)["customer_id"].to_pylist())
    # nothing changed since: nothing computed again; --full (fresh): everything
    _poison(ws, steady)
    kept_pair_facts(ws, latest)
    assert _poisoned(ws) == {steady}
    kept_pair_facts(ws, latest, fresh=True)
    assert _poisoned(ws) == set()
    # facts kept by another version of this code are computed anew
    _poison(ws, steady)
    ws.con.execute(f"UPDATE {PAIR_STAMPS_TABLE} SET format = format - 1")
    kept_pair_facts(ws, latest)
    assert _poisoned(ws) == set()


def test_kept_pair_facts_are_only_those_of_every_line() -> None:
    """Judged before the lines' last day, the kept facts (of every line) do not apply."""
    ws = workspace(_history())
    assert kept_pair_facts(ws, CUTOFF - dt.timedelta(days=1)) is None
    assert _pairs(ws, CUTOFF, kept_pair_facts(ws, CUTOFF)) == _pairs(ws, CUTOFF)
