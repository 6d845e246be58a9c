"""Outcomes measured from the data: bought again, item back, offer taken, lead contacted."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from helpers import INVOICE_HEADER, write_csv
from salesradar.insights import Kind, Subject
from salesradar.insights.outcomes import measure_outcomes
from salesradar.io import import_file
from salesradar.workspace import Workspace

from .insight_helpers import make_insight, memory_store

DETECTED = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)


def test_outcomes_after_30_days(ws: Workspace, tmp_path: Path) -> None:
    write_csv(tmp_path / "lines.csv", INVOICE_HEADER, [
        "A,1,2026-02-01,C1,S1,1,100,50,R1",  # before the insight: does not count
        "B,1,2026-03-10,C1,S1,2,250,120,R1",  # C1 buys again within 30 days: recovered, ₪250
        "B,2,2026-03-10,C1,S2,-1,-40,-20,R1",  # a return does not count as buying
        "C,1,2026-04-20,C2,S1,1,80,40,R1",  # C2 buys, but only after 30 days
        "D,1,2026-04-30,C3,S9,1,10,5,R1",  # the data now reach past every 30-day window
    ])
    import_file(ws, "invoice_lines", tmp_path / "lines.csv")
    write_csv(tmp_path / "leads.csv", "lead_id,created_at,owner_rep_id", [
        "L1,2026-02-27 09:00:00,R1"])
    import_file(ws, "leads", tmp_path / "leads.csv")
    write_csv(tmp_path / "acts.csv", "activity_id,kind,rep_id,lead_id,at", [
        "A1,call,R1,L1,2026-03-05 10:00:00", "A2,call,R1,,2026-04-30 10:00:00"])
    import_file(ws, "activities", tmp_path / "acts.csv")

    store = memory_store()
    offer = replace(make_insight("C2", kind=Kind.CROSS_SELL, at=DETECTED),
                    subject=Subject("customer_sku", "C2/S7"))
    lead = replace(make_insight("L1", kind=Kind.LEAD_NOT_CONTACTED, at=DETECTED),
                   subject=Subject("lead", "L1"))
    store.upsert_many([
        make_insight("C1", at=DETECTED),  # churn_risk
        make_insight("C2", at=DETECTED),  # churn_risk, bought only after the window
        offer,
        lead,
        make_insight("C9", kind=Kind.CONCENTRATION, at=DETECTED),  # not measured
        make_insight("C3", at=dt.datetime(2026, 4, 15, tzinfo=dt.UTC)),  # window not over
    ], DETECTED)

    assert measure_outcomes(ws, store, days=30) == {"recovered": 2, "not_recovered": 2}
    by_subject = {i.subject_id: (i.outcome, i.outcome_value) for i in store.list_insights()}
    assert by_subject["C1"] == ("recovered", 250.0)
    assert by_subject["C2"] == ("not_recovered", 0.0)
    assert by_subject["C2/S7"] == ("not_recovered", 0.0)
    assert by_subject["L1"] == ("recovered", 0.0)
    assert by_subject["C9"] == (None, None) and by_subject["C3"] == (None, None)
    # judged once: a second pass finds nothing left to measure
    assert measure_outcomes(ws, store, days=30) == {"recovered": 0, "not_recovered": 0}
