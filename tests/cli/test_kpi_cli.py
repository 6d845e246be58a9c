"""kpi, whale-curve, pvm and churned as a user runs them, on a `salesradar demo` workspace."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import as_json, run


def test_kpi_list_says_what_each_kpi_needs(tmp_path: Path) -> None:
    result = run("kpi", "--list", "--json", cwd=tmp_path)
    kpis = {k["name"]: k for k in json.loads(result.stdout)}
    assert len(kpis) >= 35
    assert kpis["win_rate"]["tables"] == ["deals"]
    assert kpis["revenue"]["label_he"] and kpis["revenue"]["unit"]


def test_kpi_json_rows_have_period_dimensions_value_previous_change(workspace: Path) -> None:
    rows = as_json("kpi", "revenue", "--by", "rep", "--period", "month", workspace=workspace)
    assert rows
    assert {"period", "rep_id", "value", "previous", "change"} <= set(rows[0])
    later = [r for r in rows if r["previous"] is not None]
    assert later and all(abs(r["value"] - r["previous"] - r["change"]) < 1e-6 for r in later)
    company = as_json("kpi", "revenue", workspace=workspace)
    assert company[0]["period"] is None
    # revenue by rep adds up to the company total, through the CLI too
    by_rep = as_json("kpi", "revenue", "--by", "rep", workspace=workspace)
    assert abs(sum(r["value"] for r in by_rep) - company[0]["value"]) < 0.01


def test_unsupported_dimension_is_a_clear_error(workspace: Path) -> None:
    result = run("kpi", "win_rate", "--by", "product", "--workspace", str(workspace),
                 cwd=workspace.parent)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "product" in result.stderr


def test_whale_curve_and_pvm(workspace: Path) -> None:
    whale = as_json("whale-curve", workspace=workspace)
    assert whale["curve"][0]["rank"] == 1 and whale["summary"]
    pvm = as_json("pvm", "--from-period", "2024", "--to-period", "2025", "--by", "product",
                  workspace=workspace)
    assert pvm
    row = pvm[0]
    parts = row["price_effect"] + row["volume_effect"] + row["mix_effect"]
    assert abs(parts - row["revenue_change"]) < 0.01


def test_churned_lists_the_customers_the_kpi_counts(workspace: Path) -> None:
    counts = as_json("kpi", "churned_customers", "--period", "month", workspace=workspace)
    month = next(r for r in reversed(counts) if r["value"])
    label = month["period"][:7]  # 2025-06-01 -> 2025-06
    result = as_json("churned", "--period", label, workspace=workspace)
    assert result["summary"]["customers"] == month["value"] == len(result["customers"])
    assert result["summary"]["summary_he"]
    values = [r["value"] for r in result["customers"]]
    assert values == sorted(values, reverse=True)
    assert {"customer_id", "typical_gap_days", "should_have_bought"} <= set(result["customers"][0])
    by_rep = as_json("churned", "--period", label, "--by", "rep", workspace=workspace)
    assert all(r["rep_id"] for r in by_rep["customers"])
    wrong = run("churned", "--period", label, "--window", "quarter", "--workspace",
                str(workspace), cwd=workspace.parent)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr


def test_stage_conversion_and_time_in_stage_by_stage(workspace: Path) -> None:
    conversion = as_json("kpi", "stage_conversion", "--by", "stage", workspace=workspace)
    stages = {r["stage"] for r in conversion}
    assert len(stages) >= 3 and not any(s.startswith("closed") for s in stages)
    assert all(r["value"] is None or 0 <= r["value"] <= 1 for r in conversion)
    days = as_json("kpi", "time_in_stage_days", "--by", "pipeline,stage", "--period", "quarter",
                   workspace=workspace)
    assert any(r["value"] and r["value"] > 0 for r in days)
    assert {"period", "pipeline", "stage", "value", "previous"} <= set(days[0])
