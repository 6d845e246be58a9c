"""Inbound-centre KPIs ("sprinters"): lead response, lead conversion, calls and answer rate.

Leads are placed in the period they were created (a creation cohort).

* **Time to first contact** of a lead = hours from ``created_at`` to its first call, meeting or
  email (an activity with its ``lead_id`` at or after creation). Leads never contacted are left
  out of the median and the 90th percentile (both interpolated, like ``percentile_cont``).
* **Lead → deal** = leads of the cohort with a ``deal_id`` ÷ leads of the cohort.
  **Lead → meeting** = leads with at least one meeting ÷ leads. **Meeting → deal** = leads with a
  meeting and a deal ÷ leads with a meeting.
* **Calls per rep per day** = calls ÷ distinct (rep, day) pairs with at least one call.
  **Answer rate** = calls with outcome ``answered`` ÷ calls. Activities are placed by ``at``.
"""

from __future__ import annotations

from typing import Any

from salesradar.metrics.catalog._common import agg, count_if, finish, hours_between, ratio
from salesradar.metrics.frame import REP_DIMS, Query
from salesradar.metrics.registry import ALL_PERIODS, Kind, Kpi, Unit

LEAD_DIMS = (*REP_DIMS, "source")
CONTACT_KINDS = ("call", "meeting", "email")


def _first_contact_hours(q: Query) -> Any:
    leads = q.fact("leads")
    acts = q.table("activities")
    acts = acts.filter(acts.lead_id.notnull() & acts.kind.isin(CONTACT_KINDS))
    acts = acts.select(_lead=acts.lead_id, _at=acts.at)
    j = leads.inner_join(acts, leads.lead_id == acts._lead)
    j = j.filter(j._at >= j.created_at)
    first = j.group_by([*q.keys, "lead_id", "created_at"]).aggregate(_first=j._at.min())
    return first.mutate(_hours=hours_between(first._first, first.created_at))


def _ttfc(q: Query, quantile: float | None) -> Any:
    first = _first_contact_hours(q)
    value = first._hours.median() if quantile is None else first._hours.quantile(quantile)
    return agg(first, q.keys, value=value)


def _meetings(q: Query, what: str) -> Any:
    leads = q.fact("leads")
    acts = q.table("activities")
    met = acts.filter(acts.lead_id.notnull() & (acts.kind == "meeting"))
    met = met.select(_lead=met.lead_id).distinct()
    j = leads.left_join(met, leads.lead_id == met._lead)
    j = j.mutate(_met=j._lead.notnull(), _deal=j.deal_id.notnull())
    out = agg(j, q.keys, leads=j.count(), met=count_if(j._met),
              met_deal=count_if(j._met & j._deal))
    if what == "lead_to_meeting":
        return finish(q, out, ratio(out.met, out.leads))
    return finish(q, out, ratio(out.met_deal, out.met))


def _calls_per_rep_day(q: Query) -> Any:
    acts = q.fact("activities")
    calls = acts.filter((acts.kind == "call") & acts.rep_id.notnull())
    keys = [*q.keys, *(["rep_id"] if "rep_id" not in q.keys else []), "_date"]
    per_day = calls.group_by(keys).aggregate(_n=calls.count())
    out = agg(per_day, q.keys, calls=per_day._n.sum(), rep_days=per_day.count())
    return finish(q, out, ratio(out.calls, out.rep_days))


def _centre(name: str, en: str, he: str, den: str, dhe: str, unit: Unit, **kw: Any) -> Kpi:
    kind = Kind.DERIVED if "build" in kw else Kind.SIMPLE
    return Kpi(name, en, he, den, dhe, unit, kw.pop("higher_is_better", True),
               kw.pop("tables", ("leads", "activities")), kw.pop("dimensions", LEAD_DIMS),
               ALL_PERIODS, kind, kw.pop("source", None), theme="centre", **kw)


KPIS: tuple[Kpi, ...] = (
    _centre(
        "time_to_first_contact_median", "Time to first contact (median)",
        "זמן עד מגע ראשון (חציון)",
        "Median hours from lead creation to the first call, meeting or email.",
        "חציון השעות מיצירת הליד ועד השיחה, הפגישה או המייל הראשונים.",
        Unit.HOURS, higher_is_better=False, build=lambda q: _ttfc(q, None),
    ),
    _centre(
        "time_to_first_contact_p90", "Time to first contact (90th percentile)",
        "זמן עד מגע ראשון (אחוזון 90)",
        "90th percentile of hours from lead creation to the first contact.",
        "האחוזון ה-90 של השעות מיצירת הליד ועד המגע הראשון.",
        Unit.HOURS, higher_is_better=False, build=lambda q: _ttfc(q, 0.9),
    ),
    _centre(
        "lead_to_deal_rate", "Lead-to-deal conversion", "המרת ליד לעסקה",
        "Leads created in the period that became deals ÷ leads created in the period.",
        "לידים שנוצרו בתקופה והפכו לעסקה חלקי הלידים שנוצרו בתקופה.",
        Unit.PERCENT, tables=("leads",), source="leads",
        measures={"deals": lambda t: count_if(t.deal_id.notnull()), "leads": lambda t: t.count()},
        formula=lambda m: ratio(m.deals, m.leads),
    ),
    _centre(
        "lead_to_meeting_rate", "Lead-to-meeting conversion", "המרת ליד לפגישה",
        "Leads with at least one meeting ÷ leads created in the period.",
        "לידים שהתקיימה איתם לפחות פגישה אחת חלקי הלידים שנוצרו בתקופה.",
        Unit.PERCENT, build=lambda q: _meetings(q, "lead_to_meeting"),
    ),
    _centre(
        "meeting_to_deal_rate", "Meeting-to-deal conversion", "המרת פגישה לעסקה",
        "Leads with a meeting that became deals ÷ leads with a meeting.",
        "לידים עם פגישה שהפכו לעסקה חלקי הלידים עם פגישה.",
        Unit.PERCENT, build=lambda q: _meetings(q, "meeting_to_deal"),
    ),
    _centre(
        "calls_per_rep_day", "Calls per rep per day", "שיחות לנציג ליום",
        "Calls ÷ rep-days with at least one call.",
        "מספר השיחות חלקי ימי-נציג שבהם הייתה לפחות שיחה אחת.",
        Unit.COUNT, tables=("activities",), dimensions=REP_DIMS, build=_calls_per_rep_day,
    ),
    _centre(
        "answer_rate", "Answer rate", "שיעור מענה",
        "Answered calls ÷ calls.",
        "שיחות שנענו חלקי כלל השיחות.",
        Unit.PERCENT, tables=("activities",), dimensions=REP_DIMS, source="activities",
        measures={"answered": lambda t: count_if((t.kind == "call") & (t.outcome == "answered")),
                  "calls": lambda t: count_if(t.kind == "call")},
        formula=lambda m: ratio(m.answered, m.calls),
    ),
)
