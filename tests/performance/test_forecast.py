"""Portfolio forecast: the parts computed by hand (expansion, new business), repeat business from
the rhythm and spend models, the parts adding up, and the accuracy of saved forecasts."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from typing import Any

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
    # expansion: the top 3 offers (3,652 + 3,652 + 0 a year) × 10% adoption × 31/365.2 of a
    # year in July = 7,304 × 0.1 × 31/365.2 = 62; September has 30 days: 60
    assert jul["expansion"] == pytest.approx(62)
    assert sep["expansion"] == pytest.approx(60)
    # new business: July O1 1,000 × 0.4 + O2 (slipped) 2,000 × 0.5 = 1,400;
    # August O3 100 × 0.9 (the commit weight: its stage never closed) = 90; September none
    assert (jul["new_business"], aug["new_business"], sep["new_business"]) == (
        pytest.approx(1400), pytest.approx(90), 0.0)
    assert (jul["deals"], aug["deals"], sep["deals"]) == (2, 1, 0)
    # repeat: expected purchases in the month × expected value per purchase, from the models
    s = purchase_summary(portfolio.table("invoice_lines"), AS_OF).to_pyarrow()
    x, t_x, big_t, m = (as_floats(s[c]) for c in ("frequency", "recency", "T", "monetary"))
    with warnings.catch_warnings():  # fitted as the forecast does, which notes any warning
        warnings.simplefilter("ignore", UserWarning)
        rhythm = BetaGeoModel().fit(x, t_x, big_t)
        value = GammaGammaModel().fit(x[x > 0], m[x > 0]).expected_spend(x, m)
    n = rhythm.expected_purchases(31.0, x, t_x, big_t) - rhythm.expected_purchases(
        0.0, x, t_x, big_t)
    assert jul["repeat"] == pytest.approx(float((n * value).sum()), rel=1e-4)  # refitted
    assert jul["repeat"] > 0
    for p in fc["periods"]:  # the parts add up exactly, and the band holds the total
        assert p["total"] == p["repeat"] + p["expansion"] + p["new_business"]
        assert p["low"] <= p["total"] <= p["high"]
    # July's band: variance = Σ n·v² (repeat) + 2 × 0.1·0.9·310² (expansion, 3,652 × 31/365.2
    # = 310 per offer) + 0.4·0.6·1000² + 0.5·0.5·2000² (new business); ±1.2816 sd
    var = float((n * value * value).sum()) + 17_298 + 1_240_000
    assert jul["high"] - jul["total"] == pytest.approx(1.2816 * var ** 0.5, rel=1e-4)


def test_very_regular_customers(regular: Workspace) -> None:
    fc = portfolio_forecast(regular, as_of=dt.date(2026, 10, 31))
    nov = fc["periods"][0]
    # twelve customers ordering 300 every 30 days, all still on rhythm on 10-31: about one
    # order each in November, ~12 × 300 = 3,600 (the model's estimate, not an exact figure)
    assert 2400 < nov["repeat"] < 4800
    assert nov["total"] == nov["repeat"] + nov["expansion"] + nov["new_business"]
    assert nov["new_business"] == pytest.approx(1400)


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


def test_backtest_replays_the_repeat_forecast(portfolio: Workspace) -> None:
    # the simulation ends 2026-06-24, so May 2026 is the last whole month; April and May
    result = forecast_backtest(portfolio, months=2)
    assert [m["period"] for m in result["months"]] == ["2026-04-01", "2026-05-01"]
    for m, end in zip(result["months"], ("2026-04-30", "2026-05-31"), strict=True):
        as_of = dt.date.fromisoformat(m["as_of"])
        assert as_of == dt.date.fromisoformat(m["period"]) - dt.timedelta(days=1)
        again = portfolio_forecast(portfolio, as_of=as_of, periods=1)["periods"][0]
        # (refitted: sums run in parallel in the engine, so the last digits may differ)
        assert m["forecast"] == pytest.approx(again["repeat"], rel=1e-4)
        (actual,) = portfolio.con.execute(
            "SELECT sum(net_revenue) FROM invoice_lines WHERE invoice_date BETWEEN ? AND ?",
            [m["period"], end]).fetchone() or (0,)
        assert m["actual"] == pytest.approx(float(actual))
        assert m["accuracy"] == pytest.approx(1 - abs(m["forecast"] - m["actual"]) / m["actual"])
    assert result["mean_accuracy"] == pytest.approx(
        sum(m["accuracy"] for m in result["months"]) / 2)
