"""HubSpot's CRM API v3: lists then the search API, associations, stages, archived records,
the 10,000-result search window, rate limits and the daily limit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from salesradar.connectors.base import ConnectorAuthError, ConnectorError
from salesradar.connectors.sync import sync_connection

from .conftest import FAST, Sleeper
from .fakes import HubSpotServer


def rows(workspace: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(workspace), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_full_then_incremental(workspace: Path, hubspot: HubSpotServer, crm: str,
                               sleeper: Sleeper) -> None:
    first = sync_connection(workspace, crm, settings=FAST, sleep=sleeper)
    by_object = {o.object: o for o in first.objects}
    assert {k: o.fetched for k, o in by_object.items()} == {
        "owners": 2, "companies": 2, "contacts": 2, "deals": 2, "calls": 1, "meetings": 1,
        "emails": 1}
    assert not any("/search" in s.path for s in hubspot.seen)  # a first sync lists
    assert rows(workspace, "SELECT rep_id, name, email, team FROM reps ORDER BY 1") == [
        ("501", "מאיה לוי", "maya@example.co.il", "צפון"),
        ("502", "Tom Bar", "tom@example.com", None)]
    assert rows(workspace, "SELECT customer_id, name, rep_id, potential::DOUBLE FROM customers "
                "ORDER BY 1") == [("11", "חברת הגליל", "501", 1200000.0),
                                  ("12", "Negev Trading", "502", None)]
    assert rows(workspace, "SELECT contact_id, customer_id, name, level FROM contacts "
                "ORDER BY 1") == [("21", "11", "אבי כהן", "executive"),
                                  ("22", "12", "Noa", "operations")]
    assert rows(workspace, "SELECT deal_id, customer_id, stage, pipeline, outcome, "
                "amount::DOUBLE FROM deals ORDER BY 1") == [
        ("31", "11", "Closed Won", "Sales Pipeline", "won", 50000.0),
        ("32", "12", "Appointment Scheduled", "Sales Pipeline", "open", 8000.0)]
    assert rows(workspace, "SELECT deal_id, stage, entered_at::VARCHAR FROM deal_stage_history "
                "ORDER BY 1, 3") == [
        ("31", "Appointment Scheduled", "2024-12-01 09:00:00"),
        ("31", "Closed Won", "2025-01-20 09:00:00"),
        ("32", "Appointment Scheduled", "2025-01-05 09:00:00")]
    assert rows(workspace, "SELECT activity_id, kind, customer_id, deal_id, outcome, duration_s "
                "FROM activities ORDER BY 1") == [
        ("41", "call", "11", "31", "answered", 185.0),
        ("51", "meeting", "11", None, "COMPLETED", 2700.0),
        ("61", "email", "12", None, "EMAIL", None)]

    # a day later: a deal is won, a company renamed, a call archived (deleted in HubSpot)
    hubspot.clock += timedelta(days=1)
    hubspot.modify("deals", "32", dealstage="closedwon",
                   hs_date_entered_closedwon="2025-02-01T09:00:00.000Z")
    hubspot.modify("companies", "12", name="Negev Trading Ltd")
    hubspot.archive("calls", "41")
    hubspot.seen.clear()
    second = sync_connection(workspace, crm, settings=FAST, sleep=sleeper)
    by_object = {o.object: o for o in second.objects}
    assert by_object["deals"].fetched == 1 and by_object["companies"].fetched == 1
    # the contact saved last before the mark is read again (inside the overlap), unchanged
    assert by_object["contacts"].fetched == 1 and by_object["contacts"].changed == 0
    assert by_object["deals"].changed == 2  # the deal and its new stage-history row
    assert by_object["calls"].deleted == 1
    searches = [s for s in hubspot.seen if s.path.endswith("/search")]
    assert {s.path.split("/")[4] for s in searches} == {
        "companies", "contacts", "deals", "calls", "meetings", "emails"}
    assert rows(workspace, "SELECT outcome FROM deals WHERE deal_id = '32'") == [("won",)]
    assert rows(workspace, "SELECT count(*) FROM activities WHERE activity_id = '41'") == [(0,)]
    assert rows(workspace, "SELECT name FROM customers WHERE customer_id = '12'") == \
        [("Negev Trading Ltd",)]


def test_search_window_of_ten_thousand(workspace: Path, hubspot: HubSpotServer, crm: str,
                                       sleeper: Sleeper) -> None:
    """More changed records than one search query may page through (HubSpot answers 400
    past 10,000): the connector starts a new query from the last time it saw."""
    sync_connection(workspace, crm, settings=FAST, sleep=sleeper)
    hubspot.clock += timedelta(days=1)
    for i in range(10_150):
        hubspot.add("companies", str(1000 + i), name=f"חברה {i}", hubspot_owner_id="501")
    report = sync_connection(workspace, crm, settings=FAST, sleep=sleeper)
    companies = {o.object: o for o in report.objects}["companies"]
    assert companies.fetched == 10_151  # and the company at the mark, inside the overlap
    assert companies.inserted == 10_150
    assert not [s for s in hubspot.seen if s.path.endswith("/search")
                and int(s.json_body().get("after") or 0) + 200 > 10_000]


def test_rate_limit_storm_is_ridden_out(workspace: Path, hubspot: HubSpotServer, crm: str,
                                        sleeper: Sleeper) -> None:
    hubspot.faults.storm = 25
    hubspot.faults.retry_after = "2"
    report = sync_connection(workspace, crm, settings=FAST, sleep=sleeper)
    assert report.ok and report.rate_limited == 25
    assert report.waited_s == 50.0  # as HubSpot asked, within the 60 s budget of the test
    assert sleeper.waits.count(2.0) == 25
    assert rows(workspace, "SELECT count(*) FROM customers") == [(2,)]


def test_rate_limit_past_the_budget_writes_nothing(workspace: Path, hubspot: HubSpotServer,
                                                   crm: str, sleeper: Sleeper) -> None:
    hubspot.faults.storm = 1000
    hubspot.faults.retry_after = "2"
    with pytest.raises(ConnectorError, match="budget of one sync"):
        sync_connection(workspace, crm, settings=FAST, sleep=sleeper)
    assert sum(sleeper.waits) <= FAST.rate_limit_budget
    assert rows(workspace, "SELECT count(*) FROM reps") == [(0,)]


def test_daily_limit_stops_at_once(workspace: Path, hubspot: HubSpotServer, crm: str,
                                   sleeper: Sleeper) -> None:
    hubspot.faults.storm = 1
    hubspot.faults.storm_body = {"status": "error", "errorType": "RATE_LIMIT",
                                 "policyName": "DAILY",
                                 "message": "You have reached your daily limit."}
    with pytest.raises(ConnectorError, match="daily API limit is used up"):
        sync_connection(workspace, crm, settings=FAST, sleep=sleeper)
    assert sleeper.waits == []
    hubspot.daily_remaining = 3  # below the connection's reserve of 10
    with pytest.raises(ConnectorError, match="only 3 calls"):
        sync_connection(workspace, crm, settings=FAST, sleep=sleeper)


def test_wrong_token(workspace: Path, hubspot: HubSpotServer, crm: str,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-eu1-wrong-token-0000")
    with pytest.raises(ConnectorAuthError) as caught:
        sync_connection(workspace, crm, settings=FAST)
    assert "connection 'crm' (hubspot)" in str(caught.value)
    assert "wrong-token" not in str(caught.value)
