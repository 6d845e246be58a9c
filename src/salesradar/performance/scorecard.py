"""Rep scorecards for the periodic feedback conversation: KPIs, trend, strengths, what to improve.

A rep is measured on the KPIs of their operating model (``reps.model``):

* **centre** ("sprinters"): time to first contact, lead-to-deal conversion, calls per day, answer
  rate, revenue per rep;
* **account** ("marathoners"): pipeline coverage, win rate, forecast accuracy, sales cycle,
  average deal size, active customers, gross profit.

Every number comes from the KPI registry (:func:`salesradar.metrics.compute_kpis`, split by rep),
so a scorecard says exactly what ``salesradar kpi NAME --by rep`` says. Each KPI has a *basis*:

* ``window`` -- the KPI over the last ``window_days`` days up to ``as_of`` (rates pool the deals or
  calls of the whole window, so a rep with few deals is not judged on one month);
* ``months`` -- the mean of the monthly values of the last three whole months (sums and counts;
  a month without a row counts as 0 when ``missing_is_zero``);
* ``next_month`` -- the value of the month after ``as_of`` (pipeline coverage looks forward).

``team_median`` and ``top_value`` are taken over the rep's peers: the reps of the same team and
operating model (all reps of that model when the team has no other). Strengths are the KPIs where
the rep is furthest ahead of the median (up to three, only those ahead); things to improve are
the KPIs furthest behind (one or two; for a rep ahead everywhere, the KPI with the largest gap to
the best). Each comes with an evidence sentence in English and Hebrew. Without peers the rep is
compared with their own value three months earlier.

Peers, and the reps listed when none are asked for, are the reps employed on ``as_of``
(``active_from``/``active_to``) with a value in some KPI of their model over the trend months, so
that team leads who do not sell and reps who left do not pull the median to zero.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa

from salesradar.errors import UserInputError
from salesradar.metrics import REGISTRY, plain_value
from salesradar.metrics.frame import last_whole, period_end, period_start, shift_date
from salesradar.performance.kpis import kpis_by
from salesradar.performance.text import value_text
from salesradar.workspace import data_day

# why a KPI has no value although its tables are loaded: (English, Hebrew); {basis} is the
# window or months it was taken over
NO_VALUE: dict[str, tuple[str, str]] = {
    "pipeline_coverage": ("no revenue target {basis}, or it is already won",
                          "אין יעד הכנסות {basis}, או שכבר הושג"),
    "win_rate": ("no deal won or lost {basis}", "אין עסקה שנסגרה בזכייה או בהפסד {basis}"),
    "forecast_accuracy": ("no forecast submission with a won amount {basis}",
                          "אין הגשת תחזית עם סכום זכייה {basis}"),
    "sales_cycle_days": ("no deal won {basis}", "אין עסקה שנסגרה בזכייה {basis}"),
    "avg_deal_size": ("no deal won {basis}", "אין עסקה שנסגרה בזכייה {basis}"),
    "time_to_first_contact_median": ("no lead contacted {basis}", "אין ליד שנוצר איתו קשר {basis}"),
    "lead_to_deal_rate": ("no lead created {basis}", "אין ליד שנוצר {basis}"),
    "calls_per_rep_day": ("no call {basis}", "אין שיחה {basis}"),
    "answer_rate": ("no call {basis}", "אין שיחה {basis}"),
}


def _reason_basis(spec: ScoreKpi, as_of: dt.date) -> tuple[str, str]:
    """The basis of a KPI as the end of a sentence: "in the last 90 days", "ב-90 הימים ..."."""
    if spec.basis == "window":
        return (f"in the last {spec.window_days} days",
                f"ב-{spec.window_days} הימים האחרונים")
    if spec.basis == "next_month":
        month = shift_date(period_start(as_of, "month"), "month").strftime("%m/%Y")
        return f"for next month ({month})", f"לחודש הבא ({month})"
    return (f"in the last {MEAN_MONTHS} whole months",
            f"ב-{MEAN_MONTHS} החודשים השלמים האחרונים")

Basis = Literal["window", "months", "next_month"]
TREND_MONTHS = 12
MEAN_MONTHS = 3


@dataclass(frozen=True)
class ScoreKpi:
    """One KPI of a scorecard and how its headline value is taken (see the module docstring)."""

    name: str
    basis: Basis
    window_days: int = 90
    missing_is_zero: bool = False


MODEL_KPIS: dict[str, tuple[ScoreKpi, ...]] = {
    "centre": (
        ScoreKpi("time_to_first_contact_median", "window"),
        ScoreKpi("lead_to_deal_rate", "window"),
        ScoreKpi("calls_per_rep_day", "window"),
        ScoreKpi("answer_rate", "window"),
        ScoreKpi("revenue_per_rep", "months", missing_is_zero=True),
    ),
    "account": (
        ScoreKpi("pipeline_coverage", "next_month"),
        ScoreKpi("win_rate", "window", 180),
        ScoreKpi("forecast_accuracy", "months"),
        ScoreKpi("sales_cycle_days", "window", 180),
        ScoreKpi("avg_deal_size", "window", 180),
        ScoreKpi("active_customers", "months", missing_is_zero=True),
        ScoreKpi("gross_profit", "months", missing_is_zero=True),
    ),
}


def rep_table(ws: Any) -> list[dict[str, Any]]:
    """The reps master (rep_id, name, team, model) as rows, in rep_id order."""
    reps = ws.table("reps")
    cols = ("rep_id", "name", "team", "model", "active_from", "active_to")
    rows: list[dict[str, Any]] = reps.select(*cols).order_by("rep_id").to_pyarrow().to_pylist()
    return rows


def _active(rep: dict[str, Any], day: dt.date) -> bool:
    """Employed on ``day`` by ``active_from``/``active_to`` (missing bounds are open)."""
    start, end = rep["active_from"], rep["active_to"]
    return (start is None or start <= day) and (end is None or end >= day)


def _by_rep(table: pa.Table) -> dict[tuple[str, Any], float | None]:
    """``(rep_id, period or None) -> value`` of a KPI result split by rep."""
    periods = table["period"].to_pylist() if "period" in table.column_names else None
    reps = table["rep_id"].to_pylist()
    values = [plain_value(v) for v in table["value"].to_pylist()]
    return {
        (rep, periods[i] if periods else None): (None if v is None else float(v))
        for i, (rep, v) in enumerate(zip(reps, values, strict=True))
        if rep is not None
    }


@dataclass(frozen=True)
class _Results:
    monthly: dict[str, dict[tuple[str, Any], float | None]]
    window: dict[str, dict[tuple[str, Any], float | None]]


def _compute(backend: Any, specs: Sequence[ScoreKpi], as_of: dt.date,
             present: set[str] | None = None) -> _Results:
    """Every KPI by rep and month over the trend range, and the window values; few queries.
    KPIs whose tables are not in ``present`` (loaded tables) are not computed (no values)."""
    last = last_whole(as_of, "month")
    first = shift_date(last, "month", -(TREND_MONTHS - 1))
    nxt = shift_date(period_start(as_of, "month"), "month")
    monthly: dict[str, dict[tuple[str, Any], float | None]] = {s.name: {} for s in specs}
    window: dict[str, dict[tuple[str, Any], float | None]] = {s.name: {} for s in specs}
    if present is not None:
        specs = [s for s in specs if set(REGISTRY[s.name].tables) <= present]
    by_end: dict[dt.date, list[str]] = {}
    for s in specs:
        by_end.setdefault(period_end(nxt, "month") if s.basis == "next_month"
                         else period_end(last, "month"),
                          []).append(s.name)
    for end, names in by_end.items():
        for name, table in kpis_by(backend, names, ("rep",), "month", first, end).items():
            monthly[name] = _by_rep(table)
    by_days: dict[int, list[str]] = {}
    for s in specs:
        if s.basis == "window":
            by_days.setdefault(s.window_days, []).append(s.name)
    for days, names in by_days.items():
        start = as_of - dt.timedelta(days=days - 1)
        for name, table in kpis_by(backend, names, ("rep",), None, start, as_of).items():
            window[name] = _by_rep(table)
    return _Results(monthly, window)


def _trend_months(spec: ScoreKpi, as_of: dt.date) -> list[dt.date]:
    last = last_whole(as_of, "month")
    if spec.basis == "next_month":
        last = shift_date(period_start(as_of, "month"), "month")
    return [shift_date(last, "month", -i) for i in range(TREND_MONTHS - 1, -1, -1)]


def _rep_kpi(spec: ScoreKpi, rep: str, res: _Results, as_of: dt.date) -> dict[str, Any]:
    """Value (by the spec's basis) and monthly trend of one KPI for one rep."""
    months = _trend_months(spec, as_of)
    series = res.monthly[spec.name]
    fill = 0.0 if spec.missing_is_zero else None
    values = [series.get((rep, m), fill) for m in months]
    value: float | None
    if spec.basis == "window":
        value = res.window[spec.name].get((rep, None), fill)
    elif spec.basis == "next_month":
        value = values[-1]
    else:
        recent = [v for v in values[-MEAN_MONTHS:] if v is not None]
        value = sum(recent) / len(recent) if recent else None
    trend = [{"period": m.isoformat(), "value": v} for m, v in zip(months, values, strict=True)]
    return {"value": value, "trend": trend}


def _basis_text(spec: ScoreKpi, as_of: dt.date) -> tuple[str, str]:
    if spec.basis == "window":
        return f"last {spec.window_days} days", f"{spec.window_days} הימים האחרונים"
    if spec.basis == "next_month":
        month = shift_date(period_start(as_of, "month"), "month").strftime("%Y-%m")
        return f"next month ({month})", f"החודש הבא ({month})"
    return (f"monthly mean of the last {MEAN_MONTHS} whole months",
            f"ממוצע חודשי של {MEAN_MONTHS} החודשים השלמים האחרונים")


def _peers(rep: dict[str, Any], reps: list[dict[str, Any]]) -> list[str]:
    same_model = [r for r in reps if r["model"] == rep["model"]]
    team = [r for r in same_model if r["team"] == rep["team"]]
    return [r["rep_id"] for r in (team if len(team) > 1 else same_model)]


def _selling(rep_id: str, model: str, res: _Results) -> bool:
    """Has the rep any value in the trend of their model's KPIs (team leads often have none)."""
    return any(key[0] == rep_id for s in MODEL_KPIS[model] for key in res.monthly[s.name])


def rep_scorecards(
    ws: Any, *, rep_ids: Iterable[str] | None = None, as_of: dt.date | None = None
) -> list[dict[str, Any]]:
    """The scorecard of each rep (all reps with an operating model when ``rep_ids`` is None).

    Returns one dict per rep: ``rep_id, name, team, model, as_of, kpis`` (each ``name, label_en,
    label_he, unit, higher_is_better, basis_en, basis_he, value, team_median, top_value,
    top_rep_id, peers, trend [{period, value}]``), ``strengths`` and ``improvements`` (each
    ``kpi, label_en, label_he, evidence_en, evidence_he``).

    Raises
    ------
    UserInputError
        A requested rep is not in the reps table or has no operating model.
    """
    from salesradar.metrics.periods import data_last_day
    from salesradar.metrics.unknowns import cost_status

    present = ws.loaded_tables()
    day = as_of or data_last_day(ws.backend, present) or data_day(ws)
    reps = rep_table(ws)
    known = {r["rep_id"]: r for r in reps}
    with_model = [r for r in reps if r["model"] in MODEL_KPIS]
    models = sorted({r["model"] for r in with_model})
    specs = [s for m in models for s in MODEL_KPIS[m]]
    res = _compute(ws.backend, specs, day, present) if specs else _Results({}, {})
    cost_known = "invoice_lines" not in present or cost_status(ws.backend)["profit_known"]
    # peers and the default list: reps employed on the day who sell (have KPI values)
    scored = [r for r in with_model
              if _active(r, day) and _selling(r["rep_id"], r["model"], res)]
    if rep_ids is not None:
        wanted = list(dict.fromkeys(rep_ids))
        missing = [r for r in wanted if r not in known]
        if missing:
            raise UserInputError(
                f"unknown rep {', '.join(missing)}; the reps table has: "
                f"{', '.join(known) or 'no reps (import the reps table)'}"
            )
        no_model = [r for r in wanted if known[r]["model"] not in MODEL_KPIS]
        if no_model:
            raise UserInputError(
                f"rep {', '.join(no_model)} has no operating model (reps.model must be centre "
                "or account), so there is no scorecard to show"
            )
        chosen = [known[r] for r in wanted]
    else:
        chosen = scored
    cache: dict[tuple[str, str], dict[str, Any]] = {}

    def kpi_of(spec: ScoreKpi, rep_id: str) -> dict[str, Any]:
        key = (spec.name, rep_id)
        if key not in cache:
            cache[key] = _rep_kpi(spec, rep_id, res, day)
        return cache[key]

    cards = []
    for rep in chosen:
        peers = _peers(rep, scored)
        kpis = []
        for spec in MODEL_KPIS[rep["model"]]:
            mine = kpi_of(spec, rep["rep_id"])
            peer_values = {p: kpi_of(spec, p)["value"] for p in peers or [rep["rep_id"]]}
            entry = _kpi_entry(spec, day, mine, peer_values)
            entry.update(why_no_value(spec, entry["value"], day, present, cost_known))
            if entry["why_en"] and not set(REGISTRY[spec.name].tables) <= present:
                entry["trend"] = [{**t, "value": None} for t in entry["trend"]]
                entry["value"] = None
            kpis.append(entry)
        strengths, improvements = pick_feedback(kpis, {r["rep_id"]: r["name"] for r in reps})
        cards.append({
            "rep_id": rep["rep_id"], "name": rep["name"], "team": rep["team"],
            "model": rep["model"], "as_of": day.isoformat(), "kpis": kpis,
            "strengths": strengths, "improvements": improvements,
        })
    return cards


def why_no_value(spec: ScoreKpi, value: float | None, day: dt.date, present: set[str],
                 cost_known: bool = True) -> dict[str, str | None]:
    """``why_en``/``why_he``: why a scorecard KPI shows no value (null when it has one): a
    table not imported, cost unknown, or nothing to measure in its basis.

    >>> spec = ScoreKpi("pipeline_coverage", "next_month")
    >>> why_no_value(spec, None, dt.date(2026, 10, 30), {"deals"})["why_en"]
    'not measured: import targets'
    """
    kpi = REGISTRY[spec.name]
    missing = [t for t in kpi.tables if t not in present]
    if missing:
        tables = ", ".join(missing)
        return {"why_en": f"not measured: import {tables}", "why_he": f"לא נמדד: יש לייבא {tables}"}
    if spec.name == "gross_profit" and not cost_known:
        return {"why_en": "unknown: the invoice lines lack cost",
                "why_he": "לא ידוע: לשורות החשבוניות אין עלות"}
    if value is not None:
        return {"why_en": None, "why_he": None}
    basis_en, basis_he = _reason_basis(spec, day)
    en, he = NO_VALUE.get(spec.name, ("no data {basis}", "אין נתונים {basis}"))
    return {"why_en": en.format(basis=basis_en), "why_he": he.format(basis=basis_he)}


def _kpi_entry(spec: ScoreKpi, day: dt.date, mine: dict[str, Any],
               peer_values: dict[str, float | None]) -> dict[str, Any]:
    kpi = REGISTRY[spec.name]
    known = {p: v for p, v in peer_values.items() if v is not None}
    top_rep = None
    if known:
        pick = max if kpi.higher_is_better is not False else min
        top_rep = pick(known, key=lambda p: known[p])
    basis_en, basis_he = _basis_text(spec, day)
    return {
        "name": kpi.name, "label_en": kpi.label_en, "label_he": kpi.label_he,
        "unit": kpi.unit.value, "higher_is_better": kpi.higher_is_better,
        "basis_en": basis_en, "basis_he": basis_he,
        "value": mine["value"],
        "team_median": statistics.median(known.values()) if known else None,
        "top_value": known[top_rep] if top_rep else None, "top_rep_id": top_rep,
        "peers": len(known), "trend": mine["trend"],
    }


def _standing(k: dict[str, Any]) -> tuple[float, str] | None:
    """How far ahead (+) or behind (-) the rep is, relative, and against what."""
    value, median = k["value"], k["team_median"]
    if value is None:
        return None
    sign = -1.0 if k["higher_is_better"] is False else 1.0
    if k["peers"] > 1 and median is not None:
        return sign * (value - median) / max(abs(median), 1e-9), "team"
    earlier = k["trend"][-1 - MEAN_MONTHS]["value"] if len(k["trend"]) > MEAN_MONTHS else None
    if earlier is None:
        return None
    return sign * (value - earlier) / max(abs(earlier), 1e-9), "trend"


def pick_feedback(
    kpis: list[dict[str, Any]], names: dict[str, str]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Up to three strengths (ahead of the median) and one or two things to improve."""
    scored = [(s[0], s[1], k) for k in kpis if (s := _standing(k)) is not None]
    scored.sort(key=lambda t: -t[0])
    strengths = [t for t in scored if t[0] > 0][:3]
    behind = [t for t in reversed(scored) if t[0] < 0][:2]
    if not behind:
        rest = [t for t in scored if t not in strengths] or scored[-1:]
        behind = sorted(rest, key=lambda t: _gap_to_best(t[2]))[-1:]
    return ([_evidence(k, basis, names, strength=True) for _, basis, k in strengths],
            [_evidence(k, basis, names, strength=False) for _, basis, k in behind])


def _gap_to_best(k: dict[str, Any]) -> float:
    if k["value"] is None or k["top_value"] is None:
        return 0.0
    return float(abs(k["top_value"] - k["value"]) / max(abs(k["top_value"]), 1e-9))


def _evidence(k: dict[str, Any], basis: str, names: dict[str, str], *,
              strength: bool) -> dict[str, str]:
    unit = k["unit"]

    def v(x: float | None, lang: str) -> str:
        return value_text(x, unit, lang)

    le, lh = k["label_en"], k["label_he"]
    if basis == "trend":
        earlier = k["trend"][-1 - MEAN_MONTHS]
        better = strength
        en = (f"{le} {v(k['value'], 'en')}, {'better' if better else 'worse'} than "
              f"{v(earlier['value'], 'en')} in {earlier['period'][:7]}")
        he = (f"{lh} {v(k['value'], 'he')}, {'טוב' if better else 'חלש'} יותר מ-"
              f"{v(earlier['value'], 'he')} ב-{earlier['period'][:7]}")
    elif strength and k["top_value"] == k["value"]:
        en = (f"{le} {v(k['value'], 'en')}: the best of {k['peers']} reps in the team "
              f"(median {v(k['team_median'], 'en')})")
        he = (f"{lh} {v(k['value'], 'he')}: הטוב ביותר מבין {k['peers']} נציגי הצוות "
              f"(חציון {v(k['team_median'], 'he')})")
    elif strength:
        en = (f"{le} {v(k['value'], 'en')} against the team median of "
              f"{v(k['team_median'], 'en')} (best {v(k['top_value'], 'en')})")
        he = (f"{lh} {v(k['value'], 'he')} לעומת חציון הצוות {v(k['team_median'], 'he')} "
              f"(הטוב ביותר {v(k['top_value'], 'he')})")
    else:
        top = names.get(k["top_rep_id"] or "", k["top_rep_id"] or "")
        en = (f"{le} {v(k['value'], 'en')} against the team median of "
              f"{v(k['team_median'], 'en')} and the best {v(k['top_value'], 'en')} ({top})")
        he = (f"{lh} {v(k['value'], 'he')} לעומת חציון הצוות {v(k['team_median'], 'he')} "
              f"והטוב ביותר {v(k['top_value'], 'he')} ({top})")
    return {"kpi": k["name"], "label_en": le, "label_he": lh,
            "evidence_en": en, "evidence_he": he}
