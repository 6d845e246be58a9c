"""Every dash says why, and a CRM-only workspace (deals and activities, no invoice lines) gets
its scorecards and funnel, dated on the data's last day.

Reps R1, R2 (account model, team T). Deals (created → close, outcome, amount):

    D1  R1  01/08/2026 → 15/09/2026  won   1,000
    D2  R2  05/08/2026 → 20/09/2026  lost    500
    D3  R1  10/09/2026 → 15/11/2026  open  2,000
    D4  R2  01/09/2026 → 30/09/2026  won     300

Activities: R1 a call on 01/09 and a meeting on 02/09, R2 a call on 03/09. The data's last day is
30/09/2026 (the last closed deal), September the last whole month.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from salesradar.metrics.periods import data_last_day
from salesradar.performance.funnel import rep_funnels
from salesradar.performance.scorecard import rep_scorecards
from salesradar.workspace import Workspace

from .rows import insert

D = dt.date


@pytest.fixture
def crm_only(tmp_path: Path) -> Any:
    ws = Workspace.open(tmp_path / "crm.duckdb")
    insert(ws, "reps", [{"rep_id": r, "name": n, "team": "T", "model": "account"}
                        for r, n in (("R1", "Dana"), ("R2", "Eli"))])
    insert(ws, "deals", [
        {"deal_id": d, "owner_rep_id": rep, "created_at": c, "close_date": e, "outcome": o,
         "amount": a}
        for d, rep, c, e, o, a in (
            ("D1", "R1", D(2026, 8, 1), D(2026, 9, 15), "won", 1000.0),
            ("D2", "R2", D(2026, 8, 5), D(2026, 9, 20), "lost", 500.0),
            ("D3", "R1", D(2026, 9, 10), D(2026, 11, 15), "open", 2000.0),
            ("D4", "R2", D(2026, 9, 1), D(2026, 9, 30), "won", 300.0))])
    insert(ws, "activities", [
        {"activity_id": a, "kind": k, "rep_id": r, "at": dt.datetime(2026, 9, day, 10)}
        for a, k, r, day in (("A1", "call", "R1", 1), ("A2", "meeting", "R1", 2),
                             ("A3", "call", "R2", 3))])
    yield ws
    ws.close()


def test_the_data_day_of_a_crm_only_workspace_is_its_last_crm_day(crm_only: Any) -> None:
    assert data_last_day(crm_only.backend) == D(2026, 9, 30)


def test_a_crm_only_workspace_gets_scorecards_and_each_dash_says_why(crm_only: Any) -> None:
    cards = {c["rep_id"]: c for c in rep_scorecards(crm_only)}
    assert set(cards) == {"R1", "R2"}
    assert cards["R1"]["as_of"] == "2026-09-30"
    kpis = {k["name"]: k for k in cards["R2"]["kpis"]}
    # last 180 days: R2 won D4, lost D2 → 1/2; cycle of D4 01/09 → 30/09 = 29 days; size 300
    assert kpis["win_rate"]["value"] == pytest.approx(0.5)
    assert kpis["sales_cycle_days"]["value"] == pytest.approx(29)
    assert kpis["avg_deal_size"]["value"] == pytest.approx(300)
    assert kpis["win_rate"]["why_en"] is None
    # no targets, no forecasts, no invoice lines: a dash with the table to import
    assert kpis["pipeline_coverage"]["value"] is None
    assert kpis["pipeline_coverage"]["why_en"] == "not measured: import targets"
    assert kpis["pipeline_coverage"]["why_he"] == "לא נמדד: יש לייבא targets"
    assert kpis["forecast_accuracy"]["why_en"].startswith("not measured: import forecast_submi")
    assert kpis["active_customers"]["value"] is None  # not 0 from missing_is_zero
    assert kpis["gross_profit"]["why_en"] == "not measured: import invoice_lines"


def test_a_dash_with_its_tables_loaded_says_what_is_missing_in_its_window(crm_only: Any) -> None:
    # as of 31/12/2027 nothing was won or lost in the last 180 days
    card = rep_scorecards(crm_only, rep_ids=["R1"], as_of=D(2027, 12, 31))[0]
    win = next(k for k in card["kpis"] if k["name"] == "win_rate")
    assert win["value"] is None
    assert win["why_en"] == "no deal won or lost in the last 180 days"
    assert win["why_he"] == "אין עסקה שנסגרה בזכייה או בהפסד ב-180 הימים האחרונים"


def test_the_funnel_of_a_crm_only_workspace(crm_only: Any) -> None:
    result = rep_funnels(crm_only)
    assert (result["start"], result["end"]) == ("2026-04-04", "2026-09-30")  # 180 days
    rows = {r["rep_id"]: r for r in result["reps"]}
    # R1: 1 call, 1 meeting, 2 deals created (D1, D3), 1 won; R2: 1 call, D2 and D4, 1 won
    assert [rows["R1"][k] for k in ("calls", "meetings", "deals", "won")] == [1, 1, 2, 1]
    assert [rows["R2"][k] for k in ("calls", "meetings", "deals", "won")] == [1, 0, 2, 1]
    assert rows["R1"]["avg_sale_per_customer"] is None
    assert result["notes_en"] == [
        "no deal stage history: where lost deals stood is unknown",
        "no invoice lines: the average sale per customer is unknown"]
    assert len(result["notes_he"]) == 2


def test_an_empty_funnel_says_why(crm_only: Any) -> None:
    result = rep_funnels(crm_only, days=30, as_of=D(2027, 6, 30))
    assert result["reps"] == []
    assert result["notes_en"][0] == ("no rep has a call, meeting or deal in "
                                     "01/06/2027–30/06/2027: the funnel is empty")  # 30 days
    assert "המשפך ריק" in result["notes_he"][0]


def test_the_diagnostic_of_a_crm_only_workspace_ends_on_its_last_day(crm_only: Any) -> None:
    import json

    from typer.testing import CliRunner

    from salesradar.cli.main import app

    path = str(crm_only.path)
    crm_only.close()
    result = CliRunner().invoke(app, ["diagnostic", "--workspace", path, "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert (found["from"], found["as_of"]) == ("2025-10-01", "2026-09-30")  # 365 days
