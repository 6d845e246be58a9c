"""Rule-based commission plans, computed per rep and period, with a statement per rep.

A plan (a YAML file, or kept in the app database) names the metrics it pays on, each with a
weight, rate tiers on attainment and an optional accelerator, and a cap per rep and period::

    name: Account managers 2026
    grain: month            # attainment is measured per month (or quarter, year)
    cap: 20000              # the most one rep is paid for one period
    metrics:
      - metric: revenue     # revenue, gross_profit or deals_won
        weight: 0.7
        tiers:              # rate per unit of the metric, by attainment bracket
          - {from: 0.0, rate: 0.01}
          - {from: 0.8, rate: 0.02}
          - {from: 1.0, rate: 0.03}
        accelerator: {from: 1.0, multiplier: 1.5}
      - metric: deals_won
        weight: 0.3
        tiers: [{from: 0.0, rate: 100}]

The tiers are *marginal*, like tax brackets: with target T and actual A, the slice of A between
attainment ``from_i`` and ``from_i+1`` (i.e. between ``from_i × T`` and ``from_i+1 × T``) earns
``rate_i`` per unit; above the accelerator's ``from`` the rate is multiplied by its
``multiplier``. A metric's commission is the sum of its slices times its weight; the rep's
payout is the sum over metrics, at most ``cap``. A rep without a target for a metric earns
nothing on it (the statement says so).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from pathlib import Path
from typing import Any

from sqlalchemy import select

from salesradar.app.db import AppDB
from salesradar.app.management import CommissionPlanRow
from salesradar.errors import UserInputError
from salesradar.io.mapping import read_yaml_file
from salesradar.metrics.frame import last_whole, period_end
from salesradar.performance.plans import METRICS, actuals_by_rep, list_targets, period_of
from salesradar.performance.text import exact_money, value_text
from salesradar.workspace import data_day


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UserInputError(f"{where} must be a number, got {value!r}")
    return float(value)


def check_plan(doc: Any) -> dict[str, Any]:
    """The plan document validated and normalised; every problem is listed at once."""
    issues: list[str] = []
    if not isinstance(doc, dict):
        raise UserInputError("a commission plan is a mapping with name, grain, metrics and cap")
    name = str(doc.get("name") or "").strip()
    if not name:
        issues.append("name is missing")
    grain = doc.get("grain", "month")
    if grain not in ("month", "quarter", "year"):
        issues.append(f"grain must be month, quarter or year, not {grain!r}")
    cap = doc.get("cap")
    metrics = doc.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        issues.append("metrics must be a non-empty list")
        metrics = []
    out_metrics = []
    for i, m in enumerate(metrics):
        where = f"metrics[{i}]"
        try:
            if not isinstance(m, dict):
                raise UserInputError(f"{where} must be a mapping")
            metric = m.get("metric")
            if metric not in METRICS:
                raise UserInputError(f"{where}.metric must be one of {', '.join(METRICS)}, "
                                     f"not {metric!r}")
            weight = _number(m.get("weight", 1.0), f"{where}.weight")
            tiers = [(_number(t.get("from"), f"{where}.tiers.from"),
                      _number(t.get("rate"), f"{where}.tiers.rate"))
                     for t in m.get("tiers") or [] if isinstance(t, dict)]
            if not tiers or tiers[0][0] != 0.0:
                raise UserInputError(f"{where}.tiers must start at from: 0")
            if any(b[0] <= a[0] for a, b in itertools.pairwise(tiers)):
                raise UserInputError(f"{where}.tiers must be in increasing order of from")
            if weight <= 0 or any(r < 0 for _, r in tiers):
                raise UserInputError(f"{where}: weight must be > 0 and rates >= 0")
            acc = m.get("accelerator") or {}
            accelerator = (_number(acc.get("from", 1.0), f"{where}.accelerator.from"),
                           _number(acc.get("multiplier", 1.0), f"{where}.accelerator.multiplier"))
            if accelerator[1] < 1:
                raise UserInputError(f"{where}.accelerator.multiplier must be >= 1")
            out_metrics.append({"metric": metric, "weight": weight,
                                "tiers": [{"from": f, "rate": r} for f, r in tiers],
                                "accelerator": {"from": accelerator[0],
                                                "multiplier": accelerator[1]}})
        except UserInputError as exc:
            issues.append(str(exc))
    if cap is not None:
        try:
            cap = _number(cap, "cap")
        except UserInputError as exc:
            issues.append(str(exc))
    if issues:
        raise UserInputError("commission plan is not valid: " + "; ".join(issues))
    return {"name": name, "grain": grain, "cap": cap, "metrics": out_metrics}


def load_plan(path: Path) -> dict[str, Any]:
    """A plan from a YAML file."""
    return check_plan(read_yaml_file(path, "commission plan file"))


def save_plan(db: AppDB, plan: dict[str, Any]) -> dict[str, Any]:
    """Keep (or replace) a plan in the app database under its name."""
    plan = check_plan(plan)
    with db.session() as s:
        s.merge(CommissionPlanRow(name=plan["name"], document=plan,
                                  updated_at=dt.datetime.now(dt.UTC)))
    return plan


def stored_plan(db: AppDB, name: str) -> dict[str, Any]:
    """A plan kept in the app database."""
    with db.session() as s:
        row = s.get(CommissionPlanRow, name)
        if row is None:
            names = list(s.scalars(select(CommissionPlanRow.name)))
            raise UserInputError(f"no commission plan named {name!r} in the app database; "
                                 f"it has: {', '.join(names) or 'none'}")
        return check_plan(row.document)


def metric_commission(metric: dict[str, Any], target: float, actual: float
                      ) -> tuple[float, list[dict[str, Any]]]:
    """The commission of one metric before its weight, and its slices (see the docstring)."""
    edges = [t["from"] for t in metric["tiers"]]
    acc_from, multiplier = metric["accelerator"]["from"], metric["accelerator"]["multiplier"]
    # cut the brackets at the accelerator so each slice has one rate
    cuts = sorted(set([*edges, acc_from] if multiplier > 1 else edges))
    slices = []
    total = 0.0
    for i, lo in enumerate(cuts):
        hi = cuts[i + 1] if i + 1 < len(cuts) else math.inf
        amount = min(actual, hi * target) - lo * target
        if amount <= 0:
            break
        rate = next(t["rate"] for t in reversed(metric["tiers"]) if t["from"] <= lo)
        if multiplier > 1 and lo >= acc_from:
            rate *= multiplier
        total += amount * rate
        slices.append({"from": lo, "to": None if hi == math.inf else hi, "amount": amount,
                       "rate": rate, "commission": amount * rate})
    return total, slices


def compute_commissions(ws: Any, plan: dict[str, Any], *, period: str | None = None,
                        db: AppDB | None = None) -> dict[str, Any]:
    """Every rep's payout for ``period`` (default: the last whole period of the plan's grain),
    with a statement per rep in English and Hebrew."""
    plan = check_plan(plan)
    if period is None:
        grain = plan["grain"]
        start = last_whole(data_day(ws), grain)
        end = period_end(start, grain)
    else:
        start, end, grain = period_of(period)
    if grain != plan["grain"]:
        raise UserInputError(f"the plan pays per {plan['grain']}; ask for a {plan['grain']} "
                             f"period, not {period!r}")
    data = []
    for m in plan["metrics"]:
        targets = {t["rep_id"]: float(t["value"]) for t in list_targets(
            ws, db, start=start, grain=grain, metric=m["metric"]) if t["rep_id"]}
        data.append((m, targets, actuals_by_rep(ws, m["metric"], start, end)))
    everyone = sorted({r for _, targets, actual in data for r in (*targets, *actual)})
    lines: dict[str, list[dict[str, Any]]] = {}
    for rep in everyone:  # one statement line per rep and metric of the plan
        for m, targets, actual in data:
            target = targets.get(rep)
            value = actual.get(rep, 0.0)
            raw, slices = metric_commission(m, target, value) if target else (0.0, [])
            lines.setdefault(rep, []).append({
                "metric": m["metric"], "weight": m["weight"], "target": target, "actual": value,
                "attainment": value / target if target else None, "slices": slices,
                "commission": raw, "weighted": raw * m["weight"]})
    reps = []
    for rep, rep_lines in sorted(lines.items()):  # one statement per rep
        before_cap = sum(x["weighted"] for x in rep_lines)
        payout = min(before_cap, plan["cap"]) if plan["cap"] is not None else before_cap
        reps.append({"rep_id": rep, "lines": rep_lines, "before_cap": before_cap,
                     "capped": payout < before_cap, "payout": payout,
                     "statement_en": _statement(rep, rep_lines, before_cap, payout, "en"),
                     "statement_he": _statement(rep, rep_lines, before_cap, payout, "he")})
    return {"plan": plan["name"], "period": start.isoformat(), "end": end.isoformat(),
            "grain": grain, "cap": plan["cap"], "reps": reps,
            "total_payout": sum(r["payout"] for r in reps)}


def _statement(rep: str, lines: list[dict[str, Any]], before_cap: float, payout: float,
               lang: str) -> list[str]:
    he = lang == "he"
    out = []
    for x in lines:
        unit, en_label, he_label = METRICS[x["metric"]]
        label = he_label if he else en_label
        if not x["target"]:
            out.append(f"{label}: אין יעד, אין עמלה" if he else f"{label}: no target, no "
                       "commission")
            continue
        att = f"{100 * x['attainment']:.0f}%"
        head = (f"{label}: {value_text(x['actual'], unit, lang)} מתוך יעד "
                f"{value_text(x['target'], unit, lang)} ({att})" if he else
                f"{label}: {value_text(x['actual'], unit)} of a "
                f"{value_text(x['target'], unit)} target ({att})")
        def amount(v: float, unit: str = unit) -> str:
            return exact_money(v) if unit == "money" else value_text(v, unit, lang)

        parts = [f"{amount(s['amount'])} × {s['rate']:g} = {exact_money(s['commission'])}"
                 for s in x["slices"]] or [exact_money(0.0)]
        weight = f"{100 * x['weight']:.0f}%"
        tail = (f"; משקל {weight}: {exact_money(x['weighted'])}" if he else
                f"; weight {weight}: {exact_money(x['weighted'])}")
        out.append(head + ": " + " + ".join(parts) + tail)
    if payout < before_cap:
        out.append(f"סה\"כ {exact_money(before_cap)}, מוגבל בתקרה ל-"
                   f"{exact_money(payout)}" if he else
                   f"total {exact_money(before_cap)}, capped at {exact_money(payout)}")
    else:
        out.append(f"לתשלום {exact_money(payout)}" if he else
                   f"payout {exact_money(payout)}")
    return out
