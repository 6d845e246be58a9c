"""The catalogue as data: names, labels, validation of every declaration at once, listings."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from salesradar.metrics import (
    REGISTRY,
    Kpi,
    Unit,
    compute_kpi,
    compute_kpis,
    explain_kpi,
    kpi_records,
    list_kpis,
    mart_name,
    validate_catalog,
)
from salesradar.metrics.registry import Kind

REQUIRED = [
    "revenue", "gross_profit", "gross_margin", "active_customers", "new_customers",
    "reactivated_customers", "unique_skus_per_customer", "churned_customers", "churn_rate",
    "revenue_churn_rate", "arpa", "cost_to_serve", "customer_profitability", "concentration_top1",
    "concentration_top3", "concentration_top5", "hhi", "share_of_wallet", "days_sales_outstanding",
    "time_to_first_contact_median", "time_to_first_contact_p90", "lead_to_deal_rate",
    "lead_to_meeting_rate", "meeting_to_deal_rate", "revenue_per_rep", "pipeline_coverage",
    "weighted_pipeline", "win_rate", "win_rate_amount", "sales_cycle_days", "avg_deal_size",
    "forecast_accuracy", "calls_per_rep_day", "answer_rate", "target_attainment",
]


def test_catalogue_has_every_required_kpi() -> None:
    assert set(REQUIRED) <= {k.name for k in list_kpis()}


def test_catalogue_is_valid() -> None:
    assert validate_catalog(REGISTRY[n] for n in REGISTRY) == []


def test_list_kpis_is_json_ready() -> None:
    infos = [k.to_dict() for k in list_kpis()]
    text = json.dumps(infos, ensure_ascii=False)
    assert "הכנסות" in text
    assert {i["unit"] for i in infos} <= {u.value for u in Unit}


def test_validation_returns_every_issue() -> None:
    bad = Kpi("Bad Name", "", "no hebrew", "d", "d", Unit.COUNT, True, ("nope",),
              ("rep", "colour"), (), Kind.SIMPLE, source="deals", flags=("odd",))
    twice = REGISTRY["revenue"]
    reasons = [str(i) for i in validate_catalog([bad, twice, twice])]
    for expected in ("not snake_case", "label_en is empty", "label_he has no Hebrew",
                     "unknown table 'nope'", "unknown dimension 'colour'", "unknown flag 'odd'",
                     "supports no period", "needs measures and a formula", "declared twice"):
        assert any(expected in r for r in reasons), expected


def test_mart_name() -> None:
    assert mart_name("revenue", "month", ("rep", "channel")) == "mart_revenue_month_rep_channel"
    assert mart_name("revenue", None, ()) == "mart_revenue_all_company"


def test_records_shape(duckdb_backend: Any) -> None:
    rows = kpi_records(compute_kpi(duckdb_backend, "revenue", ("rep",), "month",
                                   date(2024, 3, 1), date(2024, 3, 31), persist=False))
    # r1: March 40, February 110 (computed although outside the range)
    assert rows[0] == {"period": "2024-03-01", "rep_id": "r1", "value": 40.0,
                       "previous": 110.0, "change": -70.0, "change_pct": -70 / 110,
                       "flags": []}
    json.dumps(rows)
    whole = kpi_records(compute_kpi(duckdb_backend, "revenue", (), None, persist=False))
    assert whole == [{"period": None, "value": 925.0, "previous": None, "change": None,
                      "change_pct": None, "flags": []}]


@pytest.mark.parametrize("by", [(), ("rep",)])
def test_batched_computation_matches_one_by_one(backend: Any, by: tuple[str, ...]) -> None:
    names = ["revenue", "gross_profit", "gross_margin", "arpa", "active_customers", "churn_rate"]
    batch = compute_kpis(backend, names, by, "month")
    for name in names:
        single = compute_kpi(backend, name, by, "month", persist=False)
        assert batch[name].select(single.column_names).equals(single), name


def test_explain_shows_the_sql(backend: Any) -> None:
    sql = explain_kpi(backend, "gross_margin", ("rep",), "month")
    assert "SELECT" in sql.upper()
    assert "net_revenue" in sql


def test_kpi_doc_is_up_to_date() -> None:
    from pathlib import Path

    from salesradar.metrics.docs import kpis_markdown

    doc = Path(__file__).parents[2] / "docs" / "kpis.md"
    assert doc.read_text(encoding="utf-8") == kpis_markdown(), (
        "docs/kpis.md is stale: python -m salesradar.metrics.docs > docs/kpis.md"
    )
