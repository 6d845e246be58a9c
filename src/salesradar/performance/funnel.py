"""Funnel ratios per rep against the team's best, and the stage where each rep loses most.

Over a window (default: the last 180 days up to the last invoice), per rep:

* ``calls`` (activities of kind call), ``meetings`` (kind meeting, not cancelled), ``deals``
  (deals created in the window) and ``won`` (deals won with a close date in the window);
* the step ratios ``call_to_meeting`` = meetings ÷ calls, ``meeting_to_deal`` = deals ÷
  meetings and ``deal_to_won`` = won ÷ deals;
* ``avg_sale_per_customer`` = the registry's ARPA by rep (revenue ÷ active customers);
* against the best rep of the same team on each step: ``gap`` = 1 − ratio ÷ best, and
  ``weakest_step`` = the step with the largest gap (none when the rep is the best everywhere);
* ``lost_at`` = the stage where most of the rep's lost deals (closed in the window) stood last
  before they were lost (``deal_stage_history``), with the count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from salesradar.metrics import plain_rows
from salesradar.metrics.ranking import first_rows
from salesradar.performance.kpis import kpis_by
from salesradar.workspace import data_day

STEPS = {  # step -> (numerator, denominator, English, Hebrew)
    "call_to_meeting": ("meetings", "calls", "calls → meetings", "שיחות ← פגישות"),
    "meeting_to_deal": ("deals", "meetings", "meetings → deals", "פגישות ← עסקאות"),
    "deal_to_won": ("won", "deals", "deals → won", "עסקאות ← זכיות"),
}


def _count(t: Any, by: Any) -> dict[str, int]:
    out = t.group_by(rep_id=by).aggregate(n=t.count())
    return {r["rep_id"]: int(r["n"]) for r in plain_rows(out.to_pyarrow())}


def _lost_at(ws: Any, start: dt.date, end: dt.date) -> dict[str, tuple[str, int]]:
    deals = ws.table("deals")
    lost = deals.filter((deals.outcome == "lost") & (deals.close_date >= ibis.date(start))
                        & (deals.close_date <= ibis.date(end)))
    hist = ws.table("deal_stage_history")
    hist = hist.filter(~hist.stage.startswith("closed")).select(
        _deal=hist.deal_id, _stage=hist.stage, _at=hist.entered_at)
    j = lost.select("deal_id", "owner_rep_id").inner_join(hist, lost.deal_id == hist._deal)
    j = first_rows(j, ["deal_id"], ibis.desc(j._at), 1)  # the stage each deal was lost at
    per = j.group_by(rep_id=j.owner_rep_id, stage=j._stage).aggregate(n=j.count())
    out: dict[str, tuple[str, int]] = {}
    for r in plain_rows(per.order_by(["rep_id", ibis.desc("n"), "stage"]).to_pyarrow()):
        out.setdefault(r["rep_id"], (r["stage"], int(r["n"])))
    return out


def funnel_gaps(present: set[str]) -> list[tuple[str, str]]:
    """What the funnel cannot measure without a table, (English, Hebrew) each.

    >>> [en for en, _ in funnel_gaps({"deals", "activities", "deal_stage_history"})]
    ['no invoice lines: the average sale per customer is unknown']
    """
    out = []
    if "activities" not in present:
        out.append(("no activities imported: calls and meetings are not measured",
                    "לא יובאו פעילויות: שיחות ופגישות לא נמדדות"))
    if "deals" not in present:
        out.append(("no deals imported: deals and wins are not measured",
                    "לא יובאו עסקאות: עסקאות וזכיות לא נמדדות"))
    elif "deal_stage_history" not in present:
        out.append(("no deal stage history: where lost deals stood is unknown",
                    "אין היסטוריית שלבים: לא ידוע באיזה שלב אבדו עסקאות"))
    if "invoice_lines" not in present:
        out.append(("no invoice lines: the average sale per customer is unknown",
                    "אין שורות חשבונית: המכירה הממוצעת ללקוח לא ידועה"))
    return out


def rep_funnels(ws: Any, *, days: int = 180, as_of: dt.date | None = None) -> dict[str, Any]:
    """The funnel of every rep with activities or deals in the window (module docstring).

    The window ends on the data's last day (the last invoice, or in a CRM-only workspace the
    last CRM day). ``notes_en``/``notes_he`` say what cannot be measured and, when no rep has
    any activity or deal in the window, why the table is empty.
    """
    from salesradar.metrics.periods import data_last_day

    present = ws.loaded_tables()
    end = as_of or data_last_day(ws.backend, present) or data_day(ws)
    start = end - dt.timedelta(days=days - 1)
    lo, hi = ibis.date(start), ibis.date(end)
    acts = ws.table("activities")
    acts = acts.filter((acts.at.date() >= lo) & (acts.at.date() <= hi))
    calls = _count(acts.filter(acts.kind == "call"), acts.rep_id)
    meetings = _count(acts.filter((acts.kind == "meeting")
                                  & (acts.outcome.isnull() | (acts.outcome != "cancelled"))),
                      acts.rep_id)
    d = ws.table("deals")
    created = d.filter((d.created_at >= lo) & (d.created_at <= hi))
    won = d.filter((d.outcome == "won") & (d.close_date >= lo) & (d.close_date <= hi))
    deals, wins = _count(created, created.owner_rep_id), _count(won, won.owner_rep_id)
    arpa = {r["rep_id"]: r["value"] for r in plain_rows(
        kpis_by(ws.backend, ["arpa"], ("rep",), None, start, end)["arpa"])} \
        if "invoice_lines" in present else {}
    lost = _lost_at(ws, start, end) if {"deals", "deal_stage_history"} <= present else {}
    reps = {r["rep_id"]: r for r in plain_rows(
        ws.table("reps").select("rep_id", "name", "team").to_pyarrow())}
    counts = {"calls": calls, "meetings": meetings, "deals": deals, "won": wins}
    ids = sorted({r for c in counts.values() for r in c if r is not None})
    rows = []
    for rep in ids:  # one row per rep
        row: dict[str, Any] = {"rep_id": rep, "name": reps.get(rep, {}).get("name"),
                               "team": reps.get(rep, {}).get("team"),
                               **{k: c.get(rep, 0) for k, c in counts.items()},
                               "avg_sale_per_customer": arpa.get(rep)}
        for step, (num, den, _, _) in STEPS.items():
            row[step] = row[num] / row[den] if row[den] else None
        stage = lost.get(rep)
        row["lost_at"] = stage[0] if stage else None
        row["lost_at_count"] = stage[1] if stage else 0
        rows.append(row)
    for row in rows:  # against the best of the team, step by step
        team = [r for r in rows if r["team"] == row["team"]]
        gaps = {}
        for step in STEPS:
            best = max((r[step] for r in team if r[step] is not None), default=None)
            row[f"{step}_best"] = best
            if row[step] is not None and best:
                gaps[step] = 1 - row[step] / best
        weakest = max(gaps, key=lambda s: gaps[s]) if gaps and max(gaps.values()) > 0 else None
        row["weakest_step"] = weakest
        row["weakest_gap"] = gaps.get(weakest) if weakest else None
        row["weakest_en"] = STEPS[weakest][2] if weakest else None
        row["weakest_he"] = STEPS[weakest][3] if weakest else None
    notes = funnel_gaps(present)
    if not rows:
        span = f"{start:%d/%m/%Y}–{end:%d/%m/%Y}"
        notes.insert(0, (f"no rep has a call, meeting or deal in {span}: the funnel is empty",
                         f"לאף נציג אין שיחה, פגישה או עסקה ב-{span}: המשפך ריק"))
    return {"start": start.isoformat(), "end": end.isoformat(), "reps": rows,
            "notes_en": [n[0] for n in notes], "notes_he": [n[1] for n in notes]}
