"""Portfolio forecast: repeat business + expansion + new business, with a range and its accuracy.

For each of the next ``periods`` months (or quarters) after ``as_of``:

* **repeat business** of existing customers -- the purchase-rhythm model (BG/NBD, fitted on the
  customers' purchase days up to ``as_of``) gives each customer's expected purchases in the
  period (expected purchases by its end minus by its start); Gamma-Gamma gives the expected
  value of each purchase; repeat = Σ expected purchases × value;
* **expansion** -- the top :data:`TOP_OFFERS` cross-sell offers of each customer
  (``score_cross_sell``, a year's expected value each) × :data:`ADOPTION` (the share of offers
  expected to be taken per quarter), scaled to the period's days;
* **new business** -- each open deal closing in the period (a deal whose close date has passed
  counts in the first period) × the probability of its stage: of the closed deals that passed
  through that stage (``deal_stage_history``), the share that was won; a stage never seen closed
  falls back to the weight of the deal's forecast category.

``total`` = repeat + expansion + new business, exactly. The range is total ± 1.28 standard
deviations (an 80% band, never below 0) from the parts' own variance: Poisson purchases for
repeat business, one Bernoulli per offer and per deal.

:func:`save_forecast` keeps each period's forecast in the app database;
:func:`forecast_accuracy` compares the saved forecasts of finished periods with the revenue that
came in: accuracy = 1 − |forecast − actual| ÷ actual (as the ``forecast_accuracy`` KPI), and
whether the actual fell inside the range. :func:`forecast_backtest` replays the repeat-business
part on the workspace's own history: as of the day before each of the last months, the next
month's repeat business against the revenue invoiced in it (expansion and new business cannot be
replayed: the cross-sell scores and the deals' stages are today's).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from typing import Any

import ibis
import numpy as np
from sqlalchemy import select

from salesradar.accounts.common import score_rows
from salesradar.app.db import AppDB
from salesradar.app.management import ForecastSnapshotRow
from salesradar.errors import UserInputError
from salesradar.metrics import plain_rows
from salesradar.metrics.catalog.pipeline import CATEGORY_WEIGHTS, OTHER_WEIGHT
from salesradar.metrics.frame import last_whole, period_end, period_start, shift_date
from salesradar.metrics.registry import Grain
from salesradar.models.base import FloatArray
from salesradar.models.rhythm import BetaGeoModel
from salesradar.models.spend import GammaGammaModel
from salesradar.models.summary import purchase_summary
from salesradar.models.text import as_floats
from salesradar.workspace import data_day

ADOPTION = 0.10
TOP_OFFERS = 3
YEAR_DAYS = 365.2  # four quarters of 91.3 days
Z80 = 1.2816  # two-sided 80% band of a normal distribution


def forecast_periods(as_of: dt.date, periods: int, grain: str) -> list[tuple[dt.date, dt.date]]:
    """The ``periods`` whole periods after the one holding ``as_of``: (first day, last day)."""
    if grain not in ("month", "quarter"):
        raise UserInputError(f"forecast by month or quarter, not {grain!r}")
    if not 1 <= periods <= 24:
        raise UserInputError(f"periods must be between 1 and 24, got {periods}")
    g: Grain = "month" if grain == "month" else "quarter"
    first = shift_date(period_start(as_of, g), g)
    starts = [shift_date(first, g, i) for i in range(periods)]
    return [(s, period_end(s, g)) for s in starts]


def _repeat(ws: Any, as_of: dt.date, bounds: list[tuple[dt.date, dt.date]], notes: list[str]
            ) -> tuple[FloatArray, FloatArray]:
    """Expected repeat revenue per period and its variance (Poisson purchases).

    A fit the models warn about (not fully converged, no dropout seen) is still used (its
    estimates are what the data supports); the warning goes into ``notes`` so the output says
    so.
    """
    summary = purchase_summary(ws.table("invoice_lines"), as_of).to_pyarrow()
    x, t_x, big_t = (as_floats(summary[c]) for c in ("frequency", "recency", "T"))
    m = as_floats(summary["monetary"])
    repeaters = (x > 0) & (m > 0)
    if repeaters.sum() < 2:
        notes.append("fewer than two repeat customers: no repeat business forecast")
        return np.zeros(len(bounds)), np.zeros(len(bounds))
    with warnings.catch_warnings(record=True) as caught:
        # the models warn (as UserWarning subclasses) when the data barely identify them
        warnings.simplefilter("always", UserWarning)
        rhythm = BetaGeoModel().fit(x, t_x, big_t)
        spend = GammaGammaModel().fit(x[repeaters], m[repeaters])
    notes.extend(str(w.message) for w in caught if issubclass(w.category, UserWarning))
    value = spend.expected_spend(x, np.where(repeaters, m, 0.0))
    value = np.where(np.isfinite(value), value, 0.0)
    means, variances = [], []
    for start, end in bounds:  # one vectorized evaluation per period, never per customer
        t0 = float((start - as_of).days - 1)
        t1 = float((end - as_of).days)
        n = rhythm.expected_purchases(t1, x, t_x, big_t) - rhythm.expected_purchases(
            t0, x, t_x, big_t)
        means.append(float((n * value).sum()))
        variances.append(float((n * value * value).sum()))
    return np.array(means), np.array(variances)


def _expansion(ws: Any, bounds: list[tuple[dt.date, dt.date]],
               adoption: float) -> tuple[FloatArray, FloatArray]:
    offers = [r for r in score_rows(ws, "cross_sell") if r["rank"] <= TOP_OFFERS]
    values = np.array([float(r["expected_value"] or 0.0) for r in offers])
    means, variances = [], []
    for start, end in bounds:
        scale = ((end - start).days + 1) / YEAR_DAYS
        v = values * scale
        means.append(float((adoption * v).sum()))
        variances.append(float((adoption * (1 - adoption) * v * v).sum()))
    return np.array(means), np.array(variances)


def stage_probabilities(ws: Any) -> dict[str, float]:
    """P(won | the deal reached the stage), from the closed deals' stage history."""
    hist = ws.table("deal_stage_history")
    deals = ws.table("deals")
    closed = deals.filter(deals.outcome.isin(["won", "lost"])).select(
        _deal=deals.deal_id, _won=deals.outcome == "won")
    j = hist.inner_join(closed, hist.deal_id == closed._deal).select("stage", "deal_id", "_won")
    j = j.distinct()
    out = j.group_by("stage").aggregate(
        deals=j.count(), won=ibis.ifelse(j._won, 1, 0).sum())
    return {r["stage"]: r["won"] / r["deals"] for r in plain_rows(out.to_pyarrow())
            if r["deals"]}


def open_deals(ws: Any, as_of: dt.date, bounds: list[tuple[dt.date, dt.date]]
               ) -> list[dict[str, Any]]:
    """Open deals closing by the end of the forecast, each with its period and probability."""
    deals = ws.table("deals")
    open_ = deals.filter((deals.outcome == "open") & deals.close_date.notnull()
                         & (deals.close_date <= ibis.date(bounds[-1][1])))
    rows = plain_rows(open_.select("deal_id", "customer_id", "owner_rep_id", "stage", "amount",
                                   "close_date", "forecast_category").to_pyarrow())
    probs = stage_probabilities(ws)
    for r in rows:  # open deals only: a short list
        close = dt.date.fromisoformat(r["close_date"])
        r["period"] = next(i for i, (_, end) in enumerate(bounds) if close <= end)
        category = (r["forecast_category"] or "").lower().replace(" ", "_")
        r["probability"] = probs.get(r["stage"], CATEGORY_WEIGHTS.get(category, OTHER_WEIGHT))
        r["expected"] = float(r["amount"] or 0.0) * r["probability"]
    return rows


def portfolio_forecast(
    ws: Any, *, periods: int = 3, grain: str = "month", as_of: dt.date | None = None,
    adoption: float = ADOPTION,
) -> dict[str, Any]:
    """The forecast of the module docstring, one row per period, plus the deals behind it."""
    if not 0 <= adoption <= 1:
        raise UserInputError(f"adoption must be between 0 and 1, got {adoption}")
    day = as_of or data_day(ws)
    bounds = forecast_periods(day, periods, grain)
    notes: list[str] = []
    repeat, repeat_var = _repeat(ws, day, bounds, notes)
    expansion, expansion_var = _expansion(ws, bounds, adoption)
    deals = open_deals(ws, day, bounds)
    new = np.zeros(len(bounds))
    new_var = np.zeros(len(bounds))
    for d in deals:
        amount, p = float(d["amount"] or 0.0), d["probability"]
        new[d["period"]] += amount * p
        new_var[d["period"]] += p * (1 - p) * amount * amount
    rows = []
    for i, (start, end) in enumerate(bounds):
        total = float(repeat[i] + expansion[i] + new[i])
        sd = math.sqrt(float(repeat_var[i] + expansion_var[i] + new_var[i]))
        rows.append({
            "period": start.isoformat(), "end": end.isoformat(), "repeat": float(repeat[i]),
            "expansion": float(expansion[i]), "new_business": float(new[i]), "total": total,
            "low": max(total - Z80 * sd, 0.0), "high": total + Z80 * sd,
            "deals": sum(d["period"] == i for d in deals),
        })
    return {"as_of": day.isoformat(), "grain": grain, "adoption": adoption, "periods": rows,
            "notes": notes,
            "deals": [{k: v for k, v in d.items() if k != "forecast_category"} for d in deals]}


def save_forecast(db: AppDB, forecast: dict[str, Any]) -> int:
    """Keep every period of ``forecast`` in the app database; returns the rows written."""
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        for p in forecast["periods"]:
            s.add(ForecastSnapshotRow(
                made_at=now, as_of=dt.date.fromisoformat(forecast["as_of"]),
                period=dt.date.fromisoformat(p["period"]), grain=forecast["grain"],
                repeat=p["repeat"], expansion=p["expansion"], new_business=p["new_business"],
                total=p["total"], low=p["low"], high=p["high"]))
    return len(forecast["periods"])


def forecast_accuracy(ws: Any, db: AppDB) -> list[dict[str, Any]]:
    """Saved forecasts of periods that have ended, against the revenue invoiced in them."""
    last = data_day(ws)
    with db.session() as s:
        snaps = list(s.scalars(select(ForecastSnapshotRow).order_by(
            ForecastSnapshotRow.period, ForecastSnapshotRow.made_at)).all())
    out = []
    actuals: dict[tuple[dt.date, dt.date], float] = {}  # a few snapshots share one period
    for r in snaps:
        g: Grain = "month" if r.grain == "month" else "quarter"
        end = period_end(r.period, g)
        if end > last:
            continue
        if (r.period, end) not in actuals:
            actuals[r.period, end] = _revenue(ws, r.period, end)
        actual = actuals[r.period, end]
        out.append({"made_at": r.made_at.isoformat(), "as_of": r.as_of.isoformat(),
                    "period": r.period.isoformat(), "grain": r.grain, "total": r.total,
                    "low": r.low, "high": r.high, "actual": actual,
                    "accuracy": 1 - abs(r.total - actual) / actual if actual else None,
                    "within_range": r.low <= actual <= r.high})
    return out


def _revenue(ws: Any, start: dt.date, end: dt.date) -> float:
    lines = ws.table("invoice_lines")
    t = lines.filter((lines.invoice_date >= ibis.date(start))
                     & (lines.invoice_date <= ibis.date(end)))
    return float(t.net_revenue.cast("float64").sum().execute() or 0.0)


def forecast_backtest(ws: Any, *, months: int = 6) -> dict[str, Any]:
    """Repeat business forecast one month ahead for each of the last ``months`` whole months,
    against the revenue invoiced in the month; accuracy = 1 − |forecast − actual| ÷ actual."""
    if not 1 <= months <= 24:
        raise UserInputError(f"months must be between 1 and 24, got {months}")
    last = data_day(ws)
    final = last_whole(last, "month")
    rows: list[dict[str, Any]] = []
    for i in range(months - 1, -1, -1):  # one model fit per month replayed
        start = shift_date(final, "month", -i)
        end = period_end(start, "month")
        as_of = start - dt.timedelta(days=1)
        notes: list[str] = []
        repeat, _ = _repeat(ws, as_of, [(start, end)], notes)
        actual = _revenue(ws, start, end)
        rows.append({"period": start.isoformat(), "as_of": as_of.isoformat(),
                     "forecast": float(repeat[0]), "actual": actual,
                     "accuracy": 1 - abs(float(repeat[0]) - actual) / actual if actual else None,
                     "notes": notes})
    scored: list[float] = [r["accuracy"] for r in rows if r["accuracy"] is not None]
    return {"months": rows, "mean_accuracy": sum(scored) / len(scored) if scored else None}
