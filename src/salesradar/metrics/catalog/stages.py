"""Stage KPIs from ``deal_stage_history``: stage conversion and time in stage.

A deal's history is its stage entries in time order. Each entry into a stage that is not a
*closing* stage (a name starting with "closed", as ``closed_won`` or HubSpot's ``closedlost``) is
a **visit**, placed in the period of the day the deal entered the stage, split by the stage, the
deal's pipeline and its owner (rep, team, manager). A visit ends when the deal enters its next
stage; then it either

* **moved on** — the next entry is another open stage, or the deal was won (its next entry is its
  closing stage, or it has none and ``outcome = 'won'``);
* **was lost there** — the deal was lost (``outcome = 'lost'``) with no other open stage after it;
* is **undecided** — the deal is still open and has not left the stage.

* **Stage conversion** = visits that moved on ÷ visits that moved on or were lost there (decided
  visits; null when none is decided yet): like a win rate, stage by stage.
* **Time in stage** = mean days from entering the stage to entering the next one, over visits
  that have a next entry (an open deal's current stage is not over yet, so it does not count).
"""

from __future__ import annotations

from typing import Any

import ibis

from salesradar.metrics.catalog._common import agg, count_if, days_between, finish, ratio
from salesradar.metrics.frame import REP_DIMS, Query, Source
from salesradar.metrics.registry import ALL_PERIODS, Kind, Kpi, Unit

STAGE_DIMS = ("stage", "pipeline", *REP_DIMS)
_VISITS = Source("deal_stage_history", "entered_at",
                 {"stage": "stage", "pipeline": "pipeline", "rep": "owner_rep_id"},
                 timestamp=True)


def _closing(stage: Any) -> Any:
    return stage.lower().startswith("closed")


def _visits(q: Query) -> Any:
    """One row per visit: ``_moved``, ``_lost`` and ``_days`` (see the module docstring)."""
    h = q.table("deal_stage_history")
    order = ibis.window(group_by=h.deal_id, order_by=[h.entered_at, h.stage])
    h = h.mutate(_next_at=h.entered_at.lead().over(order),
                 _next_stage=h.stage.lead().over(order))
    h = h.filter(~_closing(h.stage))
    d = q.table("deals")
    d = d.select(_deal=d.deal_id, owner_rep_id=d.owner_rep_id, pipeline=d.pipeline,
                 _outcome=d.outcome)
    v = h.left_join(d, h.deal_id == d._deal)
    onward = v._next_at.notnull() & ~_closing(v._next_stage).fill_null(False)
    v = v.mutate(
        _moved=onward | (~onward & (v._outcome == "won")),
        _lost=~onward & (v._outcome == "lost"),
        _days=days_between(v._next_at, v.entered_at),
    )
    return q.prepared(v, _VISITS)


def _conversion(q: Query) -> Any:
    v = _visits(q)
    out = agg(v, q.keys, moved=count_if(v._moved), lost=count_if(v._lost))
    return finish(q, out, ratio(out.moved, out.moved + out.lost))


def _time_in_stage(q: Query) -> Any:
    v = _visits(q)
    out = agg(v, q.keys, days=v._days.mean())
    return finish(q, out, out.days)


def _stage_kpi(name: str, en: str, he: str, den: str, dhe: str, unit: Unit, build: Any,
               **kw: Any) -> Kpi:
    return Kpi(name, en, he, den, dhe, unit, kw.pop("higher_is_better", True),
               ("deal_stage_history", "deals"), STAGE_DIMS, ALL_PERIODS, Kind.DERIVED,
               build=build, theme="pipeline", **kw)


KPIS: tuple[Kpi, ...] = (
    _stage_kpi(
        "stage_conversion", "Stage conversion", "המרה בין שלבים",
        "Deals that moved on from a stage ÷ deals that left it (moved on or were lost there), "
        "by the day they entered it; best split by stage.",
        "עסקאות שהתקדמו משלב חלקי העסקאות שיצאו ממנו (התקדמו או אבדו בו), לפי יום הכניסה "
        "לשלב; מומלץ לפי שלב.",
        Unit.PERCENT, _conversion,
    ),
    _stage_kpi(
        "time_in_stage_days", "Time in stage", "זמן בשלב",
        "Mean days from entering a stage to entering the next one; best split by stage.",
        "ממוצע הימים מהכניסה לשלב ועד הכניסה לשלב הבא; מומלץ לפי שלב.",
        Unit.DAYS, _time_in_stage, higher_is_better=False,
    ),
)
