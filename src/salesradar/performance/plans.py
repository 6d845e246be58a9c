"""The sales plan: targets by rep or team, period and metric, and pacing against them.

Targets come from two places: the canonical ``targets`` table (imported) and targets set in the
app (:func:`set_target`, the ``sales_targets`` table of the app database). An app target for the
same rep or team, period, grain and metric replaces the imported one.

**Pacing** (:func:`pacing`) says where each rep stands today in a period: ``actual`` so far
(revenue or gross profit from the KPI registry, or won deals by close date) against
``expected`` = target × elapsed days ÷ days of the period (an even pace); ``pace`` = actual ÷
expected; ``projected`` = actual ÷ elapsed share (the period's end at today's pace); and the run
rate ``needed_per_day`` = (target − actual) ÷ days left, beside ``achieved_per_day``. A rep is
``done`` (actual ≥ target), ``ahead`` (pace ≥ 1), ``on_track`` (≥ 0.9) or ``behind``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
from sqlalchemy import select

from salesradar.app.db import AppDB
from salesradar.app.management import SalesTargetRow
from salesradar.errors import UserInputError
from salesradar.metrics import parse_period, plain_rows
from salesradar.metrics.frame import period_end, period_start
from salesradar.metrics.registry import Grain
from salesradar.performance.kpis import kpis_by
from salesradar.performance.text import value_text
from salesradar.workspace import data_day

METRICS = {  # metric -> (unit, English label, Hebrew label)
    "revenue": ("money", "Revenue", "הכנסות"),
    "gross_profit": ("money", "Gross profit", "רווח גולמי"),
    "deals_won": ("count", "Deals won", "עסקאות שנסגרו"),
}
ON_TRACK = 0.9
STATUS = {"done": ("target met", "היעד הושג"), "ahead": ("ahead", "מקדים"),
          "on_track": ("on track", "בקצב"), "behind": ("behind", "מפגר")}


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise UserInputError(f"unknown plan metric {metric!r}; plans track: "
                             f"{', '.join(METRICS)}")


def period_of(text: str) -> tuple[dt.date, dt.date, Grain]:
    """``"2026-10"``, ``"2026Q4"`` or ``"2026"`` -> first day, last day, grain."""
    start, grain = parse_period(text)
    if grain not in ("month", "quarter", "year"):
        raise UserInputError(f"a plan period is a month, quarter or year, not {text!r}")
    return start, period_end(start, grain), grain


def set_target(db: AppDB, *, period: str, metric: str, value: float, rep_id: str | None = None,
               team: str | None = None, set_by: str | None = None) -> dict[str, Any]:
    """Set (or replace) the target of one rep or one team for a period and metric."""
    check_metric(metric)
    if (rep_id is None) == (team is None):
        raise UserInputError("a target is for one rep or one team: give exactly one of them")
    if not value >= 0:
        raise UserInputError(f"a target cannot be negative, got {value}")
    start, _, grain = period_of(period)
    with db.session() as s:
        row = s.scalars(select(SalesTargetRow).where(
            SalesTargetRow.rep_id.is_(None) if rep_id is None else SalesTargetRow.rep_id == rep_id,
            SalesTargetRow.team.is_(None) if team is None else SalesTargetRow.team == team,
            SalesTargetRow.period == start, SalesTargetRow.grain == grain,
            SalesTargetRow.metric == metric)).first()
        if row is None:
            row = SalesTargetRow(rep_id=rep_id, team=team, period=start, grain=grain,
                                 metric=metric, value=value, set_at=dt.datetime.now(dt.UTC),
                                 set_by=set_by)
            s.add(row)
        else:
            row.value, row.set_at, row.set_by = value, dt.datetime.now(dt.UTC), set_by
        s.flush()
        return {"rep_id": rep_id, "team": team, "period": start.isoformat(), "grain": grain,
                "metric": metric, "value": value, "source": "app"}


def list_targets(ws: Any, db: AppDB | None, *, start: dt.date, grain: Grain,
                 metric: str) -> list[dict[str, Any]]:
    """Targets of one period and metric: imported, with app targets replacing the same key."""
    t = ws.table("targets")
    t = t.filter((t.period == ibis.date(start)) & (t.metric == metric)
                 & (t.grain.isnull() | (t.grain == grain)))
    rows = {(r["rep_id"], r["team"]): {**r, "source": "imported"} for r in plain_rows(
        t.select("rep_id", "team", "period", "grain", "metric", "value").to_pyarrow())}
    if db is not None:
        with db.session() as s:
            for a in s.scalars(select(SalesTargetRow).where(
                    SalesTargetRow.period == start, SalesTargetRow.grain == grain,
                    SalesTargetRow.metric == metric)).all():
                rows[(a.rep_id, a.team)] = {
                    "rep_id": a.rep_id, "team": a.team, "period": a.period.isoformat(),
                    "grain": a.grain, "metric": a.metric, "value": a.value, "source": "app"}
    return sorted(rows.values(), key=lambda r: (r["rep_id"] or "", r["team"] or ""))


def actuals_by_rep(ws: Any, metric: str, start: dt.date, end: dt.date) -> dict[str, float]:
    """The metric per rep over ``[start, end]`` (registry KPIs; won deals by close date)."""
    check_metric(metric)
    if metric == "deals_won":
        d = ws.table("deals")
        won = d.filter((d.outcome == "won") & (d.close_date >= ibis.date(start))
                       & (d.close_date <= ibis.date(end)))
        out = won.group_by(rep_id=won.owner_rep_id).aggregate(value=won.count()).to_pyarrow()
    else:
        out = kpis_by(ws.backend, [metric], ("rep",), None, start, end)[metric]
    return {r["rep_id"]: float(r["value"] or 0.0) for r in plain_rows(out)
            if r["rep_id"] is not None}


def _reps(ws: Any) -> dict[str, dict[str, Any]]:
    return {r["rep_id"]: r for r in plain_rows(
        ws.table("reps").select("rep_id", "name", "team").to_pyarrow())}


def pace_row(target: float, actual: float, elapsed: int, days: int) -> dict[str, Any]:
    """The pacing numbers of one target (see the module docstring)."""
    expected = target * elapsed / days
    left = days - elapsed
    pace = actual / expected if expected > 0 else None
    status = ("done" if actual >= target else "ahead" if (pace or 0) >= 1
              else "on_track" if (pace or 0) >= ON_TRACK else "behind")
    return {"target": target, "actual": actual, "expected": expected, "pace": pace,
            "attainment": actual / target if target > 0 else None,
            "projected": actual * days / elapsed if elapsed else None,
            "achieved_per_day": actual / elapsed if elapsed else None,
            "needed_per_day": max(target - actual, 0.0) / left if left > 0 else None,
            "status": status}


def pacing(ws: Any, db: AppDB | None = None, *, period: str | None = None,
           metric: str = "revenue", as_of: dt.date | None = None) -> dict[str, Any]:
    """Each rep's and team's standing in ``period`` (default: the month holding ``as_of``)."""
    check_metric(metric)
    day = as_of or data_day(ws)
    grain: Grain
    if period is None:
        start, grain = period_start(day, "month"), "month"
        end = period_end(start, "month")
    else:
        start, end, grain = period_of(period)
    if day < start:
        raise UserInputError(f"the period starts {start}, after the data ends ({day}): nothing "
                             "to pace yet")
    upto = min(day, end)
    elapsed, days = (upto - start).days + 1, (end - start).days + 1
    targets = list_targets(ws, db, start=start, grain=grain, metric=metric)
    actual = actuals_by_rep(ws, metric, start, upto)
    reps = _reps(ws)
    unit, label_en, label_he = METRICS[metric]
    rows: list[dict[str, Any]] = []
    teams: dict[str, list[float]] = {}
    for t in (t for t in targets if t["rep_id"]):  # one row per target
        rep = reps.get(t["rep_id"], {})
        row = {"rep_id": t["rep_id"], "name": rep.get("name"), "team": rep.get("team"),
               "source": t["source"],
               **pace_row(float(t["value"]), actual.get(t["rep_id"], 0.0), elapsed, days)}
        row.update(_texts(row, unit, elapsed, days))
        rows.append(row)
        sums = teams.setdefault(rep.get("team") or "", [0.0, 0.0])
        sums[0] += row["target"]
        sums[1] += row["actual"]
    for t in (t for t in targets if t["team"] and not t["rep_id"]):  # set for the whole team
        teams[t["team"]] = [float(t["value"]), teams.get(t["team"], [0.0, 0.0])[1]]
    team_rows = [{"team": team, **pace_row(tv, av, elapsed, days)}
                 for team, (tv, av) in sorted(teams.items())]
    total = pace_row(sum(r["target"] for r in rows), sum(r["actual"] for r in rows),
                     elapsed, days)
    return {"period": start.isoformat(), "end": end.isoformat(), "grain": grain,
            "metric": metric, "unit": unit, "label_en": label_en, "label_he": label_he,
            "as_of": upto.isoformat(), "elapsed_days": elapsed, "days": days,
            "reps": rows, "teams": team_rows, "total": total}


def _texts(row: dict[str, Any], unit: str, elapsed: int, days: int) -> dict[str, str]:
    share = f"{100 * elapsed / days:.0f}%"
    att = f"{100 * (row['attainment'] or 0):.0f}%"
    en_need = he_need = ""
    if row["needed_per_day"] is not None and row["status"] != "done":
        en_need = f"; needs {value_text(row['needed_per_day'], unit)} a day"
        he_need = f"; נדרשים {value_text(row['needed_per_day'], unit, 'he')} ליום"
    who = row["name"] or row["rep_id"]
    return {
        "status_en": STATUS[row["status"]][0], "status_he": STATUS[row["status"]][1],
        "summary_en": f"{who}: {value_text(row['actual'], unit)} of "
                      f"{value_text(row['target'], unit)} ({att}) with {share} of the period "
                      f"gone{en_need}",
        "summary_he": f"{who}: {value_text(row['actual'], unit, 'he')} מתוך "
                      f"{value_text(row['target'], unit, 'he')} ({att}) כשעברו {share} "
                      f"מהתקופה{he_need}",
    }
