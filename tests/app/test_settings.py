"""Company settings: one table, checked values, read by every layer (currency, fiscal year,
thresholds, holdout share, outcome window)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import ibis
import pytest
from tests.insights.insight_helpers import make_insight

from helpers import INVOICE_HEADER, write_csv
from salesradar.app import AppDB
from salesradar.app.settings import (
    SETTINGS,
    defaults,
    describe_settings,
    load_settings,
    outcome_window,
    reset_setting,
    set_setting,
)
from salesradar.charts.labels import format_value
from salesradar.currency import symbol, use_currency
from salesradar.errors import UserInputError
from salesradar.insights import InsightStore, Kind
from salesradar.insights.outcomes import measure_outcomes
from salesradar.insights.texts import render
from salesradar.io import import_file
from salesradar.metrics.analyses import parse_period
from salesradar.metrics.fiscal import period_name, use_fiscal_year
from salesradar.metrics.frame import period_start, truncate
from salesradar.models.text import money
from salesradar.performance.text import value_text
from salesradar.web.i18n import isolate_numbers
from salesradar.workspace import Workspace


@pytest.fixture
def db() -> AppDB:
    return AppDB.open("sqlite://")


def test_defaults_come_from_the_rules_and_the_company(db: AppDB) -> None:
    s = load_settings(db)
    assert (s.currency, s.currency_symbol, s.fiscal_year_start) == ("ILS", "₪", 1)
    assert (s.holdout_share, s.outcome_window_days) == (0.10, None)
    assert s["churn_min_value"] == 1000.0 and s["concentration_threshold"] == 0.15
    assert s["lead_sla_hours_centre"] == 24.0 and s["coverage_models"] == ("account",)
    assert not s.changed
    # every threshold a company may change is described in words, none left blank
    assert all(row["description"] and "``" not in row["description"]
               for row in describe_settings(db))


def test_set_checks_stores_and_resets(db: AppDB) -> None:
    assert set_setting(db, "currency", " usd ") == "USD"
    assert set_setting(db, "churn_min_value", "2500") == 2500.0
    assert set_setting(db, "coverage_models", "account, centre") == ("account", "centre")
    assert set_setting(db, "outcome_window_days", "45") == 45
    s = load_settings(db)
    assert (s.currency, s.currency_symbol) == ("USD", "$")
    assert s.rules().churn_min_value == 2500.0
    assert s.rules().coverage_models == ("account", "centre")
    assert s.changed == {"currency", "churn_min_value", "coverage_models",
                         "outcome_window_days"}
    reset_setting(db, "churn_min_value")
    assert load_settings(db)["churn_min_value"] == 1000.0
    set_setting(db, "currency_symbol", "US$")
    assert load_settings(db).currency_symbol == "US$"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("currency", "dollars", "three-letter ISO 4217 code"),
    ("currency", "₪", "three-letter ISO 4217 code"),
    ("holdout_share", "0.9", "between 0 and 0.5"),
    ("fiscal_year_start", "13", "between 1 and 12"),
    ("fiscal_year_start", "april", "whole number"),
    ("churn_min_probability", "1.5", "between 0 and 1"),
    ("churn_min_value", "-1", "at least 0"),
    ("churn_min_value", "nan", "finite"),
    ("outcome_window_days", "3", "between 7 and 365"),
    ("churn_value", "1", "unknown setting 'churn_value' (did you mean"),
])
def test_bad_values_are_refused_with_the_reason(db: AppDB, key: str, value: str,
                                                  message: str) -> None:
    with pytest.raises(UserInputError, match=message.replace("(", r"\(")):
        set_setting(db, key, value)
    assert not load_settings(db).changed  # nothing stored


def test_every_rule_threshold_is_a_setting() -> None:
    from salesradar.insights.rules import RuleSettings

    scalar = {"churn_min_value", "stopped_min_value", "cross_sell_min_value", "margin_min_value",
              "concentration_threshold", "lead_sla_hours_centre", "lead_sla_hours_account",
              "lead_max_age_days", "coverage_min", "overdue_min_amount"}
    assert scalar <= set(SETTINGS)
    assert "forecast_weights" not in SETTINGS  # pairs stay in code
    assert defaults().rules() == RuleSettings()


@pytest.mark.parametrize(("rhythm", "window"), [
    (40.0, 60),  # 1.5 x 40
    (10.0, 30),  # at least 30 days
    (100.0, 120),  # at most 120 days
    (None, 30),  # no rhythm: 30 days
    (math.nan, 30),
])
def test_outcome_window_follows_the_rhythm(rhythm: float | None, window: int) -> None:
    assert outcome_window(defaults(), rhythm) == window


def test_the_company_window_replaces_the_rhythm(db: AppDB) -> None:
    set_setting(db, "outcome_window_days", "45")
    assert outcome_window(load_settings(db), 40.0) == 45


def test_outcomes_wait_for_the_customers_own_rhythm(ws: Workspace, tmp_path: Path) -> None:
    """A customer who buys every ~40 days and comes back 50 days after the alert recovered
    (window 60 days); with a 30-day window it would count as lost."""
    detected = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)
    write_csv(tmp_path / "lines.csv", INVOICE_HEADER, [
        "A,1,2026-04-20,C1,S1,1,300,150,R1",  # C1: 50 days after the alert
        "B,1,2026-04-20,C2,S1,1,80,40,R1",  # C2 (no rhythm): 50 days after, outside 30 days
        "Z,1,2026-06-30,C9,S9,1,10,5,R1",  # the data reach past every window
    ])
    import_file(ws, "invoice_lines", tmp_path / "lines.csv")
    db = AppDB.open("sqlite://")
    store = InsightStore(db)
    store.upsert_many([make_insight("C1", at=detected, median_gap_days=40.0),
                       make_insight("C2", at=detected)], detected)
    assert measure_outcomes(ws, store) == {"recovered": 1, "not_recovered": 1}
    outcome = {i.subject_id: (i.outcome, i.outcome_value) for i in store.list_insights()}
    assert outcome == {"C1": ("recovered", 300.0), "C2": ("not_recovered", 0.0)}


def test_the_store_keeps_back_the_companys_share(db: AppDB) -> None:
    set_setting(db, "holdout_share", "0.25")
    assert InsightStore(db).settings.holdout_fraction == 0.25


def test_amounts_are_written_in_the_companys_currency() -> None:
    assert symbol() == "₪" and money(38_250.0) == "₪38k"
    with use_currency("USD"):
        assert money(38_250.0) == "$38k" and money(-1_250_000.0) == "-$1.2M"
        assert format_value(1250.0, "money") == "$1,250"
        assert value_text(38_250.0, "money", "he") == "$38 אלף"
        assert "<bdi dir=\"ltr\">$38k</bdi>" in str(isolate_numbers("לקוח $38k בסיכון"))
    with use_currency("CHF"):
        assert money(850.0) == "CHF\u00a0850"
    with use_currency("GBP"):
        assert format_value(3528.0, "money") == "£3,528"
    assert money(38_250.0) == "₪38k"  # back to the default after the block


def test_a_new_currency_rewrites_the_stored_insight_texts(db: AppDB) -> None:
    evidence = {"as_of": "2026-10-30", "now": "2026-10-30T00:00:00", "customer_id": "C1",
                "customer_name": "Acme", "share": 0.2, "revenue_12m": 120_000.0,
                "total_revenue": 600_000.0, "threshold": 0.15, "rep_id": "R1"}
    en, he = render(Kind.CONCENTRATION.value, evidence)
    from dataclasses import replace

    insight = replace(make_insight("C1", kind=Kind.CONCENTRATION), en=en, he=he,
                      evidence=evidence)
    InsightStore(db).upsert_many([insight], insight.detected_at)
    assert "₪120k" in InsightStore(db).list_insights()[0].en.why
    set_setting(db, "currency", "EUR")
    stored = InsightStore(db).list_insights()[0]
    assert "€120k" in stored.en.why and "₪" not in stored.en.why + stored.he.why
    reset_setting(db, "currency")
    assert InsightStore(db).list_insights()[0].en == en


def test_fiscal_quarters_and_years_on_the_engine() -> None:
    """A fiscal year from April: Q1 = April-June, FY 2026 = April 2026 - March 2027."""
    days = [dt.date(2026, 3, 31), dt.date(2026, 4, 1), dt.date(2026, 12, 15),
            dt.date(2027, 2, 28)]
    table = ibis.memtable({"day": days})
    con = ibis.duckdb.connect()
    with use_fiscal_year(4):
        q = con.execute(table.select(p=truncate(table.day, "quarter")))["p"].tolist()
        y = con.execute(table.select(p=truncate(table.day, "year")))["p"].tolist()
        assert [d.date() if hasattr(d, "date") else d for d in q] == [
            dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 10, 1),
            dt.date(2027, 1, 1)]
        assert [d.date() if hasattr(d, "date") else d for d in y] == [
            dt.date(2025, 4, 1), dt.date(2026, 4, 1), dt.date(2026, 4, 1), dt.date(2026, 4, 1)]
        assert [period_start(d, "quarter") for d in days] == [
            dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 10, 1), dt.date(2027, 1, 1)]
        assert parse_period("2026-Q1") == (dt.date(2026, 4, 1), "quarter")
        assert parse_period("2026-Q4") == (dt.date(2027, 1, 1), "quarter")
        assert parse_period("2026") == (dt.date(2026, 4, 1), "year")
        assert period_name(dt.date(2027, 1, 1), "quarter") == "2026-Q4"
    # the calendar, outside the block
    assert parse_period("2026-Q1") == (dt.date(2026, 1, 1), "quarter")
    assert period_name(dt.date(2027, 1, 1), "quarter") == "2027-Q1"


def test_settings_get_prints_strict_json(db: AppDB) -> None:
    rows = describe_settings(db)
    text = json.dumps(rows, allow_nan=False)
    assert json.loads(text)[0]["key"] == "currency"
