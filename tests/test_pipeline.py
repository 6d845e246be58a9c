"""The refresh behind `salesradar run`: teams take their operating model from their reps."""

from __future__ import annotations

from salesradar.app import AppDB
from salesradar.pipeline import adopt_team_models


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
