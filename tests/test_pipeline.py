"""The refresh behind `salesradar run`: teams take their operating model from their reps."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import INVOICE_HEADER, write_csv
from salesradar.app import AppDB
from salesradar.errors import UserInputError
from salesradar.insights import InsightStore
from salesradar.pipeline import adopt_team_models, refresh
from salesradar.workspace import Workspace


def test_unconfigured_teams_take_their_reps_model_and_explicit_settings_win() -> None:
    db = AppDB.open("sqlite://")
    db.set_team_settings("key accounts", operating_model="centre", daily_limit_per_rep=5)
    reps = [
        {"rep_id": "R1", "team": "inbound", "model": "centre"},
        {"rep_id": "R2", "team": "inbound", "model": "centre"},
        {"rep_id": "R3", "team": "inbound", "model": "account"},
        {"rep_id": "R4", "team": "seniors", "model": "account"},
        {"rep_id": "R5", "team": "key accounts", "model": "account"},
        {"rep_id": "R6", "team": None, "model": "account"},
    ]
    assert adopt_team_models(db, reps) == {"inbound": "centre", "seniors": "account"}
    assert db.team_settings("seniors").operating_model == "account"
    assert db.team_settings("key accounts").operating_model == "centre"  # set by hand: kept
    assert adopt_team_models(db, reps) == {}  # second run: all configured now


def test_a_webhook_without_its_secret_stops_the_run_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESRADAR_WEBHOOK_URL", "https://hooks.example.test/salesradar")
    monkeypatch.delenv("SALESRADAR_WEBHOOK_SECRET", raising=False)
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "invoice_lines.csv", INVOICE_HEADER, ["A,1,2024-01-05,C1,S1,1,10,5,R1"])
    stages: list[str] = []
    with Workspace.open(tmp_path / "ws.duckdb") as ws, AppDB.open("sqlite://") as db:
        with pytest.raises(UserInputError, match="SALESRADAR_WEBHOOK_SECRET") as caught:
            refresh(ws, InsightStore(db), data=data, progress=stages.append)
        assert "--no-deliver" in str(caught.value)
        assert stages == []  # not even the import started
        assert ws.row_count("invoice_lines") == 0


def test_the_same_data_give_the_same_insights_run_after_run(tmp_path: Path) -> None:
    """Two refreshes on unchanged data: the second scores again and finds every insight exactly
    as it was (nothing "updated"): the models are seeded and the evidence is rounded."""
    from salesradar.demo import generate
    from salesradar.pipeline import run

    generate(tmp_path / "data", customers=120, years=2, seed=5)
    store = InsightStore(AppDB.open("sqlite://"))
    first = run(tmp_path / "ws.duckdb", store, data=tmp_path / "data", deliver=False)
    assert first.insights["new"] == first.insights["total"] > 0
    second = run(tmp_path / "ws.duckdb", store, deliver=False)
    assert second.insights["updated"] == second.insights["new"] == 0
    assert second.insights["unchanged"] == first.insights["total"]
    # nothing changed, so the scores were kept; --full scores anew, to the same insights
    assert (first.scores["reused"], second.scores["reused"]) == (False, True)
    assert second.scores["rows"] == first.scores["rows"]
    third = run(tmp_path / "ws.duckdb", store, deliver=False, full=True)
    assert third.scores["reused"] is False and third.insights["updated"] == 0
    # a new line is a change: scored anew
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        day = ws.con.execute("SELECT max(invoice_date) FROM invoice_lines").fetchone()[0]
        customer = ws.con.execute("SELECT min(customer_id) FROM invoice_lines").fetchone()[0]
    (tmp_path / "new").mkdir()
    write_csv(tmp_path / "new" / "invoice_lines.csv", INVOICE_HEADER, [
        f"NEW-1,1,{day},{customer},SKU-NEW,1,100,60,R01"])
    fourth = run(tmp_path / "ws.duckdb", store, data=tmp_path / "new", deliver=False)
    assert fourth.scores["reused"] is False
