"""Portfolio forecast: the parts computed by hand (season, returns, new business, deals at
existing customers not counted twice, the range), repeat business from the rhythm and spend
models (bounded), the parts adding up, the backtest beside naive baselines, and the accuracy of
saved forecasts."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from models.invoice_helpers import simulated
from salesradar.app.db import AppDB
from salesradar.models.rhythm import BetaGeoModel
from salesradar.models.spend import GammaGammaModel
from salesradar.models.summary import purchase_summary
from salesradar.models.text import as_floats
from salesradar.performance import forecast as forecast_module
from salesradar.performance.forecast import (
    forecast_accuracy,
    forecast_backtest,
    portfolio_forecast,
    save_forecast,
    stage_probabilities,
)
from salesradar.workspace import Workspace

from .rows import insert, line

AS_OF = dt.date(2026, 6, 30)  # forecast July, August, September


def _deal(deal: str, outcome: str, stage: str, amount: float, close: str,
          category: str = "pipeline") -> dict[str, Any]:
    return {"deal_id": deal, "customer_id": "K1", "owner_rep_id": "R1", "stage": stage,
            "amount": amount, "created_at": "2026-01-01", "close_date": close,
            "outcome": outcome, "forecast_category": category}


def _pipeline(ws: Workspace, first: str, second: str) -> None:
    """Cross-sell offers of K1, closed deals with their stages, and open deals closing in the
    first (O1, and O2 which slipped) and second (O3) forecast month, and after it (O4)."""
    ws.backend.create_table("score_cross_sell", pa.table({
        "customer_id": ["K1", "K1", "K1", "K1"], "sku": ["A", "B", "C", "D"],
        "rank": [1, 2, 3, 4], "expected_value": [3652.0, 3652.0, 0.0, 40_000.0]}))
    insert(ws, "deals", [
        # closed deals through "proposal": D1, D4 won, D2, D3, D5 lost -> P = 2/5 = 0.4;
        # through "negotiation": D1 won, D3 lost -> P = 1/2 = 0.5
        _deal("D1", "won", "closed_won", 10, "2026-03-01"),
        _deal("D2", "lost", "closed_lost", 10, "2026-03-01"),
        _deal("D3", "lost", "closed_lost", 10, "2026-03-01"),
        _deal("D4", "won", "closed_won", 10, "2026-03-01"),
        _deal("D5", "lost", "closed_lost", 10, "2026-03-01"),
        _deal("O1", "open", "proposal", 1000, first),
        _deal("O2", "open", "negotiation", 2000, "2026-01-01"),  # slipped: counts in month 1
        _deal("O3", "open", "discovery", 100, second, "commit"),  # stage never closed
        _deal("O4", "open", "proposal", 5000, "2027-12-01"),  # after the forecast
    ])
    insert(ws, "deal_stage_history", [
        {"deal_id": d, "stage": s, "entered_at": dt.datetime(2026, 2, 1)}
        for d, stages in [("D1", ["proposal", "negotiation"]), ("D2", ["proposal"]),
                          ("D3", ["proposal", "negotiation"]), ("D4", ["proposal"]),
                          ("D5", ["proposal"])]
        for s in stages])


@pytest.fixture
def portfolio() -> Workspace:
    """300 simulated customers from 2025-01-01 to 2026-06-24 (rhythm models fit well)."""
    ws = simulated()
    _pipeline(ws, "2026-07-15", "2026-08-10")
    return ws


@pytest.fixture
def regular(ws: Workspace) -> Workspace:
    """Twelve customers buying every 30 days, a regularity the BG/NBD must still handle."""
    insert(ws, "invoice_lines", [
        line(100 * c + k, (dt.date(2026, 1, 1) + dt.timedelta(days=c + 30 * k)).isoformat(),
             f"K{c}", "R1", 300, 0) for c in range(12) for k in range(10)])
    _pipeline(ws, "2026-11-15", "2026-12-10")
    return ws


def test_stage_probabilities(portfolio: Workspace) -> None:
    probs = stage_probabilities(portfolio)
    assert probs["proposal"] == pytest.approx(0.4)
    assert probs["negotiation"] == pytest.approx(0.5)


def test_parts_and_their_sum(portfolio: Workspace) -> None:
    fc = portfolio_forecast(portfolio, as_of=AS_OF)
    jul, aug, sep = fc["periods"]
    assert [p["period"] for p in fc["periods"]] == ["2026-07-01", "2026-08-01", "2026-09-01"]
    # expansion (shown, not added): the top 3 offers (3,652 + 3,652 + 0 a year) × 10% adoption
    # × 31/365.2 of a year in July = 7,304 × 0.1 × 31/365.2 = 62; September has 30 days: 60
    assert jul["expansion"] == pytest.approx(62)
    assert sep["expansion"] == pytest.approx(60)
    # new business: K1 has never bought, so its deals are new: July O1 1,000 × 0.4 + O2
    # (slipped) 2,000 × 0.5 = 1,400; August O3 100 × 0.9 (the commit weight: its stage never
    # closed) = 90; September none
    assert (jul["new_deals"], aug["new_deals"], sep["new_deals"]) == (
        pytest.approx(1400), pytest.approx(90), 0.0)
    assert (jul["deals"], aug["deals"], sep["deals"]) == (2, 1, 0)
    # the rhythm model's repeat business: expected purchases in the month × expected value per
    # purchase, × the net factor (no returns: 1) × the season (July 2025 ÷ the mean month of
    # the year to June 2026)
    s = purchase_summary(portfolio.table("invoice_lines"), AS_OF).to_pyarrow()
    x, t_x, big_t, m = (as_floats(s[c]) for c in ("frequency", "recency", "T", "monetary"))
    with warnings.catch_warnings():  # fitted as the forecast does, which notes any warning
        warnings.simplefilter("ignore", UserWarning)
        rhythm = BetaGeoModel().fit(x, t_x, big_t)
        value = GammaGammaModel().fit(x[x > 0], m[x > 0]).expected_spend(x, m)
    n = rhythm.expected_purchases(31.0, x, t_x, big_t) - rhythm.expected_purchases(
        0.0, x, t_x, big_t)
    monthly = dict(portfolio.con.execute(
        "SELECT strftime(date_trunc('month', invoice_date), '%Y-%m'), sum(net_revenue)::DOUBLE "
        "FROM invoice_lines GROUP BY 1").fetchall())
    year = [f"2025-{k:02d}" for k in range(7, 13)] + [f"2026-{k:02d}" for k in range(1, 7)]
    season = monthly["2025-07"] / (sum(monthly[k] for k in year) / 12)
    assert jul["season"] == pytest.approx(season)
    assert jul["net_of_returns"] == 1.0
    assert jul["rhythm"] == pytest.approx(float((n * value).sum()) * season, rel=1e-4)
    # new customers: their first month's revenue, July 2025 to June 2026, a twelfth, × season
    (newcomers,) = portfolio.con.execute(
        "WITH f AS (SELECT customer_id, min(invoice_date) AS f FROM invoice_lines GROUP BY 1) "
        "SELECT sum(net_revenue)::DOUBLE FROM invoice_lines JOIN f USING (customer_id) WHERE "
        "f >= '2025-07-01' AND date_trunc('month', f) = date_trunc('month', invoice_date)"
    ).fetchone() or (0,)
    assert jul["new_customers"] == pytest.approx(newcomers / 12 * season)
    # a year of history: the seasonal rule, July 2025 × √(April–June 2026 ÷ April–June 2025),
    # less the usual new customers, is the repeat business
    growth = ((monthly["2026-04"] + monthly["2026-05"] + monthly["2026-06"])
              / (monthly["2025-04"] + monthly["2025-05"] + monthly["2025-06"])) ** 0.5
    assert jul["method"] == "seasonal"
    assert jul["growth"] == pytest.approx(growth)
    assert jul["repeat"] == pytest.approx(monthly["2025-07"] * growth - jul["new_customers"])
    # new business is the larger of the usual new customers and the new customers' deals
    assert jul["new_business"] == pytest.approx(max(jul["new_customers"], 1400))
    for p in fc["periods"]:  # the parts add up exactly, and the band holds the total
        assert p["total"] == p["repeat"] + p["new_business"]
        assert p["low"] <= p["total"] <= p["high"]


def test_very_regular_customers(regular: Workspace) -> None:
    fc = portfolio_forecast(regular, as_of=dt.date(2026, 10, 31))
    nov = fc["periods"][0]
    # twelve customers ordering 300 every 30 days, all still on rhythm on 10-31: about one
    # order each in November, ~12 × 300 = 3,600 (the model's estimate, not an exact figure)
    assert 2400 < nov["repeat"] < 4800
    assert nov["total"] == nov["repeat"] + nov["new_business"]
    # K1 already buys: its deals (1,400) are part of its repeat business, not added again;
    # no customer arrived after the data's first quarter: no new business
    assert nov["deals_existing"] == pytest.approx(1400)
    assert nov["new_business"] == 0.0


def _seasonal(ws: Workspace) -> None:
    """K1 buys 1,000 on the 1st of every month from January 2025 to November 2026, 2,000 in
    December 2025, and returns 230 on 20/03/2026; K2 buys once, 600 on 10/05/2026."""
    rows = []
    for k in range(23):
        day = dt.date(2025 + k // 12, k % 12 + 1, 1)
        rows.append(line(k, day.isoformat(), "K1", "R1", 2000 if day.month == 12 else 1000, 0))
    rows += [line(100, "2026-03-20", "K1", "R1", -230, 0),
             line(101, "2026-05-10", "K2", "R1", 600, 0)]
    insert(ws, "invoice_lines", rows)
    insert(ws, "deals", [  # a deal at a customer already buying, and one at a new customer
        {**_deal("E1", "open", "proposal", 5000, "2026-12-15", "commit"), "customer_id": "K2"},
        {**_deal("N1", "open", "proposal", 1000, "2026-12-20", "commit"), "customer_id": "K7"}])


def test_seasonal_net_and_not_counted_twice(ws: Workspace,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _seasonal(ws)
    # the rhythm models' part is replaced by a fixed 1,000 for December (variance 0)
    monkeypatch.setattr(forecast_module, "_repeat",
                        lambda *_: (np.array([1000.0]), np.array([0.0])))
    fc = portfolio_forecast(ws, as_of=dt.date(2026, 11, 30), periods=1)
    (dec,) = fc["periods"]
    # the last year, December 2025 to November 2026: 2,000 + 11 × 1,000 − 230 + 600 = 13,370,
    # a mean month of 1,114.17; December 2025 sold 2,000: season = 2,000 ÷ 1,114.17 = 1.7951
    season = 2000 / (13_370 / 12)
    assert dec["season"] == pytest.approx(season)
    # net of returns: 13,370 net ÷ 13,600 on purchase days = 0.98309
    assert dec["net_of_returns"] == pytest.approx(13_370 / 13_600)
    assert dec["rhythm"] == pytest.approx(1000 * 13_370 / 13_600 * season)
    # the seasonal rule: December 2025 × √(September–November 2026 ÷ the same months of 2025)
    # = 2,000 × √(3,000 ÷ 3,000) = 2,000
    assert (dec["method"], dec["growth"]) == ("seasonal", 1.0)
    # new customers: 600 in the last year's twelve months = 50 a month, × 1.7951 = 89.75;
    # the new customer's deal: 1,000 × 0.9 (commit) = 900, the larger
    assert dec["new_customers"] == pytest.approx(50 * season)
    assert dec["new_deals"] == pytest.approx(900)
    assert dec["new_business"] == pytest.approx(900)
    # repeat = the rule less the usual new customers: 2,000 − 89.75 = 1,910.25
    assert dec["repeat"] == pytest.approx(2000 - 50 * season)
    # the 5,000 deal at K2, who already buys, is part of repeat business: shown, not added
    assert dec["deals_existing"] == pytest.approx(4500)
    assert dec["total"] == pytest.approx(2000 - 50 * season + 900)
    # range: the deal's Bernoulli variance 0.9 × 0.1 × 1,000² plus (e × total)², e the root
    # mean square of the rule's own errors (forecast ÷ actual − 1) from January to November
    # 2026 (December 2025 has no year before it): January, February 0; March 1,000 against
    # 770; April √(2,770 ÷ 3,000) × 1,000 against 1,000; May the same against 1,600; June
    # √(3,370 ÷ 3,000) × 1,000, July and August √(3,600 ÷ 3,000) × 1,000, against 1,000;
    # September to November 0
    errors = [0.0, 0.0, 1000 / 770 - 1, (2770 / 3000) ** 0.5 - 1,
              (2770 / 3000) ** 0.5 * 1000 / 1600 - 1, (3370 / 3000) ** 0.5 - 1,
              1.2 ** 0.5 - 1, 1.2 ** 0.5 - 1, 0.0, 0.0, 0.0]
    e = (sum(x * x for x in errors) / len(errors)) ** 0.5
    assert fc["spread"] == pytest.approx(e)
    sd = (90_000 + (e * dec["total"]) ** 2) ** 0.5
    # eleven measured errors: Student's t quantile with 10 degrees of freedom, 1.3722
    assert dec["high"] - dec["total"] == pytest.approx(1.372184 * sd, rel=1e-6)
    assert dec["low"] == pytest.approx(max(dec["total"] - 1.372184 * sd, 0.0), rel=1e-6)


def test_short_history_says_no_season(ws: Workspace) -> None:
    insert(ws, "invoice_lines", [line(k, f"2026-0{m}-{d:02d}", f"K{k % 5}", "R1", 100, 0)
                                 for k, (m, d) in enumerate((m, d) for m in range(1, 7)
                                                            for d in (3, 13, 23))])
    fc = portfolio_forecast(ws, as_of=dt.date(2026, 6, 30), periods=1)
    assert fc["periods"][0]["season"] is None
    assert any("less than a year" in n for n in fc["notes"])
    assert any("פחות משנה" in n for n in fc["notes_he"])


def test_returns_and_free_repeat_days(portfolio: Workspace) -> None:
    """A customer whose repeat days sum to 0 (free goods) or who returns on another day no
    longer stops the forecast (UCI: "monetary must be > 0")."""
    insert(portfolio, "invoice_lines", [
        line(900, "2026-03-01", "Z1", "R1", 100, 0), line(901, "2026-04-01", "Z1", "R1", 0, 0),
        line(902, "2026-05-01", "Z1", "R1", 0, 0), line(903, "2026-05-02", "Z1", "R1", -40, 0)])
    fc = portfolio_forecast(portfolio, as_of=AS_OF, periods=1)
    assert 0 < fc["periods"][0]["repeat"] < 1e7
    assert fc["periods"][0]["net_of_returns"] < 1.0


def test_degenerate_fit_is_bounded(portfolio: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fit whose expected purchases overflow (classicmodels: 2.7 × 10⁷¹) is bounded by each
    customer's P(alive) × (r + x) ÷ (α + T) × days."""
    monkeypatch.setattr(BetaGeoModel, "expected_purchases",
                        lambda self, t, x, *_: np.full(len(x), 1e70 * (t + 1)))
    fc = portfolio_forecast(portfolio, as_of=AS_OF, periods=1)
    (jul,) = fc["periods"]
    assert math.isfinite(jul["total"]) and jul["repeat"] < 1e7
    assert any("bounded" in n for n in fc["notes"])


@pytest.fixture
def db() -> Iterator[AppDB]:
    with AppDB.open("sqlite://") as app:
        yield app


def test_accuracy_of_saved_forecasts(ws: Workspace, db: AppDB) -> None:
    insert(ws, "invoice_lines", [line(1, "2026-09-10", "K1", "R1", 1000, 0),
                                 line(2, "2026-09-20", "K2", "R1", 250, 0),
                                 line(3, "2026-10-31", "K2", "R1", 100, 0)])
    saved = save_forecast(db, {"as_of": "2026-08-31", "grain": "month", "periods": [
        {"period": "2026-09-01", "repeat": 900.0, "expansion": 0.0, "new_business": 100.0,
         "total": 1000.0, "low": 800.0, "high": 1200.0},
        {"period": "2026-11-01", "repeat": 900.0, "expansion": 0.0, "new_business": 0.0,
         "total": 900.0, "low": 700.0, "high": 1100.0}]})
    assert saved == 2
    (sept,) = forecast_accuracy(ws, db)  # November has not ended: not judged yet
    # September: actual 1,000 + 250 = 1,250; accuracy 1 − |1,000 − 1,250| ÷ 1,250 = 0.8
    assert sept["actual"] == pytest.approx(1250)
    assert sept["accuracy"] == pytest.approx(0.8)
    assert sept["within_range"] is False  # 1,250 is above the 1,200 high end


def test_accuracy_sums_each_period_once(ws: Workspace, db: AppDB,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    insert(ws, "invoice_lines", [line(1, "2026-09-10", "K1", "R1", 1000, 0),
                                 line(2, "2026-10-31", "K2", "R1", 100, 0)])
    for as_of, total in (("2026-07-31", 800.0), ("2026-08-31", 1100.0)):
        save_forecast(db, {"as_of": as_of, "grain": "month", "periods": [
            {"period": "2026-09-01", "repeat": total, "expansion": 0.0, "new_business": 0.0,
             "total": total, "low": total - 100, "high": total + 100}]})
    calls: list[tuple[dt.date, dt.date]] = []
    revenue = forecast_module._revenue

    def counted(ws_: Workspace, start: dt.date, end: dt.date) -> float:
        calls.append((start, end))
        return revenue(ws_, start, end)

    monkeypatch.setattr(forecast_module, "_revenue", counted)
    rows = forecast_accuracy(ws, db)
    # two snapshots of September, both against its 1,000 invoiced: 800 -> 0.8, 1,100 -> 0.9
    assert [r["actual"] for r in rows] == [pytest.approx(1000)] * 2
    assert sorted(r["accuracy"] for r in rows) == [pytest.approx(0.8), pytest.approx(0.9)]
    assert calls == [(dt.date(2026, 9, 1), dt.date(2026, 9, 30))]


def test_backtest_beside_naive_baselines(portfolio: Workspace) -> None:
    # the simulation ends 2026-06-24, so May 2026 is the last whole month; April and May
    result = forecast_backtest(portfolio, months=2)
    assert [m["period"] for m in result["months"]] == ["2026-04-01", "2026-05-01"]
    monthly = dict(portfolio.con.execute(
        "SELECT strftime(date_trunc('month', invoice_date), '%Y-%m'), sum(net_revenue)::DOUBLE "
        "FROM invoice_lines GROUP BY 1").fetchall())
    for m in result["months"]:
        start = dt.date.fromisoformat(m["period"])
        as_of = start - dt.timedelta(days=1)
        assert m["as_of"] == as_of.isoformat()
        again = forecast_module._forecast(portfolio, as_of, [(start, start.replace(
            day=30 if start.month == 4 else 31))], "month", 0.1, with_crm=False)
        # (refitted: sums run in parallel in the engine, so the last digits may differ)
        assert m["forecast"] == pytest.approx(again["periods"][0]["total"], rel=1e-4)
        assert m["actual"] == pytest.approx(monthly[m["period"][:7]])
        assert m["accuracy"] == pytest.approx(1 - abs(m["forecast"] - m["actual"]) / m["actual"])
        # baselines: the same month of 2025, and the mean of the three months before
        assert m["same_month_last_year"] == pytest.approx(monthly[f"2025-{m['period'][5:7]}"])
        before = [f"2026-0{start.month - k}" for k in (1, 2, 3)]
        assert m["mean_last_3"] == pytest.approx(sum(monthly[b] for b in before) / 3)
    assert result["compared"] == 2
    assert result["mape"]["mean_last_3"] == pytest.approx(
        sum(abs(m["mean_last_3"] - m["actual"]) / m["actual"] for m in result["months"]) / 2)
    assert result["mean_accuracy"] == pytest.approx(
        sum(m["accuracy"] for m in result["months"]) / 2)
